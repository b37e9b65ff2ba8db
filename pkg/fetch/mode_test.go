//go:build unix

package fetch

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReplacedFileKeepsItsMode: a file that --on-exists overwrite or newer
// replaces keeps its permission bits, as it does with wget -N and curl,
// which write into it, and with rsync: a tool made executable stayed so
// no more once a newer copy came (0644), and a file made private (0600)
// became readable by all. A new file gets 0644 less the umask; setuid and
// the like are never carried over.
func TestReplacedFileKeepsItsMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	src := filepath.Join(t.TempDir(), "src.bin")
	for _, size := range []int{100, 300 << 10} {
		body := payload(size, 9)
		if err := os.WriteFile(src, body, 0o644); err != nil {
			t.Fatal(err)
		}
		res := newResource(body, "")
		url := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) { res.ServeHTTP(w, r) }).URL
		for _, item := range []struct{ name, url string }{{"http", url}, {"local copy", src}} {
			for _, tt := range []struct {
				name     string
				existing os.FileMode // 0: none
				want     os.FileMode
			}{
				{"no file there", 0, 0o644},
				{"an executable", 0o755, 0o755},
				{"a private file", 0o600, 0o600},
				{"a setuid executable", 0o4755, 0o755},
			} {
				t.Run(fmt.Sprintf("%s, %d bytes, %s", item.name, size, tt.name), func(t *testing.T) {
					path := filepath.Join(t.TempDir(), "tool")
					if tt.existing != 0 {
						if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
							t.Fatal(err)
						}
						if err := os.Chmod(path, tt.existing); err != nil {
							t.Fatal(err)
						}
					}
					if _, err := newClient(t, testConfig()).Fetch(context.Background(), request(item.url, path, nil)); err != nil {
						t.Fatal(err)
					}
					assertDone(t, path, body)
					fi, err := os.Stat(path)
					if err != nil {
						t.Fatal(err)
					}
					if got := fi.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky); got != tt.want {
						t.Errorf("mode %v, want %v", got, tt.want)
					}
				})
			}
		}
	}
}

// TestHardLinkedPartNotWrittenThrough: a .part that is a hard link of
// another file (a snapshot of the output directory made with cp -al or
// rsync --link-dest while a download was unfinished; the destination
// itself) was written through: started over, it truncated the other
// file's bytes; resumed, it appended to them; linked to the destination,
// the rename did nothing and left the part behind. The part's name is
// let go and a part of its own made; the other file is left as it was.
func TestHardLinkedPartNotWrittenThrough(t *testing.T) {
	body := payload(300<<10, 11)
	res := newResource(body, `"v1"`)
	url := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) { res.ServeHTTP(w, r) }).URL
	_, etag, mod := res.get()
	for _, tt := range []struct {
		name    string
		sidecar bool
		toDest  bool
	}{
		{"started over", false, false},
		{"resumed", true, false},
		{"linked to the destination", false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.bin")
			other := filepath.Join(dir, "snapshot.bin")
			if tt.toDest {
				other = path
			}
			kept := body[:100<<10]
			if err := os.WriteFile(other, kept, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Link(other, path+".part"); err != nil {
				t.Fatal(err)
			}
			if tt.sidecar {
				m := Meta{URL: url, ETag: etag, LastModified: mod.UTC().Format(http.TimeFormat), Length: int64(len(body))}
				if err := writeMeta(path+".part", m); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := newClient(t, testConfig()).Fetch(context.Background(), request(url, path, nil)); err != nil {
				t.Fatal(err)
			}
			assertDone(t, path, body)
			if !tt.toDest {
				if got := mustFile(t, other); !bytes.Equal(got, kept) {
					t.Errorf("the other link changed: %d bytes, want its %d", len(got), len(kept))
				}
			}
		})
	}
}

// TestHardLinkedSidecarNotWrittenThrough: a sidecar (or its temporary
// file) that is a hard link of another file, as a snapshot made with
// cp -al leaves it, was opened with O_TRUNC and written through, the
// other file's bytes replaced by a line of JSON. Its name is let go and a
// sidecar of its own written; the other file is left as it was.
func TestHardLinkedSidecarNotWrittenThrough(t *testing.T) {
	for _, suffix := range []string{metaSuffix, metaTempSuffix} {
		t.Run(suffix, func(t *testing.T) {
			dir := t.TempDir()
			part := filepath.Join(dir, "f.bin.part")
			other := filepath.Join(dir, "snapshot.bin")
			kept := []byte("the other file's bytes\n")
			if err := os.WriteFile(other, kept, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Link(other, part+suffix); err != nil {
				t.Fatal(err)
			}
			m := Meta{URL: "http://127.0.0.1/f.bin", Length: 42}
			write := createMeta
			if suffix == metaTempSuffix {
				write = writeMeta
			}
			if err := write(part, m); err != nil {
				t.Fatal(err)
			}
			if got, err := ReadMeta(part); err != nil || got.URL != m.URL {
				t.Errorf("sidecar read back as %+v, %v; want %+v", got, err, m)
			}
			if got := mustFile(t, other); !bytes.Equal(got, kept) {
				t.Errorf("the other link changed: %q, want %q", got, kept)
			}
		})
	}
}
