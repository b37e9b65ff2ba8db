package limit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// refs reports how many goroutines hold or await a slot of host.
func (g *Gate) refs(host string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if h := g.hosts[host]; h != nil {
		return h.refs
	}
	return 0
}

func (g *Gate) hostCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.hosts)
}

// acquireAsync runs Acquire in a goroutine; the result arrives on the channel.
func acquireAsync(ctx context.Context, g *Gate, host string) <-chan error {
	done := make(chan error, 1)
	go func() {
		release, err := g.Acquire(ctx, host)
		if err == nil {
			release()
		}
		done <- err
	}()
	return done
}

func TestGatePerHostCap(t *testing.T) {
	const host, perHost = "example.com:443", 2
	g := NewGate(rate.Inf, 1, perHost)
	var inUse, peak atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				release, err := g.Acquire(t.Context(), host)
				if err != nil {
					t.Error(err)
					return
				}
				n := inUse.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				if got := g.InUse(host); got > perHost {
					t.Errorf("InUse = %d, want at most %d", got, perHost)
				}
				time.Sleep(2 * time.Millisecond)
				inUse.Add(-1)
				release()
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p != perHost {
		t.Errorf("peak in use = %d, want %d", p, perHost)
	}
	if n := g.InUse(host); n != 0 {
		t.Errorf("InUse after all released = %d, want 0", n)
	}
	if n := g.hostCount(); n != 0 {
		t.Errorf("hosts kept after all released = %d, want 0", n)
	}
}

func TestGateHostsIndependent(t *testing.T) {
	g := NewGate(rate.Inf, 1, 1)
	releaseA, err := g.Acquire(t.Context(), "a.example:443")
	if err != nil {
		t.Fatal(err)
	}
	defer releaseA()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	releaseB, err := g.Acquire(ctx, "b.example:443")
	if err != nil {
		t.Fatalf("host b waited for host a: %v", err)
	}
	if a, b := g.InUse("a.example:443"), g.InUse("b.example:443"); a != 1 || b != 1 {
		t.Errorf("InUse a=%d b=%d, want 1 and 1", a, b)
	}
	releaseB()
	if n := g.hostCount(); n != 1 {
		t.Errorf("hosts kept = %d, want 1 (only a)", n)
	}
}

