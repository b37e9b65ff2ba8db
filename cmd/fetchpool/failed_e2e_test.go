package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/naming"
)

// brokenServer serves content(path) for any path. While broken is set, a
// request with "fail=503" in its query is answered 503, and one with
// "fail=cut" gets half of its body and a closed connection. "cd=NAME" in
// the query names the file in Content-Disposition (broken or not).
type brokenServer struct {
	*httptest.Server
	broken   atomic.Bool
	requests atomic.Int64
}

func newBrokenServer(t *testing.T) *brokenServer {
	t.Helper()
	s := &brokenServer{}
	s.broken.Store(true)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		q := r.URL.Query()
		if name := q.Get("cd"); name != "" {
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		}
		body := content(r.URL.Path)
		switch {
		case !s.broken.Load():
		case q.Get("fail") == "503":
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		case q.Get("fail") == "cut":
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body[:len(body)/2]) // net/http closes the connection: the body is short
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}))
	t.Cleanup(s.Close)
	return s
}

// TestEndToEndFailedKeepsNames: an item that failed under a name other than
// the one its input line alone gives it (a ".N" suffix because the plain
// name was taken, or its server's name) is listed in --failed with that
// name, and `fetchpool -i FILE` then fetches it into that name instead of
// skipping it because the plain name exists. An item that had its plain
// name is listed as given, so that a server's Content-Disposition name can
// still apply on the retry.
func TestEndToEndFailedKeepsNames(t *testing.T) {
	srv := newBrokenServer(t)
	u := srv.URL
	keep := func(path string) string {
		pu, err := url.Parse(u + path)
		if err != nil {
			t.Fatal(err)
		}
		return filepath.ToSlash(naming.KeepPath(pu))
	}
	local := func(dir, name, text string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sumB := sum(content("/b/x.txt"))
	for _, tt := range []struct {
		name   string
		before map[string]string // files under dir before the first run
		list   []string
		args   []string // for both runs
		// failed is the --failed list of the first run.
		failed []string
		// fixed are files made between the runs (the server is mended too).
		fixed map[string]string
		// want is what the retry leaves under out/: a file's content, or
		// the path whose content(path) it holds when it starts with '/'.
		want map[string]string
	}{{
		name:   "local file after a clash",
		before: map[string]string{"src/d1/x.txt": "one\n"},
		list:   []string{"src/d1/x.txt", "src/d2/x.txt"},
		failed: []string{"src/d2/x.txt\tx.1.txt"},
		fixed:  map[string]string{"src/d2/x.txt": "TWO\n"},
		want:   map[string]string{"x.txt": "one\n", "x.1.txt": "TWO\n"},
	}, {
		name:   "URL after a clash",
		list:   []string{u + "/a/x.txt", u + "/b/x.txt?fail=503"},
		failed: []string{u + "/b/x.txt?fail=503\tx.1.txt"},
		want:   map[string]string{"x.txt": "/a/x.txt", "x.1.txt": "/b/x.txt"},
	}, {
		name:   "JSON item after a clash, with its digest",
		list:   []string{u + "/a/x.txt", fmt.Sprintf(`{"url": %q, "sha256": %q}`, u+"/b/x.txt?fail=503", sumB)},
		failed: []string{fmt.Sprintf(`{"url":%q,"output":"x.1.txt","sha256":%q}`, u+"/b/x.txt?fail=503", sumB)},
		want:   map[string]string{"x.txt": "/a/x.txt", "x.1.txt": "/b/x.txt"},
	}, {
		name:   "explicit name after a clash",
		list:   []string{u + "/a/x.txt\tsub/same.txt", u + "/b/x.txt?fail=503\tsub/same.txt"},
		failed: []string{u + "/b/x.txt?fail=503\tsub/same.1.txt"},
		want:   map[string]string{"sub/same.txt": "/a/x.txt", "sub/same.1.txt": "/b/x.txt"},
	}, {
		name:   "keep-paths after a case clash",
		list:   []string{u + "/a/X.txt", u + "/a/x.txt?fail=503"},
		args:   []string{"-x"},
		failed: []string{u + "/a/x.txt?fail=503\t" + naming.WithSuffix(keep("/a/x.txt"), 1)},
		want:   map[string]string{keep("/a/X.txt"): "/a/X.txt", naming.WithSuffix(keep("/a/x.txt"), 1): "/a/x.txt"},
	}, {
		name:   "--on-exists rename, a file before the run",
		before: map[string]string{"out/x.txt": "old"},
		list:   []string{u + "/b/x.txt?fail=503"},
		args:   []string{"--on-exists", "rename"},
		failed: []string{u + "/b/x.txt?fail=503\tx.1.txt"},
		want:   map[string]string{"x.txt": "old", "x.1.txt": "/b/x.txt"},
	}, {
		name:   "--checksums entry of the plain name",
		before: map[string]string{"SUMS": sumB + "  x.txt\n"},
		list:   []string{u + "/b/x.txt", u + "/b/x.txt?fail=503"},
		args:   []string{"--checksums", "SUMS"},
		failed: []string{fmt.Sprintf(`{"url":%q,"output":"x.1.txt","sha256":%q}`, u+"/b/x.txt?fail=503", sumB)},
		want:   map[string]string{"x.txt": "/b/x.txt", "x.1.txt": "/b/x.txt"},
	}, {
		name:   "server's name after a clash",
		list:   []string{u + "/a/x.txt", u + "/b/x.txt?fail=cut&cd=report.pdf"},
		failed: []string{u + "/b/x.txt?fail=cut&cd=report.pdf\treport.pdf"},
		want:   map[string]string{"x.txt": "/a/x.txt", "report.pdf": "/b/x.txt"},
	}, {
		name:   "server's name taken",
		list:   []string{u + "/a/report.pdf", u + "/b/y?fail=cut&cd=report.pdf"},
		failed: []string{u + "/b/y?fail=cut&cd=report.pdf\treport.1.pdf"},
		want:   map[string]string{"report.pdf": "/a/report.pdf", "report.1.pdf": "/b/y"},
	}, {
		name:   "plain name: as given, the server names it on the retry",
		list:   []string{u + "/b/doc?fail=503&cd=report.pdf"},
		failed: []string{u + "/b/doc?fail=503&cd=report.pdf"},
		want:   map[string]string{"report.pdf": "/b/doc"},
	}, {
		// The failed item has no name: the next one gets the plain name.
		name:   "failed before it was named",
		list:   []string{u + "/b/x.txt\t../x.txt", u + "/c/x.txt?fail=503"},
		failed: []string{u + "/b/x.txt\t../x.txt", u + "/c/x.txt?fail=503"},
		want:   map[string]string{"x.txt": "/c/x.txt"},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			srv.broken.Store(true)
			dir := t.TempDir()
			for name, text := range tt.before {
				local(dir, name, text)
			}
			local(dir, "list.txt", strings.Join(tt.list, "\n")+"\n")
			args := append([]string{"-j", "1", "-o", "out", "--retries", "0"}, tt.args...)

			r := fetchpool(t, dir, "", append(args, "-i", "list.txt", "--failed", "failed.txt")...)
			if r.code != 1 {
				t.Fatalf("first run: exit %d, want 1; stderr:\n%s", r.code, r.stderr)
			}
			failed := readLines(t, filepath.Join(dir, "failed.txt"))
			if !slices.Equal(failed, tt.failed) {
				t.Errorf("--failed:\n%q\nwant:\n%q", failed, tt.failed)
			}

			srv.broken.Store(false)
			for name, text := range tt.fixed {
				local(dir, name, text)
			}
			r = fetchpool(t, dir, "", append(args, "-i", "failed.txt", "--failed", "failed2.txt")...)
			wantCode := 0
			if strings.Contains(tt.name, "before it was named") {
				wantCode = 1 // its name is still unsafe
			}
			if r.code != wantCode || strings.Contains(r.stderr, "skip ") {
				t.Fatalf("retry: exit %d, want %d and nothing skipped; stderr:\n%s", r.code, wantCode, r.stderr)
			}
			for name, want := range tt.want {
				if strings.HasPrefix(want, "/") {
					want = string(content(want))
				}
				if got := readFile(t, filepath.Join(dir, "out", name)); string(got) != want {
					t.Errorf("out/%s holds %.40q, want %.40q", name, got, want)
				}
			}
		})
	}
}

