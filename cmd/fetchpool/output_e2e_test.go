package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// outputServer serves content(path) with a Content-Length for every path,
// except:
//
//	/missing/...   404
//	/flaky/...     503 while failing is set
//	/once/...      503 the first time each path is asked for
//	/redirect/P    302 to /P
//	/trickle/...   the body in 10 pieces, 50ms apart
//	/hold/...      nothing until hold is closed (or the client goes away)
//
// It records the path of every request.
type outputServer struct {
	*httptest.Server
	failing atomic.Bool
	hold    chan struct{}
	once    sync.Once

	mu    sync.Mutex
	paths []string
	seen  map[string]bool
}

func newOutputServer(t *testing.T) *outputServer {
	t.Helper()
	s := &outputServer{hold: make(chan struct{}), seen: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	t.Cleanup(s.unhold) // runs first: Close waits for the handlers
	return s
}

func (s *outputServer) unhold() { s.once.Do(func() { close(s.hold) }) }

// requests returns the paths asked for so far, and forgets them.
func (s *outputServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.paths
	s.paths = nil
	return p
}

func (s *outputServer) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	s.mu.Lock()
	s.paths = append(s.paths, path)
	first := !s.seen[path]
	s.seen[path] = true
	s.mu.Unlock()
	body := content(path)
	switch {
	case strings.HasPrefix(path, "/missing/"):
		http.NotFound(w, r)
		return
	case strings.HasPrefix(path, "/flaky/") && s.failing.Load(),
		strings.HasPrefix(path, "/once/") && first:
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	case strings.HasPrefix(path, "/redirect/"):
		http.Redirect(w, r, strings.TrimPrefix(path, "/redirect"), http.StatusFound)
		return
	case strings.HasPrefix(path, "/hold/"):
		select {
		case <-s.hold:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if !strings.HasPrefix(path, "/trickle/") {
		w.Write(body)
		return
	}
	piece := len(body)/10 + 1
	for len(body) > 0 {
		n := min(piece, len(body))
		w.Write(body[:n])
		w.(http.Flusher).Flush()
		body = body[n:]
		select {
		case <-time.After(50 * time.Millisecond): // pacing, not waiting for state
		case <-r.Context().Done():
			return
		}
	}
}

// stderrLines splits stderr into the lines before the summary and the
// summary's lines.
func stderrLines(t *testing.T, stderr string) (items, summary []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	for i, l := range lines {
		if summaryRx.MatchString(l) {
			return lines[:i], lines[i:]
		}
	}
	t.Fatalf("no summary line on stderr:\n%s", stderr)
	return nil, nil
}

// TestOutputPlainLines: off a terminal (stderr is a pipe), a mix of items
// that end ok, skipped and failed gives one line per item, each with its
// label and reason, then the summary and the failures; not one escape byte
// and, in a run shorter than the 10 s heartbeat, no status line.
func TestOutputPlainLines(t *testing.T) {
	srv := newOutputServer(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "out"), 0o755)
	os.WriteFile(filepath.Join(dir, "out", "old.txt"), []byte("old"), 0o644)
	start := time.Now()
	r := fetchpool(t, dir, "", "-o", "out", "--retries", "0",
		srv.URL+"/a.txt", srv.URL+"/trickle/slow.bin", srv.URL+"/old.txt",
		srv.URL+"/missing/gone.txt", "ftp://example.com/file", "./no-such-file")
	took := time.Since(start)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if i := strings.IndexByte(r.stderr, 0x1b); i >= 0 {
		t.Errorf("an escape byte on a non-terminal stderr: %q", r.stderr[i:min(i+10, len(r.stderr))])
	}
	if r.stdout != "" {
		t.Errorf("stdout is not empty without --json: %q", r.stdout)
	}
	items, summary := stderrLines(t, r.stderr)
	want := []string{
		`^ok   out/a\.txt  \d+\.\d KiB  \S+$`,
		`^ok   out/slow\.bin  \d+\.\d KiB  \S+$`,
		`^skip out/old\.txt  \(.*exist.*\)$`,
		`^FAIL arg 4 ` + srv.URL + `/missing/gone\.txt: .*404`,
		`^FAIL arg 5 ftp://example\.com/file: .*ftp`,
		`^FAIL arg 6 \./no-such-file: .*no-such-file|^FAIL arg 6 \./no-such-file: .*(no such|not found|missing)`,
	}
	matchOnce(t, "item line", items, want)
	if !strings.HasPrefix(summary[0], "done 2, skipped 1, failed 3, not started 0") {
		t.Errorf("summary %q, want done 2, skipped 1, failed 3, not started 0", summary[0])
	}
	matchOnce(t, "summary line", summary[1:], want[3:])
	if took < 10*time.Second {
		for _, l := range items {
			if strings.Contains(l, "in flight") {
				t.Errorf("a heartbeat in a run of %v, shorter than its 10s: %q", took, l)
			}
		}
	}
}

// matchOnce checks that each pattern matches exactly one of lines, and each
// line exactly one pattern.
func matchOnce(t *testing.T, what string, lines, patterns []string) {
	t.Helper()
	rxs := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		rxs[i] = regexp.MustCompile(p)
	}
	hits := make([]int, len(patterns))
	for _, l := range lines {
		n := 0
		for i, rx := range rxs {
			if rx.MatchString(l) {
				hits[i]++
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s %q matches %d of the expected lines, want 1", what, l, n)
		}
	}
	for i, p := range patterns {
		if hits[i] != 1 {
			t.Errorf("%d %ss match %q, want 1; lines:\n%s", hits[i], what, p, strings.Join(lines, "\n"))
		}
	}
}

// TestOutputVerbose: -v adds a line for each attempt, retry and redirect;
// without it there are none.
func TestOutputVerbose(t *testing.T) {
	srv := newOutputServer(t)
	for _, verbose := range []bool{true, false} {
		t.Run("verbose="+strconv.FormatBool(verbose), func(t *testing.T) {
			dir := t.TempDir()
			prefix := "/" + strconv.FormatBool(verbose) // a path of its own: /once/ is per path
			args := []string{"-o", "out", "--retry-wait", "1ms", "-j", "1",
				srv.URL + "/redirect" + prefix + "/target.txt", srv.URL + "/once" + prefix + "/flaky.txt"}
			if verbose {
				args = append(args, "-v")
			}
			r := fetchpool(t, dir, "", args...)
			if r.code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			lines, _ := stderrLines(t, r.stderr)
			redirect, flaky := srv.URL+"/redirect"+prefix+"/target.txt", srv.URL+"/once"+prefix+"/flaky.txt"
			want := []string{
				`^try 1 ` + redirect + `$`,
				`^redirect 1 ` + redirect + ` -> .*` + prefix + `/target\.txt$`,
				`^try 1 ` + flaky + `$`,
				`^retry ` + flaky + ` in \S+: .*503`,
				`^try 2 ` + flaky + `$`,
				`^ok   out/target\.txt `,
				`^ok   out/flaky\.txt `,
			}
			if !verbose {
				want = want[len(want)-2:]
			}
			matchOnce(t, "line", lines, want)
		})
	}
}

// TestOutputQuiet: -q off a terminal prints only the failures and the
// summary.
func TestOutputQuiet(t *testing.T) {
	srv := newOutputServer(t)
	dir := t.TempDir()
	for _, flag := range []string{"-q", "--quiet"} {
		r := fetchpool(t, dir, "", flag, "-o", "out", "--retries", "0", "--on-exists", "overwrite",
			srv.URL+"/a.txt", srv.URL+"/b.txt", srv.URL+"/missing/c.txt")
		if r.code != 1 {
			t.Fatalf("%s: exit %d, want 1; stderr:\n%s", flag, r.code, r.stderr)
		}
		lines, summary := stderrLines(t, r.stderr)
		failure := `^FAIL arg 3 ` + srv.URL + `/missing/c\.txt: .*404`
		matchOnce(t, flag+" line", lines, []string{failure})
		if !strings.HasPrefix(summary[0], "done 2, skipped 0, failed 1") {
			t.Errorf("%s: summary %q", flag, summary[0])
		}
		matchOnce(t, flag+" summary line", summary[1:], []string{failure})
	}
}

// record is a --json line (and an item of --report), decoded strictly.
type record struct {
	URL        string `json:"url"`
	FinalURL   string `json:"final_url"`
	Output     string `json:"output"`
	Status     string `json:"status"`
	Bytes      int64  `json:"bytes"`
	Size       int64  `json:"size"`
	SHA256     string `json:"sha256"`
	HTTPStatus int    `json:"http_status"`
	Attempts   int    `json:"attempts"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error"`
	Reason     string `json:"reason"`
}

// recordFields are the fields every record has; optionalFields those it
// may have besides.
var (
	recordFields   = []string{"attempts", "bytes", "duration_ms", "error", "http_status", "output", "sha256", "size", "status", "url"}
	optionalFields = map[string]bool{"final_url": true, "reason": true}
)

// decodeRecord decodes one JSON object that must have exactly the fields
// of a record, and may have its optional ones.
func decodeRecord(t *testing.T, raw []byte) record {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("not a JSON object: %q: %v", raw, err)
	}
	maps.DeleteFunc(fields, func(k string, _ json.RawMessage) bool { return optionalFields[k] })
	if got := slices.Sorted(maps.Keys(fields)); !slices.Equal(got, recordFields) {
		t.Errorf("fields %q, want %q: %s", got, recordFields, raw)
	}
	var rec record
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return rec
}

