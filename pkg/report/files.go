package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/input"
)

// flushEvery is how often file sinks flush on Tick, so that a run killed
// without Close still leaves most of what it did on disk.
const flushEvery = time.Second

// file is a buffered output file that remembers its first error.
type file struct {
	path      string
	what      string // "report file", for messages
	f         *os.File
	bw        *bufio.Writer
	err       error
	lastFlush time.Time
	closed    bool
	regular   bool   // a regular file, not /dev/stdout or a pipe
	pending   string // written here, and renamed to path by close; "" when written in place
	// earlier is the file that was at path when the pending file was made
	// (an earlier run's), until begin removes it; nil for none.
	earlier os.FileInfo
	// own is the regular file made, at pending or else at path, to tell it
	// from one put in its place (abandon); nil for a device or a pipe.
	own   os.FileInfo
	whole atomic.Bool // close wrote the file whole, and put it in place
}

// createFile creates (or truncates) the file at path. A file it creates is
// readable by its owner only: --report and --failed keep each URL whole,
// with its password or query token, as curl keeps its cookie jar 0600. A
// file that exists keeps its mode.
func createFile(path, what string) (*file, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", what, err)
	}
	fi, err := f.Stat()
	regular := err == nil && fi.Mode().IsRegular()
	out := &file{path: path, what: what, f: f, bw: bufio.NewWriterSize(f, 64<<10), regular: regular}
	if regular {
		out.own = fi
	}
	return out, nil
}

// PendingSuffix ends the name of a --report or --failed file while it is
// written (see Document and NewFailed): "report.json.part" is the report
// until the run ends.
const PendingSuffix = ".part"

// createPending creates the file that close renames to path, a regular file
// or one not there yet: path+PendingSuffix, beside it, so that path is
// never there half written. A file at path is removed by begin, once the
// run is sure to start, so that a run killed before close leaves no report
// rather than the previous run's, which a script would take for this one's,
// while a run that ends before it began (a usage error in the rest of its
// setup) leaves that file as it was; it gives the new file its mode.
// Anything else at path (a symbolic link, /dev/stdout, a pipe, a
// directory), or a directory where the pending file cannot be made while
// path can be written, is written in place, as createFile does; a file
// that may not be written is refused as createFile refuses it.
func createPending(path, what string) (*file, error) {
	fi, err := os.Lstat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) || err == nil && !fi.Mode().IsRegular() {
		return createFile(path, what)
	}
	if err == nil {
		// A file that may not be written is not replaced either: its
		// open says why.
		w, werr := os.OpenFile(path, os.O_WRONLY, 0)
		if werr != nil {
			return createFile(path, what)
		}
		w.Close()
	}
	// One left by a killed run goes; O_EXCL makes the file anew and
	// follows no symbolic link put there in its place. Nothing else there
	// is a run's: an empty directory (-o report.json.part, made a moment
	// ago) is left, and the report written in place.
	pending := path + PendingSuffix
	if pfi, err := os.Lstat(pending); err == nil && (pfi.Mode().IsRegular() || pfi.Mode()&fs.ModeSymlink != 0) {
		_ = os.Remove(pending)
	}
	f, perr := os.OpenFile(pending, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if perr != nil {
		return createFile(path, what)
	}
	var earlier os.FileInfo
	if err == nil {
		_ = f.Chmod(fi.Mode().Perm())
		earlier = fi
	}
	own, _ := f.Stat()
	return &file{path: path, what: what, f: f, bw: bufio.NewWriterSize(f, 64<<10), regular: true, pending: pending, earlier: earlier, own: own}, nil
}

// begin removes the file that was at path when the pending file was made,
// the earlier run's, if it is still there: not one that took its place
// since. Later calls do nothing.
func (f *file) begin() {
	earlier := f.earlier
	f.earlier = nil
	if fi, err := os.Lstat(f.path); earlier != nil && err == nil && os.SameFile(earlier, fi) {
		_ = os.Remove(f.path)
	}
}

