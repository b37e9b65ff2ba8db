package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

func splitConfig() Config {
	cfg := testConfig()
	cfg.Split = 4
	cfg.SplitMin = 64 << 10
	return cfg
}

// concurrency counts the requests a handler is serving at once.
type concurrency struct {
	now, peak atomic.Int32
}

func (c *concurrency) enter() {
	n := c.now.Add(1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
}

func (c *concurrency) leave() { c.now.Add(-1) }

// await waits, up to a generous limit, until n requests have been in
// flight at once.
func (c *concurrency) await(n int32) {
	for deadline := time.Now().Add(3 * time.Second); c.peak.Load() < n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}

func TestSplit(t *testing.T) {
	body := payload(1<<20, 10)
	res := newResource(body, `"big"`)
	rc := &recorder{}
	var conc concurrency
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		conc.enter()
		defer conc.leave()
		if rg := r.Header.Get("Range"); rg != "bytes=0-" {
			conc.await(2) // ranges overlap when the client sends them at once
		}
		res.ServeHTTP(w, r)
	})
	cfg := splitConfig()
	gate := &gateCounter{}
	cfg.Gate = gate
	path := filepath.Join(t.TempDir(), "big")
	req := request(srv.URL+"/big", path, nil)
	req.SHA256 = sum(body)
	got, err := newClient(t, cfg).Fetch(context.Background(), req)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	assertDone(t, path, body)
	if got.SHA256 != sum(body) || got.Size != int64(len(body)) || got.Bytes != int64(len(body)) || got.Attempts != 1 {
		t.Errorf("Result %+v", got)
	}
	if p := conc.peak.Load(); p < 2 {
		t.Errorf("at most %d requests at once; a split should overlap them", p)
	}
	ranges := map[string]bool{}
	for i := range rc.count() {
		ranges[rc.header(i).Get("Range")] = true
	}
	chunk := len(body) / 4
	want := []string{"bytes=0-"}
	for i := 1; i < 4; i++ {
		want = append(want, fmt.Sprintf("bytes=%d-%d", i*chunk, (i+1)*chunk-1))
	}
	for _, w := range want {
		if !ranges[w] {
			t.Errorf("no request with Range %s; saw %v", w, ranges)
		}
	}
	if rc.count() != 4 {
		t.Errorf("%d requests, want 4 (probe + 3 ranges)", rc.count())
	}
	if gate.acquired != 4 || gate.released != 4 || gate.maxHeld < 2 {
		t.Errorf("gate: acquired %d, released %d, at most %d held; want 4, 4, ≥2", gate.acquired, gate.released, gate.maxHeld)
	}
	if d := req.Progress.Done(); d != int64(len(body)) {
		t.Errorf("progress %d", d)
	}
}

func TestSplitFallsBack(t *testing.T) {
	body := payload(256<<10, 11)
	tests := []struct {
		name  string
		serve func(w http.ResponseWriter, r *http.Request)
	}{
		{"server ignores Range", func(w http.ResponseWriter, r *http.Request) { w.Write(body) }},
		{"file below --split-min", func(w http.ResponseWriter, r *http.Request) {
			newResource(body[:1000], `"s"`).ServeHTTP(w, r)
		}},
		{"content-coded", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			newResource(body, `"g"`).ServeHTTP(w, r)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) { tt.serve(w, r) })
			path := filepath.Join(t.TempDir(), "f")
			if _, err := newClient(t, splitConfig()).Fetch(context.Background(), request(srv.URL, path, nil)); err != nil {
				t.Fatal(err)
			}
			if rc.count() != 1 {
				t.Errorf("%d requests, want 1", rc.count())
			}
			if r := rc.header(0).Get("Range"); r != "bytes=0-" {
				t.Errorf("probe Range %q", r)
			}
			want := body
			if strings.Contains(tt.name, "below") {
				want = body[:1000]
			}
			assertDone(t, path, want)
		})
	}
}

// TestSplitProbeOfAnEmptyFile checks that a split fetches an empty file as
// a plain GET does: some servers (S3 among them) answer any range of an
// empty file, the probe's "bytes=0-" too, with 416, since no byte of it can
// be sent. The item goes on as one stream, without a Range.
func TestSplitProbeOfAnEmptyFile(t *testing.T) {
	for _, tt := range []struct{ name, contentRange string }{
		{"with Content-Range", "bytes */0"},
		{"without Content-Range", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Range") == "" {
					w.Header().Set("Content-Length", "0")
					return
				}
				if tt.contentRange != "" {
					w.Header().Set("Content-Range", tt.contentRange)
				}
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				w.Write([]byte("<Error><Code>InvalidRange</Code></Error>"))
			})
			path := filepath.Join(t.TempDir(), "f")
			if _, err := newClient(t, splitConfig()).Fetch(context.Background(), request(srv.URL, path, nil)); err != nil {
				t.Fatal(err)
			}
			assertDone(t, path, []byte{})
			if rc.count() != 2 {
				t.Fatalf("%d requests, want 2", rc.count())
			}
			if r := rc.header(1).Get("Range"); r != "" {
				t.Errorf("the second request has Range %q, want none", r)
			}
		})
	}
}

