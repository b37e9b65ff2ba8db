package main

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
)

// TestEndToEndSameOutputWrittenTwoWays: the same URL listed twice with an
// explicit name that names the same file, written two ways ("v" and "./v",
// "d/v" and "d//v", a JSON "output" with spaces around it), is fetched once;
// the second is a duplicate, not a second download saved as v.1.
func TestEndToEndSameOutputWrittenTwoWays(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write(content(r.URL.Path))
	}))
	t.Cleanup(srv.Close)
	u := srv.URL
	tests := []struct {
		name  string
		lines []string
		saved []string
	}{
		{"dot segment", []string{u + "/a\tv", u + "/a\t./v"}, []string{"v"}},
		{"doubled slash", []string{u + "/a\td/v", u + "/a\td//v"}, []string{"d/v"}},
		{"backslash", []string{u + "/a\td/v", u + `/a` + "\t" + `d\v`}, []string{"d/v"}},
		{"JSON with spaces", []string{u + "/a\tv", `{"url": "` + u + `/a", "output": " v "}`}, []string{"v"}},
		{"another URL is no duplicate", []string{u + "/a\tv", u + "/b\t./v"}, []string{"v", "v.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			requests.Store(0)
			r := fetchpool(t, dir, strings.Join(tt.lines, "\n")+"\n", "-o", "out", "-j", "1")
			if r.code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			saved := filesUnder(t, filepath.Join(dir, "out"))
			if strings.Join(saved, " ") != strings.Join(tt.saved, " ") {
				t.Errorf("saved %v, want %v; stderr:\n%s", saved, tt.saved, r.stderr)
			}
			if got, want := requests.Load(), int64(len(tt.saved)); got != want {
				t.Errorf("%d requests, want %d", got, want)
			}
		})
	}
}

// filesUnder lists the regular files under dir, as sorted slash-separated
// paths relative to it.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// TestEndToEndBrokenLinkWhereADirectoryGoes: an explicit name whose
// directory is a broken symbolic link in the output directory fails with a
// message that says so, not with "mkdir ...: file exists".
func TestEndToEndBrokenLinkWhereADirectoryGoes(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(out, "link")); err != nil {
		t.Fatal(err)
	}
	r := fetchpool(t, dir, srv.URL+"/a\tlink/a.txt\n", "-o", "out")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	want := "FAIL -:1 " + srv.URL + "/a: cannot save link/a.txt: " + filepath.Join("out", "link") +
		" is a broken symbolic link to " + filepath.Join(dir, "gone") + ", not a directory"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
}
