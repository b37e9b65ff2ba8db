package fetch

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/input"
)

// ErrSkip is returned by a Request.Rename that wants the item skipped; Fetch
// returns it too, with Result.Skipped set.
var ErrSkip = errors.New("skipped")

// ErrNotNewer skips an item whose server-given name (Destination with
// IfNewer) exists and is not older than the response; it wraps ErrSkip.
var ErrNotNewer = fmt.Errorf("%w: not modified on the server", ErrSkip)

// ErrTooManyRedirects fails a request that was redirected more than 10
// times.
var ErrTooManyRedirects = errors.New("stopped after 10 redirects")

// ErrPartInUse fails an item whose .part belongs to another URL (its
// sidecar says so); the part is left untouched.
var ErrPartInUse = errors.New("the .part file belongs to another URL")

// ErrPartBusy fails an item whose .part another process is writing: it
// holds the part's lock (two runs into one output directory at once), or
// it replaced the part while this one wrote it. The part and its sidecar
// are left untouched. The item fails rather than take the next free name:
// two overlapping runs of one list would otherwise each save a copy.
var ErrPartBusy = errors.New("the .part file is being written by another process")

// ErrNotStarted ends an item whose Request.Stop was done before its first
// request got through the gate; nothing was sent. It is
// event.ErrNotStarted, which pool.ErrNotStarted is too.
var ErrNotStarted = event.ErrNotStarted

// ErrStopped ends an item whose attempt failed after Request.Stop was
// done, when it would otherwise have been retried: a shutdown starts no
// new attempt, and cuts short the wait before one. The error that wraps it
// also says why the last attempt failed, and which .part is kept.
var ErrStopped = errors.New("not retried: stopping")

// errSymlink is the reason a part or sidecar that is a symbolic link is not
// written: it could point anywhere, outside the output directory too.
var errSymlink = errors.New("is a symbolic link, which fetchpool does not write through")

// errNoUnnamed says that files without a name (openUnnamed) cannot be made
// here; parts are then created under their names.
var errNoUnnamed = errors.New("files without a name are not supported")

// partBusyError is ErrPartBusy for one part.
type partBusyError struct {
	part string
	// replaced: the part was this transfer's, but by the time it was to be
	// renamed into place another file (or none) was under its name.
	replaced bool
}

func (e *partBusyError) Error() string {
	if e.replaced {
		return e.part + " was replaced or removed by another process while this run wrote it; not moved into place (run again to fetch it anew)"
	}
	return e.part + " is being written by another process; not touched (run again once that one is done)"
}

func (e *partBusyError) Is(target error) bool { return target == ErrPartBusy }

// locationError is a redirect whose Location header does not parse, or
// names an http(s) URL without a host or with a port that is not one.
type locationError struct {
	location string
	err      error
}

func (e *locationError) Error() string {
	loc := input.RedactPassword(e.location)
	if errors.Is(e.err, errNoHost) || errors.Is(e.err, errBadPort) {
		return fmt.Sprintf("the server redirected to %q, which %v", loc, e.err)
	}
	return fmt.Sprintf("the server redirected to %q, which is not a URL", loc)
}

// What a Location that parses can still get wrong.
var (
	errNoHost  = errors.New("names no host")
	errBadPort = errors.New("has a port that is not a number from 1 to 65535")
)

func (e *locationError) Unwrap() error { return e.err }

// HTTPError is an HTTP status that fails an attempt.
type HTTPError struct {
	StatusCode int
	Status     string // as the server sent it, e.g. "404 Not Found"

	retryAfter    time.Duration // from Retry-After on 429 and 503
	hasRetryAfter bool
	noLocation    bool // a redirect status without a Location to follow
	httpsPort     bool // a 400 from a TLS server to a plain http request
}

// Error says "HTTP " and the status, e.g. "HTTP 404 Not Found".
func (e *HTTPError) Error() string {
	status := e.Status
	if status == "" {
		status = strconv.Itoa(e.StatusCode)
	}
	if e.noLocation {
		return "HTTP " + status + " without a Location to follow"
	}
	if e.httpsPort {
		return "HTTP " + status + ": the port serves https, not plain http: use an https:// URL"
	}
	return "HTTP " + status
}

// ChecksumError is a SHA-256 mismatch. When Fetch returns it, the bad
// bytes are removed; a pool run's error for a file that existed before the
// run and does not match (Skip with a digest) wraps one too, and leaves
// that file as it is.
type ChecksumError struct {
	Want, Got string
}

// Error shows both digests.
func (e *ChecksumError) Error() string {
	return fmt.Sprintf("sha256 mismatch: expected %s, got %s", e.Want, e.Got)
}

// redirectSchemeError refuses a redirect to a scheme other than http(s).
type redirectSchemeError struct{ URL string }

func (e *redirectSchemeError) Error() string {
	return fmt.Sprintf("refused a redirect to %s: only http and https are followed", e.URL)
}

