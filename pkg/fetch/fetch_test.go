package fetch

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/internal/backlog"
	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/input"
)

func TestPlainGet(t *testing.T) {
	body := payload(300<<10, 1)
	res := newResource(body, `"v1"`)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) { res.ServeHTTP(w, r) })
	cfg := testConfig()
	cfg.Hash = true
	cfg.UserAgent = "fetchpool/test"
	c := newClient(t, cfg)
	path := filepath.Join(t.TempDir(), "f.bin")
	ev := &events{}
	req := request(srv.URL+"/f.bin", path, ev)

	got, err := c.Fetch(context.Background(), req)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	assertDone(t, path, body)
	want := Result{Path: path, Bytes: int64(len(body)), Size: int64(len(body)),
		SHA256: sum(body), HTTPStatus: 200, Attempts: 1}
	if got != want {
		t.Errorf("Result = %+v\nwant     %+v", got, want)
	}
	if d, tot := req.Progress.Done(), req.Progress.Total(); d != int64(len(body)) || tot != int64(len(body)) {
		t.Errorf("progress %d/%d, want %d/%d", d, tot, len(body), len(body))
	}
	fi, _ := os.Stat(path)
	if _, _, mod := res.get(); !fi.ModTime().Equal(mod) {
		t.Errorf("mtime %v, want Last-Modified %v", fi.ModTime(), mod)
	}
	h := rc.header(0)
	if ua := h.Get("User-Agent"); ua != "fetchpool/test" {
		t.Errorf("User-Agent %q", ua)
	}
	if r := h.Get("Range"); r != "" {
		t.Errorf("a plain GET sent Range %q", r)
	}
	if ae := h.Get("Accept-Encoding"); ae != "" {
		t.Errorf("Accept-Encoding %q: the client should not negotiate compression", ae)
	}
	if a := ev.of(event.Attempt); len(a) != 1 || a[0].Attempt != 1 || a[0].Message != "" {
		t.Errorf("Attempt events %+v", a)
	}
}

func TestHeaders(t *testing.T) {
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	cfg := testConfig()
	cfg.UserAgent = "fetchpool/test"
	cfg.Header = http.Header{"X-Token": {"abc"}, "Host": {"example.test"}, "Accept": {"text/plain"}}
	c := newClient(t, cfg)
	path := filepath.Join(t.TempDir(), "h")
	if _, err := c.Fetch(context.Background(), request(srv.URL, path, nil)); err != nil {
		t.Fatal(err)
	}
	h := rc.header(0)
	for k, want := range map[string]string{"X-Token": "abc", "X-Test-Host": "example.test", "Accept": "text/plain", "User-Agent": "fetchpool/test"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestGzipKeptAsServed(t *testing.T) {
	gz := []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03not really gzip but bytes")
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(gz)
	})
	c := newClient(t, testConfig())
	path := filepath.Join(t.TempDir(), "a.gz")
	if _, err := c.Fetch(context.Background(), request(srv.URL+"/a.gz", path, nil)); err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, gz)
}

// shortThenServe answers the first request with a body cut at half its
// Content-Length, then serves res properly.
func shortThenServe(res *resource) func(n int, w http.ResponseWriter, r *http.Request) {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		if n > 1 {
			res.ServeHTTP(w, r)
			return
		}
		body, etag, mod := res.get()
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", mod.Format(http.TimeFormat))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:len(body)/2])
		// Returning with bytes missing makes the server close the connection.
	}
}

func TestShortBodyResumesWithRange(t *testing.T) {
	body := payload(200<<10, 2)
	res := newResource(body, `"v1"`)
	rc := &recorder{}
	srv := serve(t, rc, shortThenServe(res))
	cfg := testConfig()
	cfg.Hash = true
	c := newClient(t, cfg)
	path := filepath.Join(t.TempDir(), "f")
	ev := &events{}
	got, err := c.Fetch(context.Background(), request(srv.URL+"/f", path, ev))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	assertDone(t, path, body)
	if rc.count() != 2 {
		t.Fatalf("%d requests, want 2", rc.count())
	}
	h := rc.header(1)
	if want := fmt.Sprintf("bytes=%d-", len(body)/2); h.Get("Range") != want {
		t.Errorf("second request Range %q, want %q", h.Get("Range"), want)
	}
	if h.Get("If-Range") != `"v1"` {
		t.Errorf("second request If-Range %q, want the ETag", h.Get("If-Range"))
	}
	if got.Attempts != 2 || got.SHA256 != sum(body) || got.Bytes != int64(len(body)) {
		t.Errorf("Result %+v", got)
	}
	retries := ev.of(event.Retry)
	if len(retries) != 1 || !strings.Contains(retries[0].Err.Error(), "body ended after") {
		t.Errorf("Retry events %+v", retries)
	}
}

func TestResumeAcrossRuns(t *testing.T) {
	body := payload(100<<10, 3)
	res := newResource(body, `"v1"`)
	_, _, mod := res.get()
	tests := []struct {
		name      string
		part      []byte
		meta      *Meta
		serve     func(w http.ResponseWriter, r *http.Request)
		wantRange string // Range of the first request
		wantReqs  int
	}{
		{
			name:      "resumed with If-Range",
			part:      body[:1000],
			meta:      &Meta{URL: "URL", ETag: `"v1"`, Length: int64(len(body))},
			serve:     res.ServeHTTP,
			wantRange: "bytes=1000-",
			wantReqs:  1,
		},
		{
			name: "server ignores Range",
			part: []byte(strings.Repeat("x", 1000)),
			meta: &Meta{URL: "URL", ETag: `"v1"`, Length: int64(len(body))},
			serve: func(w http.ResponseWriter, r *http.Request) {
				w.Write(body) // 200, whatever was asked
			},
			wantRange: "bytes=1000-",
			wantReqs:  1,
		},
		{
			name:      "ETag changed: If-Range fails, 200 restarts",
			part:      []byte(strings.Repeat("y", 1000)),
			meta:      &Meta{URL: "URL", ETag: `"v0"`, Length: int64(len(body))},
			serve:     res.ServeHTTP,
			wantRange: "bytes=1000-",
			wantReqs:  1,
		},
		{
			name:      "part complete: 416",
			part:      body,
			meta:      &Meta{URL: "URL", ETag: `"v1"`, LastModified: mod.Format(http.TimeFormat), Length: -1},
			serve:     res.ServeHTTP,
			wantRange: fmt.Sprintf("bytes=%d-", len(body)),
			wantReqs:  1,
		},
		{
			name:      "part longer than the resource, length unknown: 416 then restart",
			part:      append(append([]byte{}, body...), "junk"...),
			meta:      &Meta{URL: "URL", ETag: `"v1"`, Length: -1},
			serve:     res.ServeHTTP,
			wantRange: fmt.Sprintf("bytes=%d-", len(body)+4),
			wantReqs:  2,
		},
		{
			name:      "part longer than the recorded length: restart at once",
			part:      append(append([]byte{}, body...), "junk"...),
			meta:      &Meta{URL: "URL", ETag: `"v1"`, Length: int64(len(body))},
			serve:     res.ServeHTTP,
			wantRange: "",
			wantReqs:  1,
		},
		{
			name:      "part without sidecar restarts",
			part:      []byte(strings.Repeat("z", 1000)),
			serve:     res.ServeHTTP,
			wantRange: "",
			wantReqs:  1,
		},
		{
			name: "206 at the wrong offset restarts",
			part: body[:1000],
			meta: &Meta{URL: "URL", ETag: `"v1"`, Length: int64(len(body))},
			serve: func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Range") != "" {
					w.Header().Set("Content-Range", fmt.Sprintf("bytes 10-19/%d", len(body)))
					w.WriteHeader(http.StatusPartialContent)
					w.Write(body[10:20])
					return
				}
				w.Write(body)
			},
			wantRange: "bytes=1000-",
			wantReqs:  2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) { tt.serve(w, r) })
			url := srv.URL + "/f"
			path := filepath.Join(t.TempDir(), "f")
			if tt.meta != nil {
				tt.meta.URL = url
			}
			writePart(t, path, tt.part, tt.meta)
			cfg := testConfig()
			cfg.Retries = 0
			req := request(url, path, nil)
			req.SHA256 = sum(body)
			if _, err := newClient(t, cfg).Fetch(context.Background(), req); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			assertDone(t, path, body)
			if rc.count() != tt.wantReqs {
				t.Errorf("%d requests, want %d", rc.count(), tt.wantReqs)
			}
			if got := rc.header(0).Get("Range"); got != tt.wantRange {
				t.Errorf("first Range %q, want %q", got, tt.wantRange)
			}
		})
	}
}

func TestNoResumeStartsOver(t *testing.T) {
	body := payload(10<<10, 4)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) { newResource(body, `"v"`).ServeHTTP(w, r) })
	path := filepath.Join(t.TempDir(), "f")
	writePart(t, path, body[:100], &Meta{URL: srv.URL, ETag: `"v"`, Length: -1})
	cfg := testConfig()
	cfg.NoResume = true
	if _, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil)); err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, body)
	if r := rc.header(0).Get("Range"); r != "" {
		t.Errorf("--no-resume sent Range %q", r)
	}
}

