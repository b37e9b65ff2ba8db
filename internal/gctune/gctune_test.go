package gctune

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"
)

const mib = 1 << 20

func TestPercent(t *testing.T) {
	tests := []struct {
		name                            string
		live, objects, resident, budget uint64
		want                            int
	}{
		{"room for 24 MiB more", 6 * mib, 12 * mib, 20 * mib, 32 * mib, 300}, // goal 24 MiB
		{"before the first collection", 0, 1 * mib, 8 * mib, 32 * mib, 525},  // live counts as 4 MiB; goal 25 MiB
		{"no more room than GOGC=100 gives", 6 * mib, 6 * mib, 30 * mib, 32 * mib, 100},
		{"at the budget", 6 * mib, 12 * mib, 32 * mib, 32 * mib, 100},
		{"above the budget", 6 * mib, 12 * mib, 54 * mib, 32 * mib, 100},
		{"a big live heap", 100 * mib, 120 * mib, 130 * mib, 32 * mib, 100},
		{"a tiny process, a huge budget", 4 * mib, 4 * mib, 8 * mib, 1 << 40, maxPercent},
	}
	for _, tt := range tests {
		if got := Percent(tt.live, tt.objects, tt.resident, tt.budget); got != tt.want {
			t.Errorf("%s: Percent(%d, %d, %d, %d) = %d, want %d",
				tt.name, tt.live, tt.objects, tt.resident, tt.budget, got, tt.want)
		}
	}
}

// gcPercent reads the current GOGC.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// waitPercent runs collections until GOGC is want.
func waitPercent(t *testing.T, want int, why string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for gcPercent() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: GOGC %d, want %d", why, gcPercent(), want)
		}
		runtime.GC()
		time.Sleep(time.Millisecond) // cleanups run on their own goroutine
	}
}

// TestTunerFollowsCollections: the tuner sets GOGC at once and again after
// each collection, from the resident memory it finds then, and Stop puts
// GOGC=100 back.
func TestTunerFollowsCollections(t *testing.T) {
	defer debug.SetGCPercent(gcPercent())
	debug.SetGCPercent(100)
	var rss atomic.Uint64
	rss.Store(1 * mib)
	tu := start(1<<40, func() (uint64, bool) { return rss.Load(), true })
	if got := gcPercent(); got != maxPercent {
		t.Errorf("GOGC after start = %d, want %d", got, maxPercent)
	}
	rss.Store(2 << 40) // past the budget: as without tuning
	waitPercent(t, 100, "resident memory above the budget")
	rss.Store(1 * mib)
	waitPercent(t, maxPercent, "resident memory far below the budget")

	tu.Stop()
	tu.Stop() // twice is harmless
	if got := gcPercent(); got != 100 {
		t.Errorf("GOGC after Stop = %d, want 100", got)
	}
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if got := gcPercent(); got != 100 {
		t.Errorf("GOGC after a collection after Stop = %d, want 100", got)
	}
	var none *Tuner
	none.Stop()
}

// TestStart: GOGC in the environment turns the tuning off; elsewhere it
// runs where the resident memory can be read.
func TestStart(t *testing.T) {
	defer debug.SetGCPercent(gcPercent())
	if tu := Start(1<<40, func(string) string { return "50" }); tu != nil {
		tu.Stop()
		t.Fatal("Start with GOGC set in the environment returned a tuner")
	}
	_, readable := residentMemory()
	tu := Start(1<<40, func(string) string { return "" })
	defer tu.Stop()
	if (tu != nil) != readable {
		t.Fatalf("Start returned a tuner: %v; resident memory readable: %v", tu != nil, readable)
	}
	if tu != nil && gcPercent() <= 100 {
		t.Errorf("GOGC %d with a budget far above the process", gcPercent())
	}
}
