package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEndToEndKeepPaths(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	r := fetchpool(t, dir, srv.URL+"/a/b/c.txt\n"+srv.URL+"/a/\n", "-x", "-o", "out")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	host := strings.ReplaceAll(strings.TrimPrefix(srv.URL, "http://"), ":", "_")
	for _, rel := range []string{"a/b/c.txt", "a/index.html"} {
		if _, err := os.Stat(filepath.Join(dir, "out", host, rel)); err != nil {
			t.Errorf("keep-paths: %v", err)
		}
	}
}

func TestEndToEndHeadersAndUserAgent(t *testing.T) {
	var mu sync.Mutex
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	r := fetchpool(t, dir, "", "-H", "X-Token: secret", "-H", "Accept: text/plain", srv.URL+"/a")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	r = fetchpool(t, dir, "", "-A", "mirror-bot/2", srv.URL+"/b")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	// -A "" sends no User-Agent at all, as curl -A "" and wget -U "" do.
	r = fetchpool(t, dir, "", "-A", "", srv.URL+"/c")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3 (no HEAD requests)", len(got))
	}
	if vs, ok := got[2]["User-Agent"]; ok {
		t.Errorf("with -A \"\": User-Agent %q sent, want none", vs)
	}
	if got[0].Get("X-Token") != "secret" || got[0].Get("Accept") != "text/plain" || !strings.HasPrefix(got[0].Get("User-Agent"), "fetchpool/") {
		t.Errorf("first request headers: %v", got[0])
	}
	if got[1].Get("User-Agent") != "mirror-bot/2" {
		t.Errorf("User-Agent = %q, want mirror-bot/2", got[1].Get("User-Agent"))
	}
}

func TestEndToEndProxyFromEnvironment(t *testing.T) {
	var target string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target = r.URL.String() // a proxy sees the absolute URL
		w.Write([]byte("via proxy"))
	}))
	defer proxy.Close()
	dir := t.TempDir()
	cmd := newCommand(dir, "http://files.test/a.txt")
	cmd.Env = append(cmd.Env, "HTTP_PROXY="+proxy.URL, "http_proxy="+proxy.URL)
	r := runCommand(t, cmd)
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if target != "http://files.test/a.txt" {
		t.Errorf("proxy saw %q", target)
	}
	if b := readFile(t, filepath.Join(dir, "a.txt")); string(b) != "via proxy" {
		t.Errorf("content %q", b)
	}
}

// TestEndToEndBadProxyFromEnvironment: a proxy variable that is not a URL
// was dropped without a word (net/http ignores it) and every request went
// around the proxy, straight to the servers, in a CI that relies on it to
// filter or log. It is a usage error now, exit 2 before any request, that
// names the variable and keeps its password out.
func TestEndToEndBadProxyFromEnvironment(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte("direct"))
	}))
	defer srv.Close()
	for _, env := range []string{
		"HTTP_PROXY=http://user:p%zzSECRET@127.0.0.1:1",
		"http_proxy=http://user:SECRET@[::1",
		"HTTPS_PROXY=user:SECRET@[::1",
	} {
		t.Run(env, func(t *testing.T) {
			dir := t.TempDir()
			cmd := newCommand(dir, srv.URL+"/a.txt")
			cmd.Env = append(cmd.Env, env)
			r := runCommand(t, cmd)
			name, _, _ := strings.Cut(env, "=")
			if r.code != 2 || !strings.Contains(r.stderr, name) {
				t.Errorf("exit %d, want 2 with a message naming %s; stderr:\n%s", r.code, name, r.stderr)
			}
			if strings.Contains(r.stderr, "SECRET") {
				t.Errorf("the proxy's password is shown:\n%s", r.stderr)
			}
			if n := requests.Swap(0); n != 0 {
				t.Errorf("%d requests went around the proxy", n)
			}
		})
	}
}