func TestPartOfAnotherURLUntouched(t *testing.T) {
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "new") })
	path := filepath.Join(t.TempDir(), "f")
	writePart(t, path, []byte("other"), &Meta{URL: "http://elsewhere.test/f", Length: -1})
	_, err := newClient(t, testConfig()).Fetch(context.Background(), request(srv.URL, path, nil))
	if !errors.Is(err, ErrPartInUse) {
		t.Fatalf("err = %v, want ErrPartInUse", err)
	}
	if got := mustFile(t, path+".part"); string(got) != "other" {
		t.Errorf("part changed to %q", got)
	}
	if m, err := ReadMeta(path + ".part"); err != nil || m.URL != "http://elsewhere.test/f" {
		t.Errorf("sidecar changed: %+v, %v", m, err)
	}
	if rc.count() != 0 {
		t.Errorf("%d requests sent", rc.count())
	}
	assertGone(t, path)
}

func TestRetries(t *testing.T) {
	body := []byte("finally")
	tests := []struct {
		name         string
		retries      int
		failures     int // answers with fail before success
		fail         func(w http.ResponseWriter)
		wantReqs     int
		wantErr      string // "" = success
		wantStatus   int    // errors.As HTTPError, 0 = none
		wantMinDelay time.Duration
	}{
		{
			name: "503 twice then ok", retries: 3, failures: 2,
			fail:     func(w http.ResponseWriter) { http.Error(w, "busy", http.StatusServiceUnavailable) },
			wantReqs: 3,
		},
		{
			name: "all 503", retries: 3, failures: 99,
			fail:       func(w http.ResponseWriter) { http.Error(w, "busy", http.StatusServiceUnavailable) },
			wantReqs:   4,
			wantErr:    "after 4 attempts: HTTP 503 Service Unavailable (×4)",
			wantStatus: 503,
		},
		{
			name: "404 is not retried", retries: 3, failures: 99,
			fail:       func(w http.ResponseWriter) { http.NotFound(w, nil) },
			wantReqs:   1,
			wantErr:    "HTTP 404 Not Found",
			wantStatus: 404,
		},
		{
			name: "429 with Retry-After 1 waits", retries: 1, failures: 1,
			fail: func(w http.ResponseWriter) {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "slow down", http.StatusTooManyRequests)
			},
			wantReqs:     2,
			wantMinDelay: 950 * time.Millisecond,
		},
		{
			name: "Retry-After beyond the cap fails at once", retries: 3, failures: 99,
			fail: func(w http.ResponseWriter) {
				w.Header().Set("Retry-After", "120")
				http.Error(w, "later", http.StatusServiceUnavailable)
			},
			wantReqs:   1,
			wantErr:    "HTTP 503 Service Unavailable: server asked to wait 2m0s (Retry-After), more than --max-retry-wait 1m0s",
			wantStatus: 503,
		},
		{
			name: "302 without Location is not retried", retries: 3, failures: 99,
			fail:       func(w http.ResponseWriter) { w.WriteHeader(http.StatusFound) },
			wantReqs:   1,
			wantErr:    "HTTP 302 Found without a Location to follow",
			wantStatus: 302,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			srv := serve(t, rc, func(n int, w http.ResponseWriter, r *http.Request) {
				if n <= tt.failures {
					tt.fail(w)
					return
				}
				w.Write(body)
			})
			cfg := testConfig()
			cfg.Retries = tt.retries
			gate := &gateCounter{}
			cfg.Gate = gate
			path := filepath.Join(t.TempDir(), "f")
			ev := &events{}
			start := time.Now()
			res, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL+"/f", path, ev))
			elapsed := time.Since(start)
			if rc.count() != tt.wantReqs || res.Attempts != tt.wantReqs {
				t.Errorf("%d requests, %d attempts; want %d", rc.count(), res.Attempts, tt.wantReqs)
			}
			if gate.acquired != tt.wantReqs || gate.released != tt.wantReqs {
				t.Errorf("gate acquired %d, released %d; want %d each", gate.acquired, gate.released, tt.wantReqs)
			}
			if len(gate.hosts) > 0 && gate.hosts[0] != strings.TrimPrefix(srv.URL, "http://") {
				t.Errorf("gate host %q", gate.hosts[0])
			}
			if elapsed < tt.wantMinDelay {
				t.Errorf("took %v, want at least %v", elapsed, tt.wantMinDelay)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				assertDone(t, path, body)
				if n := len(ev.of(event.Retry)); n != tt.wantReqs-1 {
					t.Errorf("%d Retry events, want %d", n, tt.wantReqs-1)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("err = %v\nwant  %s", err, tt.wantErr)
			}
			var he *HTTPError
			if !errors.As(err, &he) || he.StatusCode != tt.wantStatus {
				t.Errorf("errors.As HTTPError: %v, want status %d", he, tt.wantStatus)
			}
			assertGone(t, path)
		})
	}
}

func TestRetryAfterIsAFloor(t *testing.T) {
	rc := &recorder{}
	srv := serve(t, rc, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	})
	ev := &events{}
	path := filepath.Join(t.TempDir(), "f")
	if _, err := newClient(t, testConfig()).Fetch(context.Background(), request(srv.URL, path, ev)); err != nil {
		t.Fatal(err)
	}
	r := ev.of(event.Retry)
	if len(r) != 1 || r[0].Wait < time.Second || r[0].Attempt != 1 {
		t.Fatalf("Retry events %+v, want one with Wait ≥ 1s", r)
	}
}

// hijack takes over a connection and writes raw bytes.
func hijack(t testing.TB, w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
	}
	return conn, rw
}

func TestConnectionResetMidBody(t *testing.T) {
	body := payload(64<<10, 5)
	res := newResource(body, `"r"`)
	rc := &recorder{}
	srv := serve(t, rc, func(n int, w http.ResponseWriter, r *http.Request) {
		if n > 1 {
			res.ServeHTTP(w, r)
			return
		}
		conn, rw := hijack(t, w)
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nETag: \"r\"\r\n\r\n", len(body))
		rw.Write(body[:20000])
		rw.Flush()
		conn.(*net.TCPConn).SetLinger(0) // RST, not FIN
		conn.Close()
	})
	path := filepath.Join(t.TempDir(), "f")
	ev := &events{}
	if _, err := newClient(t, testConfig()).Fetch(context.Background(), request(srv.URL, path, ev)); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	assertDone(t, path, body)
	if rc.count() != 2 {
		t.Errorf("%d requests, want 2", rc.count())
	}
	if r := rc.header(1).Get("Range"); r != "bytes=20000-" {
		t.Errorf("retry Range %q", r)
	}
	if r := ev.of(event.Retry); len(r) != 1 {
		t.Errorf("Retry events %v", r)
	}
}

func TestFinalErrorListsAttempts(t *testing.T) {
	rc := &recorder{}
	srv := serve(t, rc, func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		conn, _ := hijack(t, w)
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	})
	path := filepath.Join(t.TempDir(), "f")
	_, err := newClient(t, testConfig()).Fetch(context.Background(), request(srv.URL, path, nil))
	if err == nil {
		t.Fatal("no error")
	}
	want := "after 4 attempts: HTTP 503 Service Unavailable (×3), "
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %q, want prefix %q", err, want)
	}
	t.Logf("final error: %v", err)
}

// blockUntil holds a handler until the test ends or the client leaves.
func blockUntil(t testing.TB, r *http.Request) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	select {
	case <-done:
	case <-r.Context().Done():
	}
}

func TestStall(t *testing.T) {
	body := payload(64<<10, 6)
	tests := []struct {
		name     string
		stalls   int
		wantErr  string
		wantReqs int
	}{
		{name: "stalled once then ok", stalls: 1, wantReqs: 2},
		{name: "always stalls", stalls: 99, wantReqs: 2, wantErr: "after 2 attempts: no data received for 300ms (--stall-timeout) (×2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			srv := serve(t, rc, func(n int, w http.ResponseWriter, r *http.Request) {
				if n > tt.stalls {
					newResource(body, `"s"`).ServeHTTP(w, r)
					return
				}
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				w.Header().Set("ETag", `"s"`)
				w.Write(body[:1000])
				w.(http.Flusher).Flush()
				blockUntil(t, r)
			})
			cfg := testConfig()
			cfg.StallTimeout = 300 * time.Millisecond
			cfg.Retries = 1
			path := filepath.Join(t.TempDir(), "f")
			var err error
			within(t, 10*time.Second, func() {
				_, err = newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil))
			})
			if rc.count() != tt.wantReqs {
				t.Errorf("%d requests, want %d", rc.count(), tt.wantReqs)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				assertDone(t, path, body)
				if r := rc.header(1).Get("Range"); r != "bytes=1000-" {
					t.Errorf("retry Range %q", r)
				}
				return
			}
			// The part keeps 1000 bytes with their sidecar: the message
			// says that a run again resumes it.
			if want := tt.wantErr + "; " + path + ".part kept: run again to resume"; err == nil || err.Error() != want {
				t.Fatalf("err = %v, want %s", err, want)
			}
			if got := mustFile(t, path+".part"); len(got) != 1000 {
				t.Errorf("part has %d bytes, want 1000 kept for a resume", len(got))
			}
		})
	}
}

func TestSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // accepted, never answered
			mu.Unlock()
		}
	}()
	tests := []struct {
		name    string
		cfg     func(*Config)
		wantErr string
	}{
		{"stall timeout", func(c *Config) { c.StallTimeout = 200 * time.Millisecond }, "no data received for 200ms (--stall-timeout) (×2)"},
		{"attempt timeout", func(c *Config) { c.StallTimeout = 0; c.Timeout = 200 * time.Millisecond }, "attempt timed out after 200ms (--timeout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Retries = 1
			tt.cfg(&cfg)
			path := filepath.Join(t.TempDir(), "f")
			var err error
			within(t, 10*time.Second, func() {
				_, err = newClient(t, cfg).Fetch(context.Background(), request("http://"+ln.Addr().String()+"/", path, nil))
			})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "after 2 attempts") {
				t.Fatalf("err = %v, want 2 attempts and %q", err, tt.wantErr)
			}
		})
	}
}

func TestConnectionRefusedIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := testConfig()
	cfg.Retries = 2
	_, err = newClient(t, cfg).Fetch(context.Background(), request("http://"+addr+"/", filepath.Join(t.TempDir(), "f"), nil))
	if err == nil || err.Error() != "after 3 attempts: connection refused (×3)" {
		t.Fatalf("err = %v", err)
	}
}

func TestRedirects(t *testing.T) {
	rc := &recorder{}
	// Locations that cannot be followed, sent as they are.
	badLocations := map[string]string{
		"/bad-location":     "http://[::1",
		"/no-host":          "http:///nohost",
		"/bad-port":         "http://127.0.0.1:99999/x",
		"/no-host-password": "http://b:t0p@/x",
	}
	var srv = serve(t, rc, func(n int, w http.ResponseWriter, r *http.Request) {
		if loc, ok := badLocations[r.URL.Path]; ok {
			w.Header()["Location"] = []string{loc}
			w.WriteHeader(http.StatusFound)
			return
		}
		switch r.URL.Path {
		case "/loop":
			http.Redirect(w, r, "/loop?n="+strconv.Itoa(n), http.StatusFound)
		case "/ftp":
			http.Redirect(w, r, "ftp://example.test/f", http.StatusFound)
		case "/ten":
			// nine more hops to /ten?9 ... then /final: 10 redirects in all
			k, _ := strconv.Atoi(r.URL.RawQuery)
			if k < 9 {
				http.Redirect(w, r, "/ten?"+strconv.Itoa(k+1), http.StatusFound)
				return
			}
			http.Redirect(w, r, "/final", http.StatusMovedPermanently)
		case "/final":
			fmt.Fprint(w, "landed")
		}
	})
	tests := []struct {
		path     string
		wantErr  error
		wantText string
	}{
		{path: "/loop", wantErr: ErrTooManyRedirects},
		{path: "/ftp", wantText: "refused a redirect to ftp://example.test/f"},
		{path: "/bad-location", wantText: `the server redirected to "http://[::1", which is not a URL`},
		{path: "/no-host", wantText: `the server redirected to "http:///nohost", which names no host`},
		{path: "/no-host-password", wantText: `the server redirected to "http://b:xxxxx@/x", which names no host`},
		{path: "/bad-port", wantText: `the server redirected to "http://127.0.0.1:99999/x", which has a port that is not a number from 1 to 65535`},
		{path: "/ten"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			ev := &events{}
			before := rc.count()
			res, err := newClient(t, testConfig()).Fetch(context.Background(), request(srv.URL+tt.path, path, ev))
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if n := rc.count() - before; n != 11 {
					t.Errorf("%d requests, want 11 (not retried)", n)
				}
			case tt.wantText != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantText) {
					t.Fatalf("err = %v, want %q", err, tt.wantText)
				}
				if res.Attempts != 1 {
					t.Errorf("%d attempts, want 1", res.Attempts)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				assertDone(t, path, []byte("landed"))
				if n := len(ev.of(event.Redirect)); n != 10 {
					t.Errorf("%d Redirect events, want 10", n)
				}
				if res.URL != srv.URL+"/final" {
					t.Errorf("Result.URL %q", res.URL)
				}
			}
		})
	}
}

// TestFinalURL: Result.URL is where redirects led, the URL whole (as
// given, password and all), and "" when the body came from the item's own
// URL: no redirect, or away and back. Without a redirect, telling so
// allocates nothing.
func TestFinalURL(t *testing.T) {
	var back atomic.Bool // /round has sent its one redirect
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hop":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/round":
			if back.CompareAndSwap(false, true) {
				http.Redirect(w, r, "/mid", http.StatusFound)
				return
			}
		case "/mid":
			http.Redirect(w, r, "/round", http.StatusFound)
		}
		fmt.Fprint(w, "body")
	})
	withPassword := strings.Replace(srv.URL, "http://", "http://ann:s3cr3t@", 1)
	tests := []struct{ url, want string }{
		{srv.URL + "/plain", ""},
		{srv.URL + "/hop", srv.URL + "/final"},
		{withPassword + "/hop", withPassword + "/final"},
		{srv.URL + "/round", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			res, err := newClient(t, testConfig()).Fetch(context.Background(), request(tt.url, filepath.Join(t.TempDir(), "f"), nil))
			if err != nil {
				t.Fatal(err)
			}
			if res.URL != tt.want {
				t.Errorf("Result.URL = %q, want %q", res.URL, tt.want)
			}
		})
	}
	u, _ := url.Parse(srv.URL + "/plain")
	resp := &http.Response{Request: &http.Request{URL: u}}
	if n := testing.AllocsPerRun(100, func() { finalURL(resp, u) }); n != 0 {
		t.Errorf("finalURL without a redirect: %v allocations, want 0", n)
	}
}

// TestFailureAtRedirectTarget: a request that fails at the URL a redirect
// led to, not at the item's own, names that URL (its password redacted),
// whatever failed there: the connection, the stall guard, the status.
// A failure back at the item's own URL says nothing more.
func TestFailureAtRedirectTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String() // nothing listens there once closed
	ln.Close()
	var back atomic.Bool // /round has sent its one redirect
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/dead":
			http.Redirect(w, r, "http://ann:s3cr3t@"+dead+"/x", http.StatusFound)
		case "/gone":
			http.Redirect(w, r, "/missing", http.StatusFound)
		case "/slow":
			http.Redirect(w, r, "/hang", http.StatusFound)
		case "/hang":
			<-r.Context().Done() // no header until the client gives up
		case "/round":
			// Away and back: the failure is at the item's own URL.
			if back.CompareAndSwap(false, true) {
				http.Redirect(w, r, "/mid", http.StatusFound)
				return
			}
			http.NotFound(w, r)
		case "/mid":
			http.Redirect(w, r, "/round", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
	tests := []struct {
		path    string
		retries int
		want    string
	}{
		{"/dead", 0, "redirected to http://ann:xxxxx@" + dead + "/x: connection refused"},
		{"/dead", 1, "after 2 attempts: redirected to http://ann:xxxxx@" + dead + "/x: connection refused (×2)"},
		{"/gone", 0, "redirected to " + srv.URL + "/missing: HTTP 404 Not Found"},
		{"/slow", 0, "redirected to " + srv.URL + "/hang: no data received for 100ms (--stall-timeout)"},
		{"/round", 0, "HTTP 404 Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.path+"/retries="+strconv.Itoa(tt.retries), func(t *testing.T) {
			cfg := testConfig()
			cfg.Retries = tt.retries
			cfg.StallTimeout = 100 * time.Millisecond
			ev := &events{}
			_, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL+tt.path, filepath.Join(t.TempDir(), "f"), ev))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the password is in %q", err)
			}
			for _, r := range ev.of(event.Retry) {
				if !strings.HasPrefix(r.Err.Error(), "redirected to ") {
					t.Errorf("Retry event says %q, not where", r.Err)
				}
			}
		})
	}
}

// redirectHosts is two loopback servers that redirect between them, each
// recording the requests it gets. On home: /away goes to other under
// another host name (localhost), /port to other under home's name (same
// host, other port), /away-and-back to other's /back, which comes back to
// home's /here; /stay, /see-other and /temporary go to /here with a 301,
// 303 and 307; /no-location is a 302 without a Location; anything else
// says "here". other says "other".
type redirectHosts struct {
	home, other *recorder
	homeURL     string
	otherURL    string // under the name localhost
}

func newRedirectHosts(t *testing.T) *redirectHosts {
	h := &redirectHosts{home: &recorder{}, other: &recorder{}}
	otherSrv := serve(t, h.other, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/back" {
			http.Redirect(w, r, h.homeURL+"/here", http.StatusFound)
			return
		}
		fmt.Fprint(w, "other")
	})
	h.otherURL = strings.Replace(otherSrv.URL, "127.0.0.1", "localhost", 1)
	homeSrv := serve(t, h.home, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, h.otherURL+"/x", http.StatusFound)
		case "/port":
			http.Redirect(w, r, otherSrv.URL+"/x", http.StatusFound)
		case "/away-and-back":
			http.Redirect(w, r, h.otherURL+"/back", http.StatusFound)
		case "/stay":
			http.Redirect(w, r, "/here#frag", http.StatusMovedPermanently)
		case "/see-other":
			http.Redirect(w, r, "/here", http.StatusSeeOther)
		case "/temporary":
			http.Redirect(w, r, "/here", http.StatusTemporaryRedirect)
		case "/no-location":
			w.WriteHeader(http.StatusFound)
			fmt.Fprint(w, "a 302 without a Location")
		default:
			fmt.Fprint(w, "here")
		}
	})
	h.homeURL = homeSrv.URL
	return h
}

