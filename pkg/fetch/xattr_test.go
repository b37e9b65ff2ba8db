//go:build linux || darwin || freebsd || netbsd

package fetch

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// userXattrs tells whether dir keeps user extended attributes. Every file
// system that macOS puts a temporary directory on (APFS, HFS+) keeps them,
// so there one that is not kept fails the test: the ETag was not stored
// at all on macOS, and --on-exists newer sent no If-None-Match.
func userXattrs(t *testing.T, dir string) bool {
	t.Helper()
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	writeETag(probe, `"probe"`)
	kept := readETag(probe) == `"probe"`
	if !kept && runtime.GOOS == "darwin" {
		t.Fatalf("the ETag written on %s was not kept", probe)
	}
	return kept
}

// A fetched file keeps the ETag and the Last-Modified of its response,
// whether the part was stamped through its open file or by path.
func TestETagAndMtimeStored(t *testing.T) {
	dir := t.TempDir()
	if !userXattrs(t, dir) {
		t.Skip("no user xattrs in " + dir)
	}
	tests := []struct {
		name, etag string
	}{
		{"etag", `"v1-abc"`},
		{"weak etag", `W/"v2"`},
		{"no etag", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := newResource([]byte("some body of "+tt.name), tt.etag)
			srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) { res.ServeHTTP(w, r) })
			path := filepath.Join(dir, tt.name)
			if _, err := newClient(t, testConfig()).Fetch(context.Background(), request(srv.URL, path, nil)); err != nil {
				t.Fatal(err)
			}
			if got := readETag(path); got != tt.etag {
				t.Errorf("stored ETag %q, want %q", got, tt.etag)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, mod := res.get(); !fi.ModTime().Equal(mod) {
				t.Errorf("mtime %v, want %v", fi.ModTime(), mod)
			}
		})
	}
}

// setModTime and setETag work on an open file.
func TestSetOnOpenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	f, err := openPartFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	atime := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(path, atime, atime); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 600, time.UTC)
	setModTime(f, mtime)
	setETag(f, `"x"`)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(mtime) {
		t.Errorf("mtime %v, want %v", fi.ModTime(), mtime)
	}
	if userXattrs(t, t.TempDir()) && readETag(path) != `"x"` {
		t.Errorf("ETag %q, want %q", readETag(path), `"x"`)
	}
}

func TestNewerThan(t *testing.T) {
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 500_000_000, time.UTC)
	const lm = "Fri, 02 Jan 2026 03:04:05 GMT" // mtime to the second
	tests := []struct {
		name         string
		etag, stored string
		lastModified string
		want         bool
	}{
		{"same date", "", "", lm, false},
		{"older date", "", "", "Thu, 01 Jan 2026 00:00:00 GMT", false},
		{"later date", "", "", "Fri, 02 Jan 2026 03:04:06 GMT", true},
		{"no date", "", "", "", true},
		{"an ETag but none stored: by date", `"a"`, "", lm, false},
		{"same ETag, later date", `"a"`, `"a"`, "Sat, 03 Jan 2026 00:00:00 GMT", false},
		{"other ETag, same date", `"b"`, `"a"`, lm, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, mtime, mtime); err != nil {
				t.Fatal(err)
			}
			if tt.stored != "" {
				if !userXattrs(t, dir) {
					t.Skip("no user extended attributes here")
				}
				writeETag(path, tt.stored)
			}
			resp := &http.Response{Header: http.Header{}}
			if tt.etag != "" {
				resp.Header.Set("ETag", tt.etag)
			}
			if tt.lastModified != "" {
				resp.Header.Set("Last-Modified", tt.lastModified)
			}
			if got := newerThan(resp, path); got != tt.want {
				t.Errorf("newerThan = %v, want %v", got, tt.want)
			}
		})
	}
}
