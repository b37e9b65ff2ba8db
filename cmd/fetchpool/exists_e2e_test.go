package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/fetch"
)

// TestEndToEndSkipChecksExistingFile: with the default --on-exists skip, a
// file that exists before the run and has an entry in --checksums is
// checked, not taken on trust: a match is skipped as checked, a mismatch
// fails the run (exit 1) and names the file and what to do; the file is left
// as it is and no request is sent. --on-exists overwrite then replaces it.
func TestEndToEndSkipChecksExistingFile(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content(r.URL.Path)))
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, "good.bin"), content("/good.bin"), 0o644)
	os.WriteFile(filepath.Join(out, "bad.bin"), []byte("stale"), 0o644)
	os.WriteFile(filepath.Join(out, "plain.bin"), []byte("anything"), 0o644)
	want := sum(content("/bad.bin"))
	os.WriteFile(filepath.Join(dir, "SUMS"), []byte(sum(content("/good.bin"))+"  good.bin\n"+want+"  bad.bin\n"), 0o644)
	list := srv.URL + "/good.bin\n" + srv.URL + "/bad.bin\n" + srv.URL + "/plain.bin\n"

	r := fetchpool(t, dir, list, "--checksums", "SUMS", "-o", "out", "--json", "--report", "report.json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	line := "out/bad.bin exists but does not match the expected SHA-256 (got " + sum([]byte("stale")) + ", want " + want +
		"); left as it is: --on-exists overwrite replaces it"
	if !strings.Contains(r.stderr, "FAIL ") || !strings.Contains(r.stderr, line) {
		t.Errorf("stderr does not say %q:\n%s", line, r.stderr)
	}
	if !strings.Contains(r.stderr, "skipped 2, failed 1") {
		t.Errorf("stderr does not count 2 skipped and 1 failed:\n%s", r.stderr)
	}
	type item struct {
		Output, Status, SHA256, Error, Reason string
	}
	byOutput := map[string]item{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var it item
		if err := json.Unmarshal([]byte(l), &it); err != nil {
			t.Fatalf("--json line %q: %v", l, err)
		}
		byOutput[it.Output] = it
	}
	var report struct{ Items []item }
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "report.json")), &report); err != nil {
		t.Fatal(err)
	}
	wantItems := map[string]item{
		"out/good.bin":  {"out/good.bin", "skipped", sum(content("/good.bin")), "", "exists, checksum ok"},
		"out/bad.bin":   {"out/bad.bin", "failed", sum([]byte("stale")), line, ""},
		"out/plain.bin": {"out/plain.bin", "skipped", "", "", "exists"},
	}
	for name, w := range wantItems {
		if got := byOutput[name]; got != w {
			t.Errorf("--json %s:\n got %+v\nwant %+v", name, got, w)
		}
	}
	for _, got := range report.Items {
		if w := wantItems[got.Output]; got != w {
			t.Errorf("--report %s:\n got %+v\nwant %+v", got.Output, got, w)
		}
	}
	if len(report.Items) != 3 {
		t.Errorf("--report has %d items, want 3", len(report.Items))
	}
	if b := readFile(t, filepath.Join(out, "bad.bin")); string(b) != "stale" {
		t.Errorf("bad.bin was changed to %q...; it must be left as it is", b[:min(len(b), 10)])
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests sent for files that exist", n)
	}

	// What the message says to do.
	r = fetchpool(t, dir, srv.URL+"/bad.bin\n", "--checksums", "SUMS", "-o", "out", "--on-exists", "overwrite")
	if r.code != 0 {
		t.Fatalf("--on-exists overwrite: exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if sum(readFile(t, filepath.Join(out, "bad.bin"))) != want {
		t.Error("--on-exists overwrite did not replace the file that did not match")
	}
}

