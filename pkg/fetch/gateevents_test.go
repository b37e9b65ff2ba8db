package fetch

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/limit"
	"golang.org/x/time/rate"
)

// TestAttemptAfterGate: a request that waits at the gate (here for the one
// slot of its host, which the test holds) is announced by its Attempt
// event ("try N" with -v) only once it is through the gate and about to
// be sent, and while it waits its Progress says so (Waiting), for a retry
// as for the first try: the terminal counts it as waiting, and does not
// show a "0 B  0 B/s" line for it as if it were downloading.
func TestAttemptAfterGate(t *testing.T) {
	for _, tc := range []struct {
		name string
		// holdAt is the attempt whose request waits at the gate; the
		// others go through at once.
		holdAt int
	}{
		{name: "first try", holdAt: 1},
		{name: "retry", holdAt: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := payload(4096, 7)
			rc := &recorder{}
			srv := serve(t, rc, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 && tc.holdAt > 1 {
					http.Error(w, "busy", http.StatusServiceUnavailable)
					return
				}
				w.Write(body)
			})
			gate := limit.NewGate(rate.Inf, 1, 1)
			host := Host(srv.URL)
			path := filepath.Join(t.TempDir(), "f")
			req := request(srv.URL, path, nil)
			var held, sawWaiting atomic.Bool
			var tries []int
			// hold takes the host's one slot, and gives it back once the
			// transfer is seen waiting for it (or after a while).
			hold := func() {
				release, err := gate.Acquire(context.Background(), host)
				if err != nil {
					t.Error(err)
					return
				}
				held.Store(true)
				go func() {
					for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
						if req.Progress.Waiting() {
							sawWaiting.Store(true)
							break
						}
					}
					held.Store(false)
					release()
				}()
			}
			req.Emit = func(ev event.Event) {
				switch ev.Kind {
				case event.Attempt:
					tries = append(tries, ev.Attempt)
					if held.Load() {
						t.Errorf("try %d announced while its request waited at the gate", ev.Attempt)
					}
				case event.Retry:
					if ev.Attempt+1 == tc.holdAt {
						hold() // the failed attempt gave its slot back
					}
				}
			}
			cfg := testConfig()
			cfg.Gate = gate
			cfg.RetryWait = time.Millisecond
			if tc.holdAt == 1 {
				hold()
			}
			_, err := fetchWithin(t, cfg, req)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			assertDone(t, path, body)
			if !sawWaiting.Load() {
				t.Errorf("try %d never showed as waiting (Progress.Waiting) while it waited at the gate", tc.holdAt)
			}
			if req.Progress.Waiting() {
				t.Error("still waiting after the transfer is over")
			}
			if len(tries) != tc.holdAt || tries[len(tries)-1] != tc.holdAt {
				t.Errorf("Attempt events %v, want 1 to %d", tries, tc.holdAt)
			}
		})
	}
}

// halfSplitPart leaves at path the part of a split of body that an
// earlier run interrupted half-way through each range, with its sidecar.
func halfSplitPart(t *testing.T, path, url string, body []byte, res *resource) {
	t.Helper()
	spans := makeSpans(int64(len(body)), 4)
	part := make([]byte, len(body))
	for i := range spans {
		half := (spans[i].End - spans[i].Start) / 2
		spans[i].Next = spans[i].Start + half
		copy(part[spans[i].Start:spans[i].Next], body[spans[i].Start:])
	}
	_, etag, mod := res.get()
	writePart(t, path, part, &Meta{URL: url, ETag: etag, LastModified: mod.UTC().Format(http.TimeFormat),
		Length: int64(len(body)), Spans: spans})
}

// TestResumedSplitBegins: a split resumed from an earlier run sends no
// request of its own, only its ranges': the first range through the gate
// begins the item (Request.Began, once) and ends its wait at the gate.
// It did neither, so the pool took the item, all the while it was being
// fetched, for one that waited at the gate: no line on the terminal, not
// in flight for a shutdown, and a duration_ms of 0.
func TestResumedSplitBegins(t *testing.T) {
	body := payload(1<<20, 21)
	res := newResource(body, `"r"`)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) { res.ServeHTTP(w, r) })
	path := filepath.Join(t.TempDir(), "f")
	halfSplitPart(t, path, srv.URL, body, res)
	cfg := splitConfig()
	cfg.Gate = limit.NewGate(rate.Inf, 1, 4)
	req := request(srv.URL, path, nil)
	req.SHA256 = sum(body)
	req.Progress.SetWaiting(true) // as the pool does for an item that may wait at the gate
	var began atomic.Int32
	req.Began = func() { began.Add(1) }
	_, err := fetchWithin(t, cfg, req)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	assertDone(t, path, body)
	if n := began.Load(); n != 1 {
		t.Errorf("Began called %d times, want once", n)
	}
	if req.Progress.Waiting() {
		t.Error("the item still waits at the gate after its ranges were fetched")
	}
}

// TestResumedSplitAtGateGivesWayToStop: a split resumed from an earlier
// run whose ranges all wait at the gate has not begun: when Request.Stop is
// done meanwhile (the first Ctrl-C), it ends at once with ErrNotStarted,
// sends nothing and keeps its part, as an item waiting for its first
// request does. Its ranges waited for their turns instead (a minute each
// at --rate 1/m), and then were sent, after the shutdown had begun.
func TestResumedSplitAtGateGivesWayToStop(t *testing.T) {
	body := payload(1<<20, 22)
	res := newResource(body, `"r"`)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) { res.ServeHTTP(w, r) })
	path := filepath.Join(t.TempDir(), "f")
	halfSplitPart(t, path, srv.URL, body, res)
	before := mustFile(t, path+".part")
	gate := limit.NewGate(rate.Every(time.Hour), 1, 0)
	if _, err := gate.Acquire(context.Background(), Host(srv.URL)); err != nil { // the one token
		t.Fatal(err)
	}
	stop, stopNow := context.WithCancel(context.Background())
	defer stopNow()
	time.AfterFunc(100*time.Millisecond, stopNow)
	cfg := splitConfig()
	cfg.Gate = gate
	req := request(srv.URL, path, nil)
	req.Stop = stop
	var began atomic.Bool
	req.Began = func() { began.Store(true) }
	got, err := fetchWithin(t, cfg, req)
	if !errors.Is(err, ErrNotStarted) {
		t.Fatalf("err = %v, want ErrNotStarted", err)
	}
	if n := rc.count(); n != 0 || got.Attempts != 0 || began.Load() {
		t.Errorf("%d requests, Attempts = %d, began %v; want none of them", n, got.Attempts, began.Load())
	}
	if after := mustFile(t, path+".part"); !bytes.Equal(after, before) {
		t.Error("the part changed")
	}
	if m, err := ReadMeta(path + ".part"); err != nil || len(m.Spans) != 4 {
		t.Errorf("sidecar not kept for a resume: %+v, %v", m, err)
	}
}
