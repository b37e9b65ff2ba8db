package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/limit"
	"golang.org/x/time/rate"
)

// heldRanges serves a resource's ranges, holding each answer after its
// first 16 KiB until release is closed, so that the test knows which
// ranges are streaming when it stops the item. A Range listed in failOnce
// gets a 503 the first time it is asked for.
type heldRanges struct {
	res      *resource
	release  chan struct{}
	arrived  chan string // the Range of each held answer, once its first bytes are out
	failOnce map[string]bool

	mu     sync.Mutex
	ranges []string // the Range of every request, in order
	failed map[string]bool
}

func newHeldRanges(res *resource, failOnce ...string) *heldRanges {
	h := &heldRanges{res: res, release: make(chan struct{}), arrived: make(chan string, 16),
		failOnce: map[string]bool{}, failed: map[string]bool{}}
	for _, r := range failOnce {
		h.failOnce[r] = true
	}
	return h
}

func (h *heldRanges) seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ranges)
}

func (h *heldRanges) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rg := r.Header.Get("Range")
	h.mu.Lock()
	h.ranges = append(h.ranges, rg)
	fail := h.failOnce[rg] && !h.failed[rg]
	h.failed[rg] = h.failed[rg] || fail
	h.mu.Unlock()
	if fail {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	body, etag, mod := h.res.get()
	var first, last int64
	n, _ := fmt.Sscanf(rg, "bytes=%d-%d", &first, &last)
	switch n {
	case 0:
		h.res.ServeHTTP(w, r)
		return
	case 1:
		last = int64(len(body)) - 1
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", mod.UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(body)))
	w.Header().Set("Content-Length", strconv.FormatInt(last+1-first, 10))
	w.WriteHeader(http.StatusPartialContent)
	const early = 16 << 10
	w.Write(body[first : first+early])
	w.(http.Flusher).Flush()
	h.arrived <- rg
	select {
	case <-h.release:
		w.Write(body[first+early : last+1])
	case <-r.Context().Done():
	}
}

// TestSplitRangesNotSentAfterStop: once Request.Stop is done (the first
// Ctrl-C), the ranges of a split that are streaming finish, but a range
// not sent yet — waiting at the gate for the request rate or a slot of its
// host, or waiting out the backoff before its retry — is not sent. The
// item ends with ErrStopped, its part and sidecar kept, and the next run
// asks for exactly the ranges left and makes the whole file. The ranges
// waited for their turn instead (a minute each at --rate 1/m), and were
// sent after the shutdown had begun.
func TestSplitRangesNotSentAfterStop(t *testing.T) {
	body := payload(1<<20, 31)
	chunk := len(body) / 4
	rangeOf := func(i int) string { return fmt.Sprintf("bytes=%d-%d", i*chunk, (i+1)*chunk-1) }
	for _, tc := range []struct {
		name string
		gate Gate // nil: none
		// failOnce is the range that fails its first request, and waits
		// for its retry when the item is stopped.
		failOnce int
		// streaming is how many answers are held when Stop comes;
		// requests is how many requests the first run sends.
		streaming, requests int
		want                string // the error, but for the part; "" for the ranges not sent
	}{
		// The probe and one range take the two tokens, or slots: the
		// other two ranges wait.
		{name: "waiting for the request rate", gate: limit.NewGate(rate.Every(time.Minute), 2, 0), streaming: 2, requests: 2},
		{name: "waiting for a slot of its host", gate: limit.NewGate(rate.Inf, 1, 2), streaming: 2, requests: 2},
		{name: "waiting to retry", failOnce: 2, streaming: 3, requests: 4,
			want: fmt.Sprintf("bytes %d-%d: HTTP 503 Service Unavailable; not retried: stopping", 2*chunk, 3*chunk-1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := newResource(body, `"s"`)
			var failOnce string
			if tc.failOnce > 0 {
				failOnce = rangeOf(tc.failOnce)
			}
			held := newHeldRanges(res, failOnce)
			var holding atomic.Bool
			holding.Store(true)
			rc := &recorder{}
			srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
				if holding.Load() {
					held.ServeHTTP(w, r)
					return
				}
				res.ServeHTTP(w, r)
			})
			t.Cleanup(func() {
				select {
				case <-held.release:
				default:
					close(held.release)
				}
			})
			path := filepath.Join(t.TempDir(), "f")
			stop, stopNow := context.WithCancel(context.Background())
			defer stopNow()
			retrying := make(chan struct{}, 1)
			req := request(srv.URL, path, nil)
			req.Stop = stop
			req.Emit = func(ev event.Event) {
				if ev.Kind == event.Retry {
					retrying <- struct{}{}
				}
			}
			cfg := splitConfig()
			cfg.RetryWait = time.Minute
			cfg.Gate = tc.gate
			var err error
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, err = newClient(t, cfg).Fetch(context.Background(), req)
			}()
			for range tc.streaming {
				select {
				case <-held.arrived:
				case <-time.After(10 * time.Second):
					t.Fatalf("only some of %d ranges streaming: %q", tc.streaming, held.seen())
				}
			}
			if failOnce != "" {
				<-retrying
			}
			time.Sleep(100 * time.Millisecond) // the others reach the gate
			stopNow()
			time.Sleep(100 * time.Millisecond) // a range sent now would arrive
			close(held.release)                // the ranges in flight finish
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("still running 10s after Stop; requests %q", held.seen())
			}

			if !errors.Is(err, ErrStopped) {
				t.Fatalf("err = %v, want ErrStopped", err)
			}
			got := held.seen()
			if len(got) != tc.requests || got[0] != "bytes=0-" {
				t.Errorf("requests %q, want the probe and %d more: a range was sent after Stop", got, tc.requests-1)
			}
			// The ranges not sent (in whatever order they reached the
			// gate), and the one whose retry was not, are left.
			var wantLeft []string
			var unsent []string
			for i := 1; i < 4; i++ {
				switch {
				case !slices.Contains(got, rangeOf(i)):
					unsent = append(unsent, fmt.Sprintf("%d-%d", i*chunk, (i+1)*chunk-1))
					fallthrough
				case i == tc.failOnce:
					wantLeft = append(wantLeft, rangeOf(i))
				}
			}
			want := tc.want
			if want == "" {
				want = "bytes " + strings.Join(unsent, ", ") + " not requested: stopping"
				for i := 2; i < 4; i++ { // adjacent ranges are told as one
					want = strings.Replace(want, fmt.Sprintf("%d, %d-", i*chunk-1, i*chunk), "", 1)
				}
			}
			if want += ", " + path + ".part kept for a resume"; err.Error() != want {
				t.Errorf("err = %q\nwant  %q", err, want)
			}
			m, merr := ReadMeta(path + ".part")
			if merr != nil || len(m.Spans) != 4 {
				t.Fatalf("sidecar not kept for a resume: %+v, %v", m, merr)
			}
			var left []string
			for i, s := range m.Spans {
				if s.Next < s.End {
					left = append(left, fmt.Sprintf("bytes=%d-%d", s.Next, s.End-1))
				} else if s.Next != s.End {
					t.Errorf("range %d: next %d past its end %d", i, s.Next, s.End)
				}
			}
			if !slices.Equal(left, wantLeft) {
				t.Errorf("ranges left %q, want %q: the ranges in flight did not finish", left, wantLeft)
			}

			// The next run asks for the ranges left, and only those.
			holding.Store(false)
			before := rc.count()
			req = request(srv.URL, path, nil)
			req.SHA256 = sum(body)
			_, err = fetchWithin(t, splitConfig(), req)
			if err != nil {
				t.Fatalf("resume: %v", err)
			}
			assertDone(t, path, body)
			var resumed []string
			for i := before; i < rc.count(); i++ {
				resumed = append(resumed, rc.header(i).Get("Range"))
			}
			slices.Sort(resumed)
			if !slices.Equal(resumed, wantLeft) {
				t.Errorf("the resume asked for %q, want %q", resumed, wantLeft)
			}
		})
	}
}

