package pool

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/input"
)

// stepSource hands out one item each time the test sends one, and ends
// when the channel is closed: the test decides when each is admitted.
type stepSource chan input.Item

func (s stepSource) Next() (input.Item, error) {
	it, ok := <-s
	if !ok {
		return input.Item{}, io.EOF
	}
	return it, nil
}

// dispositionFetcher plays a server that names some items in
// Content-Disposition: it asks Rename for the name, and either saves the
// item there or, for the URLs in cut, fails leaving the part under the
// name the item was admitted with, as a transfer cut short does.
type dispositionFetcher struct {
	names map[string]string // URL -> Content-Disposition file name
	cut   map[string]bool
	mu    sync.Mutex
	paths map[string]string // URL -> Request.Path
}

func (f *dispositionFetcher) Fetch(_ context.Context, req fetch.Request) (fetch.Result, error) {
	f.mu.Lock()
	f.paths[req.URL] = req.Path
	f.mu.Unlock()
	res := fetch.Result{Path: req.Path, Attempts: 1, HTTPStatus: 200}
	if name, ok := f.names[req.URL]; ok && req.Rename != nil {
		dest, err := req.Rename(name)
		if err != nil {
			return res, err
		}
		res.Path = dest.Path
	}
	if f.cut[req.URL] {
		if err := os.WriteFile(req.Path+".part", []byte("half"), 0o644); err != nil {
			return res, err
		}
		return res, errors.New("connection reset")
	}
	return res, nil
}

func (f *dispositionFetcher) path(url string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.paths[url]
}

// TestRunContentDispositionReleasesName: an item that its server names
// otherwise in Content-Disposition saves nothing under the name derived
// from its URL, so once it is over, a later item whose URL derives that
// name gets it without a suffix; unless the part the first item wrote
// under that name is still there, for a resume.
func TestRunContentDispositionReleasesName(t *testing.T) {
	const (
		first = "http://h.test/get/report?id=1" // named Q3.pdf by its server
		later = "http://h.test/mirror/report"
	)
	tests := []struct {
		name       string
		cut        bool // the first transfer fails and keeps report.part
		otherFiles bool // the output directory is not empty at the start
		want       string
	}{
		{"saved under the server's name", false, false, "report"},
		{"in a directory with other files", false, true, "report"},
		{"part kept under the first name", true, false, "report.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.otherFiles {
				if err := os.WriteFile(filepath.Join(dir, "unrelated.txt"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f := &dispositionFetcher{names: map[string]string{first: "Q3.pdf"}, cut: map[string]bool{first: tt.cut},
				paths: map[string]string{}}
			rec := &recorder{}
			src := make(stepSource)
			done := make(chan error, 1)
			go func() {
				done <- Run(context.Background(), context.Background(), src, f,
					Options{Concurrency: 1, OutputDir: dir, Emit: rec.emit})
			}()
			src <- input.Item{URL: first, Source: "arg", Line: 1}
			waitFor(t, "the first item to finish", func() bool { return rec.count(event.Finished) == 1 })
			src <- input.Item{URL: later, Source: "arg", Line: 2}
			close(src)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got, want := f.path(first), filepath.Join(dir, "report"); got != want {
				t.Fatalf("first item admitted as %s, want %s", got, want)
			}
			if got, want := f.path(later), filepath.Join(dir, tt.want); got != want {
				t.Errorf("later item saved as %s, want %s", got, want)
			}
			if tt.cut {
				if b, err := os.ReadFile(filepath.Join(dir, "report.part")); err != nil || string(b) != "half" {
					t.Errorf("the first item's part is %q (%v), want it untouched", b, err)
				}
			}
		})
	}
}
