package fetch

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fetchpool/fetchpool/internal/http1"
)

// TestProtocolViolationsAreNotRetried: a response that breaks HTTP itself
// (two Content-Lengths that disagree, a status line or header that does
// not parse, a chunked body with a bad chunk size) is what the server
// sends every time: the item fails after one request, with a message
// that says what the server did wrong, instead of burning --retries and
// their backoff. A connection that ends early, before the header or in
// the body, may pass, and is still retried. Both transports: plain http
// (the lean one) and https over HTTP/1.1 (net/http's).
func TestProtocolViolationsAreNotRetried(t *testing.T) {
	const retries = 2
	tests := []struct {
		name, answer string
		wantReqs     int32
		want         string // in the error
	}{
		{"two Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
			1, `the server sent a malformed response (message cannot contain multiple Content-Length headers; got ["5" "6"])`},
		{"bad status code", "HTTP/1.1 2x0 OK\r\nContent-Length: 5\r\n\r\nhello",
			1, `the server sent a malformed response (malformed HTTP status code "2x0")`},
		{"not HTTP", "SSH-2.0-OpenSSH_9.6\r\n\r\n",
			1, `the server sent a malformed response (malformed HTTP response "SSH-2.0-OpenSSH_9.6")`},
		{"another protocol", "-ERR unknown command 'GET', with args beginning with: '/f'\r\n",
			1, `the server sent a malformed response (malformed HTTP status code "unknown")`},
		{"HTTP/0.9", "a body with no status line",
			1, `the server sent a malformed response (malformed HTTP status code "body")`},
		{"bad version", "HTTP/x 200 OK\r\nContent-Length: 5\r\n\r\nhello",
			1, `the server sent a malformed response (malformed HTTP version "HTTP/x")`},
		{"bad Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello",
			1, `the server sent a malformed response (bad Content-Length "abc")`},
		{"unknown transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello",
			1, `the server sent a malformed response (unsupported transfer encoding: "gzip")`},
		{"NUL in a header", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 1\r\n\r\nx",
			1, `the server sent a malformed response header (malformed MIME header line: "X-A: a\x00b")`},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
			1, "the server sent a malformed chunked body (invalid byte in chunk length)"},
		{"chunk without its CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
			1, "the server sent a malformed chunked body (malformed chunked encoding)"},
		{"interim responses for ever", strings.Repeat("HTTP/1.1 102 Processing\r\n\r\n", http1.MaxInterim+1) + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
			1, "the server sent 100 interim (1xx) responses and no answer"},
		// 1 MiB is the lean transport's cap; net/http's is 10 MiB.
		{"header too long", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("a", 1000)+"\r\n", 11<<10) + "Content-Length: 1\r\n\r\nx",
			1, "the server's response header is too long: over 10 MiB, the most fetchpool reads"},
		// Transient: the same answer cut short may be whole next time.
		{"no answer", "", retries + 1, "the server closed the connection without sending a response"},
		// textproto says "missing colon" of this one, as of a whole line
		// without a colon, which is thus retried too.
		{"header cut short", "HTTP/1.1 200 OK\r\nContent-Len", retries + 1, ""},
		// net/http parses a status line before it sees the connection
		// end: one cut short reads as malformed, and is retried too.
		{"status line cut short", "HTTP/1.1 20", retries + 1, ""},
		{"status line cut in the version", "HTTP/1.", retries + 1, ""},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", retries + 1, "body ended after 5 of 10 bytes"},
		{"chunked body cut short", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", retries + 1, "connection closed early"},
		{"chunk size cut short", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1", retries + 1, "connection closed early"},
		// Cut after the last chunk, in the trailer: net/http says "unexpected
		// EOF reading trailer", or, for a trailer line cut short,
		// "suspiciously long trailer".
		{"trailer cut short", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n", retries + 1,
			"connection closed early (in the trailer after the chunked body's last chunk)"},
		{"trailer line cut short", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 1", retries + 1,
			"the server sent a chunked body whose trailer does not end (the connection closed in it, or it is too long)"},
	}
	// Plain http's transport tells an answer that is not HTTP/1 by its
	// beginning, where net/http takes a word of it for a status code; and
	// a header cut short by the connection's end, which net/http calls
	// malformed.
	overHTTP := map[string]string{
		"header too long":                "the server's response header is too long: over 1 MiB, the most fetchpool reads",
		"header cut short":               "connection closed early",
		"status line cut short":          "connection closed early",
		"status line cut in the version": "connection closed early",
		"not HTTP":                       `the server's answer is not HTTP/1.x (it begins "SSH-2.0-OpenSSH_9.6"): its port serves another protocol, or HTTP/0.9, which fetchpool does not speak`,
		"another protocol":               `the server's answer is not HTTP/1.x (it begins "-ERR unknown command 'GET', with args beginning with: '/f'"): its port serves another protocol, or HTTP/0.9, which fetchpool does not speak`,
		"HTTP/0.9":                       `the server's answer is not HTTP/1.x (it begins "a body with no status line"): its port serves another protocol, or HTTP/0.9, which fetchpool does not speak`,
	}
	for _, tt := range tests {
		for _, scheme := range []string{"http", "https"} {
			t.Run(tt.name+" "+scheme, func(t *testing.T) {
				u, requests := countingAnswerer(t, scheme, tt.answer)
				cfg := testConfig()
				cfg.Retries = retries
				cfg.Insecure = true
				_, err := newClient(t, cfg).Fetch(context.Background(), request(u, filepath.Join(t.TempDir(), "f"), nil))
				if err == nil {
					t.Fatal("no error")
				}
				if n := requests.Load(); n != tt.wantReqs {
					t.Errorf("%d requests, want %d (err: %v)", n, tt.wantReqs, err)
				}
				want := tt.want
				if w, ok := overHTTP[tt.name]; ok && scheme == "http" {
					want = w
				}
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v\nwant it to say %s", err, want)
				}
			})
		}
	}
}

