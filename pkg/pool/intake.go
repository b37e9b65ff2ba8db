package pool

import (
	"context"
	"sync"
)

// intake hands what the reader goroutine reads to admit. A read can block
// for as long as standard input stays open, so a shutdown must not wait for
// one; but an item that a read returned before the shutdown is the run's,
// and must not be lost on its way to admit. The reader commits to handing
// over each item (put) while the intake is open; admit, when it closes the
// intake (close), takes what was committed. A read that returns after
// that is dropped unseen: the run never took it, and says so by never
// calling Options.Taken with it.
type intake struct {
	items chan itemOrErr // unbuffered: a send completes when admit has the item

	mu      sync.Mutex
	closed  bool
	pending int // sends committed by put and not yet received by get
}

func newIntake() *intake { return &intake{items: make(chan itemOrErr)} }

// put hands x to admit, blocking until it is taken, and reports false,
// without handing it, when the intake is closed.
func (in *intake) put(x itemOrErr) bool {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return false
	}
	in.pending++
	in.mu.Unlock()
	in.items <- x // admit takes it, in get or in close
	return true
}

// get returns the next thing read, or false once stop is done.
func (in *intake) get(stop context.Context) (itemOrErr, bool) {
	if stop.Err() != nil {
		return itemOrErr{}, false
	}
	select {
	case x := <-in.items:
		in.mu.Lock()
		in.pending--
		in.mu.Unlock()
		return x, true
	case <-stop.Done():
		return itemOrErr{}, false
	}
}

// close ends the intake and returns what the reader had already committed
// to hand over, if anything: at most one item or error, since the reader
// commits the next one only after admit took the last (get).
func (in *intake) close() (itemOrErr, bool) {
	in.mu.Lock()
	in.closed = true
	n := in.pending
	in.pending = 0
	in.mu.Unlock()
	if n == 0 {
		return itemOrErr{}, false
	}
	return <-in.items, true
}
