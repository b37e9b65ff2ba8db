//go:build unix

package fetch

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestPartFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.part")
	f, err := openPartFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name() != path {
		t.Errorf("Name() = %q, want %q", f.Name(), path)
	}
	if n, err := f.WriteAt([]byte("world"), 6); n != 5 || err != nil {
		t.Fatalf("WriteAt = %d, %v", n, err)
	}
	if n, err := f.WriteAt([]byte("hello "), 0); n != 6 || err != nil {
		t.Fatalf("WriteAt = %d, %v", n, err)
	}
	buf := make([]byte, 8)
	if n, err := f.ReadAt(buf, 3); n != 8 || err != nil || string(buf) != "lo world" {
		t.Errorf("ReadAt = %d, %v, %q", n, err, buf)
	}
	if n, err := f.ReadAt(buf, 6); n != 5 || err != io.EOF || string(buf[:n]) != "world" {
		t.Errorf("ReadAt at the end = %d, %v, %q; want 5, EOF", n, err, buf[:n])
	}
	if err := f.Truncate(5); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close = %v, want os.ErrClosed", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "hello" {
		t.Errorf("file holds %q, want %q", got, "hello")
	}
	if _, err := openPartFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, os.ErrExist) {
		t.Errorf("O_EXCL on an existing file: %v, want ErrExist", err)
	}
	ro, err := openPartFile(path, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var pe *os.PathError
	if _, err := ro.WriteAt([]byte("x"), 0); !errors.As(err, &pe) || !errors.Is(err, syscall.EBADF) || pe.Path != path {
		t.Errorf("WriteAt on a read-only file = %v, want a PathError naming %s with EBADF", err, path)
	}
}

// TestSymlinkNotWrittenThrough: a part or sidecar that is a symbolic link
// (which could point anywhere, outside the output directory too) is never
// written through. A linked part fails the item with a clear reason and
// nothing lands under the final name; a linked sidecar, which does not
// parse, is dropped like any other and the download goes on. What the link
// points to is left as it was.
func TestSymlinkNotWrittenThrough(t *testing.T) {
	for _, tt := range []struct {
		name    string
		size    int    // a body over one copy buffer writes its sidecar first
		link    string // the suffix of the link after the path
		noMeta  bool
		wantErr bool
	}{
		{"the part", 1 << 10, ".part", false, true},
		{"the part, no sidecar expected", 1 << 10, ".part", true, true},
		{"a large part", 1 << 20, ".part", false, true},
		{"the sidecar", 1 << 20, ".part.meta", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := payload(tt.size, 21)
			res := newResource(body, `"s"`)
			srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) { res.ServeHTTP(w, r) })
			dir := t.TempDir()
			victim := filepath.Join(dir, "victim")
			if err := os.WriteFile(victim, []byte("VICTIM"), 0o644); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "out", "f")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(victim, path+tt.link); err != nil {
				t.Fatal(err)
			}
			req := request(srv.URL, path, nil)
			req.NoSidecar = tt.noMeta
			_, err := newClient(t, testConfig()).Fetch(context.Background(), req)
			if tt.wantErr {
				want := "writing " + path + tt.link + ": is a symbolic link, which fetchpool does not write through"
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v\nwant it to say %q", err, want)
				}
				assertGone(t, path)
			} else {
				if err != nil {
					t.Fatal(err)
				}
				assertDone(t, path, body)
			}
			if got, _ := os.ReadFile(victim); string(got) != "VICTIM" {
				t.Errorf("the link's target was written: %d bytes now", len(got))
			}
		})
	}
}

// TestLocalNotRegular: a FIFO, a device or a broken symbolic link as an
// item fails at once, named, in the dry run's words too. A FIFO with no
// writer hung the run for ever, past Ctrl-C; /dev/zero filled the disk,
// then said "free some space and run again"; a broken link read "no such
// file" as if the link were not there.
func TestLocalNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "gone"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ item, want string }{
		{dangling, dangling + " is a broken symbolic link: " + filepath.Join(dir, "gone") + " does not exist"},
		{fifo, fifo + " is a named pipe, not a regular file: only regular files are copied"},
		{"file://" + fifo, fifo + " is a named pipe, not a regular file: only regular files are copied"},
		{"/dev/zero", "/dev/zero is a device, not a regular file: only regular files are copied"},
	} {
		if err := CheckSource(tt.item); err == nil || err.Error() != tt.want {
			t.Errorf("CheckSource(%q) = %v, want %q", tt.item, err, tt.want)
		}
		out := filepath.Join(t.TempDir(), "out")
		done := make(chan error, 1)
		go func() {
			_, err := newClient(t, testConfig()).Fetch(context.Background(), request(tt.item, out, nil))
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || err.Error() != tt.want {
				t.Errorf("Fetch(%q) = %v, want %q", tt.item, err, tt.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Fetch(%q) still running after 5s", tt.item)
		}
		assertGone(t, out, out+".part")
	}
}

// TestLocalUnreadable: a file the user may not read fails naming it once,
// with the reason and what to check (it read "opening P: open P:
// permission denied").
func TestLocalUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	src := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(src, []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	want := "cannot read " + src + ": permission denied (check its permissions, and those of its directories)"
	out := filepath.Join(t.TempDir(), "out")
	_, err := newClient(t, testConfig()).Fetch(context.Background(), request(src, out, nil))
	if err == nil || err.Error() != want {
		t.Errorf("Fetch = %v, want %q", err, want)
	}
	if err := CheckSource(src); err == nil || err.Error() != want {
		t.Errorf("CheckSource = %v, want %q", err, want)
	}
	assertGone(t, out, out+".part")
}

// TestSidecarWriteOnAPipe: a named pipe where a sidecar or its temporary
// file is written fails the write at once, instead of waiting for ever in
// open(2) for a reader (a split transfer saves its progress through
// NAME.part.meta.tmp every second).
func TestSidecarWriteOnAPipe(t *testing.T) {
	part := filepath.Join(t.TempDir(), "f.part")
	if err := syscall.Mkfifo(part+".meta.tmp", 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- writeMeta(part, Meta{URL: "http://a.test/f", Length: 1}) }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("writeMeta through a named pipe succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("writeMeta hung on a named pipe")
	}
}
