package fetch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLocalCopy(t *testing.T) {
	dir := t.TempDir()
	body := payload(300<<10, 20)
	src := filepath.Join(dir, "src.bin")
	if err := os.WriteFile(src, body, 0o644); err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
	os.Chtimes(src, mod, mod)
	fileURL := (&url.URL{Scheme: "file", Path: src}).String()

	for _, tt := range []struct{ name, item string }{
		{"path", src},
		{"file URL", fileURL},
		{"file://localhost URL", "file://localhost" + src},
		// Taken by the input as a file URL, it failed "no such file: file:/...".
		{"file:/PATH URL", "file:" + src},
		{"FILE:/PATH URL", "FILE:" + src},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "copy.bin")
			req := request(tt.item, out, nil)
			req.SHA256 = sum(body)
			res, err := newClient(t, testConfig()).Fetch(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			assertDone(t, out, body)
			if res.SHA256 != sum(body) || res.Bytes != int64(len(body)) || res.Size != int64(len(body)) || res.HTTPStatus != 0 {
				t.Errorf("Result %+v", res)
			}
			if req.Progress.Done() != int64(len(body)) || req.Progress.Total() != int64(len(body)) {
				t.Errorf("progress %d/%d", req.Progress.Done(), req.Progress.Total())
			}
			if fi, _ := os.Stat(out); !fi.ModTime().Equal(mod) {
				t.Errorf("mtime %v, want the source's %v", fi.ModTime(), mod)
			}
		})
	}

	t.Run("bad checksum", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "copy.bin")
		req := request(src, out, nil)
		req.SHA256 = sum([]byte("no"))
		_, err := newClient(t, testConfig()).Fetch(context.Background(), req)
		var ce *ChecksumError
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v", err)
		}
		assertGone(t, out, out+".part")
	})

	// Its bytes are counted as a copy's are: with 0, the summary said
	// "0 B" under the line "ok src.bin 300 KiB".
	t.Run("onto itself", func(t *testing.T) {
		req := request(src, src, nil)
		req.SHA256 = sum(body)
		res, err := newClient(t, testConfig()).Fetch(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		assertDone(t, src, body)
		if res.Bytes != int64(len(body)) || res.Size != int64(len(body)) || res.SHA256 != sum(body) {
			t.Errorf("Result %+v", res)
		}
	})

	t.Run("newer", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "copy.bin")
		os.WriteFile(out, []byte("old"), 0o644)
		later := mod.Add(time.Hour)
		os.Chtimes(out, later, later)
		req := request(src, out, nil)
		req.IfNewer = true
		res, err := newClient(t, testConfig()).Fetch(context.Background(), req)
		if err != nil || !res.Skipped {
			t.Fatalf("%+v, %v; want skipped: the copy is newer", res, err)
		}
		if got := mustFile(t, out); string(got) != "old" {
			t.Errorf("destination changed")
		}
	})

	t.Run("missing", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "copy.bin")
		_, err := newClient(t, testConfig()).Fetch(context.Background(), request(filepath.Join(dir, "nope"), out, nil))
		if !errors.Is(err, fs.ErrNotExist) || err.Error() != "no such file: "+filepath.Join(dir, "nope") {
			t.Fatalf("err = %v", err)
		}
		assertGone(t, out, out+".part")
	})

	t.Run("directory", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "copy.bin")
		if _, err := newClient(t, testConfig()).Fetch(context.Background(), request(dir, out, nil)); err == nil {
			t.Fatal("copying a directory succeeded")
		}
		assertGone(t, out, out+".part")
	})
}

