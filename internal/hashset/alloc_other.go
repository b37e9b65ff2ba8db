//go:build !unix

package hashset

func alloc(n int) []uint64 { return make([]uint64, n) }

func free([]uint64) {}
