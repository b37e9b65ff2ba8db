// Package pool runs a batch: it admits items from a source into a bounded
// queue, names and reserves their files, hands them to a fixed number of
// workers, and reports every item's fate as events.
//
// A program that embeds it passes Run an *input.Reader as the Source, a
// *fetch.Client as the Fetcher (made with the run's Concurrency, which caps
// its connections to a host, and closed with CloseIdleConnections once the
// run is over), and an Emit func, such as the Emit of a report.Dispatcher
// that feeds sinks from one goroutine. See Example.
//
// PrepareOutputDir, called before Run, makes a bad output directory fail
// before any request. To tell where a stopped run left its input, give
// Options.Taken the Take of an input.Position: input.Rest then reads what
// the run did not take, for a retry list (report.Failed.Rest).
package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/naming"
)

// ErrDigestConflict fails an item that repeats an earlier one (the same
// request and output) with a "sha256" the earlier one did not give.
var ErrDigestConflict = errors.New("listed before with another sha256")

// Errors that end an item as canceled (event.StatusCanceled), with
// fetch.ErrStopped: a transfer whose attempt failed after a graceful
// shutdown began, and that is not retried.
var (
	// ErrNotStarted: a shutdown began before the item's transfer started
	// (it was queued, or waiting at the gate). It is event.ErrNotStarted,
	// which fetch.ErrNotStarted is too.
	ErrNotStarted = event.ErrNotStarted
	// ErrAborted: the transfer was in flight when Run's ctx was cancelled
	// (the command cancels it on a second interrupt). The error that
	// matches it says why, when ctx has a cause other than a plain
	// cancel (context.Cause), and whether a .part file is kept for a
	// resume, e.g. "aborted: context deadline exceeded, out/a.iso.part
	// kept for a resume". errors.Is finds that cause in it, and the
	// ctx's error; errors.As finds the fetch.InterruptedError that names
	// the part.
	ErrAborted = errors.New("aborted")
)

// abortedError is the end of a transfer that the cancelling of Run's ctx
// aborted: it is ErrAborted, says why and which .part is kept, and unwraps
// to the transfer's own error and to the cause.
type abortedError struct {
	part string
	why  error // context.Cause of the ctx; nil for a plain cancel
	err  error
}

func aborted(ctx context.Context, err error) error {
	e := &abortedError{err: err}
	if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) {
		e.why = cause
	}
	var ie *fetch.InterruptedError
	if errors.As(err, &ie) {
		e.part = ie.Part
	}
	return e
}

func (e *abortedError) Error() string {
	msg := ErrAborted.Error()
	if e.why != nil {
		msg += ": " + e.why.Error()
	}
	if e.part != "" {
		msg += ", " + e.part + " kept for a resume"
	}
	return msg
}

func (e *abortedError) Is(target error) bool { return target == ErrAborted }

func (e *abortedError) Unwrap() []error {
	if e.why == nil {
		return []error{e.err}
	}
	return []error{e.err, e.why}
}

// notStartedError ends an item that a shutdown withdrew before its transfer
// began, when Run's stop has a cause other than a plain cancel (the
// command's standard output closed): it is ErrNotStarted, and says that
// cause rather than an interrupt that never happened.
type notStartedError struct{ why error }

// notStarted is the error of an item withdrawn by the shutdown of stop.
func notStarted(stop context.Context) error {
	if cause := context.Cause(stop); cause != nil && !errors.Is(cause, context.Canceled) {
		return &notStartedError{why: cause}
	}
	return ErrNotStarted
}

func (e *notStartedError) Error() string { return "not started: " + e.why.Error() }

func (e *notStartedError) Is(target error) bool { return target == ErrNotStarted }

// OnExists says what to do when a destination already exists before the run.
type OnExists string

// The policies for an existing destination.
const (
	// Skip: leave it, count the item as skipped. When the item has an
	// expected SHA-256, the file is checked first: a mismatch fails the
	// item (and leaves the file as it is).
	Skip      OnExists = "skip"
	Overwrite OnExists = "overwrite" // replace it atomically
	Rename    OnExists = "rename"    // keep it, save under the first free name.N.ext
	Newer     OnExists = "newer"     // conditional GET; replace only when the server has a newer copy
)

// ParseOnExists checks an --on-exists value.
func ParseOnExists(s string) (OnExists, error) {
	switch p := OnExists(strings.ToLower(s)); p {
	case Skip, Overwrite, Rename, Newer:
		return p, nil
	}
	return "", fmt.Errorf("invalid --on-exists %q: want skip, overwrite, rename or newer", s)
}

// Source yields items one at a time; Next returns io.EOF at the end.
// *input.Reader is a Source. Run calls Next from a goroutine of its own,
// one call at a time, and may return while a call blocks (see Run).
type Source interface {
	Next() (input.Item, error)
}

// Fetcher transfers one item into place. *fetch.Client is a Fetcher.
type Fetcher interface {
	Fetch(ctx context.Context, req fetch.Request) (fetch.Result, error)
}