func TestSplitResumes(t *testing.T) {
	body := payload(1<<20, 12)
	res := newResource(body, `"r"`)
	chunk := len(body) / 4
	stuck := fmt.Sprintf("bytes=%d-%d", 2*chunk, 3*chunk-1)
	half := chunk / 2
	var blocking atomic.Bool
	blocking.Store(true)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") == stuck && blocking.Load() {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", 2*chunk, 3*chunk-1, len(body)))
			w.Header().Set("ETag", `"r"`)
			w.Header().Set("Content-Length", fmt.Sprint(chunk))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[2*chunk : 2*chunk+half])
			w.(http.Flusher).Flush()
			blockUntil(t, r)
			return
		}
		res.ServeHTTP(w, r)
	})
	path := filepath.Join(t.TempDir(), "f")
	c := newClient(t, splitConfig())
	ctx, cancel := context.WithCancel(context.Background())
	req := request(srv.URL, path, nil)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Fetch(ctx, req)
		errc <- err
	}()
	want := int64(len(body) - chunk + half)
	for deadline := time.Now().Add(10 * time.Second); req.Progress.Done() < want && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	var err error
	within(t, 5*time.Second, func() { err = <-errc })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
	m, err := ReadMeta(path + ".part")
	if err != nil || len(m.Spans) != 4 {
		t.Fatalf("sidecar %+v, %v", m, err)
	}
	for i, sp := range m.Spans {
		wantNext := sp.End
		if i == 2 {
			wantNext = sp.Start + int64(half)
		}
		if sp.Next != wantNext {
			t.Errorf("span %d: next %d, want %d", i, sp.Next, wantNext)
		}
	}

	blocking.Store(false)
	before := rc.count()
	req2 := request(srv.URL, path, nil)
	req2.SHA256 = sum(body)
	got, err := c.Fetch(context.Background(), req2)
	if err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, body)
	if n := rc.count() - before; n != 1 {
		t.Fatalf("%d requests to resume, want 1", n)
	}
	h := rc.header(before)
	if r := h.Get("Range"); r != fmt.Sprintf("bytes=%d-%d", 2*chunk+half, 3*chunk-1) {
		t.Errorf("resume Range %q", r)
	}
	if h.Get("If-Range") != `"r"` {
		t.Errorf("resume If-Range %q", h.Get("If-Range"))
	}
	if got.Bytes != int64(chunk-half) {
		t.Errorf("Bytes %d, want %d", got.Bytes, chunk-half)
	}
}

// TestSplitSavesProgressWhileRunning: the sidecar records the bytes each
// range has written while the ranges are still running, so that a run
// killed outright (SIGKILL, which leaves no time to save) resumes each
// range where it was, not from its start. The kill is a snapshot of the
// part and its sidecar taken mid-transfer, resumed by another Client.
func TestSplitSavesProgressWhileRunning(t *testing.T) {
	defer func(d time.Duration) { splitSaveEvery = d }(splitSaveEvery)
	splitSaveEvery = 10 * time.Millisecond
	body := payload(4<<20, 31)
	res := newResource(body, `"k"`)
	chunk := len(body) / 4
	sent := 3 * bufSize / 2 // a whole buffer written, half of one held
	var blocking atomic.Bool
	blocking.Store(true)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		if blocking.Load() {
			// Every range (the probe too) sends its first bytes and hangs.
			body, _, _ := res.get()
			first, _ := strconv.Atoi(strings.TrimPrefix(strings.Split(r.Header.Get("Range"), "-")[0], "bytes="))
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, first+chunk-1, len(body)))
			if first == 0 {
				w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(body)-1, len(body)))
			}
			w.Header().Set("ETag", `"k"`)
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[first : first+sent])
			w.(http.Flusher).Flush()
			blockUntil(t, r)
			return
		}
		res.ServeHTTP(w, r)
	})
	path := filepath.Join(t.TempDir(), "f")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := newClient(t, splitConfig()).Fetch(ctx, request(srv.URL, path, nil))
		errc <- err
	}()

	// What a kill would leave: the sidecar as it is on disk now.
	var m Meta
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var err error
		m, err = ReadMeta(path + ".part")
		saved := err == nil && len(m.Spans) == 4
		for _, sp := range m.Spans {
			saved = saved && sp.Next == sp.Start+bufSize
		}
		if saved {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sidecar %+v, %v; want each range's first %d bytes recorded while it runs", m, err, bufSize)
		}
	}
	part := mustFile(t, path+".part")
	cancel()
	within(t, 5*time.Second, func() { <-errc })
	killed := filepath.Join(t.TempDir(), "f")
	writePart(t, killed, part, &m)

	blocking.Store(false)
	before := rc.count()
	req := request(srv.URL, killed, nil)
	req.SHA256 = sum(body)
	got, err := newClient(t, splitConfig()).Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	assertDone(t, killed, body)
	if want := int64(len(body) - 4*bufSize); got.Bytes != want {
		t.Errorf("resumed with %d bytes, want %d: the rest of each range", got.Bytes, want)
	}
	for i := before; i < rc.count(); i++ {
		r := rc.header(i).Get("Range")
		first, _ := strconv.Atoi(strings.TrimPrefix(strings.Split(r, "-")[0], "bytes="))
		if first%chunk != bufSize {
			t.Errorf("resume asked for %q; want each range from its byte %d on", r, bufSize)
		}
	}
}

func TestSplitRangeRetriedAlone(t *testing.T) {
	body := payload(1<<20, 13)
	res := newResource(body, `"x"`)
	chunk := len(body) / 4
	flaky := fmt.Sprintf("bytes=%d-%d", 3*chunk, 4*chunk-1)
	var failed atomic.Int32
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") == flaky && failed.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		res.ServeHTTP(w, r)
	})
	ev := &events{}
	path := filepath.Join(t.TempDir(), "f")
	got, err := newClient(t, splitConfig()).Fetch(context.Background(), request(srv.URL, path, ev))
	if err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, body)
	// The item ran once; its Attempts are the flaky range's two.
	if rc.count() != 5 || got.Attempts != 2 {
		t.Errorf("%d requests, %d attempts; want 5 and 2", rc.count(), got.Attempts)
	}
	r := ev.of(event.Retry)
	if len(r) != 1 || !strings.Contains(r[0].Err.Error(), fmt.Sprintf("bytes %d-%d: HTTP 503", 3*chunk, 4*chunk-1)) {
		t.Errorf("Retry events %v", r)
	}
}

