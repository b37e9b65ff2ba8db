//go:build !windows

package fetch

// noSpace is false: here a full disk is syscall.ENOSPC or EDQUOT, which
// classifyWrite matches.
func noSpace(error) bool { return false }

// invalidName is false: here any path but one too long names a file that
// may exist.
func invalidName(error) bool { return false }
