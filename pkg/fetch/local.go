package fetch

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// copyLocal copies a local file the way a download goes: into the part,
// verified, renamed into place, with the source's mtime. Copying a file
// onto itself leaves it as it is.
func (c *Client) copyLocal(ctx context.Context, req Request, path string) (Result, error) {
	res := Result{Path: req.Path, Attempts: 1}
	(&emitter{emit: req.Emit}).send(event.Event{Kind: event.Attempt, Attempt: 1})
	if req.Began != nil {
		req.Began()
	}
	src, fi, err := openSource(path)
	if err != nil {
		return res, err
	}
	defer src.Close()
	if req.Progress != nil && fi.Mode().IsRegular() {
		req.Progress.SetTotal(fi.Size())
	}
	h := c.newHash(req)
	if dfi, err := os.Stat(req.Path); err == nil {
		if os.SameFile(fi, dfi) {
			return c.verifyInPlace(ctx, req, src, dfi.Size(), h, res)
		}
		// In whole seconds, as Last-Modified is (newerThan) and as rsync
		// compares: a copy on a file system that keeps whole seconds
		// only (exfat, HFS+) lost the fraction of its source's mtime,
		// and one on FAT, its odd second.
		if req.IfNewer && !laterThanStored(fi.ModTime(), dfi.ModTime(), onFAT(req.Path)) {
			if !req.NoSidecar {
				// A part of its own, left by a run killed while it
				// replaced the file, holds a copy that is not newer
				// either, as after a 304 (Request.IfNewer); one of
				// another item, or that a process writes, stays.
				res.StaleRemoved, _ = RemoveStalePart(req.Path+".part", req.URL)
			}
			res.Skipped = true
			return res, nil
		}
	}
	part := req.Path + ".part"
	if m, err := ReadMeta(part); err == nil && m.URL != "" && !m.For(req.URL) {
		return res, fmt.Errorf("%s: %w (%s); it is left untouched", part, ErrPartInUse, m.shownURL())
	}
	if pfi, err := os.Stat(part); err == nil && os.SameFile(fi, pfi) {
		return res, fmt.Errorf("cannot copy %s onto its own .part", path)
	}

	// Held until the copy is in place, as a download holds its part
	// (see own): another run copying into the same name fails instead.
	lock, err := holdPart(part, true)
	if err != nil {
		return res, err
	}
	defer lock.release()
	if fi.Size() > MaxPartWithoutSidecar {
		// A copy killed halfway leaves a part that the next run must
		// know for its own, to copy it again under the same name, not
		// take for another program's file and save beside it
		// (MaxPartWithoutSidecar). A copy starts over: the sidecar only
		// names the item.
		if err := createMeta(part, Meta{URL: req.URL, Length: fi.Size()}); err != nil {
			removePart(part)
			return res, err
		}
	}
	f, err := openPart(part, 0)
	if err != nil {
		removePart(part) // and the sidecar just written
		return res, err
	}
	var r io.Reader = src
	if c.cfg.Throttle != nil {
		r = c.cfg.Throttle.Reader(ctx, src) // --limit-rate caps copies too
	}
	n, err := c.copyBody(ctx, f, 0, r, -1, h, req.Progress)
	res.Bytes = n
	if err == nil {
		err = checkPart(f, part, n) // cut after the last write (see receive)
	}
	if err == nil {
		err = closePart(f)
	}
	f.Close()
	if err != nil {
		removePart(part)
		return res, localCopyError(ctx, path, err)
	}
	res.Size = n
	if res.SHA256, err = checkDigest(req.SHA256, h); err != nil {
		removePart(part)
		return res, err
	}
	if err := lock.check(part); err != nil {
		return res, err
	}
	setModTimePath(part, fi.ModTime())
	if !req.NoFile {
		keepMode(part, req.Path)
	}
	if err := renameFile(part, req.Path); err != nil {
		removePart(part)
		var dir *placeDirError
		if perr := placeError(part, req.Path, err); errors.As(perr, &dir) {
			dir.removed = true // a copy is made again, not resumed
			return res, dir
		}
		return res, fmt.Errorf("moving %s into place: %w", part, err)
	}
	removeSidecar(part)
	return res, nil
}

// openSource opens a local file to copy; it must exist and be a regular
// file. A FIFO or device is refused before it is opened: opening a FIFO
// waits, uninterruptibly, for a writer, and a device such as /dev/zero
// never ends.
func openSource(path string) (*os.File, fs.FileInfo, error) {
	if fi, err := os.Stat(path); err == nil {
		if err := checkRegular(path, fi); err != nil {
			return nil, nil, err
		}
	}
	src, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) || invalidName(err) {
		return nil, nil, &notFoundError{path: path}
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // its "open PATH: " would name the file twice
		}
		if errors.Is(err, fs.ErrPermission) {
			return nil, nil, fmt.Errorf("cannot read %s: %w (check its permissions, and those of its directories)", path, err)
		}
		if errors.Is(err, syscall.ENAMETOOLONG) {
			// The item names the path already: a path of thousands of
			// bytes, quoted again, made a message twice its length.
			return nil, nil, fmt.Errorf("cannot open the file: its path (%d bytes) is longer than the system allows: %w", len(path), err)
		}
		return nil, nil, fmt.Errorf("opening %s: %w", path, err)
	}
	fi, err := src.Stat()
	if err != nil {
		src.Close()
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := checkRegular(path, fi); err != nil {
		src.Close()
		return nil, nil, err
	}
	return src, fi, nil
}

