package fetch

import "syscall"

// etagAttr is the extended attribute that keeps a file's ETag for
// --on-exists newer, so no extra file litters the output directory.
const etagAttr = "user.fetchpool.etag"

// writeETag stores etag on path, best effort: a file system without user
// extended attributes just loses the ETag, and `newer` falls back to the
// mtime.
func writeETag(path, etag string) {
	if etag == "" {
		return
	}
	_ = syscall.Setxattr(path, etagAttr, []byte(etag), 0)
}

// readETag returns the ETag stored on path, or "".
func readETag(path string) string {
	var buf [512]byte
	n, err := syscall.Getxattr(path, etagAttr, buf[:])
	if err != nil || n <= 0 || n > len(buf) {
		return ""
	}
	return string(buf[:n])
}