func TestSplitRangeGivesUp(t *testing.T) {
	body := payload(1<<20, 14)
	res := newResource(body, `"x"`)
	chunk := len(body) / 4
	broken := fmt.Sprintf("bytes=%d-%d", chunk, 2*chunk-1)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") == broken {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		res.ServeHTTP(w, r)
	})
	cfg := splitConfig()
	cfg.Retries = 2
	path := filepath.Join(t.TempDir(), "f")
	got, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil))
	want := fmt.Sprintf("bytes %d-%d: after 3 attempts: HTTP 503 Service Unavailable (×3); %s.part kept: run again to resume", chunk, 2*chunk-1, path)
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 503 {
		t.Errorf("errors.As HTTPError: %v", he)
	}
	// The range's retries are enough: the item is not tried again as a
	// whole (one probe, three ranges, two retries of the broken one), and
	// its Attempts are those of the range.
	if got.Attempts != 3 || rc.count() != 6 {
		t.Errorf("%d attempts, %d requests; want 3 and 6", got.Attempts, rc.count())
	}
	assertGone(t, path)
	if m, err := ReadMeta(path + ".part"); err != nil || len(m.Spans) != 4 {
		t.Errorf("sidecar not kept for a resume: %+v, %v", m, err)
	}
}

func TestSplitResourceChanged(t *testing.T) {
	v1, v2 := payload(1<<20, 15), payload(1<<20, 16)
	res := newResource(v1, `"v1"`)
	var switched atomic.Bool
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "bytes=0-" && switched.CompareAndSwap(false, true) {
			res.set(v2, `"v2"`)
		}
		res.ServeHTTP(w, r)
	})
	path := filepath.Join(t.TempDir(), "f")
	req := request(srv.URL, path, nil)
	req.SHA256 = sum(v2)
	got, err := newClient(t, splitConfig()).Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, v2)
	if got.Attempts != 2 {
		t.Errorf("%d attempts, want 2 (restart after the change)", got.Attempts)
	}
}

// TestRangeLengthOverflow: a 206 whose range ends at byte 2^63-1 (bytes
// 0-9223372036854775807/*) has a length one past int64; its end overflowed
// to a negative number, the length check was lost, and 5000 bytes were
// saved under the final name as the whole file. It is a bad answer now, and
// nothing is saved.
func TestRangeLengthOverflow(t *testing.T) {
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") == "" {
			w.Header().Set("Accept-Ranges", "bytes")
			w.Header().Set("Content-Length", "5000")
			w.Write(bytes.Repeat([]byte("x"), 5000))
			return
		}
		w.Header().Set("Content-Range", "bytes 0-9223372036854775807/*")
		w.WriteHeader(http.StatusPartialContent)
		w.Write(bytes.Repeat([]byte("x"), 5000))
	})
	cfg := testConfig()
	cfg.Retries = 0
	cfg.Split, cfg.SplitMin = 4, 1
	path := filepath.Join(t.TempDir(), "f")
	res, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL+"/f", path, nil))
	if err == nil {
		t.Fatalf("Fetch = %+v, nil; want an error", res)
	}
	if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("%s exists after %v: a short file under its final name", path, err)
	}
}

func TestMakeSpans(t *testing.T) {
	tests := []struct {
		total int64
		n     int
		want  []Span
	}{
		{10, 2, []Span{{0, 5, 0}, {5, 10, 5}}},
		{10, 3, []Span{{0, 4, 0}, {4, 8, 4}, {8, 10, 8}}},
		{3, 4, []Span{{0, 1, 0}, {1, 2, 1}, {2, 3, 2}}},
		// A server may claim any size up to 2^63-1: the ranges of one
		// near it overflowed int64 and were cut without end, which ate
		// all memory (a hostile Content-Range bytes 0-x/9223372036854775807).
		{math.MaxInt64, 4, []Span{
			{0, 2305843009213693952, 0},
			{2305843009213693952, 4611686018427387904, 2305843009213693952},
			{4611686018427387904, 6917529027641081856, 4611686018427387904},
			{6917529027641081856, math.MaxInt64, 6917529027641081856}}},
		{math.MaxInt64 - 1, 3, []Span{
			{0, 3074457345618258602, 0},
			{3074457345618258602, 6148914691236517204, 3074457345618258602},
			{6148914691236517204, math.MaxInt64 - 1, 6148914691236517204}}},
	}
	for _, tt := range tests {
		got := makeSpans(tt.total, tt.n)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("makeSpans(%d, %d) = %v, want %v", tt.total, tt.n, got, tt.want)
		}
		if !validSpans(got, tt.total) {
			t.Errorf("validSpans(%v, %d) = false", got, tt.total)
		}
	}
	for _, bad := range [][]Span{
		{{0, 5, 0}},                           // short of the total
		{{0, 5, 6}, {5, 10, 5}},               // next beyond the end
		{{0, 5, 0}, {6, 10, 6}},               // a gap
		{{0, 5, 0}, {5, 10, 5}, {10, 10, 10}}, // empty span
	} {
		if validSpans(bad, 10) {
			t.Errorf("validSpans(%v, 10) = true", bad)
		}
	}
}

