//go:build !linux && !darwin && !freebsd && !windows

package fetch

// outOfInodes reports false: inodes are not looked at on this platform.
func outOfInodes(string) bool { return false }

// onFAT reports false: the file system is not looked at on this platform.
func onFAT(string) bool { return false }
