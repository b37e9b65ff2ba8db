//go:build unix

package pool

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/input"
)

// TestRunSidecarNotAFile: a sidecar name (NAME.part.meta) taken by a named
// pipe or a directory makes the name taken, as a part that is not a file
// does: the item saves under the next free name. Before, a pipe there hung
// the run for ever in the open of the sidecar (past Ctrl-C and a second
// Ctrl-C), and a directory failed the item with "removing the old
// x.part.meta: directory not empty" at every run.
func TestRunSidecarNotAFile(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.bin.part.meta"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "dir.bin.part.meta", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "other"), nil, 0o644); err != nil {
		t.Fatal(err) // the directory is not empty at the start
	}
	f := &fakeFetcher{}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), context.Background(),
			input.NewReader([]string{"http://a.test/pipe.bin", "http://a.test/dir.bin"}, nil), f,
			Options{Concurrency: 1, OutputDir: dir})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the run hung on a sidecar that is a named pipe")
	}
	if want := []string{filepath.Join(dir, "pipe.1.bin"), filepath.Join(dir, "dir.1.bin")}; !slices.Equal(f.paths, want) {
		t.Errorf("saved %v, want %v", f.paths, want)
	}
}
