package fetch

import "golang.org/x/sys/unix"

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
