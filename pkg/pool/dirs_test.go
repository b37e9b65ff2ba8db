package pool

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestDirsMadeOncePerRun(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	d := newDirs(root + "/")
	// The output directory is the caller's: not made, not even looked at.
	if err := d.make(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); err == nil {
		t.Fatal("the output directory was made by the pool")
	}
	sub := filepath.Join(root, "a", "b")
	if err := d.make(sub); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sub); err != nil || !fi.IsDir() {
		t.Fatalf("%s not made: %v", sub, err)
	}
	// Made once: removed behind the run's back, it is not made again (the
	// fetch makes it when it opens the part).
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if err := d.make(sub); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sub); err == nil {
		t.Error("a directory made before was made again")
	}
	// A file where a directory should be is an error.
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.make(filepath.Join(blocked, "x")); err == nil {
		t.Error("no error making a directory under a file")
	}
}

func TestDirsRemembersAtMostMaxDirs(t *testing.T) {
	root := t.TempDir()
	d := newDirs(root)
	for i := range maxDirs + 10 {
		if err := d.make(filepath.Join(root, strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.made) != maxDirs {
		t.Errorf("%d directories remembered, want at most %d", len(d.made), maxDirs)
	}
	// One it could not remember is made again when needed.
	last := filepath.Join(root, strconv.Itoa(maxDirs+9))
	if err := os.Remove(last); err != nil {
		t.Fatal(err)
	}
	if err := d.make(last); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(last); err != nil {
		t.Errorf("%s not made again: %v", last, err)
	}
}