// TestTLSRefusalsAreNotRetried: a server that refuses the TLS handshake
// with an alert (it wants a client certificate, speaks only TLS 1.0,
// shares no cipher suite with the client) answers the same every time: the
// item fails after one connection, saying what the server refused, where
// each refusal was retried with backoff.
func TestTLSRefusalsAreNotRetried(t *testing.T) {
	tests := []struct {
		name string
		tls  *tls.Config
		want string
	}{
		{"client certificate required", &tls.Config{ClientAuth: tls.RequireAnyClientCert},
			"the server refused the connection: it requires a client certificate, which fetchpool does not send (TLS alert: certificate required)"},
		{"TLS 1.0 only", &tls.Config{MaxVersion: tls.VersionTLS10},
			"the server refused the connection: it speaks no TLS version fetchpool does (1.2 or later) (TLS alert: protocol version not supported)"},
		{"no common cipher suite", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_RC4_128_SHA}},
			"the server refused the connection: it agrees with fetchpool on no TLS cipher suite or parameters (TLS alert: handshake failure)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conns atomic.Int32
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte("ok"))
			}))
			srv.TLS = tt.tls
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.StartTLS()
			t.Cleanup(srv.Close)
			cfg := testConfig()
			cfg.Insecure = true
			_, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL+"/f", filepath.Join(t.TempDir(), "f"), nil))
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v\nwant      %s", err, tt.want)
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("%d connections, want 1", n)
			}
		})
	}
}