// checkOnDisk checks an ok record against the file it names: its size and
// its SHA-256, and the bytes served.
func checkOnDisk(t *testing.T, dir string, rec record, served []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, rec.Output))
	if err != nil {
		t.Errorf("%s: the output it names: %v", rec.URL, err)
		return
	}
	if rec.Size != int64(len(data)) || rec.Bytes != rec.Size || rec.SHA256 != sum(data) {
		t.Errorf("%s: size %d bytes %d sha256 %s, but %s holds %d bytes with sha256 %s",
			rec.URL, rec.Size, rec.Bytes, rec.SHA256, rec.Output, len(data), sum(data))
	}
	if !bytes.Equal(data, served) {
		t.Errorf("%s: %s does not hold what was served", rec.URL, rec.Output)
	}
}

// TestOutputJSON: with --json, stdout is one JSON object per finished item
// and nothing else, with exactly the documented fields; the output path,
// bytes and sha256 of each ok item match the file on disk.
func TestOutputJSON(t *testing.T) {
	srv := newOutputServer(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "out"), 0o755)
	os.WriteFile(filepath.Join(dir, "out", "old.txt"), []byte("old"), 0o644)
	bad := strings.Repeat("0", 64)
	list := srv.URL + "/a.txt\n" +
		srv.URL + "/b\tsub/named.bin\n" +
		fmt.Sprintf(`{"url": %q, "output": "sub/j.bin", "sha256": %q}`, srv.URL+"/j", sum(content("/j"))) + "\n" +
		fmt.Sprintf(`{"url": %q, "sha256": %q}`, srv.URL+"/bad.bin", bad) + "\n" +
		srv.URL + "/old.txt\n" +
		srv.URL + "/missing/gone.txt\n"
	r := fetchpool(t, dir, list, "--json", "-o", "out", "--retries", "0")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.HasSuffix(r.stdout, "\n") {
		t.Errorf("stdout does not end with a newline: %q", r.stdout)
	}
	recs := map[string]record{}
	for l := range strings.Lines(r.stdout) {
		rec := decodeRecord(t, []byte(l))
		if _, dup := recs[rec.URL]; dup {
			t.Errorf("two lines for %s", rec.URL)
		}
		recs[rec.URL] = rec
	}
	if len(recs) != 6 {
		t.Fatalf("%d JSON lines, want one per item (6):\n%s", len(recs), r.stdout)
	}
	for path, name := range map[string]string{"/a.txt": "a.txt", "/b": "sub/named.bin", "/j": "sub/j.bin"} {
		rec := recs[srv.URL+path]
		if rec.Status != "ok" || rec.Output != filepath.Join("out", name) || rec.HTTPStatus != 200 ||
			rec.Attempts != 1 || rec.Error != "" || rec.DurationMS < 0 {
			t.Errorf("%s: %+v, want ok into out/%s, HTTP 200, 1 attempt, no error", path, rec, name)
		}
		checkOnDisk(t, dir, rec, content(path))
	}
	if rec := recs[srv.URL+"/old.txt"]; rec.Status != "skipped" || rec.Output != filepath.Join("out", "old.txt") ||
		rec.Bytes != 0 || rec.Error != "" || rec.Reason != "exists" {
		t.Errorf("skipped item: %+v", rec)
	}
	if got := readFile(t, filepath.Join(dir, "out", "old.txt")); string(got) != "old" {
		t.Errorf("the skipped file changed: %q", got)
	}
	if rec := recs[srv.URL+"/bad.bin"]; rec.Status != "failed" || !strings.Contains(rec.Error, "sha256") {
		t.Errorf("checksum mismatch: %+v, want failed with the reason", rec)
	}
	if rec := recs[srv.URL+"/missing/gone.txt"]; rec.Status != "failed" || rec.HTTPStatus != 404 ||
		rec.Attempts != 1 || rec.Bytes != 0 || !strings.Contains(rec.Error, "404") {
		t.Errorf("404: %+v", rec)
	}
	if _, summary := stderrLines(t, r.stderr); !strings.HasPrefix(summary[0], "done 3, skipped 1, failed 2") {
		t.Errorf("summary %q", summary[0])
	}
}

