package fetch

import (
	"os"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames oldpath to newpath unless something is at
// newpath, in one step (renamex_np with RENAME_EXCL): a file that another
// process puts there at the same moment is never replaced. It fails with
// an error wrapping fs.ErrExist when newpath is taken. A file system that
// cannot do it in one step is checked first, then renamed.
func renameNoReplace(oldpath, newpath string) error {
	for {
		err := unix.RenamexNp(oldpath, newpath, unix.RENAME_EXCL)
		switch err {
		case nil:
			return nil
		case unix.EINTR:
			continue
		case unix.EINVAL, unix.ENOTSUP:
			return renameIfFree(oldpath, newpath)
		}
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
}