// Options configure a run.
type Options struct {
	// Concurrency is the number of workers (below 1: one). Give the
	// Fetcher as many (fetch.Config.Concurrency).
	Concurrency int
	// OutputDir is where files land ("" is the current directory); it is
	// made when missing.
	OutputDir string
	// KeepPaths saves an http(s) item under OutputDir/HOST/URL-PATH (see
	// naming.KeepPath). A local path or file:// URL is still named after
	// its base name, and an explicit name from the input is kept.
	KeepPaths bool
	// OnExists is the policy for destinations that exist before the run
	// (default Skip).
	OnExists OnExists
	// DryRun plans every item (a Planned event) and fetches nothing. A
	// local item whose source is missing or a directory fails instead, as
	// it would in a real run (no request is sent to tell anything else).
	DryRun bool
	// Shard keeps only the items of one shard (1 ≤ K ≤ N, as
	// input.ParseShard returns it; Run refuses any other); the zero value
	// keeps all.
	Shard input.Shard
	// SHA256 is the expected digest (64 hex digits, either case) of a run
	// of a single item; Run refuses one that is not a digest. Run does not
	// count the items: every item without a digest of its own is checked
	// against it (and Checksums is not looked at), so give it only with a
	// Source of one item.
	SHA256 string
	// Checksums maps output names (or base names) to expected digests
	// (64 hex digits, either case; Run refuses any other value), as
	// input.ParseChecksums returns them: names with '/' separators,
	// cleaned ("a.iso", not "./a.iso").
	Checksums map[string]string
	// PerHost, when above 0, is how many items of one host:port the workers
	// work on at once. An item whose host is at the cap waits aside while
	// the workers go on with items of other hosts, so that one slow host
	// does not hold up the rest; it goes first once its host frees a slot.
	// An item stops counting against its host when the Fetcher tells of a
	// redirect to another one (an event.Redirect), and while it waits for
	// its next attempt (fetch.Request.Between), unless its host asked for
	// a pause, which keeps every item of the host waiting (at a gate that
	// can pause a host, such as a *limit.Gate). (It does not replace a
	// cap on requests in the Fetcher: a split item makes several at once,
	// and a redirect's target is not counted here.)
	PerHost int
	// Emit receives every event; it must be safe for concurrent use.
	// Run calls it from its workers and its other goroutines, and waits
	// for it: an Emit that blocks holds up the worker that called it
	// (and a shutdown, which waits for the workers), so hand the events
	// on, as report.Dispatcher does into its bounded buffer. No event
	// comes after Run returns. nil drops them all.
	Emit func(event.Event)
	// Taken, when set, is told of each item the run takes from the
	// source, in input order and before the item's first event (err is
	// nil), and then of how the input ended, if it ended before the run
	// stopped taking items: io.EOF, or the read error that Run returns.
	// Every item taken is accounted for by the run's events (an item of
	// another shard by none), and no item that is not taken is: after a
	// shutdown, the last item taken is where the input was left. It is
	// called on the goroutine that called Run, never after Run returns.
	Taken func(it input.Item, err error)
	// Keep lists files that the run itself reads or writes besides the
	// items: its input lists, --checksums, --report, --failed. Those that
	// lie in OutputDir are reserved before the first item, so that no item
	// replaces one (with --on-exists overwrite or newer) or is skipped
	// because it is there: an item of that name gets the next free one.
	Keep []string
}

// Run fetches every item from src with f and returns when all admitted items
// are finished.
//
// Cancelling stop begins a graceful shutdown: no more input is read; queued
// items, and the item read on its way to the queue if there is one, are
// reported as canceled, not started (Options.Taken tells which items were
// read); transfers in flight finish but are not retried (one that would be
// is reported as canceled). Cancelling ctx does all that, whether or not
// stop is its child, and aborts the transfers in flight too. A nil stop is
// ctx: no graceful shutdown.
//
// src.Next is called on a goroutine of Run's own, so that a shutdown need
// not wait for a read that blocks (standard input that stays open). A
// call still blocked when a shutdown begins is left behind: Run returns
// while it blocks, drops what it returns (Options.Taken is not told of it)
// and makes no further call. Make it return, for instance by closing the
// pipe or file the Source reads, before the Source is used again, or its
// goroutine stays. A Source read to its end, or that failed, has no such
// call left.
//
// Per-item failures are reported as events and never stop the run; the
// error is non-nil only when the input could not be read, or when src, f
// or opts are refused (then nothing is read or fetched): a nil src, a nil
// f (it may be nil only for a DryRun), an OnExists that is none of the
// policies, an SHA256 or Checksums entry that is not a digest, or a Shard
// out of range.
func Run(ctx, stop context.Context, src Source, f Fetcher, opts Options) error {
	if stop == nil {
		stop = ctx // no graceful shutdown: cancelling ctx aborts
	} else if stop != ctx {
		// A stop that is not ctx's child would keep the run reading
		// input, and starting items, after ctx is cancelled.
		var stopNow context.CancelCauseFunc
		stop, stopNow = context.WithCancelCause(stop)
		defer stopNow(nil)
		defer context.AfterFunc(ctx, func() { stopNow(context.Cause(ctx)) })()
	}
	if opts.Concurrency < 1 {
		opts.Concurrency = 1
	}
	if r, ok := src.(*input.Reader); src == nil || ok && r == nil {
		// Its Next would panic on Run's reading goroutine.
		return errors.New("no Source: give Run an *input.Reader made with input.NewReader, or a Source of your own")
	}
	if c, ok := f.(*fetch.Client); ok && c == nil {
		f = nil // as a non-nil Fetcher, its Gated would panic
	}
	if f == nil && !opts.DryRun {
		// It would panic in a worker, where the caller cannot recover.
		return errors.New("no Fetcher: give Run a *fetch.Client made with fetch.New (nil is only for a DryRun)")
	}
	switch opts.OnExists {
	case "":
		opts.OnExists = Skip
	case Skip, Overwrite, Rename, Newer:
	default:
		// Taken for Overwrite, it would replace files the caller meant to keep.
		return fmt.Errorf("invalid Options.OnExists %q: want %q, %q, %q or %q (see ParseOnExists)", opts.OnExists, Skip, Overwrite, Rename, Newer)
	}
	if opts.SHA256 != "" {
		// Unchecked, a digest that cannot match fails the item only once
		// the whole file has been fetched.
		sum, err := input.ParseSHA256(opts.SHA256)
		if err != nil {
			return fmt.Errorf("invalid Options.SHA256: %w", err)
		}
		opts.SHA256 = sum
	}
	if err := checkChecksums(opts.Checksums); err != nil {
		return err
	}
	if sh := opts.Shard; sh != (input.Shard{}) && (sh.N < 1 || sh.K < 1 || sh.K > sh.N) {
		// Taken as it is, a 0-based K would keep no item for K = 0, and
		// no machine would fetch the last shard.
		return fmt.Errorf("invalid Options.Shard {K: %d, N: %d}: want 1 ≤ K ≤ N (K is 1-based, see input.ParseShard), or the zero Shard for every item", sh.K, sh.N)
	}
	if opts.Emit == nil {
		opts.Emit = func(event.Event) {}
	}
	r := &run{
		opts:     opts,
		fetcher:  f,
		names:    naming.NewReserver(),
		seen:     input.NewSeen(),
		dirs:     newDirs(opts.OutputDir),
		queue:    make(chan job, min(opts.Concurrency, maxQueued)),
		intake:   newIntake(stop),
		single:   opts.SHA256 != "",
		gated:    isGated(f),
		draining: make(chan struct{}),
		aborted:  make(chan struct{}),
	}
	for _, path := range opts.Keep {
		if rel, ok := inside(opts.OutputDir, path); ok {
			r.names.Reserve(rel, nil)
		}
	}
	if opts.PerHost > 0 {
		r.hosts = newHosts(opts.PerHost)
		defer context.AfterFunc(stop, r.hosts.wake)()
	}
	go r.read(src)

	// Workers start as items need them, up to Options.Concurrency: a large
	// -j costs nothing for a short list. Only admit, on this goroutine,
	// starts them, so all are counted in workers before the Wait below.
	var workers sync.WaitGroup
	r.spawn = func() {
		if r.workers >= opts.Concurrency {
			return
		}
		r.workers++
		workers.Add(1)
		go func() {
			defer workers.Done()
			r.work(ctx, stop)
		}()
	}
	watchDone, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		r.watch(ctx, stop, watchDone)
	}()

	err := r.admit(stop)
	close(r.queue)
	if stop.Err() != nil {
		// Report what is still queued at once, not when a worker frees up.
		r.work(ctx, stop)
	}
	workers.Wait()
	close(watchDone)
	<-watched
	return err
}