func TestGateCancelWaitingForSlot(t *testing.T) {
	const host = "h:80"
	g := NewGate(rate.Inf, 1, 1)
	hold, err := g.Acquire(t.Context(), host)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := acquireAsync(ctx, g, host)
	eventually(t, "the second Acquire waits", func() bool { return g.refs(host) == 2 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Acquire error = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Acquire did not return after cancel")
	}
	if n := g.InUse(host); n != 1 {
		t.Errorf("InUse = %d, want 1 (only the holder)", n)
	}
	hold()
	hold() // extra calls do nothing
	if n := g.InUse(host); n != 0 {
		t.Errorf("InUse after release = %d, want 0", n)
	}
	if n := g.hostCount(); n != 0 {
		t.Errorf("hosts kept = %d, want 0", n)
	}
}

func TestGateCancelWaitingForToken(t *testing.T) {
	const host = "h:443"
	g := NewGate(rate.Every(time.Hour), 1, 1)
	release, err := g.Acquire(t.Context(), host) // spends the only token
	if err != nil {
		t.Fatal(err)
	}
	release()

	ctx, cancel := context.WithCancel(t.Context())
	done := acquireAsync(ctx, g, host)
	eventually(t, "the waiter holds the slot", func() bool { return g.InUse(host) == 1 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Acquire error = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Acquire did not return after cancel")
	}
	if n := g.InUse(host); n != 0 {
		t.Errorf("InUse after cancel = %d, want 0", n)
	}
	if n := g.hostCount(); n != 0 {
		t.Errorf("hosts kept = %d, want 0", n)
	}
}

// TestGateSlotBeforeToken checks that a request waiting for a host slot has
// not spent a token: the token is still there for the next request.
func TestGateSlotBeforeToken(t *testing.T) {
	const host = "h:443"
	g := NewGate(rate.Every(time.Hour), 2, 1)
	hold, err := g.Acquire(t.Context(), host) // first token
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := acquireAsync(ctx, g, host)
	eventually(t, "the second Acquire waits", func() bool { return g.refs(host) == 2 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire error = %v, want context.Canceled", err)
	}
	hold()

	ctx, cancel = context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	release, err := g.Acquire(ctx, host)
	if err != nil {
		t.Fatalf("the second token was spent by a request that never ran: %v", err)
	}
	release()
}

func TestGateDeadlineWaitingForToken(t *testing.T) {
	g := NewGate(rate.Every(time.Hour), 1, 0)
	if _, err := g.Acquire(t.Context(), "h:1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := g.Acquire(ctx, "h:1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire error = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Acquire took %v to give up", d)
	}
}

func TestGateUnlimited(t *testing.T) {
	for _, g := range []*Gate{nil, NewGate(rate.Inf, 0, 0), NewGate(0, 0, 0), NewGate(-1, 5, -1)} {
		for i := range 1000 {
			release, err := g.Acquire(t.Context(), fmt.Sprintf("h%d:80", i))
			if err != nil {
				t.Fatal(err)
			}
			release()
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := g.Acquire(ctx, "h:80"); !errors.Is(err, context.Canceled) {
			t.Errorf("Acquire with a done ctx: error = %v, want context.Canceled", err)
		}
	}
}

func TestGateForgetsIdleHosts(t *testing.T) {
	g := NewGate(rate.Inf, 1, 3)
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := g.Acquire(t.Context(), fmt.Sprintf("host%d:443", i%50))
			if err != nil {
				t.Error(err)
				return
			}
			release()
		}()
	}
	wg.Wait()
	if n := g.hostCount(); n != 0 {
		t.Errorf("hosts kept after a run = %d, want 0", n)
	}
}

func TestGateRate(t *testing.T) {
	g := NewGate(5, 1, 0)
	start := time.Now()
	for range 11 {
		release, err := g.Acquire(t.Context(), "h:80")
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	// Ideal: the first start is free, ten more at 5/s take 2 s.
	if d := time.Since(start); d < 1800*time.Millisecond {
		t.Errorf("11 acquires at 5/s took %v, want at least 1.8s", d)
	}
}

func BenchmarkGateAcquire(b *testing.B) {
	g := NewGate(rate.Inf, 1, 8)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			release, err := g.Acquire(ctx, "example.com:443")
			if err != nil {
				b.Fatal(err)
			}
			release()
		}
	})
}

// TestGatePause: a host paused (a Retry-After it sent) gets no request,
// from anyone, until the pause is over; other hosts go on; a wait for the
// pause ends with its ctx; a shorter pause does not cut a longer one.
func TestGatePause(t *testing.T) {
	for _, tt := range []struct {
		name string
		gate *Gate
	}{
		{"per-host cap", NewGate(rate.Inf, 1, 2)},
		{"request rate", NewGate(1000, 10, 0)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.gate
			start := time.Now()
			g.Pause("a:80", start.Add(300*time.Millisecond))
			g.Pause("a:80", start.Add(50*time.Millisecond)) // does not shorten it

			release, err := g.Acquire(context.Background(), "b:80")
			if err != nil {
				t.Fatal(err)
			}
			release()
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Errorf("another host waited %v for the pause of a:80", d)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if _, err := g.Acquire(ctx, "a:80"); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a wait for the pause ended with %v, want its ctx's error", err)
			}

			release, err = g.Acquire(context.Background(), "a:80")
			if err != nil {
				t.Fatal(err)
			}
			release()
			if d := time.Since(start); d < 300*time.Millisecond {
				t.Errorf("a request to a:80 went after %v, during its pause of 300ms", d)
			}
		})
	}
}
