package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/internal/backlog"
)

// counting serves content(path) slowly enough for overlaps to show, and
// records the most requests it had in flight at once.
type counting struct {
	active, max atomic.Int64
	requests    atomic.Int64
	delay       time.Duration
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.requests.Add(1)
	n := c.active.Add(1)
	defer c.active.Add(-1)
	for {
		m := c.max.Load()
		if n <= m || c.max.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(c.delay)
	w.Write(content(r.URL.Path))
}

func list(base string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s/f%d\n", base, i)
	}
	return b.String()
}

func TestEndToEndPerHost(t *testing.T) {
	c := &counting{delay: 100 * time.Millisecond}
	srv := httptest.NewServer(c)
	defer srv.Close()
	r := fetchpool(t, t.TempDir(), list(srv.URL, 12), "-j", "8", "--per-host", "2")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if got := c.max.Load(); got != 2 {
		t.Errorf("at most %d requests in flight to one host, want exactly 2", got)
	}
}

// TestEndToEndPerHostAfterRedirects: items on several hosts that all
// redirect to one host (a CDN) reach it at most --per-host at once.
func TestEndToEndPerHostAfterRedirects(t *testing.T) {
	c := &counting{delay: 100 * time.Millisecond}
	cdn := httptest.NewServer(c)
	defer cdn.Close()
	var in strings.Builder
	for i := range 6 {
		origin := httptest.NewServer(http.RedirectHandler(cdn.URL+"/f"+strconv.Itoa(i), http.StatusFound))
		defer origin.Close()
		fmt.Fprintf(&in, "%s/f%d\n", origin.URL, i)
	}
	r := fetchpool(t, t.TempDir(), in.String(), "-j", "6", "--per-host", "2")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if got := c.max.Load(); got != 2 {
		t.Errorf("at most %d requests in flight to the redirects' host, want exactly 2", got)
	}
}

// TestEndToEndHugeConcurrency: a -j far beyond what any machine runs is
// still a valid -j: the run died "fatal error: runtime: out of memory"
// (exit 2) before its first request, or, with --split, panicked.
func TestEndToEndHugeConcurrency(t *testing.T) {
	srv := httptest.NewServer(&counting{})
	defer srv.Close()
	for _, args := range [][]string{
		{"-j", "100000000000"},
		{"-j", "9223372036854775807", "--split", "16"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := fetchpool(t, t.TempDir(), list(srv.URL, 3), args...)
			if r.code != 0 {
				t.Errorf("exit %d, want 0; stderr:\n%.2000s", r.code, r.stderr)
			}
		})
	}
}

func TestEndToEndRequestRate(t *testing.T) {
	c := &counting{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	start := time.Now()
	r := fetchpool(t, t.TempDir(), list(srv.URL, 6), "-j", "6", "--rate", "5/s")
	elapsed := time.Since(start)
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	// 6 starts at 5/s with a burst of 1 need at least 5 intervals of 200ms.
	if elapsed < 900*time.Millisecond {
		t.Errorf("6 requests at --rate 5/s took %v, want at least 1s", elapsed)
	}
}

// TestEndToEndDurationLeavesOutTheRate: duration_ms (--json, --report) is
// the time an item spent being fetched, not its wait for its turn under
// --rate: four quick items at 2/s with four workers each take a few
// milliseconds, though the last one waits 1.5s for its turn.
func TestEndToEndDurationLeavesOutTheRate(t *testing.T) {
	srv := httptest.NewServer(&counting{})
	defer srv.Close()
	dir := t.TempDir()
	start := time.Now()
	r := fetchpool(t, dir, list(srv.URL, 4), "-j", "4", "--rate", "2/s", "--json", "--report", "report.json")
	elapsed := time.Since(start)
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if elapsed < 1400*time.Millisecond {
		t.Fatalf("4 requests at --rate 2/s took %v, want at least 1.5s", elapsed)
	}
	var report struct {
		Items []json.RawMessage
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "report.json")), &report); err != nil {
		t.Fatalf("--report is not JSON: %v", err)
	}
	for what, lines := range map[string][]string{
		"--json": strings.Split(strings.TrimSpace(r.stdout), "\n"),
		"--report": func() (l []string) {
			for _, it := range report.Items {
				l = append(l, string(it))
			}
			return l
		}(),
	} {
		if len(lines) != 4 {
			t.Fatalf("%s: %d items, want 4:\n%s", what, len(lines), strings.Join(lines, "\n"))
		}
		for _, l := range lines {
			var rec struct {
				URL        string
				DurationMS int64 `json:"duration_ms"`
			}
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("%s: %q: %v", what, l, err)
			}
			if rec.DurationMS >= 400 {
				t.Errorf("%s: %s took %d ms: duration_ms counts the wait for the rate", what, rec.URL, rec.DurationMS)
			}
		}
	}
}