func TestEndToEndInsecure(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("secret"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	r := fetchpool(t, dir, "", "--retries", "0", srv.URL+"/a")
	if r.code != 1 || !strings.Contains(r.stderr, "certificate signed by unknown authority; if you trust this server, --insecure fetches without verifying its certificate") {
		t.Fatalf("untrusted certificate: exit %d, want 1 with a certificate error that tells of --insecure; stderr:\n%s", r.code, r.stderr)
	}
	r = fetchpool(t, dir, "", "--insecure", srv.URL+"/a")
	if r.code != 0 {
		t.Fatalf("--insecure: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if b := readFile(t, filepath.Join(dir, "a")); !bytes.Equal(b, []byte("secret")) {
		t.Errorf("content %q", b)
	}
}

func TestEndToEndRedirects(t *testing.T) {
	var sawAuth []string
	var mu sync.Mutex
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sawAuth = append(sawAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write([]byte("final"))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/elsewhere":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/ftp":
			http.Redirect(w, r, "ftp://example.com/x", http.StatusFound)
		default: // /loop/N redirects forever
			http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	r := fetchpool(t, dir, "", "-H", "Authorization: Bearer t0ken", "--retries", "0", srv.URL+"/elsewhere")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if b := readFile(t, filepath.Join(dir, "elsewhere")); string(b) != "final" {
		t.Errorf("redirect: named after the first URL with the final body; got %q", b)
	}
	if len(sawAuth) != 1 || sawAuth[0] != "" {
		t.Errorf("credentials forwarded to another host: %q", sawAuth)
	}
	r = fetchpool(t, dir, "", "--retries", "0", srv.URL+"/ftp", srv.URL+"/loop/")
	if r.code != 1 || !strings.Contains(r.stderr, "failed 2") || !strings.Contains(r.stderr, "ftp") || !strings.Contains(strings.ToLower(r.stderr), "redirect") {
		t.Errorf("refused and looping redirects: exit %d; stderr:\n%s", r.code, r.stderr)
	}
}

// TestEndToEndFailureAtRedirectTarget: when the URL a redirect led to
// cannot be reached, the FAIL line, the summary and the --json error say
// where the redirect went (its password redacted on the terminal), not
// only "connection refused".
func TestEndToEndFailureAtRedirectTarget(t *testing.T) {
	dead := strings.Replace(closedPort(t), "http://", "http://ann:s3cr3t@", 1) + "/x"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, dead, http.StatusFound)
	}))
	defer srv.Close()
	r := fetchpool(t, t.TempDir(), "", "--json", "--retries", "0", srv.URL+"/hop")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	shown := strings.Replace(dead, "s3cr3t", "xxxxx", 1)
	want := "FAIL arg 1 " + srv.URL + "/hop: redirected to " + shown + ": connection refused"
	if n := strings.Count(r.stderr, want); n != 2 {
		t.Errorf("%d lines with %q, want 2 (the item's line and the summary's); stderr:\n%s", n, want, r.stderr)
	}
	if strings.Contains(r.stderr, "s3cr3t") {
		t.Errorf("the password is shown:\n%s", r.stderr)
	}
	var rec struct{ Error string }
	if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
		t.Fatalf("--json: %v: %q", err, r.stdout)
	}
	if rec.Error != "redirected to "+shown+": connection refused" {
		t.Errorf("--json error %q, want it to name the redirect's target", rec.Error)
	}
}

// TestEndToEndURLPasswordNotShown: credentials in a URL are sent, but its
// password never reaches the terminal: not in -v lines, not in the FAIL
// line, not in the summary's list of failures. --failed keeps the URL
// whole, to run again.
func TestEndToEndURLPasswordNotShown(t *testing.T) {
	var sawAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hop" {
			http.Redirect(w, r, "/missing", http.StatusFound)
			return
		}
		sawAuth = r.Header.Get("Authorization")
		http.NotFound(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	u := strings.Replace(srv.URL, "http://", "http://ann:s3cr3t@", 1) + "/hop"
	r := fetchpool(t, dir, "", "-v", "--retries", "0", "--failed", "failed.txt", u)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if sawAuth != "Basic YW5uOnMzY3IzdA==" { // ann:s3cr3t
		t.Errorf("Authorization %q: the URL's credentials were not sent", sawAuth)
	}
	if strings.Contains(r.stderr+r.stdout, "s3cr3t") {
		t.Errorf("the password is shown:\n%s%s", r.stdout, r.stderr)
	}
	for _, want := range []string{"try 1 http://ann:xxxxx@", "redirect 1 http://ann:xxxxx@", "FAIL arg 1 http://ann:xxxxx@"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("no %q in:\n%s", want, r.stderr)
		}
	}
	if b := readFile(t, filepath.Join(dir, "failed.txt")); !strings.Contains(string(b), "ann:s3cr3t@") {
		t.Errorf("--failed: %q, want the URL whole", b)
	}
}

func TestEndToEndReusesConnections(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(content(r.URL.Path))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	var list strings.Builder
	for i := range 60 {
		fmt.Fprintf(&list, "%s/f%d\n", srv.URL, i)
	}
	r := fetchpool(t, t.TempDir(), list.String(), "-j", "4")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	// Reuse is the point; a dial racing a connection that just became idle
	// may add one or two.
	if n := conns.Load(); n > 8 {
		t.Errorf("60 items with -j 4 opened %d connections, want a handful (keep-alive reuse)", n)
	}
}

