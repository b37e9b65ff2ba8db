//go:build unix

package fetch

import (
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
