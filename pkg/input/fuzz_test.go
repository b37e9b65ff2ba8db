package input

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"net/url"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

var fuzzLines = []string{
	"https://example.com/a.txt",
	"  HTTP://EXAMPLE.COM:8080/a?b=%20#c \r",
	"# comment",
	"",
	"http://example.com/a\tdir/b.txt",
	"http://example.com/a\tb\tc",
	`{"url":"https://example.com/a","output":"o","sha256":"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"}`,
	`{"url":5}`,
	`{"url":"#x","output":" a\tb "}`,
	"ftp://example.com/x",
	"http://",
	"http://[::1",
	"./a",
	"/abs/x",
	"file:///x",
	"file://host/x",
	"\x00\xff\xfe",
	"http://example.com/\x1b[0m",
}

func FuzzParseLine(f *testing.F) {
	for _, s := range fuzzLines {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if sch := scheme(line); isHTTP(sch) && simpleHTTP(line, len(sch)) {
			if err := checkHTTP(line); err != nil {
				t.Fatalf("simpleHTTP accepts %q, which url.Parse rejects: %v", line, err)
			}
		}
		it, ok := ParseLine(line)
		if !ok {
			if tr := strings.TrimSpace(line); tr != "" && tr[0] != '#' {
				t.Fatalf("ParseLine(%q) skipped a line that is not blank or a comment", line)
			}
			return
		}
		if it.URL == "" {
			t.Fatalf("ParseLine(%q) = %+v: no URL to report", line, it)
		}
		if it.Source != "" || it.Line != 0 {
			t.Fatalf("ParseLine(%q) set Source or Line", line)
		}
		if it.Err != nil {
			return
		}
		checkGoodItem(t, line, it)
		back, ok := ParseLine(Format(it))
		if !ok || back != it {
			t.Fatalf("ParseLine(%q) = %+v; Format gives %q, which reads back as %+v, %v", line, it, Format(it), back, ok)
		}
	})
}