func TestEndToEndOnExistsNewer(t *testing.T) {
	modified := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	body := "version 1"
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		http.ServeContent(w, r, "", modified, strings.NewReader(body))
	}))
	defer srv.Close()
	dir := t.TempDir()
	if r := fetchpool(t, dir, "", srv.URL+"/f.txt"); r.code != 0 {
		t.Fatalf("first run: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if fi, err := os.Stat(filepath.Join(dir, "f.txt")); err != nil || !fi.ModTime().Equal(modified) {
		t.Fatalf("mtime not taken from Last-Modified: %v %v", fi.ModTime(), err)
	}
	r := fetchpool(t, dir, "", "--on-exists", "newer", srv.URL+"/f.txt")
	if r.code != 0 || !strings.Contains(r.stderr, "skipped 1") {
		t.Fatalf("unchanged resource: exit %d, want skipped; stderr:\n%s", r.code, r.stderr)
	}
	mu.Lock()
	modified, body = modified.Add(time.Hour), "version 2"
	mu.Unlock()
	r = fetchpool(t, dir, "", "--on-exists", "newer", srv.URL+"/f.txt")
	if r.code != 0 || !strings.Contains(r.stderr, "done 1") {
		t.Fatalf("newer resource: exit %d, want done; stderr:\n%s", r.code, r.stderr)
	}
	if b := readFile(t, filepath.Join(dir, "f.txt")); string(b) != "version 2" {
		t.Errorf("content %q, want version 2", b)
	}
}