// TestOutputFinalURL: a --json and --report record has "final_url", the
// URL a redirect led to, beside "url", the item's URL as given; an item
// that was not redirected has none. A failure at the target has it too.
func TestOutputFinalURL(t *testing.T) {
	srv := newOutputServer(t)
	dir := t.TempDir()
	want := map[string]string{ // url -> final_url
		srv.URL + "/direct.txt":                  "",
		srv.URL + "/redirect/moved.txt":          srv.URL + "/moved.txt",
		srv.URL + "/redirect/missing/target.txt": srv.URL + "/missing/target.txt",
	}
	list := strings.Join(slices.Sorted(maps.Keys(want)), "\n") + "\n"
	r := fetchpool(t, dir, list, "-o", "out", "--retries", "0", "--json", "--report", "report.json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (one target is missing); stderr:\n%s", r.code, r.stderr)
	}
	var report struct{ Items []json.RawMessage }
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "report.json")), &report); err != nil {
		t.Fatal(err)
	}
	raws := report.Items
	for l := range strings.Lines(r.stdout) {
		raws = append(raws, json.RawMessage(l))
	}
	if len(raws) != 2*len(want) {
		t.Fatalf("%d records in --json and --report, want %d:\n%s", len(raws), 2*len(want), r.stdout)
	}
	for _, raw := range raws {
		rec := decodeRecord(t, raw)
		final, ok := want[rec.URL]
		switch {
		case !ok:
			t.Errorf("a record of an item not in the list: %s", raw)
		case final == "" && bytes.Contains(raw, []byte(`"final_url"`)):
			t.Errorf("%s: a final_url without a redirect", raw)
		case rec.FinalURL != final:
			t.Errorf("%s: final_url %q, want %q", raw, rec.FinalURL, final)
		}
	}
	if got := readFile(t, filepath.Join(dir, "out", "moved.txt")); !bytes.Equal(got, content("/moved.txt")) {
		t.Errorf("the redirected item holds %q, not the target's body", got)
	}
}

