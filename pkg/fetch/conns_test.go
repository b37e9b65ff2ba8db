package fetch

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConnectionsCappedToThePool: the Client never holds more connections
// to a host than it can have requests in flight (Concurrency × Split), so
// a request that finds none idle waits for one instead of dialling an
// extra one. Three transfers at once through a Client sized for two use
// two connections, the third after one of the others.
func TestConnectionsCappedToThePool(t *testing.T) {
	var opened, inHandler atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler.Add(1)
		<-release
		w.Header().Set("Content-Length", "2")
		w.Write([]byte("ok"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	cfg := testConfig()
	cfg.Concurrency = 2
	c := newClient(t, cfg)
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			path := filepath.Join(dir, strconv.Itoa(i))
			_, errs[i] = c.Fetch(context.Background(), request(srv.URL+"/"+strconv.Itoa(i), path, nil))
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for inHandler.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // room for a third connection, which must not come
	if got := opened.Load(); got != 2 {
		t.Errorf("%d connections open with two requests held and a third waiting, want 2", got)
	}
	close(release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transfer %d: %v", i, err)
		}
	}
	if got := opened.Load(); got != 2 {
		t.Errorf("%d connections opened for three transfers two at a time, want 2", got)
	}
}

// TestZeroConcurrencyCapsNoConnections: a Config that leaves Concurrency
// at 0 (the zero Config "works") does not cap the connections to a host
// at two: four transfers at once from a pool of four workers all reach the
// server together. With the cap, the third and fourth waited for a
// connection until their stall timeout ended them with "no data received",
// although nothing had been asked of the server.
func TestZeroConcurrencyCapsNoConnections(t *testing.T) {
	const n = 4
	var inHandler atomic.Int64
	all := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if inHandler.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
		w.Header().Set("Content-Length", "2")
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)

	cfg := testConfig()
	cfg.Concurrency, cfg.Retries, cfg.StallTimeout = 0, 0, 2*time.Second
	c := newClient(t, cfg)
	defer c.CloseIdleConnections()
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range errs {
		wg.Go(func() {
			path := filepath.Join(dir, strconv.Itoa(i))
			_, errs[i] = c.Fetch(context.Background(), request(srv.URL+"/"+strconv.Itoa(i), path, nil))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transfer %d: %v", i, err)
		}
	}
	if got := inHandler.Load(); got != n {
		t.Errorf("%d requests reached the server, want %d", got, n)
	}
}

// TestIdleConnectionsCappedOverHosts: the idle connections kept for reuse
// are capped over all hosts (maxIdleConns), over http as over https, with
// HTTP/1.1 or HTTP/2. They were capped per host only, so a list of many
// hosts kept a connection to each host it had fetched from open to the end
// of the run: with -j 8 and 3000 hosts, every item after the 1000th failed
// "too many open files". net/http caps idle HTTP/1.1 connections over all
// hosts, but not HTTP/2 ones: those were still kept, one per host.
func TestIdleConnectionsCappedOverHosts(t *testing.T) {
	for _, proto := range []string{"http", "https", "h2"} {
		t.Run(proto, func(t *testing.T) {
			cfg := testConfig()
			cfg.Concurrency = 1
			cfg.Insecure = true
			limit := maxIdleConns(cfg.inFlight())
			var open atomic.Int64
			var urls []string
			for range limit + 8 {
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if want := map[string]int{"h2": 2}[proto]; want != 0 && r.ProtoMajor != want {
						t.Errorf("a request over HTTP/%d, want HTTP/%d", r.ProtoMajor, want)
					}
					w.Write([]byte("ok"))
				}))
				srv.EnableHTTP2 = proto == "h2"
				srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
					switch s {
					case http.StateNew:
						open.Add(1)
					case http.StateClosed, http.StateHijacked:
						open.Add(-1)
					}
				}
				if proto != "http" {
					srv.StartTLS()
				} else {
					srv.Start()
				}
				t.Cleanup(srv.Close)
				urls = append(urls, srv.URL)
			}
			c := newClient(t, cfg)
			defer c.CloseIdleConnections()
			dir := t.TempDir()
			for i, u := range urls {
				if _, err := c.Fetch(context.Background(), request(u+"/x", filepath.Join(dir, strconv.Itoa(i)), nil)); err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for open.Load() > int64(limit) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if n := open.Load(); n > int64(limit) {
				t.Errorf("%d connections open after fetching from %d hosts one at a time, want at most %d", n, len(urls), limit)
			}
		})
	}
}

// TestIdleWithinOpenFileLimit: the idle connections kept over all hosts
// leave, under the limit on open files, room for a connection, a file and
// a sidecar per request in flight and the process's own few. Under ulimit -n 256,
// -j 64 over many hosts kept up to 256 idle connections and failed most
// items "too many open files".
func TestIdleWithinOpenFileLimit(t *testing.T) {
	for _, tc := range []struct {
		inFlight, limit, want int
	}{
		{8, 0, 64},           // limit unknown: as before
		{64, 0, 256},         // limit unknown: as before
		{8, 1 << 20, 64},     // a large limit changes nothing
		{64, 1024, 256},      // room enough
		{64, 256, 32},        // 256 - 3*64 - fdReserve
		{200, 1024, 392},     // 1024 - 600 - fdReserve
		{1000, 1024, 4},      // no room left: a few still
		{1, 40, minIdle + 1}, // 40 - 3 - fdReserve
	} {
		got := idleWithin(tc.inFlight, tc.limit)
		if got != tc.want {
			t.Errorf("idleWithin(%d in flight, limit %d) = %d, want %d", tc.inFlight, tc.limit, got, tc.want)
		}
		if tc.limit > 0 && got > minIdle && got+3*tc.inFlight+fdReserve > tc.limit {
			t.Errorf("idleWithin(%d in flight, limit %d) = %d: past the limit", tc.inFlight, tc.limit, got)
		}
	}
}

// TestHugeConcurrency: New sizes its free buffers and connection caps from
// Concurrency × Split, which a command line can make as large as it likes
// (-j 100000000000): New made a channel of that many buffers, and the run
// died "fatal error: runtime: out of memory" before its first request, or,
// with a product past the largest int, panicked "makechan: size out of
// range". Such a Client is made, fetches, and holds no more than it could
// ever use.
func TestHugeConcurrency(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	const maxInt = int(^uint(0) >> 1)
	for _, tc := range []struct {
		name               string
		concurrency, split int
	}{
		{"-j 1e11", 100_000_000_000, 1},
		{"-j 1e11 --split 16", 100_000_000_000, 16},
		{"-j max int", maxInt, 1},
		{"-j max int --split 16", maxInt, 16},
		{"-j 2^59 --split 16", 1 << 59, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Concurrency, cfg.Split = tc.concurrency, tc.split
			c := newClient(t, cfg)
			defer c.CloseIdleConnections()
			if got := cap(c.bufs); got > maxInFlight || got < 1 {
				t.Errorf("room for %d free buffers, want 1 to %d", got, maxInFlight)
			}
			path := filepath.Join(t.TempDir(), "a")
			if _, err := c.Fetch(context.Background(), request(srv.URL+"/a", path, nil)); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
		})
	}
}
