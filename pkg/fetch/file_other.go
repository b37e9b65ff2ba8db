//go:build !unix

package fetch

import "os"

// noFollow is 0: this platform's open has no O_NOFOLLOW.
const noFollow = 0

// nonBlock is 0: this platform has no named pipes to wait on.
const nonBlock = 0

// openFile opens path like os.OpenFile.
func openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag, perm)
}

// renameFile renames a file like os.Rename.
func renameFile(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

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
