package pool

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// maxDirs bounds the directories a run remembers having made: a
// --keep-paths run over many directories makes the later ones again (one
// stat each) rather than keeping every name.
const maxDirs = 4096

// dirs makes the directories that files land in, each once per run rather
// than once per file: the output directory, which exists before the run,
// never; another only the first time a file goes there.
//
// It also tells whether the output directory was empty when the run began.
// Then nothing under it predates the run: no destination exists "before the
// run" (--on-exists), no part or sidecar of an earlier run is there, and
// the files the run itself writes have reserved names. Admission then skips
// the two look-ups per item (the destination, the sidecar), which cost a
// failed path lookup each in a directory that the workers are filling.
type dirs struct {
	root  string // the output directory, cleaned
	empty bool   // root had no entries (or did not exist) at the start

	mu   sync.Mutex
	made map[string]struct{}
}

func newDirs(root string) *dirs {
	d := &dirs{root: filepath.Clean(root), made: make(map[string]struct{})}
	d.empty = isEmptyDir(d.root)
	return d
}

// isEmptyDir reports whether dir has no entries or does not exist; false
// when that cannot be told.
func isEmptyDir(dir string) bool {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	return errors.Is(err, io.EOF)
}

// make creates dir and its parents unless this run has already.
func (d *dirs) make(dir string) error {
	if dir == d.root {
		return nil
	}
	d.mu.Lock()
	_, ok := d.made[dir]
	d.mu.Unlock()
	if ok {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if nerr := notADirectory(d.root, dir); nerr != nil {
			return nerr
		}
		return err
	}
	d.mu.Lock()
	if len(d.made) < maxDirs {
		d.made[dir] = struct{}{}
	}
	d.mu.Unlock()
	return nil
}

// notADirectory explains why dir cannot be made: the first path from root
// down to dir that exists and is not a directory (a file saved earlier
// where dir needs a directory), or that is a broken symbolic link, which
// MkdirAll reports only as "file exists". It is nil when there is none.
func notADirectory(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return nil
	}
	path := root
	for _, elem := range strings.Split(rel, string(filepath.Separator)) {
		path = filepath.Join(path, elem)
		fi, err := os.Stat(path)
		if err != nil {
			if target, lerr := os.Readlink(path); lerr == nil {
				return fmt.Errorf("%s is a broken symbolic link to %s, not a directory; remove it or create its target", path, target)
			}
			return nil
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is a file, not a directory; move it away or give the item another name", path)
		}
	}
	return nil
}
