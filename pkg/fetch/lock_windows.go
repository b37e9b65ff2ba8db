package fetch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

// partLock is a transfer's hold on its part: a handle of the part that
// shares reading, writing and deletion (so the part's own opens, its
// rename into place and its removal go on as without it), with an
// exclusive byte-range lock (LockFileEx) on one byte far beyond any
// file's end, which no read or write ever touches; and the part as found
// when the lock was taken, to tell it from a file put under its name
// since. Windows locks belong to the handle: a second Client in the same
// process conflicts like another process would.
//
// The zero value holds nothing.
type partLock struct {
	held bool
	h    windows.Handle
	id   fileID // zero when it could not be read
	// exclusive tells that the lock was taken: false where the file
	// system cannot lock, and another process may hold the part too.
	exclusive bool
}

// lockOffset is where the locked byte is: past the end of any file that
// a file system can hold.
const lockOffset = 1<<63 - 2

// lockPart opens the part at path (creating it, empty, when create is set)
// and locks it exclusively, without waiting. It fails with a
// *partBusyError when another process holds the lock, and with an error
// wrapping fs.ErrNotExist when there is no part and create is not set. A
// file system that cannot lock gives no lock, and no error.
func lockPart(path string, create bool) (partLock, error) {
	p, err := windows.UTF16PtrFromString(longPath(path))
	if err != nil {
		return partLock{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	disposition := uint32(windows.OPEN_EXISTING)
	if create {
		disposition = windows.OPEN_ALWAYS
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		disposition, windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_BACKUP_SEMANTICS, 0) // a directory too, as os.Open does
	if err != nil {
		return partLock{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	l := partLock{held: true, h: h}
	ol := windows.Overlapped{Offset: lockOffset & 0xffffffff, OffsetHigh: lockOffset >> 32}
	err = windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	switch {
	case err == nil:
		l.exclusive = true
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION), errors.Is(err, windows.ERROR_IO_PENDING):
		l.release()
		return partLock{}, &partBusyError{part: path}
	}
	// Any other error is a file system without byte-range locks: the part
	// is taken as before locking existed, and only the identity check is
	// left.
	l.id, _ = idOf(h)
	return l, nil
}

// fileID is a file's identity: its volume and its index there.
type fileID struct{ vol, hi, lo uint32 }

// idOf is the identity of the file open as h.
func idOf(h windows.Handle) (fileID, error) {
	var d windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &d); err != nil {
		return fileID{}, err
	}
	return fileID{d.VolumeSerialNumber, d.FileIndexHigh, d.FileIndexLow}, nil
}

// idAt is the identity of the file under path itself (not a link's
// target).
func idAt(path string) (fileID, error) {
	p, err := windows.UTF16PtrFromString(longPath(path))
	if err != nil {
		return fileID{}, err
	}
	h, err := windows.CreateFile(p, 0, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_OPEN_REPARSE_POINT|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return fileID{}, err
	}
	defer windows.CloseHandle(h)
	return idOf(h)
}

// check tells whether path still names the locked file; a *partBusyError
// when something else is there now, or nothing.
func (l *partLock) check(path string) error {
	if !l.held || l.id == (fileID{}) {
		return nil
	}
	id, err := idAt(path)
	if err != nil || id != l.id {
		return &partBusyError{part: path, replaced: true}
	}
	return nil
}

// release lets the part go: closing the handle drops the lock.
func (l *partLock) release() {
	if l.held {
		_ = windows.CloseHandle(l.h)
		*l = partLock{}
	}
}

// longPath is path as CreateFile takes it when it is longer than MAX_PATH
// allows (248 bytes for a directory): absolute, with the \\?\ prefix, as
// package os makes it for its own opens, so that the part of a deep output
// directory is locked as it is written. A shorter path is left as it is.
func longPath(path string) string {
	if len(path) < 248 || strings.HasPrefix(path, `\\?\`) {
		return path
	}
	abs, err := filepath.Abs(path) // cleaned too: \\?\ paths are taken as they are
	if err != nil {
		return path
	}
	if strings.HasPrefix(abs, `\\`) {
		return `\\?\UNC\` + abs[2:]
	}
	return `\\?\` + abs
}