// TestLocalNewerRemovesStalePart: a local source that is not newer than
// its copy is skipped, and a part of its own beside the copy (its sidecar
// names the item), left by a run killed while it replaced the copy, is
// removed as it is after a 304; before, it stayed for ever. A part of
// another item, and one without a sidecar, stay (and one being written:
// TestRemoveStalePart).
func TestLocalNewerRemovesStalePart(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.bin")
	os.WriteFile(src, []byte("source"), 0o644)
	mod := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
	os.Chtimes(src, mod, mod)
	fileURL := (&url.URL{Scheme: "file", Path: src}).String()
	for _, tt := range []struct {
		name, item, sidecar string // sidecar "" = none
		wantGone            bool
	}{
		{"path, own part", src, `{"url":"` + src + `","length":6}`, true},
		{"file URL, own part", fileURL, `{"url":"` + fileURL + `","length":6}`, true},
		{"another item's part", src, `{"url":"http://example.test/src.bin","length":6}`, false},
		{"part without a sidecar", src, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "copy.bin")
			os.WriteFile(out, []byte("old"), 0o644)
			later := mod.Add(time.Hour)
			os.Chtimes(out, later, later)
			part := out + ".part"
			os.WriteFile(part, []byte("sou"), 0o644)
			if tt.sidecar != "" {
				os.WriteFile(part+".meta", []byte(tt.sidecar), 0o644)
			}
			req := request(tt.item, out, nil)
			req.IfNewer = true
			res, err := newClient(t, testConfig()).Fetch(context.Background(), req)
			if err != nil || !res.Skipped || res.StaleRemoved != tt.wantGone {
				t.Fatalf("%+v, %v; want skipped (the copy is newer), StaleRemoved %v", res, err, tt.wantGone)
			}
			if got := mustFile(t, out); string(got) != "old" {
				t.Errorf("destination changed")
			}
			for _, f := range []string{part, part + ".meta"} {
				_, err := os.Lstat(f)
				switch {
				case tt.wantGone && err == nil:
					t.Errorf("%s is left", filepath.Base(f))
				case !tt.wantGone && (f == part || tt.sidecar != "") && err != nil:
					t.Errorf("%s is gone: %v", filepath.Base(f), err)
				}
			}
		})
	}
}

// TestCheckSource: what a dry run learns of an item without sending
// anything is what Fetch would say before its first byte.
func TestCheckSource(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(file, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "gone.txt")
	for _, tt := range []struct{ item, want string }{
		{file, ""},
		{"file://" + file, ""},
		{"http://example.test/a.txt", ""},
		{missing, "no such file: " + missing},
		{"file://" + missing, "no such file: " + missing},
		{dir, dir + " is a directory, not a file"},
		{"ftp://example.test/a.txt", `unsupported scheme "ftp"`},
		// Said once, by its length: the item names it already.
		{filepath.Join(dir, strings.Repeat("x", 300)), "cannot open the file: its path (" + strconv.Itoa(len(dir)+301) + " bytes) is longer than the system allows: file name too long"},
	} {
		err := CheckSource(tt.item)
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && !strings.Contains(got, tt.want)) {
			t.Errorf("CheckSource(%q) = %v, want %q", tt.item, err, tt.want)
		}
		if tt.want == "" {
			continue
		}
		_, ferr := newClient(t, testConfig()).Fetch(context.Background(), request(tt.item, filepath.Join(dir, "out"), nil))
		if ferr == nil || !strings.Contains(ferr.Error(), tt.want) {
			t.Errorf("Fetch(%q) = %v; CheckSource and Fetch disagree", tt.item, ferr)
		}
	}
}

