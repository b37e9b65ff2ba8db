//go:build !linux

package fetch

import (
	"os"
	"time"
)

// setModTime sets the mtime of an open file, best effort, by its name.
func setModTime(f *partFile, mtime time.Time) { setModTimePath(f.Name(), mtime) }

// setModTimePath sets the mtime of path, best effort, and the atime to now
// (see the Linux modTimes for why both). os.Chtimes counts in
// nanoseconds since 1970, which wrap before 1678 and after 2262: such a
// date is left unset rather than set wrong.
func setModTimePath(path string, mtime time.Time) {
	if mtime.Year() < 1678 || mtime.Year() > 2261 {
		return
	}
	_ = os.Chtimes(path, time.Now(), mtime)
}
