package fetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestOneHandshakePerHTTP2Host: requests that start together to an https
// host that speaks HTTP/2 share one connection. net/http dialled one for
// each (16 TLS handshakes for a -j 16 run over one host) and kept only one
// of them. The requests that wait for the first one's answer do not count
// that wait as a stall: each one's own answer takes most of the stall
// timeout. A host that speaks only HTTP/1.1 over TLS still gets its
// requests at once, each on a connection of its own, not one after the
// other.
func TestOneHandshakePerHTTP2Host(t *testing.T) {
	const (
		workers = 8
		delay   = 400 * time.Millisecond // each answer; the stall timeout is 600ms
	)
	for _, h2 := range []bool{true, false} {
		t.Run(map[bool]string{true: "HTTP/2", false: "HTTP/1.1"}[h2], func(t *testing.T) {
			var opened atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if want := map[bool]int{true: 2, false: 1}[h2]; r.ProtoMajor != want {
					t.Errorf("a request over HTTP/%d, want HTTP/%d", r.ProtoMajor, want)
				}
				time.Sleep(delay)
				w.Write([]byte("ok"))
			}))
			srv.EnableHTTP2 = h2
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					opened.Add(1)
				}
			}
			srv.StartTLS()
			t.Cleanup(srv.Close)

			cfg := testConfig()
			cfg.Concurrency = workers
			cfg.Retries = 0
			cfg.Insecure = true
			cfg.StallTimeout = 600 * time.Millisecond
			c := newClient(t, cfg)
			defer c.CloseIdleConnections()
			dir := t.TempDir()
			var wg sync.WaitGroup
			errs := make([]error, workers)
			start := time.Now()
			for i := range workers {
				wg.Go(func() {
					path := filepath.Join(dir, strconv.Itoa(i))
					_, errs[i] = c.Fetch(context.Background(), request(srv.URL+"/"+strconv.Itoa(i), path, nil))
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			for i, err := range errs {
				if err != nil {
					t.Errorf("transfer %d: %v", i, err)
				}
			}
			if n := opened.Load(); h2 && n != 1 {
				t.Errorf("%d connections opened for %d requests at once to an HTTP/2 host, want 1", n, workers)
			}
			// At once: the first answer, then all the others together;
			// one after the other would take workers × delay.
			if elapsed > 4*delay {
				t.Errorf("%d requests took %v, want them at once (about %v)", workers, elapsed, 2*delay)
			}
		})
	}
}

// TestWaitersShareTheFirstConnectFailure: requests that waited for the
// first one to an https host whose TLS handshake never completes fail as
// it did, at once, rather than each make a handshake of its own and wait
// --connect-timeout again.
func TestWaitersShareTheFirstConnectFailure(t *testing.T) {
	const workers = 8
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var accepted atomic.Int64
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			held = append(held, c)
		}
	}()
	cfg := testConfig()
	cfg.Concurrency = workers
	cfg.Retries = 0
	cfg.ConnectTimeout = 300 * time.Millisecond
	c := newClient(t, cfg)
	defer c.CloseIdleConnections()
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, workers)
	start := time.Now()
	for i := range workers {
		wg.Go(func() {
			path := filepath.Join(dir, strconv.Itoa(i))
			_, errs[i] = c.Fetch(context.Background(), request("https://"+silent.Addr().String()+"/"+strconv.Itoa(i), path, nil))
		})
	}
	wg.Wait()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("%d requests to a silent host took %v, want about one connect timeout (300ms)", workers, d)
	}
	for i, err := range errs {
		if want := "TLS handshake timed out after 300ms (--connect-timeout)"; err == nil || err.Error() != want {
			t.Errorf("transfer %d: error %v, want %q", i, err, want)
		}
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("%d connections for %d requests at once to a silent host, want 1", n, workers)
	}
}

// TestSlowFirstAnswerHoldsNoOneBack: the requests that wait for the first
// one to an HTTP/2 host go on once it has its connection, not once it has
// its answer: a first request whose answer is slow to come (or never
// comes, until its stall timeout) does not hold the others back.
func TestSlowFirstAnswerHoldsNoOneBack(t *testing.T) {
	var opened atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		w.Write([]byte("ok"))
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cfg := testConfig()
	cfg.Concurrency = 4
	cfg.Insecure = true
	c := newClient(t, cfg)
	defer c.CloseIdleConnections()
	dir := t.TempDir()
	slow := make(chan error, 1)
	go func() {
		_, err := c.Fetch(context.Background(), request(srv.URL+"/slow", filepath.Join(dir, "slow"), nil))
		slow <- err
	}()
	time.Sleep(100 * time.Millisecond) // the slow one first
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if _, err := c.Fetch(context.Background(), request(srv.URL+"/"+strconv.Itoa(i), filepath.Join(dir, strconv.Itoa(i)), nil)); err != nil {
				t.Errorf("transfer %d: %v", i, err)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("the other requests waited for the first one's answer")
	}
	close(release)
	if err := <-slow; err != nil {
		t.Errorf("the slow one: %v", err)
	}
	<-done
	if n := opened.Load(); n != 1 {
		t.Errorf("%d connections opened, want 1", n)
	}
}

// rtFunc is a RoundTripper made of a func.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestNetHTTPHandshakeTimeoutSaysTheValue: net/http's own handshake timer
// (TLSHandshakeTimeout, which is --connect-timeout) fails a request with
// the bare words "net/http: TLS handshake timeout", of an unexported type.
// It is told as the setup's own deadline tells it, with the value, as
// every other timeout says its own: "TLS handshake timed out (--connect-timeout)"
// left the person to guess how long it waited.
func TestNetHTTPHandshakeTimeoutSaysTheValue(t *testing.T) {
	handshake := errors.New("net/http: TLS handshake timeout")
	for _, tt := range []struct {
		scheme string
		first  bool // the first request to its host, or one that waited for it
	}{{"https", true}, {"https", false}, {"http", true}} {
		f := &firstConn{timeout: 1500 * time.Millisecond, rt: rtFunc(func(*http.Request) (*http.Response, error) {
			return nil, handshake
		})}
		req, _ := http.NewRequest(http.MethodGet, tt.scheme+"://h.test/f", nil)
		if !tt.first {
			// The first request to the host failed: this one waited for it.
			f.RoundTrip(req)
		}
		_, err := f.RoundTrip(req)
		want := "TLS handshake timed out after 1.5s (--connect-timeout)"
		if got := describe(&url.Error{Op: "Get", URL: req.URL.String(), Err: err}); got != want {
			t.Errorf("%s (first %v): %q, want %q", tt.scheme, tt.first, got, want)
		}
		if !errors.Is(err, handshake) {
			t.Errorf("%s: %v does not wrap net/http's error", tt.scheme, err)
		}
		var to interface{ Timeout() bool }
		if !errors.As(err, &to) || !to.Timeout() {
			t.Errorf("%s: %v is not a timeout", tt.scheme, err)
		}
	}
}