// checkGoodItem checks the promises ParseLine makes about an item without
// Err.
func checkGoodItem(t *testing.T, line string, it Item) {
	t.Helper()
	if strings.TrimSpace(it.URL) != it.URL || !isText(it.URL, false) {
		t.Fatalf("ParseLine(%q): URL %q has spaces around it or control characters", line, it.URL)
	}
	if it.SHA256 != "" && (len(it.SHA256) != 64 || strings.ToLower(it.SHA256) != it.SHA256) {
		t.Fatalf("ParseLine(%q): sha256 %q is not 64 lower-case hex digits", line, it.SHA256)
	}
	if it.Name != "" && strings.TrimSpace(it.Name) == "" {
		t.Fatalf("ParseLine(%q): blank name %q", line, it.Name)
	}
	sch := scheme(it.URL)
	if sch == "" {
		return
	}
	u, err := url.Parse(it.URL)
	if err != nil {
		t.Fatalf("ParseLine(%q): URL %q does not parse: %v", line, it.URL, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Hostname() == "" {
			t.Fatalf("ParseLine(%q): URL %q has no host", line, it.URL)
		}
	case "file":
		if u.Path == "" || u.Opaque != "" {
			t.Fatalf("ParseLine(%q): file URL %q has no absolute path", line, it.URL)
		}
	default:
		t.Fatalf("ParseLine(%q): URL %q has scheme %q", line, it.URL, u.Scheme)
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(strings.Join(fuzzLines, "\n")))
	f.Add([]byte("a\r\n\r\nb"))
	f.Add([]byte("\n\n\n"))
	f.Add([]byte(utf16Text("http://h/1\r\n# c\r\nhttp://h/2\t\U0001D11E", false)))
	f.Add([]byte(utf16Text("http://h/1\n", true) + "\xd8\x3d\x00x\x00"))
	f.Add([]byte(strings.Repeat("x", MaxLineLength+1) + "\nok\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Short lines reach the long-line paths without megabytes of input.
		max := MaxLineLength
		if len(data) > 0 && data[0]&1 == 1 {
			max = 14 + int(data[0]>>1)%20
		}
		want := referenceItems(data, max)
		r := newReader(nil, []Source{{Name: "f", R: bytes.NewReader(data)}}, max)
		for i := 0; ; i++ {
			it, err := r.Next()
			if errors.Is(err, io.EOF) {
				if i != len(want) {
					t.Fatalf("Reader returned %d items, want %d", i, len(want))
				}
				return
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if i >= len(want) {
				t.Fatalf("Reader returned more than the %d items in the input: %+v", len(want), it)
			}
			if it.Line < 1 || it.Source != "f" {
				t.Fatalf("item %d comes from %q", i, it.Where())
			}
			w := want[i]
			if it.Line != w.Line || it.URL != w.URL || it.Name != w.Name || it.SHA256 != w.SHA256 ||
				(it.Err == nil) != (w.Err == nil) || (it.Err != nil && it.Err.Error() != w.Err.Error()) {
				t.Fatalf("item %d = %+v, want %+v", i, it, w)
			}
		}
	})
}

// referenceItems is the Reader written the slow way: the whole input split
// into lines at once.
func referenceItems(data []byte, max int) []Item {
	if bytes.HasPrefix(data, []byte(utf16LEMark)) || bytes.HasPrefix(data, []byte(utf16BEMark)) {
		data = decodeUTF16(data[len(utf16LEMark):], data[0] == utf16BEMark[0])
	}
	data = bytes.TrimPrefix(data, []byte(byteOrderMark))
	lines := strings.Split(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var items []Item
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		it, ok := ParseLine(line)
		if len(line) > max {
			it, ok = longItem([]byte(line), max), true
		}
		if ok {
			it.Source, it.Line = "f", i+1
			items = append(items, it)
		}
	}
	return items
}

func FuzzParseChecksums(f *testing.F) {
	const a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	f.Add([]byte(a + "  a.txt\n" + a + " *b\r\n# c\n\n"))
	f.Add([]byte(`\` + a + `  x\ny\\z` + "\nSHA256 (n) = " + a))
	f.Add([]byte(a[:10] + "  short\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sums, err := ParseChecksums("f", bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInvalidChecksumLine) || !strings.HasPrefix(err.Error(), "f:") {
				t.Fatalf("error %q does not name the line", err)
			}
			return
		}
		for name, sum := range sums {
			if name == "" {
				t.Fatal("empty name")
			}
			if n, err := ParseSHA256(sum); err != nil || n != sum {
				t.Fatalf("%q: digest %q is not 64 lower-case hex digits", name, sum)
			}
		}
		// What sha256sum would write for these names reads back as them.
		text := formatSums(sums)
		back, err := ParseChecksums("g", strings.NewReader(text))
		if err != nil || !maps.Equal(back, sums) {
			t.Fatalf("%q reads as %q, written as %q, which reads back as %q, %v", data, sums, text, back, err)
		}
	})
}

// formatSums writes sums as sha256sum does: "HEX  NAME", and "\HEX  NAME"
// with the name escaped when it holds a backslash or a line break.
func formatSums(sums map[string]string) string {
	var b strings.Builder
	for name, sum := range sums {
		if strings.ContainsAny(name, "\\\n\r") {
			name = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(name)
			b.WriteString(`\`)
		}
		b.WriteString(sum + "  " + name + "\n")
	}
	return b.String()
}

// decodeUTF16 is UTF-16 decoding the slow way: all code units at once, an
// odd last byte as U+FFFD.
func decodeUTF16(b []byte, bigEndian bool) []byte {
	var order binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = order.Uint16(b[2*i:])
	}
	s := string(utf16.Decode(units))
	if len(b)%2 == 1 {
		s += string(utf8.RuneError)
	}
	return []byte(s)
}
