package limit

import (
	"context"
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// Gate admits request attempts: at most perHost at once to one host, and
// starts paced by one token bucket shared by all hosts. A nil *Gate admits
// everything at once. A Gate is safe for concurrent use.
type Gate struct {
	limiter *rate.Limiter // nil: no request-rate limit
	perHost int           // 0: no per-host cap

	mu    sync.Mutex
	hosts map[string]*hostSlots
}

// hostSlots is one host's semaphore. refs counts holders and waiters, so
// the entry can leave the map as soon as nobody uses it: a long run over
// many hosts keeps only the hosts in use.
type hostSlots struct {
	sem  chan struct{}
	refs int
}

// NewGate returns a Gate that starts at most r requests per second with
// bursts of up to burst (at least 1), and lets at most perHost requests
// run at once to one host (0 means no cap). r == rate.Inf, or r <= 0, means
// no rate limit; with no rate limit and no per-host cap, Acquire never
// waits.
func NewGate(r rate.Limit, burst, perHost int) *Gate {
	g := &Gate{perHost: max(perHost, 0)}
	if r > 0 && r != rate.Inf {
		g.limiter = rate.NewLimiter(r, max(burst, 1))
	}
	if g.perHost > 0 {
		g.hosts = make(map[string]*hostSlots)
	}
	return g
}

// noRelease is what Acquire hands out when it took nothing.
func noRelease() {}

// Acquire blocks until host ("host:port", as the caller normalizes it) has a
// free slot and then a request token is available. The slot comes first so
// that a token is never spent on a request that would then wait for a slot.
//
// On success the caller must call release once, when the request, including
// reading its body, is over; extra calls do nothing. When ctx is done first,
// Acquire returns ctx's error and holds nothing.
func (g *Gate) Acquire(ctx context.Context, host string) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return noRelease, err
	}
	if g == nil || (g.limiter == nil && g.perHost == 0) {
		return noRelease, nil
	}
	release = noRelease
	if g.perHost > 0 {
		if release, err = g.takeSlot(ctx, host); err != nil {
			return noRelease, err
		}
	}
	if g.limiter != nil {
		if err := wait(ctx, g.limiter, 1); err != nil {
			release()
			return noRelease, err
		}
	}
	return release, nil
}

// takeSlot waits for a slot of host and returns the function that gives
// it back.
func (g *Gate) takeSlot(ctx context.Context, host string) (func(), error) {
	g.mu.Lock()
	h := g.hosts[host]
	if h == nil {
		h = &hostSlots{sem: make(chan struct{}, g.perHost)}
		g.hosts[host] = h
	}
	h.refs++
	g.mu.Unlock()

	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		g.unref(host, h)
		return nil, ctx.Err()
	}
	var released atomic.Bool
	return func() {
		if released.CompareAndSwap(false, true) {
			<-h.sem
			g.unref(host, h)
		}
	}, nil
}

// unref drops one use of h and forgets the host when nobody holds or awaits
// a slot.
func (g *Gate) unref(host string, h *hostSlots) {
	g.mu.Lock()
	defer g.mu.Unlock()
	h.refs--
	if h.refs == 0 {
		delete(g.hosts, host)
	}
}

// InUse reports how many slots of host are held right now (always 0 when
// there is no per-host cap). It is meant for tests and diagnostics.
func (g *Gate) InUse(host string) int {
	if g == nil || g.perHost == 0 {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if h := g.hosts[host]; h != nil {
		return len(h.sem)
	}
	return 0
}
