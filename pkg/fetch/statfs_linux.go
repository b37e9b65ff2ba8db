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
