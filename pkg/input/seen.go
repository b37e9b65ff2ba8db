package input

import (
	"encoding/binary"
	"hash/maphash"

	"github.com/fetchpool/fetchpool/pkg/hashset"
)

// Seen is a compact de-duplication set of (URL, output) pairs. It keeps a
// 64-bit hash of each pair, not the strings, so a list of millions of items
// costs about ten bytes per item; two different pairs share a hash with a
// probability of about n²/2⁶⁵ for n pairs (below 10⁻⁵ for ten million), in
// which case the later one is taken for a duplicate. The hash seed is random
// per Seen. A Seen is not safe for concurrent use: one producer owns it.
type Seen struct {
	seed maphash.Seed
	set  *hashset.Set
}

// NewSeen returns an empty set.
func NewSeen() *Seen {
	return &Seen{seed: maphash.MakeSeed(), set: hashset.New()}
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
	return s.set.Add(h.Sum64())
}

// Len returns the number of distinct pairs added.
func (s *Seen) Len() int { return s.set.Len() }
