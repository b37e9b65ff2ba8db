package report

import (
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// recorder is a sink that keeps what it gets.
type recorder struct {
	events []event.Event
	ticks  int
	closed *[]string
	name   string
	err    error
}

func (r *recorder) Handle(ev event.Event) { r.events = append(r.events, ev) }
func (r *recorder) Tick(time.Time)        { r.ticks++ }
func (r *recorder) Close() error {
	if r.closed != nil {
		*r.closed = append(*r.closed, r.name)
	}
	return r.err
}

// Each producer's events arrive in the order it emitted them, none lost,
// with eight producers at once and a buffer that fills up.
func TestDispatcherOrder(t *testing.T) {
	const producers, each = 8, 5000
	rec := &recorder{}
	d := NewDispatcher(time.Millisecond, rec)
	var wg sync.WaitGroup
	for g := 0; g < producers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				d.Emit(event.Event{Kind: event.Attempt, InFlight: g, Attempt: i})
			}
		}()
	}
	wg.Wait()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if len(rec.events) != producers*each {
		t.Fatalf("delivered %d events, want %d", len(rec.events), producers*each)
	}
	next := make([]int, producers)
	for _, ev := range rec.events {
		if ev.Attempt != next[ev.InFlight] {
			t.Fatalf("producer %d: got event %d, want %d", ev.InFlight, ev.Attempt, next[ev.InFlight])
		}
		next[ev.InFlight]++
	}
}

// gate is a sink that blocks until released, to fill the buffer.
type gate struct {
	release chan struct{}
	got     int
}

func (g *gate) Handle(event.Event) {
	if g.got == 0 {
		<-g.release
	}
	g.got++
}

