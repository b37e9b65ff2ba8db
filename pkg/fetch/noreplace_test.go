package fetch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestRenameNoReplace: renameNoReplace, through which AdoptPart moves a
// part of an earlier run to the item's new name, puts it there only when
// nothing is there: a part (or its sidecar) that another run made under
// that name since AdoptPart found it free is that run's, and was replaced.
func TestRenameNoReplace(t *testing.T) {
	for _, tt := range []struct {
		name  string
		there func(t *testing.T, path string) // nil: nothing at the new name
	}{
		{"free", nil},
		{"a file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("another run's"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"a dangling symbolic link", func(t *testing.T, path string) {
			if err := os.Symlink("nowhere", path); err != nil {
				t.Skip("no symbolic links here:", err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			from, to := filepath.Join(dir, "f.part"), filepath.Join(dir, "f.1.part")
			if err := os.WriteFile(from, []byte("half"), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.there != nil {
				tt.there(t, to)
			}
			before, _ := os.Lstat(to)
			err := renameNoReplace(from, to)
			if tt.there == nil {
				if err != nil {
					t.Fatalf("renameNoReplace = %v", err)
				}
				if got := mustFile(t, to); string(got) != "half" {
					t.Errorf("%s holds %q, want the moved part", to, got)
				}
				assertGone(t, from)
				return
			}
			if !errors.Is(err, fs.ErrExist) {
				t.Fatalf("renameNoReplace = %v, want an error wrapping fs.ErrExist", err)
			}
			if after, err := os.Lstat(to); err != nil || !os.SameFile(before, after) {
				t.Errorf("what was at %s was replaced (%v)", to, err)
			}
			if got := mustFile(t, from); string(got) != "half" {
				t.Errorf("%s holds %q, want it left as it was", from, got)
			}
		})
	}
}
