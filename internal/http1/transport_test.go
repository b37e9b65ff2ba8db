package http1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connStats counts the connections an httptest server sees, from its
// ConnState hook.
type connStats struct {
	mu             sync.Mutex
	opened, closed int
}

func (cs *connStats) counts() (opened, closed int) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.opened, cs.closed
}

// newServer starts an httptest server for h that counts its connections;
// it is closed when the test ends.
func newServer(t *testing.T, h http.Handler) (*httptest.Server, *connStats) {
	t.Helper()
	cs := &connStats{}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		switch s {
		case http.StateNew:
			cs.opened++
		case http.StateClosed, http.StateHijacked:
			cs.closed++
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cs
}

// rawServer is a loopback listener whose connections are served by a
// function writing bytes by hand.
type rawServer struct {
	ln      net.Listener
	accepts atomic.Int32
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
}

// newRawServer serves every connection with serve, on its own goroutine,
// until the test ends; the connection is closed when serve returns.
func newRawServer(t *testing.T, serve func(net.Conn)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := &rawServer{ln: ln}
	rs.wg.Add(1)
	go func() {
		defer rs.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			rs.accepts.Add(1)
			rs.mu.Lock()
			rs.conns = append(rs.conns, c)
			rs.mu.Unlock()
			rs.wg.Add(1)
			go func() {
				defer rs.wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		rs.mu.Lock()
		for _, c := range rs.conns {
			c.Close()
		}
		rs.mu.Unlock()
		rs.wg.Wait()
	})
	return rs
}

func (rs *rawServer) URL() string { return "http://" + rs.ln.Addr().String() }

// countingRT is a fallback RoundTripper that counts what it is given and
// passes it to rt (or fails, when rt is nil).
type countingRT struct {
	rt        http.RoundTripper
	calls     atomic.Int32
	closeIdle atomic.Int32
}

func (c *countingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	c.calls.Add(1)
	if c.rt == nil {
		return nil, errors.New("countingRT: no transport")
	}
	return c.rt.RoundTrip(req)
}

func (c *countingRT) CloseIdleConnections() {
	c.closeIdle.Add(1)
	if ci, ok := c.rt.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// newTransport returns a Transport whose fallback is a counting wrapper of
// a net/http Transport; its idle connections are closed when the test ends.
func newTransport(t *testing.T) (*Transport, *countingRT) {
	t.Helper()
	fb := &countingRT{rt: http.DefaultTransport.(*http.Transport).Clone()}
	tr := &Transport{Fallback: fb}
	t.Cleanup(tr.CloseIdleConnections)
	return tr, fb
}

// get sends a GET for u through rt and returns the status and whole body.
func get(t *testing.T, rt http.RoundTripper, u string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", u, err)
	}
	return resp.StatusCode, string(b)
}

// waitFor polls cond until it holds, failing the test after 3 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// seen is what a handler saw of a request on the wire.
type seen struct {
	host, requestURI string
	header           http.Header
}

func TestGetRequestAndResponse(t *testing.T) {
	var mu sync.Mutex
	var last seen
	content := []byte("0123456789")
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = seen{host: r.Host, requestURI: r.RequestURI, header: r.Header.Clone()}
		mu.Unlock()
		w.Header().Set("X-Reply", "yes")
		w.Header().Set("Content-Type", "text/plain")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
	}))
	tr, fb := newTransport(t)
	srvHost := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		name       string
		path       string
		host       string   // req.Host, when set
		ua         []string // the User-Agent values set; nil: none set
		header     map[string][]string
		wantHost   string
		wantUA     []string // nil: no User-Agent on the wire
		wantStatus int
		wantBody   string
	}{
		{name: "default user agent", path: "/a", wantHost: srvHost,
			wantUA: []string{"Go-http-client/1.1"}, wantStatus: 200, wantBody: "0123456789"},
		{name: "set user agent", path: "/b", ua: []string{"fetchpool/1.0"}, wantHost: srvHost,
			wantUA: []string{"fetchpool/1.0"}, wantStatus: 200, wantBody: "0123456789"},
		{name: "empty user agent means none", path: "/c", ua: []string{""}, wantHost: srvHost,
			wantStatus: 200, wantBody: "0123456789"},
		{name: "host override", path: "/d", host: "example.test:8080", wantHost: "example.test:8080",
			wantUA: []string{"Go-http-client/1.1"}, wantStatus: 200, wantBody: "0123456789"},
		{name: "query string kept", path: "/e/f?q=1&x=a%20b&y=%2F", wantHost: srvHost,
			wantUA: []string{"Go-http-client/1.1"}, wantStatus: 200, wantBody: "0123456789"},
		{name: "custom headers", path: "/g",
			header:   map[string][]string{"X-One": {"1"}, "X-Multi": {"a", "b"}, "Accept": {"text/plain"}},
			wantHost: srvHost, wantUA: []string{"Go-http-client/1.1"}, wantStatus: 200, wantBody: "0123456789"},
		{name: "range", path: "/h", header: map[string][]string{"Range": {"bytes=2-5"}},
			wantHost: srvHost, wantUA: []string{"Go-http-client/1.1"}, wantStatus: 206, wantBody: "2345"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tt.host
			if tt.ua != nil {
				req.Header["User-Agent"] = tt.ua
			}
			for k, vs := range tt.header {
				req.Header[k] = vs
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if got := resp.Header.Get("X-Reply"); got != "yes" {
				t.Errorf("response header X-Reply = %q, want yes", got)
			}
			if got := resp.Header.Get("Content-Type"); got != "text/plain" {
				t.Errorf("response Content-Type = %q", got)
			}
			if tt.wantStatus == 206 {
				if got := resp.Header.Get("Content-Range"); got != "bytes 2-5/10" {
					t.Errorf("Content-Range = %q", got)
				}
			}
			if resp.Request != req {
				t.Errorf("resp.Request is not the request sent")
			}

			mu.Lock()
			s := last
			mu.Unlock()
			if s.host != tt.wantHost {
				t.Errorf("Host on the wire = %q, want %q", s.host, tt.wantHost)
			}
			if s.requestURI != tt.path {
				t.Errorf("request URI on the wire = %q, want %q", s.requestURI, tt.path)
			}
			if got := s.header["User-Agent"]; fmt.Sprint(got) != fmt.Sprint(tt.wantUA) {
				t.Errorf("User-Agent on the wire = %q, want %q", got, tt.wantUA)
			}
			for k, vs := range tt.header {
				if got := s.header[k]; fmt.Sprint(got) != fmt.Sprint(vs) {
					t.Errorf("header %s on the wire = %q, want %q", k, got, vs)
				}
			}
		})
	}
	if n := fb.calls.Load(); n != 0 {
		t.Errorf("fallback called %d times for plain GETs", n)
	}
	if opened, _ := cs.counts(); opened != 1 {
		t.Errorf("%d connections for %d sequential requests, want 1", opened, len(tests))
	}
}

