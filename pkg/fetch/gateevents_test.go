package fetch

import (
	"context"
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
			var err error
			within(t, 10*time.Second, func() {
				_, err = newClient(t, cfg).Fetch(context.Background(), req)
			})
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
