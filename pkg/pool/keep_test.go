package pool

import (
	"os"
	"path/filepath"
	"testing"
)

func TestInside(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(filepath.Join(dir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "real"), out); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir, path string
		want      string // "" when not inside
	}{
		{out, filepath.Join(out, "r.json"), "r.json"},
		{out, filepath.Join(out, "logs", "r.json"), filepath.Join("logs", "r.json")},
		{out, filepath.Join(dir, "real", "r.json"), "r.json"}, // through the link
		{filepath.Join(dir, "real"), filepath.Join(out, "r.json"), "r.json"},
		{out, filepath.Join(dir, "r.json"), ""},
		{out, out, ""},
		{out, filepath.Join(out, "..", "x"), ""},
		{out, filepath.Join(dir, "..x"), ""},
	}
	for _, tt := range tests {
		got, ok := inside(tt.dir, tt.path)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("inside(%q, %q) = %q, %v; want %q", tt.dir, tt.path, got, ok, tt.want)
		}
	}
}