func TestHeadNoBodyThenReuse(t *testing.T) {
	var methods []string
	var mu sync.Mutex
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		methods = append(methods, r.Method)
		mu.Unlock()
		w.Header().Set("Content-Length", "5")
		io.WriteString(w, "hello")
	}))
	tr, _ := newTransport(t)
	req, _ := http.NewRequest(http.MethodHead, srv.URL+"/x", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Length") != "5" {
		t.Errorf("HEAD: %d, Content-Length %q", resp.StatusCode, resp.Header.Get("Content-Length"))
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != 0 {
		t.Errorf("HEAD body = %q, %v; want empty", b, err)
	}
	for i := 0; i < 2; i++ {
		if status, body := get(t, tr, srv.URL+"/y"); status != 200 || body != "hello" {
			t.Errorf("GET after HEAD: %d %q", status, body)
		}
	}
	if opened, _ := cs.counts(); opened != 1 {
		t.Errorf("%d connections for HEAD then GETs, want 1", opened)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(methods) != "[HEAD GET GET]" {
		t.Errorf("server saw %v", methods)
	}
}

func TestKeepAliveSequential(t *testing.T) {
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
	}))
	tr, _ := newTransport(t)
	const n = 20
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("/%d", i)
		if status, body := get(t, tr, srv.URL+p); status != 200 || body != p {
			t.Fatalf("request %d: %d %q", i, status, body)
		}
	}
	if opened, _ := cs.counts(); opened != 1 {
		t.Errorf("%d connections for %d sequential requests, want 1", opened, n)
	}
}

func TestMaxConnsPerHostConcurrent(t *testing.T) {
	for _, tt := range []struct {
		name      string
		close     bool // the server answers with Connection: close
		max       int
		wantConns bool // the connections opened must be at most max
	}{
		{name: "keep-alive cap 3", max: 3, wantConns: true},
		{name: "keep-alive cap 1", max: 1, wantConns: true},
		{name: "connection close cap 2", close: true, max: 2},
		{name: "connection close cap 1", close: true, max: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var inFlight, maxInFlight atomic.Int32
			srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := inFlight.Add(1)
				for {
					m := maxInFlight.Load()
					if n <= m || maxInFlight.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(2 * time.Millisecond)
				inFlight.Add(-1)
				if tt.close {
					w.Header().Set("Connection", "close")
				}
				io.WriteString(w, "ok")
			}))
			tr, _ := newTransport(t)
			tr.MaxConnsPerHost = tt.max
			const workers, each = 12, 8
			var wg sync.WaitGroup
			errs := make(chan error, workers*each)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					for i := 0; i < each; i++ {
						req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
						resp, err := tr.RoundTrip(req)
						if err != nil {
							errs <- err
							continue
						}
						b, err := io.ReadAll(resp.Body)
						resp.Body.Close()
						if err != nil || string(b) != "ok" {
							errs <- fmt.Errorf("body %q, %v", b, err)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if m := maxInFlight.Load(); m > int32(tt.max) {
				t.Errorf("%d requests in flight at the server, cap %d", m, tt.max)
			} else if tt.max > 1 && m < 2 {
				t.Errorf("at most %d request in flight: the cap serialises everything", m)
			}
			if opened, _ := cs.counts(); tt.wantConns && opened > tt.max {
				t.Errorf("%d connections opened, cap %d", opened, tt.max)
			}
		})
	}
}

func TestNoCapConcurrent(t *testing.T) {
	const n = 6
	var arrived sync.WaitGroup
	arrived.Add(n)
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		arrived.Wait() // every request must be in flight at once
		io.WriteString(w, "ok")
	}))
	tr, _ := newTransport(t)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
	if opened, _ := cs.counts(); opened != n {
		t.Errorf("%d connections for %d concurrent requests, want %d", opened, n, n)
	}
	// All n are idle now: n more sequential requests open none.
	for i := 0; i < n; i++ {
		arrived.Add(1)
		get(t, tr, srv.URL)
	}
	if opened, _ := cs.counts(); opened != n {
		t.Errorf("%d connections after reuse, want %d", opened, n)
	}
}

func TestBodyLifecycle(t *testing.T) {
	big := strings.Repeat("x", 256<<10)
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			io.WriteString(w, big)
			return
		}
		io.WriteString(w, "small")
	}))
	tr, _ := newTransport(t)

	// Read to EOF: the connection goes back, and Read after EOF is EOF.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/small", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || string(b) != "small" {
		t.Fatalf("body %q, %v", b, err)
	}
	for i := 0; i < 2; i++ {
		if n, err := resp.Body.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Errorf("Read after EOF = %d, %v; want 0, EOF", n, err)
		}
	}
	if err := resp.Body.Close(); err != nil {
		t.Errorf("Close after EOF: %v", err)
	}
	get(t, tr, srv.URL+"/small")
	if opened, _ := cs.counts(); opened != 1 {
		t.Fatalf("%d connections after a body read to its end, want 1", opened)
	}

	// Close before the end: the connection is closed, and Read fails.
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/big", nil)
	resp, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if n, err := resp.Body.Read(make([]byte, 10)); n != 0 || err == nil || err == io.EOF {
		t.Errorf("Read after Close = %d, %v; want an error", n, err)
	}
	resp.Body.Close() // twice is harmless
	waitFor(t, "the server to see the connection closed", func() bool {
		_, closed := cs.counts()
		return closed == 1
	})
	if status, body := get(t, tr, srv.URL+"/small"); status != 200 || body != "small" {
		t.Errorf("after an early close: %d %q", status, body)
	}
	if opened, _ := cs.counts(); opened != 2 {
		t.Errorf("%d connections after a body closed early, want 2", opened)
	}
}

// A body closed before its end must close its connection even when
// nothing of the rest has arrived yet.
func TestBodyClosedEarlyNothingBuffered(t *testing.T) {
	rs := newRawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for readRequest(br) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234") // and never the rest
		}
	})
	tr, _ := newTransport(t)
	for i := 1; i <= 2; i++ {
		req, _ := http.NewRequest(http.MethodGet, rs.URL(), nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 5)
		if _, err := io.ReadFull(resp.Body, b); err != nil || string(b) != "01234" {
			t.Fatalf("body %q, %v", b, err)
		}
		resp.Body.Close()
		if n := rs.accepts.Load(); n != int32(i) {
			t.Errorf("%d connections after %d requests: a body closed early left its connection for reuse", n, i)
		}
	}
}

