package limit

import (
	"context"
	"io"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// accuracyRun is how long each accuracy check measures.
const accuracyRun = 10 * time.Second

// needAccuracy skips the long accuracy checks unless FETCHPOOL_ACCURACY=1.
func needAccuracy(t *testing.T) {
	t.Helper()
	if testing.Short() || os.Getenv("FETCHPOOL_ACCURACY") != "1" {
		t.Skip("set FETCHPOOL_ACCURACY=1 to measure limiter accuracy (10 s each)")
	}
}

// counter is an io.Writer that only counts.
type counter struct{ n *atomic.Int64 }

func (c counter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// TestLimitRateAccuracy reads for 10 s through 8 readers sharing a 2 MiB/s
// cap and compares the achieved rate with the cap.
func TestLimitRateAccuracy(t *testing.T) {
	needAccuracy(t)
	const bps, readers = 2 << 20, 8
	b := NewBandwidth(bps)
	ctx, cancel := context.WithTimeout(t.Context(), accuracyRun)
	defer cancel()
	var total atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 32<<10)
			// Neither side has WriterTo or ReaderFrom, so buf sets the read size.
			_, _ = io.CopyBuffer(counter{&total}, b.Reader(ctx, zeros{}), buf)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	got := float64(total.Load()) / elapsed.Seconds()
	errPct := 100 * (got - bps) / bps
	t.Logf("bandwidth: %d readers, %v, %d bytes: %.0f B/s (%.3f MiB/s) against %d B/s: error %+.2f%%",
		readers, elapsed.Round(time.Millisecond), total.Load(), got, got/(1<<20), bps, errPct)
	if math.Abs(errPct) > 5 {
		t.Errorf("achieved rate off by %.2f%%, want within 5%%", errPct)
	}
}

// TestRequestRateAccuracy starts requests for 10 s from 8 goroutines through
// a 20/s gate and compares the count with 20/s.
func TestRequestRateAccuracy(t *testing.T) {
	needAccuracy(t)
	const perSecond, workers = 20, 8
	g := NewGate(perSecond, 1, 0)
	ctx, cancel := context.WithTimeout(t.Context(), accuracyRun)
	defer cancel()
	var starts atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				release, err := g.Acquire(ctx, "h:80")
				if err != nil {
					return
				}
				starts.Add(1)
				release()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	// The bucket starts full: one start is free, the rest come at 20/s.
	want := 1 + perSecond*elapsed.Seconds()
	got := float64(starts.Load())
	errPct := 100 * (got - want) / want
	t.Logf("requests: %d workers, %v: %d starts, %.2f/s against %d/s; expected %.1f starts: error %+.2f%%",
		workers, elapsed.Round(time.Millisecond), starts.Load(), got/elapsed.Seconds(), perSecond, want, errPct)
	if math.Abs(errPct) > 5 {
		t.Errorf("start count off by %.2f%%, want within 5%%", errPct)
	}
}
