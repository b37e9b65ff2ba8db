package report

import (
	"errors"
	"strings"
	"testing"

	"github.com/rivo/uniseg"

	"github.com/fetchpool/fetchpool/pkg/input"
)

// FuzzFitText checks that text from anywhere (names from servers, URLs and
// errors from input lists) is cleaned of control characters and shortened
// to at most the width asked, whatever it holds.
func FuzzFitText(f *testing.F) {
	for _, s := range []string{"", "a.bin", "日本語のファイル名.txt", "e\u0301te\u0301.txt", "👩‍👩‍👧‍👦 family.png",
		"evil\x1b[2J\x1b]0;t\a", "rlo\u202etxt.exe\u2028", "bad\xff\xfe", "tab\tand\nnewline", strings.Repeat("x", 300)} {
		f.Add(s, 12)
	}
	f.Fuzz(func(t *testing.T, s string, w int) {
		w = w%200 + 1
		if w < 1 {
			w += 200
		}
		c := clean(s)
		for _, r := range c {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isLayoutControl(r) {
				t.Fatalf("clean(%q) = %q keeps control %U", s, c, r)
			}
		}
		if strings.ContainsRune(c, 0x1b) {
			t.Fatalf("clean(%q) keeps an escape", s)
		}
		if got := truncMiddle(c, w); width(got) > w {
			t.Fatalf("truncMiddle(%q, %d) = %q, %d columns", c, w, got, width(got))
		}
		if got := truncEnd(c, w); width(got) > w {
			t.Fatalf("truncEnd(%q, %d) = %q, %d columns", c, w, got, width(got))
		}
		if width(c) != uniseg.StringWidth(c) {
			t.Fatalf("width(%q) = %d, uniseg says %d", c, width(c), uniseg.StringWidth(c))
		}
	})
}

// FuzzFailedLine checks that any input line, once parsed, is written to the
// failed list as a line that reads back as the same item (or, for a line
// that did not parse, fails again; or, for one that is not text, as a
// comment).
func FuzzFailedLine(f *testing.F) {
	for _, s := range []string{
		"https://example.com/a",
		"https://example.com/a\tname.bin",
		`{"url":"https://example.com/a","output":"d/n","sha256":"` + strings.Repeat("ab", 32) + `"}`,
		`{"url":"https://example.com/a","output":" spaced "}`,
		`{"url": "#not-a-comment"}`,
		"ftp://host/file\tname",
		`{"url": broken`,
		"a\tb\tc",
		"./local/file",
	} {
		f.Add(s)
	}
	var fl Failed
	f.Fuzz(func(t *testing.T, line string) {
		it, ok := input.ParseLine(line)
		if !ok {
			return
		}
		out := fl.line(it)
		if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
			t.Fatalf("line for %q is %q: want exactly one line", line, out)
		}
		back, ok := input.ParseLine(strings.TrimSuffix(out, "\n"))
		if errors.Is(it.Err, input.ErrNotText) {
			// A line of binary data cannot be written back as it was, and
			// its quoted text would read as a local path: it is listed as
			// a comment.
			if ok || !strings.HasPrefix(out, "# ") {
				t.Fatalf("%q written as %q, want a comment", line, out)
			}
			return
		}
		if !ok {
			t.Fatalf("%q written as %q, which reads as nothing", line, out)
		}
		if (it.Err == nil) != (back.Err == nil) {
			t.Fatalf("%q (err %v) written as %q reads back with err %v", line, it.Err, out, back.Err)
		}
		if it.Err == nil && (back.URL != it.URL || back.Name != it.Name || back.SHA256 != it.SHA256) {
			t.Fatalf("%q written as %q reads back as %+v, want %+v", line, out, back, it)
		}
	})
}