func TestCredentialsStayOnTheirHost(t *testing.T) {
	hosts := newRedirectHosts(t)
	home, other, homeURL := hosts.home, hosts.other, hosts.homeURL
	netrcFile := filepath.Join(t.TempDir(), "netrc")
	os.WriteFile(netrcFile, []byte("machine 127.0.0.1 login alice password secret\n"), 0o600)

	tests := []struct {
		name      string
		path      string
		header    bool // -H Authorization, else netrc
		wantHome  string
		wantOther string
	}{
		{"header, same host", "/stay", true, "Bearer t", ""},
		{"header, other host", "/away", true, "Bearer t", ""},
		{"header, other port", "/port", true, "Bearer t", ""},
		{"netrc, same host", "/stay", false, "Basic YWxpY2U6c2VjcmV0", ""},
		{"netrc, other host", "/away", false, "Basic YWxpY2U6c2VjcmV0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.header {
				cfg.Header = http.Header{"Authorization": {"Bearer t"}, "Cookie": {"c=1"}, "Cookie2": {"c=2"},
					"Proxy-Authorization": {"Basic p"}, "Www-Authenticate": {"w"}, "Proxy-Authenticate": {"pa"}}
			} else {
				cfg.NetrcFile = netrcFile
			}
			h0, o0 := home.count(), other.count()
			if _, err := newClient(t, cfg).Fetch(context.Background(), request(homeURL+tt.path, filepath.Join(t.TempDir(), "f"), nil)); err != nil {
				t.Fatal(err)
			}
			for i := h0; i < home.count(); i++ {
				if got := home.header(i).Get("Authorization"); got != tt.wantHome {
					t.Errorf("home request %d: Authorization %q, want %q", i-h0, got, tt.wantHome)
				}
			}
			for i := o0; i < other.count(); i++ {
				if got := other.header(i).Get("Authorization"); got != tt.wantOther {
					t.Errorf("other host: Authorization %q, want %q", got, tt.wantOther)
				}
				for _, h := range []string{"Cookie", "Cookie2", "Proxy-Authorization", "Www-Authenticate", "Proxy-Authenticate"} {
					if got := other.header(i).Get(h); got != "" {
						t.Errorf("other host: %s %q", h, got)
					}
				}
			}
		})
	}
}

// TestRedirectHeaders: a redirected GET carries the item's headers and a
// Referer naming the URL that redirected (without its credentials), whole
// on the same origin but only its origin on another, as browsers send it:
// the path and query of a signed URL (?token=...) are credentials too, and
// the whole URL went as Referer to the host a redirect led to. The
// credentials of a URL (http://user:pass@host/) go to that URL's host as
// basic authentication, to the same host after a redirect, and never to
// another host.
func TestRedirectHeaders(t *testing.T) {
	hosts := newRedirectHosts(t)
	home, other, otherURL := hosts.home, hosts.other, hosts.otherURL
	homeURL := hosts.homeURL
	withUser := strings.Replace(homeURL, "http://", "http://alice:s%20cret@", 1)
	const aliceAuth = "Basic YWxpY2U6cyBjcmV0" // alice:s cret
	tests := []struct {
		name       string
		url        string
		wantHome   []string // Authorization of each request to home
		wantOther  int      // requests to the other host
		wantStatus int      // 0: the item is done
	}{
		{"URL credentials", withUser + "/here", []string{aliceAuth}, 0, 0},
		{"URL credentials, same host", withUser + "/stay", []string{aliceAuth, aliceAuth}, 0, 0},
		{"URL credentials, 303", withUser + "/see-other", []string{aliceAuth, aliceAuth}, 0, 0},
		{"URL credentials, 307", withUser + "/temporary", []string{aliceAuth, aliceAuth}, 0, 0},
		{"URL credentials, other host", withUser + "/away", []string{aliceAuth}, 1, 0},
		// Back on the first URL's origin, its credentials go again, as
		// -H Authorization does.
		{"URL credentials, away and back", withUser + "/away-and-back", []string{aliceAuth, aliceAuth}, 1, 0},
		{"no credentials", homeURL + "/stay", []string{"", ""}, 0, 0},
		{"query token, same host", homeURL + "/stay?token=s3cret", []string{"", ""}, 0, 0},
		{"query token, other host", homeURL + "/away?token=s3cret", []string{""}, 1, 0},
		{"302 without Location", homeURL + "/no-location", []string{""}, 0, http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Header = http.Header{"X-Token": {"t1"}}
			h0, o0 := home.count(), other.count()
			path := filepath.Join(t.TempDir(), "f")
			_, err := newClient(t, cfg).Fetch(context.Background(), request(tt.url, path, nil))
			var he *HTTPError
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Fatal(err)
			case tt.wantStatus != 0 && (!errors.As(err, &he) || he.StatusCode != tt.wantStatus):
				t.Fatalf("err = %v, want HTTP %d", err, tt.wantStatus)
			}
			if n := home.count() - h0; n != len(tt.wantHome) {
				t.Fatalf("%d requests to the first host, want %d", n, len(tt.wantHome))
			}
			for i, want := range tt.wantHome {
				h := home.header(h0 + i)
				if got := h.Get("Authorization"); got != want {
					t.Errorf("request %d: Authorization %q, want %q", i, got, want)
				}
				if got := h.Get("X-Token"); got != "t1" {
					t.Errorf("request %d: X-Token %q, want t1", i, got)
				}
				wantRef := ""
				switch {
				case i > 0 && tt.wantOther > 0:
					wantRef = otherURL + "/" // back from the other host: its origin only
				case i > 0:
					wantRef = strings.Replace(tt.url, "alice:s%20cret@", "", 1)
				}
				if got := h.Get("Referer"); got != wantRef {
					t.Errorf("request %d: Referer %q, want %q", i, got, wantRef)
				}
			}
			if n := other.count() - o0; n != tt.wantOther {
				t.Fatalf("%d requests to the other host, want %d", n, tt.wantOther)
			}
			for i := o0; i < other.count(); i++ {
				h := other.header(i)
				if got := h.Get("Authorization"); got != "" {
					t.Errorf("other host: Authorization %q", got)
				}
				if got := h.Get("X-Token"); got != "t1" {
					t.Errorf("other host: X-Token %q, want t1", got)
				}
				if got, want := h.Get("Referer"), homeURL+"/"; got != want {
					t.Errorf("other host: Referer %q, want %q (the origin only)", got, want)
				}
			}
		})
	}
}

// TestCheckRedirectOrigins: after a redirect, credentials set by the user
// go on only to the origin (scheme, host, port) the chain began at: not
// to another host or port, and not from https down to plain http, where
// the netrc's are not added either. The default port may be written out.
func TestCheckRedirectOrigins(t *testing.T) {
	c := newClient(t, testConfig())
	c.netrc = parseNetrc("machine h login u password p\n")
	const netrcAuth = "Basic dTpw" // u:p
	tests := []struct {
		first, next string
		wantAuth    string // Authorization after checkRedirect
		keptCookie  bool
	}{
		{"http://h/a", "http://h/b", "Bearer t", true},
		{"http://h/a", "http://h:80/b", "Bearer t", true},
		{"https://h/a", "https://h:443/b", "Bearer t", true},
		{"http://h/a", "http://h:8080/b", netrcAuth, false}, // netrc entries name a machine, any port
		{"http://h/a", "http://other/b", "", false},
		{"https://h:8443/a", "http://h:8443/b", "", false}, // down to plain http: nothing
		{"https://h/a", "http://h/b", "", false},
		{"http://h/a", "https://h/b", netrcAuth, false}, // up to https: the netrc's own
	}
	for _, tt := range tests {
		first, _ := url.Parse(tt.first)
		next, _ := url.Parse(tt.next)
		prev := &http.Request{URL: first, Header: http.Header{}}
		req := &http.Request{URL: next, Header: http.Header{
			"Authorization": {"Bearer t"}, "Cookie": {"c=1"}, "Cookie2": {"c=2"}}}
		if err := c.checkRedirect(req, []*http.Request{prev}, nil); err != nil {
			t.Fatalf("%s → %s: %v", tt.first, tt.next, err)
		}
		if got := req.Header.Get("Authorization"); got != tt.wantAuth {
			t.Errorf("%s → %s: Authorization %q, want %q", tt.first, tt.next, got, tt.wantAuth)
		}
		for _, h := range []string{"Cookie", "Cookie2"} {
			if kept := req.Header.Get(h) != ""; kept != tt.keptCookie {
				t.Errorf("%s → %s: %s kept %v, want %v", tt.first, tt.next, h, kept, tt.keptCookie)
			}
		}
	}
}

func TestNetrcFileMissing(t *testing.T) {
	cfg := testConfig()
	cfg.NetrcFile = filepath.Join(t.TempDir(), "none")
	if _, err := New(cfg); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("New: %v, want not-exist", err)
	}
}

func TestBodies(t *testing.T) {
	big := payload(100<<10, 7)
	tests := []struct {
		name    string
		handler func(t *testing.T, w http.ResponseWriter, r *http.Request)
		want    []byte
	}{
		{"204 No Content", func(t *testing.T, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, []byte{}},
		{"empty 200", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "0")
		}, []byte{}},
		{"no Content-Length, Connection: close", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			conn, rw := hijack(t, w)
			defer conn.Close()
			rw.WriteString("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
			rw.Write(big)
			rw.Flush()
		}, big},
		{"chunked", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			for i := 0; i < len(big); i += 10000 {
				w.Write(big[i:min(i+10000, len(big))])
				w.(http.Flusher).Flush()
			}
		}, big},
		{"1xx interim response", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Del("Link")
			w.Write(big)
		}, big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) { tt.handler(t, w, r) })
			path := filepath.Join(t.TempDir(), "f")
			cfg := testConfig()
			cfg.Retries = 0
			res, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil))
			if err != nil {
				t.Fatal(err)
			}
			assertDone(t, path, tt.want)
			if res.Size != int64(len(tt.want)) {
				t.Errorf("Size %d", res.Size)
			}
		})
	}
}

