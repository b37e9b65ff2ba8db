//go:build !linux

package gctune

// residentMemory is not known here: no tuning.
func residentMemory() (uint64, bool) { return 0, false }
