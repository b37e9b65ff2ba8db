package limit

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Gate admits request attempts: at most perHost at once to one host, and
// starts paced by one token bucket shared by all hosts. A nil *Gate admits
// everything at once. A Gate is safe for concurrent use.
type Gate struct {
	limiter *rate.Limiter // nil: no request-rate limit
	perHost int           // 0: no per-host cap

	mu     sync.Mutex
	hosts  map[string]*hostSlots
	paused map[string]time.Time // hosts that asked for a pause (Pause), until when
	// pausing tells that a host was paused once: until then, Acquire
	// need not look (and take mu) for a pause.
	pausing atomic.Bool
}

// maxPaused is how many paused hosts a Gate holds before it forgets those
// whose pause is over.
const maxPaused = 4096

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
//
// A host paused (Pause) gets no slot, and no request starts to it, until
// its pause is over.
func (g *Gate) Acquire(ctx context.Context, host string) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return noRelease, err
	}
	if g == nil {
		return noRelease, nil
	}
	for {
		if err := g.awaitPause(ctx, host); err != nil {
			return noRelease, err
		}
		if g.limiter == nil && g.perHost == 0 {
			return noRelease, nil
		}
		release = noRelease
		if g.perHost > 0 {
			if release, err = g.takeSlot(ctx, host); err != nil {
				return noRelease, err
			}
			if !g.pausedUntil(host).IsZero() {
				// Paused while it waited for the slot: the slot goes
				// to nobody until the pause is over.
				release()
				continue
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
}

// Pause keeps requests to host from starting before until, whoever makes
// them: the host asked for a pause (a Retry-After on a 429 or 503), and
// a request of another item to it meanwhile would only add to its load,
// and likely be refused too. A pause that ends sooner than the one in
// force does not shorten it.
func (g *Gate) Pause(host string, until time.Time) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paused == nil {
		g.paused = make(map[string]time.Time)
	}
	if !until.After(g.paused[host]) {
		return
	}
	if len(g.paused) >= maxPaused {
		now := time.Now()
		for h, t := range g.paused {
			if !now.Before(t) {
				delete(g.paused, h)
			}
		}
	}
	g.paused[host] = until
	g.pausing.Store(true)
}

// pausedUntil is the end of host's pause, or the zero Time when it is not
// paused.
func (g *Gate) pausedUntil(host string) time.Time {
	if !g.pausing.Load() {
		return time.Time{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.paused[host]
	if ok && !time.Now().Before(until) {
		delete(g.paused, host)
		return time.Time{}
	}
	return until
}

// awaitPause waits until host is not paused, or ctx is done.
func (g *Gate) awaitPause(ctx context.Context, host string) error {
	for {
		until := g.pausedUntil(host)
		if until.IsZero() {
			return nil
		}
		t := time.NewTimer(time.Until(until))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
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
