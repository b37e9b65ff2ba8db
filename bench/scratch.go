package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// scratch is where the downloads go: a tmpfs when possible, so that the disk
// is not what is measured.
type scratch struct {
	dir     string
	note    string
	mounted bool
}

// newScratch mounts a tmpfs of the given size on a new temporary directory
// (as root), or else uses /dev/shm, or else a temporary directory on disk.
func newScratch(size string) (*scratch, error) {
	dir, err := os.MkdirTemp("", "fetchpool-bench-")
	if err != nil {
		return nil, fmt.Errorf("making the scratch directory: %w", err)
	}
	if os.Geteuid() == 0 {
		err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0755")
		if err == nil {
			return &scratch{dir: dir, mounted: true, note: fmt.Sprintf("downloads go to a tmpfs (size=%s) mounted at %s", size, dir)}, nil
		}
		defer os.Remove(dir)
		return fallbackScratch(fmt.Sprintf("mounting a tmpfs failed (%v)", err))
	}
	defer os.Remove(dir)
	return fallbackScratch("not root, no tmpfs mounted")
}

func fallbackScratch(why string) (*scratch, error) {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "fetchpool-bench-"); err == nil {
			return &scratch{dir: dir, note: why + "; downloads go to " + dir + " (tmpfs)"}, nil
		}
	}
	dir, err := os.MkdirTemp("", "fetchpool-bench-")
	if err != nil {
		return nil, fmt.Errorf("making the scratch directory: %w", err)
	}
	return &scratch{dir: dir, note: why + "; WARNING: downloads go to " + dir + ", which may be a disk, not a tmpfs"}, nil
}

// path is a name inside the scratch directory.
func (s *scratch) path(name ...string) string {
	return filepath.Join(append([]string{s.dir}, name...)...)
}

// Close removes everything and unmounts the tmpfs.
func (s *scratch) Close() error {
	if s.mounted {
		if err := syscall.Unmount(s.dir, 0); err != nil {
			_ = syscall.Unmount(s.dir, syscall.MNT_DETACH)
		}
		return os.Remove(s.dir)
	}
	return os.RemoveAll(s.dir)
}
