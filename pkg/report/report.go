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
	"strings"
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

// Filter is implemented by sinks that ignore some kinds of event. A
// Dispatcher drops an event of a kind that no sink wants before it is
// queued, which saves its cost on the hot path. A sink that is not a Filter
// wants every kind. Wants is asked once, by NewDispatcher, so its answers
// must not change afterwards.
type Filter interface {
	Wants(k event.Kind) bool
}

// EventBuffer is how many events a Dispatcher holds before Emit blocks.
const EventBuffer = 4096

// Dispatcher delivers events to sinks from the one goroutine that owns the
// terminal. Sinks that implement io.Closer are closed by Close. Make one
// with NewDispatcher; the zero Dispatcher is not usable.
type Dispatcher struct {
	events  chan event.Event
	quit    chan struct{} // closed by Close: deliver what is pending, then stop
	done    chan struct{} // closed when the goroutine has stopped
	tick    time.Duration
	sinks   []Sink
	tickers []Ticker
	wanted  [256]bool // by Kind: whether some sink wants it
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
	for k := range d.wanted {
		d.wanted[k] = wanted(event.Kind(k), sinks)
	}
	go d.run()
	return d
}

// wanted tells whether some sink wants events of kind k.
func wanted(k event.Kind, sinks []Sink) bool {
	for _, s := range sinks {
		if f, ok := s.(Filter); !ok || f.Wants(k) {
			return true
		}
	}
	return false
}

// Emit hands ev to the sinks. It is safe for concurrent use, and blocks
// while the buffer of pending events is full. Events emitted after Close,
// and events of a kind no sink wants, are dropped.
func (d *Dispatcher) Emit(ev event.Event) {
	if !d.wanted[ev.Kind] {
		return
	}
	// The common case, room in the buffer, without the cost of a select
	// that could block.
	select {
	case d.events <- ev:
		return
	default:
	}
	select {
	case d.events <- ev:
	case <-d.done:
	}
}

// Close delivers the events emitted before it, stops the goroutine, then
// closes the sinks that implement io.Closer, in the order they were given,
// and returns their errors joined, so that each file left incomplete is
// named. Later calls return the same error.
func (d *Dispatcher) Close() error {
	d.once.Do(func() {
		close(d.quit)
		<-d.done
		// Every sink's error, not the first one's: a report and a
		// failed list that both could not be written must both be told.
		var errs []error
		for _, s := range d.sinks {
			if c, ok := s.(io.Closer); ok {
				if err := c.Close(); err != nil {
					errs = append(errs, err)
				}
			}
		}
		if len(errs) > 0 {
			d.err = closeErrors(errs)
		}
	})
	return d.err
}

// closeErrors are the errors of the sinks that could not be closed, told
// on one line: "writing report file r.json: ...; writing failed list ...".
type closeErrors []error

func (e closeErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e closeErrors) Unwrap() []error { return e }

func (d *Dispatcher) run() {
	defer close(d.done)
	var tickC <-chan time.Time
	if d.tick > 0 && len(d.tickers) > 0 {
		t := time.NewTicker(d.tick)
		defer t.Stop()
		tickC = t.C
	}
	for {
		// Deliver what is pending before waiting on the clock too: the
		// cheap receive serves a busy run, the select below an idle one.
		// The batch is bounded so that a run that never lets the buffer
		// empty still gets its ticks.
		d.deliverPending(EventBuffer)
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

// deliverPending delivers at most max pending events without waiting for
// more.
func (d *Dispatcher) deliverPending(max int) {
	for range max {
		select {
		case ev := <-d.events:
			d.deliver(ev)
		default:
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

// verboseOnly tells the kinds that only a verbose Plain or Terminal shows.
func verboseOnly(k event.Kind) bool {
	return k == event.Attempt || k == event.Retry || k == event.Redirect
}
