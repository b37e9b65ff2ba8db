package fetch

import (
	"context"
	"net/url"
	"sync"
)

// hostSlot is the gate slot that one exchange holds: that of the host it
// is talking to. A redirect to another host gives it back and waits for
// one of the new host, so that --per-host bounds the requests to the host
// a redirect leads to (a CDN that many items end on), not only to the host
// of each item's URL. The old slot goes first: an exchange never holds one
// slot while it waits for another, so two chains that cross cannot block
// each other.
type hostSlot struct {
	c *Client
	// stop is Request.Stop (nil = none): a redirect that waits for a slot
	// of its new host gives way to it, as a retry does at the gate.
	stop context.Context

	mu      sync.Mutex
	host    string
	release func()
}

// newHostSlot wraps release, the gate's answer for host.
func (c *Client) newHostSlot(host string, release func()) *hostSlot {
	return &hostSlot{c: c, host: host, release: release}
}

// free gives the slot back; calls after the first do nothing.
func (s *hostSlot) free() {
	s.mu.Lock()
	release := s.release
	s.release = func() {}
	s.mu.Unlock()
	release()
}

// hop is do's hook for a redirect to u: nil when there is no gate, so that
// a run without limits pays nothing for it. The wait at the gate is under
// the exchange's context, so cancellation ends it, but g, the exchange's
// guard, holds its clocks meanwhile: the wait is neither a stall nor part
// of the attempt's --timeout, as the wait before the first request is not.
func (s *hostSlot) hop(g *guard) func(u *url.URL) error {
	if s.c.cfg.Gate == nil {
		return nil
	}
	return func(u *url.URL) error { return s.moveTo(g, u) }
}

// moveTo makes the slot one of u's host, waiting for it when that is
// another host (unless the shutdown comes first: see acquire).
func (s *hostSlot) moveTo(g *guard, u *url.URL) error {
	host := hostPort(u)
	s.mu.Lock()
	same := host == s.host
	s.mu.Unlock()
	if same {
		return nil
	}
	s.free()
	defer g.hold()()
	release, err := s.acquire(g.ctx, u)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.host, s.release = host, release
	s.mu.Unlock()
	return nil
}

// acquire waits for a slot of u's host, unless the shutdown (stop) comes
// first: then the redirect is not followed, and the item ends stopped,
// with the part it has kept for a resume.
func (s *hostSlot) acquire(ctx context.Context, u *url.URL) (func(), error) {
	var stopErr error
	if s.stop != nil {
		stopErr = &stoppedError{err: &unsentError{what: "the redirect to " + redactURL(u)}}
	}
	return s.c.acquireUnlessStopped(ctx, s.stop, hostPort(u), stopErr)
}
