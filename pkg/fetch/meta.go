package fetch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"syscall"

	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/naming"
)

// Meta is the sidecar of a .part file (PATH.part.meta, JSON): what the part
// holds, so that a resume asks for the rest of the same resource.
type Meta struct {
	// URL is the item's URL; on disk its password is written as xxxxx
	// (input.RedactPassword), as on the terminal: the sidecar lies in the
	// output directory, which CI jobs often publish. Compare it with For.
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Length is the full size of the resource, -1 if unknown.
	Length int64 `json:"length"`
	// Spans are the ranges of a split transfer and how far each got; empty
	// for a single stream, whose progress is the part's size.
	Spans []Span `json:"spans,omitempty"`
	// Name is the file name that the server gave in the Content-Disposition
	// of the response that began the part (not sanitized), "" if none: a
	// part found whole by a later run lands under it, though the 416 that
	// says so seldom repeats it.
	Name string `json:"name,omitempty"`
}

// Span is one range of a split transfer: bytes [Start, End) of which
// [Start, Next) are in the part.
type Span struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Next  int64 `json:"next"`
}

// For reports whether m is the sidecar of a part of url: its URL is url,
// the passwords aside (a sidecar keeps none).
func (m Meta) For(url string) bool {
	return m.URL == url || input.RedactPassword(m.URL) == input.RedactPassword(url)
}

// shownURL is m's URL for a message: without its password (a sidecar
// written before the passwords were left out may hold one).
func (m Meta) shownURL() string { return input.RedactPassword(m.URL) }

// metaSuffix names the sidecar of a part.
const metaSuffix = naming.MetaSuffix

// metaTempSuffix names the temporary file through which writeMeta replaces
// a sidecar (PATH.part.meta.tmp). A run killed between its write and its
// rename leaves it behind; removeSidecar removes it with the sidecar.
const metaTempSuffix = naming.MetaTempSuffix

// ErrSidecarNotFile is the error of ReadMeta for a sidecar name taken by
// something other than a regular file: a directory, a named pipe, a device.
// It is not fetchpool's, nor any part beside it.
var ErrSidecarNotFile = errors.New("not a regular file")

// maxMetaSize bounds what ReadMeta reads: a sidecar is a line of JSON, and
// a huge file under its name is not one.
const maxMetaSize = 1 << 20

