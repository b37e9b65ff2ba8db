package gctune

import (
	"runtime"
	"testing"
)

// TestResidentMemory: the resident set grows by what is touched.
func TestResidentMemory(t *testing.T) {
	before, ok := residentMemory()
	if !ok || before < 1<<20 || before > 1<<40 {
		t.Fatalf("residentMemory() = %d, %v; want a plausible size", before, ok)
	}
	b := make([]byte, 64<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	after, _ := residentMemory()
	runtime.KeepAlive(b)
	if after < before+48<<20 {
		t.Errorf("resident memory %d → %d after touching 64 MiB", before, after)
	}
}
