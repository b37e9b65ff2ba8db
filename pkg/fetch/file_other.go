//go:build !unix

package fetch

import (
	"errors"
	"io/fs"
	"os"
)

// noFollow is 0: this platform's open has no O_NOFOLLOW.
const noFollow = 0

// nonBlock is 0: this platform has no named pipes to wait on.
const nonBlock = 0

// openFile opens path like os.OpenFile.
func openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag, perm)
}

// renameFile renames a file like os.Rename, also over a read-only file,
// as rename(2) does: Windows refuses to replace one ("access denied"), and
// a file made read-only (which the part that replaces it keeps, see
// keepMode) could not be replaced with --on-exists overwrite or newer.
func renameFile(oldpath, newpath string) error {
	err := os.Rename(oldpath, newpath)
	if err == nil || !errors.Is(err, fs.ErrPermission) {
		return err
	}
	fi, serr := os.Lstat(newpath)
	if serr != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o200 != 0 {
		return err
	}
	if os.Chmod(newpath, fi.Mode().Perm()|0o200) != nil {
		return err
	}
	if err := os.Rename(oldpath, newpath); err != nil {
		_ = os.Chmod(newpath, fi.Mode().Perm())
		return err
	}
	return nil
}

// partFile is an open part.
type partFile = os.File

// partSize is the size of f now.
func partSize(f *partFile) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// openPartFile opens path like os.OpenFile, for a part.
func openPartFile(path string, flag int, perm os.FileMode) (*partFile, error) {
	return os.OpenFile(path, flag, perm)
}

// hardLinked is false: this platform's FileInfo does not count links.
func hardLinked(os.FileInfo) bool { return false }

// openFileLimit is 0: this platform's limit on open files is not read.
func openFileLimit() int { return 0 }