// TestSplitFallbackNotSentAfterStop: a split whose server answers a range
// with the whole file goes on as one stream, with a new request; when the
// shutdown (Request.Stop) comes while that request waits at the gate, it
// is not sent, as no range would be. It was sent once the gate let it
// through (a minute later at --rate 1/m), after the shutdown had begun.
func TestSplitFallbackNotSentAfterStop(t *testing.T) {
	body := payload(1<<20, 32)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") == "bytes=0-" {
			w.Header().Set("ETag", `"w"`)
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
			return
		}
		wholeFile(w, body, `"w"`, "")
	})
	stop, stopNow := context.WithCancel(context.Background())
	defer stopNow()
	path := filepath.Join(t.TempDir(), "f")
	req := request(srv.URL, path, nil)
	req.Stop = stop
	cfg := splitConfig()
	// The probe and one range take the two tokens; the one stream waits
	// a minute for the next.
	cfg.Gate = limit.NewGate(rate.Every(time.Minute), 2, 0)
	go func() {
		for deadline := time.Now().Add(10 * time.Second); rc.count() < 2 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		for deadline := time.Now().Add(10 * time.Second); !req.Progress.Waiting() && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond) // until the one stream waits at the gate
		}
		stopNow()
	}()
	res, err := fetchWithin(t, cfg, req)
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("err = %v, want ErrStopped", err)
	}
	if want := "the server does not serve ranges; the file as one stream not requested: stopping"; err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
	if n := rc.count(); n != 2 {
		t.Errorf("%d requests, want 2 (the probe and one range): the one stream was sent after Stop", n)
	}
	if res.Attempts != 1 {
		t.Errorf("Attempts = %d, want 1", res.Attempts)
	}
	assertGone(t, path, path+".part", path+".part.meta")
}