// ReadMeta reads the sidecar of the part at partPath (the sidecar is
// partPath+".meta"). It fails with an error wrapping fs.ErrNotExist when
// there is none, and with one wrapping ErrSidecarNotFile when the name is
// not a regular file: it opens the sidecar without waiting, so that a
// named pipe there does not hang the run.
func ReadMeta(partPath string) (Meta, error) {
	path := partPath + metaSuffix
	f, err := openFile(path, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return Meta{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Meta{}, fmt.Errorf("reading %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return Meta{}, fmt.Errorf("%s: %w", path, ErrSidecarNotFile)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxMetaSize))
	if err != nil {
		return Meta{}, fmt.Errorf("reading %s: %w", path, err)
	}
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil {
		return Meta{}, fmt.Errorf("reading %s: %w", partPath+metaSuffix, err)
	}
	return m, nil
}

// writeMeta replaces the sidecar of partPath atomically, through a
// temporary file: the progress of a split part is rewritten in place of a
// good record, which a crash must not tear. A temporary file that could not
// be written whole (a full disk) is removed; a symbolic link in its place is
// left alone.
func writeMeta(partPath string, m Meta) error {
	m.URL = input.RedactPassword(m.URL)
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := partPath + metaTempSuffix
	if err := writeFile(tmp, data); err != nil {
		if !errors.Is(err, errSymlink) {
			_ = os.Remove(tmp)
		}
		return err
	}
	if err := renameFile(tmp, partPath+metaSuffix); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("saving %s: %w", partPath+metaSuffix, err)
	}
	return nil
}

// createMeta writes the sidecar of partPath directly. It is for a sidecar
// that records the start of a part, where a crash that tears it costs
// nothing: a torn sidecar is not valid JSON, and a part whose sidecar does
// not parse is restarted from zero, as the part was going to be anyway.
func createMeta(partPath string, m Meta) error {
	m.URL = input.RedactPassword(m.URL)
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeFile(partPath+metaSuffix, data)
}

// writeFile writes data to path, creating or truncating it; not through
// a symbolic link, nor into a named pipe, whose open would wait for a
// reader (nonBlock makes it fail at once), nor through a hard link: a
// sidecar linked to another file (a snapshot made with cp -al) has its
// name let go and a file of its own made, as lockPart does for a part.
func writeFile(path string, data []byte) error {
	f, err := openOwnFile(path)
	if errors.Is(err, syscall.ELOOP) {
		err = errSymlink
	}
	if err != nil {
		return classifyWrite(path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return classifyWrite(path, err)
	}
	return nil
}

// openOwnFile opens path for writing, created or emptied, like
// O_CREATE|O_TRUNC, except that a regular file there that is a hard link
// of another one is removed first rather than emptied, which would empty
// the other file too.
func openOwnFile(path string) (*os.File, error) {
	flag := os.O_WRONLY | os.O_CREATE | noFollow | nonBlock
	for range 3 { // the links removed, another that appears meanwhile is not waited out
		f, err := openFile(path, flag, 0o644)
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return f, nil
		}
		if hardLinked(fi) {
			f.Close()
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			continue
		}
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	return openFile(path, flag|os.O_EXCL, 0o644)
}

// metaOf is the validator of a response to u, and the name it gives.
func metaOf(u string, resp *http.Response, length int64) Meta {
	name, _ := naming.FromContentDisposition(resp.Header.Get("Content-Disposition"))
	return Meta{
		URL:          u,
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		Length:       length,
		Name:         name,
	}
}

// ifRange is the If-Range value of m: its ETag when strong (a weak ETag
// never matches in If-Range), else its Last-Modified.
func (m Meta) ifRange() string {
	if m.ETag != "" && !strings.HasPrefix(m.ETag, "W/") {
		return m.ETag
	}
	return m.LastModified
}

// RemoveStalePart removes the part at part and its sidecar when the
// sidecar names url and no transfer holds the part (its lock is free), and
// reports whether it did. It is for an item whose destination is kept
// (--on-exists skip, or newer for a local source that is not newer): a
// part of its own URL beside it was left by a run killed while it replaced
// the destination (--on-exists overwrite), and nothing else would ever
// remove it. A part without a sidecar, or whose sidecar names another URL,
// is not known to be the item's, and is left alone (false, nil), as is
// anything but a regular file under its name; so is one that another
// process is writing, with an error wrapping ErrPartBusy, and, where no
// lock can be taken to tell (a file system without flock, Windows), any
// part: another run may be writing it. A sidecar that names url without a
// part beside it is removed, and reported as no part removed.
func RemoveStalePart(part, url string) (bool, error) {
	l, ok, err := holdLeftPart(part, url)
	if !ok {
		return false, err
	}
	defer l.release()
	// A directory under the part's name is not a part.
	if fi, err := os.Lstat(part); err != nil || !fi.Mode().IsRegular() {
		return false, nil
	}
	if err := os.Remove(part); errors.Is(err, fs.ErrNotExist) {
		return false, nil // where lockPart cannot tell (no flock), a sidecar alone
	} else if err != nil {
		return false, fmt.Errorf("removing %s: %w", part, err)
	}
	removeSidecar(part)
	return true, nil
}

// holdLeftPart locks the part at part, left by an earlier run of the item
// of url, for RemoveStalePart or AdoptPart to remove or move: ok when its
// sidecar names url, before and under the lock, and the lock is the
// caller's alone, which it must release. Else it holds nothing: a part
// that another process writes is an error wrapping ErrPartBusy; a part
// without a sidecar, of another URL, or where no lock can be taken to tell
// (a file system without flock, an NFS server without a lock manager;
// Windows: another run may be writing it) is no error. A sidecar that
// names url without a part beside it (a run killed between removing the
// part and its sidecar) describes nothing, and no run would ever remove it
// beside a file that is kept: it is removed.
func holdLeftPart(part, url string) (l partLock, ok bool, err error) {
	// Not even locked unless the sidecar names url: lockPart lets go of a
	// part that is a hard link (cp -al), which is not this item's to do
	// to a part of another URL.
	if m, err := ReadMeta(part); err != nil || !m.For(url) {
		return partLock{}, false, nil
	}
	l, err = lockPart(part, false)
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Lstat(part); errors.Is(err, fs.ErrNotExist) {
			removeSidecar(part)
		}
		return partLock{}, false, nil
	}
	if err != nil {
		return partLock{}, false, err
	}
	// Read again under the lock: a run that held the part a moment ago
	// may have made it another URL's since.
	if m, err := ReadMeta(part); !l.exclusive || err != nil || !m.For(url) {
		l.release()
		return partLock{}, false, nil
	}
	return l, true, nil
}

// AdoptPart moves the part at from, with its sidecar, to the part at to,
// when the sidecar names url, no transfer holds the part, and neither to
// nor its sidecar exists; it reports whether it did. It is for an item
// saved under another name than the one its own part was left under by
// an interrupted run: with --on-exists rename, NAME.part beside the file
// NAME that is kept, the item being saved as NAME.1.ext. The part is
// resumed under the new name instead of being fetched again from zero, and
// nothing is left under the old one. A sidecar that names url without a
// part beside it is removed (false, nil). Anything else is left as it is:
// a part of another URL, one without a sidecar, one that another process
// writes (an error wrapping ErrPartBusy), and, where no lock can be taken
// to tell, any part.
func AdoptPart(from, to, url string) (bool, error) {
	l, ok, err := holdLeftPart(from, url)
	if !ok {
		return false, err
	}
	defer l.release()
	for _, p := range []string{to, to + metaSuffix} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
	}
	for _, p := range []string{from, from + metaSuffix} {
		// Regular files only: a symbolic link is moved as a link.
		if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
			return false, nil
		}
	}
	// The sidecar first: a crash between the two renames leaves a sidecar
	// without a part under the new name, which its run discards, rather
	// than a part without its sidecar, which might never be resumed. Nor
	// is anything replaced that another run made under the new name since
	// it was found free: that run's part is left to it.
	if err := renameNoReplace(from+metaSuffix, to+metaSuffix); errors.Is(err, fs.ErrExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("moving %s to %s: %w", from+metaSuffix, to+metaSuffix, err)
	}
	if err := renameNoReplace(from, to); err != nil {
		_ = renameFile(to+metaSuffix, from+metaSuffix) // back beside its part
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("moving %s to %s: %w", from, to, err)
	}
	_ = os.Remove(from + metaTempSuffix)
	return true, nil
}

// removePart removes a part and its sidecar; a missing file is fine.
func removePart(part string) {
	_ = os.Remove(part)
	removeSidecar(part)
}

// removeSidecar removes the sidecar of part, and the temporary file of a
// sidecar replaced when a run was killed (metaTempSuffix), so that nothing
// of the part is left beside the file once it is in place; a missing file
// is fine.
func removeSidecar(part string) {
	_ = os.Remove(part + metaSuffix)
	_ = os.Remove(part + metaTempSuffix)
}