func TestChunkedBody(t *testing.T) {
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 5; i++ {
			fmt.Fprintf(w, "chunk%d;", i)
			w.(http.Flusher).Flush()
		}
	}))
	tr, _ := newTransport(t)
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(resp.TransferEncoding) != "[chunked]" || resp.ContentLength != -1 {
			t.Errorf("TransferEncoding %v, ContentLength %d; want chunked", resp.TransferEncoding, resp.ContentLength)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := "chunk0;chunk1;chunk2;chunk3;chunk4;"; err != nil || string(b) != want {
			t.Errorf("body %q, %v; want %q", b, err, want)
		}
	}
	if opened, _ := cs.counts(); opened != 1 {
		t.Errorf("%d connections for chunked responses, want 1", opened)
	}
}

func TestConnectionClose(t *testing.T) {
	var sawClose atomic.Int32
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Close {
			sawClose.Add(1)
		}
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, "ok")
	}))
	tr, _ := newTransport(t)

	for i := 1; i <= 2; i++ {
		if status, body := get(t, tr, srv.URL+"/close"); status != 200 || body != "ok" {
			t.Fatalf("%d %q", status, body)
		}
		if opened, _ := cs.counts(); opened != i {
			t.Errorf("after %d Connection: close responses, %d connections", i, opened)
		}
	}
	waitFor(t, "both connections closed", func() bool {
		_, closed := cs.counts()
		return closed == 2
	})

	// A request with Close set says so, and its connection is not kept.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/keep", nil)
	req.Close = true
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if sawClose.Load() != 1 {
		t.Errorf("the server did not see Connection: close on a request with Close set")
	}
	get(t, tr, srv.URL+"/keep")
	if opened, _ := cs.counts(); opened != 4 {
		t.Errorf("%d connections, want 4", opened)
	}
}

// The transport must not reuse a connection after Connection: close, even
// when the server leaves it open.
func TestConnectionCloseLeftOpen(t *testing.T) {
	for _, tt := range []struct {
		name         string
		response     string
		requestClose bool
	}{
		{"response says close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", false},
		{"request says close", okResponse, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rs := newRawServer(t, func(c net.Conn) {
				br := bufio.NewReader(c)
				for readRequest(br) {
					io.WriteString(c, tt.response)
				}
			})
			tr, _ := newTransport(t)
			for i := 1; i <= 2; i++ {
				req, _ := http.NewRequest(http.MethodGet, rs.URL(), nil)
				req.Close = tt.requestClose
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != "ok" {
					t.Fatalf("body %q, %v", b, err)
				}
				if n := rs.accepts.Load(); n != int32(i) {
					t.Errorf("%d connections after %d requests: one was reused after Connection: close", n, i)
				}
			}
		})
	}
}

// readRequest reads one request from br and reports whether it could.
func readRequest(br *bufio.Reader) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, req.Body)
	return true
}

func TestHTTP10CloseDelimited(t *testing.T) {
	rs := newRawServer(t, func(c net.Conn) {
		if readRequest(bufio.NewReader(c)) {
			io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nno length, ")
			time.Sleep(10 * time.Millisecond)
			io.WriteString(c, "ends at close")
		}
	})
	tr, _ := newTransport(t)
	for i := 1; i <= 2; i++ {
		req, _ := http.NewRequest(http.MethodGet, rs.URL()+"/old", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := "no length, ends at close"; err != nil || string(b) != want {
			t.Errorf("body %q, %v; want %q", b, err, want)
		}
		if !resp.Close || resp.ContentLength != -1 {
			t.Errorf("Close %v, ContentLength %d; want true, -1", resp.Close, resp.ContentLength)
		}
		if n := rs.accepts.Load(); n != int32(i) {
			t.Errorf("after %d close-delimited responses, %d connections", i, n)
		}
	}
}

const okResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

func TestStaleConnectionRetried(t *testing.T) {
	for _, idle := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d idle", idle), func(t *testing.T) {
			closed := make(chan struct{}, 16)
			rs := newRawServer(t, func(c net.Conn) {
				// One answer, then the connection is closed while idle.
				if readRequest(bufio.NewReader(c)) {
					io.WriteString(c, okResponse)
				}
				c.Close()
				select {
				case closed <- struct{}{}:
				default: // more connections than the test waits for
				}
			})
			tr, _ := newTransport(t)
			// idle requests in flight at once, then all idle.
			var resps []*http.Response
			for i := 0; i < idle; i++ {
				req, _ := http.NewRequest(http.MethodGet, rs.URL(), nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resps = append(resps, resp)
			}
			for _, resp := range resps {
				if b, err := io.ReadAll(resp.Body); err != nil || string(b) != "ok" {
					t.Fatalf("body %q, %v", b, err)
				}
				resp.Body.Close()
			}
			for i := 0; i < idle; i++ {
				<-closed
			}
			if status, body := get(t, tr, rs.URL()); status != 200 || body != "ok" {
				t.Errorf("on a stale connection: %d %q", status, body)
			}
			if n := rs.accepts.Load(); n != int32(idle+1) {
				t.Errorf("%d connections, want %d", n, idle+1)
			}
		})
	}
}

func TestClosedBeforeResponseFails(t *testing.T) {
	t.Run("fresh", func(t *testing.T) {
		rs := newRawServer(t, func(c net.Conn) {
			readRequest(bufio.NewReader(c)) // and close, unanswered
		})
		tr, _ := newTransport(t)
		failsAtOnce(t, tr, rs.URL())
		if n := rs.accepts.Load(); n != 1 {
			t.Errorf("%d connections for a fresh one closed unanswered, want 1", n)
		}
	})
	t.Run("reused then fresh", func(t *testing.T) {
		var conns atomic.Int32
		closed := make(chan struct{}, 4)
		rs := newRawServer(t, func(c net.Conn) {
			first := conns.Add(1) == 1
			if readRequest(bufio.NewReader(c)) && first {
				io.WriteString(c, okResponse)
			}
			c.Close()
			select {
			case closed <- struct{}{}:
			default: // more connections than the test waits for
			}
		})
		tr, _ := newTransport(t)
		get(t, tr, rs.URL())
		<-closed
		failsAtOnce(t, tr, rs.URL())
		if n := rs.accepts.Load(); n != 2 {
			t.Errorf("%d connections, want 2: the stale one and one retry", n)
		}
	})
}

// failsAtOnce checks that a GET of url fails, and well before a 2-second
// deadline: not by retrying until it.
func failsAtOnce(t *testing.T, tr *Transport, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("no error from connections closed unanswered")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v: retried until the deadline", err)
	}
}