func TestSplitSidecarNotMatchingPart(t *testing.T) {
	body := payload(1<<20, 19)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) { newResource(body, `"m"`).ServeHTTP(w, r) })
	path := filepath.Join(t.TempDir(), "f")
	writePart(t, path, []byte("short"), &Meta{URL: srv.URL, ETag: `"m"`, Length: int64(len(body)), Spans: makeSpans(int64(len(body)), 4)})
	if _, err := newClient(t, splitConfig()).Fetch(context.Background(), request(srv.URL, path, nil)); err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, body)
	if r := rc.header(0).Get("Range"); r != "bytes=0-" {
		t.Errorf("first Range %q, want a fresh probe", r)
	}
}

func TestSplitFailureStopsTheProbe(t *testing.T) {
	body := payload(1<<20, 21)
	res := newResource(body, `"p"`)
	path := filepath.Join(t.TempDir(), "f")
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Range") {
		case "bytes=0-":
			w.Header().Set("ETag", `"p"`)
			w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(body)-1, len(body)))
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[:1000])
			w.(http.Flusher).Flush()
			blockUntil(t, r) // the first range hangs...
		case fmt.Sprintf("bytes=%d-%d", len(body)/2, 3*len(body)/4-1):
			// ...while another fails for good, a little later, so that
			// the first range's bytes have mostly been read by then.
			time.Sleep(100 * time.Millisecond)
			http.Error(w, "gone", http.StatusForbidden)
		default:
			res.ServeHTTP(w, r)
		}
	})
	var err error
	within(t, 5*time.Second, func() {
		_, err = newClient(t, splitConfig()).Fetch(context.Background(), request(srv.URL, path, nil))
	})
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusForbidden {
		t.Fatalf("err = %v, want the 403", err)
	}
	// The first range's 1000 bytes are recorded if they were read before
	// the failure stopped it; on a busy machine they may still have been
	// in the socket, unread, and rightly not recorded.
	m, merr := ReadMeta(path + ".part")
	if merr != nil || len(m.Spans) != 4 || (m.Spans[0].Next != 1000 && m.Spans[0].Next != 0) {
		t.Errorf("sidecar %+v, %v; want the first range's 1000 bytes recorded (or none)", m, merr)
	}
	if part, err := os.ReadFile(path + ".part"); err != nil || !bytes.Equal(part[:m.Spans[0].Next], body[:m.Spans[0].Next]) {
		t.Errorf("the part does not hold the bytes its sidecar records: %v", err)
	}
}

// TestSplitRangeNotRetriedAfterStop: once Request.Stop is done, a range
// that fails is not retried; the item ends with ErrStopped and keeps its
// part and sidecar for a resume.
func TestSplitRangeNotRetriedAfterStop(t *testing.T) {
	body := payload(1<<20, 15)
	res := newResource(body, `"x"`)
	chunk := len(body) / 4
	broken := fmt.Sprintf("bytes=%d-%d", chunk, 2*chunk-1)
	stop, stopNow := context.WithCancel(context.Background())
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") == broken {
			stopNow() // the shutdown begins while this range is in flight
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		res.ServeHTTP(w, r)
	})
	ev := &events{}
	path := filepath.Join(t.TempDir(), "f")
	req := request(srv.URL, path, ev)
	req.Stop = stop
	_, err := newClient(t, splitConfig()).Fetch(context.Background(), req)
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("err = %v, want ErrStopped", err)
	}
	want := fmt.Sprintf("bytes %d-%d: HTTP 503 Service Unavailable; not retried: stopping, %s.part kept for a resume", chunk, 2*chunk-1, path)
	if err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	if r := ev.of(event.Retry); len(r) != 0 {
		t.Errorf("retried after Stop: %v", r)
	}
	if n := rc.count(); n > 5 {
		t.Errorf("%d requests; the broken range was asked again", n)
	}
	assertGone(t, path)
	if m, err := ReadMeta(path + ".part"); err != nil || len(m.Spans) != 4 {
		t.Errorf("sidecar not kept for a resume: %+v, %v", m, err)
	}
}