// withoutPath is err without the operation and path of an *fs.PathError,
// which the messages of file already name.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// write writes p, whole lines: the buffer is flushed before p when p does
// not fit, rather than filled up with the start of p, so that every write
// to the file ends with a whole line, and a process killed between two
// writes (SIGKILL after CI's grace for SIGTERM, the OOM killer) leaves a
// file of whole lines: a --failed line cut short reads back as another
// item. The kernel may still cut a write that the kill lands in at a page
// boundary; that window is the write's, not the run's.
func (f *file) write(p []byte) {
	if f.err != nil || f.closed {
		return
	}
	if len(p) > f.bw.Available() && f.bw.Buffered() > 0 {
		if err := f.bw.Flush(); err != nil {
			f.err = fmt.Errorf("writing %s %s: %w", f.what, f.path, withoutPath(err))
			return
		}
	}
	if _, err := f.bw.Write(p); err != nil {
		f.err = fmt.Errorf("writing %s %s: %w", f.what, f.path, withoutPath(err))
	}
}

func (f *file) tick(now time.Time) {
	if f.closed || now.Sub(f.lastFlush) < flushEvery {
		return
	}
	f.lastFlush = now
	if err := f.bw.Flush(); err != nil && f.err == nil {
		f.err = fmt.Errorf("writing %s %s: %w", f.what, f.path, withoutPath(err))
	}
}

func (f *file) close() error {
	if f.closed {
		return f.err
	}
	f.closed = true
	if err := f.bw.Flush(); err != nil && f.err == nil {
		f.err = fmt.Errorf("writing %s %s: %w", f.what, f.path, withoutPath(err))
	}
	var mine os.FileInfo
	if f.pending != "" {
		mine, _ = f.f.Stat()
	}
	if err := f.f.Close(); err != nil && f.err == nil {
		f.err = fmt.Errorf("closing %s %s: %w", f.what, f.path, withoutPath(err))
	}
	if f.pending == "" {
		f.whole.Store(f.err == nil)
		return f.err
	}
	// Whole, this run's file replaces the earlier one; not whole, it
	// leaves none, which would be taken for this run's.
	f.begin()
	if on, err := os.Lstat(f.pending); mine == nil || err != nil || !os.SameFile(mine, on) {
		// Another run with the same file made its own pending file in
		// place of this one's: renaming that one would put its start
		// under path, and it is not this run's to remove.
		if f.err == nil {
			f.err = fmt.Errorf("putting %s %s in place: %s was replaced while this run wrote it, by another run that writes the same file, perhaps; give each run its own", f.what, f.path, f.pending)
		}
		return f.err
	}
	if f.err == nil {
		if err := os.Rename(f.pending, f.path); err != nil {
			f.err = fmt.Errorf("putting %s %s in place: %w", f.what, f.path, withoutPath(err))
		}
		f.whole.Store(f.err == nil)
	}
	if f.err != nil {
		// Incomplete, it would only be taken for the whole file.
		_ = os.Remove(f.pending)
	}
	return f.err
}

// abandon removes the file that f writes, unless close wrote it whole, and
// tells whether it did: for a run that must end before close can. Only
// f's own regular file goes, not a device, nor a file put in its place. It
// may be called from any goroutine, while another one writes f: it reads
// nothing that changes but whole.
func (f *file) abandon() bool {
	if f.own == nil || f.whole.Load() {
		return false
	}
	path := f.path
	if f.pending != "" {
		path = f.pending
	}
	fi, err := os.Lstat(path)
	if err != nil || !os.SameFile(fi, f.own) {
		return false
	}
	// Closed first: Windows removes no file that is open. An *os.File
	// may be closed while another goroutine uses it, whose writes fail
	// from then on.
	_ = f.f.Close()
	return os.Remove(path) == nil
}

// discard closes f and removes it when it is the pending file: for a run
// that ends before it began, whose file would be empty. The earlier file at
// path, unless begin removed it, is left as it was.
func (f *file) discard() {
	if f.closed {
		return
	}
	f.closed = true
	f.f.Close()
	if f.pending != "" {
		_ = os.Remove(f.pending)
	}
}

