//go:build !linux

package fetch

// outOfInodes reports false: inodes are not looked at on this platform.
func outOfInodes(string) bool { return false }

// fileSizeLimited reports true: the file size limit is not looked at on
// this platform, and an EFBIG is said to come from it.
func fileSizeLimited() bool { return true }

// onFAT reports false: the file system is not looked at on this platform.
func onFAT(string) bool { return false }
