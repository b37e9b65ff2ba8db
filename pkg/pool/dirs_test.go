package pool

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/input"
)

func TestDirsMadeOncePerRun(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	d := newDirs(root + "/")
	// The output directory is the caller's: not made, not even looked at.
	if err := d.make(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); err == nil {
		t.Fatal("the output directory was made by the pool")
	}
	sub := filepath.Join(root, "a", "b")
	if err := d.make(sub); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sub); err != nil || !fi.IsDir() {
		t.Fatalf("%s not made: %v", sub, err)
	}
	// Made once: removed behind the run's back, it is not made again (the
	// fetch makes it when it opens the part).
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if err := d.make(sub); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sub); err == nil {
		t.Error("a directory made before was made again")
	}
	// A file where a directory should be is an error.
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.make(filepath.Join(blocked, "x")); err == nil {
		t.Error("no error making a directory under a file")
	}
}

func TestDirsRemembersAtMostMaxDirs(t *testing.T) {
	root := t.TempDir()
	d := newDirs(root)
	for i := range maxDirs + 10 {
		if err := d.make(filepath.Join(root, strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.made) != maxDirs {
		t.Errorf("%d directories remembered, want at most %d", len(d.made), maxDirs)
	}
	// One it could not remember is made again when needed.
	last := filepath.Join(root, strconv.Itoa(maxDirs+9))
	if err := os.Remove(last); err != nil {
		t.Fatal(err)
	}
	if err := d.make(last); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(last); err != nil {
		t.Errorf("%s not made again: %v", last, err)
	}
}

// gatedSource yields its items, each only after the previous one was
// fetched, so admission cannot run ahead of the transfers.
type gatedSource struct {
	urls    []string
	fetched chan struct{}
	n       int
}

func (s *gatedSource) Next() (input.Item, error) {
	if s.n == len(s.urls) {
		return input.Item{}, io.EOF
	}
	if s.n > 0 {
		<-s.fetched
	}
	s.n++
	return input.Item{URL: s.urls[s.n-1], Source: "-", Line: s.n}, nil
}

// writingFetcher writes each file in place, and also a file that was not
// asked for, as another program writing into the output directory during
// the run would.
type writingFetcher struct {
	also    string
	fetched chan struct{}
	mu      sync.Mutex
	reqs    []fetch.Request
}

func (f *writingFetcher) Fetch(_ context.Context, req fetch.Request) (fetch.Result, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	err := os.WriteFile(req.Path, []byte("x"), 0o644)
	if err == nil && f.also != "" {
		err = os.WriteFile(f.also, []byte("y"), 0o644)
	}
	f.fetched <- struct{}{}
	return fetch.Result{Path: req.Path, Attempts: 1, HTTPStatus: 200}, err
}

// TestRunChecksAnEmptyOutputDirOnce: "a destination that already exists
// before the run" is judged by the output directory at the start. When it
// was empty, no item looks on disk: a file that appears during the run
// under a later item's name is replaced, and the fetch is told that no part
// is there either (Request.NoPart). When it was not empty, each item looks,
// and finds it.
func TestRunChecksAnEmptyOutputDirOnce(t *testing.T) {
	for _, empty := range []bool{true, false} {
		t.Run(fmt.Sprintf("empty=%v", empty), func(t *testing.T) {
			dir := t.TempDir()
			if !empty {
				if err := os.WriteFile(filepath.Join(dir, "old.txt"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f := &writingFetcher{also: filepath.Join(dir, "b.bin"), fetched: make(chan struct{}, 2)}
			src := &gatedSource{urls: []string{"http://a.test/a.bin", "http://a.test/b.bin"}, fetched: f.fetched}
			rec := &recorder{}
			if err := Run(context.Background(), context.Background(), src, f,
				Options{Concurrency: 1, OutputDir: dir, Emit: rec.emit}); err != nil {
				t.Fatal(err)
			}
			res := rec.results()
			wantDone, wantSkipped := 1, 1 // b.bin exists by the time it is admitted
			if empty {
				wantDone, wantSkipped = 2, 0 // but not before the run
			}
			if len(res[event.StatusOK]) != wantDone || len(res[event.StatusSkipped]) != wantSkipped {
				t.Errorf("done %d, skipped %d; want %d, %d", len(res[event.StatusOK]), len(res[event.StatusSkipped]), wantDone, wantSkipped)
			}
			for _, req := range f.reqs {
				if !req.NoSidecar {
					t.Errorf("%s: NoSidecar = false: the fetch looks for a sidecar that cannot be there", req.URL)
				}
				if req.NoPart != empty {
					t.Errorf("%s: NoPart = %v, want %v: only an output directory empty at the start has no part of an earlier run", req.URL, req.NoPart, empty)
				}
			}
		})
	}
}
