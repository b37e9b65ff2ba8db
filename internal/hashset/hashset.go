// Package hashset is a compact set of 64-bit hashes: it remembers millions
// of keys in about ten bytes each, without keeping the keys, and where the
// system allows it keeps them outside the garbage-collected heap so that a
// large set neither doubles the heap's goal nor lingers after it grows.
package hashset

import (
	"math/bits"
	"runtime"
)

const (
	// minSlots is the size of a new table.
	minSlots = 1024
	// maxLoad is the fill, in eighths, at which the table grows: linear
	// probing stays short (a few probes on average) below it.
	maxLoad = 6
)

// Set is a set of 64-bit hashes. The zero value is not usable; call New.
// A Set is not safe for concurrent use.
//
// Hash 0 is stored as 1, so the two count as one key; for well-mixed hashes
// that is as unlikely as any other collision.
type Set struct {
	mem *memory
	n   int
}

// memory owns the table, apart from the Set, so a cleanup can release it
// once the Set is unreachable.
type memory struct {
	slots []uint64 // 0 marks an empty slot
}

// New returns an empty Set.
func New() *Set {
	s := &Set{mem: &memory{slots: alloc(minSlots)}}
	runtime.AddCleanup(s, func(m *memory) { m.release() }, s.mem)
	return s
}

// Len reports how many hashes are in the set.
func (s *Set) Len() int { return s.n }

// Has reports whether h is in the set.
func (s *Set) Has(h uint64) bool {
	found := contains(s.mem.slots, nonzero(h))
	// The table is the Set's to release once the Set is unreachable, which
	// it may be from here on when this is its caller's last use of it: it
	// must not be unmapped while it is read.
	runtime.KeepAlive(s)
	return found
}

// contains reports whether h is in slots.
func contains(slots []uint64, h uint64) bool {
	for i := index(h, len(slots)); ; i = next(i, len(slots)) {
		switch slots[i] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

// Add puts h in the set and reports whether it was new.
func (s *Set) Add(h uint64) bool {
	h = nonzero(h)
	if (s.n+1)*8 > len(s.mem.slots)*maxLoad {
		s.grow()
	}
	added := insert(s.mem.slots, h)
	if added {
		s.n++
	}
	runtime.KeepAlive(s) // as in Has: the table is in use until here
	return added
}

// grow moves the hashes to a table half as large again and releases the old
// one at once.
func (s *Set) grow() {
	old := s.mem.slots
	slots := alloc(len(old) + len(old)/2)
	for _, h := range old {
		if h != 0 {
			insert(slots, h)
		}
	}
	s.mem.slots = slots
	free(old)
}

// insert puts h in slots and reports whether it was new.
func insert(slots []uint64, h uint64) bool {
	for i := index(h, len(slots)); ; i = next(i, len(slots)) {
		switch slots[i] {
		case h:
			return false
		case 0:
			slots[i] = h
			return true
		}
	}
}

// index maps h onto [0, n): it mixes h first (callers may bring weak hashes
// such as FNV-1a) and then scales by multiplication, so the table need not
// be a power of two in size.
func index(h uint64, n int) int {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}

func next(i, n int) int {
	if i++; i == n {
		return 0
	}
	return i
}

func nonzero(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

func (m *memory) release() {
	free(m.slots)
	m.slots = nil
}
