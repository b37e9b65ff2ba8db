package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/limit"
	"github.com/fetchpool/fetchpool/pkg/pool"
	"github.com/fetchpool/fetchpool/pkg/report"
	"golang.org/x/time/rate"
)

// config is the validated, parsed form of the options.
type config struct {
	fetch   fetch.Config
	pool    pool.Options
	sources []input.Source
	closers []io.Closer
	failed  *report.Failed   // the --failed sink, nil without one
	report  *report.Document // the --report sink, nil without one
}

// endWith records in --report and --failed, when they are written, that
// the rest of the input was not read: u in the report's summary, note as
// the failed list's last line. Call it before the Dispatcher is closed.
func (c *config) endWith(u report.Unread, note string) {
	if c.report != nil {
		c.report.SetUnread(u)
	}
	if c.failed != nil {
		c.failed.EndWith(note)
	}
}

// configure validates opts and turns them into the engine's settings. Every
// error it returns is a usage error, found before any request.
func configure(opts *options, s *streams) (*config, error) {
	c := &config{}
	if opts.Concurrency < 1 {
		return nil, usagef("invalid --concurrency %d: want at least 1", opts.Concurrency)
	}
	if opts.PerHost < 0 {
		return nil, usagef("invalid --per-host %d: want 0 (no cap) or more", opts.PerHost)
	}
	if opts.Burst < 1 {
		return nil, usagef("invalid --burst %d: want at least 1", opts.Burst)
	}
	if opts.Split < 1 || opts.Split > fetch.MaxSplit {
		// More ranges than aria2c -x allows only loads the server.
		return nil, usagef("invalid --split %d: want 1 to %d ranges per file", opts.Split, fetch.MaxSplit)
	}
	if opts.Retries < 0 {
		return nil, usagef("invalid --retries %d: want 0 or more", opts.Retries)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--retry-wait", opts.RetryWait}, {"--max-retry-wait", opts.MaxRetryWait}, {"--connect-timeout", opts.ConnectTimeout}, {"--timeout", opts.Timeout}, {"--stall-timeout", opts.StallTimeout}} {
		if d.v < 0 {
			return nil, usagef("invalid %s %v: want a duration of 0 or more, like 30s or 2m", d.flag, d.v)
		}
	}
	if opts.Quiet && opts.Verbose {
		return nil, usagef("--quiet and --verbose contradict each other: pick one")
	}
	if opts.OutputDir == "" {
		return nil, usagef("--output-dir is empty: give a directory (. for the current one)")
	}
	if isURL(opts.OutputDir) {
		// fetchpool -o URL, from curl -o FILE URL or curl -O URL: it
		// would make the directories http:/host/... and fetch nothing.
		return nil, usagef("--output-dir %s is a URL: -o names the directory to save in; give the URL as an item: fetchpool -o DIR %s (or leave -o out for the current directory)", opts.OutputDir, opts.OutputDir)
	}
	if unexpandedTilde(opts.OutputDir) {
		return nil, usagef("--output-dir %s: a leading ~ is not expanded outside a shell, and fetchpool would make a directory named ~ here: write the full path (as $HOME%s), or ./%s for a directory named ~", opts.OutputDir, strings.TrimPrefix(opts.OutputDir, "~"), opts.OutputDir)
	}
	if slices.Contains(opts.Inputs, "") {
		return nil, usagef("--input is empty: give a file name, or - for standard input")
	}
	// Before the -i files are opened: a named pipe there may keep the
	// run waiting for its writer.
	for _, out := range []struct{ flag, path string }{{"--report", opts.Report}, {"--failed", opts.Failed}} {
		if out.path == "-" {
			// "-i -" is standard input; writing a file named "-" here
			// would surprise whoever looks for the list on standard output.
			return nil, usagef("%s -: give a file name (%s /dev/stdout writes to standard output; %s ./- makes a file named -)", out.flag, out.flag, out.flag)
		}
	}
	requests := rate.Inf
	if opts.Rate != "" {
		r, err := limit.ParseRate(opts.Rate)
		if err != nil {
			return nil, usageError{err}
		}
		requests = r
	} else if opts.Burst > 1 {
		// Without a request rate there is no bucket for it to size: it
		// would be ignored without a word. (--rate 0 or unlimited says
		// so on purpose, as a script's "no limit" does.)
		return nil, usagef("--burst %d does nothing without --rate: add a request rate (e.g. --rate 10/s --burst %d) or leave --burst out", opts.Burst, opts.Burst)
	}
	var bandwidth int64
	if opts.LimitRate != "" {
		b, err := limit.ParseSize("--limit-rate", opts.LimitRate)
		if err != nil {
			return nil, usageError{err}
		}
		if b == 0 && strings.ContainsAny(opts.LimitRate, "123456789") {
			// 0 means no cap: a cap that rounds down to it must not.
			return nil, usagef("invalid --limit-rate %q: less than 1 byte per second; give 1 or more (or 0 for no cap)", opts.LimitRate)
		}
		bandwidth = b
	}
	splitMin, err := limit.ParseSize("--split-min", opts.SplitMin)
	if err != nil {
		return nil, usageError{err}
	}
	onExists, err := pool.ParseOnExists(opts.OnExists)
	if err != nil {
		return nil, usageError{err}
	}
	shard := input.Shard{}
	if opts.Shard != "" {
		if shard, err = input.ParseShard(opts.Shard, s.Getenv); err != nil {
			return nil, usageError{err}
		}
	}
	header, err := fetch.ParseHeader(opts.Headers)
	if err != nil {
		return nil, usageError{err}
	}
	if opts.SHA256 != "" {
		if len(opts.Args) != 1 || len(opts.Inputs) != 0 {
			return nil, usagef("--sha256 checks a single item given as the only argument; for lists use --checksums or \"sha256\" in JSON lines")
		}
		if opts.Checksums != "" {
			// --sha256 would win, and the list's entry for the file go
			// unchecked.
			return nil, usagef("--sha256 and --checksums both give the digest of the item: give one of them")
		}
		sum, err := input.ParseSHA256(opts.SHA256)
		if err != nil {
			return nil, usagef("--sha256: %w", err)
		}
		opts.SHA256 = sum
	}
	netrc := opts.NetrcFile
	if netrc == "" && opts.Netrc {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, usagef("--netrc: cannot find the home directory: %v", err)
		}
		netrc = filepath.Join(home, ".netrc")
	}
	userAgent := opts.UserAgent
	switch {
	case opts.NoUserAgent:
		if _, set := header["User-Agent"]; !set {
			header["User-Agent"] = []string{""} // an empty value sends none
		}
	case userAgent == "":
		userAgent = "fetchpool/" + versionString()
	}

	c.fetch = fetch.Config{
		Concurrency:    opts.Concurrency,
		Header:         header,
		UserAgent:      userAgent,
		Insecure:       opts.Insecure,
		NetrcFile:      netrc,
		ConnectTimeout: opts.ConnectTimeout,
		Timeout:        opts.Timeout,
		StallTimeout:   opts.StallTimeout,
		Retries:        opts.Retries,
		RetryWait:      opts.RetryWait,
		MaxRetryWait:   maxRetryWait(opts.MaxRetryWait),
		NoResume:       opts.NoResume,
		Hash:           opts.JSON || opts.Report != "",
		Split:          opts.Split,
		SplitMin:       splitMin,
	}
	if requests != rate.Inf || opts.PerHost > 0 {
		// Without limits there is no gate at all: nothing to wait for per request.
		c.fetch.Gate = limit.NewGate(requests, opts.Burst, opts.PerHost)
	}
	if bw := limit.NewBandwidth(bandwidth); bw != nil {
		c.fetch.Throttle = bw
	}
	c.pool = pool.Options{
		Concurrency: opts.Concurrency,
		OutputDir:   opts.OutputDir,
		KeepPaths:   opts.KeepPaths,
		OnExists:    onExists,
		DryRun:      opts.DryRun,
		Shard:       shard,
		SHA256:      opts.SHA256,
		PerHost:     opts.PerHost,
	}
	return c, nil
}

