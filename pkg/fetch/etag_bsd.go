//go:build freebsd || netbsd

package fetch

import "golang.org/x/sys/unix"

// etagAttr is the extended attribute that keeps a file's ETag for
// --on-exists newer, so no extra file litters the output directory: an
// attribute of the user namespace (extattr(2)).
const etagAttr = "user.fetchpool.etag"

// writeETag stores etag on path, best effort: a file system without
// extended attributes just loses the ETag, and `newer` falls back to the
// mtime.
func writeETag(path, etag string) {
	if etag == "" {
		return
	}
	_ = unix.Setxattr(path, etagAttr, []byte(etag), 0)
}

// setETag is writeETag on an open file.
func setETag(f *partFile, etag string) {
	if etag == "" {
		return
	}
	_ = unix.Fsetxattr(f.fd, etagAttr, []byte(etag), 0)
}

// readETag returns the ETag stored on path, or "".
func readETag(path string) string {
	var buf [512]byte
	n, err := unix.Getxattr(path, etagAttr, buf[:])
	if err != nil || n <= 0 || n > len(buf) {
		return ""
	}
	return string(buf[:n])
}