// redirectedError is a request that failed at the URL a redirect led to,
// which is not the item's own: the message names it, its password
// redacted, before the reason.
type redirectedError struct {
	url string // redacted
	err error
}

func (e *redirectedError) Error() string {
	return "redirected to " + e.url + ": " + describe(e.err)
}

func (e *redirectedError) Unwrap() error { return e.err }

// shortBodyError is a body that ended before its announced length.
type shortBodyError struct{ got, want int64 }

func (e *shortBodyError) Error() string {
	return fmt.Sprintf("body ended after %d of %d bytes", e.got, e.want)
}

// partCutError is a part found shorter than the bytes fetchpool had
// written to it: another program cut it (its lock is only advisory), and
// the bytes written after that would leave a hole of zeros where the cut
// ones were. The next attempt resumes from what is left.
type partCutError struct {
	part          string
	size, written int64
}

func (e *partCutError) Error() string {
	return fmt.Sprintf("%s was cut to %d of its %d bytes by another program while fetchpool wrote it: make sure that no other program writes to it, then run again",
		e.part, e.size, e.written)
}

// checkPart returns a *partCutError when f, the part at path, holds fewer
// than written bytes: fewer than fetchpool wrote to it.
func checkPart(f *partFile, path string, written int64) error {
	size, err := partSize(f)
	if err != nil {
		return fmt.Errorf("checking %s: %w", path, err)
	}
	if size < written {
		return &partCutError{part: path, size: size, written: written}
	}
	return nil
}

// stallError aborts an attempt that received nothing for too long.
type stallError struct{ d time.Duration }

func (e *stallError) Error() string {
	return "no data received for " + seconds(e.d) + " (--stall-timeout)"
}

// Timeout reports true: it is one, for a caller that asks as of a
// net.Error.
func (e *stallError) Timeout() bool { return true }

// timeoutError aborts an attempt that outlasted --timeout.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string {
	return "attempt timed out after " + seconds(e.d) + " (--timeout)"
}

// Timeout reports true, as stallError's does.
func (e *timeoutError) Timeout() bool { return true }

// retryAfterError fails an item whose server asked for too long a wait.
type retryAfterError struct {
	wait, max time.Duration
	cause     error
}

func (e *retryAfterError) Error() string {
	return fmt.Sprintf("%v: server asked to wait %v (Retry-After), more than --max-retry-wait %v", e.cause, wholeSeconds(e.wait), e.max)
}

// wholeSeconds is d rounded up to whole seconds, the resolution of
// Retry-After: a date leaves nanoseconds that say nothing, and rounding
// down could show a wait no longer than the cap it exceeds.
func wholeSeconds(d time.Duration) time.Duration {
	w := d.Truncate(time.Second)
	if w < d && w <= math.MaxInt64-time.Second {
		w += time.Second
	}
	return w
}

func (e *retryAfterError) Unwrap() error { return e.cause }

// diskFullError is a write that found no room: no space (ENOSPC, EDQUOT)
// or a file size limit (EFBIG).
type diskFullError struct {
	path     string
	err      error
	kept     string // the part kept for a resume, "" when none was (removeIfFull)
	noInodes bool   // ENOSPC from a file system with no free inode: room for bytes, not files
	need     int64  // the size reserved for a split's whole part that did not fit, 0 for a write
	fsMax    bool   // EFBIG with no file size limit set: the file system's largest file
}

// isDiskFull tells whether err is, or wraps, a *diskFullError.
func isDiskFull(err error) bool {
	var disk *diskFullError
	return errors.As(err, &disk)
}

// Error says what was being written, what ran out, what to do, and, when
// the part was kept, that the next run resumes it.
func (e *diskFullError) Error() string {
	var msg string
	if errors.Is(e.err, syscall.EFBIG) && e.fsMax && e.need > 0 {
		msg = fmt.Sprintf("file too large for the file system: %s needs %d bytes, more than a file there can hold (FAT32: 4 GiB at most); save it on another file system (-o DIR) and run again",
			e.path, e.need)
	} else if errors.Is(e.err, syscall.EFBIG) && e.fsMax {
		// The file system's largest file, not a full disk: ulimit -f is
		// no cure.
		msg = fmt.Sprintf("file too large for the file system writing %s: it holds no file that large (FAT32: 4 GiB at most); save it on another file system (-o DIR) and run again",
			e.path)
	} else if errors.Is(e.err, syscall.EFBIG) {
		// The process's file size limit (ulimit -f), not a full disk.
		msg = fmt.Sprintf("file size limit reached writing %s: %v; raise the file size limit (ulimit -f) and run again",
			e.path, withoutPath(e.err))
	} else if e.noInodes {
		// Room for bytes but not for another file: df -h shows space.
		msg = fmt.Sprintf("disk full writing %s: no free inodes (the file system has room for no more files: see df -i); remove some files and run again", e.path)
	} else if e.need > 0 && (errors.Is(e.err, syscall.ENOSPC) || noSpace(e.err)) {
		// Found before the first byte (allocate): say how much is missing.
		msg = fmt.Sprintf("disk full: %s needs %d bytes (the whole file, reserved before the ranges start), more than the disk has free; free some space and run again", e.path, e.need)
	} else {
		msg = fmt.Sprintf("disk full writing %s: %v; free some space and run again", e.path, withoutPath(e.err))
	}
	if e.kept != "" {
		msg += ": the download resumes from " + e.kept
	}
	return msg
}
func (e *diskFullError) Unwrap() error { return e.err }

