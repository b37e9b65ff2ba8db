//go:build linux

package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSplitDiskFullLeavesNothing: a split that fills the disk leaves no
// file behind: no part, no sidecar, and no temporary sidecar
// (NAME.part.meta.tmp) from a save of the ranges' progress that found no
// room either. It needs the right to mount a 1 MiB tmpfs (root).
func TestSplitDiskFullLeavesNothing(t *testing.T) {
	body := payload(3<<20, 46)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		newResource(body, `"big"`).ServeHTTP(w, r)
	})
	for _, split := range []int{2, 4, 8} {
		t.Run(fmt.Sprintf("split %d", split), func(t *testing.T) {
			dir := t.TempDir()
			if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
				t.Skipf("cannot mount a tmpfs (%v); needs root", err)
			}
			t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
			cfg := testConfig()
			cfg.Split, cfg.SplitMin = split, 1<<10
			path := filepath.Join(dir, "big")
			_, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil))
			if !isDiskFull(err) {
				t.Fatalf("err = %v, want a full disk", err)
			}
			left, _ := os.ReadDir(dir)
			for _, e := range left {
				t.Errorf("%s left on the full disk", e.Name())
			}
		})
	}
}

// TestSplitTooLargeFailsFirst: a split file larger than the room left on
// the disk fails before a byte of it is fetched, saying how large it is:
// its part is pre-allocated (fallocate), as the spec says, not made a
// sparse file of the full size, which found the disk full only once it
// had been filled (on a disk with 1 GiB free, after 1 GiB of a 4 GiB
// download). Nothing is left behind.
func TestSplitTooLargeFailsFirst(t *testing.T) {
	body := payload(8<<20, 47)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		newResource(body, `"big"`).ServeHTTP(w, r)
	})
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v); needs root", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	cfg := testConfig()
	cfg.Split, cfg.SplitMin = 4, 1<<10
	path := filepath.Join(dir, "big")
	res, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil))
	if !isDiskFull(err) {
		t.Fatalf("err = %v, want a full disk", err)
	}
	if res.Bytes != 0 {
		t.Errorf("%d bytes fetched before the disk was found too small", res.Bytes)
	}
	if want := "8388608 bytes"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want the size it needs (%s)", err, want)
	}
	left, _ := os.ReadDir(dir)
	for _, e := range left {
		t.Errorf("%s left on the full disk", e.Name())
	}
}

// zeros is a ReaderAt of zero bytes, as long as asked.
type zeros struct{}

func (zeros) ReadAt(p []byte, _ int64) (int, error) {
	clear(p)
	return len(p), nil
}

// TestSplitLargerThanFileSystemAllows: a split file larger than the
// largest file its file system holds (EFBIG with no file size limit set:
// FAT32 holds 4 GiB, ext4 16 TiB) was told to raise ulimit -f, which
// changes nothing; it is told to save the file on another file system. It
// needs a file system whose largest file is under 17 TiB (ext4), and
// fetches nothing.
func TestSplitLargerThanFileSystemAllows(t *testing.T) {
	const size = 17 << 40
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", time.Time{}, io.NewSectionReader(zeros{}, 0, size))
	})
	dir := t.TempDir()
	probe, err := os.Create(filepath.Join(dir, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	err = probe.Truncate(size)
	probe.Close()
	os.Remove(probe.Name())
	if !errors.Is(err, syscall.EFBIG) {
		t.Skipf("%s holds a file of 17 TiB (%v): not ext4", dir, err)
	}
	cfg := testConfig()
	cfg.Split, cfg.SplitMin = 4, 1<<10
	path := filepath.Join(dir, "huge")
	res, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil))
	want := "file too large for the file system: " + path + ".part needs 18691697672192 bytes, more than a file there can hold"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if res.Bytes != 0 {
		t.Errorf("%d bytes fetched", res.Bytes)
	}
	assertGone(t, path, path+".part", path+".part.meta")
}
