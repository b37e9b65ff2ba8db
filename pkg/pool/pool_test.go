package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/limit"
	"golang.org/x/time/rate"
)

// fakeFetcher stands in for the network: it records concurrency and lets a
// test hold transfers open. The HTTP side is tested in package fetch.
type fakeFetcher struct {
	active, max atomic.Int64
	hold        chan struct{} // when non-nil, transfers wait for it (or ctx)
	started     chan string   // when non-nil, receives each URL as it starts
	mu          sync.Mutex
	paths       []string
}

func (f *fakeFetcher) Fetch(ctx context.Context, req fetch.Request) (fetch.Result, error) {
	n := f.active.Add(1)
	defer f.active.Add(-1)
	for {
		m := f.max.Load()
		if n <= m || f.max.CompareAndSwap(m, n) {
			break
		}
	}
	if f.started != nil {
		f.started <- req.URL
	}
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-ctx.Done():
			return fetch.Result{Attempts: 1}, ctx.Err()
		}
	}
	f.mu.Lock()
	f.paths = append(f.paths, req.Path)
	f.mu.Unlock()
	return fetch.Result{Path: req.Path, Bytes: 1, Attempts: 1, HTTPStatus: 200}, nil
}

// recorder collects events; safe for concurrent use.
type recorder struct {
	mu     sync.Mutex
	events []event.Event
}

func (r *recorder) emit(ev event.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) results() map[event.Status][]*event.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[event.Status][]*event.Result{}
	for _, ev := range r.events {
		if ev.Kind == event.Finished {
			out[ev.Result.Status] = append(out[ev.Result.Status], ev.Result)
		}
	}
	return out
}

func (r *recorder) count(k event.Kind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

func urls(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("http://example.test/f%d.bin", i))
	}
	return out
}

func TestRunRespectsConcurrency(t *testing.T) {
	for _, j := range []int{1, 4, 16} {
		t.Run(fmt.Sprint(j), func(t *testing.T) {
			f := &fakeFetcher{started: make(chan string), hold: make(chan struct{})}
			rec := &recorder{}
			done := make(chan error, 1)
			go func() {
				done <- Run(context.Background(), context.Background(), input.NewReader(urls(40), nil), f,
					Options{Concurrency: j, OutputDir: t.TempDir(), Emit: rec.emit})
			}()
			// Let exactly j transfers start, check no more can, then release all.
			for range j {
				<-f.started
			}
			select {
			case u := <-f.started:
				t.Fatalf("transfer %s started while %d were in flight with -j %d", u, j, j)
			case <-time.After(50 * time.Millisecond):
			}
			close(f.hold)
			go func() {
				for range f.started {
				}
			}()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := f.max.Load(); got != int64(j) {
				t.Errorf("max in flight = %d, want %d", got, j)
			}
			if got := len(rec.results()[event.StatusOK]); got != 40 {
				t.Errorf("done = %d, want 40", got)
			}
		})
	}
}

// blockingSource yields its items and then blocks until released, like a
// producer upstream that has not finished writing.
type blockingSource struct {
	items   []string
	release chan struct{}
}

func (s *blockingSource) Next() (input.Item, error) {
	if len(s.items) == 0 {
		<-s.release
		return input.Item{}, io.EOF
	}
	it, _ := input.ParseLine(s.items[0])
	it.Source, it.Line = "-", 1
	s.items = s.items[1:]
	return it, nil
}