func TestCancelWaitingForHeaders(t *testing.T) {
	rs := newRawServer(t, func(c net.Conn) {
		readRequest(bufio.NewReader(c))
		// Never answers; ends when the client closes, or as a backstop
		// after 3s.
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		io.Copy(io.Discard, c)
	})
	tr, _ := newTransport(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, rs.URL(), nil)
	start := time.Now()
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("no error from a canceled request")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("canceled request returned after %v", d)
	}
	if n := rs.accepts.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestCancelMidBody(t *testing.T) {
	done := make(chan struct{})
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/small" {
			io.WriteString(w, "small")
			return
		}
		w.Header().Set("Content-Length", "1000000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-done:
		case <-time.After(3 * time.Second): // a backstop
		}
	}))
	t.Cleanup(func() { close(done) })
	tr, _ := newTransport(t)

	// Before the cancel, a request's connection is reused.
	get(t, tr, srv.URL+"/small")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(30*time.Millisecond, cancel) // while Read blocks
	start := time.Now()
	var rerr error
	for rerr == nil {
		_, rerr = resp.Body.Read(make([]byte, 1000))
	}
	if !errors.Is(rerr, context.Canceled) {
		t.Errorf("Read after cancel: %v, want context.Canceled", rerr)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Read returned %v after the cancel", d)
	}
	resp.Body.Close()
	if opened, _ := cs.counts(); opened != 1 {
		t.Fatalf("%d connections before the cancel, want 1", opened)
	}
	if status, body := get(t, tr, srv.URL+"/small"); status != 200 || body != "small" {
		t.Errorf("after a cancel: %d %q", status, body)
	}
	if opened, _ := cs.counts(); opened != 2 {
		t.Errorf("%d connections: the canceled one was reused", opened)
	}
}

func TestMaxConnsWaitHonoursContext(t *testing.T) {
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "held")
	}))
	tr, _ := newTransport(t)
	tr.MaxConnsPerHost = 1
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	held, err := tr.RoundTrip(req) // its body holds the only slot
	if err != nil {
		t.Fatal(err)
	}
	// Should a waiting request ignore its context, this frees it.
	backstop := time.AfterFunc(3*time.Second, func() { held.Body.Close() })

	for i := 0; i < 2; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		start := time.Now()
		resp, err := tr.RoundTrip(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			t.Fatal("a request past the cap did not wait")
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d < 40*time.Millisecond || d > 2*time.Second {
			t.Errorf("waited %v for a 50ms deadline", d)
		}
	}

	if !backstop.Stop() {
		t.Fatal("the held body had to be closed to free a waiting request")
	}
	// Once the held body ends, the slot is free again, and its connection idle.
	io.Copy(io.Discard, held.Body)
	held.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("after the slot came free: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if opened, _ := cs.counts(); opened != 1 {
		t.Errorf("%d connections, want 1", opened)
	}
}

func TestInformationalSkipped(t *testing.T) {
	t.Run("early hints", func(t *testing.T) {
		srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Del("Link")
			w.Header().Set("X-Final", "1")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "final")
		}))
		tr, _ := newTransport(t)
		for i := 0; i < 2; i++ {
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("X-Final") != "1" || err != nil || string(b) != "final" {
				t.Errorf("got %d %v %q %v; want the final 200", resp.StatusCode, resp.Header, b, err)
			}
		}
		if opened, _ := cs.counts(); opened != 1 {
			t.Errorf("%d connections, want 1", opened)
		}
	})
	t.Run("several, raw", func(t *testing.T) {
		rs := newRawServer(t, func(c net.Conn) {
			if readRequest(bufio.NewReader(c)) {
				io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"+
					"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"+
					"HTTP/1.1 102 Processing\r\n\r\n"+okResponse)
			}
		})
		tr, _ := newTransport(t)
		if status, body := get(t, tr, rs.URL()); status != 200 || body != "ok" {
			t.Errorf("got %d %q; want 200 ok", status, body)
		}
	})
}

// TestSwitchingProtocolsNotReused checks that a connection whose server
// answered 101 Switching Protocols is not reused: it speaks another
// protocol from then on, and the next request sent on it would read that
// as its answer.
func TestSwitchingProtocolsNotReused(t *testing.T) {
	var n atomic.Int32
	rs := newRawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		if !readRequest(br) {
			return
		}
		if n.Add(1) > 1 {
			io.WriteString(c, okResponse)
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: other\r\nConnection: Upgrade\r\n\r\n")
		// The other protocol: whatever comes, an answer that is no HTTP.
		if _, err := br.ReadByte(); err == nil {
			io.WriteString(c, "\x00\x01not http\r\n\r\n")
		}
	})
	tr, _ := newTransport(t)
	if status, _ := get(t, tr, rs.URL()); status != http.StatusSwitchingProtocols {
		t.Fatalf("first answer %d, want 101", status)
	}
	if status, body := get(t, tr, rs.URL()); status != 200 || body != "ok" {
		t.Errorf("got %d %q after the 101; want 200 ok on a new connection", status, body)
	}
}

// TestTLSAnswer checks that a server answering a plain request in TLS (an
// http:// URL for a port that serves https) fails with ErrTLSAnswer, which
// says so, not with the parser's view of the bytes.
func TestTLSAnswer(t *testing.T) {
	rs := newRawServer(t, func(c net.Conn) {
		if readRequest(bufio.NewReader(c)) {
			io.WriteString(c, "\x15\x03\x01\x00\x02\x02\x0a") // alert: protocol_version
		}
	})
	tr, _ := newTransport(t)
	req, _ := http.NewRequest(http.MethodGet, rs.URL(), nil)
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, ErrTLSAnswer) {
		t.Fatalf("err = %v, want ErrTLSAnswer", err)
	}
}