// FileSummary is the "summary" object of the --report document (see
// Document). Planned counts the items a dry run planned, which it did not
// fetch; a run that fetches plans none. UnreadInput is there only when the
// input was not read to its end.
type FileSummary struct {
	Done        int     `json:"done"`
	Skipped     int     `json:"skipped"`
	Failed      int     `json:"failed"`
	NotStarted  int     `json:"not_started"`
	Canceled    int     `json:"canceled"`
	Duplicates  int     `json:"duplicates"`
	Planned     int     `json:"planned"`
	Bytes       int64   `json:"bytes"`
	ElapsedMS   int64   `json:"elapsed_ms"`
	UnreadInput *Unread `json:"unread_input,omitempty"`
}

// Unread says that the rest of the input was not read, from where, and why.
// The counts and items of a report say nothing of the lines that were never
// read: this does.
type Unread struct {
	// After is where the last item read came from, as "urls.txt:12",
	// "-:3" (standard input) or "arg 2"; "" when no item was read.
	After string `json:"after,omitempty"`
	// Reason is "interrupted", or the error that ended the input early,
	// as "reading urls.txt: ...".
	Reason string `json:"reason"`
}

// Document writes the --report file, one JSON document:
//
//	{"items": [Record, ...], "summary": FileSummary}
//
// Items are written as they finish, so memory stays constant; the summary
// is written by Close, which makes the file valid JSON even after an
// interrupted run. A regular file is written under the name PATH.part
// (PendingSuffix) and renamed to PATH by Close once it is whole, so that a
// run killed before Close (kill -9, the OOM killer, a CI timeout) leaves no
// report at PATH, never one cut short, which a script would fail to parse,
// nor, once Begin has removed it, the earlier run's: only PATH.part, which
// the next run with the same --report replaces.
type Document struct {
	file   *file
	enc    *lineEncoder
	tally  tally
	start  time.Time
	now    func() time.Time
	items  int
	unread *Unread // set by SetUnread
}

// NewDocument creates the report file at path for a run that started at
// start: a regular file as PATH.part (see Document), the one at path, an
// earlier run's, being removed by Begin, or else by Close. The error names
// the path.
func NewDocument(path string, start time.Time) (*Document, error) {
	f, err := createPending(path, "report file")
	if err != nil {
		return nil, err
	}
	r := &Document{file: f, enc: newLineEncoder(), start: start, now: time.Now}
	r.file.write([]byte(`{"items":[`))
	return r, nil
}

// Handle writes the Record of a Finished event.
func (r *Document) Handle(ev event.Event) {
	r.tally.add(ev)
	if ev.Kind != event.Finished || ev.Result == nil {
		return
	}
	sep := ",\n"
	if r.items == 0 {
		sep = "\n"
	}
	r.items++
	r.file.write([]byte(sep))
	line := r.enc.encode(recordOf(ev))
	r.file.write(line[:len(line)-1]) // without its newline: "," comes next
}

// Tick flushes what was written about once a second.
func (r *Document) Tick(now time.Time) { r.file.tick(now) }

// SetUnread makes Close record in the summary that the rest of the input
// was not read (FileSummary.UnreadInput). Call it before the Dispatcher's
// Close, from the goroutine that calls it.
func (r *Document) SetUnread(u Unread) { r.unread = &u }

// Begin removes the report that was at the path when the Document was
// created, an earlier run's, so that a run killed before Close leaves none
// there rather than that one, which a script would take for this one's.
// Call it once the run is sure to start: a run that ends before (its other
// files could not be made: Discard) leaves the earlier report as it was.
func (r *Document) Begin() { r.file.begin() }

// Abandon removes the report unless Close wrote it whole, and tells whether
// it did: for a run that must end before Close can (its output is blocked).
// Only the file the Document made goes, not one put in its place since,
// nor a device or pipe. Unlike the other methods, it may be called from
// any goroutine, while another one writes the report.
func (r *Document) Abandon() bool { return r.file.abandon() }

