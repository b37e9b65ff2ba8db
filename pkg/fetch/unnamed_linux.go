package fetch

import (
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// openUnnamed opens a file without a name (O_TMPFILE) in the directory of
// part, for a small body that gets its final name only once it is whole
// (Request.NoPart): no part to create and then rename, and nothing under
// any name until the file is complete. Its error wraps errNoUnnamed when
// the kernel or the file system has no such files.
func openUnnamed(part string) (*partFile, error) {
	for {
		fd, err := unix.Open(filepath.Dir(part), unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o644)
		switch err {
		case nil:
			return &partFile{fd: fd, name: part}, nil
		case unix.EINTR:
			continue
		case unix.EOPNOTSUPP, unix.EISDIR, unix.EINVAL:
			// EISDIR and EINVAL: a kernel older than O_TMPFILE (3.11).
			return nil, &os.PathError{Op: "open", Path: filepath.Dir(part), Err: errNoUnnamed}
		}
		return nil, &os.PathError{Op: "open", Path: filepath.Dir(part), Err: err}
	}
}

// linkUnnamed gives f, opened by openUnnamed, the name path, which must not
// exist: linkat(2) on the descriptor. Before Linux 6.10 that needs
// CAP_DAC_READ_SEARCH, and without it the kernel says ENOENT; the file's
// link in /proc/self/fd serves then.
func linkUnnamed(f *partFile, path string) error {
	err := unix.Linkat(f.fd, "", unix.AT_FDCWD, path, unix.AT_EMPTY_PATH)
	if err == unix.ENOENT || err == unix.EPERM {
		err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(f.fd), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	}
	if err != nil {
		return &os.LinkError{Op: "link", Old: f.name, New: path, Err: err}
	}
	return nil
}