func TestEndToEndLimitRate(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 600<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}))
	defer srv.Close()
	start := time.Now()
	r := fetchpool(t, t.TempDir(), srv.URL+"/a\n"+srv.URL+"/b\n", "--limit-rate", "400K")
	elapsed := time.Since(start)
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	// 1200 KiB at 400 KiB/s overall: about 3s; allow slack below, none needed above.
	if elapsed < 2500*time.Millisecond {
		t.Errorf("1200 KiB under --limit-rate 400K took %v, want about 3s", elapsed)
	}
}

func TestEndToEndRetries(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flaky":
			if calls.Add(1) <= 2 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte("finally"))
		case "/slow-down":
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many", http.StatusTooManyRequests)
		case "/forbidden":
			http.Error(w, "no", http.StatusForbidden)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	start := time.Now()
	r := fetchpool(t, dir, "", "--json", "--retry-wait", "10ms", "--retries", "2", srv.URL+"/flaky", srv.URL+"/slow-down", srv.URL+"/forbidden")
	elapsed := time.Since(start)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	attempts := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("bad JSON %q", line)
		}
		attempts[obj["url"].(string)] = obj["attempts"].(float64)
	}
	want := map[string]float64{srv.URL + "/flaky": 3, srv.URL + "/slow-down": 3, srv.URL + "/forbidden": 1}
	for u, n := range want {
		if attempts[u] != n {
			t.Errorf("%s: %v attempts, want %v", u, attempts[u], n)
		}
	}
	if elapsed < 2*time.Second {
		t.Errorf("two Retry-After: 1 waits took %v in all, want at least 2s", elapsed)
	}
	if !strings.Contains(r.stderr, "429") || !strings.Contains(r.stderr, "403") {
		t.Errorf("summary does not give the reasons:\n%s", r.stderr)
	}

	// --max-retry-wait 0 honours no wait: the item fails at once.
	r = fetchpool(t, dir, "", "-o", "none", "--retries", "2", "--max-retry-wait", "0", srv.URL+"/slow-down")
	if r.code != 1 || !strings.Contains(r.stderr, "server asked to wait 1s (Retry-After), more than --max-retry-wait 0s (1 attempt)") {
		t.Fatalf("--max-retry-wait 0: exit %d, want 1 after one attempt, with the reason; stderr:\n%s", r.code, r.stderr)
	}
}

