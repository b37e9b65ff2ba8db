//go:build !windows

package fetch

// noSpace is false: here a full disk is syscall.ENOSPC or EDQUOT, which
// classifyWrite matches.
func noSpace(error) bool { return false }
