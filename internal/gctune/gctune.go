// Package gctune lets the garbage collector run less often while the
// process is small.
//
// With GOGC=100 the collector runs each time the heap doubles. A run of
// small files keeps a few MiB alive but allocates a few KiB per file, so it
// collected some twenty times a second. A Tuner lets the heap grow, between
// collections, up to what a memory budget leaves free, and never collects
// more often than GOGC=100 would: a process that is already near or above
// its budget (a list of millions of URLs, whose de-duplication set lives
// outside the Go heap) is collected exactly as without tuning, so its peak
// memory does not grow.
package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// maxPercent bounds the GOGC this package sets.
const maxPercent = 2000

// The runtime's measures a Tuner reads after each collection.
const (
	liveMetric    = "/gc/heap/live:bytes"                // found alive by the last collection
	objectsMetric = "/memory/classes/heap/objects:bytes" // in heap objects, garbage included
)

// Tuner keeps the heap goal as high as a memory budget allows. It is made
// by Start.
type Tuner struct {
	budget   uint64
	resident func() (uint64, bool) // the process's resident memory

	mu      sync.Mutex
	stopped bool
	last    int // the GOGC last set
	sample  []metrics.Sample
}

// Start tunes GOGC after every collection so that the heap may grow until
// the process's resident memory reaches budget bytes, but collects at
// least as often as GOGC=100 would. It returns nil and changes nothing when
// GOGC is set in the environment (the user's choice wins) or where the
// process's resident memory cannot be read (outside Linux).
func Start(budget uint64, getenv func(string) string) *Tuner {
	if getenv("GOGC") != "" {
		return nil
	}
	if _, ok := residentMemory(); !ok {
		return nil
	}
	return start(budget, residentMemory)
}

func start(budget uint64, resident func() (uint64, bool)) *Tuner {
	t := &Tuner{budget: budget, resident: resident, last: 100,
		sample: []metrics.Sample{{Name: liveMetric}, {Name: objectsMetric}}}
	t.adjust()
	t.arm()
	return t
}

// Percent is the GOGC for a heap goal that lets the process grow from
// resident bytes to budget: the heap now holds objects bytes, live of them
// alive, and may gain budget − resident more before the next collection.
// It is never below 100 (the goal is at least twice the live heap) nor
// above maxPercent. live 0 (before the first collection) counts as 4 MiB,
// the runtime's own smallest goal.
func Percent(live, objects, resident, budget uint64) int {
	live = max(live, 4<<20)
	if resident >= budget {
		return 100
	}
	goal := objects + budget - resident
	if goal <= 2*live {
		return 100
	}
	return int(min(100*(goal-live)/live, maxPercent))
}

// arm asks to be called after the next collection: a fresh sentinel
// object is unreachable once made, so the collection frees it and runs its
// cleanup, which sets GOGC and arms again.
func (t *Tuner) arm() {
	s := new([16]byte)
	runtime.AddCleanup(s, func(t *Tuner) {
		if t.adjust() {
			t.arm()
		}
	}, t)
}

// adjust sets GOGC from the last collection, and reports whether the
// tuning goes on.
func (t *Tuner) adjust() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	rss, ok := t.resident()
	if !ok {
		return true // this time only: keep the GOGC set last
	}
	metrics.Read(t.sample)
	var v [2]uint64
	for i, s := range t.sample {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	if p := Percent(v[0], v[1], rss, t.budget); p != t.last {
		debug.SetGCPercent(p)
		t.last = p
	}
	return true
}

// Stop ends the tuning and sets GOGC back to 100. It may be called on a
// nil Tuner, and more than once.
func (t *Tuner) Stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		debug.SetGCPercent(100)
	}
}