func TestRunStreamsInput(t *testing.T) {
	f := &fakeFetcher{started: make(chan string, 1)}
	src := &blockingSource{items: urls(1), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), context.Background(), src, f, Options{Concurrency: 2, OutputDir: t.TempDir()})
	}()
	select {
	case <-f.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the first transfer did not start before the input ended")
	}
	close(src.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRunNamesAndDuplicates(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "old.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &fakeFetcher{}
	rec := &recorder{}
	items := []string{
		"http://a.test/x/file.txt",
		"http://b.test/y/file.txt",   // same name, another item: suffixed
		"http://c.test/FILE.txt",     // differs only by case: suffixed too
		"http://a.test/x/file.txt",   // duplicate: fetched once
		"http://a.test/dir/",         // index.html
		"http://a.test/p?q=1",        // query is not part of the name
		"http://a.test/old.txt",      // exists before the run: skipped
		"http://a.test/z\tsub/n.bin", // explicit name with a subdirectory
		"ftp://a.test/nope",          // unsupported: fails
	}
	err := Run(context.Background(), context.Background(), input.NewReader(items, nil), f,
		Options{Concurrency: 1, OutputDir: dir, Emit: rec.emit})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range f.paths {
		rel, _ := filepath.Rel(dir, p)
		got = append(got, filepath.ToSlash(rel))
	}
	sort.Strings(got)
	want := []string{"FILE.2.txt", "file.1.txt", "file.txt", "index.html", "p", "sub/n.bin"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("saved %v, want %v", got, want)
	}
	res := rec.results()
	if len(res[event.StatusSkipped]) != 1 || len(res[event.StatusFailed]) != 1 {
		t.Fatalf("skipped %d, failed %d; want 1 and 1", len(res[event.StatusSkipped]), len(res[event.StatusFailed]))
	}
	if w := res[event.StatusFailed][0].Item.Where(); w != "arg 9" {
		t.Errorf("failure located at %q, want arg 9", w)
	}
}

// TestRunDuplicateWithAnotherDigest: a URL listed again for the same output
// with a "sha256" that the earlier listing did not give (another one, or
// none) is not dropped as a duplicate without a word, leaving the file
// unverified: it fails, saying why. The same digest again is a duplicate.
func TestRunDuplicateWithAnotherDigest(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	items := []string{
		`{"url": "http://a.test/f.bin", "sha256": "` + a + `"}`,
		`{"url": "http://a.test/f.bin", "sha256": "` + strings.ToUpper(a) + `"}`, // the same digest: a duplicate
		`{"url": "http://a.test/f.bin", "sha256": "` + b + `"}`,                  // another digest: fails
		"http://a.test/f.bin", // no digest: a duplicate
		"http://a.test/g.bin", // no digest first
		`{"url": "http://a.test/g.bin", "sha256": "` + a + `"}`, // then one: fails
	}
	f := &fakeFetcher{}
	rec := &recorder{}
	dir := t.TempDir()
	err := Run(context.Background(), context.Background(), input.NewReader(items, nil), f,
		Options{Concurrency: 1, OutputDir: dir, Emit: rec.emit})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.paths) != 2 {
		t.Errorf("fetched %v, want f.bin and g.bin once each", f.paths)
	}
	if n := rec.count(event.Duplicate); n != 2 {
		t.Errorf("%d duplicates, want 2", n)
	}
	failed := rec.results()[event.StatusFailed]
	if len(failed) != 2 {
		t.Fatalf("%d failed, want 2", len(failed))
	}
	for i, want := range []string{"arg 3", "arg 6"} {
		if w := failed[i].Item.Where(); w != want || !errors.Is(failed[i].Err, ErrDigestConflict) {
			t.Errorf("failure %d: %s: %v; want %s failing with ErrDigestConflict", i, w, failed[i].Err, want)
		}
	}
}

func TestRunOnExistsRename(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("old"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.1.txt"), []byte("old"), 0o644)
	f := &fakeFetcher{}
	err := Run(context.Background(), context.Background(), input.NewReader([]string{"http://h.test/a.txt"}, nil), f,
		Options{Concurrency: 1, OutputDir: dir, OnExists: Rename})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.paths) != 1 || filepath.Base(f.paths[0]) != "a.2.txt" {
		t.Errorf("saved %v, want a.2.txt", f.paths)
	}
}

func TestRunGracefulStop(t *testing.T) {
	f := &fakeFetcher{started: make(chan string, 100), hold: make(chan struct{})}
	rec := &recorder{}
	stop, begin := context.WithCancel(context.Background())
	done := make(chan error, 1)
	before := runtime.NumGoroutine()
	go func() {
		done <- Run(context.Background(), stop, input.NewReader(urls(50), nil), f,
			Options{Concurrency: 3, OutputDir: t.TempDir(), Emit: rec.emit})
	}()
	for range 3 {
		<-f.started
	}
	begin()
	waitFor(t, "the Draining event", func() bool { return rec.count(event.Draining) == 1 })
	close(f.hold) // the transfers in flight finish
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res := rec.results()
	if got := len(res[event.StatusOK]); got != 3 {
		t.Errorf("done = %d, want the 3 in flight", got)
	}
	for _, r := range res[event.StatusCanceled] {
		if !errors.Is(r.Err, ErrNotStarted) {
			t.Errorf("canceled item %s: %v, want not started", r.Item.URL, r.Err)
		}
	}
	if rec.count(event.Queued) != rec.count(event.Finished) {
		t.Errorf("%d queued but %d finished", rec.count(event.Queued), rec.count(event.Finished))
	}
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before+1 })
}

func TestRunAbort(t *testing.T) {
	f := &fakeFetcher{started: make(chan string, 100), hold: make(chan struct{})}
	rec := &recorder{}
	ctx, abort := context.WithCancel(context.Background())
	stop, begin := context.WithCancel(ctx)
	defer begin()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, stop, input.NewReader(urls(10), nil), f,
			Options{Concurrency: 2, OutputDir: t.TempDir(), Emit: rec.emit})
	}()
	<-f.started
	<-f.started
	abort()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after abort")
	}
	var aborted int
	for _, r := range rec.results()[event.StatusCanceled] {
		if errors.Is(r.Err, ErrAborted) {
			aborted++
		}
	}
	if aborted != 2 {
		for _, r := range rec.results()[event.StatusCanceled] {
			t.Logf("%s: %v", r.Item.URL, r.Err)
		}
		t.Errorf("%d transfers reported aborted, want 2", aborted)
	}
	if rec.count(event.Aborting) != 1 {
		t.Errorf("no Aborting event")
	}
}

