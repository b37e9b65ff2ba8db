package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// rangeServer serves body with Range support. While holding, each answer
// sends its first 64 KiB, reports its arrival, and sends the rest only
// after release is closed; a Range equal to failOnce gets a 503 the first
// time. Every request's Range is recorded.
type rangeServer struct {
	*httptest.Server
	body     []byte
	failOnce string
	holding  atomic.Bool
	arrived  chan string
	release  chan struct{}
	once     sync.Once

	mu     sync.Mutex
	ranges []string
	failed bool
}

func newRangeServer(t *testing.T, body []byte, failOnce string) *rangeServer {
	t.Helper()
	s := &rangeServer{body: body, failOnce: failOnce, arrived: make(chan string, 100), release: make(chan struct{})}
	s.holding.Store(true)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	t.Cleanup(s.unblock) // runs before Close, which waits for the handlers
	return s
}

func (s *rangeServer) unblock() { s.once.Do(func() { close(s.release) }) }

// seen returns the Range of every request since the i-th.
func (s *rangeServer) seen(i int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ranges[min(i, len(s.ranges)):])
}

func (s *rangeServer) serve(w http.ResponseWriter, r *http.Request) {
	rg := r.Header.Get("Range")
	s.mu.Lock()
	s.ranges = append(s.ranges, rg)
	fail := rg == s.failOnce && !s.failed
	s.failed = s.failed || fail
	s.mu.Unlock()
	if fail {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("ETag", `"v1"`)
	var first, last int64
	n, _ := fmt.Sscanf(rg, "bytes=%d-%d", &first, &last)
	if !s.holding.Load() || n == 0 {
		http.ServeContent(w, r, "", modTime, bytes.NewReader(s.body))
		return
	}
	if n == 1 {
		last = int64(len(s.body)) - 1
	}
	w.Header().Set("Last-Modified", modTime.Format(http.TimeFormat))
	w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(s.body)))
	w.Header().Set("Content-Length", strconv.FormatInt(last+1-first, 10))
	w.WriteHeader(http.StatusPartialContent)
	const early = 64 << 10
	w.Write(s.body[first : first+early])
	w.(http.Flusher).Flush()
	s.arrived <- rg
	select {
	case <-s.release:
		w.Write(s.body[first+early : last+1])
	case <-r.Context().Done():
	}
}

// await waits until n held answers are streaming.
func (s *rangeServer) await(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-s.arrived:
		case <-time.After(eventually):
			t.Fatalf("only %d of %d ranges streaming: %q", i, n, s.seen(0))
		}
	}
}

// TestSignalSplitSendsNoNewRange: after the first Ctrl-C, a --split
// download lets the ranges that are streaming finish but sends no other:
// not the ranges that wait at the gate for the request rate (--rate) or a
// slot of their host (--per-host), nor the retry of a range that waits out
// its backoff. They were sent anyway, one every ten seconds at --rate 6/m,
// and the run took minutes to end. The item is canceled, listed in
// --failed, its part and sidecar kept; the run exits 130; and the next run
// asks for exactly the ranges left and makes the whole file.
func TestSignalSplitSendsNoNewRange(t *testing.T) {
	const size = 4 << 20
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(i*31 + i>>11)
	}
	rangeOf := func(i int) string { return fmt.Sprintf("bytes=%d-%d", i*size/4, (i+1)*size/4-1) }
	for _, tt := range []struct {
		name      string
		args      []string
		failOnce  int // the range whose first request fails, and waits to retry (0: none)
		streaming int // the answers streaming when the signal comes
		reason    string
		left      []string // the ranges the next run asks for
	}{
		{
			name: "waiting for the request rate", args: []string{"--rate", "6/m"}, streaming: 1,
			reason: fmt.Sprintf("bytes %d-%d not requested: stopping", size/4, size-1),
			left:   []string{rangeOf(1), rangeOf(2), rangeOf(3)},
		},
		{
			name: "waiting for a slot of its host", args: []string{"--per-host", "1"}, streaming: 1,
			reason: fmt.Sprintf("bytes %d-%d not requested: stopping", size/4, size-1),
			left:   []string{rangeOf(1), rangeOf(2), rangeOf(3)},
		},
		{
			name: "waiting to retry", args: []string{"--retry-wait", "1m"}, failOnce: 2, streaming: 3,
			reason: fmt.Sprintf("bytes %d-%d: HTTP 503 Service Unavailable; not retried: stopping", size/2, 3*size/4-1),
			left:   []string{rangeOf(2)},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var failOnce string
			if tt.failOnce > 0 {
				failOnce = rangeOf(tt.failOnce)
			}
			srv := newRangeServer(t, body, failOnce)
			dir := t.TempDir()
			url := srv.URL + "/big.bin"
			args := append([]string{"-o", "out", "--no-progress", "-v", "--split", "4", "--split-min", "1M",
				"--failed", "failed.txt"}, tt.args...)
			p := startFetchpool(t, dir, append(args, url)...)
			srv.await(t, tt.streaming)
			if failOnce != "" {
				p.waitLine(`^retry ` + regexp.QuoteMeta(url))
			}
			sent := p.signal(syscall.SIGINT)
			p.waitLine(`^stopping: waiting for 1 transfer in flight`)
			srv.unblock() // the ranges streaming finish
			p.waitLine(`^CANCEL arg 1 ` + regexp.QuoteMeta(url) + `: ` + regexp.QuoteMeta(tt.reason+", out/big.bin.part kept for a resume") + `$`)
			r := p.wait()
			if r.code != exitInterrupted {
				t.Fatalf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
			}
			if took := p.end.Sub(sent); took > 10*time.Second {
				t.Errorf("the shutdown took %v", took)
			}
			// The probe, and the ranges sent before the signal (the one
			// that failed once).
			first := srv.seen(0)
			if n := tt.streaming + min(tt.failOnce, 1); len(first) != n || first[0] != "bytes=0-" {
				t.Errorf("requests %q, want the probe and %d more: a range was sent after the signal", first, n-1)
			}
			if failed := failedItems(t, filepath.Join(dir, "failed.txt")); !slices.Equal(failed, []string{url}) {
				t.Errorf("--failed = %q, want %q", failed, url)
			}
			for _, f := range []string{"out/big.bin.part", "out/big.bin.part.meta"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s not kept for a resume: %v", f, err)
				}
			}

			// The next run fetches just the ranges left.
			srv.holding.Store(false)
			before := len(first)
			r = fetchpool(t, dir, "", "-o", "out", "--no-progress", "--split", "4", "--split-min", "1M", "-i", "failed.txt")
			if r.code != 0 {
				t.Fatalf("resume: exit %d; stderr:\n%s", r.code, r.stderr)
			}
			got := readFile(t, filepath.Join(dir, "out", "big.bin"))
			if sha256.Sum256(got) != sha256.Sum256(body) {
				t.Errorf("the resumed file (%d bytes) is not the resource (%d bytes)", len(got), len(body))
			}
			noParts(t, filepath.Join(dir, "out"))
			resumed := srv.seen(before)
			slices.Sort(resumed)
			if !slices.Equal(resumed, tt.left) {
				t.Errorf("the resume asked for %q, want %q", resumed, tt.left)
			}
		})
	}
}
