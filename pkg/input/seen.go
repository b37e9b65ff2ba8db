package input

import (
	"encoding/binary"
	"hash/maphash"
)

// Seen is a compact de-duplication set of (URL, output) pairs. It keeps a
// 64-bit hash of each pair, not the strings, so a list of millions of items
// costs tens of bytes per item; two different pairs share a hash with a
// probability of about n²/2⁶⁵ for n pairs (below 10⁻⁵ for ten million), in
// which case the later one is taken for a duplicate. The hash seed is random
// per Seen. A Seen is not safe for concurrent use: one producer owns it.
type Seen struct {
	seed maphash.Seed
	set  map[uint64]struct{}
}

// NewSeen returns an empty set.
func NewSeen() *Seen {
	return &Seen{seed: maphash.MakeSeed(), set: make(map[uint64]struct{})}
}

// Add records the pair and reports whether it was new.
func (s *Seen) Add(url, output string) bool {
	var h maphash.Hash
	h.SetSeed(s.seed)
	// The length prefix keeps ("ab", "c") and ("a", "bc") apart.
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(url)))
	_, _ = h.Write(n[:])
	_, _ = h.WriteString(url)
	_, _ = h.WriteString(output)
	k := h.Sum64()
	if _, dup := s.set[k]; dup {
		return false
	}
	s.set[k] = struct{}{}
	return true
}

// Len returns the number of distinct pairs added.
func (s *Seen) Len() int { return len(s.set) }
