package procs

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// fakeUser is a user CPU clock that tests advance.
type fakeUser struct{ ns atomic.Int64 }

func (f *fakeUser) read() (time.Duration, bool) { return time.Duration(f.ns.Load()), true }

func restoreProcs(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(procs) })
}

// waitProcs waits up to 10 s for GOMAXPROCS to be want.
func waitProcs(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.GOMAXPROCS(0) != want {
		if time.Now().After(deadline) {
			t.Fatalf("GOMAXPROCS %d after 10 s, want %d", runtime.GOMAXPROCS(0), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestScaleWhenBusy: one P while user time stays low; all of them once an
// interval was mostly user time, and no going back.
func TestScaleWhenBusy(t *testing.T) {
	restoreProcs(t)
	var clock fakeUser
	s := start(4, 5*time.Millisecond, clock.read)
	defer s.Stop()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS %d at start, want 1", got)
	}
	time.Sleep(50 * time.Millisecond) // ten idle intervals
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS %d with no user time, want 1", got)
	}
	clock.ns.Add(int64(time.Hour)) // far past any interval
	waitProcs(t, 4)
	clock.ns.Store(0)
	time.Sleep(20 * time.Millisecond)
	if got := runtime.GOMAXPROCS(0); got != 4 {
		t.Fatalf("GOMAXPROCS %d after the scaler stopped watching, want 4", got)
	}
}

// TestUserTimeCountsWork: the clock a Scaler reads is the process's real
// user CPU time, which computing advances (and so would scale).
func TestUserTimeCountsWork(t *testing.T) {
	u0, ok := userTime()
	if !ok {
		t.Skip("no user CPU time here")
	}
	x := uint64(1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		for range 1 << 16 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		sink.Store(x)
		if u, _ := userTime(); u-u0 >= 20*time.Millisecond {
			return
		}
		if time.Now().After(deadline) {
			u, _ := userTime()
			t.Fatalf("user CPU time went from %v to %v in 10 s of computing", u0, u)
		}
	}
}

var sink atomic.Uint64

// TestNoScaler: nothing to watch with one P in all, or without a user CPU
// clock; GOMAXPROCS is then full.
func TestNoScaler(t *testing.T) {
	restoreProcs(t)
	if s := start(1, time.Millisecond, (&fakeUser{}).read); s != nil {
		s.Stop()
		t.Error("a Scaler for full = 1")
	}
	noClock := func() (time.Duration, bool) { return 0, false }
	if s := start(3, time.Millisecond, noClock); s != nil {
		s.Stop()
		t.Error("a Scaler without a user CPU clock")
	}
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Errorf("GOMAXPROCS %d, want 3", got)
	}
	var nilScaler *Scaler
	nilScaler.Stop()
}
