//go:build !unix

package fetch

// fileSizeLimited reports false: this platform has no file size limit of
// the process, and an EFBIG comes from the file system.
func fileSizeLimited() bool { return false }
