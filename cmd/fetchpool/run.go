package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/limit"
	"github.com/fetchpool/fetchpool/pkg/pool"
	"github.com/fetchpool/fetchpool/pkg/report"
	"golang.org/x/time/rate"
)

// execute runs the command line args with the given streams. stop begins a
// graceful shutdown; ctx aborts transfers in flight.
func execute(ctx, stop context.Context, s *streams, args []string) error {
	cmd := newRootCommand(func(_ context.Context, opts *options) error {
		return run(ctx, stop, s, opts)
	})
	wrapHelp(cmd, helpWidth(s))
	cmd.SetArgs(args)
	cmd.SetIn(s.In)
	cmd.SetOut(s.Out)
	cmd.SetErr(s.Err)
	err := cmd.ExecuteContext(ctx)
	var usage usageError
	switch {
	case errors.As(err, &usage):
		fmt.Fprintf(s.Err, "fetchpool: %v\nRun 'fetchpool --help' for usage.\n", err)
	case err != nil && !errors.Is(err, errFailed) && !errors.Is(err, errInterrupted):
		fmt.Fprintf(s.Err, "fetchpool: %v\n", err)
	}
	return err
}

// helpWidth is the width --help wraps at: the terminal's (less one column,
// so that no line ends at its very edge), else 80.
func helpWidth(s *streams) int {
	if s.OutTerminal && s.Width != nil {
		return max(s.Width()-1, 40)
	}
	return 80
}