// wholeFile answers a request with all of body and a 200, whatever its
// Range: a server that does not serve ranges. An empty etag or lastMod is
// not sent.
func wholeFile(w http.ResponseWriter, body []byte, etag, lastMod string) {
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	if lastMod != "" {
		w.Header().Set("Last-Modified", lastMod)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// TestSplitRangesAnsweredWhole: a server that honours the probe's range but
// answers the other range requests with the whole file and a 200 does not
// serve ranges. When that 200 carries the probe's validators, the item goes
// on as one stream in the same attempt, with one GET without a range; no
// retry, and no word of a changed file.
func TestSplitRangesAnsweredWhole(t *testing.T) {
	body := payload(1<<20, 40)
	mod := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	lastMod := mod.Format(http.TimeFormat)
	tests := []struct {
		name          string
		etag          string    // of the probe and of the 200s
		mod           time.Time // of the probe
		lastMod       string    // of the 200s
		noLengthOn200 bool
	}{
		{"same ETag and Last-Modified", `"a"`, mod, lastMod, false},
		{"same ETag, no Last-Modified on the 200", `"a"`, mod, "", false},
		{"same Last-Modified, no ETag", "", mod, lastMod, false},
		{"no validators, same length", "", time.Time{}, "", false},
		{"same ETag, no length on the 200", `"a"`, mod, lastMod, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
				switch r.Header.Get("Range") {
				case "bytes=0-", "":
					if tt.etag != "" {
						w.Header().Set("ETag", tt.etag)
					}
					http.ServeContent(w, r, "", tt.mod, bytes.NewReader(body))
				default:
					if tt.noLengthOn200 {
						w.Header().Set("ETag", tt.etag)
						w.Header().Set("Last-Modified", tt.lastMod)
						w.Write(body[:1])
						w.(http.Flusher).Flush() // chunked: no Content-Length
						w.Write(body[1:])
						return
					}
					wholeFile(w, body, tt.etag, tt.lastMod)
				}
			})
			ev := &events{}
			path := filepath.Join(t.TempDir(), "f")
			req := request(srv.URL, path, ev)
			req.SHA256 = sum(body)
			got, err := fetchWithin(t, splitConfig(), req)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			assertDone(t, path, body)
			assertGone(t, path+".part.meta.tmp")
			if got.Attempts != 1 || got.Size != int64(len(body)) {
				t.Errorf("Result %+v; want 1 attempt, %d bytes", got, len(body))
			}
			if r := ev.of(event.Retry); len(r) != 0 {
				t.Errorf("retried: %v", r)
			}
			// -v says what each request asked for: the ranges, then the
			// one stream and why.
			var asked []string
			for _, a := range ev.of(event.Attempt) {
				asked = append(asked, a.Message)
			}
			if !slices.Contains(asked, "one stream: the server answered a range with the whole file") ||
				!slices.ContainsFunc(asked, func(m string) bool { return strings.HasPrefix(m, "bytes ") }) {
				t.Errorf("attempts asked for %q; want ranges, then the one stream", asked)
			}
			var plain []int
			for i := range rc.count() {
				if rc.header(i).Get("Range") == "" {
					plain = append(plain, i)
				}
			}
			// Ranges in flight when the first whole answer came may
			// reach the server after the one stream's GET: count, not
			// order.
			if len(plain) != 1 {
				t.Errorf("requests without Range: %v of %d; want one", plain, rc.count())
			}
			if n := rc.count(); n > 5 {
				t.Errorf("%d requests; want at most 5 (probe, 3 ranges, one stream)", n)
			}
		})
	}
}

// TestSplitRangesMislabelled: a server whose 206 answers to the ranges
// carry other bytes than those asked for (a Content-Range that starts
// elsewhere, or that does not parse) would answer the same when asked
// again, in this run or the next: the item is read as one stream instead
// of failing after its retries, also when it resumes a split part of an
// earlier run (before, that part failed every run until --no-resume).
func TestSplitRangesMislabelled(t *testing.T) {
	body := payload(1<<20, 45)
	tests := []struct {
		name    string
		cr      func(first, last int) string
		resume  bool
		wantWhy string
	}{
		{"from the byte after", func(first, last int) string { return fmt.Sprintf("bytes %d-%d/%d", first+1, last, len(body)) }, false, "it sent"},
		{"bad Content-Range", func(first, last int) string { return "bytes soon" }, false, "bad Content-Range"},
		{"resumed split part", func(first, last int) string { return fmt.Sprintf("bytes %d-%d/%d", first+1, last, len(body)) }, true, "it sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("ETag", `"l"`)
				rg := r.Header.Get("Range")
				if rg == "" || rg == "bytes=0-" {
					http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
					return
				}
				a, b, _ := strings.Cut(strings.TrimPrefix(rg, "bytes="), "-")
				first, _ := strconv.Atoi(a)
				last, _ := strconv.Atoi(b)
				w.Header().Set("Content-Range", tt.cr(first, last))
				w.WriteHeader(http.StatusPartialContent)
				w.Write(body[first : last+1])
			})
			path := filepath.Join(t.TempDir(), "f")
			if tt.resume {
				spans := makeSpans(int64(len(body)), 4)
				spans[0].Next = spans[0].End
				part := append(bytes.Clone(body[:spans[0].End]), make([]byte, len(body)-int(spans[0].End))...)
				writePart(t, path, part, &Meta{URL: srv.URL, ETag: `"l"`, Length: int64(len(body)), Spans: spans})
			}
			ev := &events{}
			req := request(srv.URL, path, ev)
			req.SHA256 = sum(body)
			_, err := fetchWithin(t, splitConfig(), req)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			assertDone(t, path, body)
			if r := ev.of(event.Retry); len(r) != 0 {
				t.Errorf("retried: %v", r)
			}
			var why bool
			for _, a := range ev.of(event.Attempt) {
				why = why || strings.HasPrefix(a.Message, "one stream: ") && strings.Contains(a.Message, tt.wantWhy)
			}
			if !why {
				t.Errorf("no attempt says it reads one stream because %q", tt.wantWhy)
			}
		})
	}
}

// version is one content of a file that changes on its server.
type version struct {
	body []byte
	etag string
	mod  time.Time
}

// TestSplitRangeAnsweredWithAnotherFile: a 200 to a range request whose
// ETag, Last-Modified or length differ from the probe's is a file that
// changed: the item starts over as a split, and gets the new file.
func TestSplitRangeAnsweredWithAnotherFile(t *testing.T) {
	mod := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	v1 := version{payload(1<<20, 41), `"a"`, mod}
	tests := []struct {
		name string
		v2   version
	}{
		{"another ETag", version{payload(1<<20, 42), `"b"`, mod}},
		{"another Last-Modified", version{payload(1<<20, 42), `"a"`, mod.Add(time.Hour)}},
		{"another length", version{payload(1<<20+1000, 42), `"a"`, mod}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cur atomic.Pointer[version]
			cur.Store(&v1)
			rc := &recorder{}
			srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Range") != "bytes=0-" && cur.CompareAndSwap(&v1, &tt.v2) {
					// The file changes, and this range gets all of it.
					wholeFile(w, tt.v2.body, tt.v2.etag, tt.v2.mod.Format(http.TimeFormat))
					return
				}
				v := cur.Load()
				w.Header().Set("ETag", v.etag)
				http.ServeContent(w, r, "", v.mod, bytes.NewReader(v.body))
			})
			path := filepath.Join(t.TempDir(), "f")
			req := request(srv.URL, path, nil)
			req.SHA256 = sum(tt.v2.body)
			got, err := newClient(t, splitConfig()).Fetch(context.Background(), req)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			assertDone(t, path, tt.v2.body)
			if got.Attempts != 2 {
				t.Errorf("%d attempts, want 2 (a restart after the change)", got.Attempts)
			}
			for i := range rc.count() {
				if rc.header(i).Get("Range") == "" {
					t.Errorf("request %d without Range: the server serves ranges, the split should go on", i)
				}
			}
		})
	}
}

