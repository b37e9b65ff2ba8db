package fetch

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSchemeless: only a missing path that reads as a URL without its
// scheme gets the hint; a plain file name, or a path under a directory
// that exists, is a path.
func TestSchemeless(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir(filepath.Join(dir, "mirror.example.org"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		want bool
	}{
		{"example.com/x", true},
		{"Example.COM/a/b.iso", true},
		{"www.example.com", true},
		{"127.0.0.1:18080/hello.txt", true},
		{"localhost:8080/x", true},
		{"localhost/x", true},
		{"notes.txt", false},            // a file name, not a host
		{"data.json/", false},           // nothing after the host
		{"notes.txt/x", true},           // reads as a host all the same
		{"mirror.example.org/x", false}, // a directory here: a path
		{"dir/file.txt", false},
		{"a.b-/x", false},
		{"1.2.3/x", false}, // no letters in the last label, not an address
		{"host:port/x", false},
		{"C:/x", false},
		{"-.com/x", false},
		{"", false},
	} {
		if got := schemeless(tt.path); got != tt.want {
			t.Errorf("schemeless(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}