func TestRunDryRun(t *testing.T) {
	f := &fakeFetcher{}
	rec := &recorder{}
	dir := t.TempDir()
	err := Run(context.Background(), context.Background(), input.NewReader(urls(3), nil), f,
		Options{Concurrency: 2, OutputDir: dir, DryRun: true, Emit: rec.emit})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.paths) != 0 {
		t.Errorf("dry run fetched %v", f.paths)
	}
	if rec.count(event.Planned) != 3 {
		t.Errorf("planned %d, want 3", rec.count(event.Planned))
	}
}

func TestRunShard(t *testing.T) {
	all := urls(200)
	seen := map[string]int{}
	for k := 1; k <= 3; k++ {
		f := &fakeFetcher{}
		err := Run(context.Background(), context.Background(), input.NewReader(all, nil), f,
			Options{Concurrency: 4, OutputDir: t.TempDir(), Shard: input.Shard{K: k, N: 3}})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.paths {
			seen[filepath.Base(p)]++
		}
	}
	if len(seen) != 200 {
		t.Errorf("shards covered %d items, want 200", len(seen))
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s fetched by %d shards", name, n)
		}
	}
}

// TestRunShardBadLines: a line that is not an item is reported by exactly
// one shard, so that a matrix of N jobs does not fail N times over it.
func TestRunShardBadLines(t *testing.T) {
	const list = "ftp://bad/one\nhttp://example.com/\x00nul\n\n{\"url\": 5}\n"
	reported := 0
	for k := 1; k <= 3; k++ {
		rec := &recorder{}
		err := Run(context.Background(), context.Background(), input.NewReader(nil, []input.Source{{Name: "list.txt", R: strings.NewReader(list)}}), &fakeFetcher{},
			Options{Concurrency: 2, OutputDir: t.TempDir(), Shard: input.Shard{K: k, N: 3}, Emit: rec.emit})
		if err != nil {
			t.Fatal(err)
		}
		reported += rec.count(event.Finished)
	}
	if reported != 3 {
		t.Errorf("the 3 bad lines were reported %d times over 3 shards, want 3", reported)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRunFileAndDirectoryNames: a name that exists as a directory before
// the run cannot take a file (nor a name whose .part is a directory, even
// one with a sidecar of the item's own URL beside it: there is no part to
// resume, and "run again to resume" would fail the same way for ever), so
// the item takes the next free name, as it would for a name another item
// took; a name that needs a directory where
// a file is fails, saying which file is in the way.
func TestRunFileAndDirectoryNames(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "docs", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs.txt.part"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "log2.txt.part"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "log2.txt.part.meta"), []byte(`{"url":"http://a.test/log2.txt","length":9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []OnExists{Skip, Overwrite, Newer} {
		t.Run(string(mode), func(t *testing.T) {
			f := &fakeFetcher{}
			rec := &recorder{}
			items := []string{
				"http://a.test/docs",               // a directory is there: docs.1
				"http://a.test/x\tnotes/today.txt", // notes is a file: fails
				"http://a.test/logs.txt",           // its part would be a directory: logs.1.txt
				"http://a.test/log2.txt",           // the same, with a sidecar of this URL: log2.1.txt
			}
			err := Run(context.Background(), context.Background(), input.NewReader(items, nil), f,
				Options{Concurrency: 1, OutputDir: dir, OnExists: mode, Emit: rec.emit})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{filepath.Join(dir, "docs.1"), filepath.Join(dir, "logs.1.txt"), filepath.Join(dir, "log2.1.txt")}; !slices.Equal(f.paths, want) {
				t.Errorf("saved %v, want %v", f.paths, want)
			}
			failed := rec.results()[event.StatusFailed]
			want := "cannot save " + filepath.Join("notes", "today.txt") + ": " + filepath.Join(dir, "notes") + " is a file, not a directory; move it away or give the item another name"
			if len(failed) != 1 || failed[0].Err == nil || failed[0].Err.Error() != want {
				t.Errorf("failures %v, want one: %s", failed, want)
			}
		})
	}
}

// hostFetcher holds the transfers of slow.test until release is closed and
// finishes the others at once, counting transfers in flight per host.
type hostFetcher struct {
	release chan struct{}
	mu      sync.Mutex
	now     map[string]int
	max     map[string]int
	fast    atomic.Int64 // transfers of other hosts finished
}

func (f *hostFetcher) Fetch(ctx context.Context, req fetch.Request) (fetch.Result, error) {
	host := fetch.Host(req.URL)
	f.mu.Lock()
	f.now[host]++
	f.max[host] = max(f.max[host], f.now[host])
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.now[host]--
		f.mu.Unlock()
	}()
	if host == "slow.test:80" {
		select {
		case <-f.release:
		case <-ctx.Done():
			return fetch.Result{}, ctx.Err()
		}
	} else {
		f.fast.Add(1)
	}
	return fetch.Result{Path: req.Path, Attempts: 1, HTTPStatus: 200}, nil
}