// TestSplitFileKeepsChanging: a file that changes under every attempt
// fails once the retries are spent, saying so, without a "restarting" that
// does not happen.
func TestSplitFileKeepsChanging(t *testing.T) {
	var n atomic.Int32
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		body := payload(1<<20, 43)
		if r.Header.Get("Range") == "bytes=0-" {
			w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, n.Add(1)))
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
			return
		}
		wholeFile(w, body, `"new"`, "")
	})
	cfg := splitConfig()
	cfg.Retries = 2
	path := filepath.Join(t.TempDir(), "f")
	got, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil))
	want := "after 3 attempts: the file changed on the server during the transfer (×3)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	if got.Attempts != 3 {
		t.Errorf("%d attempts, want 3", got.Attempts)
	}
	assertGone(t, path, path+".part", path+".part.meta", path+".part.meta.tmp")
}

// TestSplitResumeRangesAnsweredWhole: a split part from an earlier run,
// whose server now answers its ranges with the whole, unchanged file, is
// fetched again as one stream, in the same attempt.
func TestSplitResumeRangesAnsweredWhole(t *testing.T) {
	body := payload(1<<20, 44)
	mod := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		wholeFile(w, body, `"a"`, mod.Format(http.TimeFormat))
	})
	path := filepath.Join(t.TempDir(), "f")
	spans := makeSpans(int64(len(body)), 4)
	spans[0].Next += 1000 // the earlier run got this far
	part := make([]byte, len(body))
	copy(part, body[:1000])
	writePart(t, path, part, &Meta{URL: srv.URL, ETag: `"a"`, LastModified: mod.Format(http.TimeFormat), Length: int64(len(body)), Spans: spans})
	req := request(srv.URL, path, nil)
	req.SHA256 = sum(body)
	got, err := newClient(t, splitConfig()).Fetch(context.Background(), req)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	assertDone(t, path, body)
	if got.Attempts != 1 {
		t.Errorf("%d attempts, want 1", got.Attempts)
	}
	// The ranges in flight when the first whole answer came may reach
	// the server after the one stream's GET: count, not order.
	plain := 0
	for i := range rc.count() {
		if rc.header(i).Get("Range") == "" {
			plain++
		}
	}
	if plain != 1 || rc.count() > 5 {
		t.Errorf("%d requests, %d of them without Range; want at most 5, one without", rc.count(), plain)
	}
}

// TestSplitRangeFailureSaysWhich: a range that keeps failing ends the item
// with one reason that says which range failed, after how many attempts,
// and why; the item's Attempts is that count, so that nothing shown next to
// the reason contradicts it.
func TestSplitRangeFailureSaysWhich(t *testing.T) {
	body := payload(1<<20, 45)
	res := newResource(body, `"x"`)
	chunk := len(body) / 4
	first, last := chunk, 2*chunk-1 // the second range fails
	tests := []struct {
		name  string
		stall time.Duration
		fail  func(w http.ResponseWriter, r *http.Request, from int)
		why   string
	}{
		{"HTTP 500", 0, func(w http.ResponseWriter, r *http.Request, _ int) {
			http.Error(w, "oops", http.StatusInternalServerError)
		}, "HTTP 500 Internal Server Error"},
		{"ends early", 0, func(w http.ResponseWriter, r *http.Request, from int) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, last, len(body)))
			w.Header().Set("Content-Length", strconv.Itoa(last+1-from))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[from : from+1000])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // closes the connection
		}, "connection closed early"},
		{"stalls", time.Second, func(w http.ResponseWriter, r *http.Request, from int) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, last, len(body)))
			w.Header().Set("Content-Length", strconv.Itoa(last+1-from))
			w.WriteHeader(http.StatusPartialContent)
			w.(http.Flusher).Flush()
			blockUntil(t, r)
		}, "no data received for 1s (--stall-timeout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tries atomic.Int32
			srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
				var from, to int
				if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &from, &to); err == nil && to == last {
					tries.Add(1)
					tt.fail(w, r, from)
					return
				}
				res.ServeHTTP(w, r)
			})
			cfg := splitConfig()
			cfg.Retries = 2
			if tt.stall > 0 {
				cfg.StallTimeout = tt.stall
			}
			path := filepath.Join(t.TempDir(), "f")
			var got Result
			var err error
			within(t, 30*time.Second, func() {
				got, err = newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil))
			})
			want := fmt.Sprintf("bytes %d-%d: after 3 attempts: %s (×3); %s.part kept: run again to resume", first, last, tt.why, path)
			if err == nil || err.Error() != want {
				t.Errorf("err = %v\nwant  %s", err, want)
			}
			if got.Attempts != 3 || tries.Load() != 3 {
				t.Errorf("Attempts %d, and the range was asked for %d times; want 3 and 3", got.Attempts, tries.Load())
			}
			if m, err := ReadMeta(path + ".part"); err != nil || len(m.Spans) != 4 {
				t.Errorf("sidecar not kept for a resume: %+v, %v", m, err)
			}
		})
	}
}