// checkChecksums refuses Options.Checksums when an entry is not a digest
// (the first such name, in sorted order, so that the message is the same
// from run to run). Unchecked, it would fail each item it names only once
// the whole file had been fetched. Either case of hex digits is fine: the
// digests are compared without regard to case.
func checkChecksums(sums map[string]string) error {
	bad, badErr := "", error(nil)
	for name, sum := range sums {
		if _, err := input.ParseSHA256(sum); err != nil && (badErr == nil || name < bad) {
			bad, badErr = name, err
		}
	}
	if badErr != nil {
		return fmt.Errorf("invalid Options.Checksums entry for %q: %w", bad, badErr)
	}
	return nil
}

// maxQueued bounds the jobs admitted ahead of the workers: beyond a few
// thousand, a longer queue only holds memory (and -j 1000000 would make
// one of a million jobs).
const maxQueued = 4096

// job is an admitted item with its reserved destination.
type job struct {
	item input.Item
	rel  string // reserved name relative to the output dir
	// natural is the name the item has by itself, before a suffix made
	// rel free: the server's name is rel when it is this one.
	natural string
	path    string // OutputDir joined with rel
	sha256  string
	named   bool  // the name is fixed (explicit or keep-paths); Content-Disposition does not apply
	exists  bool  // the destination existed at admission
	size    int64 // and then had this size
	// check: the destination existed, with --on-exists skip and an
	// expected digest; it is hashed instead of fetched (checkExisting).
	check bool
	// noSidecar: the destination's part had no sidecar at admission, so
	// the fetch need not look again (the name is reserved: nobody else in
	// the run writes that part).
	noSidecar bool
	host      string // host:port, with Options.PerHost ("" for a local file)
	// slot is the slot of host (Options.PerHost) that the job holds; nil
	// without PerHost. A redirect to another host gives it back before the
	// job ends; a wait between two attempts lends it.
	slot *slot
	// seq is the item's place in the input: 1 for the first item read
	// (blank lines and comments are not items). It orders the jobs set
	// aside for a busy host, and the failures a summary lists.
	seq uint64
	// retryName is event.Result.Name: the name the item is to be saved
	// under, when it is not the one its input alone gives it.
	retryName string
	// partNote ends the reason of an item skipped because it exists: what
	// became of a part of its own beside it (dropStalePart).
	partNote string
}

type itemOrErr struct {
	item input.Item
	err  error
}

type run struct {
	opts    Options
	fetcher Fetcher
	names   *naming.Reserver
	seen    *input.Seen
	dirs    *dirs
	queue   chan job
	// spawn starts one more worker unless there are Options.Concurrency
	// already; workers counts them. Both belong to admit's goroutine.
	spawn   func()
	workers int
	hosts   *hosts // with Options.PerHost
	intake  *intake
	single  bool
	// sending counts the transfers whose first request is through the
	// gate, and that do not wait for their next attempt: the ones a
	// shutdown waits for (the rest are withdrawn, or not retried).
	sending atomic.Int64
	// gated tells that the fetcher's requests may wait at a gate (--rate,
	// --per-host) before they are sent: a transfer waits until it is
	// through, not in flight (event.Progress.Waiting).
	gated    bool
	draining chan struct{} // closed once the Draining event is out
	aborted  chan struct{} // closed once the Aborting event is out
}

// isGated tells whether the requests of f may wait at a gate before they
// are sent: a Fetcher that says so with a Gated method, like *fetch.Client.
func isGated(f Fetcher) bool {
	g, ok := f.(interface{ Gated() bool })
	return ok && g.Gated()
}