// TestEndToEndNewerChecksExistingFile: with --on-exists newer, a file kept
// because the server has nothing newer (304), or because a local source is
// not newer, is checked against its expected digest as --on-exists skip
// checks it: a mismatch fails the item, naming the file, and leaves it as
// it is; a match is skipped.
func TestEndToEndNewerChecksExistingFile(t *testing.T) {
	modified := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", modified, bytes.NewReader(content(r.URL.Path)))
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	src := filepath.Join(dir, "local.bin")
	os.WriteFile(src, content("/local.bin"), 0o644)
	os.Chtimes(src, modified, modified)
	for name, body := range map[string][]byte{"good.bin": content("/good.bin"), "bad.bin": []byte("stale"), "local.bin": []byte("stale too")} {
		p := filepath.Join(out, name)
		os.WriteFile(p, body, 0o644)
		os.Chtimes(p, modified.Add(time.Hour), modified.Add(time.Hour)) // newer than the server's
	}
	sums := sum(content("/good.bin")) + "  good.bin\n" + sum(content("/bad.bin")) + "  bad.bin\n" + sum(content("/local.bin")) + "  local.bin\n"
	os.WriteFile(filepath.Join(dir, "SUMS"), []byte(sums), 0o644)
	list := srv.URL + "/good.bin\n" + srv.URL + "/bad.bin\n" + src + "\n"

	r := fetchpool(t, dir, list, "--checksums", "SUMS", "-o", "out", "--on-exists", "newer")
	if r.code != 1 || !strings.Contains(r.stderr, "skipped 1, failed 2") {
		t.Fatalf("exit %d, want 1 with good.bin skipped and the two stale files failed; stderr:\n%s", r.code, r.stderr)
	}
	for _, name := range []string{"bad.bin", "local.bin"} {
		if line := "out/" + name + " exists but does not match the expected SHA-256"; !strings.Contains(r.stderr, line) {
			t.Errorf("stderr does not say %q:\n%s", line, r.stderr)
		}
	}
	if b := readFile(t, filepath.Join(out, "bad.bin")); string(b) != "stale" {
		t.Errorf("bad.bin was changed; it must be left as it is")
	}
}

// TestEndToEndSkipChecksFileNamedByServer: with --on-exists skip, a file
// kept under the name its server gives (Content-Disposition) is checked
// against its expected digest too, as one under the URL's name is.
func TestEndToEndSkipChecksFileNamedByServer(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, "served.bin"), []byte("stale"), 0o644)
	os.WriteFile(filepath.Join(dir, "SUMS"), []byte(sum(content("/cd/x"))+"  served.bin\n"), 0o644)
	r := fetchpool(t, dir, srv.URL+"/cd/x?name=served.bin\n", "--checksums", "SUMS", "-o", "out")
	if line := "out/served.bin exists but does not match the expected SHA-256"; r.code != 1 || !strings.Contains(r.stderr, line) {
		t.Fatalf("exit %d, want 1 saying %q; stderr:\n%s", r.code, line, r.stderr)
	}
	if b := readFile(t, filepath.Join(out, "served.bin")); string(b) != "stale" {
		t.Errorf("served.bin was changed; it must be left as it is")
	}
}

// TestEndToEndReplacedFileKeepsItsMode: a file that --on-exists overwrite
// or newer replaces keeps its permission bits through the whole run, as
// the pool tells the engine that the file was there (fetch.Request.NoFile
// unset), and a new file beside it gets the default ones.
func TestEndToEndReplacedFileKeepsItsMode(t *testing.T) {
	srv := fileServer(t)
	for _, mode := range []string{"overwrite", "newer"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			os.MkdirAll(out, 0o755)
			for name, perm := range map[string]os.FileMode{"tool": 0o755, "private": 0o600} {
				p := filepath.Join(out, name)
				os.WriteFile(p, []byte("old"), 0o644)
				os.Chmod(p, perm)
				old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
				os.Chtimes(p, old, old) // older than the server's copy
			}
			list := srv.URL + "/tool\n" + srv.URL + "/private\n" + srv.URL + "/new\n"
			if r := fetchpool(t, dir, list, "-o", "out", "--on-exists", mode); r.code != 0 || !strings.Contains(r.stderr, "done 3") {
				t.Fatalf("exit %d, want 0 with 3 done; stderr:\n%s", r.code, r.stderr)
			}
			for name, want := range map[string]os.FileMode{"tool": 0o755, "private": 0o600, "new": 0o644} {
				p := filepath.Join(out, name)
				if b := readFile(t, p); !bytes.Equal(b, content("/"+name)) {
					t.Errorf("%s was not replaced", name)
				}
				if fi, err := os.Stat(p); err != nil {
					t.Error(err)
				} else if fi.Mode().Perm() != want {
					t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), want)
				}
			}
		})
	}
}

