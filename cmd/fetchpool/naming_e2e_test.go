package main

import (
	"bytes"
	"fmt"
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

// TestEndToEndSameFileURLWrittenTwoWays: a file URL with no host, with
// "localhost" (RFC 8089), with one slash, and the path itself name one
// file: it is copied once, not saved again as name.1, name.2 ...
func TestEndToEndSameFileURLWrittenTwoWays(t *testing.T) {
	dir := t.TempDir()
	src := filepath.ToSlash(filepath.Join(dir, "src", "a b.txt"))
	os.MkdirAll(filepath.Dir(src), 0o755)
	os.WriteFile(src, []byte("data"), 0o644)
	escaped := strings.ReplaceAll(src, " ", "%20")
	r := fetchpool(t, dir, "", "-o", "out", "-j", "1", "--no-progress",
		"file://"+escaped, "file://localhost"+escaped, "FILE://LOCALHOST"+escaped, "file:"+escaped, src)
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if saved := filesUnder(t, filepath.Join(dir, "out")); strings.Join(saved, "|") != "a b.txt" {
		t.Errorf("saved %q, want only \"a b.txt\"; stderr:\n%s", saved, r.stderr)
	}
	if want := "duplicates dropped 4"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
	}
}

// TestEndToEndJSONOutputUnderAnotherKey: a JSON line that gives its file's
// name under another key than "output" ("out", as aria2c's input files
// write it; "name") fails, naming its line, the key and the right one,
// instead of saving the file under its URL's name; with "output" given,
// such a key is the user's own data and is ignored.
func TestEndToEndJSONOutputUnderAnotherKey(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write(content(r.URL.Path))
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	list := `{"url": "` + srv.URL + `/a.bin", "out": "x.bin"}` + "\n" +
		`{"url": "` + srv.URL + `/b.bin", "output": "y.bin", "name": "Release B"}` + "\n"
	r := fetchpool(t, dir, list, "-o", "out", "--no-progress")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	want := `FAIL -:1 {"url": "` + srv.URL + `/a.bin", "out": "x.bin"}: invalid JSON item: key "out" is not read: fetchpool takes a file's name only from "output"; rename the key to "output", or remove it to name the file after its URL`
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
	}
	if saved := filesUnder(t, filepath.Join(dir, "out")); strings.Join(saved, " ") != "y.bin" {
		t.Errorf("saved %v, want only y.bin", saved)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
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

// TestEndToEndServerNameSameAsURLName: items whose URLs end in the same
// name, and whose server names them the same in Content-Disposition, are
// saved as the dry run says, x.txt, x.1.txt, x.2.txt: the server's name is
// the one each was admitted under, so none moves to a further suffix.
func TestEndToEndServerNameSameAsURLName(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="`+r.URL.Query().Get("cd")+`"`)
		w.Write(content(r.URL.Path))
	}))
	t.Cleanup(srv.Close)
	list := srv.URL + "/a/x.txt?cd=x.txt\n" + srv.URL + "/b/x.txt?cd=x.txt\n" + srv.URL + "/c/X.TXT?cd=x.txt\n"
	dir := t.TempDir()
	dry := fetchpool(t, dir, list, "-o", "out", "--dry-run")
	wantDry := srv.URL + "/a/x.txt?cd=x.txt -> " + filepath.Join("out", "x.txt") + "\n" +
		srv.URL + "/b/x.txt?cd=x.txt -> " + filepath.Join("out", "x.1.txt") + "\n" +
		srv.URL + "/c/X.TXT?cd=x.txt -> " + filepath.Join("out", "X.2.TXT") + "\n"
	if dry.code != 0 || dry.stdout != wantDry {
		t.Fatalf("dry run: exit %d, stdout:\n%s\nwant:\n%s", dry.code, dry.stdout, wantDry)
	}
	r := fetchpool(t, dir, list, "-o", "out", "-j", "1")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if got, want := filesUnder(t, filepath.Join(dir, "out")), []string{"X.2.TXT", "x.1.txt", "x.txt"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("saved %v, want %v as the dry run said", got, want)
	}
	for name, path := range map[string]string{"x.txt": "/a/x.txt", "x.1.txt": "/b/x.txt", "X.2.TXT": "/c/X.TXT"} {
		if got := readFile(t, filepath.Join(dir, "out", name)); !bytes.Equal(got, content(path)) {
			t.Errorf("%s does not hold %s", name, path)
		}
	}
}

// TestEndToEndItemNamedLikeTheRunsOwnFiles: an item that would be saved
// over a file the run itself reads or writes in the output directory (its
// -i list, --checksums, --netrc-file, --report, --failed) gets the next free name, with
// any --on-exists: it neither replaces the list, the report or the failed
// list, nor is skipped because the report is already there.
func TestEndToEndItemNamedLikeTheRunsOwnFiles(t *testing.T) {
	srv := fileServer(t)
	for _, mode := range []string{"skip", "overwrite", "newer"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			list := srv.URL + "/list.txt\n" + srv.URL + "/report.json\n" + srv.URL + "/failed.txt\n" +
				srv.URL + "/sums.txt\n" + srv.URL + "/netrc\n" + srv.URL + "/missing/gone\n"
			sums := strings.Repeat("0", 64) + "  other.bin\n"
			netrc := "machine other.test login u password p\n"
			for name, data := range map[string]string{"list.txt": list, "sums.txt": sums, "netrc": netrc} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := fetchpool(t, dir, "", "-o", ".", "-i", "list.txt", "--checksums", "sums.txt",
				"--netrc-file", "netrc", "--report", "report.json", "--failed", "failed.txt", "--on-exists", mode)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 (one 404); stderr:\n%s", r.code, r.stderr)
			}
			if got := string(readFile(t, filepath.Join(dir, "list.txt"))); got != list {
				t.Errorf("the -i list was replaced: %.60q...", got)
			}
			if got := string(readFile(t, filepath.Join(dir, "sums.txt"))); got != sums {
				t.Errorf("the --checksums file was replaced: %.60q...", got)
			}
			if got := string(readFile(t, filepath.Join(dir, "netrc"))); got != netrc {
				t.Errorf("the --netrc-file was replaced: %.60q...", got)
			}
			if got, want := string(readFile(t, filepath.Join(dir, "failed.txt"))), srv.URL+"/missing/gone\n"; got != want {
				t.Errorf("failed.txt = %.60q..., want the failed list %q", got, want)
			}
			if got := readFile(t, filepath.Join(dir, "report.json")); !bytes.HasPrefix(got, []byte(`{"`)) || !bytes.Contains(got, []byte(`"summary"`)) {
				t.Errorf("report.json is not the report: %.60q...", got)
			}
			for name, path := range map[string]string{"list.1.txt": "/list.txt", "report.1.json": "/report.json", "failed.1.txt": "/failed.txt", "sums.1.txt": "/sums.txt", "netrc.1": "/netrc"} {
				if got := readFile(t, filepath.Join(dir, name)); !bytes.Equal(got, content(path)) {
					t.Errorf("%s does not hold %s", name, path)
				}
			}
		})
	}
}