// TestEndToEndFailedKeepsTheSHA256Flag: --sha256 is given on the command
// line for a single argument, and -i cannot take it: an item that failed
// is listed in --failed with that digest (as a JSON line), so that the
// retry, fetchpool -i FILE, checks the file as the first run would have,
// and does not save whatever it gets.
func TestEndToEndFailedKeepsTheSHA256Flag(t *testing.T) {
	srv := newBrokenServer(t)
	u := srv.URL + "/b/x.txt?fail=503"
	for _, tt := range []struct {
		name, sha256 string
		code         int // of the retry
	}{
		{"the right digest", sum(content("/b/x.txt")), 0},
		{"a digest that does not match", sum([]byte("other")), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv.broken.Store(true)
			dir := t.TempDir()
			r := fetchpool(t, dir, "", "-o", "out", "--retries", "0", "--sha256", tt.sha256, "--failed", "failed.txt", u)
			if r.code != 1 {
				t.Fatalf("first run: exit %d, want 1; stderr:\n%s", r.code, r.stderr)
			}
			want := []string{fmt.Sprintf(`{"url":%q,"sha256":%q}`, u, tt.sha256)}
			if failed := readLines(t, filepath.Join(dir, "failed.txt")); !slices.Equal(failed, want) {
				t.Errorf("--failed:\n%q\nwant:\n%q", failed, want)
			}

			srv.broken.Store(false)
			r = fetchpool(t, dir, "", "-o", "out", "--retries", "0", "-i", "failed.txt")
			if r.code != tt.code {
				t.Fatalf("retry: exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			got, err := os.ReadFile(filepath.Join(dir, "out", "x.txt"))
			switch {
			case tt.code == 0 && !bytes.Equal(got, content("/b/x.txt")):
				t.Errorf("out/x.txt holds %.40q, want the resource", got)
			case tt.code != 0 && err == nil:
				t.Errorf("out/x.txt was saved though it does not match --sha256: %.40q", got)
			}
		})
	}
}

// TestEndToEndFailedNeverAltersALine: --failed lists a line whose text the
// run does not hold whole (longer than the longest line it reads, or not
// text) as a comment that says where it was, never as the shortened or
// quoted form the messages show, which reads back as another item (the
// start of a long URL is a URL too, and was fetched and reported ok); a URL
// with a password is listed whole, not as it is shown.
func TestEndToEndFailedNeverAltersALine(t *testing.T) {
	srv := newBrokenServer(t)
	withPassword := strings.Replace(srv.URL, "://", "://ann:s3cr3t@", 1) + "/p/x.txt?fail=503"
	for _, tt := range []struct {
		name   string
		list   []string
		args   []string
		failed []string
		asked  int64 // requests of the retry
	}{{
		name:   "line too long",
		list:   []string{srv.URL + "/long/" + strings.Repeat("a", 70000)},
		failed: []string{"# list.txt:1: line is longer than 65536 bytes, not copied here"},
	}, {
		name:   "line too long, not text either",
		list:   []string{srv.URL + "/long/\x01" + strings.Repeat("a", 70000)},
		failed: []string{"# list.txt:1: line is longer than 65536 bytes, not copied here"},
	}, {
		name:   "line not text",
		list:   []string{srv.URL + "/bin/\x01x"},
		failed: []string{"# list.txt:1: line is not valid text (binary data?), not copied here"},
	}, {
		name:   "argument not text",
		args:   []string{srv.URL + "/bin/\x01x"},
		failed: []string{"# arg 1: argument is not valid text (invalid UTF-8 or a control character), not copied here"},
	}, {
		name:   "a password",
		list:   []string{withPassword},
		failed: []string{withPassword},
		asked:  1,
	}, {
		name:   "a password in an unsupported URL",
		list:   []string{"ftp://ann:s3cr3t@example.com/x.txt"},
		failed: []string{"ftp://ann:s3cr3t@example.com/x.txt"},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			srv.broken.Store(true)
			dir := t.TempDir()
			args := append([]string{"-o", "out", "--retries", "0", "--failed", "failed.txt"}, tt.args...)
			if tt.list != nil {
				if err := os.WriteFile(filepath.Join(dir, "list.txt"), []byte(strings.Join(tt.list, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-i", "list.txt")
			}
			r := fetchpool(t, dir, "", args...)
			if r.code != 1 {
				t.Fatalf("first run: exit %d, want 1; stderr:\n%s", r.code, r.stderr)
			}
			if failed := readLines(t, filepath.Join(dir, "failed.txt")); !slices.Equal(failed, tt.failed) {
				t.Errorf("--failed:\n%.200q\nwant:\n%q", failed, tt.failed)
			}

			srv.broken.Store(false)
			before := srv.requests.Load()
			r = fetchpool(t, dir, "", "-o", "out", "--retries", "0", "-i", "failed.txt", "--failed", "failed2.txt")
			asked := srv.requests.Load() - before
			wantCode := 0
			if strings.Contains(tt.name, "unsupported") {
				wantCode = 1
			}
			if r.code != wantCode || asked != tt.asked {
				t.Errorf("retry: exit %d with %d requests, want %d with %d; stderr:\n%.500s", r.code, asked, wantCode, tt.asked, r.stderr)
			}
		})
	}
}