// typeItemsPrompt is said when -i - reads items typed at a terminal.
var typeItemsPrompt = func() string {
	end := "Ctrl-D"
	if runtime.GOOS == "windows" {
		end = "Ctrl-Z, then Enter"
	}
	return "reading items from the terminal, one per line; end the list with " + end + " at the start of a line"
}()

// openInputs opens the -i files and decides whether standard input is read.
// An unreadable file is a usage error, found before any request. Once stop
// is done it gives up waiting for a named pipe to open, with errInterrupted.
func (c *config) openInputs(stop context.Context, opts *options, s *streams) error {
	stdin := false
	var inputs []os.FileInfo
	for _, name := range opts.Inputs {
		if name == "-" {
			if stdin {
				return usagef("standard input (-i -) is given twice")
			}
			stdin = true
			if s.InTerminal && s.ErrTerminal && !opts.Quiet {
				// Else it waits on a blank screen, as if hung. A log
				// (2>file) needs no prompt.
				fmt.Fprintln(s.Err, typeItemsPrompt)
			}
			src, err := stdinSource(s)
			if err != nil {
				return err
			}
			c.sources = append(c.sources, src)
			continue
		}
		f, err := openList(stop, s, "-i", name)
		if errors.Is(err, errInterrupted) {
			return err
		}
		if err != nil {
			if isURL(name) && errors.Is(err, fs.ErrNotExist) {
				// As wget -i URL reads a list on the web.
				return usagef("cannot read input file %s: -i reads a local file; pipe a list on the web in: curl -fsSL %s | fetchpool -i - ...", name, name)
			}
			return usagef("cannot read input file %s: %w%s", name, fileReason(err), tildeHint(name, err))
		}
		fi, err := f.Stat()
		if err == nil && fi.IsDir() {
			f.Close()
			return usagef("cannot read input file %s: it is a directory; give -i a list file", name)
		}
		if err == nil {
			inputs = append(inputs, fi)
		}
		c.closers = append(c.closers, f)
		src := input.Source{Name: name, R: f}
		if err == nil && fi.Mode().IsRegular() {
			src.Again = f // read anew for --failed, after a stop
		}
		c.sources = append(c.sources, src)
		c.pool.Keep = append(c.pool.Keep, name)
	}
	// No item is saved over the run's own files (or skipped for them).
	for _, name := range []string{opts.Checksums, c.fetch.NetrcFile, opts.Report, opts.Failed} {
		if name != "" && !(name == "-" && name == opts.Checksums) {
			c.pool.Keep = append(c.pool.Keep, name)
		}
	}
	// The report and the list while they are written.
	for _, name := range []string{opts.Report, opts.Failed} {
		if name != "" {
			c.pool.Keep = append(c.pool.Keep, name+report.PendingSuffix)
		}
	}
	if err := notAnInput(inputs, "--failed", opts.Failed); err != nil {
		return err
	}
	if err := notAnInput(inputs, "--report", opts.Report); err != nil {
		return err
	}
	// Nor the file that each is written to until the run ends: -i
	// failed.txt.part, the list a killed run left, with --failed
	// failed.txt, would be removed as it is read.
	for _, out := range []struct{ flag, path string }{{"--report", opts.Report}, {"--failed", opts.Failed}} {
		pending := out.path + report.PendingSuffix
		if out.path != "" && notAnInput(inputs, out.flag, pending) != nil {
			return usagef("-i %s is where %s %s is written until the run ends (a run that was killed left it): writing it would erase the list before it is read; run the whole list again (finished files are skipped), or give %s another name",
				pending, out.flag, out.path, out.flag)
		}
	}
	// Nor may it be a file the run reads besides its lists, nor may the
	// file it is written to until the run ends: creating it would lose
	// the checksums or the credentials.
	for _, out := range []struct{ flag, path string }{{"--report", opts.Report}, {"--failed", opts.Failed}} {
		for _, in := range []struct{ flag, path string }{{"--checksums", opts.Checksums}, {"--netrc-file", c.fetch.NetrcFile}} {
			if out.path == "" || in.path == "" || in.path == "-" {
				continue
			}
			if sameFile(out.path, in.path) {
				return usagef("%s %s is also read as %s %s: writing it would erase what it holds; give %s another name", out.flag, out.path, in.flag, in.path, out.flag)
			}
			if sameFile(out.path+report.PendingSuffix, in.path) {
				return usagef("%s %s is where %s %s is written until the run ends: writing it would erase what it holds; give %s another name", in.flag, in.path, out.flag, out.path, out.flag)
			}
		}
	}
	if opts.Report != "" && opts.Failed != "" && sameFile(opts.Report, opts.Failed) {
		return usagef("--report %s and --failed %s are the same file: both would write it and leave neither readable; give them different names", opts.Report, opts.Failed)
	}
	// Nor may one be the file that the other is written to until the run
	// ends (--report r --failed r.part): each would replace or remove the
	// other's, and the run lost the report, or the list, blaming another
	// run. A dry run too: its report would replace the list there.
	for _, o := range []struct{ flag, path, other, otherPath string }{
		{"--failed", opts.Failed, "--report", opts.Report},
		{"--report", opts.Report, "--failed", opts.Failed},
	} {
		if o.path != "" && o.otherPath != "" && sameFile(o.path, o.otherPath+report.PendingSuffix) {
			return usagef("%s %s is where %s %s is written until the run ends: the two would replace each other; give %s another name",
				o.flag, o.path, o.other, o.otherPath, o.flag)
		}
	}
	if opts.JSON {
		for _, f := range []struct{ flag, path string }{{"--report", opts.Report}, {"--failed", opts.Failed}} {
			if f.path != "" && !(f.flag == "--failed" && opts.DryRun) && isStdout(s, f.path) {
				return usagef("%s %s is standard output, where --json writes: the two would be mixed; give %s a file", f.flag, f.path, f.flag)
			}
		}
	}
	// A file named as itself (not /dev/stderr) that is standard error or
	// output as well is a slip of the shell (--report log 2>log): the
	// file is made anew, and the lines written to the old one were lost.
	for _, f := range []struct{ flag, path string }{{"--report", opts.Report}, {"--failed", opts.Failed}} {
		if fi, err := os.Lstat(f.path); f.path == "" || err != nil || !fi.Mode().IsRegular() || f.flag == "--failed" && opts.DryRun {
			continue
		}
		if isStream(s.Err, f.path) {
			return usagef("%s %s is standard error as well, where the progress and the summary go: the two would be mixed; give %s another file", f.flag, f.path, f.flag)
		}
		if opts.DryRun && isStdout(s, f.path) {
			return usagef("%s %s is standard output as well, where --dry-run writes: the two would be mixed; give %s another file", f.flag, f.path, f.flag)
		}
	}
	if len(opts.Args) == 0 && len(opts.Inputs) == 0 {
		if s.InTerminal {
			return usagef("nothing to fetch: give URLs or files as arguments, -i FILE, or pipe a list on standard input")
		}
		stdin = true
		src, err := stdinSource(s)
		if err != nil {
			return err
		}
		c.sources = append(c.sources, src)
	}
	if opts.Checksums != "" {
		var list io.Reader = s.In // --checksums -, as sha256sum -c - reads it
		if opts.Checksums == "-" && stdin {
			return usagef("--checksums -: standard input gives the items already; give the checksums as a file (or the items as arguments or with -i FILE)")
		}
		if opts.Checksums == "-" && s.InTerminal {
			// As items are not read from a terminal: it would wait, without
			// a word, for checksums typed in.
			return usagef("--checksums -: standard input is a terminal; pipe the checksums in (curl .../SHA256SUMS | fetchpool --checksums - URL...) or give them as a file")
		}
		if opts.Checksums != "-" {
			f, err := openList(stop, s, "--checksums", opts.Checksums)
			if errors.Is(err, errInterrupted) {
				return err
			}
			if err != nil {
				if isURL(opts.Checksums) && errors.Is(err, fs.ErrNotExist) {
					return usagef("cannot read --checksums file %s: it reads a local file; pipe one on the web in: curl -fsSL %s | fetchpool --checksums - ...", opts.Checksums, opts.Checksums)
				}
				return usagef("cannot read --checksums file %s: %w%s", opts.Checksums, fileReason(err), tildeHint(opts.Checksums, err))
			}
			defer f.Close()
			if fi, err := f.Stat(); err == nil && fi.IsDir() {
				return usagef("cannot read --checksums file %s: it is a directory; give --checksums a file in sha256sum format", opts.Checksums)
			}
			list = f
		}
		sums, err := readChecksums(stop, s, opts.Checksums, list)
		if errors.Is(err, errInterrupted) {
			return err
		}
		if err != nil {
			return usageError{err}
		}
		c.pool.Checksums = sums
	}
	return nil
}

