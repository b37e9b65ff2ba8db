package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEndToEndHostileHTTP1Answers: answers of misbehaving HTTP/1 servers
// to plain http:// URLs, each written byte for byte. An HTTP/1.0 response
// with "Transfer-Encoding: chunked" was saved with its chunk sizes in it,
// done; a port of another protocol was "a malformed response"; a redirect
// whose small body never came was waited for until the stall timeout, and
// then failed at its target. Now the first two fail, saying what the
// server did (exit 1, nothing under their names), and the redirect is
// followed within a second or so.
func TestEndToEndHostileHTTP1Answers(t *testing.T) {
	release := make(chan struct{})
	answers := map[string]string{
		"/h10":   "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"/redis": "-ERR unknown command 'GET'\r\n",
		"/moved": "HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 20\r\n\r\n",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer, ok := answers[r.URL.Path]
		if !ok {
			w.Write([]byte("landed"))
			return
		}
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		rw.WriteString(answer)
		rw.Flush()
		if r.URL.Path == "/moved" {
			<-release // the body promised never comes; the connection stays open
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // before srv.Close
	dir := t.TempDir()
	start := time.Now()
	r := fetchpool(t, dir, "", "-o", "out", "--no-progress", srv.URL+"/h10", srv.URL+"/redis", srv.URL+"/moved")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the run took %v", d)
	}
	for _, want := range []string{
		srv.URL + "/h10: the server sent an HTTP/1.0 response with a Transfer-Encoding, which HTTP/1.0 does not have: where its body ends cannot be told",
		srv.URL + `/redis: the server's answer is not HTTP/1.x (it begins "-ERR unknown command 'GET'")`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
		}
	}
	for _, name := range []string{"h10", "redis"} {
		if _, err := os.Lstat(filepath.Join(dir, "out", name)); err == nil {
			t.Errorf("out/%s exists; the item failed", name)
		}
	}
	if got := string(readFile(t, filepath.Join(dir, "out", "moved"))); got != "landed" {
		t.Errorf("out/moved holds %q, want the redirect's target", got)
	}
}