// TestRunPerHostGoesAroundABusyHost: with PerHost, items of a host at its
// cap wait aside while the workers go on with other hosts; and no host
// ever has more than PerHost items in flight.
func TestRunPerHostGoesAroundABusyHost(t *testing.T) {
	var items []string
	for i := range 10 {
		items = append(items, fmt.Sprintf("http://slow.test/s%d", i))
	}
	for i := range 30 {
		items = append(items, fmt.Sprintf("http://fast.test/f%d", i))
	}
	f := &hostFetcher{release: make(chan struct{}), now: map[string]int{}, max: map[string]int{}}
	rec := &recorder{}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), context.Background(), input.NewReader(items, nil), f,
			Options{Concurrency: 4, PerHost: 1, OutputDir: t.TempDir(), Emit: rec.emit})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for f.fast.Load() < 30 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := f.fast.Load(); n != 30 {
		t.Errorf("%d of 30 items of fast.test done while slow.test held its slot: held up behind it", n)
	}
	close(f.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(rec.results()[event.StatusOK]); n != 40 {
		t.Errorf("%d items ok, want 40", n)
	}
	for host, n := range f.max {
		if n > 1 {
			t.Errorf("%s had %d items in flight, want at most 1", host, n)
		}
	}
}

// TestRunPerHostStop: items set aside for a busy host are reported as not
// started when a shutdown begins, at once.
func TestRunPerHostStop(t *testing.T) {
	items := []string{"http://slow.test/a", "http://slow.test/b", "http://slow.test/c", "http://fast.test/d"}
	f := &hostFetcher{release: make(chan struct{}), now: map[string]int{}, max: map[string]int{}}
	rec := &recorder{}
	stop, stopNow := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), stop, input.NewReader(items, nil), f,
			Options{Concurrency: 2, PerHost: 1, OutputDir: t.TempDir(), Emit: rec.emit})
	}()
	for deadline := time.Now().Add(10 * time.Second); f.fast.Load() < 1; {
		if time.Now().After(deadline) {
			close(f.release)
			t.Fatal("fast.test never started: held up behind slow.test")
		}
		time.Sleep(5 * time.Millisecond)
	}
	stopNow()
	deadline := time.Now().Add(10 * time.Second)
	for len(rec.results()[event.StatusCanceled]) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(rec.results()[event.StatusCanceled]); n != 2 {
		t.Errorf("%d items canceled while the one in flight runs, want the 2 set aside", n)
	}
	close(f.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res := rec.results()
	if len(res[event.StatusOK]) != 2 || len(res[event.StatusCanceled]) != 2 {
		t.Errorf("ok %d, canceled %d; want 2 and 2", len(res[event.StatusOK]), len(res[event.StatusCanceled]))
	}
}

// TestRunWithoutStop: a nil stop is ctx; cancelling it aborts the run.
func TestRunWithoutStop(t *testing.T) {
	f := &fakeFetcher{hold: make(chan struct{}), started: make(chan string, 10)}
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, nil, input.NewReader(urls(3), nil), f, Options{Concurrency: 1, OutputDir: t.TempDir(), Emit: rec.emit})
	}()
	<-f.started
	// The second item is admitted (queued, or about to be) before the
	// cancel: else the reader may not have read it yet, and it would
	// rightly not be reported at all.
	deadline := time.Now().Add(5 * time.Second)
	for rec.count(event.Queued) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The one in flight and the one queued; the third may not be read.
	if res := rec.results(); len(res[event.StatusCanceled]) < 2 || len(res[event.StatusOK]) != 0 {
		t.Errorf("%d items canceled and %d ok, want 2 or 3 canceled", len(res[event.StatusCanceled]), len(res[event.StatusOK]))
	}
}

// closedGate holds every request until its context is done, and counts
// the requests that wait.
type closedGate struct{ waiting atomic.Int64 }

func (g *closedGate) Acquire(ctx context.Context, _ string) (func(), error) {
	g.waiting.Add(1)
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestRunNotStartedIsFetchErrNotStarted: items that a shutdown withdraws,
// whether queued by the pool or waiting at fetch's gate, end with one
// error that errors.Is matches as fetch.ErrNotStarted, ErrNotStarted and
// event.ErrNotStarted alike.
func TestRunNotStartedIsFetchErrNotStarted(t *testing.T) {
	gate := &closedGate{}
	c, err := fetch.New(fetch.Config{Concurrency: 2, Gate: gate})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	stop, stopNow := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), stop, input.NewReader(urls(6), nil), c,
			Options{Concurrency: 2, OutputDir: t.TempDir(), Emit: rec.emit})
	}()
	waitFor(t, "two items at the gate", func() bool { return gate.waiting.Load() == 2 })
	stopNow()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res := rec.results()
	if n := len(res[event.StatusCanceled]); n != rec.count(event.Queued) || n < 3 {
		t.Fatalf("%d items canceled of %d queued, want all of them, at least 3", n, rec.count(event.Queued))
	}
	for _, r := range res[event.StatusCanceled] {
		if !errors.Is(r.Err, fetch.ErrNotStarted) || !errors.Is(r.Err, ErrNotStarted) || !errors.Is(r.Err, event.ErrNotStarted) {
			t.Errorf("canceled item %s: %v, want fetch.ErrNotStarted, pool.ErrNotStarted and event.ErrNotStarted", r.Item.URL, r.Err)
		}
	}
}