func TestEndToEndResume(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 10000)
	var mu sync.Mutex
	var ranges []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range")+" "+r.Header.Get("If-Range"))
		mu.Unlock()
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}))
	defer srv.Close()

	for _, tt := range []struct {
		name      string
		sidecar   bool
		flags     []string
		wantRange string // "" = any request is fine, only the bytes matter
		received  int64  // --json "bytes": what this run received
	}{
		{"part and sidecar", true, nil, `bytes=40000- "v1"`, 60000},
		{"no resume", true, []string{"--no-resume"}, " ", 100000},
		{"part without sidecar", false, nil, "", 100000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// What a crashed or aborted run leaves behind.
			part := filepath.Join(dir, "big.bin.part")
			os.WriteFile(part, body[:40000], 0o644)
			if tt.sidecar {
				meta := fmt.Sprintf(`{"url":%q,"etag":"\"v1\"","length":%d}`, srv.URL+"/big.bin", len(body))
				os.WriteFile(part+".meta", []byte(meta), 0o644)
			}
			mu.Lock()
			ranges = nil
			mu.Unlock()
			r := fetchpool(t, dir, "", append(tt.flags, "--json", srv.URL+"/big.bin")...)
			if r.code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			if got := readFile(t, filepath.Join(dir, "big.bin")); !bytes.Equal(got, body) {
				t.Errorf("the file differs from the resource")
			}
			if rec := decodeRecord(t, []byte(r.stdout)); rec.Bytes != tt.received || rec.Size != int64(len(body)) {
				t.Errorf("--json bytes %d size %d, want %d received and size %d", rec.Bytes, rec.Size, tt.received, len(body))
			}
			if !strings.Contains(r.stderr, "ok   big.bin  97.7 KiB") {
				t.Errorf("the ok line does not give the file's size:\n%s", r.stderr)
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.wantRange != "" && (len(ranges) != 1 || ranges[0] != tt.wantRange) {
				t.Errorf("requests sent Range/If-Range %q, want [%q]", ranges, tt.wantRange)
			}
			if left, _ := filepath.Glob(part + "*"); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

func TestEndToEndChecksums(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	// "./other.bin" names the output other.bin, like sha256sum's own lists.
	sums := sum(content("/good.bin")) + "  good.bin\n" + strings.Repeat("ab", 32) + "  bad.bin\n" +
		strings.Repeat("cd", 32) + "  ./other.bin\n"
	os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums), 0o644)
	r := fetchpool(t, dir, srv.URL+"/good.bin\n"+srv.URL+"/bad.bin\n"+srv.URL+"/other.bin\n", "--checksums", "SHA256SUMS", "-o", "out")
	if r.code != 1 || !strings.Contains(r.stderr, "done 1") || !strings.Contains(r.stderr, "failed 2") {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, strings.Repeat("ab", 32)) || !strings.Contains(r.stderr, sum(content("/bad.bin"))) {
		t.Errorf("the summary should show expected and actual digests:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "bad.bin")); err == nil {
		t.Error("a file that failed verification is under its final name")
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "good.bin")); err != nil {
		t.Error(err)
	}
	if strings.Contains(r.stderr, "not checked") {
		t.Errorf("every file had an entry, yet the run says some were not checked:\n%s", r.stderr)
	}

	// Files the list has no entry for are saved, and the run says that
	// they were not checked.
	r = fetchpool(t, dir, srv.URL+"/good.bin\n"+srv.URL+"/extra1.bin\n"+srv.URL+"/extra2.bin\n", "--checksums", "SHA256SUMS", "-o", "more", "-j", "1")
	if r.code != 0 {
		t.Fatalf("unlisted files: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if want := "not checked: 2 of the files saved have no entry in SHA256SUMS (the first: more/extra1.bin)"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}

	r = fetchpool(t, dir, "", "--sha256", sum(content("/one.bin")), "-o", "single", srv.URL+"/one.bin")
	if r.code != 0 {
		t.Fatalf("--sha256: exit %d; stderr:\n%s", r.code, r.stderr)
	}
}

func TestEndToEndSplit(t *testing.T) {
	body := bytes.Repeat([]byte("fetchpool split "), 64<<10) // 1 MiB
	var mu sync.Mutex
	var ranges []string
	c := &counting{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		mu.Unlock()
		n := c.active.Add(1)
		defer c.active.Add(-1)
		for m := c.max.Load(); n > m && !c.max.CompareAndSwap(m, n); m = c.max.Load() {
		}
		time.Sleep(50 * time.Millisecond) // long enough for the ranges to overlap
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}))
	defer srv.Close()
	dir := t.TempDir()
	r := fetchpool(t, dir, "", "--split", "4", "--split-min", "512K", srv.URL+"/big.iso")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if got := readFile(t, filepath.Join(dir, "big.iso")); !bytes.Equal(got, body) {
		t.Fatal("the split download differs from the resource")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ranges) != 4 || c.max.Load() < 2 {
		t.Errorf("want 4 range requests, at least 2 at once; got %q, at most %d at once", ranges, c.max.Load())
	}
	for _, rg := range ranges {
		if !strings.HasPrefix(rg, "bytes=") {
			t.Errorf("a request without Range: %q (no HEAD, every request ranged)", ranges)
		}
	}
}

// A resumed part whose resource changed size on a server with no validator
// (no ETag, no Last-Modified, so no If-Range) restarts instead of appending
// the new tail to the old prefix.
func TestEndToEndResumeSizeChanged(t *testing.T) {
	body := bytes.Repeat([]byte("new content "), 10000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}))
	defer srv.Close()
	dir := t.TempDir()
	part := filepath.Join(dir, "f.bin.part")
	os.WriteFile(part, bytes.Repeat([]byte("A"), 40000), 0o644)
	os.WriteFile(part+".meta", []byte(fmt.Sprintf(`{"url":%q,"length":50000}`, srv.URL+"/f.bin")), 0o644)
	r := fetchpool(t, dir, "", srv.URL+"/f.bin")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if got := readFile(t, filepath.Join(dir, "f.bin")); !bytes.Equal(got, body) {
		t.Errorf("the file is not the resource (%d bytes, starts %q)", len(got), got[:8])
	}
}

