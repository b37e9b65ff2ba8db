package naming

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

func mustParse(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", raw, err)
	}
	return u
}

func TestFromURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/files/report.pdf", "report.pdf"},
		{"https://example.com/files/report.pdf?x=1&name=evil.exe", "report.pdf"},
		{"https://example.com/files/report.pdf#frag", "report.pdf"},
		{"https://example.com/na%C3%AFve%20file.txt", "naïve file.txt"},
		{"https://example.com/a%2Fb.txt", "a_b.txt"},
		{"https://example.com/..%2F..%2Fetc%2Fpasswd", ".._.._etc_passwd"},
		{"https://example.com/a%5Cb", "a_b"},
		{"http://h/a%00b", "a_b"},
		{"http://h/a%0Ab", "a_b"},
		{"http://h/%1b%5b31m", "_[31m"},
		{"http://h/%FF%FE.bin", "__.bin"},
		{"https://example.com/dir/", "index.html"},
		{"https://example.com/", "index.html"},
		{"https://example.com", "index.html"},
		{"https://example.com?q=1", "index.html"},
		{"https://example.com/a/.", "index.html"},
		{"https://example.com/a/..", "index.html"},
		{"https://example.com/a/%2e%2e", "index.html"},
		{"https://example.com/a/...", "_"},
		{"https://example.com/CON", "CON_"},
		{"https://example.com/nul.txt", "nul_.txt"},
		{"https://example.com/a..b.txt", "a..b.txt"},
		{"https://example.com/" + strings.Repeat("x", 300) + ".iso", strings.Repeat("x", 237) + ".iso"},
		{"file:///tmp/data.csv", "data.csv"},
		{"mailto:someone@example.com", "index.html"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := FromURL(mustParse(t, tt.in))
			if got != tt.want {
				t.Errorf("FromURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			checkSegment(t, got)
		})
	}
	if got := FromURL(nil); got != DefaultName {
		t.Errorf("FromURL(nil) = %q, want %q", got, DefaultName)
	}
}

func TestKeepPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/a/b/c.txt", "example.com/a/b/c.txt"},
		{"https://EXAMPLE.com/A/b.txt?q=1", "example.com/A/b.txt"},
		{"http://example.com:8080/x", "example.com_8080/x"},
		{"http://[::1]:8080/x", "__1_8080/x"},
		{"http://[::1]/x", "__1/x"},
		// A scheme's default port is the same request as none: one
		// directory for both spellings, as wget -x makes.
		{"https://Example.com:443/x/", "example.com/x/index.html"},
		{"http://example.com:80/x", "example.com/x"},
		{"HTTP://example.com:80/x", "example.com/x"},
		{"http://example.com:443/x", "example.com_443/x"},
		{"https://example.com:80/x", "example.com_80/x"},
		{"http://[::1]:80/x", "__1/x"},
		{"https://example.com", "example.com/index.html"},
		{"https://example.com/", "example.com/index.html"},
		{"https://example.com/dir/", "example.com/dir/index.html"},
		{"https://example.com//a//b", "example.com/a/b"},
		{"https://example.com/a/./b", "example.com/a/b"},
		{"https://example.com/a/../b", "example.com/b"},
		{"https://example.com/../../../etc/passwd", "example.com/etc/passwd"},
		{"https://example.com/%2e%2e/%2e%2e/x", "example.com/x"},
		{"https://example.com/a/..", "example.com/index.html"},
		{"https://example.com/a%2Fb/c", "example.com/a_b/c"},
		{"https://example.com/con/aux.txt", "example.com/con_/aux_.txt"},
		{"https://example.com/a%00/b%0A", "example.com/a_/b"},
		{"https://user:pw@example.com/x", "example.com/x"},
		{"file:///tmp/x.txt", "localhost/tmp/x.txt"},
		{"https://con/x", "con_/x"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := KeepPath(mustParse(t, tt.in))
			if want := filepath.FromSlash(tt.want); got != want {
				t.Errorf("KeepPath(%q) = %q, want %q", tt.in, got, want)
			}
			checkPath(t, got)
		})
	}
}

func BenchmarkFromURL(b *testing.B) {
	u := mustParse(b, "https://example.com/downloads/releases/v1.2.3/fetchpool_1.2.3_linux_amd64.tar.gz?token=abc")
	b.ReportAllocs()
	for b.Loop() {
		_ = FromURL(u)
	}
}

func BenchmarkFromURLEscaped(b *testing.B) {
	u := mustParse(b, "https://example.com/downloads/na%C3%AFve%20report%202024.pdf")
	b.ReportAllocs()
	for b.Loop() {
		_ = FromURL(u)
	}
}

func BenchmarkKeepPath(b *testing.B) {
	u := mustParse(b, "https://example.com:8443/downloads/releases/v1.2.3/fetchpool.tar.gz")
	b.ReportAllocs()
	for b.Loop() {
		_ = KeepPath(u)
	}
}
