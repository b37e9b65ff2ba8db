//go:build !linux

package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// This file stands in for platform_linux_test.go where there are no tmpfs
// mounts, inotify or Linux pseudo-terminals: the tests that need them skip,
// and the rest compile and run.

// mountTmpfs skips the test: mounting a tmpfs is Linux's.
func mountTmpfs(t *testing.T, dir, opts string) {
	t.Helper()
	t.Skip("mounting a tmpfs needs Linux")
}

// fsSize fails: the file system's size is not looked at here.
func fsSize(path string) (uint64, error) { return 0, errors.ErrUnsupported }

// remountReadOnly fails: remounting is Linux's.
func remountReadOnly(dir string) error { return errors.ErrUnsupported }

// waitSize waits until the file name in dir holds at least size bytes,
// looking every few milliseconds.
func waitSize(t *testing.T, dir, name string, size int64) {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err == nil && fi.Size() >= size {
			return
		}
		if time.Now().After(deadline) {
			got := int64(-1)
			if fi != nil {
				got = fi.Size()
			}
			t.Fatalf("%s never reached %d bytes (has %d)", name, size, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openTerminal fails: the pseudo-terminal is opened the Linux way only.
func openTerminal(rows, cols uint16) (ptmx, tty *os.File, err error) {
	return nil, nil, errors.ErrUnsupported
}