// TestNotHTTPAnswer: an answer that does not begin as an HTTP/1 response
// does ("HTTP/", in any case) is from a server of another protocol (SMTP,
// Redis, FTP) or of HTTP/0.9: the request fails with a *NotHTTPError that
// quotes its first line, where net/http's words took a word of it for a
// status code ("malformed HTTP status code \"unknown\""). An answer that
// begins "HTTP/" slowly, a byte at a time, is still read.
func TestNotHTTPAnswer(t *testing.T) {
	tests := []struct {
		name    string
		answer  []string // written one after the other, 10 ms apart
		begins  string   // of the NotHTTPError; "" for none
		wantErr bool     // (another error) when begins is ""
	}{
		{"HTTP/0.9", []string{"hello, a body with no status line"}, "hello, a body with no status line", false},
		{"redis", []string{"-ERR unknown command 'GET', with args beginning with: '/'\r\n"}, "-ERR unknown command 'GET', with args beginning with: '/'", false},
		{"smtp", []string{"220 mail.example.com ESMTP ready\r\n"}, "220 mail.example.com ESMTP ready", false},
		{"long first line", []string{strings.Repeat("x", 200)}, strings.Repeat("x", 64), false},
		// Shown with the line after, not as "".
		{"empty line first", []string{"\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}, "\r\nHTTP/1.1 200 OK", false},
		{"lower case", []string{"http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}, "", true},
		{"HTTP/ a byte at a time", []string{"H", "T", "T", "P", "/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newRawServer(t, func(c net.Conn) {
				if readRequest(bufio.NewReader(c)) {
					for i, part := range tt.answer {
						if i > 0 {
							time.Sleep(10 * time.Millisecond)
						}
						io.WriteString(c, part)
					}
				}
			})
			tr, _ := newTransport(t)
			req, _ := http.NewRequest(http.MethodGet, rs.URL()+"/f", nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			var nh *NotHTTPError
			switch {
			case tt.begins != "":
				if !errors.As(err, &nh) || nh.Begins != tt.begins {
					t.Fatalf("err = %v, want a NotHTTPError that begins %q", err, tt.begins)
				}
			case errors.As(err, &nh):
				t.Fatalf("err = %v, want no NotHTTPError", err)
			case tt.wantErr != (err != nil):
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
		})
	}
}

// TestHeaderCutShort: a response header that the connection ends in the
// middle of fails with io.ErrUnexpectedEOF (errHeaderCut), as net/http
// says of a header cut between two lines, where http.ReadResponse, which
// parses the line cut short, called it malformed ("malformed HTTP response
// \"HTTP/1.\"", "missing colon"): the server's next answer may be whole.
// A header that came whole, then the connection's end, and is malformed,
// is not taken for one cut short.
func TestHeaderCutShort(t *testing.T) {
	tests := []struct {
		answer string
		cut    bool
	}{
		{"H", true},
		{"HTTP/1.", true},
		{"HTTP/1.1 20", true},
		{"HTTP/1.1 200 OK\r\nContent-Le", true},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r", true},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", true},
		{"HTTP/1.1 2x0 OK\r\nContent-Length: 1\r\n\r\nx", false},
		{"HTTP/1.1 200 OK\r\nX-A\r\nContent-Length: 1\r\n\r\nx", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx", false},
	}
	for _, tt := range tests {
		t.Run(tt.answer, func(t *testing.T) {
			rs := newRawServer(t, func(c net.Conn) {
				if readRequest(bufio.NewReader(c)) {
					io.WriteString(c, tt.answer) // and close
				}
			})
			tr, _ := newTransport(t)
			req, _ := http.NewRequest(http.MethodGet, rs.URL()+"/f", nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("no error")
			}
			if cut := errors.Is(err, io.ErrUnexpectedEOF); cut != tt.cut {
				t.Fatalf("err = %v; taken for a header cut short: %v, want %v", err, cut, tt.cut)
			}
		})
	}
}

// TestHeaderRead: HeaderRead is told of the request each time bytes of
// its response header arrive, a header that comes in three pieces three
// times, and not of the body's bytes, which are the caller's to count.
func TestHeaderRead(t *testing.T) {
	pieces := []string{"HTTP/1.1 200 OK\r\n", "Content-Length: 6\r\n", "\r\n", "ab", "cd", "ef"}
	rs := newRawServer(t, func(c net.Conn) {
		if readRequest(bufio.NewReader(c)) {
			for _, p := range pieces {
				io.WriteString(c, p)
				time.Sleep(20 * time.Millisecond)
			}
		}
	})
	tr, _ := newTransport(t)
	req, _ := http.NewRequest(http.MethodGet, rs.URL()+"/f", nil)
	var calls atomic.Int32
	tr.HeaderRead = func(r *http.Request) {
		if r != req {
			t.Errorf("HeaderRead told of %v, want the request sent", r)
		}
		calls.Add(1)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	afterHeader := calls.Load()
	if afterHeader != 3 {
		t.Errorf("HeaderRead told %d times of a header in 3 pieces, want 3", afterHeader)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || string(b) != "abcdef" {
		t.Fatalf("body %q, %v", b, err)
	}
	if n := calls.Load(); n != afterHeader {
		t.Errorf("HeaderRead told %d more times, of the body's bytes", n-afterHeader)
	}
}

// TestHTTP10TransferEncoding: an HTTP/1.0 response with a
// Transfer-Encoding has framing that cannot be trusted (RFC 9112, 6.1: a
// client "MUST treat the message as if the framing is faulty"): the
// request fails with ErrHTTP10TransferEncoding. http.ReadResponse drops
// the header of an HTTP/1.0 response and reads the body to the
// connection's end (or to its Content-Length): the chunked framing,
// "5\r\nhello\r\n0\r\n\r\n", was taken for the file. Other HTTP/1.0
// responses, and an HTTP/1.1 one with chunked, are read as before.
func TestHTTP10TransferEncoding(t *testing.T) {
	const chunked = "5\r\nhello\r\n0\r\n\r\n"
	tests := []struct {
		name   string
		answer []string // written one after the other, 10 ms apart, then the connection is closed
		want   string   // the body; "" for ErrHTTP10TransferEncoding
	}{
		{"chunked", []string{"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked}, ""},
		{"chunked and a length", []string{"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + chunked}, ""},
		{"lower case", []string{"HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunked}, ""},
		{"bare LF", []string{"HTTP/1.0 200 OK\nDate: x\nTransfer-Encoding: chunked\n\n" + chunked}, ""},
		{"header in pieces", []string{"HTTP/1.0 200 OK\r\nServer: x\r\n", "Transfer-Enc", "oding: chunked\r\n\r\n" + chunked}, ""},
		{"identity", []string{"HTTP/1.0 200 OK\r\nTransfer-Encoding: identity\r\n\r\nhello"}, ""},
		{"HTTP/1.0 with a length", []string{"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"}, "hello"},
		{"HTTP/1.0 to the end", []string{"HTTP/1.0 200 OK\r\nX-Transfer-Encoding: chunked\r\n\r\n", "hello"}, "hello"},
		{"in the body", []string{"HTTP/1.0 200 OK\r\n\r\nTransfer-Encoding: chunked\r\n"}, "Transfer-Encoding: chunked\r\n"},
		{"HTTP/1.1 chunked", []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked}, "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newRawServer(t, func(c net.Conn) {
				if readRequest(bufio.NewReader(c)) {
					for i, part := range tt.answer {
						if i > 0 {
							time.Sleep(10 * time.Millisecond)
						}
						io.WriteString(c, part)
					}
				}
			})
			tr, _ := newTransport(t)
			req, _ := http.NewRequest(http.MethodGet, rs.URL()+"/f", nil)
			resp, err := tr.RoundTrip(req)
			if tt.want == "" {
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					t.Fatalf("body %q, want ErrHTTP10TransferEncoding", b)
				}
				if !errors.Is(err, ErrHTTP10TransferEncoding) {
					t.Fatalf("err = %v, want ErrHTTP10TransferEncoding", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if b, err := io.ReadAll(resp.Body); err != nil || string(b) != tt.want {
				t.Fatalf("body %q, %v; want %q", b, err, tt.want)
			}
		})
	}
}

// TestInterimResponses checks that the Transport tells Interim of each
// interim (1xx) response it skips, with the request, on its own
// connections and on the requests it hands to Fallback: the downloader's
// stall watch counts them as signs of life.
func TestInterimResponses(t *testing.T) {
	rs := newRawServer(t, func(c net.Conn) {
		if readRequest(bufio.NewReader(c)) {
			io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"+
				"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"+
				"HTTP/1.1 102 Processing\r\n\r\n"+okResponse)
		}
	})
	for _, method := range []string{http.MethodGet, http.MethodOptions} { // OPTIONS goes to Fallback
		t.Run(method, func(t *testing.T) {
			tr, fb := newTransport(t)
			var mu sync.Mutex
			var told []*http.Request
			tr.Interim = func(r *http.Request) {
				mu.Lock()
				told = append(told, r)
				mu.Unlock()
			}
			req, _ := http.NewRequest(method, rs.URL(), nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if fell := fb.calls.Load() > 0; fell != (method != http.MethodGet) {
				t.Fatalf("went to Fallback: %v", fell)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(told) != 3 {
				t.Fatalf("Interim told %d times, want 3 (100, 103, 102)", len(told))
			}
			for _, r := range told {
				if r != req {
					t.Errorf("Interim told of %s %s, not of the request given", r.Method, r.URL)
				}
			}
		})
	}
}

// TestEndlessInterimResponses: a server that sends 102 Processing
// forever, and never an answer, kept a request alive for ever: each 1xx
// told Interim, and the downloader's stall watch, of a sign of life (a run
// was still waiting after 10 minutes). After MaxInterim of them the
// request fails, on the Transport's connections and on Fallback's.
func TestEndlessInterimResponses(t *testing.T) {
	rs := newRawServer(t, func(c net.Conn) {
		if readRequest(bufio.NewReader(c)) {
			for {
				if _, err := io.WriteString(c, "HTTP/1.1 102 Processing\r\n\r\n"); err != nil {
					return
				}
			}
		}
	})
	for _, method := range []string{http.MethodGet, http.MethodOptions} { // OPTIONS goes to Fallback
		t.Run(method, func(t *testing.T) {
			tr, _ := newTransport(t)
			var told atomic.Int64
			tr.Interim = func(*http.Request) { told.Add(1) }
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, method, rs.URL(), nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("RoundTrip succeeded")
			}
			if ctx.Err() != nil || !strings.Contains(err.Error(), "interim (1xx) responses") {
				t.Errorf("err = %v, want one about too many interim responses, at once", err)
			}
			if n := told.Load(); n > MaxInterim {
				t.Errorf("Interim told %d times, want at most %d", n, MaxInterim)
			}
		})
	}
}

func TestEndlessHeader(t *testing.T) {
	for _, tt := range []struct {
		name, start, repeat string
	}{
		{"endless lines", "HTTP/1.1 200 OK\r\n", "X-Filler: " + strings.Repeat("a", 100) + "\r\n"},
		{"endless line", "HTTP/1.1 200 OK\r\nX-Filler: ", strings.Repeat("a", 1000)},
		{"endless status line", "HTTP/1.1 200 ", strings.Repeat("O", 1000)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var written atomic.Int64
			rs := newRawServer(t, func(c net.Conn) {
				if !readRequest(bufio.NewReader(c)) {
					return
				}
				io.WriteString(c, tt.start)
				line := []byte(tt.repeat)
				for {
					n, err := c.Write(line)
					written.Add(int64(n))
					if err != nil {
						return
					}
				}
			})
			tr, _ := newTransport(t)
			tr.MaxResponseHeaderBytes = 4096
			tr.ReadBufferSize = 4096
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, rs.URL(), nil)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			resp, err := tr.RoundTrip(req)
			runtime.ReadMemStats(&after)
			if err == nil {
				resp.Body.Close()
				t.Fatal("no error from an endless header")
			}
			if !errors.Is(err, ErrHeaderTooLong) {
				t.Errorf("error %v, want %v", err, ErrHeaderTooLong)
			}
			if d := after.TotalAlloc - before.TotalAlloc; d > 4<<20 {
				t.Errorf("%d bytes allocated reading a header capped at 4 KiB", d)
			}
		})
	}
}

func TestFallback(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tls")
	}))
	t.Cleanup(tlsSrv.Close)
	var plainHits atomic.Int32
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s", r.Method, b)
	}))
	proxyURL, _ := url.Parse(srv.URL) // the "proxy" is the server itself

	tests := []struct {
		name         string
		method, url  string
		body         string
		header       http.Header
		proxy        func(*http.Request) (*url.URL, error)
		fallback     http.RoundTripper
		wantFallback bool
		wantBody     string // when the request succeeds
		wantErr      bool
	}{
		{name: "plain GET stays", method: "GET", url: srv.URL + "/p", wantBody: "GET "},
		{name: "https", method: "GET", url: tlsSrv.URL, fallback: tlsSrv.Client().Transport,
			wantFallback: true, wantBody: "tls"},
		{name: "POST with a body", method: "POST", url: srv.URL, body: "payload",
			wantFallback: true, wantBody: "POST payload"},
		{name: "GET with a body", method: "GET", url: srv.URL, body: "payload",
			wantFallback: true, wantBody: "GET payload"},
		{name: "other method", method: "DELETE", url: srv.URL, wantFallback: true, wantBody: "DELETE "},
		{name: "newline in a header value", method: "GET", url: srv.URL,
			header: http.Header{"X-Bad": {"a\nb"}}, wantFallback: true, wantErr: true},
		{name: "bad header name", method: "GET", url: srv.URL,
			header: http.Header{"X Bad": {"a"}}, wantFallback: true, wantErr: true},
		{name: "proxy", method: "GET", url: srv.URL,
			proxy:        func(*http.Request) (*url.URL, error) { return proxyURL, nil },
			wantFallback: true, wantBody: "GET "},
		{name: "proxy error", method: "GET", url: srv.URL,
			proxy:        func(*http.Request) (*url.URL, error) { return nil, errors.New("no proxy") },
			wantFallback: true, wantBody: "GET "},
		{name: "no proxy", method: "GET", url: srv.URL,
			proxy:    func(*http.Request) (*url.URL, error) { return nil, nil },
			wantBody: "GET "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := &countingRT{rt: tt.fallback}
			if fb.rt == nil {
				fb.rt = http.DefaultTransport.(*http.Transport).Clone()
			}
			tr := &Transport{Fallback: fb, Proxy: tt.proxy}
			defer tr.CloseIdleConnections()
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, tt.url, body)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range tt.header {
				req.Header[k] = vs
			}
			before, _ := cs.counts()
			resp, err := tr.RoundTrip(req)
			if tt.wantErr {
				if err == nil {
					resp.Body.Close()
					t.Error("no error")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != tt.wantBody {
					t.Errorf("body %q, %v; want %q", b, err, tt.wantBody)
				}
			}
			want := int32(0)
			if tt.wantFallback {
				want = 1
			}
			if n := fb.calls.Load(); n != want {
				t.Errorf("fallback called %d times, want %d", n, want)
			}
			if !tt.wantFallback {
				if opened, _ := cs.counts(); opened != before+1 {
					t.Errorf("the request did not go on a connection of its own")
				}
			}
		})
	}

	t.Run("nil fallback", func(t *testing.T) {
		tr := &Transport{}
		for _, u := range []string{tlsSrv.URL, "ftp://example.test/x"} {
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Errorf("%s: no error without a fallback", u)
			}
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("x"))
		if _, err := tr.RoundTrip(req); err == nil {
			t.Error("POST: no error without a fallback")
		}
		// A plain GET needs no fallback.
		if status, body := get(t, tr, srv.URL); status != 200 || body != "GET " {
			t.Errorf("plain GET without a fallback: %d %q", status, body)
		}
		tr.CloseIdleConnections() // no panic
	})
}