// checkRegular refuses a local source that is not a regular file, saying
// what it is.
func checkRegular(path string, fi fs.FileInfo) error {
	m := fi.Mode()
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return fmt.Errorf("%s is a directory, not a file", path)
	case m&fs.ModeNamedPipe != 0:
		return fmt.Errorf("%s is a named pipe, not a regular file: only regular files are copied", path)
	case m&fs.ModeDevice != 0:
		return fmt.Errorf("%s is a device, not a regular file: only regular files are copied", path)
	}
	return fmt.Errorf("%s is not a regular file (%s): only regular files are copied", path, m.Type())
}

// verifyInPlace handles a copy of a file onto itself: nothing moves; the
// file is only hashed and checked when a digest is wanted. Its bytes are
// counted as any local copy's, whole: the line of the item shows its size,
// and the summary's bytes must not say less.
func (c *Client) verifyInPlace(ctx context.Context, req Request, src *os.File, size int64, h hash.Hash, res Result) (Result, error) {
	res.Size, res.Bytes = size, size
	req.Progress.SetDone(size)
	if h == nil {
		return res, nil
	}
	if _, err := c.hashReader(ctx, h, src); err != nil {
		return res, localCopyError(ctx, req.Path, &readError{err: err})
	}
	var err error
	res.SHA256, err = checkDigest(req.SHA256, h)
	return res, err
}

// localCopyError words a failed local copy.
func localCopyError(ctx context.Context, path string, err error) error {
	if ctx.Err() != nil {
		return &InterruptedError{Err: ctx.Err()}
	}
	var re *readError
	if errors.As(err, &re) {
		return fmt.Errorf("reading %s: %w", path, re.err)
	}
	return err
}

// checkDigest returns the hex digest of h (nil h: "") and a
// *ChecksumError when it is not want ("" = anything goes).
func checkDigest(want string, h hash.Hash) (string, error) {
	if h == nil {
		return "", nil
	}
	got := hex.EncodeToString(h.Sum(nil))
	if want != "" && !strings.EqualFold(got, want) {
		return got, &ChecksumError{Want: strings.ToLower(want), Got: got}
	}
	return got, nil
}

// CheckSource tells, without sending anything, how Fetch would fail an
// item before its first byte for want of a source: a local path or file://
// URL that is missing, unreadable, a directory, a pipe or a device, or a
// URL that Fetch does not take, in Fetch's words. It is nil for an http(s)
// URL, and for a regular local file that can be read. A dry run uses it.
func CheckSource(raw string) error {
	src, err := classify(raw)
	if err != nil || src.local == "" {
		return err
	}
	// The open a real run makes, which opens nothing but a regular file.
	f, _, err := openSource(src.local)
	if err == nil {
		f.Close()
	}
	return err
}

// notFoundError is a local item that does not exist.
type notFoundError struct{ path string }

func (e *notFoundError) Error() string {
	if quoted(e.path) {
		// A list copied from a shell script or JSON: no shell took the
		// quotes off.
		return "no such file: " + e.path + " (a list takes items without quotes: write " + e.path[1:len(e.path)-1] + ")"
	}
	if strings.Contains(e.path, "://") {
		// Most likely a URL with something before it, as "- https://...".
		return "no such file: " + e.path + " (nor a URL: a URL must start with http://, https:// or file://)"
	}
	if target, err := os.Readlink(e.path); err == nil {
		return e.path + " is a broken symbolic link: " + target + " does not exist"
	}
	if e.path == "-" {
		return "no such file: - (a list on standard input is read with -i -, or when no item is given)"
	}
	if e.path == "version" || e.path == "help" {
		// fetchpool has no such subcommands: a user who expected one.
		return "no such file: " + e.path + " (for fetchpool's " + e.path + ", run fetchpool --" + e.path + ")"
	}
	if e.path == "~" || strings.HasPrefix(e.path, "~") && strings.ContainsAny(e.path, "/"+string(os.PathSeparator)) {
		// From a list, or quoted: no shell made it a home directory.
		return "no such file: " + e.path + " (a leading ~ is not expanded outside a shell: write the full path)"
	}
	if schemeless(e.path) {
		return "no such file: " + e.path + " (nor a URL: a URL needs its scheme, as in https://" + e.path + ")"
	}
	return "no such file: " + e.path
}

// quoted reports whether s is wrapped in a pair of double or single quotes.
func quoted(s string) bool {
	return len(s) >= 3 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0]
}

// schemeless reports whether path reads as a URL without its scheme,
// as curl and wget take "example.com/x": a first segment that is a host
// name with a dot (or localhost), or an IPv4 address, optionally with a
// port, followed by a path, or a host name starting with "www.". A first
// segment that is a local directory is a path, whatever its name.
func schemeless(path string) bool {
	first, rest, slash := strings.Cut(path, "/")
	host, port, hasPort := strings.Cut(first, ":")
	if hasPort && (port == "" || strings.Trim(port, "0123456789") != "") {
		return false
	}
	// "notes.txt" alone is a file name far more often than a host.
	www := strings.HasPrefix(strings.ToLower(host), "www.")
	if !hasPort && !www && (!slash || rest == "") {
		return false
	}
	if !hostName(host) {
		return false
	}
	if fi, err := os.Stat(first); err == nil && fi.IsDir() {
		return false
	}
	return true
}

// hostName reports whether s is localhost, an IPv4 address, or a DNS name
// of at least two labels whose last one is letters.
func hostName(s string) bool {
	if strings.EqualFold(s, "localhost") {
		return true
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-') {
				return false
			}
		}
	}
	if net.ParseIP(s) != nil {
		return true
	}
	tld := labels[len(labels)-1]
	return len(tld) >= 2 && strings.Trim(strings.ToLower(tld), "abcdefghijklmnopqrstuvwxyz") == ""
}

func (e *notFoundError) Unwrap() error { return fs.ErrNotExist }