// TestRunNotInFlightOnceFinished: an item is no longer counted in flight by
// the time its Finished event is emitted, so a shutdown that begins right
// after it ("stopping: no transfers in flight") does not wait for it.
func TestRunNotInFlightOnceFinished(t *testing.T) {
	stop, stopNow := context.WithCancel(context.Background())
	defer stopNow()
	draining := make(chan int, 1)
	emit := func(ev event.Event) {
		switch ev.Kind {
		case event.Draining:
			draining <- ev.InFlight
		case event.Finished:
			stopNow() // the shutdown begins while the end is being told
			select {
			case n := <-draining:
				draining <- n
			case <-time.After(5 * time.Second):
				t.Error("no Draining event while the Finished event was being told")
			}
		}
	}
	if err := Run(context.Background(), stop, input.NewReader([]string{"http://a.test/x.bin"}, nil), nopFetcher{},
		Options{Concurrency: 1, OutputDir: t.TempDir(), Emit: emit}); err != nil {
		t.Fatal(err)
	}
	if n := <-draining; n != 0 {
		t.Errorf("Draining counted %d in flight after the only item finished, want 0", n)
	}
}

// TestRunSeqIsInputOrder: every result carries its item's place in the
// input (Result.Seq), whatever the order items end in and however they
// end: here the first item ends after the second (-j 2: it waits until
// the second is over and the last is asked for). A duplicate, which has no
// result, still holds its place.
func TestRunSeqIsInputOrder(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/first":
			select { // until the last item is asked for
			case <-release:
			case <-r.Context().Done():
			}
		case "/last":
			close(release)
		case "/missing":
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, r.URL.Path)
	}))
	defer srv.Close()
	c, err := fetch.New(fetch.Config{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	args := []string{srv.URL + "/first", srv.URL + "/missing", srv.URL + "/missing", "ftp://old.test/f", srv.URL + "/last"}
	want := map[string]uint64{args[0]: 1, args[1]: 2, args[3]: 4, args[4]: 5} // args[2] is a duplicate
	rec := &recorder{}
	if err := Run(context.Background(), nil, input.NewReader(args, nil), c,
		Options{Concurrency: 2, OutputDir: t.TempDir(), Emit: rec.emit}); err != nil {
		t.Fatal(err)
	}
	var ended []uint64
	for _, ev := range rec.events {
		if ev.Kind != event.Finished {
			continue
		}
		ended = append(ended, ev.Result.Seq)
		if w, ok := want[ev.Result.Item.URL]; !ok || ev.Result.Seq != w {
			t.Errorf("%s: Seq %d, want %d", ev.Result.Item.URL, ev.Result.Seq, w)
		}
	}
	if len(ended) != len(want) || slices.Index(ended, 2) > slices.Index(ended, 1) {
		t.Errorf("results in the order %v, want %d of them, the second item's before the first", ended, len(want))
	}
}

// TestRunAbortSaysWhy: a program that embeds Run and cancels its ctx (here
// as a deadline would) is told so, and which .part is kept; it is not told
// of an interrupt that never happened. errors.Is finds the cause too: the
// error said "context deadline exceeded" but matched only context.Canceled,
// so a program could not tell its own reasons for stopping apart.
func TestRunAbortSaysWhy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	c, err := fetch.New(fetch.Config{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	dir := t.TempDir()
	ctx, cancel := context.WithCancelCause(context.Background())
	rec := &recorder{}
	emit := func(ev event.Event) {
		rec.emit(ev)
		if ev.Kind == event.Started {
			go func() {
				// Once the first bytes are in, which the part keeps.
				for ev.Progress.Done() < 1000 {
					time.Sleep(time.Millisecond)
				}
				cancel(context.DeadlineExceeded)
			}()
		}
	}
	if err := Run(ctx, nil, input.NewReader([]string{srv.URL + "/big.iso"}, nil), c,
		Options{Concurrency: 1, OutputDir: dir, Emit: emit}); err != nil {
		t.Fatal(err)
	}
	res := rec.results()[event.StatusCanceled]
	if len(res) != 1 {
		t.Fatalf("%d items canceled, want 1", len(res))
	}
	got := res[0].Err
	want := "aborted: context deadline exceeded, " + filepath.Join(dir, "big.iso.part") + " kept for a resume"
	if !errors.Is(got, ErrAborted) || got.Error() != want {
		t.Errorf("error %q, want %q matching ErrAborted", got, want)
	}
	if !errors.Is(got, context.DeadlineExceeded) {
		t.Errorf("error %q does not match its cause, context.DeadlineExceeded", got)
	}
	if ie := (*fetch.InterruptedError)(nil); !errors.As(got, &ie) || ie.Part != filepath.Join(dir, "big.iso.part") {
		t.Errorf("error %q: no fetch.InterruptedError that names the part", got)
	}
}

// TestRunRefusesBadOptions: an Options value that cannot mean what the
// caller wanted is refused by Run before anything is read or fetched. An
// OnExists other than the four policies was taken for overwrite and
// replaced files the caller meant to keep; a SHA256 that is no digest
// failed the item only after its whole download. A digest in upper case
// is taken.
func TestRunRefusesBadOptions(t *testing.T) {
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // sha256("abc")
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "abc")
	}))
	defer srv.Close()
	c, err := fetch.New(fetch.Config{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	tests := []struct {
		name string
		opts Options
		want string // in the error; "" for a run that works
	}{
		{"OnExists Overwrite", Options{OnExists: "Overwrite"}, `"Overwrite"`},
		{"OnExists keep", Options{OnExists: "keep"}, `"keep"`},
		{"SHA256 too short", Options{SHA256: "00"}, "SHA256"},
		{"SHA256 not hex", Options{SHA256: strings.Repeat("g", 64)}, "SHA256"},
		{"SHA256 upper case", Options{SHA256: strings.ToUpper(abc)}, ""},
		// GitHub's "digest" form, passed on as it is, would fail every
		// item it names only once its whole file was fetched.
		{"Checksums entry not hex", Options{Checksums: map[string]string{"abc.txt": "sha256:" + abc}}, `"abc.txt"`},
		{"Checksums entry too short", Options{Checksums: map[string]string{"other.txt": "00"}}, `"other.txt"`},
		{"Checksums entry upper case", Options{Checksums: map[string]string{"abc.txt": strings.ToUpper(abc)}}, ""},
		// A 0-based K (as JOB_COMPLETION_INDEX is) would select nothing
		// for K = 0, and no machine would fetch shard N.
		{"Shard K 0", Options{Shard: input.Shard{K: 0, N: 3}}, "Shard"},
		{"Shard K above N", Options{Shard: input.Shard{K: 4, N: 3}}, "Shard"},
		{"Shard N negative", Options{Shard: input.Shard{K: 1, N: -2}}, "Shard"},
		{"Shard 1/1", Options{Shard: input.Shard{K: 1, N: 1}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			dir := t.TempDir()
			keep := filepath.Join(dir, "abc.txt")
			if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				os.Remove(keep)
			}
			rec := &recorder{}
			opts := tt.opts
			opts.Concurrency, opts.OutputDir, opts.Emit = 1, dir, rec.emit
			err := Run(context.Background(), nil, input.NewReader([]string{srv.URL + "/abc.txt"}, nil), c, opts)
			if tt.want == "" {
				if err != nil || len(rec.results()[event.StatusOK]) != 1 {
					t.Errorf("err %v, results %v; want the item done", err, rec.results())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run returned %v, want an error naming %s", err, tt.want)
			}
			if n := rec.count(event.Queued); n != 0 || hits.Load() != 0 {
				t.Errorf("%d items queued and %d requests, want none", n, hits.Load())
			}
			if b, _ := os.ReadFile(keep); string(b) != "mine" {
				t.Errorf("the file holds %q, want %q", b, "mine")
			}
		})
	}
}

// goroutineFetcher records the most goroutines alive while it fetched.
type goroutineFetcher struct {
	fakeFetcher
	most atomic.Int64
}

func (f *goroutineFetcher) Fetch(ctx context.Context, req fetch.Request) (fetch.Result, error) {
	if n := int64(runtime.NumGoroutine()); n > f.most.Load() {
		f.most.Store(n)
	}
	return f.fakeFetcher.Fetch(ctx, req)
}

// TestRunStartsWorkersAsNeeded checks that a large -j costs nothing until
// items need the workers: a few items under -j 50000 used to start 50000
// goroutines (and -j 1000000 took 4.7 GB and 12 s to fetch one file).
func TestRunStartsWorkersAsNeeded(t *testing.T) {
	f := &goroutineFetcher{}
	err := Run(context.Background(), context.Background(), input.NewReader(urls(3), nil), f,
		Options{Concurrency: 50000, OutputDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if most := f.most.Load(); most > 1000 {
		t.Errorf("%d goroutines alive to fetch 3 items, want a worker per item at most", most)
	}
}

// TestRunRefusesNoFetcherOrSource: a run that fetches needs a Fetcher, and every
// run a Source. A nil one (or the nil *fetch.Client of a New whose error
// went unchecked) panicked in a goroutine of Run's, where the program that
// embeds Run cannot recover it: the whole process died. Run refuses them
// before anything is read; a dry run, which fetches nothing, needs no
// Fetcher.
func TestRunRefusesNoFetcherOrSource(t *testing.T) {
	items := input.NewReader([]string{"http://example.test/a"}, nil)
	tests := []struct {
		name    string
		src     Source
		f       Fetcher
		dryRun  bool
		wantErr string // in the error; "" for a run that works
	}{
		{"nil", items, nil, false, "Fetcher"},
		{"nil *fetch.Client", items, (*fetch.Client)(nil), false, "Fetcher"},
		{"nil for a dry run", items, nil, true, ""},
		{"nil *fetch.Client for a dry run", items, (*fetch.Client)(nil), true, ""},
		{"nil Source", nil, nil, true, "Source"},
		{"nil *input.Reader", (*input.Reader)(nil), nil, true, "Source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			src := tt.src
			if src == items {
				src = input.NewReader([]string{"http://example.test/a"}, nil)
			}
			err := Run(context.Background(), nil, src, tt.f,
				Options{OutputDir: t.TempDir(), DryRun: tt.dryRun, Emit: rec.emit})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Run returned %v, want an error naming the %s", err, tt.wantErr)
				}
				if n := rec.count(event.Queued); n != 0 {
					t.Errorf("%d items queued, want none", n)
				}
				return
			}
			if err != nil || rec.count(event.Planned) != 1 {
				t.Errorf("err %v, %d planned; want the item planned", err, rec.count(event.Planned))
			}
		})
	}
}

