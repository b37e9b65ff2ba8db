package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/limit"
	"golang.org/x/time/rate"
)

// TestRetryAtGateGivesWayToStop: a retry that waits at the gate, for the
// request rate or a slot of its host, has not started: when Request.Stop
// is done meanwhile (the first Ctrl-C), the item ends at once with
// ErrStopped, without sending the retry, instead of waiting a minute for
// the token (--rate 1/m) and then sending it.
func TestRetryAtGateGivesWayToStop(t *testing.T) {
	for _, tc := range []struct {
		name string
		gate *limit.Gate
		// hold, if set, runs when the first attempt has failed and given
		// its slot back: it takes what the retry will wait for.
		hold func(g *limit.Gate, host string)
	}{
		{name: "rate", gate: limit.NewGate(rate.Every(time.Minute), 1, 0)},
		{name: "per-host slot", gate: limit.NewGate(rate.Inf, 1, 1), hold: func(g *limit.Gate, host string) {
			if _, err := g.Acquire(context.Background(), host); err != nil {
				t.Error(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := &recorder{}
			srv := serve(t, rc, func(_ int, w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "busy", http.StatusServiceUnavailable)
			})
			stop, stopNow := context.WithCancel(context.Background())
			defer stopNow()
			path := filepath.Join(t.TempDir(), "f")
			req := request(srv.URL, path, nil)
			req.Stop = stop
			req.Emit = func(ev event.Event) {
				if ev.Kind == event.Retry {
					if tc.hold != nil {
						tc.hold(tc.gate, Host(srv.URL))
					}
					time.AfterFunc(100*time.Millisecond, stopNow) // while the retry waits at the gate
				}
			}
			cfg := testConfig()
			cfg.Gate = tc.gate
			res, err := fetchWithin(t, cfg, req)
			if !errors.Is(err, ErrStopped) {
				t.Fatalf("err = %v, want ErrStopped", err)
			}
			if want := "HTTP 503 Service Unavailable; not retried: stopping"; err.Error() != want {
				t.Errorf("err = %q, want %q", err, want)
			}
			if n := rc.count(); n != 1 {
				t.Errorf("%d requests, want 1: the retry was sent after Stop", n)
			}
			if res.Attempts != 1 {
				t.Errorf("Attempts = %d, want 1", res.Attempts)
			}
		})
	}
}

// TestSplitRangeRetryAtGateGivesWayToStop: the retry of one range of a
// split gives way to Request.Stop at the gate too; the part and its
// sidecar are kept for a resume.
func TestSplitRangeRetryAtGateGivesWayToStop(t *testing.T) {
	body := payload(1<<20, 16)
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
	stop, stopNow := context.WithCancel(context.Background())
	defer stopNow()
	path := filepath.Join(t.TempDir(), "f")
	req := request(srv.URL, path, nil)
	req.Stop = stop
	req.Emit = func(ev event.Event) {
		if ev.Kind == event.Retry {
			time.AfterFunc(100*time.Millisecond, stopNow)
		}
	}
	cfg := splitConfig()
	// The probe and three ranges take the four tokens; a retry waits a
	// minute for the next.
	cfg.Gate = limit.NewGate(rate.Every(time.Minute), 4, 0)
	_, err := fetchWithin(t, cfg, req)
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("err = %v, want ErrStopped", err)
	}
	if n := rc.count(); n != 4 {
		t.Errorf("%d requests, want 4: the range's retry was sent after Stop", n)
	}
	if m, err := ReadMeta(path + ".part"); err != nil || len(m.Spans) != 4 {
		t.Errorf("sidecar not kept for a resume: %+v, %v", m, err)
	}
}

// TestNotStartedCountsNoAttempt: an item whose first request still waits
// at the gate when Request.Stop is done ends with ErrNotStarted and no
// attempt counted (--json "attempts": 0), as nothing was sent.
func TestNotStartedCountsNoAttempt(t *testing.T) {
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, _ *http.Request) {})
	gate := limit.NewGate(rate.Every(time.Hour), 1, 0)
	if _, err := gate.Acquire(context.Background(), Host(srv.URL)); err != nil { // the one token
		t.Fatal(err)
	}
	stop, stopNow := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, stopNow)
	req := request(srv.URL, filepath.Join(t.TempDir(), "f"), nil)
	req.Stop = stop
	cfg := testConfig()
	cfg.Gate = gate
	res, err := fetchWithin(t, cfg, req)
	if !errors.Is(err, ErrNotStarted) {
		t.Fatalf("err = %v, want ErrNotStarted", err)
	}
	if res.Attempts != 0 || rc.count() != 0 {
		t.Errorf("Attempts = %d after %d requests, want 0 and 0", res.Attempts, rc.count())
	}
}

// TestRedirectAtGateGivesWayToStop: a redirect to another host waits at
// the gate for a slot of that host (--per-host) before it is followed.
// When the shutdown (Request.Stop) comes meanwhile, it is not followed:
// the item ends with ErrStopped at once, instead of waiting for the slot
// (as long as another transfer to that host takes) and then sending the
// request, after the shutdown had begun.
func TestRedirectAtGateGivesWayToStop(t *testing.T) {
	targetReqs := &recorder{}
	target := serve(t, targetReqs, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("body"))
	})
	first := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/b", http.StatusFound)
	})
	gate := limit.NewGate(rate.Inf, 1, 1)
	release, err := gate.Acquire(context.Background(), Host(target.URL)) // the one slot of the target's host
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	stop, stopNow := context.WithCancel(context.Background())
	defer stopNow()
	req := request(first.URL+"/a", filepath.Join(t.TempDir(), "a"), nil)
	req.Stop = stop
	req.Emit = func(ev event.Event) {
		if ev.Kind == event.Redirect {
			time.AfterFunc(100*time.Millisecond, stopNow) // while the redirect waits at the gate
		}
	}
	cfg := testConfig()
	cfg.Gate = gate
	var res Result
	res, err = fetchWithin(t, cfg, req)
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("err = %v, want ErrStopped", err)
	}
	if want := "the redirect to " + target.URL + "/b not requested: stopping"; err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
	if n := targetReqs.count(); n != 0 {
		t.Errorf("%d requests to the redirect's target, want none", n)
	}
	if res.Attempts != 1 {
		t.Errorf("Attempts = %d, want 1", res.Attempts)
	}
}