// TestRestOfAttemptNotSentAfterStop: a server that caps its 206 answers
// (here at 256 KiB) makes one attempt a chain of requests, each for the
// rest. Once the shutdown (Request.Stop) began, the next one is not sent
// (at --rate 6/m it waited ten seconds at the gate, and a large file kept
// the run going for minutes after the Ctrl-C): the item ends with
// ErrStopped, its part and sidecar kept, and the next run asks for the
// rest.
func TestRestOfAttemptNotSentAfterStop(t *testing.T) {
	body := payload(1<<20, 33)
	const capped = 256 << 10
	res := newResource(body, `"c"`)
	var capping atomic.Bool
	capping.Store(true)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		var first int64
		if n, _ := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &first); n == 1 && capping.Load() {
			last := min(first+capped, int64(len(body))) - 1
			w.Header().Set("ETag", `"c"`)
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(body)))
			w.Header().Set("Content-Length", strconv.FormatInt(last+1-first, 10))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[first : last+1])
			return
		}
		res.ServeHTTP(w, r)
	})
	stop, stopNow := context.WithCancel(context.Background())
	defer stopNow()
	path := filepath.Join(t.TempDir(), "f")
	req := request(srv.URL, path, nil)
	req.Stop = stop
	cfg := splitConfig() // its probe, "bytes=0-", gets the first 256 KiB
	// The first request takes the one token; the next waits a minute.
	cfg.Gate = limit.NewGate(rate.Every(time.Minute), 1, 0)
	go func() {
		for deadline := time.Now().Add(10 * time.Second); (rc.count() < 1 || !req.Progress.Waiting()) && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond) // until the next request waits at the gate
		}
		stopNow()
	}()
	_, err := fetchWithin(t, cfg, req)
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("err = %v, want ErrStopped", err)
	}
	if want := fmt.Sprintf("bytes %d-%d not requested: stopping, %s.part kept for a resume", capped, len(body)-1, path); err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
	if n := rc.count(); n != 1 {
		t.Errorf("%d requests, want 1: the rest was asked for after Stop", n)
	}

	capping.Store(false)
	req = request(srv.URL, path, nil)
	req.SHA256 = sum(body)
	_, err = fetchWithin(t, testConfig(), req)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	assertDone(t, path, body)
	if n := rc.count(); n != 2 || rc.header(1).Get("Range") != fmt.Sprintf("bytes=%d-", capped) {
		t.Errorf("the resume sent %d requests, the last with Range %q; want one, for the rest", n-1, rc.header(n-1).Get("Range"))
	}
}

// TestRestOfAttemptAfterStopWithoutGate: without a gate the rest of an
// attempt that a capping server cut short waits for nothing, so it is part
// of the transfer in flight, which a shutdown lets finish: the file is
// whole after Stop.
func TestRestOfAttemptAfterStopWithoutGate(t *testing.T) {
	body := payload(1<<20, 34)
	const capped = 256 << 10
	stop, stopNow := context.WithCancel(context.Background())
	defer stopNow()
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		stopNow() // the shutdown begins with the first request
		var first int64
		fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &first)
		last := min(first+capped, int64(len(body))) - 1
		w.Header().Set("ETag", `"c"`)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(body)))
		w.Header().Set("Content-Length", strconv.FormatInt(last+1-first, 10))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(body[first : last+1])
	})
	path := filepath.Join(t.TempDir(), "f")
	req := request(srv.URL, path, nil)
	req.Stop = stop
	req.SHA256 = sum(body)
	_, err := fetchWithin(t, splitConfig(), req)
	if err != nil {
		t.Fatalf("Fetch: %v; want the file whole: the rest waited for nothing", err)
	}
	assertDone(t, path, body)
	if n := rc.count(); n != len(body)/capped {
		t.Errorf("%d requests, want %d", n, len(body)/capped)
	}
}