// A server that answers every range with everything from its start is still
// split: each range reads only its own bytes.
func TestEndToEndSplitOverlongRanges(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var first int
		if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &first); err != nil || first >= len(body) {
			w.Write(body)
			return
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, len(body)-1, len(body)))
		w.Header().Set("Content-Length", fmt.Sprint(len(body)-first))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(body[first:])
	}))
	defer srv.Close()
	dir := t.TempDir()
	r := fetchpool(t, dir, "", "--split", "4", "--split-min", "512K", "--retries", "0", srv.URL+"/f.bin")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if got := readFile(t, filepath.Join(dir, "f.bin")); !bytes.Equal(got, body) {
		t.Error("the file is not the resource")
	}
}

// --checksums applies to the name the server gave in Content-Disposition.
func TestEndToEndChecksumsUnderTheServersName(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "SUMS"), []byte(strings.Repeat("0", 64)+"  real.txt\n"+
		sum(content("/cd/2"))+"  good.txt\n"), 0o644)
	r := fetchpool(t, dir, srv.URL+"/cd/1?name=real.txt\n"+srv.URL+"/cd/2?name=good.txt\n", "--checksums", "SUMS", "-o", "out")
	if r.code != 1 || !strings.Contains(r.stderr, "done 1") || !strings.Contains(r.stderr, "sha256") {
		t.Fatalf("exit %d, want 1 with one sha256 mismatch; stderr:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "real.txt")); err == nil {
		t.Error("bytes that failed verification are under the server's name")
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "good.txt")); err != nil {
		t.Error(err)
	}
}

