//go:build !linux && !darwin

package fetch

// renameNoReplace renames oldpath to newpath unless something is at
// newpath; it fails with an error wrapping fs.ErrExist when newpath is
// taken. Here that is checked first, then renamed: a file put there by
// another process between the two is replaced.
func renameNoReplace(oldpath, newpath string) error { return renameIfFree(oldpath, newpath) }
