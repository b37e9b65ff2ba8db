package pool

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/limit"
	"golang.org/x/time/rate"
)

// TestRunDurationLeavesOutTheGate: an item's Duration (duration_ms in
// --json and --report) is the time it spent being fetched, from its first
// request to its end: not the wait for its turn at the gate (--rate,
// --per-host). Three quick items at one request a second, three workers:
// the last waits two seconds for its turn, and took as little time to
// fetch as the first. An item withdrawn at the gate by a shutdown was
// never fetched: its Duration does not count the wait either.
func TestRunDurationLeavesOutTheGate(t *testing.T) {
	tests := []struct {
		name   string
		gate   fetch.Gate
		stopIn time.Duration // a shutdown begins this long after the start; 0 = none
		status event.Status
	}{
		{"fetched after its turn", limit.NewGate(rate.Every(time.Second), 1, 0), 0, event.StatusOK},
		{"withdrawn at the gate", &closedGate{}, time.Second, event.StatusCanceled},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("small"))
	}))
	defer srv.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := fetch.New(fetch.Config{Concurrency: 3, Gate: tt.gate})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			items := []string{srv.URL + "/a", srv.URL + "/b", srv.URL + "/c"}
			rec := &recorder{}
			stop, stopNow := context.WithCancel(context.Background())
			defer stopNow()
			start := time.Now() // before the shutdown's timer starts: it may fire a hair before a later start's second
			if tt.stopIn > 0 {
				time.AfterFunc(tt.stopIn, stopNow)
			}
			if err := Run(context.Background(), stop, input.NewReader(items, nil), c,
				Options{Concurrency: 3, OutputDir: t.TempDir(), Emit: rec.emit}); err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			results := rec.results()[tt.status]
			if len(results) != len(items) {
				t.Fatalf("%d items %s, want %d", len(results), tt.status, len(items))
			}
			// The run waited at least a second at the gate; fetching took
			// a few milliseconds.
			if took < time.Second {
				t.Fatalf("the run took %v: the gate let the items through at once", took)
			}
			for _, r := range results {
				if r.Duration >= took/3 {
					t.Errorf("%s: Duration %v of a %v run: it counts the wait at the gate", r.Item.URL, r.Duration, took)
				}
			}
		})
	}
}