// TestOutputFailuresInInputOrder: the summary lists failures in the order
// of the input, though they ended in another: with -j 2, the first item
// fails only once the second has failed and the third is asked for.
func TestOutputFailuresInInputOrder(t *testing.T) {
	third := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/1":
			select {
			case <-third:
			case <-r.Context().Done():
			}
		case "/3":
			close(third)
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	r := fetchpool(t, t.TempDir(), "", "-j", "2", "--retries", "0", srv.URL+"/1", srv.URL+"/2", srv.URL+"/3")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	lines, summary := stderrLines(t, r.stderr)
	fail := func(n int) string {
		return fmt.Sprintf("FAIL arg %d %s/%d: HTTP 404 Not Found (1 attempt)", n, srv.URL, n)
	}
	if len(lines) != 3 || !strings.HasPrefix(lines[0], strings.TrimSuffix(fail(2), " (1 attempt)")) {
		t.Fatalf("the items' lines, as they end: %q, want the second item's first", lines)
	}
	if want := []string{fail(1), fail(2), fail(3)}; !slices.Equal(summary[1:], want) {
		t.Errorf("the summary lists\n%s\nwant\n%s", strings.Join(summary[1:], "\n"), strings.Join(want, "\n"))
	}
}

// TestOutputSkipReasons: a skipped item did not fail, so its --json and
// --report "error" is "", and "reason" says why it was skipped, whichever
// way it was: the name exists (--on-exists skip), the server's
// Content-Disposition name exists, the server answers 304 or sends a copy
// that is not newer, or a local source is not newer (--on-exists newer).
// The item's line on stderr says the same. An ok item has no "reason".
func TestOutputSkipReasons(t *testing.T) {
	old := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cd" {
			w.Header().Set("Content-Disposition", `attachment; filename="cd-name.txt"`)
		}
		http.ServeContent(w, r, "", old, bytes.NewReader(content(r.URL.Path)))
	}))
	defer srv.Close()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	for _, name := range []string{"a.txt", "cd-name.txt", "same.txt", "local.txt"} {
		os.WriteFile(filepath.Join(out, name), []byte("already here"), 0o644) // mtime now: newer than old
	}
	local := filepath.Join(dir, "local.txt")
	os.WriteFile(local, []byte("local"), 0o644)
	os.Chtimes(local, old, old)

	tests := []struct {
		onExists string
		items    map[string]string // URL -> reason
	}{
		{"skip", map[string]string{
			srv.URL + "/a.txt": "exists",
			srv.URL + "/cd":    "a file with the server's name exists",
			srv.URL + "/new":   "", // ok
		}},
		{"newer", map[string]string{
			srv.URL + "/same.txt": "not modified on the server", // 304
			srv.URL + "/cd":       "not modified on the server", // not newer, judged once it names the file
			local:                 "the source is not newer",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.onExists, func(t *testing.T) {
			list := strings.Join(slices.Sorted(maps.Keys(tt.items)), "\n") + "\n"
			r := fetchpool(t, dir, list, "--on-exists", tt.onExists, "-o", "out", "--json", "--report", "report.json")
			if r.code != 0 {
				t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
			}
			var report struct{ Items []json.RawMessage }
			if err := json.Unmarshal(readFile(t, filepath.Join(dir, "report.json")), &report); err != nil {
				t.Fatal(err)
			}
			var raws [][]byte
			for l := range strings.Lines(r.stdout) {
				raws = append(raws, []byte(l))
			}
			for _, raw := range report.Items {
				raws = append(raws, raw)
			}
			if len(raws) != 2*len(tt.items) {
				t.Fatalf("%d records in --json and --report, want %d:\n%s", len(raws), 2*len(tt.items), r.stdout)
			}
			for _, raw := range raws {
				rec := decodeRecord(t, raw)
				want, ok := tt.items[rec.URL]
				switch {
				case !ok:
					t.Errorf("a record of an item not in the list: %s", raw)
				case want == "" && (rec.Status != "ok" || rec.Error != "" || bytes.Contains(raw, []byte(`"reason"`))):
					t.Errorf("%s, want ok with no error and no reason", raw)
				case want != "" && (rec.Status != "skipped" || rec.Error != "" || rec.Reason != want):
					t.Errorf("%s, want skipped with error \"\" and reason %q", raw, want)
				case want != "" && !strings.Contains(r.stderr, "  ("+want+")"):
					t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
				case want != "" && rec.Size != int64(len("already here")):
					t.Errorf("%s: size %d, want the kept file's %d", raw, rec.Size, len("already here"))
				}
			}
		})
	}
}