// Written tells whether Close wrote the report whole.
func (r *Document) Written() bool { return r.file.closed && r.file.err == nil }

// Discard closes the report, unwritten, for a run that ends before its
// first item (the other files of the run could not be made): it leaves no
// PATH.part, and, unless Begin was called, the earlier report as it was.
func (r *Document) Discard() { r.file.discard() }

// Close writes the summary, flushes and closes the file, renames it into
// place, and returns the first error met writing it. A report that could
// not be written whole is removed, and the error says so.
func (r *Document) Close() error {
	if r.file.closed {
		return r.file.err
	}
	c := r.tally.Counts
	s := FileSummary{
		Done:        c.Done,
		Skipped:     c.Skipped,
		Failed:      c.Failed,
		NotStarted:  c.NotStarted,
		Canceled:    c.Canceled,
		Duplicates:  c.Duplicates,
		Planned:     c.Planned,
		Bytes:       c.Bytes,
		ElapsedMS:   max(r.now().Sub(r.start), 0).Milliseconds(),
		UnreadInput: r.unread,
	}
	r.file.write([]byte("\n],\n\"summary\":"))
	line := r.enc.encode(s)
	r.file.write(line[:len(line)-1])
	r.file.write([]byte("}\n"))
	err := r.file.close()
	if err != nil && r.file.pending != "" {
		err = fmt.Errorf("%w; no report was left at %s: it could not be written whole", err, r.file.path)
	}
	return err
}

// Failed writes every item that failed or was canceled (started or not) to
// a file, one per line in input syntax, so that `fetchpool -i FILE` retries
// exactly those, under the names they had. An item's explicit name and
// checksum are kept. An item named otherwise than its line alone names it
// (event.Result.Name: a ".N" suffix because the plain name was taken) is
// written with that name and with the digest it was to match
// (event.Result.WantSHA256): a retry of its bare line would find the plain
// name taken and skip the item, or look --checksums up under another name.
// An item whose line is not at hand whole (too long, or not text) is
// written as a comment that says where it was, never as a shortened or
// quoted stand-in that could read back as another item.
type Failed struct {
	file *file
	rest func() (input.Item, error) // the input not read; set by Rest
	end  string                     // a comment for the last line; set by EndWith
}

// Rest makes Close list, after the items that failed or never started,
// every item next returns until io.EOF: the input that the run did not
// read, read again (from a file: a pipe cannot be), so that the list is
// all that is left to do and a retry with -i finishes the whole list. A
// read error there ends the list with a comment that says where the rest
// begins. Call it before the Dispatcher's Close, from the goroutine that
// calls it; a note given to EndWith comes after the rest.
func (f *Failed) Rest(next func() (input.Item, error)) { f.rest = next }

// EndWith makes Close end the list with note as a comment line ("# note"),
// which reading the list again ignores: to say, for one, that the list is
// not all that is left to do. Call it before the Dispatcher's Close, from
// the goroutine that calls it.
func (f *Failed) EndWith(note string) { f.end = note }

// NewFailed creates the failed list at path, the one there (an earlier
// run's) being removed by Begin, or else by Close. The error names the path. As the --report file (see Document), a regular
// file is written as PATH.part and renamed to PATH by Close, once the list
// is whole: a run killed before Close (kill -9, the OOM killer) leaves no
// list, rather than one without the items in flight and the input not
// read, which "fetchpool -i PATH" would take for all that is left to do.
func NewFailed(path string) (*Failed, error) {
	f, err := createPending(path, "failed list")
	if err != nil {
		return nil, err
	}
	return &Failed{file: f}, nil
}

