//go:build !linux

package fetch

// allocate makes f size bytes long: a sparse file where there is no
// portable way to reserve its blocks.
func allocate(f *partFile, size int64) error { return f.Truncate(size) }
