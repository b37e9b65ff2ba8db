package hashset

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

func TestSetAgainstMap(t *testing.T) {
	s := New()
	want := map[uint64]bool{}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 300_000 {
		// Small values repeat often; 0 and 1 count as one key.
		h := rnd.Uint64()
		if i%3 == 0 {
			h = uint64(rnd.IntN(5000))
		}
		key := h
		if key == 0 {
			key = 1
		}
		if got, isNew := s.Add(h), !want[key]; got != isNew {
			t.Fatalf("Add(%d) = %v, want %v", h, got, isNew)
		}
		want[key] = true
	}
	if s.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(want))
	}
	for k := range want {
		if !s.Has(k) {
			t.Fatalf("Has(%d) = false after Add", k)
		}
	}
	for range 1000 {
		if h := rnd.Uint64(); !want[h] && s.Has(h) {
			t.Fatalf("Has(%d) = true, never added", h)
		}
	}
}

func TestSetIsCompact(t *testing.T) {
	s := New()
	rnd := rand.New(rand.NewPCG(3, 4))
	for range 1_000_000 {
		s.Add(rnd.Uint64())
	}
	if bytes := len(s.mem.slots) * 8; bytes > 16<<20 {
		t.Errorf("1,000,000 hashes take %d MiB, want at most 16", bytes>>20)
	}
	runtime.KeepAlive(s)
}

func BenchmarkAdd(b *testing.B) {
	s := New()
	rnd := rand.New(rand.NewPCG(5, 6))
	b.ReportAllocs()
	for b.Loop() {
		s.Add(rnd.Uint64())
	}
}