// readChecksums parses the --checksums list name from r. A pipe whose
// writer never ends it (curl .../SHA256SUMS | fetchpool --checksums -, with
// curl stuck; a named pipe opened and left so) would hold the run in its
// read before any work: the read gives way to Ctrl-C (see aside).
func readChecksums(stop context.Context, s *streams, name string, r io.Reader) (map[string]string, error) {
	// Left behind after an interrupt, a named pipe's read ends when
	// openInputs closes it.
	return aside(stop, s, "nothing was fetched: --checksums "+name+" was still being read, and its writer had not ended it",
		func() (map[string]string, error) { return input.ParseChecksums(name, r) })
}

// isStdout tells whether path is standard output, when that is a file or a
// pipe, which a program reads: --report /dev/stdout, for one. A terminal or
// /dev/null, where nothing is read back, does not count.
func isStdout(s *streams, path string) bool { return isStream(s.Out, path) }

// isStream tells whether path is the file or pipe that w writes, as
// isStdout does for standard output.
func isStream(w io.Writer, path string) bool {
	f, ok := w.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return false
	}
	out, err := f.Stat()
	if err != nil || out.Mode()&os.ModeDevice != 0 {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && os.SameFile(out, fi)
}

// stdinSource is standard input as a source of items. A directory there
// (fetchpool < dir) is refused as -i dir is, before anything is made:
// reading it would fail at once, and the run end as if a list broke off.
func stdinSource(s *streams) (input.Source, error) {
	if f, ok := s.In.(interface{ Stat() (os.FileInfo, error) }); ok {
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return input.Source{}, usagef("cannot read standard input: it is a directory; give the list as a file (-i FILE, or < FILE), or pipe it in")
		}
	}
	return input.Source{Name: "-", R: s.In}, nil
}

