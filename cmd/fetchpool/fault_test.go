package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fetchpool/fetchpool/pkg/fetch"
)

// faultServer misbehaves on purpose. A path /MODE/N/NAME misbehaves in
// MODE for its first N requests, then serves content(path) properly, with
// Range support:
//
//	reset     headers, half the body, then a TCP reset
//	truncate  headers with the full Content-Length, half the body, then a clean close
//	chunked   a chunked body cut off before its last chunk
//	stall     headers and half the body, then nothing until the client leaves
//	mute      nothing at all (not even headers) until the client leaves
//	status    HTTP 503 (N may be large for a server that never recovers)
//
// /loop/X redirects to /loop/X/ forever; /ok/NAME always works.
type faultServer struct {
	*httptest.Server
	stalled  chan string // paths of stall and mute requests, as they stall
	mu       sync.Mutex
	requests map[string][]string // path → Range header of each request
}

func newFaultServer(t *testing.T) *faultServer {
	t.Helper()
	s := &faultServer{requests: map[string][]string{}, stalled: make(chan string, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// record notes a request and returns how many came for its path before it.
func (s *faultServer) record(r *http.Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.requests[r.URL.Path])
	s.requests[r.URL.Path] = append(s.requests[r.URL.Path], r.Header.Get("Range"))
	return n
}

// ranges returns the Range header of every request for path ("" for none).
func (s *faultServer) ranges(path string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests[path])
}

// total is the number of requests the server got.
func (s *faultServer) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		n += len(r)
	}
	return n
}

func (s *faultServer) serve(w http.ResponseWriter, r *http.Request) {
	before := s.record(r)
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	body := content(r.URL.Path)
	if parts[0] == "loop" {
		http.Redirect(w, r, r.URL.Path+"/", http.StatusFound)
		return
	}
	if len(parts) < 3 {
		http.ServeContent(w, r, "", modTime, bytes.NewReader(body))
		return
	}
	if n, err := strconv.Atoi(parts[1]); err != nil || before >= n {
		http.ServeContent(w, r, "", modTime, bytes.NewReader(body))
		return
	}
	half := len(body) / 2
	switch parts[0] {
	case "status":
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	case "reset", "truncate":
		conn, bw := hijack(w)
		defer conn.Close()
		fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nLast-Modified: %s\r\n\r\n", len(body), modTime.Format(http.TimeFormat))
		bw.Write(body[:half])
		bw.Flush()
		if parts[0] == "reset" {
			conn.(*net.TCPConn).SetLinger(0) // Close sends RST
		}
	case "chunked":
		conn, bw := hijack(w)
		defer conn.Close()
		fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", half)
		bw.Write(body[:half])
		bw.WriteString("\r\n")
		bw.Flush()
	case "stall":
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("Last-Modified", modTime.Format(http.TimeFormat))
		w.Write(body[:half])
		w.(http.Flusher).Flush()
		s.stalled <- r.URL.Path
		<-r.Context().Done()
	case "mute":
		s.stalled <- r.URL.Path
		<-r.Context().Done()
	default:
		http.NotFound(w, r)
	}
}

// await waits for a request to stall.
func (s *faultServer) await(t *testing.T) {
	t.Helper()
	select {
	case <-s.stalled:
	case <-time.After(eventually):
		t.Fatalf("no request stalled within %v", eventually)
	}
}

func hijack(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	conn, bw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	return conn, bw
}

// checkFile fails unless dir/out/name holds exactly content(path).
func checkFile(t *testing.T, dir, name, path string) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, "out", name))
	if err != nil {
		t.Errorf("%s not saved: %v", name, err)
		return
	}
	if want := content(path); !bytes.Equal(got, want) {
		t.Errorf("%s holds %d bytes that are not the resource (%d bytes)", name, len(got), len(want))
	}
}

