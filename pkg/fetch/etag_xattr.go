//go:build linux || darwin || freebsd || netbsd

package fetch

import "golang.org/x/sys/unix"

// etagAttr is the extended attribute that keeps a file's ETag for
// --on-exists newer, so no extra file litters the output directory (on
// FreeBSD and NetBSD, an attribute of the user namespace: extattr(2)).
const etagAttr = "user.fetchpool.etag"

// readETag returns the ETag stored on path, or "".
func readETag(path string) string {
	var buf [512]byte
	n, err := unix.Getxattr(path, etagAttr, buf[:])
	if err != nil || n <= 0 || n > len(buf) {
		return ""
	}
	return string(buf[:n])
}
