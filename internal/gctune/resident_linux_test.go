package gctune

import (
	"syscall"
	"testing"
)

// TestResidentMemory: the resident set grows by what is touched. The
// memory is mapped afresh, not taken from the heap, which may hold pages
// already resident.
func TestResidentMemory(t *testing.T) {
	before, ok := residentMemory()
	if !ok || before < 1<<20 || before > 1<<40 {
		t.Fatalf("residentMemory() = %d, %v; want a plausible size", before, ok)
	}
	const size = 64 << 20
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(b)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	after, _ := residentMemory()
	if after < before+48<<20 {
		t.Errorf("resident memory %d → %d after touching 64 MiB", before, after)
	}
}