func TestChecksum(t *testing.T) {
	body := payload(50<<10, 8)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) { w.Write(body) })
	t.Run("good", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "f")
		req := request(srv.URL, path, nil)
		req.SHA256 = strings.ToUpper(sum(body))
		res, err := newClient(t, testConfig()).Fetch(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		assertDone(t, path, body)
		if res.SHA256 != sum(body) {
			t.Errorf("SHA256 %q", res.SHA256)
		}
	})
	t.Run("bad", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "f")
		req := request(srv.URL, path, nil)
		req.SHA256 = sum([]byte("something else"))
		res, err := newClient(t, testConfig()).Fetch(context.Background(), req)
		var ce *ChecksumError
		if !errors.As(err, &ce) || ce.Want != req.SHA256 || ce.Got != sum(body) {
			t.Fatalf("err = %v, want a ChecksumError", err)
		}
		want := fmt.Sprintf("sha256 mismatch: expected %s, got %s", req.SHA256, sum(body))
		if err.Error() != want {
			t.Errorf("message %q\nwant      %q", err, want)
		}
		if res.Attempts != 1 {
			t.Errorf("%d attempts: a mismatch is not retried", res.Attempts)
		}
		// The bad bytes are left nowhere: not under the name, not in a part.
		assertGone(t, path, path+".part", path+".part.meta")
	})
}

// TestChecksumBadResumedPart: a part of an earlier run whose bytes are
// wrong (damaged on disk, or a file the server changed under the same
// validator) fails the digest once whole; the file is then fetched once
// more from the start, and the good copy lands, not a failure that only a
// second run would cure. A fresh download that does not match is not
// fetched again (TestChecksum).
func TestChecksumBadResumedPart(t *testing.T) {
	body := payload(600<<10, 44)
	damaged := bytes.Clone(body[:200<<10])
	damaged[1000] ^= 0xff
	tests := []struct {
		name  string
		split bool
		part  []byte
		meta  Meta
	}{
		{"single stream", false, damaged, Meta{ETag: `"d"`, Length: int64(len(body))}},
		{"split", true, append(bytes.Clone(damaged), make([]byte, len(body)-len(damaged))...), Meta{ETag: `"d"`, Length: int64(len(body)),
			Spans: []Span{{0, 300 << 10, 200 << 10}, {300 << 10, int64(len(body)), 300 << 10}}}},
		{"complete on a 416", false, append(bytes.Clone(damaged), body[len(damaged):]...), Meta{ETag: `"d"`, Length: int64(len(body))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) { newResource(body, `"d"`).ServeHTTP(w, r) })
			path := filepath.Join(t.TempDir(), "f")
			tt.meta.URL = srv.URL
			writePart(t, path, tt.part, &tt.meta)
			cfg := testConfig()
			if tt.split {
				cfg = splitConfig()
			}
			ev := &events{}
			req := request(srv.URL, path, ev)
			req.SHA256 = sum(body)
			res, err := newClient(t, cfg).Fetch(context.Background(), req)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			assertDone(t, path, body)
			if res.SHA256 != sum(body) {
				t.Errorf("SHA256 %s", res.SHA256)
			}
			r := ev.of(event.Retry)
			if len(r) != 1 || !strings.Contains(r[0].Err.Error(), "sha256 mismatch") || !strings.Contains(r[0].Err.Error(), "again from the start") {
				t.Errorf("retry events %v, want one saying the file is fetched again", r)
			}
		})
	}
}

func TestCancelKeepsPartForResume(t *testing.T) {
	body := payload(256<<10, 9)
	res := newResource(body, `"c"`)
	half := len(body) / 2
	rc := &recorder{}
	srv := serve(t, rc, func(n int, w http.ResponseWriter, r *http.Request) {
		if n > 1 {
			res.ServeHTTP(w, r)
			return
		}
		w.Header().Set("ETag", `"c"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:half])
		w.(http.Flusher).Flush()
		blockUntil(t, r)
	})
	path := filepath.Join(t.TempDir(), "f")
	c := newClient(t, testConfig())
	ctx, cancel := context.WithCancel(context.Background())
	req := request(srv.URL, path, nil)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Fetch(ctx, req)
		errc <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for req.Progress.Done() < int64(half) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	var err error
	within(t, 5*time.Second, func() { err = <-errc })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "kept for a resume") {
		t.Errorf("message %q should say the part is kept", err)
	}
	if got := mustFile(t, path+".part"); len(got) != half {
		t.Fatalf("part has %d bytes, want %d", len(got), half)
	}
	if m, err := ReadMeta(path + ".part"); err != nil || m.URL != srv.URL || m.ETag != `"c"` {
		t.Fatalf("sidecar %+v, %v", m, err)
	}
	assertGone(t, path)

	req2 := request(srv.URL, path, nil)
	req2.SHA256 = sum(body)
	got, err := c.Fetch(context.Background(), req2)
	if err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, body)
	if r := rc.header(1).Get("Range"); r != fmt.Sprintf("bytes=%d-", half) {
		t.Errorf("resume Range %q", r)
	}
	if got.Bytes != int64(len(body)-half) {
		t.Errorf("Bytes %d, want %d (only the rest)", got.Bytes, len(body)-half)
	}
}

func TestCancelDuringRetryWait(t *testing.T) {
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	cfg := testConfig()
	cfg.RetryWait = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	ev := &events{}
	req := request(srv.URL, filepath.Join(t.TempDir(), "f"), nil)
	req.Emit = func(e event.Event) {
		ev.emit(e)
		if e.Kind == event.Retry {
			cancel()
		}
	}
	var err error
	within(t, 5*time.Second, func() { _, err = newClient(t, cfg).Fetch(ctx, req) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestIfNewer(t *testing.T) {
	body := []byte("version one")
	res := newResource(body, `"one"`)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) { res.ServeHTTP(w, r) })
	path := filepath.Join(t.TempDir(), "f")
	c := newClient(t, testConfig())
	if _, err := c.Fetch(context.Background(), request(srv.URL, path, nil)); err != nil {
		t.Fatal(err)
	}
	etagStored := readETag(path) == `"one"`

	req := request(srv.URL, path, nil)
	req.IfNewer = true
	got, err := c.Fetch(context.Background(), req)
	if err != nil || !got.Skipped || got.HTTPStatus != http.StatusNotModified {
		t.Fatalf("second Fetch: %+v, %v; want skipped with 304", got, err)
	}
	h := rc.header(1)
	if h.Get("If-Modified-Since") == "" {
		t.Error("no If-Modified-Since")
	}
	if etagStored && h.Get("If-None-Match") != `"one"` {
		t.Errorf("If-None-Match %q", h.Get("If-None-Match"))
	}
	if !etagStored {
		t.Log("no user xattrs here: If-None-Match not checked")
	}
	assertDone(t, path, body)

	res.set([]byte("version two, longer"), `"two"`)
	req = request(srv.URL, path, nil)
	req.IfNewer = true
	got, err = c.Fetch(context.Background(), req)
	if err != nil || got.Skipped {
		t.Fatalf("third Fetch: %+v, %v; want a download", got, err)
	}
	assertDone(t, path, []byte("version two, longer"))
}

func TestRenameFromContentDisposition(t *testing.T) {
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="report.pdf"`)
		fmt.Fprint(w, "pdf")
	})
	dir := t.TempDir()
	t.Run("renamed", func(t *testing.T) {
		var asked []string
		req := request(srv.URL+"/download?id=1", filepath.Join(dir, "download"), nil)
		req.Rename = func(name string) (Destination, error) {
			asked = append(asked, name)
			return Destination{Path: filepath.Join(dir, name)}, nil
		}
		res, err := newClient(t, testConfig()).Fetch(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if len(asked) != 1 || asked[0] != "report.pdf" {
			t.Errorf("Rename called with %q", asked)
		}
		if res.Path != filepath.Join(dir, "report.pdf") {
			t.Errorf("Path %q", res.Path)
		}
		assertDone(t, filepath.Join(dir, "report.pdf"), []byte("pdf"))
		assertGone(t, filepath.Join(dir, "download"), filepath.Join(dir, "download.part"))
	})
	t.Run("skipped", func(t *testing.T) {
		req := request(srv.URL+"/download?id=2", filepath.Join(dir, "download2"), nil)
		req.Rename = func(name string) (Destination, error) { return Destination{}, ErrSkip }
		res, err := newClient(t, testConfig()).Fetch(context.Background(), req)
		if !errors.Is(err, ErrSkip) || !res.Skipped {
			t.Fatalf("%+v, %v; want ErrSkip", res, err)
		}
		assertGone(t, filepath.Join(dir, "download2"), filepath.Join(dir, "download2.part"), filepath.Join(dir, "download2.part.meta"))
	})
	t.Run("skipped, with a part from an earlier run", func(t *testing.T) {
		// The server's name may be another item's file: this item's bytes
		// are not thrown away.
		path := filepath.Join(dir, "download3")
		u := srv.URL + "/download?id=3"
		writePart(t, path, []byte("pd"), &Meta{URL: u, Length: 3})
		req := request(u, path, nil)
		req.Rename = func(name string) (Destination, error) { return Destination{}, ErrSkip }
		res, err := newClient(t, testConfig()).Fetch(context.Background(), req)
		if !errors.Is(err, ErrSkip) || !res.Skipped {
			t.Fatalf("%+v, %v; want ErrSkip", res, err)
		}
		if got := mustFile(t, path+".part"); string(got) != "pd" {
			t.Errorf("the part holds %q, want the %q it had", got, "pd")
		}
		if _, err := ReadMeta(path + ".part"); err != nil {
			t.Errorf("the part's sidecar: %v", err)
		}
	})
}

// TestUnsupportedItems: an item Fetch cannot take fails before anything is
// sent, with a message that says why and an error that errors.Is tells
// apart as the input package's errors for the same lines are (wantIs).
func TestUnsupportedItems(t *testing.T) {
	c := newClient(t, testConfig())
	dir := t.TempDir()
	for _, tt := range []struct {
		url, want string
		wantIs    error
	}{
		{"ftp://example.test/f", `unsupported scheme "ftp"`, input.ErrUnsupportedScheme},
		{"http:///nohost", "no host", input.ErrInvalidURL},
		{"http://[::1/x", "invalid URL: ", input.ErrInvalidURL},
		{"file://otherhost/etc/passwd", "only local files", nil},
		{"", "empty item", input.ErrEmptyItem},
		{filepath.Join(dir, "missing"), "no such file: " + filepath.Join(dir, "missing"), fs.ErrNotExist},
		// A Markdown list item or a numbered line is a local path to the
		// input package; its error must say so, not quote url.Parse.
		{"- http://example.test/f", "no such file: - http://example.test/f (nor a URL: a URL must start with http://", fs.ErrNotExist},
		{"1. http://example.test/f", "no such file: 1. http://example.test/f (nor a URL", fs.ErrNotExist},
		// A ~ in a list or a quoted argument reaches fetchpool as it is:
		// the error must say so, not send the user to look in ~.
		{"~/no-such-file", "no such file: ~/no-such-file (a leading ~ is not expanded outside a shell", fs.ErrNotExist},
		{"~user/f", "(a leading ~ is not expanded", fs.ErrNotExist},
		{"-", "no such file: - (a list on standard input is read with -i -, or when no item is given)", fs.ErrNotExist},
		// fetchpool has no subcommands for these: a user who expected one.
		{"version", "no such file: version (for fetchpool's version, run fetchpool --version)", fs.ErrNotExist},
		{"help", "no such file: help (for fetchpool's help, run fetchpool --help)", fs.ErrNotExist},
		// A URL without its scheme, which curl and wget would take as
		// http://: the error must say what is missing.
		{"example.test/f", "no such file: example.test/f (nor a URL: a URL needs its scheme, as in https://example.test/f)", fs.ErrNotExist},
		{"www.example.test", "(nor a URL: a URL needs its scheme, as in https://www.example.test)", fs.ErrNotExist},
		{"127.0.0.1:8080/f.bin", "(nor a URL: a URL needs its scheme, as in https://127.0.0.1:8080/f.bin)", fs.ErrNotExist},
		{"localhost:8080", "(nor a URL: a URL needs its scheme, as in https://localhost:8080)", fs.ErrNotExist},
		// Quotes that no shell took off, from a list.
		{`"http://example.test/f"`, `no such file: "http://example.test/f" (a list takes items without quotes: write http://example.test/f)`, fs.ErrNotExist},
		{"'a b.txt'", "(a list takes items without quotes: write a b.txt)", fs.ErrNotExist},
	} {
		_, err := c.Fetch(context.Background(), request(tt.url, filepath.Join(dir, "out"), nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.url, err, tt.want)
		}
		if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
			t.Errorf("%s: err = %v, want it to match %v", tt.url, err, tt.wantIs)
		}
	}
	assertGone(t, filepath.Join(dir, "out"), filepath.Join(dir, "out.part"))
}