// read runs the blocking source reads on their own goroutine, so that admit
// can stop waiting for input the moment a shutdown begins. It hands every
// item, and the error that ends the input (io.EOF at its end), to admit
// until the shutdown begins; what it reads after that is dropped.
func (r *run) read(src Source) {
	for {
		it, err := src.Next()
		if !r.intake.put(itemOrErr{it, err}) || err != nil {
			return
		}
	}
}

// admit is the producer: it filters, de-duplicates, names and queues items
// in input order, so suffixes for colliding names follow the input. Once a
// shutdown begins it reads no more, but the item already read, if any, is
// admitted like the others, and ends as not started. An input read to its
// end before that is told with an InputEnd event.
func (r *run) admit(stop context.Context) error {
	var seq uint64
	for {
		next, ok := r.intake.get()
		stopping := !ok
		if stopping {
			if next, ok = r.intake.close(); !ok {
				return nil
			}
		}
		if next.err != nil {
			r.taken(input.Item{}, next.err)
			if errors.Is(next.err, io.EOF) {
				if !stopping {
					r.opts.Emit(event.Event{Kind: event.InputEnd, Time: time.Now()})
				}
				return nil
			}
			return next.err
		}
		seq++
		r.taken(next.item, nil)
		r.admitOne(next.item, seq, stop)
		if stopping {
			return nil
		}
	}
}

// taken tells Options.Taken of an item taken from the source, or of the
// end of the input.
func (r *run) taken(it input.Item, err error) {
	if r.opts.Taken != nil {
		r.opts.Taken(it, err)
	}
}

// admitOne accounts for one item taken from the source, seq-th in the
// input: it is dropped (another shard's, or a duplicate), ended at once
// (it cannot be named, it is planned by a dry run, or its destination is
// kept), or queued for a worker; once a shutdown began, it ends as not
// started instead of being queued.
func (r *run) admitOne(it input.Item, seq uint64, stop context.Context) {
	if !r.opts.Shard.Contains(it.URL) {
		// A bad line too: one shard reports it, not all of them.
		return
	}
	var conflict error
	if it.Err == nil {
		var dup bool
		if dup, conflict = r.duplicate(it); dup {
			r.opts.Emit(event.Event{Kind: event.Duplicate, Time: time.Now(), Item: it})
			return
		}
	}
	j, err := job{item: it}, conflict
	if err == nil {
		j, err = r.plan(it)
	}
	j.seq = seq
	r.opts.Emit(event.Event{Kind: event.Queued, Time: time.Now(), Item: it, Output: j.path})
	if err != nil {
		r.finish(j, nil, fetch.Result{}, err, time.Now())
		return
	}
	if r.opts.DryRun {
		// A local source that a real run would copy is looked at, so
		// that a missing one fails here as it would there; an existing
		// destination that --on-exists skip keeps is not copied.
		if !(j.exists && r.opts.OnExists == Skip) {
			if err := fetch.CheckSource(it.URL); err != nil {
				r.finish(j, nil, fetch.Result{}, err, time.Now())
				return
			}
		}
		r.opts.Emit(event.Event{Kind: event.Planned, Time: time.Now(), Item: it, Output: j.path})
		return
	}
	if j.exists && r.opts.OnExists == Skip {
		if j.sha256 == "" {
			j.partNote = dropStalePart(j)
			r.finish(j, nil, fetch.Result{Path: j.path, Skipped: true}, nil, time.Now())
			return
		}
		// It is checked against its digest by a worker (hashing a big
		// file takes a while), with no host slot: nothing is sent.
		j.check, j.host = true, ""
	}
	if stop.Err() == nil {
		r.spawn() // a worker per queued job, until there are Concurrency
		select {
		case r.queue <- j:
			return
		case <-stop.Done():
		}
	}
	<-r.draining // the shutdown is told first
	r.finish(j, nil, fetch.Result{}, notStarted(stop), time.Now())
}

