package main

import (
	"runtime"
	"testing"
)

// TestTuneRuntime: one P more than the runtime's own choice, unless the
// environment sets GOMAXPROCS.
func TestTuneRuntime(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(procs) })
	tests := []struct {
		name      string
		env       map[string]string
		wantProcs int
	}{
		{"unset", nil, procs + 1},
		{"GOMAXPROCS set", map[string]string{"GOMAXPROCS": "3"}, procs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GOMAXPROCS(procs)
			tuneRuntime(func(k string) string { return tt.env[k] })
			if got := runtime.GOMAXPROCS(0); got != tt.wantProcs {
				t.Errorf("GOMAXPROCS %d, want %d", got, tt.wantProcs)
			}
		})
	}
}