// TestOutputJSONStreams: each --json line is written when its item ends,
// not when the run does: the server holds the second item until the test
// has read the first item's line from stdout.
func TestOutputJSONStreams(t *testing.T) {
	srv := newOutputServer(t)
	dir := t.TempDir()
	cmd := newCommand(dir, "--json", "-o", "out", "-j", "2", srv.URL+"/first.txt", srv.URL+"/hold/second.txt")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string)
	go func() {
		br := bufio.NewReader(stdout)
		for {
			l, err := br.ReadString('\n')
			if l != "" {
				lines <- l
			}
			if err != nil {
				close(lines)
				exited <- cmd.Wait()
				return
			}
		}
	}()
	t.Cleanup(func() {
		srv.unhold()
		cmd.Process.Kill()
		for range lines {
		}
	})

	next := func() record {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stdout closed early; stderr:\n%s", &stderr)
			}
			return decodeRecord(t, []byte(l))
		case <-time.After(patience):
			t.Fatalf("no JSON line on stdout after %v while the second item is held: output is not streamed", patience)
		}
		return record{}
	}
	if rec := next(); rec.URL != srv.URL+"/first.txt" || rec.Status != "ok" {
		t.Fatalf("first line: %+v, want /first.txt ok", rec)
	}
	srv.unhold()
	if rec := next(); rec.URL != srv.URL+"/hold/second.txt" || rec.Status != "ok" {
		t.Fatalf("second line: %+v, want /hold/second.txt ok", rec)
	}
	if l, ok := <-lines; ok {
		t.Errorf("more on stdout after the last item: %q", l)
	}
	if err := <-exited; err != nil {
		t.Fatalf("exit: %v; stderr:\n%s", err, &stderr)
	}
}

// reportDoc is the --report document, decoded strictly.
type reportDoc struct {
	Summary struct {
		Done       int   `json:"done"`
		Skipped    int   `json:"skipped"`
		Failed     int   `json:"failed"`
		NotStarted int   `json:"not_started"`
		Canceled   int   `json:"canceled"`
		Duplicates int   `json:"duplicates"`
		Planned    int   `json:"planned"`
		Bytes      int64 `json:"bytes"`
		ElapsedMS  int64 `json:"elapsed_ms"`
	} `json:"summary"`
	Items []json.RawMessage `json:"items"`
}

// TestOutputReportAndFailed: --report is one JSON document whose counts
// match its items and the files; --failed lists exactly the failed items in
// input syntax, keeping explicit names and checksums; and `fetchpool -i
// FILE` with that list, once the server has recovered, fetches exactly
// those, into the names they had.
func TestOutputReportAndFailed(t *testing.T) {
	srv := newOutputServer(t)
	srv.failing.Store(true)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "out"), 0o755)
	os.WriteFile(filepath.Join(dir, "out", "old.txt"), []byte("old"), 0o644)
	u := srv.URL
	jsonLine := func(path, output string) string {
		if output == "" {
			return fmt.Sprintf(`{"url": %q, "sha256": %q}`, u+path, sum(content(path)))
		}
		return fmt.Sprintf(`{"url": %q, "output": %q, "sha256": %q}`, u+path, output, sum(content(path)))
	}
	list := strings.Join([]string{
		"# a list with every input syntax",
		u + "/ok/a.bin",
		u + "/ok/b\tb-named.bin",
		u + "/old.txt",
		u + "/flaky/plain.bin",
		u + "/flaky/named\tsub/named.bin",
		jsonLine("/flaky/sum.bin", ""),
		jsonLine("/flaky/both", "sub/both.bin"),
		u + "/missing/gone.txt",
		u + "/ok/a.bin",        // a duplicate: dropped, and counted
		u + "/ok/a.bin#part-2", // the same request
	}, "\n") + "\n"
	os.WriteFile(filepath.Join(dir, "list.txt"), []byte(list), 0o644)

	start := time.Now()
	r := fetchpool(t, dir, "", "-i", "list.txt", "-o", "out", "--retries", "0", "-v",
		"--report", "report.json", "--failed", "failed.txt")
	took := time.Since(start)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}

	// The report.
	var doc reportDoc
	dec := json.NewDecoder(bytes.NewReader(readFile(t, filepath.Join(dir, "report.json"))))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("--report is not the documented JSON document: %v", err)
	}
	if dec.More() {
		t.Error("--report holds more than one JSON document")
	}
	s := doc.Summary
	if s.Done != 2 || s.Skipped != 1 || s.Failed != 5 || s.NotStarted != 0 || s.Canceled != 0 || s.Duplicates != 2 || s.Planned != 0 {
		t.Errorf("report summary %+v, want done 2, skipped 1, failed 5, not_started 0, duplicates 2, planned 0", s)
	}
	if !strings.Contains(r.stderr, "done 2, skipped 1, failed 5, not started 0, duplicates dropped 2 · ") {
		t.Errorf("the summary does not count the duplicates:\n%s", r.stderr)
	}
	for _, line := range []string{"duplicate list.txt:10 " + u + "/ok/a.bin: dropped, listed before", "duplicate list.txt:11 " + u + "/ok/a.bin#part-2: dropped, listed before"} {
		if !strings.Contains(r.stderr, line+"\n") {
			t.Errorf("-v does not say %q:\n%s", line, r.stderr)
		}
	}
	if s.ElapsedMS <= 0 || s.ElapsedMS > took.Milliseconds() {
		t.Errorf("report elapsed_ms %d, want between 0 and the %v the run took", s.ElapsedMS, took)
	}
	counts := map[string]int{}
	var written int64
	for _, raw := range doc.Items {
		rec := decodeRecord(t, raw)
		counts[rec.Status]++
		written += rec.Bytes
		if rec.Status == "ok" {
			checkOnDisk(t, dir, rec, content(strings.TrimPrefix(rec.URL, u)))
			if rec.Bytes == 0 {
				t.Errorf("%s: ok with 0 bytes", rec.URL)
			}
		}
	}
	if want := map[string]int{"ok": 2, "skipped": 1, "failed": 5}; !maps.Equal(counts, want) {
		t.Errorf("report items by status %v, want %v", counts, want)
	}
	if s.Bytes != written {
		t.Errorf("report summary bytes %d, want the %d its items wrote", s.Bytes, written)
	}

	// The failed list: exactly the failed items, in input syntax.
	failed := readLines(t, filepath.Join(dir, "failed.txt"))
	wantFailed := []string{
		u + "/flaky/plain.bin",
		u + "/flaky/named\tsub/named.bin",
		jsonLine("/flaky/sum.bin", ""),
		jsonLine("/flaky/both", "sub/both.bin"),
		u + "/missing/gone.txt",
	}
	if !sameItems(t, failed, wantFailed) {
		t.Fatalf("--failed:\n%s\nwant the failed items:\n%s", strings.Join(failed, "\n"), strings.Join(wantFailed, "\n"))
	}

	// The retry: only the failed items are asked for, and land where the
	// first run would have put them.
	srv.failing.Store(false)
	srv.requests()
	r = fetchpool(t, dir, "", "-i", "failed.txt", "-o", "out", "--retries", "0")
	if r.code != 1 || !strings.Contains(r.stderr, "done 4, skipped 0, failed 1") {
		t.Fatalf("retry run: exit %d, want 1 with done 4 and the 404 failed again; stderr:\n%s", r.code, r.stderr)
	}
	asked := srv.requests()
	wantAsked := []string{"/flaky/both", "/flaky/named", "/flaky/plain.bin", "/flaky/sum.bin", "/missing/gone.txt"}
	if slices.Sort(asked); !slices.Equal(asked, wantAsked) {
		t.Errorf("the retry asked for %q, want exactly %q", asked, wantAsked)
	}
	for path, name := range map[string]string{"/flaky/plain.bin": "plain.bin", "/flaky/named": "sub/named.bin",
		"/flaky/sum.bin": "sum.bin", "/flaky/both": "sub/both.bin"} {
		if got := readFile(t, filepath.Join(dir, "out", name)); !bytes.Equal(got, content(path)) {
			t.Errorf("%s: out/%s does not hold what was served", path, name)
		}
	}
}