func TestDispatcherBlocksWhenFullAndCloseDrains(t *testing.T) {
	g := &gate{release: make(chan struct{})}
	d := NewDispatcher(0, g)
	const n = EventBuffer + 10
	emitted := make(chan struct{})
	go func() {
		for i := 0; i < n; i++ {
			d.Emit(event.Event{Kind: event.Queued})
		}
		close(emitted)
	}()
	select {
	case <-emitted:
		t.Fatal("Emit did not block with the sink stuck and the buffer full")
	case <-time.After(100 * time.Millisecond):
	}
	close(g.release)
	select {
	case <-emitted:
	case <-time.After(10 * time.Second):
		t.Fatal("Emit still blocked after the sink went on")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if g.got != n {
		t.Errorf("Close delivered %d of %d events", g.got, n)
	}
}

func TestDispatcherCloseOrderAndError(t *testing.T) {
	var closed []string
	errA, errB := errors.New("a failed"), errors.New("b failed")
	a := &recorder{name: "a", closed: &closed, err: errA}
	plain := sinkFunc(func(event.Event) {})
	b := &recorder{name: "b", closed: &closed, err: errB}
	c := &recorder{name: "c", closed: &closed}
	d := NewDispatcher(0, a, plain, b, c)
	d.Emit(event.Event{Kind: event.Queued})
	// Every sink that failed is named: with only the first error, a
	// --report on a full disk hid that the --failed list was empty too.
	if err := d.Close(); !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Errorf("Close() = %v, want both errors %v and %v", err, errA, errB)
	}
	if len(closed) != 3 || closed[0] != "a" || closed[1] != "b" || closed[2] != "c" {
		t.Errorf("closed %v, want [a b c]", closed)
	}
	if err := d.Close(); !errors.Is(err, errA) || len(closed) != 3 {
		t.Errorf("second Close() = %v and closed %v: want the same error and no second close", err, closed)
	}
	if len(a.events) != 1 || len(c.events) != 1 {
		t.Errorf("sinks got %d and %d events, want 1", len(a.events), len(c.events))
	}
	// Emit after Close neither blocks nor panics, even past the buffer.
	done := make(chan struct{})
	go func() {
		for i := 0; i < EventBuffer*2; i++ {
			d.Emit(event.Event{Kind: event.Queued})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Emit after Close blocked")
	}
}

type sinkFunc func(event.Event)

func (f sinkFunc) Handle(ev event.Event) { f(ev) }

// tickSignal reports its first tick.
type tickSignal struct {
	once sync.Once
	c    chan time.Time
}

func (s *tickSignal) Handle(event.Event) {}
func (s *tickSignal) Tick(now time.Time) { s.once.Do(func() { s.c <- now }) }

func TestDispatcherTicks(t *testing.T) {
	s := &tickSignal{c: make(chan time.Time, 1)}
	d := NewDispatcher(5*time.Millisecond, s)
	defer d.Close()
	select {
	case now := <-s.c:
		if now.IsZero() {
			t.Error("Tick got a zero time")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no Tick")
	}

	rec := &recorder{}
	d0 := NewDispatcher(0, rec)
	for i := 0; i < 100; i++ {
		d0.Emit(event.Event{Kind: event.Queued})
	}
	time.Sleep(20 * time.Millisecond) // time for ticks that must not come
	d0.Close()
	if rec.ticks != 0 {
		t.Errorf("%d ticks with tick 0", rec.ticks)
	}
}

// filtered is a recorder that wants only some kinds.
type filtered struct {
	recorder
	wants map[event.Kind]bool
}

func (f *filtered) Wants(k event.Kind) bool { return f.wants[k] }

// An event reaches the sinks when some sink wants its kind, even the sinks
// that do not; one that no sink wants reaches none. The sinks of `-q` and
// of a plain run want no attempts; a verbose one does, and so do the bars,
// which show a wait to retry.
func TestDispatcherFilter(t *testing.T) {
	onlyStarted := func() Sink { return &filtered{wants: map[event.Kind]bool{event.Started: true}} }
	tests := []struct {
		name  string
		sinks []Sink
		want  []event.Kind // of Queued, Started, Attempt, Retry, Redirect, Finished
	}{
		{"no filter", []Sink{&recorder{}}, []event.Kind{event.Queued, event.Started, event.Attempt, event.Retry, event.Redirect, event.Finished}},
		{"one filter", []Sink{onlyStarted()}, []event.Kind{event.Started}},
		{"filter and not", []Sink{onlyStarted(), &recorder{}}, []event.Kind{event.Queued, event.Started, event.Attempt, event.Retry, event.Redirect, event.Finished}},
		{"quiet", []Sink{NewSummary(time.Now()), NewPlain(io.Discard, PlainOptions{Quiet: true, Verbose: true}), onlyStarted()}, []event.Kind{event.Queued, event.Started, event.Finished}},
		{"plain", []Sink{NewPlain(io.Discard, PlainOptions{}), NewTerminal(io.Discard, TerminalOptions{Quiet: true}), onlyStarted()}, []event.Kind{event.Queued, event.Started, event.Finished}},
		// The bars show the wait before a retry.
		{"terminal", []Sink{NewTerminal(io.Discard, TerminalOptions{}), onlyStarted()}, []event.Kind{event.Queued, event.Started, event.Attempt, event.Retry, event.Finished}},
		{"verbose plain", []Sink{NewPlain(io.Discard, PlainOptions{Verbose: true}), onlyStarted()}, []event.Kind{event.Queued, event.Started, event.Attempt, event.Retry, event.Redirect, event.Finished}},
		{"verbose terminal", []Sink{NewTerminal(io.Discard, TerminalOptions{Verbose: true}), onlyStarted()}, []event.Kind{event.Queued, event.Started, event.Attempt, event.Retry, event.Redirect, event.Finished}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []event.Kind
			probe := sinkFunc(func(ev event.Event) { got = append(got, ev.Kind) })
			// probe wants nothing of its own: it sees what the others let in.
			d := NewDispatcher(0, append(tt.sinks, &filteredProbe{probe})...)
			for _, k := range []event.Kind{event.Queued, event.Started, event.Attempt, event.Retry, event.Redirect, event.Finished} {
				d.Emit(event.Event{Kind: k, Time: time.Now()})
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("delivered %v, want %v", got, tt.want)
			}
		})
	}
}

// filteredProbe passes on every event it is given and wants none.
type filteredProbe struct{ Sink }

func (filteredProbe) Wants(event.Kind) bool { return false }
