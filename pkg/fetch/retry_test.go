package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

func TestShouldRetry(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	live := context.Background()
	opErr := func(op string, errno syscall.Errno) error {
		return &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, errno)}
	}
	tests := []struct {
		name   string
		ctx    context.Context
		status int
		err    error
		want   bool
	}{
		{"408", live, 408, nil, true},
		{"425", live, 425, nil, true},
		{"429", live, 429, nil, true},
		{"500", live, 500, nil, true},
		{"502", live, 502, nil, true},
		{"503", live, 503, nil, true},
		{"504", live, 504, nil, true},
		{"400", live, 400, nil, false},
		{"401", live, 401, nil, false},
		{"403", live, 403, nil, false},
		{"404", live, 404, nil, false},
		{"416", live, 416, nil, false},
		{"501", live, 501, nil, false},
		{"302 without Location", live, 302, nil, false},
		{"HTTPError 503", live, 0, &HTTPError{StatusCode: 503}, true},
		{"HTTPError 404", live, 0, &HTTPError{StatusCode: 404}, false},
		{"HTTPError 503, caller canceled", canceled, 0, &HTTPError{StatusCode: 503}, false},
		{"connection refused", live, 0, &url.Error{Op: "Get", URL: "u", Err: opErr("dial", syscall.ECONNREFUSED)}, true},
		{"connection reset mid-body", live, 0, &readError{err: opErr("read", syscall.ECONNRESET)}, true},
		{"unexpected EOF", live, 0, &readError{err: io.ErrUnexpectedEOF}, true},
		{"server closed before answering", live, 0, &url.Error{Op: "Get", URL: "u", Err: io.EOF}, true},
		{"dial timeout", live, 0, &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "dial", Err: timeoutErr{}}}, true},
		{"stall", live, 0, &stallError{d: time.Second}, true},
		{"attempt timeout", live, 0, &timeoutError{d: time.Second}, true},
		{"short body", live, 0, &shortBodyError{got: 1, want: 2}, true},
		{"bad range", live, 0, &rangeError{msg: "x"}, true},
		{"file changed under a split", live, 0, changedError{}, true},
		{"context canceled", live, 0, context.Canceled, false},
		{"canceled read", live, 0, &readError{err: context.Canceled}, false},
		{"stall, but the caller canceled", canceled, 0, &stallError{d: time.Second}, false},
		{"disk full", live, 0, &diskFullError{path: "p", err: syscall.ENOSPC}, false},
		{"write error", live, 0, &writeError{path: "p", err: syscall.EACCES}, false},
		{"checksum", live, 0, &ChecksumError{Want: "a", Got: "b"}, false},
		{"too many redirects", live, 0, &url.Error{Op: "Get", URL: "u", Err: ErrTooManyRedirects}, false},
		{"redirect to ftp", live, 0, &url.Error{Op: "Get", URL: "u", Err: &redirectSchemeError{URL: "ftp://x"}}, false},
		{"no such host", live, 0, &url.Error{Op: "Get", URL: "u", Err: &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}}, false},
		{"DNS timeout", live, 0, &url.Error{Op: "Get", URL: "u", Err: &net.DNSError{Err: "timeout", Name: "x", IsTimeout: true}}, true},
		{"unknown CA", live, 0, &url.Error{Op: "Get", URL: "u", Err: x509.UnknownAuthorityError{}}, false},
		{"part of another URL", live, 0, fmt.Errorf("x: %w", ErrPartInUse), false},
		{"split range out of retries", live, 0, &spentError{err: &attemptsError{errs: []error{&HTTPError{StatusCode: 503}}}}, false},
		{"some local error", live, 0, errors.New("whatever"), false},
		{"malformed status line", live, 0, &url.Error{Op: "Get", URL: "u", Err: fmt.Errorf("reading the response: %w", errors.New(`malformed HTTP status code "2x0"`))}, false},
		{"bad chunk size", live, 0, &readError{err: errors.New("invalid byte in chunk length")}, false},
		{"NUL in a header", live, 0, &url.Error{Op: "Get", URL: "u", Err: textproto.ProtocolError(`malformed MIME header line: "X: \x00"`)}, false},
		{"header line cut short", live, 0, &url.Error{Op: "Get", URL: "u", Err: textproto.ProtocolError(`malformed MIME header: missing colon: "Content-Le"`)}, true},
		{"TLS alert: certificate required", live, 0, &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "remote error", Err: tls.AlertError(116)}}, false},
		{"TLS alert: internal error", live, 0, &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "remote error", Err: tls.AlertError(80)}}, true},
		{"trailer cut short", live, 0, &readError{err: errors.New("http: unexpected EOF reading trailer")}, true},
	}
	for _, tt := range tests {
		if got := shouldRetry(tt.ctx, tt.status, tt.err); got != tt.want {
			t.Errorf("%s: shouldRetry = %v, want %v", tt.name, got, tt.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestRetryWait(t *testing.T) {
	c := newClient(t, Config{RetryWait: 100 * time.Millisecond, MaxRetryWait: 10 * time.Second, Rand: rand.New(rand.NewPCG(3, 4))})
	tests := []struct {
		name     string
		attempt  int
		err      error
		min, max time.Duration
		fails    bool
	}{
		{"first backoff", 1, errors.New("x"), 50 * time.Millisecond, 100 * time.Millisecond, false},
		{"third backoff", 3, errors.New("x"), 200 * time.Millisecond, 400 * time.Millisecond, false},
		{"capped at 30s", 20, errors.New("x"), 15 * time.Second, 30 * time.Second, false},
		{"Retry-After raises", 1, &HTTPError{StatusCode: 503, retryAfter: 5 * time.Second, hasRetryAfter: true}, 5 * time.Second, 5 * time.Second, false},
		{"Retry-After below backoff", 3, &HTTPError{StatusCode: 429, retryAfter: time.Millisecond, hasRetryAfter: true}, 200 * time.Millisecond, 400 * time.Millisecond, false},
		{"Retry-After over the cap", 1, &HTTPError{StatusCode: 503, retryAfter: 11 * time.Second, hasRetryAfter: true}, 0, 0, true},
	}
	for _, tt := range tests {
		d, err := c.retryWait(tt.attempt, tt.err)
		if tt.fails {
			var ra *retryAfterError
			if !errors.As(err, &ra) {
				t.Errorf("%s: err = %v, want a Retry-After error", tt.name, err)
			}
			continue
		}
		if err != nil || d < tt.min || d > tt.max {
			t.Errorf("%s: %v, %v; want %v..%v", tt.name, d, err, tt.min, tt.max)
		}
	}
}

func TestMaxRetryWaitDefault(t *testing.T) {
	c := newClient(t, Config{})
	if _, err := c.retryWait(1, &HTTPError{StatusCode: 503, retryAfter: 59 * time.Second, hasRetryAfter: true}); err != nil {
		t.Errorf("59s refused with the default cap: %v", err)
	}
	if _, err := c.retryWait(1, &HTTPError{StatusCode: 503, retryAfter: 61 * time.Second, hasRetryAfter: true}); err == nil {
		t.Error("61s accepted with the default cap of 60s")
	}
}

func TestSleepCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	within(t, time.Second, func() {
		if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
			t.Errorf("sleep = %v", err)
		}
	})
}

func TestErrorMessages(t *testing.T) {
	reset := &readError{err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	refused := &url.Error{Op: "Get", URL: "http://x/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	h503 := &HTTPError{StatusCode: 503, Status: "503 Service Unavailable"}
	tests := []struct {
		err  error
		want string
	}{
		{&HTTPError{StatusCode: 404, Status: "404 Not Found"}, "HTTP 404 Not Found"},
		{&HTTPError{StatusCode: 599}, "HTTP 599"},
		{&ChecksumError{Want: "aa", Got: "bb"}, "sha256 mismatch: expected aa, got bb"},
		{&shortBodyError{got: 10, want: 20}, "body ended after 10 of 20 bytes"},
		{&stallError{d: 60 * time.Second}, "no data received for 60s (--stall-timeout)"},
		{&stallError{d: 1500 * time.Millisecond}, "no data received for 1.5s (--stall-timeout)"},
		{&retryAfterError{wait: 2 * time.Minute, max: time.Minute, cause: h503}, "HTTP 503 Service Unavailable: server asked to wait 2m0s (Retry-After), more than --max-retry-wait 1m0s"},
		{&retryAfterError{wait: 632013*time.Hour + 1474770639634, max: time.Minute, cause: h503}, "HTTP 503 Service Unavailable: server asked to wait 632013h24m35s (Retry-After), more than --max-retry-wait 1m0s"},
		{&retryAfterError{wait: 1500 * time.Millisecond, max: time.Second, cause: h503}, "HTTP 503 Service Unavailable: server asked to wait 2s (Retry-After), more than --max-retry-wait 1s"},
		{&retryAfterError{wait: math.MaxInt64, max: time.Minute, cause: h503}, "HTTP 503 Service Unavailable: server asked to wait 2562047h47m16s (Retry-After), more than --max-retry-wait 1m0s"},
		{&retryAfterError{wait: 2*time.Hour + 20*time.Second + 131031803, max: time.Minute, cause: h503}, "HTTP 503 Service Unavailable: server asked to wait 2h0m21s (Retry-After), more than --max-retry-wait 1m0s"},
		{&diskFullError{path: "x.part", err: syscall.ENOSPC}, "disk full writing x.part: no space left on device; free some space and run again"},
		{&diskFullError{path: "x.part", err: syscall.EFBIG}, "file size limit reached writing x.part: file too large; raise the file size limit (ulimit -f) and run again"},
		// EFBIG without a file size limit: the file system's largest file (FAT32: 4 GiB), where ulimit -f is no cure.
		{&diskFullError{path: "x.part", err: syscall.EFBIG, fsMax: true}, "file too large for the file system writing x.part: it holds no file that large (FAT32: 4 GiB at most); save it on another file system (-o DIR) and run again"},
		{&diskFullError{path: "x.part", err: syscall.EFBIG, fsMax: true, need: 17 << 40}, "file too large for the file system: x.part needs 18691697672192 bytes, more than a file there can hold (FAT32: 4 GiB at most); save it on another file system (-o DIR) and run again"},
		{&diskFullError{path: "x.part", err: syscall.ENOSPC, kept: "x.part"}, "disk full writing x.part: no space left on device; free some space and run again: the download resumes from x.part"},
		{&diskFullError{path: "x.part", err: syscall.EDQUOT, kept: "x.part"}, "disk full writing x.part: disk quota exceeded; free some space and run again: the download resumes from x.part"},
		{&diskFullError{path: "x.part", err: syscall.EFBIG, kept: "x.part"}, "file size limit reached writing x.part: file too large; raise the file size limit (ulimit -f) and run again: the download resumes from x.part"},
		{classifyWrite("x.part", &os.PathError{Op: "open", Path: "x.part", Err: syscall.EMFILE}), "writing x.part: too many open files: lower -j, or raise the limit on open files (ulimit -n)"},
		{classifyWrite("x.part", &os.PathError{Op: "open", Path: "x.part", Err: syscall.ENFILE}), "writing x.part: too many open files in system: lower -j, or raise the limit on open files (ulimit -n)"},
		{classifyWrite("x.part", &os.PathError{Op: "open", Path: "x.part", Err: syscall.EACCES}), "writing x.part: permission denied"},
		// A name that the file system refuses (vfat, exfat: no : * ? " < > | \\ in a name) said only "invalid argument".
		{classifyWrite("d/a:b.part", &os.PathError{Op: "open", Path: "d/a:b.part", Err: syscall.EINVAL}), `writing d/a:b.part: invalid argument: the file system does not take this name (FAT and exFAT refuse \ : * ? " < > | in names); give the item a name of its own (URL<TAB>NAME) or save it on another file system`},
		{&attemptsError{errs: []error{h503}}, "HTTP 503 Service Unavailable"},
		{&attemptsError{errs: []error{refused}}, "connection refused"},
		{&attemptsError{errs: []error{&url.Error{Op: "Get", URL: "http://h.test/", Err: &net.OpError{Op: "dial", Net: "tcp",
			Err: &net.DNSError{Err: "no such host", Name: "h.test", Server: "10.0.0.53:53", IsNotFound: true}}}}}, "cannot resolve h.test: no such host"},
		{&attemptsError{errs: []error{&url.Error{Op: "Get", URL: "http://h.test/", Err: &net.OpError{Op: "dial", Net: "tcp",
			Err: &net.DNSError{Err: "i/o timeout", Name: "h.test", IsTimeout: true}}}}}, "cannot resolve h.test: the DNS lookup timed out"},
		{checkHost("a.invalid"), "cannot resolve a.invalid: no such host (.invalid names never resolve)"},
		{&attemptsError{errs: []error{h503, h503, h503, reset}}, "after 4 attempts: HTTP 503 Service Unavailable (×3), connection reset by peer"},
		{&attemptsError{errs: []error{reset, h503, reset}}, "after 3 attempts: connection reset by peer, HTTP 503 Service Unavailable, connection reset by peer"},
		{&readError{err: io.ErrUnexpectedEOF}, "unexpected EOF"},
		{&HTTPError{StatusCode: 302, Status: "302 Found", noLocation: true}, "HTTP 302 Found without a Location to follow"},
		{&attemptsError{errs: []error{&readError{err: errors.New("invalid byte in chunk length")}}}, "the server sent a malformed chunked body (invalid byte in chunk length)"},
		{&attemptsError{errs: []error{&readError{err: errors.New("http chunk length too large")}}}, "the server sent a malformed chunked body (http chunk length too large)"},
		{&attemptsError{errs: []error{&readError{err: errors.New("malformed MIME header: missing colon: \"x\"")}}}, "the server sent a malformed trailer (malformed MIME header: missing colon: \"x\")"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
	// The last cause stays reachable.
	final := &attemptsError{errs: []error{h503, reset}}
	if !errors.Is(final, syscall.ECONNRESET) {
		t.Error("errors.Is(final, ECONNRESET) = false")
	}
	var he *HTTPError
	if errors.As(&attemptsError{errs: []error{reset, h503}}, &he) == false || he.StatusCode != 503 {
		t.Error("errors.As HTTPError through attemptsError failed")
	}
}

// TestRetryEventWording checks that the line announcing a retry (-v) says
// what went wrong in the words of the final failure ("connection refused",
// "the server closed the connection ..."), not in Go's plumbing
// (`Get "http://...": dial tcp 127.0.0.1:1: connect: connection refused`).
func TestRetryEventWording(t *testing.T) {
	refused := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr + "/f"
	}
	body := payload(256<<10, 21)
	res := newResource(body, `"w"`)
	chunk := len(body) / 4
	hangUp := fmt.Sprintf("bytes=%d-%d", 3*chunk, 4*chunk-1)
	// A server that closes the connection without a response to one
	// range request, the first time.
	closer := func(t *testing.T) string {
		var closed atomic.Int32
		srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Range") == hangUp && closed.Add(1) == 1 {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
				return
			}
			res.ServeHTTP(w, r)
		})
		// A fresh connection for every request: net/http retries on its
		// own a request whose reused connection closes this way.
		srv.Config.SetKeepAlivesEnabled(false)
		return srv.URL + "/f"
	}
	tests := []struct {
		name  string
		url   func(t *testing.T) string
		split bool
		want  string
	}{
		{name: "connection refused", url: refused, want: "connection refused"},
		{name: "split range hung up", url: closer, split: true,
			want: fmt.Sprintf("bytes %d-%d: the server closed the connection without sending a response", 3*chunk, 4*chunk-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Retries = 1
			if tt.split {
				cfg.Split = 4
				cfg.SplitMin = 64 << 10
			}
			ev := &events{}
			path := filepath.Join(t.TempDir(), "f")
			_, _ = newClient(t, cfg).Fetch(context.Background(), request(tt.url(t), path, ev))
			r := ev.of(event.Retry)
			if len(r) != 1 || r[0].Err == nil {
				t.Fatalf("Retry events %v, want one with its reason", r)
			}
			if got := r[0].Err.Error(); got != tt.want {
				t.Errorf("retry reason %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLinkLocalSaysWhatToDo: a link-local IPv6 address without a zone, or
// with a zone that names no interface, failed with a bare "invalid
// argument" (the kernel's EINVAL); it says what the address needs, and is
// not retried: the next attempt would fail the same.
func TestLinkLocalSaysWhatToDo(t *testing.T) {
	einval := func(zone string) error {
		return &url.Error{Op: "Get", URL: "http://[fe80::1]:8080/a", Err: &net.OpError{Op: "dial", Net: "tcp",
			Addr: &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 8080, Zone: zone},
			Err:  &os.SyscallError{Syscall: "connect", Err: syscall.EINVAL}}}
	}
	for _, tt := range []struct {
		name  string
		err   error
		want  string
		retry bool
	}{
		{"no zone", einval(""), "cannot connect to the link-local address fe80::1: it needs the network interface to reach it through, as its zone: http://[fe80::1%25eth0]:8080/", false},
		{"unknown zone", einval("nosuch"), `cannot connect to fe80::1%nosuch: no network interface is named "nosuch" (ip link lists them)`, false},
		{"other address", &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 80},
			Err: &os.SyscallError{Syscall: "connect", Err: syscall.EINVAL}}, "invalid argument", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := describe(tt.err); got != tt.want {
				t.Errorf("describe = %q, want %q", got, tt.want)
			}
			if got := shouldRetry(context.Background(), 0, tt.err); got != tt.retry {
				t.Errorf("shouldRetry = %v, want %v", got, tt.retry)
			}
		})
	}
}

// TestTooManyOpenFilesSaysWhatToDo: running out of file descriptors, on a
// connection or on a .part, says what to change; it used to be a bare
// "writing out/a.part: too many open files" for every item left.
func TestTooManyOpenFilesSaysWhatToDo(t *testing.T) {
	const hint = ": lower -j, or raise the limit on open files (ulimit -n)"
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"dial", &url.Error{Op: "Get", URL: "http://h/a", Err: &net.OpError{Op: "dial", Net: "tcp",
			Err: &os.SyscallError{Syscall: "socket", Err: syscall.EMFILE}}}, "too many open files" + hint},
		{"system-wide", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ENFILE}, "too many open files in system" + hint},
		{"part", &writeError{path: "out/a.part", err: &fs.PathError{Op: "open", Path: "out/a.part", Err: syscall.EMFILE}},
			"writing out/a.part: too many open files" + hint},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := describe(tt.err); got != tt.want {
				t.Errorf("describe = %q, want %q", got, tt.want)
			}
		})
	}
}
