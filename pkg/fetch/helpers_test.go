package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// payload returns n reproducible pseudo-random bytes.
func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// testConfig is a Config with tiny waits, so retries do not slow tests.
func testConfig() Config {
	return Config{
		Concurrency:  2,
		Retries:      3,
		RetryWait:    time.Millisecond,
		MaxRetryWait: time.Minute,
		StallTimeout: 10 * time.Second,
		Rand:         rand.New(rand.NewPCG(1, 2)),
	}
}

func newClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// events collects what a Fetch emits.
type events struct {
	mu  sync.Mutex
	all []event.Event
}

func (e *events) emit(ev event.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) of(k event.Kind) []event.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []event.Event
	for _, ev := range e.all {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

// request is a Request for url into dir/name with a fresh Progress.
func request(url, path string, ev *events) Request {
	r := Request{URL: url, Path: path, Progress: event.NewProgress(filepath.Base(path))}
	if ev != nil {
		r.Emit = ev.emit
	}
	return r
}

// resource is a file served with ETag and Last-Modified and full Range
// support (http.ServeContent), whose content can change.
type resource struct {
	mu   sync.Mutex
	body []byte
	etag string
	mod  time.Time
}

func newResource(body []byte, etag string) *resource {
	return &resource{body: body, etag: etag, mod: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (r *resource) set(body []byte, etag string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.body, r.etag = body, etag
	r.mod = r.mod.Add(time.Hour)
}

func (r *resource) get() ([]byte, string, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.body, r.etag, r.mod
}

func (r *resource) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, etag, mod := r.get()
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	http.ServeContent(w, req, "", mod, bytes.NewReader(body))
}

// recorder keeps the headers of every request a server saw.
type recorder struct {
	mu   sync.Mutex
	reqs []http.Header
	urls []string
}

func (rc *recorder) add(r *http.Request) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	h := r.Header.Clone()
	h.Set("X-Test-Host", r.Host)
	rc.reqs = append(rc.reqs, h)
	rc.urls = append(rc.urls, r.URL.String())
	return len(rc.reqs)
}

func (rc *recorder) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

func (rc *recorder) header(i int) http.Header {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.reqs[i]
}

// serve starts a loopback server whose handler gets the 1-based number of
// each request.
func serve(t testing.TB, rc *recorder, h func(n int, w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(rc.add(r), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// mustFile returns a file's content, failing the test if it is missing.
func mustFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return b
}

// assertGone fails if path exists.
func assertGone(t testing.TB, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s exists; it should not", p)
		}
	}
}

// assertDone checks that path holds want and no part or sidecar is left.
func assertDone(t testing.TB, path string, want []byte) {
	t.Helper()
	got := mustFile(t, path)
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, sha256 %s; want %d bytes, sha256 %s", path, len(got), sum(got)[:12], len(want), sum(want)[:12])
	}
	assertGone(t, path+".part", path+".part.meta")
}

// writePart leaves a part and, when m is not nil, its sidecar.
func writePart(t testing.TB, path string, data []byte, m *Meta) {
	t.Helper()
	if err := os.WriteFile(path+".part", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if m != nil {
		if err := writeMeta(path+".part", *m); err != nil {
			t.Fatal(err)
		}
	}
}

// within fails the test if f takes longer than d, so a hang shows as a
// failure, not as a test timeout.
func within(t testing.TB, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still running after %v", d)
	}
}

// gateCounter is a Gate that counts acquisitions and releases.
type gateCounter struct {
	mu       sync.Mutex
	acquired int
	released int
	held     int
	maxHeld  int
	hosts    []string
}

func (g *gateCounter) Acquire(ctx context.Context, host string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.acquired++
	g.held++
	g.maxHeld = max(g.maxHeld, g.held)
	g.hosts = append(g.hosts, host)
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.released++
			g.held--
		})
	}, nil
}

// fetchWithin fetches req with a new Client of cfg, failing the test when
// the fetch is still running after ten seconds (a shutdown that does not
// end it, say).
func fetchWithin(t *testing.T, cfg Config, req Request) (res Result, err error) {
	t.Helper()
	within(t, 10*time.Second, func() {
		res, err = newClient(t, cfg).Fetch(context.Background(), req)
	})
	return res, err
}
