package fetch

import "golang.org/x/sys/unix"

// openFilesLimit is the process's limit on open files (RLIMIT_NOFILE, ulimit
// -n; Go raises it to the hard limit at start), 0 when it cannot be told or
// there is none.
func openFilesLimit() uint64 {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == unix.RLIM_INFINITY {
		return 0
	}
	return lim.Cur
}
