package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"reflect"
	"strings"
	"testing"
)

// plainCases are responses for readPlain; fast tells whether it must read
// them itself (the rest it must leave to http.ReadResponse).
var plainCases = []struct {
	name string
	raw  string
	fast bool
}{
	{"go server", "HTTP/1.1 200 OK\r\nAccept-Ranges: bytes\r\nContent-Length: 5\r\nContent-Type: application/octet-stream\r\nDate: Wed, 25 Nov 2026 15:00:00 GMT\r\nEtag: \"a\"\r\nLast-Modified: Mon, 02 Jan 2006 15:04:05 GMT\r\n\r\nhello", true},
	{"nginx", "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 3\r\nConnection: keep-alive\r\nETag: \"x\"\r\n\r\nabc", true},
	{"partial", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 1-2/5\r\nContent-Length: 2\r\n\r\nel", true},
	{"empty body", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
	{"no reason", "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx", true},
	{"repeated header", "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 1\r\nset-cookie: b=2\r\n\r\nx", true},
	{"spaces around value", "HTTP/1.1 200 OK\r\nContent-Length:   2 \t\r\nX-A:\t v \r\nX-Empty:\r\n\r\nab", true},
	{"leading zeros", "HTTP/1.1 200 OK\r\nContent-Length: 002\r\n\r\nab", true},
	{"not a 2xx", "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx", false},
	{"no content", "HTTP/1.1 204 No Content\r\nContent-Length: 1\r\n\r\n", false},
	{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", false},
	{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", false},
	{"no length", "HTTP/1.1 200 OK\r\n\r\nxyz", false},
	{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", false},
	{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx", false},
	{"close", "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 1\r\n\r\nx", false},
	{"pragma", "HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 1\r\n\r\nx", false},
	{"folded", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 1\r\n\r\nx", false},
	{"space before colon", "HTTP/1.1 200 OK\r\nX-A : a\r\nContent-Length: 1\r\n\r\nx", false},
	{"control character", "HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 1\r\n\r\nx", false},
	{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 1\n\nx", false},
	{"header not all buffered", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", false},
}

// TestReadPlain checks which responses readPlain reads, and that what it
// reads is what http.ReadResponse reads.
func TestReadPlain(t *testing.T) {
	for _, tt := range plainCases {
		t.Run(tt.name, func(t *testing.T) {
			got, fast := comparePlain(t, []byte(tt.raw))
			if fast != tt.fast {
				t.Fatalf("read by readPlain: %v, want %v (response %+v)", fast, tt.fast, got)
			}
		})
	}
}

// FuzzReadPlain checks that whatever readPlain accepts, http.ReadResponse
// accepts too, with the same fields and the same body.
func FuzzReadPlain(f *testing.F) {
	for _, tt := range plainCases {
		f.Add([]byte(tt.raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		comparePlain(t, raw)
	})
}

// comparePlain reads raw with readPlain and, if it accepts it, with
// http.ReadResponse, and fails t if they differ. It returns readPlain's
// response and whether it accepted.
func comparePlain(t *testing.T, raw []byte) (*http.Response, bool) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://example.com/f", nil)
	br := bufio.NewReaderSize(bytes.NewReader(raw), 64<<10)
	if _, err := br.Peek(1); err != nil {
		return nil, false
	}
	buffered := br.Buffered()
	got := readPlain(br, req)
	if got == nil {
		if br.Buffered() != buffered {
			t.Fatalf("readPlain refused the response but consumed %d bytes of it", buffered-br.Buffered())
		}
		return nil, false
	}
	want, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), req)
	if err != nil {
		t.Fatalf("readPlain read %q, http.ReadResponse refused it: %v", raw, err)
	}
	gotBody, gotErr := io.ReadAll(got.Body)
	wantBody, wantErr := io.ReadAll(want.Body)
	if !bytes.Equal(gotBody, wantBody) || !sameErr(gotErr, wantErr) {
		t.Fatalf("body of %q: readPlain %q, %v; http.ReadResponse %q, %v", raw, gotBody, gotErr, wantBody, wantErr)
	}
	got.Body, want.Body = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("response to %q:\nreadPlain          %+v\nhttp.ReadResponse  %+v", raw, got, want)
	}
	return got, true
}

func sameErr(a, b error) bool {
	return (a == nil) == (b == nil) && (a == nil || errors.Is(a, b) || a.Error() == b.Error() ||
		strings.Contains(a.Error(), "EOF") && strings.Contains(b.Error(), "EOF"))
}

func BenchmarkReadResponse(b *testing.B) {
	raw := []byte(plainCases[0].raw)
	req, _ := http.NewRequest(http.MethodGet, "http://example.com/f", nil)
	for _, fast := range []bool{false, true} {
		name := "net/http"
		if fast {
			name = "plain"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			r := bytes.NewReader(raw)
			br := bufio.NewReaderSize(r, 64<<10)
			for b.Loop() {
				r.Reset(raw)
				br.Reset(r)
				br.Peek(1)
				var resp *http.Response
				if fast {
					resp = readPlain(br, req)
				} else {
					resp, _ = http.ReadResponse(br, req)
				}
				if resp == nil {
					b.Fatal("not read")
				}
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	for _, key := range []string{"Content-Length", "content-length", "ETag", "Etag", "X-A", "x", "X", "A-", "-a", "A--B", "Www-Authenticate", "WWW-Authenticate", "Foo_bar", "Foo bar", "", "Fo\x00", "Héllo", "A-1b", "1-b"} {
		got := canonical(key)
		want := keyOther
		switch {
		case !token(key):
			want = keyInvalid
		case textproto.CanonicalMIMEHeaderKey(key) == key:
			want = keyCanonical
		}
		if got != want {
			t.Errorf("canonical(%q) = %d, want %d", key, got, want)
		}
	}
}

// FuzzCheckHTTP10 checks that checkHTTP10 never fails a response that is
// not HTTP/1.0, and fails every HTTP/1.0 response that textproto reads a
// Transfer-Encoding field in (the header that http.ReadResponse drops),
// when the header fits in the buffer.
func FuzzCheckHTTP10(f *testing.F) {
	for _, raw := range []string{
		"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\nContent-Length: 1\ntransfer-encoding: x\n\nx",
		"HTTP/1.0 200 OK\r\nX-A: a\r\n b\r\nTransfer-Encoding:\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nTransfer-Encoding: chunked\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\r\nTransfer-Encoding : chunked\r\n\r\n",
	} {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		err := checkHTTP10(bufio.NewReaderSize(bytes.NewReader(raw), 4096))
		if err != nil && !bytes.HasPrefix(raw, []byte("HTTP/1.0 ")) {
			t.Fatalf("checkHTTP10 failed %q, not an HTTP/1.0 response: %v", raw, err)
		}
		if !bytes.HasPrefix(raw, []byte("HTTP/1.0 ")) || len(raw) > 4096 {
			return
		}
		tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
		if _, err := tp.ReadLine(); err != nil {
			return
		}
		h, herr := tp.ReadMIMEHeader()
		if _, te := h["Transfer-Encoding"]; herr == nil && te && err == nil {
			t.Fatalf("checkHTTP10 passed %q, whose header has a Transfer-Encoding", raw)
		}
	})
}
