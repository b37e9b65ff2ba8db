package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestTuneRuntime: one P more than the runtime's own choice, and the
// collector tuned, unless the environment sets GOMAXPROCS or GOGC.
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
		tuned     bool // on Linux, where the resident memory can be read
	}{
		{"unset", nil, procs + 1, runtime.GOOS == "linux"},
		{"GOMAXPROCS set", map[string]string{"GOMAXPROCS": "3"}, procs, runtime.GOOS == "linux"},
		{"GOMAXPROCS not a number", map[string]string{"GOMAXPROCS": "abc"}, procs + 1, runtime.GOOS == "linux"},
		{"GOMAXPROCS 0", map[string]string{"GOMAXPROCS": "0"}, procs + 1, runtime.GOOS == "linux"},
		{"GOMAXPROCS past 32 bits", map[string]string{"GOMAXPROCS": "4294967297"}, procs + 1, runtime.GOOS == "linux"},
		{"GOGC set", map[string]string{"GOGC": "100"}, procs + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GOMAXPROCS(procs)
			tuner := tuneRuntime(func(k string) string { return tt.env[k] })
			defer tuner.Stop()
			if got := runtime.GOMAXPROCS(0); got != tt.wantProcs {
				t.Errorf("GOMAXPROCS %d, want %d", got, tt.wantProcs)
			}
			if (tuner != nil) != tt.tuned {
				t.Errorf("collector tuned: %v, want %v", tuner != nil, tt.tuned)
			}
		})
	}
}
