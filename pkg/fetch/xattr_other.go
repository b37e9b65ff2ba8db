//go:build !linux

package fetch

import (
	"os"
	"time"
)

// writeETag does nothing where extended attributes are not wired up; `newer`
// then relies on the mtime alone.
func writeETag(path, etag string) {}

// setETag does nothing, as writeETag.
func setETag(f *partFile, etag string) {}

// setModTime sets the mtime of an open file, best effort, by its name.
func setModTime(f *partFile, mtime time.Time) { _ = os.Chtimes(f.Name(), time.Time{}, mtime) }

// readETag returns "": no ETag is stored on this platform.
func readETag(path string) string { return "" }