// openList opens a list named with flag (-i, --checksums). Opening a named
// pipe blocks until a program opens it for writing, which may be never (its
// producer failed to start): that open gives way to Ctrl-C (see aside).
func openList(stop context.Context, s *streams, flag, name string) (*os.File, error) {
	if fi, err := os.Stat(name); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return os.Open(name)
	}
	return aside(stop, s, "nothing was read or fetched: "+flag+" "+name+" is a named pipe that no program opened for writing",
		func() (*os.File, error) { return os.Open(name) })
}

// newClient makes the run's fetch.Client. fetch.New reads the netrc file,
// which may be a pipe (--netrc-file <(gpg -d ~/.netrc.gpg), or a named
// one) that its writer never opens or never ends: that wait gives way to
// Ctrl-C (see aside).
func newClient(stop context.Context, s *streams, cfg fetch.Config) (*fetch.Client, error) {
	if fi, err := os.Stat(cfg.NetrcFile); cfg.NetrcFile == "" || err != nil || fi.Mode().IsRegular() {
		return fetch.New(cfg)
	}
	return aside(stop, s, "nothing was fetched: --netrc-file "+cfg.NetrcFile+" is a pipe that its writer never opened or never ended",
		func() (*fetch.Client, error) { return fetch.New(cfg) })
}

// aside runs f, which may wait on a pipe for ever, on a goroutine of its
// own, and returns what f returns, unless stop is done first: then it says
// "stopping: " and stopped on standard error and returns errInterrupted, so
// that the first Ctrl-C still ends a run held before any work. f is left
// behind; the process exits.
func aside[T any](stop context.Context, s *streams, stopped string, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-stop.Done():
		fmt.Fprintln(s.Err, "stopping: "+stopped)
		var zero T
		return zero, errInterrupted
	}
}

// notAnInput refuses an output file that is also an input list: creating it
// would empty the list before it is read.
func notAnInput(inputs []os.FileInfo, flag, path string) error {
	if path == "" {
		return nil
	}
	out, err := os.Stat(path)
	if err != nil {
		return nil
	}
	for _, in := range inputs {
		if os.SameFile(in, out) {
			return usagef("%s %s is also read with -i: writing it would erase the list before it is read; give it another name", flag, path)
		}
	}
	return nil
}

// sameFile tells whether paths a and b name one file: the same path once
// made absolute, or, when both exist, the same file under two names.
func sameFile(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// maxRetryWait is --max-retry-wait for fetch.Config: 0 there means the
// default, and "honour no wait" is negative.
func maxRetryWait(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
