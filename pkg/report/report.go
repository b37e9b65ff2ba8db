// Package report turns a run's events into what people and programs read:
// terminal bars, plain log lines, JSON lines, a report file, a failed list
// and the summary.
//
// The engine hands events to a Dispatcher; one goroutine of the Dispatcher
// delivers them, in order, to every Sink and calls Tick on the sinks that
// draw on a clock. Because that goroutine is the only one that touches the
// sinks, and so the terminal, sinks need no locks and output never
// interleaves.
package report

import (
	"io"
	"sync"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// Sink receives events. All sinks of a Dispatcher are called from one
// goroutine, so sinks need no locks.
type Sink interface {
	Handle(ev event.Event)
}

// Ticker is implemented by sinks that redraw or print heartbeats on a
// clock. now is the time of the tick.
type Ticker interface {
	Tick(now time.Time)
}

// EventBuffer is how many events a Dispatcher holds before Emit blocks.
const EventBuffer = 4096

// Dispatcher delivers events to sinks from the one goroutine that owns the
// terminal. Sinks that implement io.Closer are closed by Close.
type Dispatcher struct {
	events  chan event.Event
	quit    chan struct{} // closed by Close: deliver what is pending, then stop
	done    chan struct{} // closed when the goroutine has stopped
	tick    time.Duration
	sinks   []Sink
	tickers []Ticker
	once    sync.Once
	err     error
}

// NewDispatcher starts the goroutine that delivers events to sinks, in
// order, and calls Tick on the sinks that are Tickers every tick (none when
// tick is 0). Close must be called to stop it.
func NewDispatcher(tick time.Duration, sinks ...Sink) *Dispatcher {
	d := &Dispatcher{
		events: make(chan event.Event, EventBuffer),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		tick:   tick,
		sinks:  sinks,
	}
	for _, s := range sinks {
		if t, ok := s.(Ticker); ok {
			d.tickers = append(d.tickers, t)
		}
	}
	go d.run()
	return d
}

// Emit hands ev to the sinks. It is safe for concurrent use, and blocks
// while the buffer of pending events is full. Events emitted after Close are
// dropped.
func (d *Dispatcher) Emit(ev event.Event) {
	select {
	case d.events <- ev:
	case <-d.done:
	}
}

// Close delivers the events emitted before it, stops the goroutine, then
// closes the sinks that implement io.Closer, in the order they were given,
// and returns the first error. Later calls return the same error.
func (d *Dispatcher) Close() error {
	d.once.Do(func() {
		close(d.quit)
		<-d.done
		for _, s := range d.sinks {
			if c, ok := s.(io.Closer); ok {
				if err := c.Close(); err != nil && d.err == nil {
					d.err = err
				}
			}
		}
	})
	return d.err
}

func (d *Dispatcher) run() {
	defer close(d.done)
	var tickC <-chan time.Time
	if d.tick > 0 && len(d.tickers) > 0 {
		t := time.NewTicker(d.tick)
		defer t.Stop()
		tickC = t.C
	}
	for {
		select {
		case ev := <-d.events:
			d.deliver(ev)
		case now := <-tickC:
			for _, t := range d.tickers {
				t.Tick(now)
			}
		case <-d.quit:
			d.drain()
			return
		}
	}
}

// drain delivers what is pending without waiting for more.
func (d *Dispatcher) drain() {
	for {
		select {
		case ev := <-d.events:
			d.deliver(ev)
		default:
			return
		}
	}
}

func (d *Dispatcher) deliver(ev event.Event) {
	for _, s := range d.sinks {
		s.Handle(ev)
	}
}
