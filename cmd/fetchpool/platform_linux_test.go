package main

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// mountTmpfs mounts a tmpfs of the given size on dir, or skips the test.
func mountTmpfs(t *testing.T, dir, opts string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Skipf("cannot mount a tmpfs (%v); needs root", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
}

// fsSize is the size in bytes of the file system that holds path.
func fsSize(path string) (uint64, error) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(path, &fs); err != nil {
		return 0, err
	}
	return fs.Blocks * uint64(fs.Bsize), nil
}

// remountReadOnly makes the file system mounted on dir read-only.
func remountReadOnly(dir string) error {
	return syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, "")
}

// waitSize waits until the file name in dir holds at least size bytes,
// woken by inotify each time something in dir changes.
func waitSize(t *testing.T, dir, name string, size int64) {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	f := os.NewFile(uintptr(fd), "inotify")
	defer f.Close()
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_CREATE|syscall.IN_MODIFY|syscall.IN_MOVED_TO|syscall.IN_CLOSE_WRITE); err != nil {
		t.Fatalf("inotify watch of %s: %v", dir, err)
	}
	f.SetReadDeadline(time.Now().Add(eventually))
	buf := make([]byte, 64<<10)
	for {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err == nil && fi.Size() >= size {
			return
		}
		if _, err := f.Read(buf); err != nil {
			got := int64(-1)
			if fi != nil {
				got = fi.Size()
			}
			t.Fatalf("%s never reached %d bytes (has %d): %v", name, size, got, err)
		}
	}
}

// openTerminal opens a pseudo-terminal of the given size with the standard
// library alone: the master side, and the terminal a child process gets.
func openTerminal(rows, cols uint16) (ptmx, tty *os.File, err error) {
	ptmx, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	var unlock int32
	var n uint32
	size := [4]uint16{rows, cols, 0, 0}
	for _, c := range []struct {
		req uintptr
		arg unsafe.Pointer
	}{{syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)}, {syscall.TIOCGPTN, unsafe.Pointer(&n)}, {syscall.TIOCSWINSZ, unsafe.Pointer(&size)}} {
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), c.req, uintptr(c.arg)); errno != 0 {
			ptmx.Close()
			return nil, nil, errno
		}
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		ptmx.Close()
		return nil, nil, err
	}
	return ptmx, tty, nil
}