// TestFaultNetwork: a transfer that meets a network fault is retried (and
// resumed where that is possible) and ends with the right bytes; one that
// keeps meeting it fails with a clear reason naming the fault; the items
// around it go on either way.
func TestFaultNetwork(t *testing.T) {
	srv := newFaultServer(t)
	refused := closedPort(t)
	half := func(path string) string { return strconv.Itoa(len(content(path)) / 2) }
	tests := []struct {
		name    string
		url     string
		args    []string
		code    int
		fail    string        // the reason stderr must give, for a failure
		ranges  []string      // the Range headers the server must have seen, when known
		within  time.Duration // the whole run's bound
		resumed bool          // a second request that must get the rest
	}{
		{name: "connection refused", url: refused + "/x.bin", args: []string{"--retries", "1"},
			code: 1, fail: `after 2 attempts: connection refused`},
		{name: "reset mid-body, then fine", url: srv.URL + "/reset/1/r.bin", resumed: true},
		{name: "reset mid-body, always", url: srv.URL + "/reset/99/r2.bin", args: []string{"--retries", "1"},
			code: 1, fail: `after 2 attempts: connection reset by peer`},
		{name: "truncated body, then fine", url: srv.URL + "/truncate/1/t.bin", ranges: []string{"", "bytes=" + half("/truncate/1/t.bin") + "-"}},
		{name: "truncated body, always", url: srv.URL + "/truncate/99/t2.bin", args: []string{"--retries", "0"},
			code: 1, fail: `body ended after ` + half("/truncate/99/t2.bin") + ` of \d+ bytes`},
		{name: "chunked body cut short", url: srv.URL + "/chunked/99/c.bin", args: []string{"--retries", "0"},
			code: 1, fail: `connection closed early|unexpected EOF`},
		{name: "chunked body cut short, then fine", url: srv.URL + "/chunked/1/c2.bin", resumed: true},
		{name: "stall mid-body", url: srv.URL + "/stall/99/s.bin", args: []string{"--retries", "0", "--stall-timeout", "500ms"},
			code: 1, fail: `no data received for 500ms \(--stall-timeout\)`, within: 10 * time.Second},
		{name: "stall before headers", url: srv.URL + "/mute/99/m.bin", args: []string{"--retries", "0", "--stall-timeout", "500ms"},
			code: 1, fail: `no data received for 500ms \(--stall-timeout\)`, within: 10 * time.Second},
		{name: "stall, then fine", url: srv.URL + "/stall/1/s2.bin", args: []string{"--stall-timeout", "500ms"},
			ranges: []string{"", "bytes=" + half("/stall/1/s2.bin") + "-"}, within: 10 * time.Second},
		{name: "redirect loop", url: srv.URL + "/loop/x", code: 1, fail: `stopped after 10 redirects`},
		{name: "5xx storm, then fine", url: srv.URL + "/status/4/503.bin", args: []string{"--retries", "5"},
			ranges: []string{"", "", "", "", ""}},
		{name: "5xx storm, always", url: srv.URL + "/status/99/503x.bin", args: []string{"--retries", "2"},
			code: 1, fail: `after 3 attempts: HTTP 503 Service Unavailable \(×3\)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			good := srv.URL + "/ok/" + strings.ReplaceAll(tt.name, " ", "_")
			args := append([]string{"-o", "out", "-j", "2", "--retry-wait", "10ms", "--report", "report.json"}, tt.args...)
			start := time.Now()
			r := fetchpool(t, dir, tt.url+"\n"+good+"\n", args...)
			took := time.Since(start)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			if tt.within > 0 && took > tt.within {
				t.Errorf("the run took %v, want at most %v", took, tt.within)
			}
			checkFile(t, dir, filepath.Base(good), strings.TrimPrefix(good, srv.URL))
			name := filepath.Base(tt.url)
			if tt.code == 0 {
				checkFile(t, dir, name, strings.TrimPrefix(tt.url, srv.URL))
				noParts(t, filepath.Join(dir, "out"))
			} else {
				rx := regexp.MustCompile(`(?m)^FAIL -:1 ` + regexp.QuoteMeta(tt.url) + `: .*` + tt.fail)
				if !rx.MatchString(r.stderr) {
					t.Errorf("stderr has no line matching %q:\n%s", rx, r.stderr)
				}
				if _, err := os.Stat(filepath.Join(dir, "out", name)); err == nil {
					t.Errorf("the failed item left a file under its final name")
				}
			}
			if u := strings.TrimPrefix(tt.url, srv.URL); tt.ranges != nil && !slices.Equal(srv.ranges(u), tt.ranges) {
				t.Errorf("Range headers of the requests %q, want %q", srv.ranges(u), tt.ranges)
			}
			if got := srv.ranges(strings.TrimPrefix(tt.url, srv.URL)); tt.resumed && len(got) != 2 {
				t.Errorf("%d requests, want 2: %q", len(got), got)
			}
		})
	}
}

// closedPort returns the base URL of a loopback port nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestFaultRedirectLoopStopsAtTen: a redirect loop costs eleven requests,
// not retries of them.
func TestFaultRedirectLoopStopsAtTen(t *testing.T) {
	srv := newFaultServer(t)
	r := fetchpool(t, t.TempDir(), "", "-o", "out", srv.URL+"/loop/x")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if n := srv.total(); n != 11 {
		t.Errorf("the server got %d requests, want 11 (the first and 10 redirects)", n)
	}
}

// TestFaultServerErrorStorm: many items against a server that answers 503
// to the first tries of each all end well, each after its retries.
func TestFaultServerErrorStorm(t *testing.T) {
	srv := newFaultServer(t)
	dir := t.TempDir()
	var list strings.Builder
	const items = 40
	for i := range items {
		fmt.Fprintf(&list, "%s/status/%d/f%02d.bin\n", srv.URL, i%4, i)
	}
	r := fetchpool(t, dir, list.String(), "-o", "out", "-j", "8", "--retries", "3", "--retry-wait", "5ms")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("done %d,", items)) {
		t.Errorf("summary does not say done %d:\n%s", items, r.stderr)
	}
	for i := range items {
		path := fmt.Sprintf("/status/%d/f%02d.bin", i%4, i)
		checkFile(t, dir, filepath.Base(path), path)
		if got := len(srv.ranges(path)); got != i%4+1 {
			t.Errorf("%s: %d requests, want %d", path, got, i%4+1)
		}
	}
}

// TestFaultUnresolvableHost: a name under the reserved .invalid TLD fails
// at once with a clear reason, and is never looked up nor sent to a proxy.
// In a network namespace of its own (no route anywhere), a DNS query would
// fail differently, and be retried.
func TestFaultUnresolvableHost(t *testing.T) {
	const url = "http://nohost.invalid/x"
	proxy := newFaultServer(t)
	run := func(t *testing.T, prefix []string, env ...string) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "local.txt"), []byte("local"), 0o644)
		argv := append(prefix, binary, "-o", "out", "--retry-wait", "1s", url, "local.txt")
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		cmd.Env = append(testEnv(), env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("exit %v, want 1; stderr:\n%s", err, &stderr)
		}
		rx := regexp.MustCompile(`(?m)^FAIL arg 1 ` + regexp.QuoteMeta(url) + `: .*nohost\.invalid.*no such host`)
		if !rx.MatchString(stderr.String()) {
			t.Errorf("stderr has no line matching %q:\n%s", rx, &stderr)
		}
		if took > 3*time.Second {
			t.Errorf("took %v to fail: looked up or retried", took)
		}
		if got := readFile(t, filepath.Join(dir, "out", "local.txt")); string(got) != "local" {
			t.Errorf("the other item was not copied")
		}
	}
	t.Run("through a proxy", func(t *testing.T) {
		run(t, nil, "HTTP_PROXY="+proxy.URL, "http_proxy="+proxy.URL, "NO_PROXY=", "no_proxy=")
		if n := proxy.total(); n != 0 {
			t.Errorf("the proxy got %d requests for a .invalid name", n)
		}
	})
	t.Run("no network", func(t *testing.T) {
		if err := exec.Command("unshare", "-n", "true").Run(); err != nil {
			t.Skipf("cannot make a network namespace: %v", err)
		}
		run(t, []string{"unshare", "-n"})
	})
}

// TestFaultDiskFull: on a 1 MiB file system, a 3 MiB item fails with a
// clear "disk full" reason and its .part is removed; the items after it
// fit, and are saved.
func TestFaultDiskFull(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big.bin" {
			http.ServeContent(w, r, "", modTime, bytes.NewReader(big))
			return
		}
		http.ServeContent(w, r, "", modTime, bytes.NewReader(content(r.URL.Path)))
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	mountTmpfs(t, out, "size=1m")
	if size, err := fsSize(out); err != nil || size > 1<<20 {
		t.Fatalf("the small file system is not there: %v, %d bytes", err, size)
	}
	list := srv.URL + "/big.bin\n" + srv.URL + "/s1.txt\n" + srv.URL + "/s2.txt\n"
	r := fetchpool(t, dir, list, "-o", "out", "-j", "1", "--report", "report.json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	rx := regexp.MustCompile(`(?m)^FAIL -:1 \S+/big\.bin: disk full writing out/big\.bin\.part: no space left on device`)
	if !rx.MatchString(r.stderr) {
		t.Errorf("stderr has no line matching %q:\n%s", rx, r.stderr)
	}
	if !strings.Contains(r.stderr, "done 2, skipped 0, failed 1") {
		t.Errorf("summary wrong:\n%s", r.stderr)
	}
	for _, name := range []string{"big.bin", "big.bin.part", "big.bin.part.meta"} {
		if _, err := os.Stat(filepath.Join(out, name)); err == nil {
			t.Errorf("%s left on the full disk", name)
		}
	}
	checkFile(t, dir, "s1.txt", "/s1.txt")
	checkFile(t, dir, "s2.txt", "/s2.txt")
}

// TestFaultFileTooLarge: the same with the file-size limit (EFBIG) instead
// of a full disk, the other way a write runs out of room.
func TestFaultFileTooLarge(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("no prlimit")
	}
	srv := fileServer(t)
	dir := t.TempDir()
	small := srv.URL + "/s.txt"
	bigURL := srv.URL + "/" + strings.Repeat("b", 200) // content() is 1000 copies of the path
	cmd := exec.Command("prlimit", "--fsize=65536", binary, "-o", "out", "-j", "1", bigURL, small)
	cmd.Dir = dir
	cmd.Env = testEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1; stderr:\n%s", err, &stderr)
	}
	if !strings.Contains(stderr.String(), "file size limit reached writing out/"+strings.Repeat("b", 200)+".part: file too large") {
		t.Errorf("no clear reason:\n%s", &stderr)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "out", "b*")); len(m) != 0 {
		t.Errorf("left behind: %v", m)
	}
	checkFile(t, dir, "s.txt", "/s.txt")
}

// TestFaultFewFileDescriptorsManyHosts: under a limit of 256 open files,
// -j 64 over 400 hosts fetches every item. Up to 256 connections were kept
// idle over all hosts (4 per transfer in flight), which with the 64 in use
// and their files ran out of descriptors: most items failed "too many open
// files". The idle ones are now held to what the limit leaves.
func TestFaultFewFileDescriptorsManyHosts(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("no prlimit")
	}
	port := anyHostServer(t)
	const n, hosts = 4000, 400
	dir := t.TempDir()
	cmd := exec.Command("prlimit", "--nofile=256", binary, "-o", "out", "-j", "64", "-q", "--retries", "0")
	cmd.Dir = dir
	cmd.Env = testEnv()
	cmd.Stdin = &hostList{port: port, n: n, hosts: hosts}
	r := runCommand(t, cmd)
	if r.code != 0 || !strings.Contains(r.stderr, fmt.Sprintf("done %d,", n)) {
		t.Fatalf("exit %d, want 0 with every item done; stderr:\n%s", r.code, lastLines(r.stderr, 5))
	}
}

// TestFaultOutputNotWritable: an output directory that cannot be made or
// written is a usage error (exit 2) found before any request; a
// subdirectory of one item that cannot be made fails that item only.
func TestFaultOutputNotWritable(t *testing.T) {
	srv := newFaultServer(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o644)
	os.Symlink("gone", filepath.Join(dir, "dangling"))
	os.Symlink("loop", filepath.Join(dir, "loop"))
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.Symlink("gone", filepath.Join(dir, "sub", "dangling")) // gone beside it: sub/gone
	ro := filepath.Join(dir, "ro")
	mountTmpfs(t, ro, "size=64k")
	if err := remountReadOnly(ro); err != nil {
		t.Fatalf("remounting read-only: %v", err)
	}
	tests := []struct {
		name, out, want string
		dryRun          bool
	}{
		{"a regular file", "file", "file exists and is not a directory", false},
		{"a regular file, dry run", "file", "file exists and is not a directory", true},
		{"under a regular file", "file/sub", "file/sub: file is not a directory", false},
		{"a read-only file system", "ro", "read-only file system", false},
		{"under a read-only file system", "ro/sub", "read-only file system", false},
		// Both said only "mkdir dangling: file exists", of a directory ls does not show.
		{"a symbolic link to nothing", "dangling", "dangling is a symbolic link to gone, which does not exist: create gone or give -o another directory", false},
		{"a symbolic link to nothing, dry run", "dangling", "dangling is a symbolic link to gone, which does not exist", true},
		// Its target is looked up where the link is: "create gone" sent people to make ./gone.
		{"a symbolic link to nothing, in a subdirectory", "sub/dangling", "sub/dangling is a symbolic link to gone, which does not exist: create sub/gone or give -o another directory", false},
		{"a symbolic link loop", "loop", "loop is a symbolic link to loop, which is a loop of symbolic links: give -o another directory", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"-o", tt.out, srv.URL + "/ok/a.bin"}
			if tt.dryRun {
				args = append(args, "--dry-run")
			}
			r := fetchpool(t, dir, "", args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "output directory") || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not name the output directory and %q:\n%s", tt.want, r.stderr)
			}
			if n := srv.total(); n != 0 {
				t.Errorf("%d requests sent before the output directory was found unusable", n)
			}
		})
	}

	t.Run("an item's subdirectory", func(t *testing.T) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "out"), 0o755)
		os.WriteFile(filepath.Join(dir, "out", "sub"), []byte("x"), 0o644)
		list := srv.URL + "/ok/x.bin\tsub/x.bin\n" + srv.URL + "/ok/y.bin\n"
		r := fetchpool(t, dir, list, "-o", "out")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
		}
		if !regexp.MustCompile(`(?m)^FAIL -:1 .*x\.bin: .*out/sub.*not a directory`).MatchString(r.stderr) {
			t.Errorf("no clear reason for the item:\n%s", r.stderr)
		}
		checkFile(t, dir, "y.bin", "/ok/y.bin")
	})
}

// writeMeta writes the sidecar of a part as an earlier run would have.
func writeMeta(t *testing.T, part string, meta map[string]any) {
	t.Helper()
	b, _ := json.Marshal(meta)
	if err := os.WriteFile(part+".meta", b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFaultPartFromEarlierRun: a .part left by an earlier run is resumed
// to the right bytes: after a real crash (SIGKILL mid-transfer), from a
// sidecar on disk, and, when the resource changed (If-Range fails) or no
// sidecar says what the part holds, by starting over. A part whose sidecar
// names another URL is left untouched and the item takes another name.
func TestFaultPartFromEarlierRun(t *testing.T) {
	t.Run("after a crash", func(t *testing.T) {
		srv := newHoldServer(t)
		dir := t.TempDir()
		out := filepath.Join(dir, "out")
		os.Mkdir(out, 0o755)
		url := srv.URL + "/hold/big/crash.bin"
		whole := holdBody("/hold/big/crash.bin")
		p := startFetchpool(t, dir, "-o", "out", url)
		srv.await(t, 1)
		waitSize(t, out, "crash.bin.part", 1)
		p.signal(syscall.SIGKILL)
		if r := p.wait(); r.code != -1 {
			t.Fatalf("exit %d, want death by SIGKILL", r.code)
		}
		part := readFile(t, filepath.Join(out, "crash.bin.part"))
		if len(part) == 0 || len(part) > len(whole)/2 || !bytes.Equal(part, whole[:len(part)]) {
			t.Fatalf("the crash left %d bytes that are not the start of the resource", len(part))
		}
		if _, err := fetch.ReadMeta(filepath.Join(out, "crash.bin.part")); err != nil {
			t.Fatalf("the crash left a large part without its sidecar: %v", err)
		}
		srv.holding.Store(false)
		r := fetchpool(t, dir, "", "-o", "out", url)
		if r.code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
		}
		if got := readFile(t, filepath.Join(out, "crash.bin")); !bytes.Equal(got, whole) {
			t.Errorf("crash.bin after the resume: %d bytes that are not the resource", len(got))
		}
		want := "/hold/big/crash.bin bytes=" + strconv.Itoa(len(part)) + "-"
		if !slices.Contains(srv.seen(), want) {
			t.Errorf("no resume request %q: %q", want, srv.seen())
		}
		noParts(t, out)
	})

	// etagged serves content(path) with an ETag and records the Range of
	// each request.
	etagged := func(etag string) (*httptest.Server, func() []string) {
		var mu sync.Mutex
		var ranges []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			ranges = append(ranges, r.Header.Get("Range"))
			mu.Unlock()
			w.Header().Set("ETag", etag)
			http.ServeContent(w, r, "", modTime, bytes.NewReader(content(r.URL.Path)))
		}))
		t.Cleanup(srv.Close)
		return srv, func() []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(ranges)
		}
	}
	tests := []struct {
		name   string
		part   []byte // what the earlier run left
		meta   func(url string) map[string]any
		etag   string
		saved  string   // where the item lands
		ranges []string // the Range of each request, when known
	}{
		{name: "sidecar matches", part: content("/r.bin")[:4321], etag: `"v1"`, saved: "r.bin", ranges: []string{"bytes=4321-"},
			meta: func(u string) map[string]any {
				return map[string]any{"url": u, "etag": `"v1"`, "length": len(content("/r.bin"))}
			}},
		{name: "resource changed", part: []byte("stale bytes of an older version"), etag: `"v2"`, saved: "r.bin",
			meta: func(u string) map[string]any { return map[string]any{"url": u, "etag": `"v1"`, "length": -1} }},
		{name: "no sidecar", part: []byte("who knows what"), etag: `"v1"`, saved: "r.bin"},
		{name: "part longer than the resource", part: bytes.Repeat([]byte("x"), 20000), etag: `"v1"`, saved: "r.bin",
			meta: func(u string) map[string]any { return map[string]any{"url": u, "etag": `"v1"`, "length": -1} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, ranges := etagged(tt.etag)
			dir := t.TempDir()
			part := filepath.Join(dir, "out", "r.bin.part")
			os.MkdirAll(filepath.Dir(part), 0o755)
			os.WriteFile(part, tt.part, 0o644)
			if tt.meta != nil {
				writeMeta(t, part, tt.meta(srv.URL+"/r.bin"))
			}
			r := fetchpool(t, dir, "", "-o", "out", "-v", srv.URL+"/r.bin")
			if r.code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			checkFile(t, dir, tt.saved, "/r.bin")
			noParts(t, filepath.Join(dir, "out"))
			if tt.ranges != nil && !slices.Equal(ranges(), tt.ranges) {
				t.Errorf("Range headers %q, want %q", ranges(), tt.ranges)
			}
		})
	}

	t.Run("sidecar names another URL", func(t *testing.T) {
		srv := fileServer(t)
		dir := t.TempDir()
		part := filepath.Join(dir, "out", "a.bin.part")
		os.MkdirAll(filepath.Dir(part), 0o755)
		foreign := []byte("half of somebody else's file")
		os.WriteFile(part, foreign, 0o644)
		other := map[string]any{"url": "http://elsewhere.example/a.bin", "length": 1000}
		writeMeta(t, part, other)
		metaBefore := readFile(t, part+".meta")
		r := fetchpool(t, dir, "", "-o", "out", srv.URL+"/a.bin")
		if r.code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
		}
		if got := readFile(t, part); !bytes.Equal(got, foreign) {
			t.Errorf("the other URL's part was changed: %q", got)
		}
		if got := readFile(t, part+".meta"); !bytes.Equal(got, metaBefore) {
			t.Errorf("the other URL's sidecar was changed: %s", got)
		}
		if _, err := os.Stat(filepath.Join(dir, "out", "a.bin")); err == nil {
			t.Errorf("the item took the name whose part belongs to another URL")
		}
		checkFile(t, dir, "a.1.bin", "/a.bin")
	})

	// A finished file named "a.bin.part" (an earlier item's, or another
	// program's download) is larger than any part fetchpool leaves without
	// a sidecar: it is not truncated by the item "a.bin", which takes the
	// next name.
	t.Run("large part without a sidecar", func(t *testing.T) {
		srv := fileServer(t)
		dir := t.TempDir()
		part := filepath.Join(dir, "out", "a.bin.part")
		os.MkdirAll(filepath.Dir(part), 0o755)
		finished := bytes.Repeat([]byte("a finished file, not a part "), 20000)
		if len(finished) <= fetch.MaxPartWithoutSidecar {
			t.Fatalf("the test's file (%d bytes) is small enough to be a part", len(finished))
		}
		os.WriteFile(part, finished, 0o644)
		r := fetchpool(t, dir, "", "-o", "out", srv.URL+"/a.bin")
		if r.code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
		}
		if got := readFile(t, part); !bytes.Equal(got, finished) {
			t.Errorf("a.bin.part was changed: %d bytes", len(got))
		}
		checkFile(t, dir, "a.1.bin", "/a.bin")
	})
}

// TestHostileInput: overlong lines, invalid UTF-8, control characters and
// binary garbage on stdin each fail their own line with a message naming
// -:LINE, printed safely (valid UTF-8, no control characters); nothing
// crashes and the good lines are fetched.
func TestHostileInput(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rnd.IntN(256))
	}
	var in bytes.Buffer
	var good []string
	addGood := func(name string) {
		in.WriteString(srv.URL + "/" + name + "\n")
		good = append(good, name)
	}
	addGood("first.bin")
	in.WriteString("http://example.com/" + strings.Repeat("a", 70<<10) + "\n") // over the 64 KiB line limit
	in.WriteString("http://example.com/\xff\xfe\xfd.bin\n")                    // invalid UTF-8
	in.WriteString("http://example.com/a\x00b\x1b[2J.bin\n")                   // NUL and an escape sequence
	in.WriteString("\x1b]0;pwned\x07\n")                                       // a terminal title escape
	addGood("middle.bin")
	in.Write(garbage) // binary: many lines, most of them junk
	in.WriteString("\n")
	in.Write(bytes.Repeat([]byte{0xff, 0x00, 0x80}, 100<<10)) // a 300 KiB binary "line"
	in.WriteString("\n")
	addGood("last.bin")

	// The lines that must fail: every non-blank, non-comment line that is
	// not a good one.
	var bad []int
	for i, l := range strings.Split(strings.TrimSuffix(in.String(), "\n"), "\n") {
		l = strings.TrimSpace(strings.TrimSuffix(l, "\r"))
		if l == "" || l[0] == '#' || strings.HasPrefix(l, srv.URL) {
			continue
		}
		bad = append(bad, i+1)
	}

	r := fetchpool(t, dir, in.String(), "-o", "out", "--failed", "failed.txt")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%q", r.code, r.stderr)
	}
	for _, name := range good {
		checkFile(t, dir, name, "/"+name)
	}
	if !utf8.ValidString(r.stderr) || strings.ContainsFunc(r.stderr, func(c rune) bool { return c < 0x20 && c != '\n' || c == 0x7f }) {
		t.Errorf("stderr carries raw bytes of the input:\n%q", r.stderr)
	}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("crashed:\n%s", r.stderr)
	}
	var lines []int
	seen := map[int]bool{}
	for _, m := range regexp.MustCompile(`(?m)^FAIL -:(\d+) `).FindAllStringSubmatch(r.stderr, -1) {
		n, _ := strconv.Atoi(m[1])
		if !seen[n] {
			seen[n] = true
			lines = append(lines, n)
		}
	}
	if !slices.Equal(lines, bad) {
		t.Errorf("failed lines %v, want %v", lines, bad)
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("done %d, skipped 0, failed %d", len(good), len(bad))) {
		t.Errorf("summary wrong, want done %d failed %d:\n%s", len(good), len(bad), lastLines(r.stderr, 3))
	}
	for _, want := range []string{"-:2 http://example.com/aaaa", "longer than 65536 bytes", "-:3 ", "not valid text"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q", want)
		}
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(len(l)-n, 0):], "\n")
}

// TestFaultInputReadError: an input that fails to read midway (here
// /proc/self/mem, which opens but cannot be read from its start) ends the
// run with exit 1 after what was read is handled, and says so everywhere
// a person or a script looks for what is left: stderr names the read
// error and the last line read, --failed ends with a comment saying the
// same, and --report carries it in its summary ("unread_input").
func TestFaultInputReadError(t *testing.T) {
	const unreadable = "/proc/self/mem"
	if _, err := os.Stat(unreadable); err != nil {
		t.Skipf("no %s to fail reading: %v", unreadable, err)
	}
	srv := fileServer(t)
	for _, tt := range []struct {
		name      string
		args      []string
		list      string // good.txt, read with -i before the unreadable input
		wantAfter string // "" when no item was read
		summary   string
		failed    []string // the items --failed lists before its comment
	}{
		{
			name:      "after a list",
			args:      []string{"-i", "good.txt"},
			list:      srv.URL + "/a.bin\n" + srv.URL + "/missing.bin\n# end of good.txt\n",
			wantAfter: "good.txt:2",
			summary:   "done 1, skipped 0, failed 1, not started 0 ·",
			failed:    []string{srv.URL + "/missing.bin"},
		},
		{
			name:      "after an argument",
			args:      []string{srv.URL + "/b.bin"},
			wantAfter: "arg 1",
			summary:   "done 1, skipped 0, failed 0, not started 0 ·",
		},
		{
			name:    "before any item",
			summary: "done 0, skipped 0, failed 0, not started 0 ·",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.list != "" {
				if err := os.WriteFile(filepath.Join(dir, "good.txt"), []byte(tt.list), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := append(tt.args, "-i", unreadable, "-o", "out", "--no-progress",
				"--report", "report.json", "--failed", "failed.txt")
			r := fetchpool(t, dir, "", args...)
			if r.code != exitFailed {
				t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.summary) {
				t.Errorf("summary does not say %q:\n%s", tt.summary, r.stderr)
			}
			readErr := regexp.MustCompile(`reading /proc/self/mem: [^;\n]*input/output error`)
			where := ""
			if tt.wantAfter != "" {
				where = " (after " + tt.wantAfter + ")"
			}
			stderr := regexp.MustCompile(`(?m)^fetchpool: the input ended early: reading /proc/self/mem: .*; the rest of the input` +
				regexp.QuoteMeta(where) + ` was not read: to finish the list, run it again once the input can be read \(finished files are skipped\)$`)
			if !stderr.MatchString(r.stderr) {
				t.Errorf("stderr does not say that the input ended early, where and why:\n%s", r.stderr)
			}

			failed := readLines(t, filepath.Join(dir, "failed.txt"))
			note := regexp.MustCompile(`^# the input ended early: reading /proc/self/mem: .*; the rest of the input` +
				regexp.QuoteMeta(where) + ` was not read; to finish the list, run the whole list again once the input can be read \(finished files are skipped\)$`)
			if n := len(failed); n == 0 || !note.MatchString(failed[n-1]) || !readErr.MatchString(failed[n-1]) {
				t.Errorf("--failed does not end by saying that the input ended early, where and why: %q", failed)
			}
			if items := failedItems(t, filepath.Join(dir, "failed.txt")); !slices.Equal(items, tt.failed) {
				t.Errorf("--failed lists %q, want %q", items, tt.failed)
			}

			var rep struct {
				Summary struct {
					Failed      int
					UnreadInput *struct{ After, Reason string } `json:"unread_input"`
				}
			}
			if err := json.Unmarshal(readFile(t, filepath.Join(dir, "report.json")), &rep); err != nil {
				t.Fatalf("--report is not JSON: %v", err)
			}
			switch u := rep.Summary.UnreadInput; {
			case u == nil:
				t.Errorf("--report summary has no unread_input")
			case u.After != tt.wantAfter || !readErr.MatchString(u.Reason):
				t.Errorf("--report unread_input = %+v, want after %q and the read error", *u, tt.wantAfter)
			}
			if rep.Summary.Failed != len(tt.failed) {
				t.Errorf("--report summary: failed %d, want %d", rep.Summary.Failed, len(tt.failed))
			}
		})
	}
}

// TestFaultFailedListDiskFull: a --failed list that cannot be written
// whole (a full disk) is removed, and the error says so. It was left cut
// short, its last line cut too ("http://h/fail/2" of ".../fail/262"): the
// documented retry, fetchpool ... --failed f.txt || fetchpool -i f.txt,
// then fetched only some of the items, and a cut line as another URL.
func TestFaultFailedListDiskFull(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	mountTmpfs(t, full, "size=8k")
	var list strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&list, "%s/missing/%d\n", srv.URL, i)
	}
	r := fetchpool(t, dir, list.String(), "-o", "out", "-j", "4", "--failed", "full/failed.txt")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, lastLines(r.stderr, 5))
	}
	want := "writing failed list full/failed.txt: no space left on device; no list was left at full/failed.txt"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, lastLines(r.stderr, 5))
	}
	if _, err := os.Lstat(filepath.Join(full, "failed.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the cut --failed list is still there (%v)", err)
	}
	// The summary, past the failures it lists, sends no one to it.
	if strings.Contains(r.stderr, "listed in full/failed.txt") {
		t.Errorf("the summary says the failures are listed in the list that was removed:\n%s", lastLines(r.stderr, 5))
	}
}