// TestNotTLSIsNotRetried: an https:// URL for a port whose server speaks
// neither TLS nor HTTP (an SSH server, say) fails after one connection,
// saying so and what the server sent, where it was retried with backoff as
// "tls: first record does not look like a TLS handshake".
func TestNotTLSIsNotRetried(t *testing.T) {
	var conns atomic.Int32
	addr := acceptEach(t, func(c net.Conn) {
		conns.Add(1)
		io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
		io.Copy(io.Discard, c)
	})
	_, err := newClient(t, testConfig()).Fetch(context.Background(), request("https://"+addr+"/f", filepath.Join(t.TempDir(), "f"), nil))
	want := `the server's answer is not TLS (it begins "SSH-2"): its port serves another protocol than https://`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant      %s", err, want)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// TestNewRefusesBadUserAgent: a User-Agent with a control character,
// which net/http refuses to send, fails New, so that the run stops before
// any request instead of failing every item after its retries; a tab and
// bytes beyond ASCII can be sent.
func TestNewRefusesBadUserAgent(t *testing.T) {
	for ua, ok := range map[string]bool{"bad\x7fagent": false, "bad\nagent": false, "bad\x00": false, "tab\tok": true, "naïve/1.0": true} {
		cfg := testConfig()
		cfg.UserAgent = ua
		_, err := New(cfg)
		if (err == nil) != ok {
			t.Errorf("User-Agent %q: New = %v, want ok %v", ua, err, ok)
		}
	}
}

// TestTLSRecordCorruptedMidBodyIsRetried: a TLS record header that goes
// bad in the middle of a body (a version or length that a flaky middlebox
// garbled) is a crypto/tls RecordHeaderError, as is the first answer of a
// port that does not speak TLS; but only that first answer is what the
// server sends every time. The garbled one is retried, and the item
// resumed, where it failed after one attempt as 'the server's answer is
// not TLS'.
func TestTLSRecordCorruptedMidBodyIsRetried(t *testing.T) {
	body := payload(1<<20, 41)
	res := newResource(body, `"r"`)
	srv := httptest.NewUnstartedServer(res)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var conns atomic.Int32
	addr := acceptEach(t, func(c net.Conn) {
		garble := conns.Add(1) == 1
		s, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			return
		}
		defer s.Close()
		go io.Copy(s, c)
		// Pass the server's records on, but for the tenth record of
		// application data on the first connection: its version is
		// garbled.
		var hdr [5]byte
		for data := 0; ; {
			if _, err := io.ReadFull(s, hdr[:]); err != nil {
				return
			}
			if hdr[0] == 23 {
				data++
			}
			if garble && data == 10 {
				hdr[1], hdr[2] = 3, 1
			}
			if _, err := c.Write(hdr[:]); err != nil {
				return
			}
			n := int64(hdr[3])<<8 | int64(hdr[4])
			if _, err := io.CopyN(c, s, n); err != nil {
				return
			}
		}
	})
	cfg := testConfig()
	cfg.Insecure = true
	path := filepath.Join(t.TempDir(), "f")
	u := "https://" + addr + "/f"
	got, err := newClient(t, cfg).Fetch(context.Background(), request(u, path, nil))
	if err != nil {
		t.Fatalf("err = %v, want the garbled record retried", err)
	}
	if got.Attempts != 2 {
		t.Errorf("Attempts = %d, want 2", got.Attempts)
	}
	assertDone(t, path, body)
}

