//go:build darwin || freebsd

package fetch

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// outOfInodes tells whether the file system of dir has no free inode left:
// a "no space left on device" that no freed byte cures, only a removed
// file. False when that cannot be told, or the file system does not count
// inodes (Files is 0).
func outOfInodes(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Files > 0 && st.Ffree == 0
}

// onFAT tells whether path is on a FAT file system (msdos on macOS,
// msdosfs on FreeBSD), which keeps mtimes in even seconds: a USB stick,
// most often. False when that cannot be told.
func onFAT(path string) bool {
	var st unix.Statfs_t
	if unix.Statfs(path, &st) != nil {
		return false
	}
	name := unix.ByteSliceToString(st.Fstypename[:])
	if runtime.GOOS == "darwin" {
		return name == "msdos"
	}
	return name == "msdosfs"
}