// inside returns path relative to dir when it lies under dir, symbolic
// links resolved where they can be.
func inside(dir, path string) (string, bool) {
	rel, err := filepath.Rel(resolved(dir), resolved(path))
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

// resolved is path made absolute, with the symbolic links of the longest
// part of it that exists resolved.
func resolved(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	rest := ""
	for p := abs; ; {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return abs
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// duplicate reports whether it asks for the same request and output as an
// earlier item, and is dropped. An item with a "sha256" that the earlier
// one did not give (another digest, or none) is not: it fails with
// ErrDigestConflict instead, since dropping it would leave its file
// unverified, or checked against another digest, without a word.
func (r *run) duplicate(it input.Item) (bool, error) {
	out := sameOutput(it.Name)
	first := r.seen.Add(it.URL, out)
	if it.SHA256 == "" {
		return !first, nil
	}
	// A NUL is in no output name: the pair with the digest is apart from
	// every pair without one.
	firstDigest := r.seen.Add(it.URL, out+"\x00"+it.SHA256)
	switch {
	case first:
		return false, nil
	case !firstDigest:
		return true, nil
	}
	return false, fmt.Errorf(`%w (or without one) for the same output file: it is fetched once, so give each line of it the same "sha256", or this one another "output"`, ErrDigestConflict)
}

// sameOutput is an explicit output name as the file that it names, so that
// one URL listed with "v" and with "./v" (or "d//v", or " v " in JSON)
// counts as a duplicate rather than as a second download saved as v.1. A
// name that SanitizePath refuses is kept as written: planning fails it.
func sameOutput(name string) string {
	if name == "" {
		return ""
	}
	if rel, err := naming.SanitizePath(name); err == nil {
		return rel
	}
	return name
}

// plan names an item and reserves its destination.
func (r *run) plan(it input.Item) (job, error) {
	j := job{item: it}
	if it.Err != nil {
		return j, it.Err
	}
	if r.single && it.SHA256 == "" {
		// The digest of --sha256 is the item's: its --failed line then
		// keeps it, since the retry (-i FILE) cannot give --sha256.
		j.item.SHA256 = r.opts.SHA256
	}
	rel, named, err := r.name(it)
	if err != nil {
		return j, err
	}
	j.named = named
	if dir, ok := r.names.FileAbove(rel); ok {
		// Caught here, the later item fails at once; unchecked, whichever
		// came second to the disk would fail, the file after its download.
		return j, fmt.Errorf("cannot save %s: %s is where another item of this run saves a file, not a directory; give one of them another name",
			filepath.ToSlash(rel), filepath.Join(r.opts.OutputDir, dir))
	}
	j.natural = rel
	j.rel, j.noSidecar, j.exists, j.size = r.reserve(it.URL, rel)
	if j.rel != rel {
		j.retryName = filepath.ToSlash(j.rel)
	}
	j.path = filepath.Join(r.opts.OutputDir, j.rel)
	j.sha256 = r.checksum(it, j.rel, rel)
	if r.hosts != nil {
		j.host = fetch.Host(it.URL)
	}
	return j, nil
}

// name derives the relative output name of an item and reports whether it
// is fixed (so a Content-Disposition name must not replace it).
func (r *run) name(it input.Item) (rel string, fixed bool, err error) {
	if it.Name != "" {
		// SanitizePath's errors name the output name already.
		rel, err := naming.SanitizePath(it.Name)
		return rel, true, err
	}
	u, err := url.Parse(it.URL)
	if err != nil || u.Scheme == "" || len(u.Scheme) == 1 {
		// A local path: named after its base name.
		return naming.Sanitize(filepath.Base(it.URL)), false, nil
	}
	if strings.EqualFold(u.Scheme, "file") {
		return naming.FromURL(u), false, nil
	}
	if r.opts.KeepPaths {
		return naming.KeepPath(u), true, nil
	}
	return naming.FromURL(u), false, nil
}

// reserve reserves rel, or the first free name.N.ext after it, skipping
// names that exist as a directory (a file cannot be saved there), names
// whose existing .part belongs to another URL (it is left untouched for its
// own resume; but a name that exists and is kept, --on-exists skip, is the
// item's all the same), names that are themselves such a part (x.part
// beside its sidecar x.part.meta) and, for --on-exists rename, names that
// already exist. It also reports whether the reserved name's part had no sidecar,
// whether the name exists (as a file) before the run, and then its size.
func (r *run) reserve(itemURL, rel string) (name string, noSidecar, found bool, size int64) {
	if r.dirs.empty {
		// Nothing on disk predates the run: every name not reserved is free.
		return r.names.Reserve(rel, nil), true, false, 0
	}
	name = r.names.Reserve(rel, func(candidate string) bool {
		path := filepath.Join(r.opts.OutputDir, candidate)
		fi, err := os.Lstat(path)
		found, size = err == nil, 0
		if found && (fi.IsDir() || r.opts.OnExists == Rename || partOfAnother(path)) {
			return false
		}
		if found {
			size = fi.Size()
		}
		meta, err := fetch.ReadMeta(path + naming.PartSuffix)
		if errors.Is(err, fetch.ErrSidecarNotFile) && !(found && r.opts.OnExists == Skip) {
			return false // a directory or a pipe under the sidecar's name
		}
		noSidecar = errors.Is(err, fs.ErrNotExist)
		if !(found && r.opts.OnExists == Skip) {
			// A directory (or a symbolic link) where the part would go
			// is taken, like one under the name itself, sidecar or not:
			// there is no part to resume there, and no run could write
			// one. So is a part too large to be one that fetchpool left
			// without a sidecar: another program's, or a finished
			// "x.part" of an earlier run, which the first byte of this
			// item would destroy. (A file kept by --on-exists skip is
			// not written: no need to look.)
			if pfi, perr := os.Lstat(path + naming.PartSuffix); perr == nil &&
				(!pfi.Mode().IsRegular() || noSidecar && pfi.Size() > fetch.MaxPartWithoutSidecar) {
				return false
			}
		}
		// A part of another URL is left for its own resume, and the item
		// takes the next free name; but not when the name is kept as it
		// is (--on-exists skip): nothing is written, and the item would
		// otherwise be fetched again, as a second copy under name.1.ext.
		return found && r.opts.OnExists == Skip || err != nil || meta.URL == "" || meta.For(itemURL)
	})
	// The name reserved was the last one looked at.
	return name, noSidecar, found, size
}

// partOfAnother tells whether path, which exists, is the part of another
// destination, left by an interrupted transfer for its resume: a name
// ending in .part with a sidecar beside it. An item literally named so is
// neither skipped for it nor saved over it, which would make the resume
// append the other file's tail to this item's bytes.
func partOfAnother(path string) bool {
	if len(path) < len(naming.PartSuffix) || !strings.EqualFold(path[len(path)-len(naming.PartSuffix):], naming.PartSuffix) {
		return false
	}
	_, err := fetch.ReadMeta(path)
	return err == nil
}

// checksum finds the expected digest of an item: from the item itself, from
// --sha256 for a single item, or from --checksums by name: the name it is
// saved under (rel) as a path, then by its trailing segments ("sub/x.bin"
// of -x's "HOST/pub/sub/x.bin"), then, for a name taken from the source, by
// the trailing segments of the source's path (as a list made in the
// server's tree, or beside local files, names the file: "sub/x.bin" for
// x.1.bin), and only then by base name, and by the name it would have had
// without a .N suffix (natural).
// A file is thus never checked against the entry of another one that
// merely shares its base name when the list tells them apart.
func (r *run) checksum(it input.Item, rel, natural string) string {
	switch {
	case it.SHA256 != "":
		return it.SHA256
	case r.single:
		return r.opts.SHA256
	case len(r.opts.Checksums) == 0:
		return ""
	}
	if sum, ok := r.checksumOfPath(filepath.ToSlash(rel)); ok {
		return sum
	}
	if it.Name == "" {
		if p := sourcePath(it.URL); p != "" && path.Base(p) == filepath.Base(natural) {
			if sum, ok := r.checksumOfPath(p); ok {
				return sum
			}
		}
	}
	for _, name := range []string{filepath.Base(rel), filepath.ToSlash(natural), filepath.Base(natural)} {
		if sum, ok := r.opts.Checksums[name]; ok {
			return sum
		}
	}
	return ""
}

// checksumOfPath looks up the --checksums entry of a slash-separated path,
// then of each of its trailing parts of two segments or more, longest
// first.
func (r *run) checksumOfPath(p string) (string, bool) {
	for {
		if sum, ok := r.opts.Checksums[p]; ok {
			return sum, true
		}
		i := strings.IndexByte(p, '/')
		if i < 0 || strings.IndexByte(p[i+1:], '/') < 0 {
			return "", false
		}
		p = p[i+1:]
	}
}

// sourcePath is the slash-separated path of an item's source, as a
// checksums list made where it lies names it: the path of an http(s) or
// file URL (percent-decoded, without its host), or a local path as given
// (without "./"); "" when there is none.
func sourcePath(item string) string {
	u, err := url.Parse(item)
	if err != nil || u.Scheme == "" || len(u.Scheme) == 1 {
		return strings.TrimPrefix(path.Clean(filepath.ToSlash(item)), "/")
	}
	if !isHTTP(u.Scheme) && !strings.EqualFold(u.Scheme, "file") {
		return ""
	}
	// KeepPath is "HOST/PATH": the host is not part of a name.
	p := filepath.ToSlash(naming.KeepPath(u))
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return ""
}

// isHTTP reports whether scheme is http or https, in any case.
func isHTTP(scheme string) bool {
	return strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https")
}

// work is one worker: it takes jobs until the queue closes. Once a shutdown
// begins, the jobs still queued are reported as canceled, not started.
func (r *run) work(ctx, stop context.Context) {
	if r.hosts != nil {
		r.workAround(ctx, stop)
		return
	}
	for j := range r.queue {
		r.do(ctx, stop, j)
	}
}

// workAround is work with Options.PerHost: it goes around busy hosts.
func (r *run) workAround(ctx, stop context.Context) {
	for {
		j, ok := r.hosts.next(r.queue, stop)
		if !ok {
			return
		}
		j.slot = &slot{hosts: r.hosts, host: j.host, held: true}
		r.do(ctx, stop, j)
		j.slot.leave()
	}
}

// do transfers a job, or reports it as not started once a shutdown began.
func (r *run) do(ctx, stop context.Context, j job) {
	// ctx is checked too: stop learns of an abort a moment after ctx.
	if stop.Err() != nil || ctx.Err() != nil {
		<-r.draining // the shutdown is told first
		r.finish(j, nil, fetch.Result{}, notStarted(stop), time.Now())
		return
	}
	if j.check {
		r.checkExisting(ctx, j)
		return
	}
	r.transfer(ctx, stop, j)
}

// transfer fetches one job and reports it.
func (r *run) transfer(ctx, stop context.Context, j job) {
	progress := event.NewProgress(j.rel)
	start := progress.Start // now
	// Until its first request is through the gate, it is not in flight.
	progress.SetWaiting(r.gated)
	// waited is how long after start its first request got through the
	// gate, -1 until then: its Duration leaves it out, for the wait for
	// its turn (--rate, --per-host) is no time spent fetching it. (A
	// Duration, which the closure below shares for the cost of the bool
	// it replaced, and measured from progress.Start, which the closure
	// has already: a time.Time to share would cost each item more.)
	waited := time.Duration(-1)
	// sent tells whether r.sending counts the transfer: from its first
	// request through the gate to its end, but not between two attempts,
	// when a shutdown ends it at once rather than wait for it.
	var sent atomic.Bool
	count := func(in bool) {
		if sent.Swap(in) != in {
			if in {
				r.sending.Add(1)
			} else {
				r.sending.Add(-1)
			}
		}
	}
	r.opts.Emit(event.Event{Kind: event.Started, Time: start, Item: j.item, Output: j.path, Progress: progress})

	if err := r.dirs.make(filepath.Dir(j.path)); err != nil {
		r.finish(j, progress, fetch.Result{}, fmt.Errorf("cannot save %s: %w", j.rel, err), start)
		return
	}
	r.adoptPart(&j)
	req := fetch.Request{
		URL:       j.item.URL,
		Path:      j.path,
		SHA256:    j.sha256,
		IfNewer:   j.exists && r.opts.OnExists == Newer,
		NoSidecar: j.noSidecar,
		NoPart:    r.dirs.empty, // nothing under the output directory predates the run
		NoFile:    !j.exists,    // found so when its name was reserved
		Progress:  progress,
		Stop:      stop, // withdraws it before its first request, and stops its retries
		Began: func() {
			waited = 0 // without a gate, nothing waited: no need to ask the clock
			if r.gated {
				waited = time.Since(progress.Start)
			}
			count(true)
			progress.SetWaiting(false)
		},
		Between: func(waiting, hostPaused bool) {
			count(!waiting)
			if j.slot == nil {
				return
			}
			// Between two attempts it sends nothing: its host's slot is
			// for another item meanwhile, unless the host asked for a
			// pause, which the gate imposes on every item of the host
			// (the workers go on with other hosts).
			switch {
			case waiting && !hostPaused:
				j.slot.lend()
			case !waiting:
				j.slot.retake()
			}
		},
		Emit: func(ev event.Event) {
			if ev.Kind == event.Redirect && j.slot != nil && fetch.Host(ev.Message) != j.host {
				// Its requests go to another host now, whose own cap the
				// Fetcher's gate keeps: its URL's host is free for the
				// next item (a redirector in front of many mirrors).
				j.slot.leave()
			}
			ev.Item = j.item
			ev.Output = j.path
			ev.Progress = progress
			r.opts.Emit(ev)
		},
	}
	if !j.named {
		req.Rename = func(name string) (fetch.Destination, error) {
			dest, err := r.rename(&j, name)
			if rel, rerr := filepath.Rel(r.opts.OutputDir, dest.Path); err == nil && rerr == nil {
				progress.Rename(rel)
			}
			return dest, err
		}
	}
	res, err := r.fetcher.Fetch(ctx, req)
	if res.Path != "" && res.Path != j.path {
		// Moved to the name its server gave (or skipped for it).
		r.releaseMoved(j)
	}
	if j.sha256 != "" && (errors.Is(err, fetch.ErrSkip) || err == nil && res.Skipped && req.IfNewer) {
		// A file kept by --on-exists newer, or under the name its server
		// gave, is checked as one that --on-exists skip keeps
		// (fetch.ErrNotNewer wraps ErrSkip).
		kept := j.path
		if res.Path != "" {
			kept = res.Path
		}
		if got, cerr := checkKept(ctx, kept, j.sha256, nil); cerr != nil {
			res.SHA256, err = got, cerr
		} else {
			res.SHA256 = got
		}
	}
	switch {
	case errors.Is(err, fetch.ErrNotStarted):
		// Withdrawn at the gate by the shutdown, which is told first.
		r.shutdownTold(ctx, stop)
		err = notStarted(stop)
	case errors.Is(err, fetch.ErrStopped):
		// Not retried because of the shutdown, which is told first.
		r.shutdownTold(ctx, stop)
	}
	if ctx.Err() != nil {
		// The Aborting event counts this transfer and comes before its end.
		<-r.aborted
		if err != nil {
			err = aborted(ctx, err)
		}
	}
	fetching := start // when its fetch began, for its Duration
	switch {
	case waited >= 0:
		// No longer in flight by the time its end is told: a shutdown
		// that begins after it must not wait for it.
		count(false)
		fetching = start.Add(waited)
	case r.gated:
		// It never got through the gate, and spent no time being
		// fetched: its wait there is not its Duration either.
		fetching = time.Now()
	}
	r.finish(j, progress, res, err, fetching)
}

// shutdownTold waits until the Draining event is out, when the run is
// shutting down. A Fetcher may also stop an item for a reason of its own
// (a Request.Stop of the program's, which a wrapper gave the Client):
// then no Draining event is coming, and there is nothing to wait for.
func (r *run) shutdownTold(ctx, stop context.Context) {
	if stop.Err() != nil || ctx.Err() != nil {
		<-r.draining
	}
}

// adoptPart gives j, saved under another name than the one its part of an
// earlier run was left under, that part: it is moved to j's part, to be
// resumed there (fetch.AdoptPart). The contract resumes an existing part;
// fetched again from zero, the item left that part for ever. That is
// the part under its natural name, when j is saved under a free form of it
// (--on-exists rename, because a file has that name); and, for a name
// given in the input, the part under the URL's name of one that its server
// named (its sidecar says so): a --failed list gives such an item the name
// the earlier run saved it under, while its part stayed under the URL's.
// Best effort: a part that cannot be moved is left as it is, and the item
// fetched from zero.
func (r *run) adoptPart(j *job) {
	if r.dirs.empty || !j.noSidecar {
		return // nothing predates the run; a part of its own already
	}
	to := j.path + naming.PartSuffix
	adopt := func(from string) bool {
		if from == to {
			return false
		}
		adopted, _ := fetch.AdoptPart(from, to, j.item.URL)
		j.noSidecar = !adopted
		return adopted
	}
	if j.rel != j.natural && adopt(filepath.Join(r.opts.OutputDir, j.natural)+naming.PartSuffix) {
		return
	}
	if j.item.Name == "" || r.opts.KeepPaths {
		return
	}
	u, err := url.Parse(j.item.URL)
	if err != nil || !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https") {
		return
	}
	from := filepath.Join(r.opts.OutputDir, naming.FromURL(u)) + naming.PartSuffix
	if m, err := fetch.ReadMeta(from); err == nil && m.Name != "" {
		adopt(from)
	}
}

// rename places an item under the name its server gave in
// Content-Disposition, reserving that name and applying --on-exists to it.
// It records in j the name taken when a retry could not find it alone.
func (r *run) rename(j *job, serverName string) (fetch.Destination, error) {
	name := naming.Sanitize(serverName)
	if strings.EqualFold(name, filepath.Base(j.rel)) || strings.EqualFold(name, filepath.Base(j.natural)) {
		// The name the item was admitted under, or the one rel is the
		// first free form of: reserving it again would only add a
		// further suffix.
		return fetch.Destination{Path: j.path}, nil
	}
	natural := filepath.Join(filepath.Dir(j.rel), name)
	// A name taken by the server's choice is reserved like any other, and
	// --checksums is looked up under it.
	rel, _, found, _ := r.reserve(j.item.URL, natural)
	if rel != natural || j.retryName != "" {
		// A retry of the bare URL would be named (and skipped) otherwise.
		j.retryName = filepath.ToSlash(rel)
	}
	dest := fetch.Destination{Path: filepath.Join(r.opts.OutputDir, rel), SHA256: r.checksum(j.item, rel, natural)}
	if dest.SHA256 != "" {
		j.sha256 = dest.SHA256
	}
	if found {
		switch r.opts.OnExists {
		case Skip:
			return dest, fetch.ErrSkip
		case Newer:
			dest.IfNewer = true
		}
	}
	return dest, nil
}

// releaseMoved gives back the name an item was admitted under once its
// transfer, which the server named otherwise, is over: nothing is saved
// under it, so a later item may have it without a suffix. Not before: the
// transfer writes its part under that name to the end. And not when that
// part or its sidecar is still on disk (kept for a resume, or left from an
// earlier run): it stays the item's.
func (r *run) releaseMoved(j job) {
	for _, suffix := range []string{naming.PartSuffix, naming.SidecarSuffix} {
		if _, err := os.Lstat(j.path + suffix); !errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
	r.names.Release(j.rel)
}

// Why an item is skipped (event.Result.Reason).
const (
	skipExists         = "exists"                               // --on-exists skip
	skipChecked        = "exists, checksum ok"                  // --on-exists skip, and the expected digest matches
	skipNotModified    = "not modified on the server"           // --on-exists newer: 304, or a response that is not newer
	skipSourceNotNewer = "the source is not newer"              // --on-exists newer, for a local file
	skipServerName     = "a file with the server's name exists" // --on-exists skip, for the Content-Disposition name
)

// dropStalePart removes the part of j, an item skipped because its
// destination exists, when that part is the item's own (its sidecar names
// the item's URL) and no process writes it: a run killed while it replaced
// the destination (--on-exists overwrite) left it, and no later run that
// keeps the destination would ever remove it. It returns what to add to
// the reason of the skip: that the part was removed, or why it is kept;
// "" when there is none, or it is not known to be the item's.
func dropStalePart(j job) string {
	if j.noSidecar {
		return "" // no sidecar, no owner known (or nothing there at all)
	}
	part := j.path + naming.PartSuffix
	name := filepath.Base(part)
	removed, err := fetch.RemoveStalePart(part, j.item.URL)
	switch {
	case removed:
		return removedNote(part)
	case errors.Is(err, fetch.ErrPartBusy):
		return "; " + name + " is kept: another process is writing it"
	case err != nil:
		return "; " + name + ", left by an interrupted run, is kept: " + err.Error()
	}
	return ""
}

// removedNote ends the reason of a skip that removed part, a part of the
// item's own left beside the file kept by an interrupted run.
func removedNote(part string) string {
	return "; removed " + filepath.Base(part) + ", left by an interrupted run"
}

// finish emits the Finished event of a job. A skipped item has a Reason
// and no Err: it did not fail.
func (r *run) finish(j job, progress *event.Progress, res fetch.Result, err error, start time.Time) {
	out := res.Path
	if out == "" {
		out = j.path
	}
	result := &event.Result{
		Item:       j.item,
		Seq:        j.seq,
		FinalURL:   res.URL,
		Output:     out,
		Status:     event.StatusOK,
		Bytes:      res.Bytes,
		Size:       res.Size,
		SHA256:     res.SHA256,
		HTTPStatus: res.HTTPStatus,
		Attempts:   res.Attempts,
		Duration:   time.Since(start),
		Err:        err,
		Name:       j.retryName,
		WantSHA256: j.sha256,
	}
	note := "" // --on-exists newer: what became of a part beside the file kept
	if res.StaleRemoved {
		note = removedNote(j.path + naming.PartSuffix)
	}
	switch {
	case errors.Is(err, ErrNotStarted) || errors.Is(err, ErrAborted) || errors.Is(err, fetch.ErrStopped):
		result.Status = event.StatusCanceled
	case errors.Is(err, fetch.ErrNotNewer):
		result.Status, result.Err, result.Reason = event.StatusSkipped, nil, skipNotModified+note
	case errors.Is(err, fetch.ErrSkip):
		result.Status, result.Err, result.Reason = event.StatusSkipped, nil, skipServerName
		if _, perr := os.Lstat(j.path + naming.PartSuffix); perr == nil {
			// It may be another item's file: this item's bytes are kept.
			result.Reason = skipServerName + "; " + filepath.Base(j.path) + naming.PartSuffix +
				" is kept (--on-exists rename saves it under a free name)"
		}
	case err != nil:
		result.Status = event.StatusFailed
	case res.Skipped && j.exists && r.opts.OnExists == Newer && fetch.Host(j.item.URL) == "":
		result.Status, result.Reason = event.StatusSkipped, skipSourceNotNewer+note
	case res.Skipped && j.exists && r.opts.OnExists == Newer:
		result.Status, result.Reason = event.StatusSkipped, skipNotModified+note
	case res.Skipped && j.check:
		result.Status, result.Reason = event.StatusSkipped, skipChecked+j.partNote
	case res.Skipped:
		result.Status, result.Reason = event.StatusSkipped, skipExists+j.partNote
	}
	if result.Status == event.StatusSkipped && result.Size == 0 {
		// The file kept is the item's file: its size, as for one fetched.
		// It was looked at when the name was reserved; a server-given
		// name was not.
		if out == j.path && j.exists {
			result.Size = j.size
		} else if fi, err := os.Stat(out); err == nil && fi.Mode().IsRegular() {
			result.Size = fi.Size()
		}
	}
	r.opts.Emit(event.Event{Kind: event.Finished, Time: time.Now(), Item: j.item, Output: out, Progress: progress, Result: result})
}

// watch tells, the moment each happens, that a graceful shutdown began and
// that transfers in flight are being aborted. It returns once done is closed.
// Aborted transfers wait for the Aborting event before they report, so that
// it comes first and counts them all.
func (r *run) watch(ctx, stop context.Context, done <-chan struct{}) {
	select {
	case <-stop.Done():
	case <-ctx.Done(): // even when stop is not ctx's child
	case <-done:
		if stop.Err() == nil && ctx.Err() == nil {
			return
		}
	}
	r.opts.Emit(event.Event{Kind: event.Draining, Time: time.Now(), InFlight: int(r.sending.Load())})
	close(r.draining)
	select {
	case <-ctx.Done():
	case <-done:
		if ctx.Err() == nil {
			return
		}
	}
	r.opts.Emit(event.Event{Kind: event.Aborting, Time: time.Now(), InFlight: int(r.sending.Load())})
	close(r.aborted)
}