// TestLocalCopyDirectoryAtTheDestination: a directory under the name a
// local copy goes to (made while it copied) fails the item saying what is
// in the way and what to do, as for a download, not with os.Rename's
// "rename x.part x: file exists", which names a file that is not there.
// The copy is removed: the next run makes it again.
func TestLocalCopyDirectoryAtTheDestination(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.bin")
	if err := os.WriteFile(src, payload(10<<10, 21), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "copy.bin")
	if err := os.MkdirAll(filepath.Join(out, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := newClient(t, testConfig()).Fetch(context.Background(), request(src, out, nil))
	want := "moving " + out + ".part into place: " + out + " is a directory; move the directory away and run again"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if _, err := os.Lstat(out + ".part"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s.part is left behind (%v)", out, err)
	}
}

// TestLocalNewerWholeSeconds: --on-exists newer compares a local source
// with its copy in whole seconds, as the HTTP path compares Last-Modified,
// and rsync its mtimes. A file system that keeps whole seconds only
// (exfat, ext4 with small inodes, HFS+: a USB stick, an older disk) holds
// the copy's mtime without the source's fraction, and a source at
// 12:00:00.88 was newer than its own copy at 12:00:00: every run copied
// every file again.
func TestLocalNewerWholeSeconds(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src.csv")
	if err := os.WriteFile(src, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := time.Date(2025, 6, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		src, dst time.Time
		skipped  bool
	}{
		{"the copy without the source's fraction", second.Add(880 * time.Millisecond), second, true},
		{"the same time", second.Add(880 * time.Millisecond), second.Add(880 * time.Millisecond), true},
		{"the source a second later", second.Add(time.Second), second, false},
		{"the source later by a fraction, past a whole second", second.Add(1200 * time.Millisecond), second.Add(900 * time.Millisecond), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Chtimes(src, tt.src, tt.src)
			out := filepath.Join(t.TempDir(), "copy.csv")
			os.WriteFile(out, []byte("old"), 0o644)
			os.Chtimes(out, tt.dst, tt.dst)
			req := request(src, out, nil)
			req.IfNewer = true
			res, err := newClient(t, testConfig()).Fetch(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Skipped != tt.skipped {
				t.Errorf("skipped = %v, want %v", res.Skipped, tt.skipped)
			}
		})
	}
}

// TestLaterThanStored: times are compared in whole seconds, and on FAT,
// which keeps even seconds only and stores an odd one as the second
// before, a time one second after the even one stored is that same time:
// --on-exists newer fetched or copied again, on every run, each file of an
// odd second saved on a FAT32 USB stick.
func TestLaterThanStored(t *testing.T) {
	even := time.Date(2026, 1, 2, 3, 4, 4, 0, time.UTC)
	tests := []struct {
		name      string
		t, stored time.Time
		fat       bool
		want      bool
	}{
		{"same second", even.Add(300 * time.Millisecond), even, false, false},
		{"one second later", even.Add(time.Second), even, false, true},
		{"on FAT, an odd second kept as the even one before", even.Add(time.Second), even, true, false},
		{"on FAT, with a fraction", even.Add(1500 * time.Millisecond), even, true, false},
		{"on FAT, two seconds later", even.Add(2 * time.Second), even, true, true},
		{"on FAT, earlier", even.Add(-time.Second), even, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := laterThanStored(tt.t, tt.stored, tt.fat); got != tt.want {
				t.Errorf("laterThanStored(%v, %v, fat %v) = %v, want %v", tt.t, tt.stored, tt.fat, got, tt.want)
			}
		})
	}
}

// TestLocalCopyLeavesNoSidecar: a local copy cleans up beside its file as
// a download does. Its sidecar was removed with os.Remove alone, which
// left the temporary file of a sidecar (NAME.part.meta.tmp) that a killed
// run had left; and a part that could not be opened for writing once its
// sidecar was written left that sidecar behind.
func TestLocalCopyLeavesNoSidecar(t *testing.T) {
	body := payload(MaxPartWithoutSidecar+1, 21)
	src := filepath.Join(t.TempDir(), "src.bin")
	if err := os.WriteFile(src, body, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("temporary sidecar of a killed run", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "copy.bin")
		if err := os.WriteFile(out+".part"+metaTempSuffix, []byte(`{"url":`), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := newClient(t, testConfig()).Fetch(context.Background(), request(src, out, nil)); err != nil {
			t.Fatal(err)
		}
		assertDone(t, out, body)
		assertGone(t, out+".part"+metaTempSuffix)
	})
	t.Run("part that cannot be written", func(t *testing.T) {
		chattr, err := exec.LookPath("chattr")
		if err != nil {
			t.Skip("no chattr to make the part immutable")
		}
		out := filepath.Join(t.TempDir(), "copy.bin")
		part := out + ".part"
		if err := os.WriteFile(part, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if msg, err := exec.Command(chattr, "+i", part).CombinedOutput(); err != nil {
			t.Skipf("cannot make the part immutable here: %v: %s", err, msg)
		}
		t.Cleanup(func() { _ = exec.Command(chattr, "-i", part).Run() })
		if _, err := newClient(t, testConfig()).Fetch(context.Background(), request(src, out, nil)); err == nil {
			t.Fatal("copied into an immutable part")
		}
		for _, p := range []string{part + metaSuffix, part + metaTempSuffix} {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s left behind", filepath.Base(p))
			}
		}
	})
}
