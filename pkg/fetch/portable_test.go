package fetch

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests in this file are of what every platform must do alike, the
// fallbacks (lock_other.go, file_other.go ...) as the Unix and Linux code.

// TestLockPartWithoutPart: lockPart fails with fs.ErrNotExist when there is
// no part and create is not set, and makes an empty one when it is. The
// fallback without flock (Windows) held a part that was not there, and
// --on-exists newer then told of a stale part it had removed, for every
// file not modified on the server.
func TestLockPartWithoutPart(t *testing.T) {
	part := filepath.Join(t.TempDir(), "f.part")
	if l, err := lockPart(part, false); !errors.Is(err, fs.ErrNotExist) {
		l.release()
		t.Fatalf("lockPart of no part, create not set: %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Lstat(part); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("lockPart made a part without create: %v", err)
	}
	l, err := lockPart(part, true)
	if err != nil {
		t.Fatalf("lockPart with create: %v", err)
	}
	if !l.held {
		t.Error("lockPart with create holds nothing")
	}
	l.release()
	if fi, err := os.Lstat(part); err != nil || fi.Size() != 0 {
		t.Fatalf("lockPart with create: %v, want an empty part", err)
	}
	l, err = lockPart(part, false)
	if err != nil || !l.held {
		t.Fatalf("lockPart of the part made: %v, held %v", err, l.held)
	}
	l.release()
}

// TestNotNewerWithoutPartRemovesNothing: a file that the server has not
// modified is skipped without a word of a removed part when there was none.
func TestNotNewerWithoutPartRemovesNothing(t *testing.T) {
	mod := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC) // newResource's Last-Modified
	res := newResource(payload(100, 3), "")
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) { res.ServeHTTP(w, r) })
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("the local copy"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, time.Time{}, mod); err != nil {
		t.Fatal(err)
	}
	req := request(srv.URL+"/f", path, nil)
	req.IfNewer = true
	got, err := newClient(t, testConfig()).Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Skipped || got.HTTPStatus != http.StatusNotModified || got.StaleRemoved {
		t.Errorf("%+v; want skipped on a 304, and no part said removed: there was none", got)
	}
	assertGone(t, path+".part", path+".part.meta")
}

// TestPlaceErrorDirectoryInTheWay: a directory where the whole part is to
// be renamed is named with what to do, whatever the system's word for it:
// Linux says EISDIR, Windows only "access denied" (which is told apart by
// looking at the destination).
func TestPlaceErrorDirectoryInTheWay(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		dest    string
		err     error
		wantDir bool
	}{
		{"EISDIR", sub, syscall.EISDIR, true},
		{"access denied of a directory (Windows)", sub, fs.ErrPermission, true},
		{"access denied of a file", file, fs.ErrPermission, false},
		{"nothing there", filepath.Join(dir, "gone"), fs.ErrNotExist, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			part := tt.dest + ".part"
			err := placeError(part, tt.dest, &os.LinkError{Op: "rename", Old: part, New: tt.dest, Err: tt.err})
			var pd *placeDirError
			if errors.As(err, &pd) != tt.wantDir {
				t.Errorf("placeError = %v; a directory in the way: %v, want %v", err, !tt.wantDir, tt.wantDir)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("placeError = %v, does not wrap %v", err, tt.err)
			}
			if tt.wantDir && !strings.Contains(err.Error(), "is a directory; "+part+" is kept whole: move the directory away and run again") {
				t.Errorf("placeError = %q, says not what to do", err)
			}
		})
	}
}

// TestPlaceErrorNameRefused: a name that the file system refuses when the
// whole part is renamed to it (a Content-Disposition name with a ':' on
// vfat or exfat, where the part has the URL's name) is said to be that,
// with what to do; it read "rename x.part a:b.txt: no such file or
// directory" (exfat-fuse) or "invalid argument" (the kernel's vfat).
func TestPlaceErrorNameRefused(t *testing.T) {
	dir := t.TempDir()
	part := filepath.Join(dir, "x.part")
	if err := os.WriteFile(part, []byte("whole"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		part     string
		err      error
		wantName bool
	}{
		{"EINVAL (vfat, exfat)", part, syscall.EINVAL, true},
		{"ENOENT with the part there (exfat-fuse)", part, syscall.ENOENT, true},
		{"ENOENT without the part", filepath.Join(dir, "gone.part"), syscall.ENOENT, false},
		{"EACCES", part, syscall.EACCES, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dest := filepath.Join(dir, "a:b.txt")
			err := placeError(tt.part, dest, &os.LinkError{Op: "rename", Old: tt.part, New: dest, Err: tt.err})
			var pn *placeNameError
			if errors.As(err, &pn) != tt.wantName {
				t.Fatalf("placeError = %v; a refused name: %v, want %v", err, !tt.wantName, tt.wantName)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("placeError = %v, does not wrap %v", err, tt.err)
			}
			want := "moving " + tt.part + " into place as " + dest + ": " + tt.err.Error() +
				`: the file system does not take this name (FAT and exFAT refuse \ : * ? " < > | in names); the download is in ` + tt.part +
				": give the item a name of its own (URL<TAB>NAME) or save it on another file system"
			if tt.wantName && err.Error() != want {
				t.Errorf("placeError =\n%s\nwant\n%s", err, want)
			}
		})
	}
}

// TestRenameOverReadOnlyFile: a whole part replaces a read-only file, as
// rename(2) lets it; Windows refuses to replace a read-only file, and
// --on-exists overwrite or newer of one failed "access denied" there.
func TestRenameOverReadOnlyFile(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "tool.exe")
	if err := os.WriteFile(dest, []byte("old"), 0o444); err != nil {
		t.Fatal(err)
	}
	part := dest + ".part"
	if err := os.WriteFile(part, []byte("new"), 0o444); err != nil { // keepMode made it so
		t.Fatal(err)
	}
	if err := renameFile(part, dest); err != nil {
		t.Fatalf("renameFile over a read-only file: %v", err)
	}
	if got := mustFile(t, dest); string(got) != "new" {
		t.Errorf("%s holds %q, want %q", dest, got, "new")
	}
	assertGone(t, part)
	if err := os.Chmod(dest, 0o644); err != nil { // for TempDir's cleanup on Windows
		t.Fatal(err)
	}
}
