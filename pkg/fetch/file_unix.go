//go:build unix

package fetch

import (
	"os"
	"syscall"
)

// openFile opens path like os.OpenFile. On Linux, os.OpenFile tries to
// register every file it opens with the network poller, which a regular
// file refuses: five extra system calls per open. Opened this way, the file
// costs one open and one fcntl (in os.NewFile), and its reads and writes
// block the thread as they would anyway for a regular file.
func openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, flag|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if err == nil {
			return os.NewFile(uintptr(fd), path), nil
		}
		if err != syscall.EINTR {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
	}
}

// renameFile renames a file like os.Rename, without the Lstat of newpath
// that os.Rename makes first to refuse a directory there: rename(2) refuses
// to put a file over a directory by itself (EISDIR).
func renameFile(oldpath, newpath string) error {
	for {
		err := syscall.Rename(oldpath, newpath)
		if err == nil {
			return nil
		}
		if err != syscall.EINTR {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
		}
	}
}