// redirectFetcher tells of a redirect of every item to target(url), then
// holds it until want items are in flight at once (or a while passes), and
// records the most there were.
type redirectFetcher struct {
	target    func(url string) string
	want      int64
	wait      time.Duration // for all the items to be in flight at once
	now, most atomic.Int64
	all       chan struct{}
	once      sync.Once
}

func (f *redirectFetcher) Fetch(ctx context.Context, req fetch.Request) (fetch.Result, error) {
	req.Emit(event.Event{Kind: event.Redirect, Attempt: 1, Message: f.target(req.URL)})
	n := f.now.Add(1)
	defer f.now.Add(-1)
	for m := f.most.Load(); n > m && !f.most.CompareAndSwap(m, n); m = f.most.Load() {
	}
	if n == f.want {
		f.once.Do(func() { close(f.all) })
	}
	select {
	case <-f.all:
	case <-time.After(f.wait):
	case <-ctx.Done():
		return fetch.Result{}, ctx.Err()
	}
	return fetch.Result{Path: req.Path, Attempts: 1, HTTPStatus: 200}, nil
}

// TestRunPerHostFreedByARedirect: an item redirected to another host no
// longer counts against its URL's host, whose next item goes at once (a
// redirector in front of mirrors, each of which the Fetcher's gate caps);
// one redirected to its own host still counts.
func TestRunPerHostFreedByARedirect(t *testing.T) {
	for _, tt := range []struct {
		name   string
		target func(string) string
		most   int64
		// How long an item waits for the others: the items that all go
		// at once end the wait when the last one starts, so it may be
		// long, for a loaded machine; those that go one at a time wait
		// it out, each, and a short one shows that no other started.
		wait time.Duration
	}{
		{"to another host", func(u string) string { return strings.Replace(u, "redirector.test", "mirror.test", 1) }, 4, 5 * time.Second},
		{"to its own host", func(u string) string { return u + "?again" }, 1, 500 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var items []string
			for i := range 4 {
				items = append(items, fmt.Sprintf("http://redirector.test/f%d", i))
			}
			f := &redirectFetcher{target: tt.target, want: 4, wait: tt.wait, all: make(chan struct{})}
			rec := &recorder{}
			err := Run(context.Background(), context.Background(), input.NewReader(items, nil), f,
				Options{Concurrency: 4, PerHost: 1, OutputDir: t.TempDir(), Emit: rec.emit})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(rec.results()[event.StatusOK]); n != 4 {
				t.Errorf("%d items ok, want 4", n)
			}
			if got := f.most.Load(); got != tt.most {
				t.Errorf("%d items in flight at once, want %d", got, tt.most)
			}
		})
	}
}

