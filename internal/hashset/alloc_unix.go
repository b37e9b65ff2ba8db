//go:build unix

package hashset

import (
	"syscall"
	"unsafe"
)

// mapMin is the smallest table taken from the system rather than the heap.
const mapMin = 1 << 20

// alloc returns n zeroed slots: from an anonymous mapping for large tables,
// so they stay out of the heap the garbage collector paces, else from the
// heap.
func alloc(n int) []uint64 {
	if n*8 < mapMin {
		return make([]uint64, n)
	}
	b, err := syscall.Mmap(-1, 0, n*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]uint64, n)
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n)
}

// free returns a table from alloc to the system; heap tables are left to
// the garbage collector.
func free(slots []uint64) {
	if len(slots)*8 < mapMin {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&slots[0])), len(slots)*8)
	// Munmap fails only for memory it did not map: a heap fallback.
	_ = syscall.Munmap(b)
}