func TestSlowButSteadyIsNotAStall(t *testing.T) {
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "20")
		for i := 0; i < 20; i++ {
			w.Write([]byte{'a' + byte(i)})
			w.(http.Flusher).Flush()
			time.Sleep(50 * time.Millisecond) // 1s in all, never 300ms silent
		}
	})
	cfg := testConfig()
	cfg.StallTimeout = 300 * time.Millisecond
	cfg.Retries = 0
	path := filepath.Join(t.TempDir(), "f")
	if _, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil)); err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, []byte("abcdefghijklmnopqrst"))
}

// TestAnswersBeforeTheBodyAreNotAStall checks that the stall timeout counts
// every answer of the server as data, not only the bytes of the final body:
// a chain of redirects whose every hop answers in time, or a server that
// sends 102 Processing while it works, is not silent, even when the body
// begins later than one stall timeout after the request. Both transports:
// plain http (http1) and HTTP/2 over TLS (net/http). Each answer comes
// 500ms within the stall timeout: the first one waits for a TLS handshake
// too, which the race detector on a loaded machine makes slow.
func TestAnswersBeforeTheBodyAreNotAStall(t *testing.T) {
	const (
		pause   = 100 * time.Millisecond // each answer; 10 of them span 1s
		answers = 10
	)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(pause)
		if hop, _ := strconv.Atoi(r.URL.Query().Get("hop")); hop < answers-1 && r.URL.Path == "/redirects" {
			http.Redirect(w, r, fmt.Sprintf("/redirects?hop=%d", hop+1), http.StatusFound)
			return
		}
		if r.URL.Path == "/processing" {
			for range answers - 1 {
				w.WriteHeader(http.StatusProcessing)
				time.Sleep(pause)
			}
		}
		w.Write([]byte("the body"))
	})
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	h2 := httptest.NewUnstartedServer(handler)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	t.Cleanup(h2.Close)
	for _, tt := range []struct{ name, url string }{
		{"redirects over http", plain.URL + "/redirects"},
		{"102 Processing over http", plain.URL + "/processing"},
		{"redirects over HTTP/2", h2.URL + "/redirects"},
		{"102 Processing over HTTP/2", h2.URL + "/processing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.StallTimeout = 600 * time.Millisecond
			cfg.Retries = 0
			cfg.Insecure = true
			path := filepath.Join(t.TempDir(), "f")
			if _, err := newClient(t, cfg).Fetch(context.Background(), request(tt.url, path, nil)); err != nil {
				t.Fatal(err)
			}
			assertDone(t, path, []byte("the body"))
		})
	}
}

// countingThrottle passes bytes through and counts them.
type countingThrottle struct {
	mu    sync.Mutex
	bytes int64
}

func (c *countingThrottle) Reader(ctx context.Context, r io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		n, err := r.Read(p)
		c.mu.Lock()
		c.bytes += int64(n)
		c.mu.Unlock()
		return n, err
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestThrottleSeesEveryByte(t *testing.T) {
	body := payload(1<<20, 17)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		newResource(body, `"t"`).ServeHTTP(w, r)
	})
	for _, split := range []int{1, 4} {
		th := &countingThrottle{}
		cfg := testConfig()
		cfg.Throttle = th
		cfg.Split, cfg.SplitMin = split, 1
		path := filepath.Join(t.TempDir(), "f")
		if _, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil)); err != nil {
			t.Fatal(err)
		}
		assertDone(t, path, body)
		if th.bytes != int64(len(body)) {
			t.Errorf("split %d: throttle saw %d bytes, want %d", split, th.bytes, len(body))
		}
	}

	// A local copy is paced too: --limit-rate did nothing to one.
	src := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(src, body, 0o644); err != nil {
		t.Fatal(err)
	}
	th := &countingThrottle{}
	cfg := testConfig()
	cfg.Throttle = th
	path := filepath.Join(t.TempDir(), "f")
	if _, err := newClient(t, cfg).Fetch(context.Background(), request(src, path, nil)); err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, body)
	if th.bytes != int64(len(body)) {
		t.Errorf("local copy: throttle saw %d bytes, want %d", th.bytes, len(body))
	}
}

func TestHTTPSInsecureKeepsHTTP2(t *testing.T) {
	var proto string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto = r.Proto
		fmt.Fprint(w, "secure")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "f")

	res, err := newClient(t, testConfig()).Fetch(context.Background(), request(srv.URL, path, nil))
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("self-signed certificate accepted without --insecure: %v", err)
	}
	if res.Attempts != 1 {
		t.Errorf("%d attempts: a bad certificate is not retried", res.Attempts)
	}
	cfg := testConfig()
	cfg.Insecure = true
	if _, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil)); err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, []byte("secure"))
	if proto != "HTTP/2.0" {
		t.Errorf("protocol %s, want HTTP/2.0", proto)
	}
}

func TestServerCapsRanges(t *testing.T) {
	body := payload(300<<10, 18)
	const capped = 64 << 10
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		start := 0
		fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &start)
		end := min(start+capped, len(body))
		w.Header().Set("ETag", `"c"`)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, len(body)))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(body[start:end])
	})
	for _, split := range []int{1, 4} {
		cfg := testConfig()
		cfg.Retries = 0
		cfg.Split, cfg.SplitMin = split, 1
		path := filepath.Join(t.TempDir(), "f")
		before := rc.count()
		res, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil))
		if err != nil {
			t.Fatalf("split %d: %v", split, err)
		}
		assertDone(t, path, body)
		if n := rc.count() - before; n != 5 || res.Attempts != 1 {
			t.Errorf("split %d: %d requests, %d attempts; want 5 requests in 1 attempt", split, n, res.Attempts)
		}
	}
}

