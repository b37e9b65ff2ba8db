//go:build freebsd || netbsd

package fetch

import "golang.org/x/sys/unix"

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
