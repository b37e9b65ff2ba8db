//go:build !linux

package fetch

// openFilesLimit reports 0: the limit on open files is not looked at on
// this platform.
func openFilesLimit() uint64 { return 0 }
