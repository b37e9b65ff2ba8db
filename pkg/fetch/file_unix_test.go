//go:build unix

package fetch

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
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
