package fetch

import (
	"math"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// writeETag stores etag on path, best effort: a file system without user
// extended attributes just loses the ETag, and `newer` falls back to the
// mtime.
func writeETag(path, etag string) {
	if etag == "" {
		return
	}
	_ = syscall.Setxattr(path, etagAttr, []byte(etag), 0)
}

// setETag is writeETag on an open file: fsetxattr(2), with no path to look
// up and nothing to allocate. The kernel only reads the name and the value,
// so they are passed straight from their strings.
func setETag(f *partFile, etag string) {
	if etag == "" {
		return
	}
	const name = etagAttr + "\x00"
	_, _, _ = syscall.Syscall6(syscall.SYS_FSETXATTR, f.Fd(),
		uintptr(unsafe.Pointer(unsafe.StringData(name))),
		uintptr(unsafe.Pointer(unsafe.StringData(etag))), uintptr(len(etag)), 0, 0)
}

// modTimes is the pair of times utimensat(2) sets for mtime: the atime
// now, as wget sets it, and the mtime. Both, because a file system in user
// space on the high-level libfuse 2 API (exfat-fuse, fusefat) ignores a
// change of the mtime alone (an atime of UTIME_OMIT), as it does `touch -m`.
// The mtime is made from its seconds, not from UnixNano, which cannot hold
// a date before 1678 or after 2262 (os.Chtimes wraps 9999 to 1816); a date
// that a 32-bit time_t cannot hold becomes the nearest one it can, as a file
// system does with a date beyond its own range.
func modTimes(mtime time.Time) [2]unix.Timespec {
	m, err := unix.TimeToTimespec(mtime)
	if err != nil {
		m = unix.Timespec{Sec: math.MaxInt32}
		if mtime.Unix() < 0 {
			m = unix.Timespec{Sec: math.MinInt32}
		}
	}
	return [2]unix.Timespec{{Nsec: unix.UTIME_NOW}, m}
}

// setModTime sets the mtime of an open file, best effort (see modTimes):
// utimensat(2) on the descriptor itself (a NULL path), with no path to
// look up.
func setModTime(f *partFile, mtime time.Time) {
	ts := modTimes(mtime)
	_, _, _ = syscall.Syscall6(syscall.SYS_UTIMENSAT, f.Fd(), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
}

// setModTimePath sets the mtime of path, best effort, as setModTime does.
func setModTimePath(path string, mtime time.Time) {
	ts := modTimes(mtime)
	_ = unix.UtimesNanoAt(unix.AT_FDCWD, path, ts[:], 0)
}
