package fetch

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/limit"
	"golang.org/x/time/rate"
)

// TestPerHostCapFollowsRedirects checks that --per-host bounds the requests
// to the host a redirect leads to, not only to the host of each item's
// URL: items on four hosts that all redirect to one CDN host must reach it
// one at a time under a cap of 1 (they used to reach it all at once, each
// holding the slot of its own host).
//
// The wait for the redirect's host is neither a stall nor part of the
// attempt's --timeout, as the wait at the gate before the first request is
// not: here each item takes 300ms at the CDN host, under a --timeout of
// 800ms and a --stall-timeout of 600ms, and the last waits 900ms for its
// turn. (Each bound is at least 300ms more than an item needs, so that a
// loaded machine running the race detector does not fail the test.)
func TestPerHostCapFollowsRedirects(t *testing.T) {
	body := payload(1000, 31)
	var busy concurrency
	cdn := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		busy.enter()
		defer busy.leave()
		time.Sleep(300 * time.Millisecond)
		w.Write(body)
	})
	const items = 4
	var origins []string
	for range items {
		srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, cdn.URL+"/f", http.StatusFound)
		})
		origins = append(origins, srv.URL+"/f")
	}
	cfg := testConfig()
	cfg.Concurrency = items
	cfg.Retries = 0
	cfg.Timeout = 800 * time.Millisecond
	cfg.StallTimeout = 600 * time.Millisecond
	cfg.Gate = limit.NewGate(rate.Inf, 1, 1)
	c := newClient(t, cfg)
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, items)
	within(t, 10*time.Second, func() {
		for i, u := range origins {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = c.Fetch(context.Background(), request(u, filepath.Join(dir, string(rune('a'+i))), &events{}))
			}()
		}
		wg.Wait()
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		assertDone(t, filepath.Join(dir, string(rune('a'+i))), body)
	}
	if p := busy.peak.Load(); p != 1 {
		t.Errorf("%d requests at once to the redirect's host, want 1 (--per-host 1)", p)
	}
}