// TestEndToEndChecksumsUnderASuffixedName: an item saved as name.N.ext,
// because the name was taken (by a file before the run with --on-exists
// rename, or by another item of the same name), is still verified against
// the --checksums entry for its name.
func TestEndToEndChecksumsUnderASuffixedName(t *testing.T) {
	srv := fileServer(t)
	good := sum(content("/a/x.bin")) // /b/x.bin has other content
	for _, tt := range []struct {
		name   string
		before bool // out/x.bin exists before the run
		input  string
		args   []string
		saved  []string // verified and saved
		failed []string // verified and not saved
	}{
		{"a file before the run", true, srv.URL + "/b/x.bin\n", []string{"--on-exists", "rename"}, nil, []string{"x.1.bin"}},
		{"a file before the run, matching", true, srv.URL + "/a/x.bin\n", []string{"--on-exists", "rename"}, []string{"x.1.bin"}, nil},
		{"another item", false, srv.URL + "/a/x.bin\n" + srv.URL + "/b/x.bin\n", []string{"-j", "1"}, []string{"x.bin"}, []string{"x.1.bin"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.before {
				if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "out", "x.bin"), []byte("old"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, "SUMS"), []byte(good+"  x.bin\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := fetchpool(t, dir, tt.input, append([]string{"--checksums", "SUMS", "-o", "out"}, tt.args...)...)
			want := 0
			if len(tt.failed) > 0 {
				want = 1
			}
			if r.code != want || strings.Count(r.stderr, "sha256 mismatch") != 2*len(tt.failed) {
				t.Fatalf("exit %d, want %d, and %d mismatches (each in its line and the summary); stderr:\n%s", r.code, want, len(tt.failed), r.stderr)
			}
			for _, name := range tt.saved {
				if _, err := os.Stat(filepath.Join(dir, "out", name)); err != nil {
					t.Error(err)
				}
			}
			for _, name := range tt.failed {
				if _, err := os.Stat(filepath.Join(dir, "out", name)); err == nil {
					t.Errorf("%s failed verification but is under its final name", name)
				}
			}
		})
	}
}

// TestEndToEndChecksumsWithPaths: a sha256sum list made in the server's
// tree ("sha256sum x.bin sub/x.bin") names files by their path; each item
// is verified against the entry for its own URL path, with -x and without
// (where the second is saved as x.1.bin), not against the entry of another
// file that only shares its base name.
func TestEndToEndChecksumsWithPaths(t *testing.T) {
	srv := fileServer(t)
	sums := sum(content("/pub/x.bin")) + "  x.bin\n" + sum(content("/pub/sub/x.bin")) + "  sub/x.bin\n"
	host := strings.ReplaceAll(strings.TrimPrefix(srv.URL, "http://"), ":", "_")
	for _, tt := range []struct {
		name  string
		args  []string
		saved []string
	}{
		{"flat names", []string{"-j", "1"}, []string{"x.bin", "x.1.bin"}},
		{"keep paths", []string{"-x"}, []string{host + "/pub/x.bin", host + "/pub/sub/x.bin"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "SUMS"), []byte(sums), 0o644); err != nil {
				t.Fatal(err)
			}
			r := fetchpool(t, dir, srv.URL+"/pub/x.bin\n"+srv.URL+"/pub/sub/x.bin\n",
				append([]string{"--checksums", "SUMS", "-o", "out"}, tt.args...)...)
			if r.code != 0 || strings.Contains(r.stderr, "not checked") {
				t.Fatalf("exit %d, want 0 with every file checked; stderr:\n%s", r.code, r.stderr)
			}
			for _, name := range tt.saved {
				if _, err := os.Stat(filepath.Join(dir, "out", filepath.FromSlash(name))); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestEndToEndChecksumsWithLocalPaths: local files listed by their paths
// ("sha256sum */x.csv > SUMS; find . -name x.csv | fetchpool") are
// verified against the entries of their own paths, not left unchecked.
func TestEndToEndChecksumsWithLocalPaths(t *testing.T) {
	dir := t.TempDir()
	var sums string
	for _, d := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		body := []byte("the " + d + " copy\n")
		if err := os.WriteFile(filepath.Join(dir, d, "x.csv"), body, 0o644); err != nil {
			t.Fatal(err)
		}
		sums += sum(body) + "  " + d + "/x.csv\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "SUMS"), []byte(sums), 0o644); err != nil {
		t.Fatal(err)
	}
	r := fetchpool(t, dir, "./a/x.csv\nb/x.csv\nfile://"+filepath.ToSlash(dir)+"/b/x.csv\tc.csv\n", "--checksums", "SUMS", "-o", "out", "-j", "1")
	if r.code != 0 || strings.Contains(r.stderr, "not checked: 2") || !strings.Contains(r.stderr, "not checked: 1") {
		t.Fatalf("exit %d, want 0 with both x.csv checked (c.csv, named in the list, is not); stderr:\n%s", r.code, r.stderr)
	}
}

// TestEndToEndChecksumsFromStandardInput: --checksums - reads the list from
// standard input, as sha256sum -c - does ("curl .../SHA256SUMS | fetchpool
// --checksums - URL..."), unless standard input already gives the items.
func TestEndToEndChecksumsFromStandardInput(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	sums := sum(content("/good.bin")) + "  good.bin\n" + strings.Repeat("ab", 32) + "  bad.bin\n"
	r := fetchpool(t, dir, sums, "--checksums", "-", "-o", "out", srv.URL+"/good.bin", srv.URL+"/bad.bin")
	if r.code != 1 || !strings.Contains(r.stderr, "done 1") || strings.Count(r.stderr, "sha256 mismatch") != 2 {
		t.Fatalf("exit %d, want 1 with good.bin done and bad.bin failing its check; stderr:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "good.bin")); err != nil {
		t.Error(err)
	}
	r = fetchpool(t, dir, sums, "--checksums", "-", "-o", "out", srv.URL+"/extra.bin")
	if want := "no entry in the checksums read from standard input (the first: out/extra.bin)"; r.code != 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, want 0 and %q; stderr:\n%s", r.code, want, r.stderr)
	}
	for _, args := range [][]string{{"-i", "-"}, {}} {
		r := fetchpool(t, dir, srv.URL+"/good.bin\n", append([]string{"--checksums", "-", "-o", "again"}, args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "--checksums -: standard input gives the items") {
			t.Errorf("%q: exit %d, want 2 saying that standard input is taken; stderr:\n%s", args, r.code, r.stderr)
		}
	}
}

// TestEndToEndPerHostGoesAroundASlowHost: with --per-host, a slow host at
// its cap does not hold up the items of another host that come after its
// own in the list.
func TestEndToEndPerHostGoesAroundASlowHost(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	var mu sync.Mutex
	inFlight, most := 0, 0
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Write([]byte("slow"))
	}))
	defer slow.Close()
	defer unblock()
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("fast")) }))
	defer fast.Close()

	dir := t.TempDir()
	p := startFetchpool(t, dir, "-o", "out", "-j", "4", "--per-host", "1", "--no-progress")
	var lines []string
	for i := range 6 {
		lines = append(lines, slow.URL+"/s"+strconv.Itoa(i))
	}
	for i := range 10 {
		lines = append(lines, fast.URL+"/f"+strconv.Itoa(i))
	}
	p.write(lines...)
	for range 10 {
		p.waitLine(`^ok   out/f\d  `) // while the slow host still holds its slot
	}
	mu.Lock()
	if most != 1 {
		t.Errorf("the slow host had %d requests at once, want 1", most)
	}
	mu.Unlock()
	unblock()
	p.stdin.Close()
	if r := p.wait(); r.code != 0 || !strings.Contains(r.stderr, "done 16") {
		t.Fatalf("exit %d, want 0 with 16 done; stderr:\n%s", r.code, r.stderr)
	}
}