// config is the validated, parsed form of the options.
type config struct {
	fetch     fetch.Config
	pool      pool.Options
	sources   []input.Source
	again     []io.ReaderAt // for each source, a way to read it again (a regular file), or nil
	closers   []io.Closer
	checksums map[string]string
	failed    *report.Failed   // the --failed sink, nil without one
	report    *report.Document // the --report sink, nil without one
	unchecked *unchecked       // with --checksums: the files it had no entry for
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
	if opts.Split < 1 || opts.Split > maxSplit {
		// More ranges than aria2c -x allows only loads the server.
		return nil, usagef("invalid --split %d: want 1 to %d ranges per file", opts.Split, maxSplit)
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
	header, err := parseHeaders(opts.Headers)
	if err != nil {
		return nil, err
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

// parseHeaders checks -H values ("Name: value"): the name a token, the
// value free of control characters but tab. What would fail every request
// (net/http refuses such headers) is a usage error, found before any.
func parseHeaders(values []string) (http.Header, error) {
	h := http.Header{}
	for _, v := range values {
		name, value, ok := strings.Cut(v, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
			return nil, usagef("invalid --header %q: want \"Name: value\"", v)
		}
		if i := strings.IndexFunc(name, notTokenRune); i >= 0 {
			return nil, usagef("invalid --header %q: a header name cannot contain %q", v, name[i:i+1])
		}
		if strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			return nil, usagef("invalid --header %q: the value contains a control character", v)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}

// notTokenRune tells the runes that cannot be in a header name (an RFC
// 9110 token): anything but visible ASCII, and the delimiters.
func notTokenRune(r rune) bool {
	return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}

// addSource adds an input source, with a way to read it again from its
// start (nil when it cannot be: standard input, a pipe).
func (c *config) addSource(src input.Source, again io.ReaderAt) {
	c.sources = append(c.sources, src)
	c.again = append(c.again, again)
}

// unreadRest returns a reader of the input after last, the last item the
// run took (zero when it took none), read anew, when the whole rest can
// be: arguments, and input files that are regular files, whose lines up to
// last's are skipped, as are the items of other shards (--shard). It
// returns nil when the rest holds standard input or a pipe, or when last's
// file was given twice (which one is unclear).
func (c *config) unreadRest(args []string, last input.Item) func() (input.Item, error) {
	first, skip := 0, 0 // the first source of the rest, and its lines taken
	switch last.Source {
	case "":
	case "arg":
		args = args[min(last.Line, len(args)):]
	default:
		args, first = nil, -1
		for i, src := range c.sources {
			if src.Name == last.Source {
				if first >= 0 {
					return nil
				}
				first = i
			}
		}
		if first < 0 {
			return nil
		}
		skip = last.Line
	}
	var sources []input.Source
	for i, src := range c.sources[first:] {
		again := c.again[first+i]
		if again == nil {
			return nil
		}
		sources = append(sources, input.Source{Name: src.Name, R: io.NewSectionReader(again, 0, math.MaxInt64)})
	}
	r := input.NewReader(args, sources)
	shard := c.pool.Shard
	return func() (input.Item, error) {
		for {
			it, err := r.Next()
			if err == nil && skip > 0 && it.Source == sources[0].Name {
				if it.Line <= skip {
					continue // taken by the run
				}
				skip = 0
			}
			if err == nil && !shard.Contains(it.URL) {
				continue // another machine's (a bad line too, as pool.Run does)
			}
			return it, err
		}
	}
}

// nothingLeft tells that the input, read again where it can be (arguments,
// regular -i files), has no item after last: a run stopped before it saw
// the end of its input had in fact taken it all, and must not send people
// to finish a list that has no rest. Where the input cannot be read again,
// it cannot tell, and says false.
func (c *config) nothingLeft(args []string, last input.Item) bool {
	rest := c.unreadRest(args, last)
	if rest == nil {
		return false
	}
	_, err := rest()
	return errors.Is(err, io.EOF)
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
			c.addSource(input.Source{Name: "-", R: s.In}, nil)
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
			return usagef("cannot read input file %s: it is a directory", name)
		}
		if err == nil {
			inputs = append(inputs, fi)
		}
		c.closers = append(c.closers, f)
		var again io.ReaderAt
		if err == nil && fi.Mode().IsRegular() {
			again = f
		}
		c.addSource(input.Source{Name: name, R: f}, again)
		c.pool.Keep = append(c.pool.Keep, name)
	}
	// No item is saved over the run's own files (or skipped for them).
	for _, name := range []string{opts.Checksums, c.fetch.NetrcFile, opts.Report, opts.Failed} {
		if name != "" && !(name == "-" && name == opts.Checksums) {
			c.pool.Keep = append(c.pool.Keep, name)
		}
	}
	if err := notAnInput(inputs, "--failed", opts.Failed); err != nil {
		return err
	}
	if err := notAnInput(inputs, "--report", opts.Report); err != nil {
		return err
	}
	if opts.Report != "" && opts.Failed != "" && sameFile(opts.Report, opts.Failed) {
		return usagef("--report %s and --failed %s are the same file: both would write it and leave neither readable; give them different names", opts.Report, opts.Failed)
	}
	if len(opts.Args) == 0 && len(opts.Inputs) == 0 {
		if s.InTerminal {
			return usagef("nothing to fetch: give URLs or files as arguments, -i FILE, or pipe a list on standard input")
		}
		stdin = true
		c.addSource(input.Source{Name: "-", R: s.In}, nil)
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
// read before any work, deaf to Ctrl-C: the read runs aside, as openList's
// open does, and once stop is done it is given up, with errInterrupted.
func readChecksums(stop context.Context, s *streams, name string, r io.Reader) (map[string]string, error) {
	type parsed struct {
		sums map[string]string
		err  error
	}
	done := make(chan parsed, 1)
	go func() {
		// Left behind after an interrupt: the process exits (a named
		// pipe's read ends when openInputs closes it).
		sums, err := input.ParseChecksums(name, r)
		done <- parsed{sums, err}
	}()
	select {
	case p := <-done:
		return p.sums, p.err
	case <-stop.Done():
		fmt.Fprintf(s.Err, "stopping: nothing was fetched: --checksums %s was still being read, and its writer had not ended it\n", name)
		return nil, errInterrupted
	}
}

// openList opens a list named with flag (-i, --checksums). Opening a named
// pipe blocks until a program opens it for writing, which may be never (its
// producer failed to start): that open runs aside, so that the first Ctrl-C
// still ends the run, saying so on stderr, with errInterrupted.
func openList(stop context.Context, s *streams, flag, name string) (*os.File, error) {
	if fi, err := os.Stat(name); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return os.Open(name)
	}
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		// Left behind after an interrupt: the process exits.
		f, err := os.Open(name)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-stop.Done():
		fmt.Fprintf(s.Err, "stopping: nothing was read or fetched: %s %s is a named pipe that no program opened for writing\n", flag, name)
		return nil, errInterrupted
	}
}

// newClient makes the run's fetch.Client. fetch.New reads the netrc file,
// which may be a pipe (--netrc-file <(gpg -d ~/.netrc.gpg), or a named
// one) that its writer never opens or never ends: that wait gives way to
// Ctrl-C, as the one for an input list does (see openList).
func newClient(stop context.Context, s *streams, cfg fetch.Config) (*fetch.Client, error) {
	if fi, err := os.Stat(cfg.NetrcFile); cfg.NetrcFile == "" || err != nil || fi.Mode().IsRegular() {
		return fetch.New(cfg)
	}
	type made struct {
		c   *fetch.Client
		err error
	}
	done := make(chan made, 1)
	go func() {
		// Left behind after an interrupt: the process exits.
		c, err := fetch.New(cfg)
		done <- made{c, err}
	}()
	select {
	case m := <-done:
		return m.c, m.err
	case <-stop.Done():
		fmt.Fprintf(s.Err, "stopping: nothing was fetched: --netrc-file %s is a pipe that its writer never opened or never ended\n", cfg.NetrcFile)
		return nil, errInterrupted
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

// notADirectory refuses an output directory that exists as something else,
// a regular file say; the dry run, which creates nothing, checks this only.
func notADirectory(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		return usagef("output directory %s exists and is not a directory: give -o a directory", dir)
	}
	if err == nil {
		return nil
	}
	// A symbolic link that leads nowhere: mkdir says only "file exists",
	// of a directory that ls does not show.
	target, lerr := os.Readlink(filepath.Clean(dir))
	switch {
	case lerr != nil:
		return nil
	case errors.Is(err, syscall.ELOOP):
		return usagef("output directory %s is a symbolic link to %s, which is a loop of symbolic links: give -o another directory", dir, target)
	case errors.Is(err, fs.ErrNotExist):
		// A relative target is where the link is, not where the run is.
		where := target
		if !filepath.IsAbs(target) {
			where = filepath.Join(filepath.Dir(filepath.Clean(dir)), target)
		}
		return usagef("output directory %s is a symbolic link to %s, which does not exist: create %s or give -o another directory", dir, target, where)
	}
	return nil
}

// isURL reports whether s starts as a URL does, "SCHEME://", where a file
// name is wanted.
func isURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	return ok && validScheme(scheme)
}

// validScheme reports whether s can be a URL's scheme: a letter, then
// letters, digits, "+", "-" or ".".
func validScheme(s string) bool {
	for i, r := range s {
		letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		if !letter && (i == 0 || !('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return s != ""
}

// fileReason is err from opening or creating a file that the message
// around it names already, without the operation and path of its
// *fs.PathError: "open urls.txt: no such file or directory" would name it
// twice.
func fileReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// unexpandedTilde reports whether path starts with a ~ that no shell
// expanded ("~/dl" quoted, or after = in --output-dir=~/dl) and names
// nothing that exists: it would be taken as a directory named ~.
func unexpandedTilde(path string) bool {
	if path != "~" && !strings.HasPrefix(path, "~/") && !strings.HasPrefix(path, "~"+string(os.PathSeparator)) {
		return false
	}
	first, _, _ := strings.Cut(filepath.ToSlash(path), "/")
	_, err := os.Lstat(first)
	return errors.Is(err, fs.ErrNotExist)
}

// tildeHint says, for a file that could not be opened at path, that its
// leading ~ was not expanded; "" when that is not why.
func tildeHint(path string, err error) string {
	if !errors.Is(err, fs.ErrNotExist) || !unexpandedTilde(path) {
		return ""
	}
	return " (a leading ~ is not expanded outside a shell: write the full path)"
}

// missingDir says what to do when a file could not be created at path
// because its directory does not exist; "" for any other err.
func missingDir(path string, err error) string {
	if !errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if hint := tildeHint(path, err); hint != "" {
		return hint
	}
	return " (create " + filepath.Dir(path) + " first, or give another path)"
}

// namedLikeItsFile reports whether dir holds a single file, with dir's own
// extension: what fetchpool -o file.txt URL, meant as curl -o, leaves.
func namedLikeItsFile(dir string) bool {
	ext := filepath.Ext(filepath.Clean(dir))
	if len(ext) < 2 {
		return false
	}
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 1 && strings.EqualFold(filepath.Ext(entries[0].Name()), ext)
}

// prepareOutputDir creates the output directory and proves it writable, so
// a bad -o fails before any request.
func prepareOutputDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if err := notADirectory(dir); err != nil {
			return err
		}
		var pe *os.PathError
		if errors.As(err, &pe) && errors.Is(err, syscall.ENOTDIR) {
			return usagef("cannot create output directory %s: %s is not a directory", dir, pe.Path)
		}
		return usagef("cannot create output directory %s: %w", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".fetchpool-probe-*")
	if err != nil {
		return usagef("cannot write to output directory %s: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// run is the whole program once the flags parse: it wires the input, the
// engine and the sinks, and maps the outcome to an error for the exit code.
func run(ctx, stop context.Context, s *streams, opts *options) error {
	start := time.Now()
	c, err := configure(opts, s)
	if err != nil {
		return err
	}
	if s.Hashing != nil {
		s.Hashing(c.fetch.Hash || opts.SHA256 != "" || opts.Checksums != "")
	}
	if err := c.openInputs(stop, opts, s); err != nil {
		return err
	}
	defer func() {
		for _, cl := range c.closers {
			cl.Close()
		}
	}()
	if unexpandedTilde(opts.OutputDir) {
		return usagef("--output-dir %s: a leading ~ is not expanded outside a shell, and fetchpool would make a directory named ~ here: write the full path (as $HOME%s), or ./%s for a directory named ~", opts.OutputDir, strings.TrimPrefix(opts.OutputDir, "~"), opts.OutputDir)
	}
	// Made by this run, which the note on curl's -o below needs to know.
	_, statErr := os.Lstat(opts.OutputDir)
	newDir := errors.Is(statErr, fs.ErrNotExist)
	prepare := prepareOutputDir
	if opts.DryRun {
		prepare = notADirectory
	}
	if err := prepare(opts.OutputDir); err != nil {
		return err
	}
	client, err := newClient(stop, s, c.fetch)
	if errors.Is(err, errInterrupted) {
		return err
	}
	if err != nil {
		return usageError{err}
	}
	defer client.CloseIdleConnections()

	// A reader of standard output or standard error that goes away
	// (fetchpool --json | head, fetchpool 2>&1 | head) stops the run as a
	// first Ctrl-C does: nothing new starts, and what is in flight
	// finishes, so no download is left half done.
	stop, outputFailed := context.WithCancelCause(stop)
	defer outputFailed(nil)
	out := &outputWatch{w: s.Out, failed: outputFailed, closed: errOutputClosed}
	errOut := &outputWatch{w: s.Err, failed: outputFailed, closed: errStderrClosed, pipeOnly: true}

	// A reader of the output that stops reading without going away
	// (fetchpool --json | a stuck program) blocks the sinks, and with them
	// every worker that reports: even a second Ctrl-C could not end the run.
	finished := make(chan struct{})
	defer close(finished)
	failed := opts.Failed
	if opts.DryRun {
		failed = "" // not written (sinks): the list there is a real run's
	}
	go exitIfStuck(ctx, finished, s, failed)

	summary := report.NewSummary(start)
	summary.DryRun = opts.DryRun
	sinks, err := c.sinks(opts, s, out, errOut, summary, start)
	if err != nil {
		return err
	}
	d := report.NewDispatcher(100*time.Millisecond, sinks...)
	c.pool.Emit = d.Emit
	var taken intake
	c.pool.Taken = taken.take
	runErr := pool.Run(ctx, stop, input.NewReader(opts.Args, c.sources), client, c.pool)
	// Neither the counts nor the items of the summary, --report and
	// --failed can tell of what was not read: they say where it begins.
	unread := "the rest of the input" + taken.after() + " was not read"
	var inputErr error
	stopped := "" // said after the summary of a run interrupted before the end of its input
	switch {
	case runErr != nil:
		// The input broke off midway: what was read has been handled.
		inputErr = fmt.Errorf("the input ended early: %w; %s: to finish the list, run it again once the input can be read (finished files are skipped)", runErr, unread)
		c.endWith(report.Unread{After: taken.where(), Reason: runErr.Error()},
			"the input ended early: "+runErr.Error()+"; "+unread+"; to finish the list, run the whole list again once the input can be read (finished files are skipped)")
	case stop.Err() != nil && !taken.ended && !c.nothingLeft(opts.Args, taken.last):
		why := stopReason(stop)
		var rest func() (input.Item, error)
		if c.failed != nil {
			rest = c.unreadRest(opts.Args, taken.last)
		}
		if rest != nil {
			// The list can hold the rest too: then it is all that is left.
			c.failed.Rest(rest)
			if c.report != nil {
				c.report.SetUnread(report.Unread{After: taken.where(), Reason: why})
			}
			stopped = fmt.Sprintf("%s; %s lists it after what did not finish: fetchpool -i %s finishes the list (or run the whole list again: finished files are skipped)",
				unread, opts.Failed, opts.Failed)
			break
		}
		stopped = unread + ": to finish the list, run it again (finished files are skipped)"
		c.endWith(report.Unread{After: taken.where(), Reason: why},
			why+": "+unread+"; to finish the list, run the whole list again (finished files are skipped)")
	}
	closeErr := d.Close()
	summary.Print(s.Err)
	if c.unchecked != nil && c.unchecked.n > 0 {
		list := opts.Checksums
		if list == "-" {
			list = "the checksums read from standard input"
		}
		fmt.Fprintf(s.Err, "not checked: %d of the files saved have no entry in %s (the first: %s)\n",
			c.unchecked.n, list, c.unchecked.first)
	}
	if stopped != "" {
		fmt.Fprintln(s.Err, stopped)
	}
	if newDir && !opts.DryRun && !opts.Quiet && len(opts.Args) == 1 && len(opts.Inputs) == 0 && namedLikeItsFile(opts.OutputDir) {
		fmt.Fprintf(s.Err, "note: -o %s is the directory the file was saved in, not its name as with curl -o; to name the file, give URL<TAB>NAME on standard input\n", opts.OutputDir)
	}
	if opts.Bell && s.ErrTerminal {
		fmt.Fprint(s.Err, "\a")
	}

	cause := context.Cause(stop)
	outputClosed := errors.Is(cause, errOutputClosed) || errors.Is(cause, errStderrClosed)
	switch {
	case closeErr != nil && !outputClosed:
		return fmt.Errorf("writing the results: %w", closeErr)
	case stop.Err() != nil:
		if errors.Is(cause, errOutputClosed) {
			fmt.Fprintln(s.Err, "fetchpool: standard output was closed (broken pipe): no transfer was started after that, and those in flight were finished")
		}
		if inputErr != nil {
			// The exit code says interrupted; the input broke off too.
			fmt.Fprintf(s.Err, "fetchpool: %v\n", inputErr)
		}
		return errInterrupted
	case inputErr != nil:
		return inputErr
	}
	counts := summary.Counts()
	if counts.Failed > 0 || counts.Canceled > 0 {
		return errFailed
	}
	return nil
}

// sinks chooses where the run's events go, from the flags and the terminal.
func (c *config) sinks(opts *options, s *streams, stdout, stderr io.Writer, summary *report.Summary, start time.Time) ([]report.Sink, error) {
	sinks := []report.Sink{summary}
	var bars *report.Terminal
	// TERM=dumb cannot move the cursor, which the bars need. Nor do they
	// go with items typed at the terminal (-i -): each redraw would wipe
	// the line being typed.
	typing := s.InTerminal && slices.Contains(opts.Inputs, "-")
	if !opts.DryRun && s.ErrTerminal && s.Getenv("TERM") != "dumb" && !opts.NoProgress && !opts.Quiet && !typing {
		bars = report.NewTerminal(stderr, report.TerminalOptions{
			Width:   s.Width,
			Height:  s.Height,
			Verbose: opts.Verbose,
			NoColor: s.Getenv("NO_COLOR") != "",
		})
	}
	out := stdout
	if bars != nil && s.OutTerminal {
		// Standard output shares the screen with the bars: its lines
		// must be printed above them, not under them.
		out = bars.Above(stdout)
	}
	switch {
	case opts.DryRun && !opts.JSON:
		sinks = append(sinks, report.NewDryRun(stdout))
	case opts.JSON:
		sinks = append(sinks, report.NewJSON(out))
	}
	if opts.Report != "" {
		r, err := report.NewDocument(opts.Report, start)
		if err != nil {
			return nil, usagef("cannot write --report file %s: %w%s", opts.Report, fileReason(err), missingDir(opts.Report, err))
		}
		sinks = append(sinks, r)
		c.report = r
	}
	if opts.Checksums != "" {
		c.unchecked = &unchecked{}
		sinks = append(sinks, c.unchecked)
	}
	if opts.Failed != "" && !opts.DryRun {
		// A dry run fails nothing to retry: the list that a real run
		// left, which its --failed names, is kept as it is.
		f, err := report.NewFailed(opts.Failed)
		if err != nil {
			return nil, usagef("cannot write --failed file %s: %w%s", opts.Failed, fileReason(err), missingDir(opts.Failed, err))
		}
		sinks = append(sinks, f)
		c.failed = f
	}
	if opts.DryRun {
		return sinks, nil
	}
	if bars != nil {
		return append(sinks, bars), nil
	}
	sinks = append(sinks, report.NewPlain(stderr, report.PlainOptions{Quiet: opts.Quiet, Verbose: opts.Verbose}))
	return sinks, nil
}

// maxRetryWait is --max-retry-wait for fetch.Config: 0 there means the
// default, and "honour no wait" is negative.
func maxRetryWait(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// intake follows what a run takes from its input (pool.Options.Taken):
// where it was left, and whether it was read to its end.
type intake struct {
	last  input.Item // the last item taken: its Source and Line
	ended bool       // the input was read to its end
}

func (in *intake) take(it input.Item, err error) {
	switch {
	case err == nil:
		in.last = it
	case errors.Is(err, io.EOF):
		in.ended = true
	}
}

// where is the place of the last item taken, as "FILE:LINE" or "arg N",
// or "" when none was.
func (in *intake) where() string {
	if in.last.Source == "" {
		return ""
	}
	return in.last.Where()
}

// after is " (after FILE:LINE)", naming the last item taken, or "" when
// none was.
func (in *intake) after() string {
	if in.last.Source == "" {
		return ""
	}
	return " (after " + in.where() + ")"
}

// Why a run stopped when the reader of its standard output, or of its
// standard error, went away.
var (
	errOutputClosed = errors.New("standard output was closed")
	errStderrClosed = errors.New("standard error was closed")
)

// outputWatch is standard output (or error) for the sinks that write to
// it. Its first failed write calls failed, which stops the run: with
// closed for a broken pipe, and with the error itself for any other
// failure unless pipeOnly is set.
type outputWatch struct {
	w        io.Writer
	failed   context.CancelCauseFunc
	closed   error
	pipeOnly bool // standard error: only a reader gone stops the run
	once     sync.Once
}

func (o *outputWatch) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	switch {
	case err == nil:
	case errors.Is(err, syscall.EPIPE):
		o.once.Do(func() { o.failed(o.closed) })
	case !o.pipeOnly:
		o.once.Do(func() { o.failed(fmt.Errorf("writing the results: %w", err)) })
	}
	return n, err
}

// abortGrace is how long an aborted run may take to end before
// exitIfStuck ends the process.
const abortGrace = 5 * time.Second

// exitIfStuck ends the process with exitInterrupted when the run, aborted
// (ctx done: a second Ctrl-C), has not finished abortGrace later: its
// output is blocked, by a reader that stopped reading, and it cannot end by
// itself. The transfers were aborted, so nothing is lost that a kill would
// not lose: files under their final names are whole, and unfinished ones
// stay as .part for a resume. A --failed list could not be completed, so it
// is removed rather than left to make a retry skip items, when it is a
// regular file. Without s.Exit (tests in one process) it does nothing.
func exitIfStuck(ctx context.Context, finished <-chan struct{}, s *streams, failed string) {
	if s.Exit == nil {
		return
	}
	select {
	case <-finished:
		return
	case <-ctx.Done():
	}
	t := time.NewTimer(abortGrace)
	defer t.Stop()
	select {
	case <-finished:
		return
	case <-t.C:
	}
	msg := fmt.Sprintf("fetchpool: aborted, but the run could not end in %v: its output is blocked (a reader that stopped reading?); exiting now. Finished files are whole; unfinished ones are kept as .part for a resume", abortGrace)
	// Only a regular file, as report.Failed removes a list cut short: a
	// --failed /dev/stdout (or another device, or a pipe) is not the
	// run's to remove, and as root its removal would take it from every
	// program.
	if fi, err := os.Stat(failed); failed != "" && err == nil && fi.Mode().IsRegular() && os.Remove(failed) == nil {
		msg += "; " + failed + " was removed: it could not be completed"
	}
	said := make(chan struct{})
	go func() {
		fmt.Fprintln(s.Err, msg) // standard error may be blocked too
		close(said)
	}()
	select {
	case <-said:
	case <-time.After(time.Second):
	}
	s.Exit(exitInterrupted)
}

// stopReason says why a stopped run stopped, for --report and --failed:
// "interrupted" for a signal, else the cause given to its stop context.
func stopReason(stop context.Context) string {
	cause := context.Cause(stop)
	if cause == nil || errors.Is(cause, context.Canceled) {
		return "interrupted"
	}
	return cause.Error()
}

// unchecked counts the files that a run with --checksums saved although
// the file has no entry for them: they were not verified, which the
// summary must not leave unsaid. Its Handle runs on the Dispatcher's
// goroutine; its counts are read once the Dispatcher is closed.
type unchecked struct {
	n     int
	first string // the first such file, as a path
}

func (u *unchecked) Handle(ev event.Event) {
	if ev.Kind != event.Finished || ev.Result.Status != event.StatusOK || ev.Result.WantSHA256 != "" {
		return
	}
	if u.n == 0 {
		u.first = ev.Result.Output
	}
	u.n++
}

// Wants tells the Dispatcher that only finished items matter.
func (u *unchecked) Wants(k event.Kind) bool { return k == event.Finished }