// writeError is any other failure to write the part.
type writeError struct {
	path    string
	err     error
	file    string // the file where a directory above path should be, if known
	badName bool   // the file system refuses the name (EINVAL from open)
}

func (e *writeError) Error() string {
	if e.file != "" {
		return fmt.Sprintf("writing %s: %s is a file, not a directory; move it out of the way and run again", e.path, e.file)
	}
	if e.badName {
		return fmt.Sprintf(`writing %s: %v: the file system does not take this name (FAT and exFAT refuse \ : * ? " < > | in names); give the item a name of its own (URL<TAB>NAME) or save it on another file system`,
			e.path, withoutPath(e.err))
	}
	return withFDHint(fmt.Sprintf("writing %s: %v", e.path, withoutPath(e.err)), e.err)
}

// withFDHint adds to msg what to do when err is running out of file
// descriptors, which fails every item left alike.
func withFDHint(msg string, err error) string {
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		return msg + ": lower -j, or raise the limit on open files (ulimit -n)"
	}
	return msg
}

// withoutPath is err without the operation and path of an *fs.PathError,
// which the messages above already name.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
func (e *writeError) Unwrap() error { return e.err }

// readError is a failure reading a response body: the network's fault.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// rangeError is a response that does not fit the range asked for.
type rangeError struct{ msg string }

func (e *rangeError) Error() string { return e.msg }

// changedError says the resource changed under a split transfer. Whether
// the item starts over is for the retry to say, not the error: it is also
// the reason of a last attempt.
type changedError struct{}

func (changedError) Error() string {
	return "the file changed on the server during the transfer"
}

// InterruptedError ends a transfer whose context was cancelled while it
// ran. It unwraps to the context's error.
type InterruptedError struct {
	// Part is the .part file kept for a later resume, "" when there is none
	// (nothing arrived yet, or a local copy, which starts over anyway).
	Part string
	Err  error
}

// Error says "interrupted", and which part is kept.
func (e *InterruptedError) Error() string {
	if e.Part == "" {
		return "interrupted"
	}
	return "interrupted, " + e.Part + " kept for a resume"
}

// Unwrap returns the context's error.
func (e *InterruptedError) Unwrap() error { return e.Err }

// stoppedError is an item left unfinished because a shutdown began before
// its next attempt (ErrStopped); the part, if any, is kept.
type stoppedError struct {
	part string
	err  error // the attempts so far
}

func (e *stoppedError) Error() string {
	why := e.err.Error() + "; " + ErrStopped.Error()
	if errors.As(e.err, new(*unsentError)) {
		why = e.err.Error() + ": stopping" // nothing failed, nothing to retry
	}
	if e.part == "" {
		return why
	}
	return why + ", " + e.part + " kept for a resume"
}

func (e *stoppedError) Is(target error) bool { return target == ErrStopped }

func (e *stoppedError) Unwrap() error { return e.err }

// attemptsError is the final error of an item after one or more attempts:
// each attempt's reason, compactly, and errors.Is/As reach the last one.
type attemptsError struct {
	errs []error
}

func (e *attemptsError) Error() string {
	if len(e.errs) == 1 {
		return describe(e.errs[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "after %d attempts: ", len(e.errs))
	for i := 0; i < len(e.errs); {
		msg := describe(e.errs[i])
		j := i + 1
		for j < len(e.errs) && describe(e.errs[j]) == msg {
			j++
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(msg)
		if j-i > 1 {
			fmt.Fprintf(&b, " (×%d)", j-i)
		}
		i = j
	}
	return b.String()
}

func (e *attemptsError) Unwrap() error { return e.errs[len(e.errs)-1] }

// describedError is err in the words of describe, for the line that
// announces a retry (-v): the same words as the item's final failure, not
// Go's plumbing. errors.Is and errors.As still see err.
type describedError struct{ err error }

func (e *describedError) Error() string { return describe(e.err) }

func (e *describedError) Unwrap() error { return e.err }

// keptError is a failed item whose part holds bytes a later run resumes:
// the message says so, as an interrupted item's does.
type keptError struct {
	part string
	err  error
}

func (e *keptError) Error() string {
	return e.err.Error() + "; " + e.part + " kept: run again to resume"
}

func (e *keptError) Unwrap() error { return e.err }

// seconds formats d as "60s" when it is whole seconds, else as Go does.
func seconds(d time.Duration) string {
	if d > 0 && d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}
