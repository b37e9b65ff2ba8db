package fetch

import "golang.org/x/sys/unix"

// etagAttr is the extended attribute that keeps a file's ETag for
// --on-exists newer, so no extra file litters the output directory.
const etagAttr = "user.fetchpool.etag"

// writeETag stores etag on path, best effort: a file system without
// extended attributes just loses the ETag, and `newer` falls back to the
// mtime. XATTR_NODEFAULT keeps macOS from keeping the attribute in a
// "._NAME" file beside the file where the file system has none of its own
// (FAT, exFAT, SMB shares).
func writeETag(path, etag string) {
	if etag == "" {
		return
	}
	_ = unix.Setxattr(path, etagAttr, []byte(etag), unix.XATTR_NODEFAULT)
}

// setETag is writeETag on an open file, by its name: fsetxattr through
// x/sys/unix passes no options, and would make the "._NAME" file.
func setETag(f *partFile, etag string) { writeETag(f.Name(), etag) }

// readETag returns the ETag stored on path, or "".
func readETag(path string) string {
	var buf [512]byte
	n, err := unix.Getxattr(path, etagAttr, buf[:])
	if err != nil || n <= 0 || n > len(buf) {
		return ""
	}
	return string(buf[:n])
}
