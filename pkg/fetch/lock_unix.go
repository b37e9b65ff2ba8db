//go:build unix && !aix

package fetch

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// partLock is a transfer's hold on its part: an open descriptor of the
// part with an exclusive flock(2) on it, and the part's identity (device
// and inode) when the lock was taken. flock locks belong to the open file
// description, not to the process: the part's own opens and closes for
// writing leave the lock alone, and a second Client in the same process
// conflicts like another process would.
//
// The zero value holds nothing.
type partLock struct {
	held     bool
	fd       int
	dev, ino uint64
	// exclusive tells that the flock was taken: false where the file
	// system cannot lock, and another process may hold the part too.
	exclusive bool
}

// lockAttempts bounds how often lockPart opens the path again after
// finding that the file it locked is no longer the one under the path.
const lockAttempts = 3

// lockPart opens the part at path (creating it, empty, when create is set)
// and locks it exclusively, without waiting. It fails with a
// *partBusyError when another process holds the lock, and with an error
// wrapping fs.ErrNotExist when there is no part and create is not set.
// Once locked, path must still name the file that was opened: its holder
// may have renamed or removed it in between, and a lock on that file
// would guard nothing (or, renamed into place, a finished file).
//
// A file system without flock support (ENOLCK from an NFS server without
// a lock manager, say) gives no lock; the part is then taken as before
// locking existed, and only the identity check before the rename is left.
func lockPart(path string, create bool) (partLock, error) {
	flag := os.O_RDONLY | noFollow // flock needs no write access
	if create {
		flag |= os.O_CREATE
	}
	for range lockAttempts {
		fd, err := openFD(path, flag, 0o644)
		if errors.Is(err, syscall.ELOOP) {
			return partLock{}, &os.PathError{Op: "open", Path: path, Err: errSymlink}
		}
		if err != nil {
			return partLock{}, err
		}
		l := partLock{held: true, fd: fd}
		locked, err := flock(fd)
		if err != nil {
			l.release()
			if err == unix.EWOULDBLOCK {
				return partLock{}, &partBusyError{part: path}
			}
			return partLock{}, &os.PathError{Op: "flock", Path: path, Err: err}
		}
		l.exclusive = locked
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			l.release()
			return partLock{}, &os.PathError{Op: "fstat", Path: path, Err: err}
		}
		l.dev, l.ino = uint64(st.Dev), uint64(st.Ino)
		if l.check(path) != nil {
			l.release() // the part went away under its holder: look again
			continue
		}
		if st.Nlink > 1 && st.Mode&unix.S_IFMT == unix.S_IFREG {
			// The part is a hard link of another file (a snapshot made
			// with cp -al, the destination itself): writing it would
			// write that file too. Its name is let go, the other file's
			// bytes left as they are, and a part of its own made (or,
			// without create, none found: the item starts over).
			err := unix.Unlink(path)
			l.release()
			if err != nil {
				return partLock{}, &os.PathError{Op: "remove", Path: path, Err: err}
			}
			continue
		}
		return l, nil
	}
	return partLock{}, &partBusyError{part: path}
}

// flock takes an exclusive lock on fd without waiting, and tells whether
// it did. A file system that cannot lock is no error (there is nothing
// more to be had there), but no lock either.
func flock(fd int) (bool, error) {
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.ENOLCK, err == unix.EOPNOTSUPP, err == unix.ENOTSUP, err == unix.ENOSYS:
			return false, nil
		}
		return err == nil, err
	}
}

// check tells whether path still names the locked file; a *partBusyError
// when something else is there now, or nothing. It is one lstat(2).
func (l *partLock) check(path string) error {
	if !l.held {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil || uint64(st.Dev) != l.dev || uint64(st.Ino) != l.ino {
		return &partBusyError{part: path, replaced: true}
	}
	return nil
}

// release lets the part go: closing the descriptor drops the lock.
func (l *partLock) release() {
	if l.held {
		_ = unix.Close(l.fd)
		*l = partLock{}
	}
}
