//go:build unix

package fetch

import "golang.org/x/sys/unix"

// fileSizeLimited tells whether the process has a file size limit
// (RLIMIT_FSIZE, ulimit -f), which an EFBIG may come from; without one, it
// comes from the file system, whose largest file is smaller (FAT32: 4 GiB).
func fileSizeLimited() bool {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &lim); err != nil {
		return true // cannot tell: the message that names ulimit -f, as before
	}
	return lim.Cur != unix.RLIM_INFINITY
}