// TestConnectTimeout: a server that never takes the connection fails each
// attempt at --connect-timeout, with an error that says how long it
// waited, as the --timeout and --stall-timeout errors do ("connect timed
// out (--connect-timeout)" did not), through either transport.
func TestConnectTimeout(t *testing.T) {
	addr := backlog.Full(t)
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			cfg := testConfig()
			cfg.StallTimeout = 0
			cfg.ConnectTimeout = 200 * time.Millisecond
			cfg.Retries = 1
			var err error
			within(t, 5*time.Second, func() {
				_, err = newClient(t, cfg).Fetch(context.Background(), request(scheme+"://"+addr+"/", filepath.Join(t.TempDir(), "f"), nil))
			})
			if err == nil || err.Error() != "after 2 attempts: connect timed out after 200ms (--connect-timeout) (×2)" {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// TestConnectPhaseIsNotAStall: a connection still being made (a dial to a
// full backlog, a TLS handshake that gets no answer) is bounded and told by
// --connect-timeout, not by a shorter --stall-timeout, which blamed the
// silence of a server that had not been reached yet ("no data received for
// 1s (--stall-timeout)" while it was still connecting).
func TestConnectPhaseIsNotAStall(t *testing.T) {
	full := backlog.Full(t)
	silent := acceptEach(t, func(c net.Conn) {
		io.Copy(io.Discard, c) // accepted, never answered
	})
	for _, tt := range []struct {
		name, url, want string
	}{
		{"dial, http", "http://" + full + "/", "connect timed out after 600ms (--connect-timeout)"},
		{"dial, https", "https://" + full + "/", "connect timed out after 600ms (--connect-timeout)"},
		{"TLS handshake", "https://" + silent + "/", "TLS handshake timed out after 600ms (--connect-timeout)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.StallTimeout = 100 * time.Millisecond
			cfg.ConnectTimeout = 600 * time.Millisecond
			cfg.Retries = 0
			var err error
			within(t, 5*time.Second, func() {
				_, err = newClient(t, cfg).Fetch(context.Background(), request(tt.url, filepath.Join(t.TempDir(), "f"), nil))
			})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestFailureBeforeTheBodyLeavesNoPart checks that an item that fails
// before the first byte of its body leaves no empty part and sidecar
// behind: they hold nothing to resume, and the failure does not mention
// them. A part with bytes is kept (TestStall, TestShortBody...).
func TestFailureBeforeTheBodyLeavesNoPart(t *testing.T) {
	for _, tt := range []struct{ name, response string }{
		{"malformed chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
		{"closed after a large length", "HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
				c, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				io.WriteString(c, tt.response)
				c.Close()
			})
			cfg := testConfig()
			cfg.Retries = 1
			path := filepath.Join(t.TempDir(), "f")
			_, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil))
			if err == nil || strings.Contains(err.Error(), ".part") {
				t.Fatalf("err = %v, want a failure that mentions no part", err)
			}
			assertGone(t, path, path+".part", path+".part.meta")
		})
	}
}

// TestHTTPSToAPlainHTTPServer checks that an https:// URL whose server
// speaks plain HTTP fails at once, saying so, as net/http's Client would
// ("server gave HTTP response to HTTPS client"): not retried, and not in
// the TLS library's words ("first record does not look like a TLS
// handshake").
func TestHTTPSToAPlainHTTPServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	cfg := testConfig()
	u := "https://" + strings.TrimPrefix(srv.URL, "http://") + "/f"
	res, err := newClient(t, cfg).Fetch(context.Background(), request(u, filepath.Join(t.TempDir(), "f"), nil))
	want := "the server answered in plain HTTP, not TLS: its port serves http://, not https://"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if res.Attempts != 1 {
		t.Errorf("%d attempts, want 1", res.Attempts)
	}
}

// TestHTTPToATLSServer checks that an http:// URL whose server answers in
// TLS (an alert, as OpenSSL-based servers send) fails at once, saying so,
// not retried as a "malformed HTTP response".
func TestHTTPToATLSServer(t *testing.T) {
	addr := acceptEach(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
			io.WriteString(c, "\x15\x03\x01\x00\x02\x02\x0a")
		}
	})
	res, err := newClient(t, testConfig()).Fetch(context.Background(), request("http://"+addr+"/f", filepath.Join(t.TempDir(), "f"), nil))
	want := "the server answered in TLS: its port serves https://, not http://"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if res.Attempts != 1 {
		t.Errorf("%d attempts, want 1", res.Attempts)
	}
}

// TestTLSHandshakeTimeout checks that a server that accepts the connection
// but never finishes the TLS handshake fails as a connect timeout does,
// naming the flag that bounds it, not in net/http's bare words ("TLS
// handshake timeout").
func TestTLSHandshakeTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn // accepted, never answered
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	cfg := testConfig()
	cfg.StallTimeout = 0
	cfg.ConnectTimeout = 200 * time.Millisecond
	cfg.Retries = 1
	within(t, 5*time.Second, func() {
		_, err = newClient(t, cfg).Fetch(context.Background(), request("https://"+ln.Addr().String()+"/", filepath.Join(t.TempDir(), "f"), nil))
	})
	// With the value, as the other timeouts say theirs.
	if err == nil || err.Error() != "after 2 attempts: TLS handshake timed out after 200ms (--connect-timeout) (×2)" {
		t.Fatalf("err = %v", err)
	}
}

// TestIfNewerServerIgnoresConditions: a server that answers a conditional
// GET with a 200 anyway (or a 206 to the resume of a part) still tells, by
// its ETag and Last-Modified, whether its copy is newer; one that is not
// leaves the file alone, and a part of it is removed.
func TestIfNewerServerIgnoresConditions(t *testing.T) {
	old := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC) // the resource's Last-Modified
	for _, tt := range []struct {
		name    string
		mtime   time.Time // of the file on disk
		part    bool      // a part of the resource from an earlier run
		replace bool
	}{
		{"file newer than the server's", old.Add(time.Hour), false, false},
		{"file as old as the server's", old, false, false},
		{"file older than the server's", old.Add(-time.Hour), false, true},
		{"file newer, a part to resume", old.Add(time.Hour), true, false},
		{"file older, a part to resume", old.Add(-time.Hour), true, true},
		{"file newer, a whole part", old.Add(time.Hour), true, false},
		{"file older, a whole part", old.Add(-time.Hour), true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := payload(1<<20, 31)
			res := newResource(body, "")
			srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
				r.Header.Del("If-Modified-Since") // a server that ignores it
				res.ServeHTTP(w, r)
			})
			path := filepath.Join(t.TempDir(), "f")
			local := []byte("the local copy")
			if err := os.WriteFile(path, local, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, time.Time{}, tt.mtime); err != nil {
				t.Fatal(err)
			}
			if tt.part {
				have := body[:1000]
				if strings.HasSuffix(tt.name, "a whole part") {
					have = body // all of it: a run stopped while it renamed the file
				}
				if err := os.WriteFile(path+".part", have, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := writeMeta(path+".part", Meta{URL: srv.URL, LastModified: old.Format(http.TimeFormat), Length: int64(len(body))}); err != nil {
					t.Fatal(err)
				}
			}
			req := request(srv.URL, path, nil)
			req.IfNewer = true
			got, err := newClient(t, testConfig()).Fetch(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if tt.replace {
				if got.Skipped {
					t.Fatalf("skipped: %+v", got)
				}
				assertDone(t, path, body)
				return
			}
			if !got.Skipped {
				t.Errorf("not skipped: %+v", got)
			}
			if b, _ := os.ReadFile(path); string(b) != string(local) {
				t.Errorf("the local copy was replaced")
			}
			assertGone(t, path+".part", path+".part.meta")
		})
	}
}

// TestIfNewerResumeIsConditional: with --on-exists newer, the part of a
// copy from an earlier run (one killed while --on-exists overwrite
// replaced the file) is resumed with a request that is conditional too:
// a server that has nothing newer than the file answers 304 before any
// byte of the rest is sent, and the part is removed. Before, the rest of
// the part was fetched, found not newer, and thrown away. A copy that is
// newer than the file is resumed.
func TestIfNewerResumeIsConditional(t *testing.T) {
	mod := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC) // newResource's Last-Modified
	for _, tt := range []struct {
		name    string
		mtime   time.Time // of the file on disk
		replace bool
	}{
		{"file as new as the server's", mod, false},
		{"file older than the server's", mod.Add(-time.Hour), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := payload(1<<20, 37)
			rc := &recorder{}
			res := newResource(body, "")
			srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) { res.ServeHTTP(w, r) })
			path := filepath.Join(t.TempDir(), "f")
			os.WriteFile(path, []byte("the local copy"), 0o644)
			os.Chtimes(path, time.Time{}, tt.mtime)
			os.WriteFile(path+".part", body[:1000], 0o644)
			if err := writeMeta(path+".part", Meta{URL: srv.URL, LastModified: mod.Format(http.TimeFormat), Length: int64(len(body))}); err != nil {
				t.Fatal(err)
			}
			req := request(srv.URL, path, nil)
			req.IfNewer = true
			got, err := newClient(t, testConfig()).Fetch(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			h := rc.header(0)
			if h.Get("Range") != "bytes=1000-" || h.Get("If-Modified-Since") != tt.mtime.Format(http.TimeFormat) {
				t.Errorf("the resume sent Range %q, If-Modified-Since %q; want both", h.Get("Range"), h.Get("If-Modified-Since"))
			}
			if tt.replace {
				if got.Skipped || got.Bytes != int64(len(body)-1000) {
					t.Fatalf("%+v; want the part resumed", got)
				}
				assertDone(t, path, body)
				return
			}
			if !got.Skipped || got.HTTPStatus != http.StatusNotModified || got.Bytes != 0 || !got.StaleRemoved {
				t.Errorf("%+v; want skipped on a 304, nothing received, the part removed", got)
			}
			if b, _ := os.ReadFile(path); string(b) != "the local copy" {
				t.Errorf("the local copy was replaced")
			}
			assertGone(t, path+".part", path+".part.meta")
		})
	}
}