// TestEndToEndOnExistsNewerServersName: with --on-exists newer, a file
// saved under the name its server gave in Content-Disposition is replaced
// only by a newer copy, though the request could not be conditional (the
// name comes with the response).
func TestEndToEndOnExistsNewerServersName(t *testing.T) {
	modified := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	body := "version 1"
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Disposition", `attachment; filename="report.txt"`)
		http.ServeContent(w, r, "", modified, strings.NewReader(body))
	}))
	defer srv.Close()
	dir := t.TempDir()
	item := srv.URL + "/download?id=7"
	if r := fetchpool(t, dir, "", item); r.code != 0 {
		t.Fatalf("first run: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	report := filepath.Join(dir, "report.txt")
	mu.Lock()
	body = "version 1, changed without a new date"
	mu.Unlock()
	r := fetchpool(t, dir, "", "--on-exists", "newer", item)
	if r.code != 0 || !strings.Contains(r.stderr, "skipped 1") || !strings.Contains(r.stderr, "not modified on the server") {
		t.Fatalf("unchanged date: exit %d, want skipped as not modified; stderr:\n%s", r.code, r.stderr)
	}
	if b := readFile(t, report); string(b) != "version 1" {
		t.Errorf("content %q after a response that was not newer, want version 1", b)
	}
	mu.Lock()
	modified, body = modified.Add(time.Hour), "version 2"
	mu.Unlock()
	r = fetchpool(t, dir, "", "--on-exists", "newer", item)
	if r.code != 0 || !strings.Contains(r.stderr, "done 1") {
		t.Fatalf("newer resource: exit %d, want done; stderr:\n%s", r.code, r.stderr)
	}
	if b := readFile(t, report); string(b) != "version 2" {
		t.Errorf("content %q, want version 2", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left: %v, want only report.txt", entries)
	}
}

func TestEndToEndNetrc(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "ann" || pass != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="files"`)
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		w.Write([]byte("private"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "netrc"), []byte("machine 127.0.0.1 login ann password s3cret\nmachine other.test login bob password x\n"), 0o600)

	r := fetchpool(t, dir, "", "--retries", "0", srv.URL+"/a")
	if r.code != 1 || !strings.Contains(r.stderr, "401") {
		t.Fatalf("without credentials: exit %d, want 1 with HTTP 401; stderr:\n%s", r.code, r.stderr)
	}
	r = fetchpool(t, dir, "", "--netrc-file", "netrc", srv.URL+"/a")
	if r.code != 0 {
		t.Fatalf("--netrc-file: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if b := readFile(t, filepath.Join(dir, "a")); string(b) != "private" {
		t.Errorf("content %q", b)
	}
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, ".netrc"), []byte("machine 127.0.0.1 login ann password s3cret\n"), 0o600)
	cmd := newCommand(dir, "--netrc", "-o", "viahome", srv.URL+"/a")
	cmd.Env = append(cmd.Env, "HOME="+home)
	if r := runCommand(t, cmd); r.code != 0 {
		t.Fatalf("--netrc from HOME: exit %d; stderr:\n%s", r.code, r.stderr)
	}
}

// TestEndToEndServersNameSkipped: an item skipped because the file its
// server names in Content-Disposition exists is reported with that file,
// in the log line and in --json, not with the name from its URL.
func TestEndToEndServersNameSkipped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="report.txt"`)
		w.Write([]byte("the report"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	item := srv.URL + "/download?id=7"
	if r := fetchpool(t, dir, "", "-o", "out", item); r.code != 0 {
		t.Fatalf("first run: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	r := fetchpool(t, dir, "", "-o", "out", "--json", item)
	if r.code != 0 {
		t.Fatalf("second run: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	var rec struct{ Output, Status string }
	if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	want := filepath.Join("out", "report.txt")
	if rec.Status != "skipped" || rec.Output != want {
		t.Errorf("--json says %s %q, want skipped %q", rec.Status, rec.Output, want)
	}
	if !strings.Contains(r.stderr, "skip "+want) {
		t.Errorf("the log line does not name %s:\n%s", want, r.stderr)
	}

	// Another item whose server names the same file, with bytes from an
	// earlier run in its part: skipped too, but its bytes are kept, and
	// the line says so, for --on-exists rename to save them.
	other := srv.URL + "/download?id=8"
	part := filepath.Join(dir, "out", "download.part")
	if err := os.WriteFile(part, []byte("the re"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeMeta(t, part, map[string]any{"url": other, "length": len("the report")})
	r = fetchpool(t, dir, "", "-o", "out", other)
	if r.code != 0 {
		t.Fatalf("third run: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "download.part is kept") {
		t.Errorf("the log line does not say the part is kept:\n%s", r.stderr)
	}
	if got, _ := os.ReadFile(part); string(got) != "the re" {
		t.Errorf("the part holds %q, want the bytes it had", got)
	}
	r = fetchpool(t, dir, "", "-o", "out", "--on-exists", "rename", other)
	if r.code != 0 {
		t.Fatalf("run with --on-exists rename: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "out", "report.1.txt")); string(got) != "the report" {
		t.Errorf("--on-exists rename saved %q as report.1.txt, want the report", got)
	}
}

// TestEndToEndProxyFailuresNameTheProxy: a proxy from the environment that
// cannot be reached, or that refuses the CONNECT of an https URL, is named
// in the message, not taken for the server of the URL; a 407 is not retried.
func TestEndToEndProxyFailuresNameTheProxy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	var connects atomic.Int32
	var userAgent atomic.Value
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		connects.Add(1)
		userAgent.Store(r.Header.Get("User-Agent"))
		w.WriteHeader(http.StatusProxyAuthRequired)
	}))
	defer refusing.Close()
	tests := []struct {
		name, env, url, want string
	}{
		{"http, proxy down", "HTTP_PROXY=http://" + closed, "http://files.test/a",
			"FAIL arg 1 http://files.test/a: the proxy " + closed + " (from HTTP_PROXY; NO_PROXY lists hosts that bypass it): connection refused (1 attempt)"},
		{"https, proxy down", "HTTPS_PROXY=http://" + closed, "https://files.test/a",
			"FAIL arg 1 https://files.test/a: the proxy " + closed + " (from HTTPS_PROXY; NO_PROXY lists hosts that bypass it): connection refused (1 attempt)"},
		{"https, CONNECT refused", "HTTPS_PROXY=" + refusing.URL, "https://files.test/a",
			"FAIL arg 1 https://files.test/a: the proxy (from HTTPS_PROXY; NO_PROXY lists hosts that bypass it): HTTP 407 Proxy Authentication Required (1 attempt)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			connects.Store(0)
			retries := "0"
			if strings.Contains(tt.name, "CONNECT") {
				retries = "2" // a 407 is not worth another attempt
			}
			cmd := newCommand(t.TempDir(), "--retries", retries, "--retry-wait", "1ms", "-A", "mirror-bot/3", tt.url)
			cmd.Env = append(cmd.Env, tt.env)
			r := runCommand(t, cmd)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want+"\n") {
				t.Fatalf("exit %d, want 1 and the line\n%s\nstderr:\n%s", r.code, tt.want, r.stderr)
			}
			if n := connects.Load(); strings.Contains(tt.name, "CONNECT") && n != 1 {
				t.Errorf("%d CONNECTs, want 1", n)
			}
			if ua, _ := userAgent.Load().(string); strings.Contains(tt.name, "CONNECT") && ua != "mirror-bot/3" {
				t.Errorf("the CONNECT said User-Agent %q, want the -A one", ua)
			}
		})
	}
}
