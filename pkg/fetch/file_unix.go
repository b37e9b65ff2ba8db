//go:build unix

package fetch

import (
	"errors"
	"io"
	"math"
	"os"
	"syscall"
)

// openFile opens path like os.OpenFile. On Linux, os.OpenFile tries to
// register every file it opens with the network poller, which a regular
// file refuses: five extra system calls per open. Opened this way, the file
// costs one open and one fcntl (in os.NewFile), and its reads and writes
// block the thread as they would anyway for a regular file.
func openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	fd, err := openFD(path, flag, perm)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openFD is open(2) with O_CLOEXEC, retried on EINTR, its error an
// *os.PathError like os.OpenFile's.
func openFD(path string, flag int, perm os.FileMode) (int, error) {
	for {
		fd, err := syscall.Open(path, flag|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if err == nil {
			return fd, nil
		}
		if err != syscall.EINTR {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
	}
}

// nonBlock makes the open of a sidecar to read return at once on a named
// pipe, which open(2) would otherwise wait on for a writer (ReadMeta).
const nonBlock = syscall.O_NONBLOCK

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

// partFile is an open part as a bare file descriptor. An *os.File costs,
// per open, an fcntl, a finalizer and a poller's bookkeeping, which a run
// of small files pays once per item; a part needs none of them: its reads
// and writes are positioned (pread, pwrite), safe from several goroutines
// at once (the ranges of a split), and block the thread as a regular
// file's would anyway.
type partFile struct {
	fd   int // -1 once closed
	name string
}

// noFollow makes an open of a file that fetchpool writes fail on a
// symbolic link (ELOOP) instead of following it, wherever it points.
const noFollow = syscall.O_NOFOLLOW

// openPartFile opens path like os.OpenFile, for a part; not through a
// symbolic link.
func openPartFile(path string, flag int, perm os.FileMode) (*partFile, error) {
	fd, err := openFD(path, flag|noFollow, perm)
	if errors.Is(err, syscall.ELOOP) {
		return nil, &os.PathError{Op: "open", Path: path, Err: errSymlink}
	}
	if err != nil {
		return nil, err
	}
	return &partFile{fd: fd, name: path}, nil
}

// Name is the path the file was opened with.
func (f *partFile) Name() string { return f.name }

// Fd is the file descriptor.
func (f *partFile) Fd() uintptr { return uintptr(f.fd) }

// WriteAt writes all of b at off, like os.File.WriteAt.
func (f *partFile) WriteAt(b []byte, off int64) (int, error) {
	done := 0
	for done < len(b) {
		n, err := syscall.Pwrite(f.fd, b[done:], off+int64(done))
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return done, &os.PathError{Op: "write", Path: f.name, Err: err}
		case n == 0:
			return done, &os.PathError{Op: "write", Path: f.name, Err: io.ErrShortWrite}
		}
		done += n
	}
	return done, nil
}

// ReadAt reads len(b) bytes at off, like os.File.ReadAt: fewer only with
// an error, io.EOF at the end of the file.
func (f *partFile) ReadAt(b []byte, off int64) (int, error) {
	done := 0
	for done < len(b) {
		n, err := syscall.Pread(f.fd, b[done:], off+int64(done))
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return done, &os.PathError{Op: "read", Path: f.name, Err: err}
		case n == 0:
			return done, io.EOF
		}
		done += n
	}
	return done, nil
}

// partSize is the size of f now (fstat).
func partSize(f *partFile) (int64, error) {
	var st syscall.Stat_t
	for {
		err := syscall.Fstat(f.fd, &st)
		if err == nil {
			return st.Size, nil
		}
		if err != syscall.EINTR {
			return 0, &os.PathError{Op: "stat", Path: f.name, Err: err}
		}
	}
}

// Truncate changes the size of the file.
func (f *partFile) Truncate(size int64) error {
	for {
		err := syscall.Ftruncate(f.fd, size)
		if err == nil {
			return nil
		}
		if err != syscall.EINTR {
			return &os.PathError{Op: "truncate", Path: f.name, Err: err}
		}
	}
}

// Close closes the file; a second Close returns os.ErrClosed.
func (f *partFile) Close() error {
	if f.fd < 0 {
		return &os.PathError{Op: "close", Path: f.name, Err: os.ErrClosed}
	}
	err := syscall.Close(f.fd)
	f.fd = -1
	if err != nil && err != syscall.EINTR { // after EINTR the descriptor is gone on Linux
		return &os.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

// hardLinked tells whether fi, of a file fetchpool is about to write,
// has other names: writing it would write those files too.
func hardLinked(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink > 1
}

// openFileLimit is the process's limit on open files (ulimit -n), or 0
// when it cannot be read or is larger than an int.
func openFileLimit() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > math.MaxInt32 {
		return 0
	}
	return int(lim.Cur)
}