// sameItems reports whether two lists hold the same input lines, in any
// order; JSON lines are compared as objects.
func sameItems(t *testing.T, got, want []string) bool {
	t.Helper()
	norm := func(lines []string) []string {
		var out []string
		for _, l := range lines {
			if strings.HasPrefix(l, "{") {
				var obj map[string]string
				if err := json.Unmarshal([]byte(l), &obj); err != nil {
					t.Errorf("a JSON line that does not parse: %q: %v", l, err)
				}
				b, _ := json.Marshal(obj) // sorted keys
				l = string(b)
			}
			out = append(out, l)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(got), norm(want))
}

// TestOutputDryRun: --dry-run prints `URL -> PATH` per item (a {"url",
// "output"} object with --json), sends no request and creates no output
// directory.
func TestOutputDryRun(t *testing.T) {
	srv := newOutputServer(t)
	u := srv.URL
	list := u + "/a.txt\n" +
		u + "/x\tsub/named.txt\n" +
		fmt.Sprintf(`{"url": %q, "output": "j/k.bin"}`, u+"/j") + "\n" +
		u + "/docs/\n"
	want := [][2]string{
		{u + "/a.txt", filepath.Join("out", "a.txt")},
		{u + "/x", filepath.Join("out", "sub", "named.txt")},
		{u + "/j", filepath.Join("out", "j", "k.bin")},
		{u + "/docs/", filepath.Join("out", "index.html")},
	}
	for _, asJSON := range []bool{false, true} {
		t.Run("json="+strconv.FormatBool(asJSON), func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"--dry-run", "-o", "out"}
			if asJSON {
				args = append(args, "--json")
			}
			r := fetchpool(t, dir, list, args...)
			if r.code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			var got [][2]string
			for l := range strings.Lines(r.stdout) {
				l = strings.TrimSuffix(l, "\n")
				if !asJSON {
					url, path, ok := strings.Cut(l, " -> ")
					if !ok {
						t.Errorf("not a URL -> PATH line: %q", l)
					}
					got = append(got, [2]string{url, path})
					continue
				}
				var plan map[string]string
				if err := json.Unmarshal([]byte(l), &plan); err != nil || len(plan) != 2 {
					t.Errorf("not a {\"url\", \"output\"} object: %q (%v)", l, err)
				}
				got = append(got, [2]string{plan["url"], plan["output"]})
			}
			slices.SortFunc(got, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
			sorted := slices.SortedFunc(slices.Values(want), func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
			if !slices.Equal(got, sorted) {
				t.Errorf("dry run planned:\n%q\nwant:\n%q", got, sorted)
			}
			if asked := srv.requests(); len(asked) != 0 {
				t.Errorf("a dry run sent %d requests: %q", len(asked), asked)
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
				t.Error("a dry run created the output directory")
			}
			if !strings.Contains(r.stderr, "dry run: 4 items planned") {
				t.Errorf("stderr does not tell what was planned:\n%s", r.stderr)
			}
		})
	}
}

// TestOutputDryRunEmpty: a dry run whose input holds no item says that it
// planned none, in the words of one that planned some, instead of counting
// what was done; stdout stays empty, with --json too.
func TestOutputDryRunEmpty(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		for _, stdin := range []string{"", "# only a comment\n\n"} {
			args := []string{"--dry-run", "-o", "out"}
			if asJSON {
				args = append(args, "--json")
			}
			r := fetchpool(t, t.TempDir(), stdin, args...)
			if r.code != 0 {
				t.Fatalf("%q with input %q: exit %d; stderr:\n%s", args, stdin, r.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("%q with input %q: stdout %q, want nothing", args, stdin, r.stdout)
			}
			if want := "dry run: 0 items planned, nothing fetched\n"; r.stderr != want {
				t.Errorf("%q with input %q: stderr %q, want %q", args, stdin, r.stderr, want)
			}
		}
	}
}

// TestOutputDryRunFailed: a dry run in which some items cannot be planned
// (a URL that does not parse, an unsafe explicit name) still says that it
// was a dry run, counts the failed items beside the planned ones, lists
// each failure, and exits 1, with --json too.
func TestOutputDryRunFailed(t *testing.T) {
	list := "http://127.0.0.1:1/a.txt\n" +
		"http://[::1/x\n" +
		"http://127.0.0.1:1/b.txt\n" +
		"http://127.0.0.1:1/c\t..\n"
	want := "dry run: 2 items planned, 2 failed, nothing fetched\n" +
		"FAIL -:2 http://[::1/x: invalid URL: missing ']' in host\n" +
		"FAIL -:4 http://127.0.0.1:1/c: output name \"..\" has a \"..\" segment that would leave the output directory: unsafe output name\n"
	for _, asJSON := range []bool{false, true} {
		args := []string{"--dry-run", "-o", "out"}
		if asJSON {
			args = append(args, "--json")
		}
		r := fetchpool(t, t.TempDir(), list, args...)
		if r.code != 1 {
			t.Errorf("%q: exit %d, want 1 (items failed)", args, r.code)
		}
		if r.stderr != want {
			t.Errorf("%q: stderr:\n%s\nwant:\n%s", args, r.stderr, want)
		}
		if n := strings.Count(r.stdout, "127.0.0.1:1/a.txt") + strings.Count(r.stdout, "127.0.0.1:1/b.txt"); n != 2 {
			t.Errorf("%q: stdout does not plan a.txt and b.txt once each:\n%s", args, r.stdout)
		}
	}
}

// TestOutputDryRunLocalMissing: a dry run fails a local item (a path or a
// file:// URL) whose source is missing or is a directory, in the words of
// the real run, lists it on stderr, gives it status "failed" with --json,
// and exits 1; the existing local file and the http item are planned, and
// nothing is sent. An item whose destination exists is planned even when
// its source is gone: --on-exists skip keeps the destination without
// looking at the source.
func TestOutputDryRunLocalMissing(t *testing.T) {
	srv := newOutputServer(t)
	// layout makes the same files in each run's directory.
	layout := func(t *testing.T) (dir, missingURL, list string) {
		dir = t.TempDir()
		for _, d := range []string{"adir", "out"} {
			if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range []string{"present.txt", filepath.Join("out", "gone.txt")} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("x\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		missingURL = "file://" + filepath.ToSlash(filepath.Join(dir, "missing.bin"))
		list = "present.txt\n" +
			"missing.txt\n" +
			missingURL + "\n" +
			"adir\n" +
			"gone.txt\n" +
			srv.URL + "/a.txt\n"
		return dir, missingURL, list
	}
	failures := func(dir string) []string {
		return []string{
			"missing.txt: no such file: missing.txt",
			"file://" + filepath.ToSlash(filepath.Join(dir, "missing.bin")) + ": no such file: " + filepath.Join(dir, "missing.bin"),
			"adir: adir is a directory, not a file",
		}
	}

	// The errors of a real run of the same list, by URL.
	realDir, _, realList := layout(t)
	real := fetchpool(t, realDir, realList, "-o", "out", "--json")
	realErrs := map[string]string{}
	for l := range strings.Lines(real.stdout) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("real run: not a JSON record: %q", l)
		}
		if rec["status"] == "failed" {
			realErrs[rec["url"].(string)] = rec["error"].(string)
		}
	}
	if len(realErrs) != 3 {
		t.Fatalf("real run failed %v, want missing.txt, missing.bin and adir; stderr:\n%s", realErrs, real.stderr)
	}
	srv.requests() // forget the real run's

	for _, asJSON := range []bool{false, true} {
		dir, missingURL, list := layout(t)
		f := failures(dir)
		want := "dry run: 3 items planned, 3 failed, nothing fetched\n" +
			"FAIL -:2 " + f[0] + "\n" +
			"FAIL -:3 " + f[1] + "\n" +
			"FAIL -:4 " + f[2] + "\n"
		args := []string{"--dry-run", "-o", "out"}
		if asJSON {
			args = append(args, "--json")
		}
		r := fetchpool(t, dir, list, args...)
		if r.code != 1 {
			t.Errorf("%q: exit %d, want 1 (items failed)", args, r.code)
		}
		if r.stderr != want {
			t.Errorf("%q: stderr:\n%s\nwant:\n%s", args, r.stderr, want)
		}
		planned := []string{"present.txt", "gone.txt", srv.URL + "/a.txt"}
		failed := map[string]string{}
		var got []string
		for l := range strings.Lines(r.stdout) {
			l = strings.TrimSuffix(l, "\n")
			if !asJSON {
				url, _, ok := strings.Cut(l, " -> ")
				if !ok {
					t.Errorf("not a URL -> PATH line: %q", l)
				}
				got = append(got, url)
				continue
			}
			var obj map[string]any
			if err := json.Unmarshal([]byte(l), &obj); err != nil {
				t.Fatalf("%q: not a JSON object: %q", args, l)
			}
			url, _ := obj["url"].(string)
			if _, ok := obj["status"]; !ok {
				got = append(got, url) // a plan: {"url", "output"}
				continue
			}
			if obj["status"] != "failed" {
				t.Errorf("%q: %s has status %v, want failed", args, url, obj["status"])
			}
			failed[url], _ = obj["error"].(string)
		}
		if !slices.Equal(got, planned) {
			t.Errorf("%q: planned %q, want %q", args, got, planned)
		}
		if asJSON {
			wantFailed := map[string]string{
				"missing.txt": "no such file: missing.txt",
				missingURL:    "no such file: " + filepath.Join(dir, "missing.bin"),
				"adir":        "adir is a directory, not a file",
			}
			if !maps.Equal(failed, wantFailed) {
				t.Errorf("%q: failed records %q, want %q", args, failed, wantFailed)
			}
			// In the real run's words (its temporary directory aside).
			for url, msg := range failed {
				realURL := strings.Replace(url, dir, realDir, 1)
				if realMsg := strings.Replace(realErrs[realURL], realDir, dir, 1); realMsg != msg {
					t.Errorf("%s: dry run says %q, the real run %q", url, msg, realErrs[realURL])
				}
			}
		}
		if asked := srv.requests(); len(asked) != 0 {
			t.Errorf("%q: a dry run sent %d requests: %q", args, len(asked), asked)
		}
		if _, err := os.Stat(filepath.Join(dir, "out", "present.txt")); err == nil {
			t.Errorf("%q: a dry run copied a local file", args)
		}
	}
}

// TestOutputDryRunReport: the --report document of a dry run counts the
// items planned in its summary, beside the item that could not be planned
// (listed as failed); nothing is counted as done.
func TestOutputDryRunReport(t *testing.T) {
	dir := t.TempDir()
	list := "http://127.0.0.1:1/a.txt\nhttp://127.0.0.1:1/b.txt\nftp://old/file\n"
	r := fetchpool(t, dir, list, "--dry-run", "-o", "out", "--report", "report.json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (an item failed); stderr:\n%s", r.code, r.stderr)
	}
	var doc struct {
		Items   []map[string]any
		Summary map[string]int64
	}
	data := readFile(t, filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("report: %v\n%s", err, data)
	}
	want := map[string]int64{"done": 0, "skipped": 0, "failed": 1, "not_started": 0, "canceled": 0,
		"duplicates": 0, "planned": 2, "bytes": 0}
	for k, v := range want {
		if got, ok := doc.Summary[k]; !ok || got != v {
			t.Errorf("summary %q = %d (present %v), want %d\n%s", k, got, ok, v, data)
		}
	}
	if len(doc.Items) != 1 || doc.Items[0]["status"] != "failed" || doc.Items[0]["url"] != "ftp://old/file" {
		t.Errorf("items %v, want only the ftp:// item, failed", doc.Items)
	}
}

// TestOutputContentDispositionFreesURLName: an item that its server names
// in Content-Disposition saves nothing under the name its URL gives, so an
// item read after it has finished, whose URL gives that same name, is saved
// under it without a suffix.
func TestOutputContentDispositionFreesURLName(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	p := startFetchpool(t, dir, "-j", "1", "-o", "out")
	p.write(srv.URL + "/cd/report?name=Q3.pdf") // report, were it not for its server
	p.waitLine(`^ok +` + regexp.QuoteMeta(filepath.Join("out", "Q3.pdf")) + ` `)
	p.write(srv.URL + "/mirror/report")
	p.stdin.Close()
	if r := p.wait(); r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	out := filepath.Join(dir, "out")
	if got := readFile(t, filepath.Join(out, "Q3.pdf")); !bytes.Equal(got, content("/cd/report")) {
		t.Errorf("Q3.pdf holds %d bytes, not the first item", len(got))
	}
	if got, err := os.ReadFile(filepath.Join(out, "report")); err != nil || !bytes.Equal(got, content("/mirror/report")) {
		t.Errorf("report holds %d bytes (%v), want the later item", len(got), err)
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"Q3.pdf", "report"}) {
		t.Errorf("out holds %q, want only Q3.pdf and report", names)
	}
}