// nopFetcher fetches nothing: each item is done at once.
type nopFetcher struct{}

func (nopFetcher) Fetch(_ context.Context, req fetch.Request) (fetch.Result, error) {
	if req.Began != nil {
		req.Began()
	}
	return fetch.Result{Path: req.Path, Attempts: 1}, nil
}

// TestRunDrainingCountsWhatItWaitsFor: the Draining event counts the
// transfers that a graceful shutdown waits for, not those between two
// attempts, which it ends at once (not retried): a retry that waits out
// its backoff (a Retry-After), or its turn at the gate (--rate 1/m). Both
// were counted from their first request on: "stopping: waiting for 1
// transfer in flight to finish" while the status line said "in flight 0"
// and the item was canceled at once. One whose body is on its way is
// counted.
func TestRunDrainingCountsWhatItWaitsFor(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			w.Header().Set("Content-Length", "2")
			w.Write([]byte("a"))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		if r.URL.Path == "/busy" {
			w.Header().Set("Retry-After", "30")
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	for _, tt := range []struct {
		name string
		path string
		gate fetch.Gate
		want int
	}{
		{"a retry waiting out its Retry-After", "/busy", nil, 0},
		{"a retry waiting at the gate", "/fail", limit.NewGate(rate.Every(time.Minute), 1, 0), 0},
		{"a body on its way", "/slow", nil, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := fetch.New(fetch.Config{Concurrency: 1, Gate: tt.gate, Retries: 3, RetryWait: time.Millisecond,
				MaxRetryWait: time.Minute, StallTimeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			stop, stopNow := context.WithCancel(context.Background())
			defer stopNow()
			rec := &recorder{}
			done := make(chan error, 1)
			go func() {
				done <- Run(context.Background(), stop, input.NewReader([]string{srv.URL + tt.path}, nil), c,
					Options{Concurrency: 1, OutputDir: t.TempDir(), Emit: rec.emit})
			}()
			waitFor(t, "the first attempt's answer", func() bool {
				if tt.path == "/slow" {
					return rec.count(event.Attempt) == 1
				}
				return rec.count(event.Retry) == 1 && (tt.gate == nil || waiting(rec))
			})
			if tt.path == "/slow" {
				time.Sleep(50 * time.Millisecond) // its first byte in
			}
			stopNow()
			waitFor(t, "the Draining event", func() bool { return rec.count(event.Draining) == 1 })
			rec.mu.Lock()
			for _, ev := range rec.events {
				if ev.Kind == event.Draining && ev.InFlight != tt.want {
					t.Errorf("Draining counted %d in flight, want %d", ev.InFlight, tt.want)
				}
			}
			rec.mu.Unlock()
			if tt.path == "/slow" {
				release <- struct{}{}
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after the shutdown")
			}
		})
	}
}

// waiting tells whether the transfer of the first Started event waits at
// the gate.
func waiting(rec *recorder) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, ev := range rec.events {
		if ev.Kind == event.Started {
			return ev.Progress.Waiting()
		}
	}
	return false
}

// TestRunPerHostBetweenAttempts: with --per-host 1 -j 2, an item that
// waits to retry sends nothing, and gives its host's slot to the next item
// of that host meanwhile: it held it through its whole backoff, though no
// request to the host was in flight ("at most N requests at once to one
// host"). But a host that asked for a pause (Retry-After) gets no request
// from any item until it is over, whether or not the items hold a slot of
// the pool (--per-host 2).
func TestRunPerHostBetweenAttempts(t *testing.T) {
	const wait = 1200 * time.Millisecond // the backoff: 600ms to 1.2s
	for _, tt := range []struct {
		name    string
		perHost int
		first   string // the path of the first item, which is retried
		// paused: the other items are not requested before the first
		// one's retry; else they all are.
		paused bool
	}{
		{"backoff, per-host 1", 1, "/fail", false},
		{"Retry-After, per-host 1", 1, "/busy", true},
		{"Retry-After, per-host 2", 2, "/busy", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			at := map[string][]time.Time{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				at[r.URL.Path] = append(at[r.URL.Path], time.Now())
				n := len(at[r.URL.Path])
				mu.Unlock()
				switch {
				case r.URL.Path == "/busy" && n == 1:
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(http.StatusServiceUnavailable)
				case r.URL.Path == "/fail" && n == 1:
					w.WriteHeader(http.StatusServiceUnavailable)
				default:
					if r.URL.Path == "/b" {
						// Still in flight when the pause is asked for,
						// and over during it.
						time.Sleep(300 * time.Millisecond)
					}
					w.Write([]byte("ok"))
				}
			}))
			defer srv.Close()
			c, err := fetch.New(fetch.Config{Concurrency: 2, Gate: limit.NewGate(rate.Inf, 1, tt.perHost),
				Retries: 1, RetryWait: wait, MaxRetryWait: time.Minute, StallTimeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			rec := &recorder{}
			items := []string{srv.URL + tt.first, srv.URL + "/b", srv.URL + "/c"}
			if err := Run(context.Background(), nil, input.NewReader(items, nil), c,
				Options{Concurrency: 2, PerHost: tt.perHost, OutputDir: t.TempDir(), Emit: rec.emit}); err != nil {
				t.Fatal(err)
			}
			if n := len(rec.results()[event.StatusOK]); n != 3 {
				t.Fatalf("%d items ok, want 3", n)
			}
			mu.Lock()
			defer mu.Unlock()
			first, retry := at[tt.first][0], at[tt.first][1]
			for _, p := range []string{"/b", "/c"} {
				// The pause runs from the 503 (just after first) for 1s.
				if d := at[p][0].Sub(first); tt.paused && d > 100*time.Millisecond && d < 900*time.Millisecond {
					t.Errorf("%s requested %v after the 503 of %s, during the pause of 1s its host asked for", p, d, tt.first)
				}
				if before := at[p][0].Before(retry); !tt.paused && !before {
					t.Errorf("%s requested %v after the retry of %s: it waited for the backoff of another item, with no request to its host in flight", p, at[p][0].Sub(retry), tt.first)
				}
			}
		})
	}
}
