package fetch

import (
	"errors"
	"io/fs"
	"os"
)

// renameIfFree renames oldpath to newpath when nothing is at newpath, and
// fails with an error wrapping fs.ErrExist otherwise: renameNoReplace
// where the system cannot do it in one step.
func renameIfFree(oldpath, newpath string) error {
	if _, err := os.Lstat(newpath); !errors.Is(err, fs.ErrNotExist) {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrExist}
	}
	return renameFile(oldpath, newpath)
}
