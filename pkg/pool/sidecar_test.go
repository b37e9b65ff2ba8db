package pool

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/input"
)

// requestFetcher records the requests it gets.
type requestFetcher struct {
	mu   sync.Mutex
	reqs map[string]fetch.Request // by URL
}

func (f *requestFetcher) Fetch(_ context.Context, req fetch.Request) (fetch.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs[req.URL] = req
	return fetch.Result{Path: req.Path, Attempts: 1, HTTPStatus: 200}, nil
}

// TestRunTellsFetchOfNoSidecar: the pool reads the sidecar of each name it
// reserves, and tells the fetch when there was none, so that it does not
// look again; when there was one (resumable, or one the fetch must judge),
// the fetch reads it itself.
func TestRunTellsFetchOfNoSidecar(t *testing.T) {
	dir := t.TempDir()
	sidecar := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name+".part"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".part.meta"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sidecar("same.bin", `{"url":"http://a.test/same.bin","length":-1}`)
	sidecar("other.bin", `{"url":"http://elsewhere.test/other.bin","length":-1}`)
	sidecar("torn.bin", `{"url":"http://a.te`)
	tests := []struct {
		url, name string
		want      bool
	}{
		{"http://a.test/fresh.bin", "fresh.bin", true},
		{"http://a.test/same.bin", "same.bin", false},    // a part to resume
		{"http://a.test/other.bin", "other.1.bin", true}, // the next name, which has none
		{"http://a.test/torn.bin", "torn.bin", false},    // the fetch discards it
	}
	var urls []string
	for _, tt := range tests {
		urls = append(urls, tt.url)
	}
	f := &requestFetcher{reqs: map[string]fetch.Request{}}
	if err := Run(context.Background(), context.Background(), input.NewReader(urls, nil), f,
		Options{Concurrency: 2, OutputDir: dir}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		req, ok := f.reqs[tt.url]
		if !ok {
			t.Errorf("%s: not fetched", tt.url)
			continue
		}
		if want := filepath.Join(dir, tt.name); req.Path != want {
			t.Errorf("%s: path %s, want %s", tt.url, req.Path, want)
		}
		if req.NoSidecar != tt.want {
			t.Errorf("%s: NoSidecar = %v, want %v", tt.url, req.NoSidecar, tt.want)
		}
		if req.NoPart {
			t.Errorf("%s: NoPart in an output directory that had files at the start", tt.url)
		}
	}
}

// TestSkipBesideAnotherURLsPart: a file that exists is skipped under the
// default --on-exists skip even when a part beside it belongs to another
// URL: that part is left as it is, for its own resume, and nothing is
// written. The item was fetched again under the next free name
// (other.1.bin), a second copy of a file the run was told to keep.
func TestSkipBesideAnotherURLsPart(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"other.bin":           "kept",
		"other.bin.part":      "par",
		"other.bin.part.meta": `{"url":"http://elsewhere.test/other.bin","length":-1}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var results []*event.Result
	f := &requestFetcher{reqs: map[string]fetch.Request{}}
	err := Run(context.Background(), context.Background(), input.NewReader([]string{"http://a.test/other.bin"}, nil), f,
		Options{Concurrency: 1, OutputDir: dir, Emit: func(ev event.Event) {
			if ev.Kind == event.Finished {
				mu.Lock()
				results = append(results, ev.Result)
				mu.Unlock()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if req, ok := f.reqs["http://a.test/other.bin"]; ok {
		t.Errorf("fetched into %s, want it skipped", req.Path)
	}
	if len(results) != 1 || results[0].Status != event.StatusSkipped || results[0].Output != filepath.Join(dir, "other.bin") {
		t.Errorf("results %+v, want one skipped as other.bin", results)
	}
	for name, want := range map[string]string{"other.bin": "kept", "other.bin.part": "par"} {
		if got, err := os.ReadFile(filepath.Join(dir, name)); string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "other.bin.part.meta")); err != nil {
		t.Errorf("the other URL's sidecar: %v", err)
	}
}
