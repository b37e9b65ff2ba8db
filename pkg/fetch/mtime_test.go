//go:build linux

package fetch

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestModTimeOutOfNanosecondRange: a Last-Modified (or a local file's
// mtime) before 1678 or after 2262, which a count of nanoseconds since 1970
// cannot hold, was set as a date that wrapped around: 9999 became 1816, 1600
// became 2184, and --on-exists newer then saw a file from 1816. The file gets
// the date, or the nearest one its file system can keep (ext4 with small
// inodes keeps 1901 to 2038): in the future for 9999, before 1970 for 1600.
func TestModTimeOutOfNanosecondRange(t *testing.T) {
	dates := []struct {
		name   string
		mtime  time.Time
		future bool
	}{
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), true},
		{"year 2300", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"year 1600", time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), false},
	}
	ways := []struct {
		name  string
		size  int
		split int
		local bool
	}{
		{name: "small body", size: 100},
		{name: "large body", size: 300 << 10},
		{name: "split body", size: 300 << 10, split: 2},
		{name: "local copy", size: 100, local: true},
	}
	for _, d := range dates {
		for _, w := range ways {
			t.Run(d.name+", "+w.name, func(t *testing.T) {
				dir := t.TempDir()
				body := payload(w.size, 7)
				item := ""
				if w.local {
					src := filepath.Join(dir, "src")
					if err := os.WriteFile(src, body, 0o644); err != nil {
						t.Fatal(err)
					}
					setModTimePathForTest(t, src, d.mtime)
					item = (&url.URL{Scheme: "file", Path: src}).String()
				} else {
					res := newResource(body, "")
					res.mod = d.mtime
					item = serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) { res.ServeHTTP(w, r) }).URL
				}
				cfg := testConfig()
				if w.split > 0 {
					cfg.Split, cfg.SplitMin = w.split, 1<<10
				}
				path := filepath.Join(dir, "out")
				if _, err := newClient(t, cfg).Fetch(context.Background(), request(item, path, nil)); err != nil {
					t.Fatal(err)
				}
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				got := fi.ModTime()
				if d.future && !got.After(time.Now()) || !d.future && !got.Before(time.Unix(0, 0)) {
					t.Errorf("mtime %v for a Last-Modified of %v", got.UTC(), d.mtime)
				}
			})
		}
	}
}

// setModTimePathForTest sets the mtime of path, failing the test when the
// file system cannot keep it at all.
func setModTimePathForTest(t *testing.T, path string, mtime time.Time) {
	t.Helper()
	ts, err := unix.TimeToTimespec(mtime) // not from UnixNano, which wraps
	if err != nil {
		t.Skipf("this system's time_t cannot hold %v", mtime)
	}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, []unix.Timespec{ts, ts}, 0); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.ModTime().After(time.Now()) != mtime.After(time.Now()) {
		t.Skipf("the file system of %s cannot keep %v", path, mtime)
	}
}

// TestStampSetsAccessTimeToo: a file system in user space built on the
// high-level libfuse 2 API (exfat-fuse, fusefat, as a USB stick is often
// mounted) ignores a change of the mtime alone, which is what utimensat(2)
// with the atime UTIME_OMIT asks for: every file fetched there had the time
// of its download, not its Last-Modified (`touch -m` fails there too).
// Stamped with the atime set to now, as wget does, and curl -R sets both
// too, the mtime holds there. Both ways of stamping set both times.
func TestStampSetsAccessTimeToo(t *testing.T) {
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		stamp func(t *testing.T, path string)
	}{
		{"through the descriptor", func(t *testing.T, path string) {
			f, err := openPartFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			setModTime(f, mtime)
		}},
		{"by path", func(t *testing.T, path string) { setModTimePath(path, mtime) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}
			before := time.Now().Add(-time.Minute)
			tt.stamp(t, path)
			var st syscall.Stat_t
			if err := syscall.Stat(path, &st); err != nil {
				t.Fatal(err)
			}
			if got := time.Unix(st.Mtim.Unix()); !got.Equal(mtime) {
				t.Errorf("mtime %v, want %v", got.UTC(), mtime)
			}
			if got := time.Unix(st.Atim.Unix()); got.Before(before) {
				t.Errorf("atime %v, want the time of the stamp, so that a change of the mtime alone is not asked for", got.UTC())
			}
		})
	}
}
