package fetch

import (
	"os"

	"golang.org/x/sys/unix"
)

// allocate makes f size bytes long with its blocks reserved (fallocate),
// so that a file that cannot fit fails now, with ENOSPC, rather than once
// the disk is full. A file system without fallocate (some in user space)
// gets a sparse file of that size instead, as Truncate makes.
func allocate(f *partFile, size int64) error {
	for {
		err := unix.Fallocate(f.fd, 0, 0, size)
		switch err {
		case nil:
			return nil
		case unix.EINTR:
			continue
		case unix.EOPNOTSUPP, unix.ENOSYS:
			return f.Truncate(size)
		}
		return &os.PathError{Op: "fallocate", Path: f.name, Err: err}
	}
}