// Handle writes the input line of an item that failed or was canceled. An
// empty argument (input.ErrEmptyItem) is left out: it has no input line and
// nothing to retry.
func (f *Failed) Handle(ev event.Event) {
	if ev.Kind != event.Finished || ev.Result == nil {
		return
	}
	if s := ev.Result.Status; s != event.StatusFailed && s != event.StatusCanceled {
		return
	}
	it := ev.Result.Item
	if it.URL == "" {
		it = ev.Item
	}
	if errors.Is(it.Err, input.ErrEmptyItem) {
		return
	}
	if it.Err == nil && ev.Result.Name != "" {
		it.Name = ev.Result.Name
		if it.SHA256 == "" {
			// --checksums may not have it under the new name.
			it.SHA256 = ev.Result.WantSHA256
		}
	}
	f.file.write([]byte(f.line(it)))
}

// Tick flushes what was written about once a second.
func (f *Failed) Tick(now time.Time) { f.file.tick(now) }

// Begin removes the list that was at the path when the Failed was created,
// an earlier run's, as Document.Begin does the report.
func (f *Failed) Begin() { f.file.begin() }

// Abandon removes the list unless Close wrote it whole, as Document.Abandon
// does the report, and tells whether it did. It may be called from any
// goroutine.
func (f *Failed) Abandon() bool { return f.file.abandon() }

// Written tells whether Close wrote the list whole.
func (f *Failed) Written() bool { return f.file.closed && f.file.err == nil }

// Close flushes and closes the file, and returns the first error met
// writing it. A list that could not be written whole is removed (when it
// is a regular file), and the error says so: cut short, it would retry only
// some of the items, and its last line, cut too, could read back as another
// URL.
func (f *Failed) Close() error {
	if f.rest != nil {
		f.writeRest()
	}
	if f.end != "" {
		f.file.write([]byte("# " + strings.ReplaceAll(f.end, "\n", " ") + "\n"))
	}
	err := f.file.close()
	switch {
	case err != nil && f.file.pending != "": // removed by close
		err = fmt.Errorf("%w; no list was left at %s: cut short, it would retry only some of the items", err, f.file.path)
	case err != nil && f.file.regular:
		if rmErr := os.Remove(f.file.path); rmErr == nil {
			err = fmt.Errorf("%w; removed %s: cut short, it would retry only some of the items", err, f.file.path)
		}
	}
	return err
}

// writeRest lists the items of f.rest, as Handle lists those that failed.
func (f *Failed) writeRest() {
	var last input.Item
	for {
		it, err := f.rest()
		switch {
		case errors.Is(err, io.EOF):
			return
		case err != nil:
			note := "the input could not be read again: " + err.Error() + "; the rest of it is not listed here"
			if last.Source != "" {
				note = "the input could not be read again after " + last.Where() + ": " + err.Error() + "; the rest of it is not listed here"
			}
			f.file.write([]byte("# " + strings.Map(noBreak, note) + "\n"))
			return
		case errors.Is(it.Err, input.ErrEmptyItem):
			continue // no line to retry, as in Handle
		}
		f.file.write([]byte(f.line(it)))
		last = it
	}
}

// line is it in input syntax (see input.Format), ending in "\n". An item
// that could not be parsed is written as it was given, so that reading the
// list again reports the same problem on the new line; but an item whose
// URL holds only a stand-in for its line (the start of an overlong line,
// or a line that is not text, quoted) becomes a comment naming the line:
// the stand-in could read back as another URL and fetch something else.
func (f *Failed) line(it input.Item) string {
	if errors.Is(it.Err, input.ErrLineTooLong) || errors.Is(it.Err, input.ErrNotText) {
		note := it.Where() + ": " + it.Err.Error() + ", not copied here"
		return "# " + strings.Map(noBreak, note) + "\n"
	}
	raw := it.Err != nil && it.Name == "" && it.SHA256 == "" &&
		strings.TrimSpace(it.URL) != "" && !strings.HasPrefix(strings.TrimSpace(it.URL), "#") &&
		!strings.ContainsAny(it.URL, "\r\n")
	if raw {
		return it.URL + "\n"
	}
	return input.Format(it) + "\n"
}

// noBreak keeps a comment on one line: a file name may hold a line break.
func noBreak(r rune) rune {
	if r == '\n' || r == '\r' {
		return ' '
	}
	return r
}
