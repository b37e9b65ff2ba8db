package pool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOutputDir(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("missing", filepath.Join(base, "dangling")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop", filepath.Join(base, "loop")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir     string
		prepare string // a part of PrepareOutputDir's error; "" for none
		check   string // a part of CheckOutputDir's error; "" for none
	}{
		{"new/sub", "", ""},
		{".", "", ""},
		{"file", "exists and is not a directory: give -o a directory", "exists and is not a directory"},
		{"file/sub", "file is not a directory", ""},
		{"dangling", "is a symbolic link to missing, which does not exist: create " + filepath.Join(base, "missing"), "which does not exist"},
		{"loop", "which is a loop of symbolic links", "which is a loop of symbolic links"},
	}
	for _, tt := range tests {
		dir := filepath.Join(base, tt.dir)
		for _, f := range []struct {
			name string
			fn   func(string) error
			want string
		}{{"CheckOutputDir", CheckOutputDir, tt.check}, {"PrepareOutputDir", PrepareOutputDir, tt.prepare}} {
			err := f.fn(dir)
			switch {
			case f.want == "" && err != nil:
				t.Errorf("%s(%s): %v", f.name, tt.dir, err)
			case f.want != "" && (err == nil || !strings.Contains(err.Error(), f.want) || !strings.Contains(err.Error(), dir)):
				t.Errorf("%s(%s) = %v, want an error naming the directory and saying %q", f.name, tt.dir, err, f.want)
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(base, "new/sub")); err != nil || !fi.IsDir() {
		t.Errorf("PrepareOutputDir did not create new/sub: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(base, "new/sub/.fetchpool-probe-*")); len(left) > 0 {
		t.Errorf("PrepareOutputDir left its probe behind: %v", left)
	}
}

// TestCheckOutputDirCreatesNothing: the dry run's check leaves a missing
// directory missing.
func TestCheckOutputDirCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := CheckOutputDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("CheckOutputDir made %s (%v)", dir, err)
	}
}