// TestWriteMetaLeavesALinkedTemp: the temporary sidecar of a split that
// could not be written is removed (see TestSplitDiskFullLeavesNothing),
// but one that is a symbolic link, which was not written through, is not
// fetchpool's to remove: it and its target are left as they were.
func TestWriteMetaLeavesALinkedTemp(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("VICTIM"), 0o644); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(dir, "f.part")
	if err := os.Symlink(victim, part+".meta.tmp"); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if err := writeMeta(part, Meta{URL: "http://x/f", Length: 10}); !errors.Is(err, errSymlink) {
		t.Fatalf("writeMeta = %v, want errSymlink", err)
	}
	if fi, err := os.Lstat(part + ".meta.tmp"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is gone or replaced: %v", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "VICTIM" {
		t.Errorf("the link's target was written: %q", got)
	}
}

// TestSplitPartCannotBeSized: a file system that refuses to make a part
// its full size at once (fusefat: no fallocate, and EPERM from an
// ftruncate that extends a file) failed a --split item with "operation
// not permitted"; the item goes on as one stream, as when the server
// serves no ranges, and says why.
func TestSplitPartCannotBeSized(t *testing.T) {
	body := payload(1<<20, 48)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		newResource(body, `"p"`).ServeHTTP(w, r)
	})
	path := filepath.Join(t.TempDir(), "f")
	ev := &events{}
	req := request(srv.URL, path, ev)
	req.SHA256 = sum(body)
	c := newClient(t, splitConfig())
	c.alloc = func(f *partFile, size int64) error {
		return &os.PathError{Op: "truncate", Path: path + ".part", Err: syscall.EPERM}
	}
	if _, err := c.Fetch(context.Background(), req); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	assertDone(t, path, body)
	var why bool
	for _, a := range ev.of(event.Attempt) {
		why = why || strings.HasPrefix(a.Message, "one stream: ") && strings.Contains(a.Message, "operation not permitted")
	}
	if !why {
		t.Errorf("no attempt says it reads one stream because the part could not be sized: %v", ev.of(event.Attempt))
	}
}

// TestIfNewerResumedSplitIsConditional: with --on-exists newer, the split
// part of a copy from an earlier run (one killed while --on-exists
// overwrite or a newer server copy replaced the file) is resumed only when
// the server's copy is newer than the file, as a part of one stream is
// (TestIfNewerResumeIsConditional): its range requests carry the
// conditions, and a 304, or a 206 that is not newer from a server that
// ignores them, skips the item and removes the part. Before, the ranges
// were fetched unconditionally and the older copy replaced the newer file.
func TestIfNewerResumedSplitIsConditional(t *testing.T) {
	mod := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC) // newResource's Last-Modified
	for _, tt := range []struct {
		name    string
		mtime   time.Time // of the file on disk
		ignore  bool      // the server ignores If-Modified-Since
		whole   bool      // every range of the part is done: no request is left to ask
		replace bool
	}{
		{"file newer than the server's", mod.Add(time.Hour), false, false, false},
		{"file newer, conditions ignored", mod.Add(time.Hour), true, false, false},
		{"file as new as the server's", mod, false, false, false},
		{"file newer, the part whole", mod.Add(time.Hour), false, true, false},
		{"file older than the server's", mod.Add(-time.Hour), false, false, true},
		{"file older, conditions ignored", mod.Add(-time.Hour), true, false, true},
		{"file older, the part whole", mod.Add(-time.Hour), false, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := payload(1<<20, 43)
			rc := &recorder{}
			res := newResource(body, "")
			srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
				if tt.ignore {
					r.Header.Del("If-Modified-Since")
				}
				res.ServeHTTP(w, r)
			})
			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, []byte("the local copy"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, time.Time{}, tt.mtime); err != nil {
				t.Fatal(err)
			}
			m := Meta{URL: srv.URL, LastModified: mod.Format(http.TimeFormat), Length: int64(len(body)),
				Spans: makeSpans(int64(len(body)), 4)}
			part := make([]byte, len(body))
			for i := range m.Spans {
				s := &m.Spans[i]
				s.Next = s.Start + 1000
				if tt.whole {
					s.Next = s.End
				}
				copy(part[s.Start:s.Next], body[s.Start:s.Next])
			}
			writePart(t, path, part, &m)

			req := request(srv.URL, path, nil)
			req.IfNewer = true
			got, err := fetchWithin(t, splitConfig(), req)
			if err != nil {
				t.Fatal(err)
			}
			for i := range rc.count() {
				if h := rc.header(i); h.Get("If-Modified-Since") == "" && !tt.ignore {
					t.Errorf("request %d (Range %q) is not conditional", i+1, h.Get("Range"))
				}
			}
			if tt.replace {
				if got.Skipped {
					t.Fatalf("%+v; want the part resumed", got)
				}
				assertDone(t, path, body)
				return
			}
			if !got.Skipped || !got.StaleRemoved {
				t.Errorf("%+v; want skipped, the part removed", got)
			}
			if b, _ := os.ReadFile(path); string(b) != "the local copy" {
				t.Errorf("the local copy was replaced by the server's copy, which is not newer")
			}
			assertGone(t, path+".part", path+".part.meta")
		})
	}
}

