package pool

import (
	"context"
	"sync"
)

// intake hands what the reader goroutine reads to admit. A read can block
// for as long as standard input stays open, so a shutdown must not wait for
// one; but an item that a read returned before the shutdown is the run's,
// and must not be lost on its way to admit. So the reader commits to
// handing over each item read before the shutdown (put), and admit, once
// the shutdown began, takes what was committed (close). An item read after
// the shutdown began is dropped unseen: the run never took it, and says so
// by never telling Options.Taken of it.
type intake struct {
	stop  context.Context
	items chan itemOrErr // unbuffered: a send completes when admit has the item

	mu      sync.Mutex
	pending int // sends committed by put and not yet received by get
}

func newIntake(stop context.Context) *intake {
	return &intake{stop: stop, items: make(chan itemOrErr)}
}

// put hands x to admit, blocking until it is taken, and reports false,
// without handing it, once the shutdown began.
func (in *intake) put(x itemOrErr) bool {
	in.mu.Lock()
	if in.stop.Err() != nil {
		// Not admit's to wait for: it looks at pending once stop is
		// done, under the lock, so it has seen or will see none of this.
		in.mu.Unlock()
		return false
	}
	in.pending++
	in.mu.Unlock()
	in.items <- x // admit takes it, in get or in close
	return true
}

// get returns the next thing read, or false once the shutdown began.
func (in *intake) get() (itemOrErr, bool) {
	if in.stop.Err() != nil {
		return itemOrErr{}, false
	}
	select {
	case x := <-in.items:
		in.mu.Lock()
		in.pending--
		in.mu.Unlock()
		return x, true
	case <-in.stop.Done():
		return itemOrErr{}, false
	}
}

// close, called once the shutdown began, returns what the reader had
// committed to hand over before it, if anything: at most one item or
// error, since the reader commits the next one only after admit took the
// last (get). From then on, put hands over nothing.
func (in *intake) close() (itemOrErr, bool) {
	in.mu.Lock()
	n := in.pending
	in.pending = 0
	in.mu.Unlock()
	if n == 0 {
		return itemOrErr{}, false
	}
	return <-in.items, true
}
