package fetch

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/limit"
)

// TestThrottleWaitIsNotAStall: transfers that share a low --limit-rate
// each wait their turn for the bandwidth, longer than the stall timeout,
// while the bytes flow at the cap; that wait is not a stall. Eight
// transfers of 8 KiB at 40 KiB/s take about 1.6 s, each waiting up to
// 0.8 s between reads; none may fail with "no data received".
func TestThrottleWaitIsNotAStall(t *testing.T) {
	body := payload(8<<10, 21)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	})
	cfg := testConfig()
	cfg.Concurrency = 8
	cfg.Retries = 0
	cfg.StallTimeout = 300 * time.Millisecond
	cfg.Throttle = limit.NewBandwidth(40 << 10)
	c := newClient(t, cfg)
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, cfg.Concurrency)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := filepath.Join(dir, fmt.Sprint(i))
			_, errs[i] = c.Fetch(context.Background(), request(srv.URL+"/"+fmt.Sprint(i), path, nil))
		}()
	}
	within(t, 20*time.Second, wg.Wait)
	for i, err := range errs {
		if err != nil {
			t.Errorf("transfer %d: %v", i, err)
			continue
		}
		assertDone(t, filepath.Join(dir, fmt.Sprint(i)), body)
	}
}

// TestThrottledStallStillCaught: under a throttle, a server that stops
// sending is still a stall.
func TestThrottledStallStillCaught(t *testing.T) {
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(payload(1000, 22))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	path := filepath.Join(t.TempDir(), "f")
	cfg := testConfig()
	cfg.Retries = 0
	cfg.StallTimeout = 300 * time.Millisecond
	cfg.Throttle = limit.NewBandwidth(40 << 10)
	var err error
	within(t, 10*time.Second, func() {
		_, err = newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil))
	})
	if want := "no data received for 300ms (--stall-timeout); " + path + ".part kept: run again to resume"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// TestThrottledTimeoutNamesTimeout: an attempt that --timeout ends while
// its bytes wait for the throttle fails with the timeout's own reason,
// after the full timeout, not with "context deadline exceeded" as soon as
// the throttle foresees that its wait would outlast it.
func TestThrottledTimeoutNamesTimeout(t *testing.T) {
	body := payload(100<<10, 23)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	})
	path := filepath.Join(t.TempDir(), "f")
	cfg := testConfig()
	cfg.Retries = 0
	cfg.Timeout = 300 * time.Millisecond
	cfg.Throttle = limit.NewBandwidth(10 << 10)
	var err error
	start := time.Now()
	within(t, 10*time.Second, func() {
		_, err = newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil))
	})
	if want := "attempt timed out after 300ms (--timeout); " + path + ".part kept: run again to resume"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	if d := time.Since(start); d < 290*time.Millisecond {
		t.Errorf("gave up after %v, before the 300ms timeout", d)
	}
}