// TestEndToEndNewerRemovesStalePart: with --on-exists newer, an item that
// is not newer than the file kept (a 304, or a local source no later than
// its copy) has the part of its own beside the file, left by a run killed
// while it replaced the file, removed as --on-exists skip removes it, and
// the skip says so; before, a local source's stayed for ever, and a 304
// removed one without a word.
func TestEndToEndNewerRemovesStalePart(t *testing.T) {
	mod := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", mod, bytes.NewReader(content(r.URL.Path)))
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	src := filepath.Join(dir, "src", "local.bin")
	os.MkdirAll(filepath.Dir(src), 0o755)
	os.WriteFile(src, content("/local.bin"), 0o644)
	os.Chtimes(src, mod, mod)
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	items := map[string]string{
		"remote.bin": srv.URL + "/remote.bin",
		"local.bin":  "file://" + filepath.ToSlash(src),
	}
	var list string
	for name, url := range items {
		list += url + "\n"
		path := filepath.Join(out, name)
		os.WriteFile(path, []byte("old"), 0o644)
		os.Chtimes(path, mod, mod)
		os.WriteFile(path+".part", []byte("half"), 0o644)
		os.WriteFile(path+".part.meta", []byte(`{"url":"`+url+`","length":-1}`), 0o644)
	}

	r := fetchpool(t, dir, list, "-o", "out", "--no-progress", "--on-exists", "newer")
	if r.code != 0 || !strings.Contains(r.stderr, "done 0, skipped 2, failed 0") {
		t.Fatalf("exit %d, want 0 with both skipped; stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"skip out/remote.bin  (not modified on the server; removed remote.bin.part, left by an interrupted run)",
		"skip out/local.bin  (the source is not newer; removed local.bin.part, left by an interrupted run)",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
		}
	}
	for name := range items {
		path := filepath.Join(out, name)
		if got := readFile(t, path); string(got) != "old" {
			t.Errorf("%s holds %q, want the %q it had", name, got, "old")
		}
		for _, f := range []string{path + ".part", path + ".part.meta"} {
			if _, err := os.Lstat(f); err == nil {
				t.Errorf("%s is still there", filepath.Base(f))
			}
		}
	}
}

// TestEndToEndNewerKeepsFileOverSplitPart: with --on-exists newer, the
// split part of a copy that is not newer than the file (left by a run
// killed while --on-exists overwrite replaced it, and the file updated
// since) is not resumed into place: the skip removes it, and the file
// stays. Before, the ranges were asked for without the conditions, and the
// older copy replaced the newer file.
func TestEndToEndNewerKeepsFileOverSplitPart(t *testing.T) {
	body := make([]byte, 256<<10)
	for i := range body {
		body[i] = byte(i * 7)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "", modTime, bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	url := srv.URL + "/big.bin"
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	path := filepath.Join(out, "big.bin")
	os.WriteFile(path, []byte("the newer local copy"), 0o644)
	later := modTime.Add(time.Hour)
	os.Chtimes(path, later, later)
	// A part of four ranges, each a quarter done.
	m := fetch.Meta{URL: url, ETag: `"v1"`, LastModified: modTime.Format(http.TimeFormat), Length: int64(len(body))}
	part := make([]byte, len(body))
	for i := range int64(4) {
		start, end := i*int64(len(body))/4, (i+1)*int64(len(body))/4
		next := start + (end-start)/4
		copy(part[start:next], body[start:next])
		m.Spans = append(m.Spans, fetch.Span{Start: start, End: end, Next: next})
	}
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path+".part", part, 0o644)
	os.WriteFile(path+".part.meta", js, 0o644)

	r := fetchpool(t, dir, "", "-o", "out", "--no-progress", "--on-exists", "newer", "--split", "4", "--split-min", "64K", url)
	if r.code != 0 || !strings.Contains(r.stderr, "done 0, skipped 1, failed 0") {
		t.Fatalf("exit %d, want 0 with the item skipped; stderr:\n%s", r.code, r.stderr)
	}
	if got := readFile(t, path); string(got) != "the newer local copy" {
		t.Errorf("big.bin holds %d bytes; want the newer local copy kept", len(got))
	}
	for _, f := range []string{path + ".part", path + ".part.meta"} {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("%s is still there", filepath.Base(f))
		}
	}
}

