//go:build linux

package fetch

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDiskFull fills a 1 MiB tmpfs (as root) and checks that the item
// fails at once with a clear message, leaving neither part nor sidecar: a
// part this run started from zero makes room for the rest of the batch
// (a part of an earlier run is kept: TestDiskFullKeepsResumedPart).
// Without the right to mount, it runs the same check in a child process
// whose file size limit (RLIMIT_FSIZE) makes writes fail with EFBIG.
func TestDiskFull(t *testing.T) {
	if os.Getenv("FETCH_DISKFULL_CHILD") != "" {
		diskFullCheck(t, os.Getenv("FETCH_DISKFULL_CHILD"))
		return
	}
	dir := t.TempDir()
	if os.Getenv("FETCH_DISKFULL_RLIMIT") != "" {
		t.Log("FETCH_DISKFULL_RLIMIT set: not mounting")
	} else if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err == nil {
		t.Cleanup(func() { syscall.Unmount(dir, 0) })
		diskFullCheck(t, dir)
		return
	}
	t.Log("cannot mount a tmpfs; using RLIMIT_FSIZE in a child process")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFull$", "-test.v")
	cmd.Env = append(os.Environ(), "FETCH_DISKFULL_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "file size limit reached writing") {
		t.Fatalf("child did not reach its file size limit:\n%s", out)
	}
}

func diskFullCheck(t *testing.T, dir string) {
	if os.Getenv("FETCH_DISKFULL_CHILD") != "" {
		lim := &syscall.Rlimit{Cur: 1 << 20, Max: 1 << 20}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, lim); err != nil {
			t.Fatalf("setrlimit: %v", err)
		}
	}
	body := payload(3<<20, 30)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		newResource(body, `"big"`).ServeHTTP(w, r)
	})
	for _, split := range []int{1, 4} {
		cfg := testConfig()
		cfg.Split, cfg.SplitMin = split, 1<<10
		path := filepath.Join(dir, "big")
		before := rc.count()
		_, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL, path, nil))
		if err == nil {
			t.Fatalf("split %d: 3 MiB fit on a 1 MiB disk", split)
		}
		want := "disk full writing " + path + ".part: no space left on device; free some space and run again"
		if split > 1 {
			// Found as the part is allocated, before any byte: TestSplitTooLargeFailsFirst.
			want = "disk full: " + path + ".part needs 3145728 bytes (the whole file, reserved before the ranges start), more than the disk has free; free some space and run again"
		}
		if errors.Is(err, syscall.EFBIG) {
			want = "file size limit reached writing " + path + ".part: file too large; raise the file size limit (ulimit -f) and run again"
		}
		if !strings.HasSuffix(err.Error(), want) {
			t.Errorf("split %d: err = %v\nwant it to end with %q", split, err, want)
		}
		if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EFBIG) {
			t.Errorf("split %d: err = %v, want ENOSPC or EFBIG inside", split, err)
		}
		t.Logf("split %d: %v", split, err)
		if split == 1 && rc.count()-before != 1 {
			t.Errorf("%d requests: a full disk is not retried", rc.count()-before)
		}
		assertGone(t, path, path+".part", path+".part.meta")
	}
}

// TestNoFreeInodes: a file system with room for bytes but none for another
// file (every inode taken: many small files) fails the item saying so,
// not "free some space", which df -h shows there is. It needs root, to
// mount a tmpfs with few inodes.
func TestNoFreeInodes(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m,nr_inodes=4"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	for i := 0; ; i++ {
		f, err := os.Create(filepath.Join(dir, "filler"+string(rune('a'+i))))
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil || i > 10 {
			t.Fatalf("filling the inodes: %v (%d files)", err, i)
		}
		f.Close()
	}
	body := payload(16<<10, 54)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		newResource(body, `"i"`).ServeHTTP(w, r)
	})
	path := filepath.Join(dir, "f")
	_, err := newClient(t, testConfig()).Fetch(context.Background(), request(srv.URL+"/f", path, nil))
	want := "disk full writing " + path + ".part: no free inodes (the file system has room for no more files: see df -i); remove some files and run again"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("err = %v, want ENOSPC inside", err)
	}
}
