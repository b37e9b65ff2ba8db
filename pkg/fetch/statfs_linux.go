package fetch

import "syscall"

// outOfInodes tells whether the file system of dir has no free inode left:
// a "no space left on device" that no freed byte cures, only a removed
// file. False when that cannot be told, or the file system does not count
// inodes (Files is 0).
func outOfInodes(dir string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Files > 0 && st.Ffree == 0
}

// msdosMagic is the f_type that statfs(2) reports for vfat and msdos.
const msdosMagic = 0x4d44

// onFAT tells whether path is on a FAT file system (vfat), which keeps
// mtimes in even seconds; false when that cannot be told.
func onFAT(path string) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(path, &st) == nil && st.Type == msdosMagic
}