// acceptEach listens on loopback until the test ends, and hands each
// connection to handle on a goroutine of its own, closing it after.
func acceptEach(t *testing.T, handle func(c net.Conn)) (addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// TestHTTP10TransferEncodingFails: an HTTP/1.0 response with
// "Transfer-Encoding: chunked" fails the item after one request, saying
// why, and leaves nothing under the final name: the item was done, the
// file holding the chunked framing ("5\r\nhello\r\n0\r\n\r\n"), exit 0.
// Over plain http; net/http (https) still reads such a body to the
// connection's end.
func TestHTTP10TransferEncodingFails(t *testing.T) {
	u, requests := countingAnswerer(t, "http", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	cfg := testConfig()
	cfg.Retries = 2
	path := filepath.Join(t.TempDir(), "f")
	_, err := newClient(t, cfg).Fetch(context.Background(), request(u, path, nil))
	want := "the server sent an HTTP/1.0 response with a Transfer-Encoding, which HTTP/1.0 does not have: where its body ends cannot be told"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant      %s", err, want)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	assertGone(t, path, path+".part")
}

// TestOddPartialContent: a 206 to a request for the whole file that the
// transfer cannot place fails saying what the server sent, where it said
// "server sent a 206 with a bad Content-Range \"\"" of a 206 without one,
// and "server sent bytes from 5, not 0" of one for another range.
func TestOddPartialContent(t *testing.T) {
	tests := []struct{ name, answer, want string }{
		{"no Content-Range", "HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\n\r\nhello",
			"the server answered 206 Partial Content without a Content-Range: which bytes it sent cannot be told"},
		{"bad Content-Range", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-x/5\r\nContent-Length: 5\r\n\r\nhello",
			`the server answered 206 Partial Content with a Content-Range that does not parse: "bytes 0-x/5"`},
		{"another range", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-9/10\r\nContent-Length: 5\r\n\r\nworld",
			`the server sent bytes from 5 ("bytes 5-9/10"), not from 0 as asked`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := countingAnswerer(t, "http", tt.answer)
			cfg := testConfig()
			cfg.Retries = 0
			path := filepath.Join(t.TempDir(), "f")
			_, err := newClient(t, cfg).Fetch(context.Background(), request(u, path, nil))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant      %s", err, tt.want)
			}
			assertGone(t, path)
		})
	}
}

func TestHTTP2StreamResetIsNamed(t *testing.T) {
	body := payload(100_000, 7)
	res := newResource(body, `"v1"`)
	var requests atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Content-Length", "100000")
			w.Write(body[:5000])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // RST_STREAM INTERNAL_ERROR
		}
		res.ServeHTTP(w, r)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	for _, retries := range []int{0, 1} {
		requests.Store(0)
		cfg := testConfig()
		cfg.Retries = retries
		cfg.Insecure = true
		c := newClient(t, cfg)
		path := filepath.Join(t.TempDir(), "f")
		_, err := c.Fetch(context.Background(), request(srv.URL+"/f", path, nil))
		c.CloseIdleConnections()
		if retries == 0 {
			want := "the server reset the HTTP/2 stream (INTERNAL_ERROR); " + path + ".part kept: run again to resume"
			if err == nil || err.Error() != want {
				t.Errorf("error %v, want %q", err, want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("retried: %v", err)
		}
		assertDone(t, path, body)
	}
}

func TestPlainHTTPToAnHTTPSPort(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.EnableHTTP2 = true
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "missing parameter", http.StatusBadRequest)
	}))
	t.Cleanup(bad.Close)
	tests := []struct{ name, url, want string }{
		{"TLS port", "http://" + tlsSrv.Listener.Addr().String() + "/f",
			"HTTP 400 Bad Request: the port serves https, not plain http: use an https:// URL"},
		{"another 400", bad.URL + "/f", "HTTP 400 Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			c := newClient(t, cfg)
			defer c.CloseIdleConnections()
			_, err := c.Fetch(context.Background(), request(tt.url, filepath.Join(t.TempDir(), "f"), nil))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestHeaderHTTP2Refuses(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tests := []struct {
		header, value, want string
	}{
		{"Upgrade", "foo", `the header "Upgrade: foo" (-H) cannot be sent over HTTP/2, which the server speaks: remove it`},
		{"Connection", "Upgrade", `the header "Connection: Upgrade" (-H) cannot be sent over HTTP/2, which the server speaks: remove it`},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			cfg := testConfig()
			cfg.Insecure = true
			cfg.Header = http.Header{tt.header: {tt.value}}
			c := newClient(t, cfg)
			defer c.CloseIdleConnections()
			_, err := c.Fetch(context.Background(), request(srv.URL+"/f", filepath.Join(t.TempDir(), "f"), nil))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
