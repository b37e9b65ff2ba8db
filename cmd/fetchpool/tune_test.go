package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestTuneRuntime: one P more than the runtime's own choice, and a raised
// GOGC while the process is small, unless the environment sets them.
func TestTuneRuntime(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	gogc := debug.SetGCPercent(100)
	t.Cleanup(func() {
		runtime.GOMAXPROCS(procs)
		debug.SetGCPercent(gogc)
	})
	tests := []struct {
		name      string
		env       map[string]string
		wantProcs int
		tunedGC   bool
	}{
		{"unset", nil, procs + 1, true},
		{"GOMAXPROCS set", map[string]string{"GOMAXPROCS": "3"}, procs, true},
		{"GOGC set", map[string]string{"GOGC": "100"}, procs + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GOMAXPROCS(procs)
			debug.SetGCPercent(100)
			tuner := tuneRuntime(func(k string) string { return tt.env[k] })
			defer tuner.Stop()
			if got := runtime.GOMAXPROCS(0); got != tt.wantProcs {
				t.Errorf("GOMAXPROCS %d, want %d", got, tt.wantProcs)
			}
			if got := debug.SetGCPercent(100); (got > 100) != tt.tunedGC {
				t.Errorf("GOGC %d; raised: %v, want %v", got, got > 100, tt.tunedGC)
			}
		})
	}
}
