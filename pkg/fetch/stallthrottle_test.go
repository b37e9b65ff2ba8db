package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/limit"
)

// TestThrottleWaitIsNotAStall: transfers that share a low --limit-rate
// each wait their turn for the bandwidth, longer than the stall timeout,
// while the bytes flow at the cap; that wait is not a stall. Eight
// transfers of 8 KiB at 40 KiB/s take about 1.6 s, each waiting up to
// 0.8 s between reads, longer than the stall timeout of 500ms (which
// leaves room for a slow request on a loaded machine); none may fail with
// "no data received".
func TestThrottleWaitIsNotAStall(t *testing.T) {
	body := payload(8<<10, 21)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	})
	cfg := testConfig()
	cfg.Concurrency = 8
	cfg.Retries = 0
	cfg.StallTimeout = 500 * time.Millisecond
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

// TestStallClockRestartsAfterAWait: a wait that is not a stall (for the
// gate slot of a redirect's host, or for the --limit-rate throttle to let
// bytes through) gives the server a whole stall timeout from its end, not
// what is left of one counted from the watchdog's last look before it ended
// (as little as three quarters of the timeout). Eight guards end their wait
// at eight points between two looks.
func TestStallClockRestartsAfterAWait(t *testing.T) {
	const stall = 200 * time.Millisecond
	for _, tt := range []struct {
		name string
		wait func(g *guard, d time.Duration)
	}{
		{"gate", func(g *guard, d time.Duration) {
			resume := g.hold()
			time.Sleep(d)
			resume()
		}},
		{"throttle", func(g *guard, d time.Duration) {
			g.throttled(strings.NewReader("x"), sleepThrottle(d)).Read(make([]byte, 1))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.StallTimeout = stall
			c := newClient(t, cfg)
			const guards = 8
			var wg sync.WaitGroup
			for i := range guards {
				wg.Add(1)
				go func() {
					defer wg.Done()
					g := c.newGuard(context.Background())
					defer g.stop()
					tt.wait(g, 2*stall+time.Duration(i)*g.tick()/guards)
					end := time.Now()
					<-g.ctx.Done()
					var serr *stallError
					if d := time.Since(end); d < stall || !errors.As(context.Cause(g.ctx), &serr) {
						t.Errorf("guard %d: ended %v after the wait, want a stall after %v; cause: %v", i, d.Round(time.Millisecond), stall, context.Cause(g.ctx))
					}
				}()
			}
			within(t, 20*time.Second, wg.Wait)
		})
	}
}

// sleepThrottle is a Throttle whose every Read waits for its duration
// after the read, as a Bandwidth's does for its turn.
type sleepThrottle time.Duration

func (d sleepThrottle) Reader(_ context.Context, r io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		n, err := r.Read(p)
		time.Sleep(time.Duration(d))
		return n, err
	})
}