func TestCloseIdleConnections(t *testing.T) {
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	tr, fb := newTransport(t)
	get(t, tr, srv.URL)
	if _, closed := cs.counts(); closed != 0 {
		t.Fatalf("%d connections closed before CloseIdleConnections", closed)
	}
	tr.CloseIdleConnections()
	waitFor(t, "the idle connection closed", func() bool {
		_, closed := cs.counts()
		return closed == 1
	})
	if n := fb.closeIdle.Load(); n != 1 {
		t.Errorf("fallback CloseIdleConnections called %d times, want 1", n)
	}
	get(t, tr, srv.URL)
	if opened, _ := cs.counts(); opened != 2 {
		t.Errorf("%d connections, want 2", opened)
	}
}

// A connection in use when CloseIdleConnections is called, or while
// another request to the same host ends by closing its own, must still be
// kept for reuse afterwards, and closed by the next CloseIdleConnections.
func TestIdleKeptAcrossHostCleanup(t *testing.T) {
	for _, tt := range []struct {
		name string
		max  int
		mid  func(t *testing.T, tr *Transport, url string)
	}{
		{name: "CloseIdleConnections", mid: func(t *testing.T, tr *Transport, url string) {
			tr.CloseIdleConnections()
		}},
		{name: "CloseIdleConnections capped", max: 4, mid: func(t *testing.T, tr *Transport, url string) {
			tr.CloseIdleConnections()
		}},
		{name: "another request closes", mid: func(t *testing.T, tr *Transport, url string) {
			get(t, tr, url+"/close")
		}},
		{name: "another request closes capped", max: 4, mid: func(t *testing.T, tr *Transport, url string) {
			get(t, tr, url+"/close")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/close" {
					w.Header().Set("Connection", "close")
				}
				io.WriteString(w, "ok")
			}))
			tr, _ := newTransport(t)
			tr.MaxConnsPerHost = tt.max
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/held", nil)
			held, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			tt.mid(t, tr, srv.URL)
			io.Copy(io.Discard, held.Body) // its connection goes idle now
			held.Body.Close()
			openedBefore, _ := cs.counts()
			get(t, tr, srv.URL+"/again")
			if opened, _ := cs.counts(); opened != openedBefore {
				t.Errorf("the held request's connection was not reused")
			}
			// Every connection but the idle one is closed: wait until the
			// server has seen it (a closed connection is noticed late),
			// so that the count below moves for the idle one alone.
			opened, _ := cs.counts()
			waitFor(t, "every other connection closed", func() bool {
				_, closed := cs.counts()
				return closed == opened-1
			})
			tr.CloseIdleConnections()
			waitFor(t, "the idle connection closed", func() bool {
				_, closed := cs.counts()
				return closed == opened
			})
		})
	}
}

