package report

import (
	"io"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

func BenchmarkDispatcherEmit(b *testing.B) {
	d := NewDispatcher(0, sinkFunc(func(event.Event) {}))
	ev := event.Event{Kind: event.Attempt, Item: item(1, "https://example.com/a"), Attempt: 1}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Emit(ev)
	}
	d.Close()
}

func BenchmarkDispatcherEmitParallel(b *testing.B) {
	d := NewDispatcher(0, sinkFunc(func(event.Event) {}))
	ev := event.Event{Kind: event.Attempt, Item: item(1, "https://example.com/a"), Attempt: 1}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d.Emit(ev)
		}
	})
	d.Close()
}

// One redraw with 64 transfers in flight (10 of them drawn).
func BenchmarkTerminalTick(b *testing.B) {
	evs, ps, _ := busyRun(200, 64)
	tm := NewTerminal(io.Discard, TerminalOptions{Width: func() int { return 120 }})
	feed(tm, evs)
	now := t0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		advance(ps, 4096)
		now = now.Add(100 * time.Millisecond)
		tm.Tick(now)
	}
}

// Plain's work per event, which runs for every item of a batch.
func BenchmarkPlainHandle(b *testing.B) {
	evs := sampleRun()
	p := NewPlain(io.Discard, PlainOptions{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		feed(p, evs)
	}
}