// TestEndToEndNewerJudgesTheFileTheServerNames: with --on-exists newer, a
// response whose server names the file (Content-Disposition) is judged
// against the file it would replace, the one under the server's name, not
// against the file under the URL's name that the request's conditions came
// from; and a 304 to those conditions that names another file is asked
// again, with the conditions of that file. Before, a file under the URL's
// name newer than the server's copy had the item skipped as "not modified",
// and the file the server names was never fetched, or never updated.
func TestEndToEndNewerJudgesTheFileTheServerNames(t *testing.T) {
	body := make([]byte, 256<<10)
	for i := range body {
		body[i] = byte(i * 13)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("conditions") == "" {
			// A server that ignores the conditions, as many dynamic ones do.
			r.Header.Del("If-Modified-Since")
			r.Header.Del("If-None-Match")
		}
		// Sent with a 304 too, as net/http and nginx's add_header do.
		w.Header().Set("Content-Disposition", `attachment; filename="served.bin"`)
		http.ServeContent(w, r, "", modTime, bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	older, newer := modTime.Add(-time.Hour), modTime.Add(time.Hour)
	type testCase struct {
		name   string
		args   []string
		served time.Time // the mtime of out/served.bin before the run; zero: none
		want   string    // out/served.bin after the run: "body" for the server's copy
		done   bool
		resume bool   // dl.part holds a split part of an earlier run, a quarter of each range done
		query  string // of the URL: the server keeps the conditions
	}
	var cases []testCase
	for _, tc := range []testCase{
		{"absent", nil, time.Time{}, "body", true, false, ""},
		{"older", nil, older, "body", true, false, ""},
		{"newer", nil, newer, "local", false, false, ""},
		{"absent split", []string{"--split", "4", "--split-min", "1"}, time.Time{}, "body", true, false, ""},
		{"older split", []string{"--split", "4", "--split-min", "1"}, older, "body", true, false, ""},
		{"newer split", []string{"--split", "4", "--split-min", "1"}, newer, "local", false, false, ""},
		{"absent resumed split", []string{"--split", "4", "--split-min", "1"}, time.Time{}, "body", true, true, ""},
		{"older resumed split", []string{"--split", "4", "--split-min", "1"}, older, "body", true, true, ""},
		{"newer resumed split", []string{"--split", "4", "--split-min", "1"}, newer, "local", false, true, ""},
	} {
		cases = append(cases, tc)
		tc.name, tc.query = tc.name+", conditions kept", "?conditions=kept"
		cases = append(cases, tc)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			os.MkdirAll(out, 0o755)
			// The file under the URL's name is newer than the server's copy.
			urlName := filepath.Join(out, "dl")
			os.WriteFile(urlName, []byte("another file"), 0o644)
			os.Chtimes(urlName, newer, newer)
			if tc.resume {
				writeSplitPart(t, urlName+".part", srv.URL+"/dl"+tc.query, body)
			}
			served := filepath.Join(out, "served.bin")
			if !tc.served.IsZero() {
				os.WriteFile(served, []byte("local"), 0o644)
				os.Chtimes(served, tc.served, tc.served)
			}
			args := append([]string{"-o", "out", "--no-progress", "--json", "--on-exists", "newer", srv.URL + "/dl" + tc.query}, tc.args...)
			r := fetchpool(t, dir, "", args...)
			wantSummary, wantStatus := "done 0, skipped 1, failed 0", `"status":"skipped"`
			if tc.done {
				wantSummary, wantStatus = "done 1, skipped 0, failed 0", `"status":"ok"`
			}
			if r.code != 0 || !strings.Contains(r.stderr, wantSummary) || !strings.Contains(r.stdout, wantStatus) {
				t.Fatalf("exit %d, want 0 with %q; stdout:\n%s\nstderr:\n%s", r.code, wantSummary, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, `"output":"`+filepath.Join("out", "served.bin")+`"`) {
				t.Errorf("the JSON line does not name out/served.bin:\n%s", r.stdout)
			}
			got := readFile(t, served)
			switch {
			case tc.want == "body" && !bytes.Equal(got, body):
				t.Errorf("served.bin holds %d bytes, want the server's %d", len(got), len(body))
			case tc.want == "local" && string(got) != "local":
				t.Errorf("served.bin holds %d bytes, want the newer local copy kept", len(got))
			}
			if fi, err := os.Stat(served); err == nil && tc.want == "body" && !fi.ModTime().Equal(modTime) {
				t.Errorf("served.bin has mtime %v, want Last-Modified %v", fi.ModTime(), modTime)
			}
			if got := readFile(t, urlName); string(got) != "another file" {
				t.Errorf("dl was changed")
			}
			for _, f := range []string{"dl.part", "dl.part.meta", "served.bin.part"} {
				if _, err := os.Lstat(filepath.Join(out, f)); err == nil {
					t.Errorf("%s is left", f)
				}
			}
		})
	}
}

// writeSplitPart writes at part a split part of url, whose whole is body,
// as an interrupted run leaves it: four ranges, each a quarter done, and
// their sidecar.
func writeSplitPart(t *testing.T, part, url string, body []byte) {
	t.Helper()
	m := fetch.Meta{URL: url, LastModified: modTime.Format(http.TimeFormat), Length: int64(len(body))}
	data := make([]byte, len(body))
	for i := range int64(4) {
		start, end := i*int64(len(body))/4, (i+1)*int64(len(body))/4
		next := start + (end-start)/4
		copy(data[start:next], body[start:next])
		m.Spans = append(m.Spans, fetch.Span{Start: start, End: end, Next: next})
	}
	writeEarlierPart(t, part, data, m)
}

// writeEarlierPart leaves at part what an earlier run that got data left:
// the part and its sidecar.
func writeEarlierPart(t *testing.T, part string, data []byte, m fetch.Meta) {
	t.Helper()
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(part, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(part+".meta", js, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEndToEndSkipRemovesLoneSidecar: a sidecar of the item's own left
// without its part (a run killed between removing the two) beside a file
// that --on-exists skip keeps is removed: no later run would. Another
// URL's is left alone. Before, both stayed for ever.
func TestEndToEndSkipRemovesLoneSidecar(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	url := srv.URL + "/f.bin"
	for name, sidecarURL := range map[string]string{"f.bin": url, "g.bin": srv.URL + "/elsewhere"} {
		os.WriteFile(filepath.Join(out, name), []byte("kept"), 0o644)
		os.WriteFile(filepath.Join(out, name+".part.meta"), []byte(`{"url":"`+sidecarURL+`","length":-1}`), 0o644)
	}
	r := fetchpool(t, dir, url+"\n"+srv.URL+"/g.bin\n", "-o", "out", "--no-progress", "--json")
	if r.code != 0 || strings.Count(r.stdout, `"status":"skipped","bytes":0,"size":4,`) != 2 || !strings.Contains(r.stdout, `"reason":"exists"`) {
		t.Fatalf("exit %d, want 0 with both skipped as existing; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Lstat(filepath.Join(out, "f.bin.part.meta")); err == nil {
		t.Errorf("f.bin.part.meta, the item's own sidecar without a part, is still there")
	}
	if _, err := os.Lstat(filepath.Join(out, "g.bin.part.meta")); err != nil {
		t.Errorf("g.bin.part.meta, another URL's, is gone: %v", err)
	}
}

// TestEndToEndRenameResumesOwnPart: with --on-exists rename, the item's own
// part left beside the existing file by an interrupted run (NAME.part, its
// sidecar naming the item's URL) is resumed, as the contract resumes any
// part, and saved under the free name the new file gets; the existing file
// is left untouched, and nothing is left of the part. A sidecar of the
// item's alone, without a part, is removed. Before, the item was fetched
// again from zero under name.1.ext, and the part stayed for ever.
func TestEndToEndRenameResumesOwnPart(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 40<<10) // 640 KiB
	var ranges atomic.Value
	ranges.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/f.bin" {
			ranges.Store(r.Header.Get("Range"))
		}
		http.ServeContent(w, r, "", modTime, bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	url := srv.URL + "/f.bin"
	half := len(body) / 2
	for _, name := range []string{"f.bin", "g.bin"} {
		os.WriteFile(filepath.Join(out, name), []byte("existing"), 0o644)
	}
	os.WriteFile(filepath.Join(out, "f.bin.part"), body[:half], 0o644)
	os.WriteFile(filepath.Join(out, "f.bin.part.meta"),
		[]byte(`{"url":"`+url+`","last_modified":"`+modTime.Format(http.TimeFormat)+`","length":`+fmt.Sprint(len(body))+`}`), 0o644)
	os.WriteFile(filepath.Join(out, "g.bin.part.meta"), []byte(`{"url":"`+srv.URL+`/g.bin","length":-1}`), 0o644)

	r := fetchpool(t, dir, url+"\n"+srv.URL+"/g.bin\n", "-o", "out", "--no-progress", "--json", "--on-exists", "rename")
	if r.code != 0 || !strings.Contains(r.stderr, "done 2, skipped 0, failed 0") {
		t.Fatalf("exit %d, want 0 with both done; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got, want := ranges.Load(), fmt.Sprintf("bytes=%d-", half); got != want {
		t.Errorf("f.bin was asked for with Range %q, want %q: the part was not resumed", got, want)
	}
	if want := `"output":"` + filepath.Join("out", "f.1.bin") + `","status":"ok","bytes":` + fmt.Sprint(len(body)-half) + `,`; !strings.Contains(r.stdout, want) {
		t.Errorf("--json does not say %s:\n%s", want, r.stdout)
	}
	if got := readFile(t, filepath.Join(out, "f.1.bin")); !bytes.Equal(got, body) {
		t.Errorf("f.1.bin holds %d bytes, not the file's %d", len(got), len(body))
	}
	for _, name := range []string{"f.bin", "g.bin"} {
		if got := readFile(t, filepath.Join(out, name)); string(got) != "existing" {
			t.Errorf("%s was changed", name)
		}
	}
	if got, want := filesUnder(t, out), []string{"f.1.bin", "f.bin", "g.1.bin", "g.bin"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the output directory holds %v, want %v", got, want)
	}
}

// TestEndToEndFailedListResumesServerNamedPart: an item that its server
// names like another item of the run (Content-Disposition) is saved as
// name.1.ext, and when it fails, its --failed line gives that name; its
// part, kept under the URL's name "to resume", is resumed by the run of
// that list, and nothing of it is left. Before, that run fetched the file
// again from zero, and the part and its sidecar stayed for ever.
func TestEndToEndFailedListResumesServerNamedPart(t *testing.T) {
	a := bytes.Repeat([]byte("a"), 1000)
	b := bytes.Repeat([]byte("0123456789abcdef"), 40<<10) // 640 KiB: its sidecar comes first
	var cut atomic.Bool
	cut.Store(true)
	var ranges atomic.Value
	ranges.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="x.bin"`)
		body := a
		if r.URL.Path == "/b" {
			body = b
			ranges.Store(r.Header.Get("Range"))
			if cut.Load() {
				w.Header().Set("Last-Modified", modTime.Format(http.TimeFormat))
				w.Header().Set("Content-Length", fmt.Sprint(len(b)))
				w.Write(b[:len(b)/2])
				return
			}
		}
		http.ServeContent(w, r, "", modTime, bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	r := fetchpool(t, dir, srv.URL+"/a\n"+srv.URL+"/b\n", "-o", "out", "-j", "1", "--retries", "0", "--no-progress", "--failed", "failed.txt")
	if r.code != 1 || !strings.Contains(r.stderr, filepath.Join("out", "b.part")+" kept") {
		t.Fatalf("first run: exit %d, want 1 with b.part kept; stderr:\n%s", r.code, r.stderr)
	}
	if got, want := string(readFile(t, filepath.Join(dir, "failed.txt"))), srv.URL+"/b\tx.1.bin\n"; got != want {
		t.Fatalf("failed.txt holds %q, want %q", got, want)
	}
	cut.Store(false)
	r = fetchpool(t, dir, "", "-o", "out", "--no-progress", "--json", "-i", "failed.txt")
	if r.code != 0 || !strings.Contains(r.stderr, "done 1, skipped 0, failed 0") {
		t.Fatalf("run of the failed list: exit %d, want 0 with it done; stderr:\n%s", r.code, r.stderr)
	}
	if got, want := ranges.Load(), fmt.Sprintf("bytes=%d-", len(b)/2); got != want {
		t.Errorf("the run of the failed list asked with Range %q, want %q: b.part was not resumed", got, want)
	}
	if got := readFile(t, filepath.Join(out, "x.1.bin")); !bytes.Equal(got, b) {
		t.Errorf("x.1.bin holds %d bytes, not /b's %d", len(got), len(b))
	}
	if got, want := filesUnder(t, out), []string{"x.1.bin", "x.bin"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the output directory holds %v, want %v", got, want)
	}
}