func TestRedirects(t *testing.T) {
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a":
			http.Redirect(w, r, "/b?x=1", http.StatusFound)
		case "/b":
			http.Redirect(w, r, "/c?"+r.URL.RawQuery, http.StatusMovedPermanently)
		case "/c":
			io.WriteString(w, "arrived "+r.URL.RawQuery)
		default:
			http.NotFound(w, r)
		}
	}))
	tr, fb := newTransport(t)
	client := &http.Client{Transport: tr}
	for i := 0; i < 2; i++ {
		resp, err := client.Get(srv.URL + "/a")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil || string(b) != "arrived x=1" {
			t.Errorf("got %d %q %v", resp.StatusCode, b, err)
		}
		if resp.Request.URL.Path != "/c" {
			t.Errorf("final URL %v", resp.Request.URL)
		}
	}
	if opened, _ := cs.counts(); opened != 1 {
		t.Errorf("%d connections for redirects, want 1", opened)
	}
	if n := fb.calls.Load(); n != 0 {
		t.Errorf("fallback called %d times", n)
	}
}

func TestNoGoroutinesLeft(t *testing.T) {
	done := make(chan struct{})
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			io.WriteString(w, strings.Repeat("y", 200<<10))
		case "/hang":
			select {
			case <-r.Context().Done():
			case <-done:
			case <-time.After(3 * time.Second): // a backstop
			}
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer close(done)
	// Let goroutines of earlier tests wind down before the baseline.
	time.Sleep(20 * time.Millisecond)
	base := runtime.NumGoroutine()

	tr, _ := newTransport(t)
	tr.MaxConnsPerHost = 3
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ok", nil)
				if resp, err := tr.RoundTrip(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	// A body closed early, and a request canceled waiting for its header.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/big", nil)
	if resp, err := tr.RoundTrip(req); err == nil {
		resp.Body.Read(make([]byte, 10))
		resp.Body.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/hang", nil)
	if _, err := tr.RoundTrip(req); err == nil {
		t.Error("no error from a request that timed out")
	}
	cancel()
	tr.CloseIdleConnections()

	waitFor(t, "every connection closed", func() bool {
		opened, closed := cs.counts()
		return opened == closed
	})
	n := 0
	defer func() {
		if t.Failed() {
			t.Logf("%d goroutines, %d before", n, base)
		}
	}()
	waitFor(t, "goroutines back to the baseline", func() bool {
		n = runtime.NumGoroutine()
		return n <= base
	})
}

func TestAddress(t *testing.T) {
	for _, tt := range []struct{ host, want string }{
		{"example.com", "example.com:80"},
		{"example.com:8080", "example.com:8080"},
		{"Example.COM:8080", "example.com:8080"},
		{"example.com:", "example.com:80"},
		{"127.0.0.1:1", "127.0.0.1:1"},
		{"[::1]", "[::1]:80"},
		{"[::1]:8080", "[::1]:8080"},
		{"[fe80::1%25eth0]:8080", "[fe80::1%eth0]:8080"},
	} {
		u, err := url.Parse("http://" + tt.host + "/x")
		if err != nil {
			t.Fatal(err)
		}
		if got := address(u); got != tt.want {
			t.Errorf("address(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

// TestCanceledBodyNotReused: a body whose request was canceled is not
// given back for reuse even when it reaches its end (its bytes were already
// buffered): the cancel set a deadline in the past on its connection.
func TestCanceledBodyNotReused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "5")
		_, _ = w.Write([]byte("hello"))
	}))
	defer srv.Close()
	tr := &Transport{Fallback: http.DefaultTransport}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	time.Sleep(50 * time.Millisecond) // the cancel hook runs on its own goroutine
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != "hello" {
		t.Fatalf("body %q, %v; want the buffered %q", body, err, "hello")
	}
	tr.mu.Lock()
	idle := 0
	for _, h := range tr.hosts {
		idle += len(h.idle)
	}
	tr.mu.Unlock()
	if idle != 0 {
		t.Errorf("%d idle connections after a canceled request, want 0", idle)
	}
}

// TestWriteBuffered: a small body that arrived whole is handed over in one
// call from the connection's buffer, ends like a body read to its end
// (EOF, the connection reused); a body still arriving, or one closed, is
// left to Read; a failed write leaves the body to be closed, which closes
// the connection.
func TestWriteBuffered(t *testing.T) {
	big := strings.Repeat("y", 1<<20)
	srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			io.WriteString(w, big)
			return
		}
		io.WriteString(w, "small body")
	}))
	tr, _ := newTransport(t)
	type buffered interface {
		WriteBuffered(func([]byte) error) (bool, error)
	}
	roundTrip := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// The server writes the small response in one write: it is all in
	// once its header is.
	resp := roundTrip("/small")
	var got []byte
	calls := 0
	done, err := resp.Body.(buffered).WriteBuffered(func(p []byte) error {
		calls++
		got = append(got, p...)
		return nil
	})
	if !done || err != nil || calls != 1 || string(got) != "small body" {
		t.Fatalf("WriteBuffered = %v, %v after %d calls with %q; want true, nil, 1 call with the body", done, err, calls, got)
	}
	if n, err := resp.Body.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Errorf("Read after WriteBuffered = %d, %v; want 0, EOF", n, err)
	}
	resp.Body.Close()
	get(t, tr, srv.URL+"/small")
	if opened, _ := cs.counts(); opened != 1 {
		t.Errorf("%d connections, want 1: the connection is reused after WriteBuffered", opened)
	}

	// 1 MiB does not fit the read buffer: Read it.
	resp = roundTrip("/big")
	if done, err := resp.Body.(buffered).WriteBuffered(func([]byte) error {
		t.Error("write called for a body larger than the buffer")
		return nil
	}); done || err != nil {
		t.Errorf("WriteBuffered on a large body = %v, %v; want false, nil", done, err)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || len(b) != len(big) {
		t.Fatalf("Read after a declined WriteBuffered: %d bytes, %v", len(b), err)
	}

	// A failed write: the error comes back; Close closes the connection.
	resp = roundTrip("/small")
	full := errors.New("disk full")
	if done, err := resp.Body.(buffered).WriteBuffered(func([]byte) error { return full }); !done || err != full {
		t.Errorf("WriteBuffered with a failing write = %v, %v; want true, %v", done, err, full)
	}
	resp.Body.Close()
	waitFor(t, "the server to see the connection closed", func() bool {
		_, closed := cs.counts()
		return closed == 1
	})

	// Closed first: nothing is written; Read reports the close.
	resp = roundTrip("/small")
	resp.Body.Close()
	if done, _ := resp.Body.(buffered).WriteBuffered(func([]byte) error {
		t.Error("write called after Close")
		return nil
	}); done {
		t.Error("WriteBuffered after Close reported true")
	}
}