// TestEndToEndTimeoutsSayWhichLimit: each of the three timeouts ends the
// attempts it bounds, and the item's failure names the item, the limit
// with its value, and how many attempts it cut: --timeout a slow but
// steady body, --stall-timeout a silent one, --connect-timeout a listener
// whose queue is full (the connect error said no value).
func TestEndToEndTimeoutsSayWhichLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		for range 100 {
			if r.URL.Path == "/silent" {
				<-r.Context().Done()
				return
			}
			if _, err := w.Write(bytes.Repeat([]byte("x"), 100)); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(50 * time.Millisecond)
		}
	}))
	defer srv.Close()
	full := backlog.Full(t)
	for _, tt := range []struct {
		name, url, flag, want string
	}{
		{"timeout", srv.URL + "/steady", "--timeout", "after 2 attempts: attempt timed out after 300ms (--timeout) (×2)"},
		{"stall", srv.URL + "/silent", "--stall-timeout", "after 2 attempts: no data received for 300ms (--stall-timeout) (×2)"},
		{"connect", "http://" + full + "/a", "--connect-timeout", "after 2 attempts: connect timed out after 300ms (--connect-timeout) (×2)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := fetchpool(t, t.TempDir(), "", "--retries", "1", "--retry-wait", "10ms", tt.flag, "300ms", tt.url)
			if want := "FAIL arg 1 " + tt.url + ": " + tt.want; r.code != 1 || !strings.Contains(r.stderr, want) {
				t.Errorf("exit %d, want 1 with %q; stderr:\n%s", r.code, want, r.stderr)
			}
		})
	}
}

// TestEndToEndPerHostRedirectorToMirrors: --per-host caps the requests to
// each host, so items of one redirector that send each to another mirror
// download from the mirrors at once, while the redirector never has more
// than one request: the pool counted an item against its URL's host until
// it ended, so the downloads went one at a time, from four hosts each with
// nothing else to do.
func TestEndToEndPerHostRedirectorToMirrors(t *testing.T) {
	const n = 4
	var atMirrors, most atomic.Int64
	all := make(chan struct{})
	var once sync.Once
	mirror := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := atMirrors.Add(1)
		defer atMirrors.Add(-1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		if now == n {
			once.Do(func() { close(all) })
		}
		select { // until every mirror has its download, or long enough to tell on a loaded machine
		case <-all:
		case <-time.After(5 * time.Second):
		}
		w.Write(content(r.URL.Path))
	})
	redirector := &counting{}
	var in strings.Builder
	targets := map[string]string{}
	for i := range n {
		m := httptest.NewServer(mirror)
		defer m.Close()
		targets[fmt.Sprintf("/f%d", i)] = m.URL + fmt.Sprintf("/f%d", i)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirector.ServeHTTP(discard{w}, r)
		http.Redirect(w, r, targets[r.URL.Path], http.StatusFound)
	}))
	defer srv.Close()
	for i := range n {
		fmt.Fprintf(&in, "%s/f%d\n", srv.URL, i)
	}
	r := fetchpool(t, t.TempDir(), in.String(), "-j", strconv.Itoa(n), "--per-host", "1")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if got := most.Load(); got != n {
		t.Errorf("at most %d of %d downloads from %d mirrors at once under --per-host 1, want all", got, n, n)
	}
	if got := redirector.max.Load(); got != 1 {
		t.Errorf("the redirector had %d requests at once, want 1", got)
	}
}

// discard is a ResponseWriter whose body goes nowhere, for a handler
// called only for what it records.
type discard struct{ http.ResponseWriter }

func (discard) Write(b []byte) (int, error) { return len(b), nil }