// TestEndToEndItemNamedLikeAPartLeftForAResume: an item literally named
// x.part, when x.part and its sidecar x.part.meta are on disk (the part of
// x, left by an interrupted run for a resume), is saved under the next free
// name with any --on-exists: neither skipped because of x's part nor saved
// over it, which would make the resume of x append x's tail to another
// file's bytes.
func TestEndToEndItemNamedLikeAPartLeftForAResume(t *testing.T) {
	srv := fileServer(t)
	for _, mode := range []string{"skip", "overwrite"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			if err := os.MkdirAll(out, 0o755); err != nil {
				t.Fatal(err)
			}
			part := content("/x")[:100]
			sidecar := `{"url":"` + srv.URL + `/x","length":` + fmt.Sprint(len(content("/x"))) + `}`
			os.WriteFile(filepath.Join(out, "x.part"), part, 0o644)
			os.WriteFile(filepath.Join(out, "x.part.meta"), []byte(sidecar), 0o644)
			r := fetchpool(t, dir, srv.URL+"/x.part\n", "-o", "out", "--on-exists", mode)
			if r.code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			if got := readFile(t, filepath.Join(out, "x.part")); !bytes.Equal(got, part) {
				t.Errorf("x's part was replaced by %.40q...", got)
			}
			if got := readFile(t, filepath.Join(out, "x.1.part")); !bytes.Equal(got, content("/x.part")) {
				t.Errorf("x.1.part = %.40q..., want the item x.part", got)
			}
		})
	}
}

// TestEndToEndCurlStyleOutput: fetchpool -o file.txt URL, typed as for
// curl -o, saves file.txt/NAME; a note after the summary says that -o is
// the directory and how to name the file. Only then: not for a directory
// that was there, one whose extension is not its file's, -q, or a list.
func TestEndToEndCurlStyleOutput(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "there.txt"), 0o755)
	const note = "note: -o file.txt is the directory the file was saved in, not its name as with curl -o; to name the file, give URL<TAB>NAME on standard input\n"
	r := fetchpool(t, dir, "", "-o", "file.txt", srv.URL+"/hello.txt")
	if r.code != 0 || !strings.HasSuffix(r.stderr, note) {
		t.Errorf("exit %d; stderr does not end with the note:\n%s", r.code, r.stderr)
	}
	if got := readFile(t, filepath.Join(dir, "file.txt", "hello.txt")); !bytes.Equal(got, content("/hello.txt")) {
		t.Error("file.txt/hello.txt does not hold the file")
	}
	for _, args := range [][]string{
		{"-o", "there.txt", srv.URL + "/hello.txt"},               // a directory already
		{"-o", "mirror.example.org", srv.URL + "/hello.txt"},      // another extension
		{"-q", "-o", "quiet.txt", srv.URL + "/hello.txt"},         // -q
		{"-o", "two.txt", srv.URL + "/a.txt", srv.URL + "/b.txt"}, // not one item
		{"-o", "dry.txt", "--dry-run", srv.URL + "/hello.txt"},    // nothing saved
	} {
		if r := fetchpool(t, dir, "", args...); r.code != 0 || strings.Contains(r.stderr, "note:") {
			t.Errorf("%q: exit %d, stderr:\n%s", args, r.code, r.stderr)
		}
	}
}