// TestResumedSplitTakesTheServersName: the split part of an item that its
// server names by Content-Disposition lies under the item's first name (the
// part stays at Request.Path+".part"); resumed in a later run, the file
// lands under the server's name, as it does when the split is not cut, and
// as a resumed part of one stream does: Request.Rename is asked once, with
// the name the first range's response gives. Before, no range consulted it,
// and the file landed under the URL's name, beside any file with the
// server's name that --on-exists skip kept.
func TestResumedSplitTakesTheServersName(t *testing.T) {
	body := payload(1<<20, 47)
	res := newResource(body, `"big"`)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="report.bin"`)
		res.ServeHTTP(w, r)
	})
	for _, tt := range []struct {
		name string
		skip bool // Rename says ErrSkip: a file with the server's name is kept
	}{
		{"renamed", false},
		{"skipped", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "download")
			m := Meta{URL: srv.URL, ETag: `"big"`, LastModified: "Fri, 01 Mar 2024 12:00:00 GMT",
				Length: int64(len(body)), Spans: makeSpans(int64(len(body)), 4)}
			part := make([]byte, len(body))
			for i := range m.Spans {
				s := &m.Spans[i]
				s.Next = s.Start + 1000
				copy(part[s.Start:s.Next], body[s.Start:s.Next])
			}
			writePart(t, path, part, &m)

			var mu sync.Mutex
			var asked []string
			req := request(srv.URL, path, nil)
			req.Rename = func(name string) (Destination, error) {
				mu.Lock()
				defer mu.Unlock()
				asked = append(asked, name)
				if tt.skip {
					return Destination{Path: filepath.Join(dir, name)}, ErrSkip
				}
				return Destination{Path: filepath.Join(dir, name)}, nil
			}
			got, err := fetchWithin(t, splitConfig(), req)
			if len(asked) != 1 || asked[0] != "report.bin" {
				t.Errorf("Rename asked %q; want once, report.bin", asked)
			}
			if tt.skip {
				if !errors.Is(err, ErrSkip) || !got.Skipped || got.Path != filepath.Join(dir, "report.bin") {
					t.Fatalf("%+v, %v; want skipped for report.bin", got, err)
				}
				assertGone(t, path, filepath.Join(dir, "report.bin"))
				if _, err := ReadMeta(path + ".part"); err != nil {
					t.Errorf("the part's sidecar: %v; want the part kept", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Path != filepath.Join(dir, "report.bin") {
				t.Errorf("Path %q; want report.bin", got.Path)
			}
			assertDone(t, filepath.Join(dir, "report.bin"), body)
			assertGone(t, path, path+".part", path+".part.meta")
		})
	}
}

// TestWholeSplitPartAsksTheServer: a split part whose ranges are all in (a
// run interrupted while it verified or renamed the file) is not moved into
// place on its sidecar's word alone: as a whole part of one stream, it is
// resumed from its end, with If-Range, so a server whose file changed
// since sends the new one, and one whose file is the same answers 416 and
// sends nothing. Before, no request was sent, and the old copy landed as
// the file even after the server had changed it (or removed it).
func TestWholeSplitPartAsksTheServer(t *testing.T) {
	old, now := payload(1<<20, 53), payload(1<<20, 59)
	for _, tt := range []struct {
		name   string
		serve  []byte // what the server has now
		etag   string
		status int // answer every request with this status instead (0: serve)
		want   []byte
		bytes  int64 // received
	}{
		{name: "unchanged", serve: old, etag: `"v1"`, want: old, bytes: 0},
		{name: "changed", serve: now, etag: `"v2"`, want: now, bytes: int64(len(now))},
		{name: "gone", status: http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := newResource(tt.serve, tt.etag)
			srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
				if tt.status != 0 {
					http.Error(w, "no", tt.status)
					return
				}
				res.ServeHTTP(w, r)
			})
			path := filepath.Join(t.TempDir(), "f")
			m := Meta{URL: srv.URL, ETag: `"v1"`, LastModified: "Fri, 01 Mar 2024 12:00:00 GMT",
				Length: int64(len(old)), Spans: makeSpans(int64(len(old)), 4)}
			for i := range m.Spans {
				m.Spans[i].Next = m.Spans[i].End
			}
			writePart(t, path, old, &m)
			got, err := fetchWithin(t, splitConfig(), request(srv.URL, path, nil))
			if tt.status != 0 {
				if err == nil {
					t.Fatalf("%+v; want the item failed", got)
				}
				assertGone(t, path)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertDone(t, path, tt.want)
			if got.Bytes != tt.bytes {
				t.Errorf("received %d bytes, want %d", got.Bytes, tt.bytes)
			}
		})
	}
}

// TestSidecarWithTooManyRanges: a sidecar that records more ranges than a
// split ever makes (MaxSplit) was not written by fetchpool, or was
// damaged: its part is fetched again from the start, not resumed range by
// range. Before, a sidecar of 5000 ranges of 200 bytes each (a megabyte of
// JSON) had its part resumed with 5000 range requests, all at once.
func TestSidecarWithTooManyRanges(t *testing.T) {
	body := payload(1<<20, 61)
	res := newResource(body, `"big"`)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) { res.ServeHTTP(w, r) })
	path := filepath.Join(t.TempDir(), "f")
	m := Meta{URL: srv.URL, ETag: `"big"`, LastModified: "Fri, 01 Mar 2024 12:00:00 GMT",
		Length: int64(len(body)), Spans: makeSpans(int64(len(body)), 5000)}
	writePart(t, path, make([]byte, len(body)), &m)
	if _, err := ReadMeta(path + ".part"); err != nil {
		t.Fatalf("the sidecar of 5000 ranges does not read back: %v", err)
	}
	if _, err := fetchWithin(t, splitConfig(), request(srv.URL, path, nil)); err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, body)
	if n := rc.count(); n > splitConfig().Split {
		t.Errorf("%d requests; want the file fetched afresh, in at most %d", n, splitConfig().Split)
	}
}