// TestUnsolicitedResponseNotTakenForTheNext: bytes a server sends on a
// connection while it is idle (here, a second response to the first
// request) are not read as the answer to the next request on it: the
// connection is closed and the next request goes on a new one, as
// net/http's reader goroutine would see to.
func TestUnsolicitedResponseNotTakenForTheNext(t *testing.T) {
	sent := make(chan struct{}, 1)
	var requests atomic.Int32
	rs := newRawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for readRequest(br) {
			if requests.Add(1) > 1 {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nright")
				continue
			}
			io.WriteString(c, okResponse)
			time.Sleep(10 * time.Millisecond) // after the client has read the first
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nWRONG")
			sent <- struct{}{}
		}
	})
	tr, _ := newTransport(t)
	if _, body := get(t, tr, rs.URL()); body != "ok" {
		t.Fatalf("first body %q", body)
	}
	<-sent
	time.Sleep(20 * time.Millisecond) // for the bytes to arrive while the connection is idle
	if _, body := get(t, tr, rs.URL()); body != "right" {
		t.Errorf("second body %q: the server's unasked response was taken for it", body)
	}
	if n := rs.accepts.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// TestMaxIdleConnsOverall: MaxIdleConns caps the idle connections over all
// hosts, closing the least recently used. Without a cap, a run over a list
// of many hosts kept one idle connection to each of them open to its end,
// never reused: with -j 8 and 3000 hosts, 1500 sockets after 3 seconds,
// and every item after the 1000th failed "too many open files".
func TestMaxIdleConnsOverall(t *testing.T) {
	const hosts, max = 10, 3
	var servers []*httptest.Server
	var stats []*connStats
	for range hosts {
		srv, cs := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
		}))
		servers, stats = append(servers, srv), append(stats, cs)
	}
	open := func() (n int) {
		for _, cs := range stats {
			opened, closed := cs.counts()
			n += opened - closed
		}
		return n
	}
	tr, _ := newTransport(t)
	tr.MaxIdleConns = max
	for _, srv := range servers {
		get(t, tr, srv.URL)
	}
	waitFor(t, fmt.Sprintf("%d connections left open", max), func() bool { return open() == max })
	tr.mu.Lock()
	kept := len(tr.hosts)
	tr.mu.Unlock()
	if kept != max {
		t.Errorf("the transport remembers %d hosts, want the %d with an idle connection", kept, max)
	}
	// The most recently used are the ones kept.
	for i := hosts - max; i < hosts; i++ {
		before, _ := stats[i].counts()
		get(t, tr, servers[i].URL)
		if after, _ := stats[i].counts(); after != before {
			t.Errorf("host %d, among the last used, got a new connection", i)
		}
	}
	before, _ := stats[0].counts()
	get(t, tr, servers[0].URL)
	if after, _ := stats[0].counts(); after == before {
		t.Errorf("host 0, the least recently used, had a connection kept")
	}
}