// TestRangesThatDoNotFitEndTheAttempt: a server whose answers to range
// requests contradict each other is not asked again and again within one
// attempt: the attempt fails, and the retries (with their backoff and
// their count) decide what comes next.
func TestRangesThatDoNotFitEndTheAttempt(t *testing.T) {
	body := payload(2<<20, 41)
	for _, tt := range []struct {
		name  string
		split int
		serve func(n int, w http.ResponseWriter, r *http.Request)
	}{
		{"the same short 206 to every request", 1, func(_ int, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Range", "bytes 0-49/100")
			w.Header().Set("Content-Length", "50")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[:50])
		}},
		{"a split whose file grows after the probe", 4, func(n int, w http.ResponseWriter, r *http.Request) {
			size := len(body)
			if n > 1 {
				size += 1000
			}
			var first, last int
			if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &first, &last); err != nil {
				last = size - 1
			}
			last = min(last, size-1, len(body)-1)
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, size))
			w.Header().Set("Content-Length", strconv.Itoa(max(last-first+1, 0)))
			w.WriteHeader(http.StatusPartialContent)
			if first <= last {
				w.Write(body[first : last+1])
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			srv := serve(t, rc, tt.serve)
			cfg := testConfig()
			cfg.Retries = 2
			cfg.Split, cfg.SplitMin = tt.split, 1<<20
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got, err := newClient(t, cfg).Fetch(ctx, request(srv.URL, filepath.Join(t.TempDir(), "f"), nil))
			if ctx.Err() != nil {
				t.Fatalf("still asking after 20s: %d requests", rc.count())
			}
			if err == nil || got.Attempts != 3 {
				t.Errorf("%d attempts, err %v; want 3 and a failure", got.Attempts, err)
			}
			if n := rc.count(); n > 40 {
				t.Errorf("%d requests for 3 attempts", n)
			}
		})
	}
}

// TestBadResponsesSayWhatHappened: a server that closes the connection
// without a word, or sends a header that does not parse, gets a message
// that says so, over plain http (the lean transport) and over https
// (net/http's), not Go's "EOF" or a "malformed trailer".
func TestBadResponsesSayWhatHappened(t *testing.T) {
	tests := []struct {
		name, answer, want string
	}{
		{"empty reply", "", "the server closed the connection without sending a response"},
		{"header without colon", "HTTP/1.1 200 OK\r\nBogus\r\nContent-Length: 1\r\n\r\nx",
			`the server sent a malformed response header (malformed MIME header: missing colon: "Bogus")`},
		{"NUL in a header", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 1\r\n\r\nx",
			`the server sent a malformed response header (malformed MIME header line: "X-A: a\x00b")`},
	}
	for _, tt := range tests {
		for _, scheme := range []string{"http", "https"} {
			t.Run(tt.name+" "+scheme, func(t *testing.T) {
				u := answeringServer(t, scheme, tt.answer)
				cfg := testConfig()
				cfg.Retries = 0
				cfg.Insecure = true
				_, err := newClient(t, cfg).Fetch(context.Background(), request(u, filepath.Join(t.TempDir(), "f"), nil))
				if err == nil || err.Error() != tt.want {
					t.Fatalf("err = %v\nwant      %s", err, tt.want)
				}
			})
		}
	}
}

// answeringServer serves scheme (http, or https over HTTP/1.1) on
// loopback: it reads each request's header, writes answer as is and
// closes the connection. It returns a URL on it.
func answeringServer(t *testing.T, scheme, answer string) string {
	t.Helper()
	u, _ := countingAnswerer(t, scheme, answer)
	return u
}

// countingAnswerer is answeringServer that also counts the requests it
// read.
func countingAnswerer(t *testing.T, scheme, answer string) (string, *atomic.Int32) {
	t.Helper()
	var requests atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if scheme == "https" {
		certs := httptest.NewUnstartedServer(nil)
		certs.StartTLS() // for its certificate
		cfg := certs.TLS.Clone()
		certs.Close()
		cfg.NextProtos = []string{"http/1.1"}
		ln = tls.NewListener(ln, cfg)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					requests.Add(1)
					io.WriteString(c, answer)
				}
			}()
		}
	}()
	return scheme + "://" + ln.Addr().String() + "/f", &requests
}

// TestSpaceInURLHint: a list line "URL NAME" (a space where a TAB belongs)
// or "URL # comment" is one URL with spaces, sent as %20; when the server
// then has no such file, the error says why, not only "HTTP 404".
func TestSpaceInURLHint(t *testing.T) {
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, " ") || r.URL.Path == "/none" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("x"))
	})
	cfg := testConfig()
	cfg.Retries = 0
	c := newClient(t, cfg)
	dir := t.TempDir()
	for _, tt := range []struct {
		url, want string
	}{
		{srv.URL + "/f.bin other.bin", "HTTP 404 Not Found (the URL has a space, sent as %20: in a list, give an output name after a TAB, URL<TAB>NAME, and a comment on a line of its own)"},
		{srv.URL + "/f.bin # a comment", "(the URL has a space"},
		{srv.URL + "/none", "HTTP 404 Not Found"},
	} {
		_, err := c.Fetch(context.Background(), request(tt.url, filepath.Join(dir, "out"), nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.url, err, tt.want)
		}
		var he *HTTPError
		if !errors.As(err, &he) {
			t.Errorf("%s: err = %v, want an *HTTPError", tt.url, err)
		}
		if !strings.Contains(tt.url, " ") && strings.Contains(err.Error(), "space") {
			t.Errorf("%s: err = %v, a hint about a space for a URL without one", tt.url, err)
		}
	}
}

// TestSidecarKeepsNoPassword: the sidecar of a part (.part.meta, 0644,
// in the output directory that CI jobs often publish) held the URL whole,
// with its password. It holds the URL as the terminal shows it
// (user:xxxxx@), and the next run still knows the part for its own and
// resumes it.
func TestSidecarKeepsNoPassword(t *testing.T) {
	body := payload(2*MaxPartWithoutSidecar, 5)
	res := newResource(body, `"v1"`)
	rc := &recorder{}
	var up atomic.Bool // false: the first run's server cuts, then is down
	srv := serve(t, rc, func(n int, w http.ResponseWriter, r *http.Request) {
		switch {
		case up.Load():
			res.ServeHTTP(w, r)
		case n == 1: // the first request: cut after 1000 bytes
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body[:1000])
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	u := strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1) + "/f"
	cfg := testConfig()
	cfg.Retries = 0
	c := newClient(t, cfg)
	path := filepath.Join(t.TempDir(), "f")
	if _, err := c.Fetch(context.Background(), request(u, path, nil)); err == nil {
		t.Fatal("the cut transfer did not fail")
	}
	side, err := os.ReadFile(path + ".part.meta")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(side, []byte("s3cret")) || !bytes.Contains(side, []byte("alice:xxxxx@")) {
		t.Errorf("sidecar %s, want the URL with its password as xxxxx", side)
	}
	up.Store(true)
	first := rc.count()
	if _, err := c.Fetch(context.Background(), request(u, path, nil)); err != nil {
		t.Fatal(err)
	}
	if got := rc.header(first).Get("Range"); got != "bytes=1000-" {
		t.Errorf("second run: Range %q, want bytes=1000- (a resume)", got)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, body) {
		t.Errorf("file of %d bytes, want the body's %d", len(got), len(body))
	}
}

// TestServerCapsRangesOfUnknownLength: a 206 that does not give the length
// of the resource ("bytes 0-1023/*") may be a capped range, as in
// TestServerCapsRanges: the rest is asked for until the server has no more
// (a 416, with or without a Content-Range), never taken for the whole
// file, split or not.
func TestServerCapsRangesOfUnknownLength(t *testing.T) {
	body := payload(3000, 19)
	const capped = 1024
	for _, end := range []string{"", "bytes */*", "bytes */3000"} {
		rc := &recorder{}
		srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
			start := 0
			fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &start)
			w.Header().Set("ETag", `"u"`)
			if start >= len(body) {
				if end != "" {
					w.Header().Set("Content-Range", end)
				}
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return
			}
			stop := min(start+capped, len(body))
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/*", start, stop-1))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[start:stop])
		})
		for _, split := range []int{1, 4} {
			cfg := testConfig()
			cfg.Retries = 0
			cfg.Split, cfg.SplitMin = split, 1
			path := filepath.Join(t.TempDir(), "f")
			if _, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil)); err != nil {
				t.Fatalf("416 with %q, split %d: %v", end, split, err)
			}
			assertDone(t, path, body)
		}
	}
}
