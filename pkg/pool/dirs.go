package pool

import (
	"os"
	"path/filepath"
	"sync"
)

// maxDirs bounds the directories a run remembers having made: a
// --keep-paths run over many directories makes the later ones again (one
// stat each) rather than keeping every name.
const maxDirs = 4096

// dirs makes the directories that files land in, each once per run rather
// than once per file: the output directory, which exists before the run,
// never; another only the first time a file goes there.
type dirs struct {
	root string // the output directory, cleaned

	mu   sync.Mutex
	made map[string]struct{}
}

func newDirs(root string) *dirs {
	return &dirs{root: filepath.Clean(root), made: make(map[string]struct{})}
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
		return err
	}
	d.mu.Lock()
	if len(d.made) < maxDirs {
		d.made[dir] = struct{}{}
	}
	d.mu.Unlock()
	return nil
}
