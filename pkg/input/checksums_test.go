package input

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestParseChecksums(t *testing.T) {
	const (
		a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		b = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	)
	B := strings.ToUpper(b)
	tests := []struct {
		name  string
		input string
		want  map[string]string
		msg   string // error substring, "" for none
	}{
		{name: "empty", input: "", want: map[string]string{}},
		{name: "text mode", input: a + "  a.txt\n" + b + "  dir/b.bin\n", want: map[string]string{"a.txt": a, "dir/b.bin": b}},
		{name: "binary mode", input: a + " *a.txt\n", want: map[string]string{"a.txt": a}},
		{name: "one space", input: a + " a.txt", want: map[string]string{"a.txt": a}},
		{name: "uppercase", input: B + "  b\n", want: map[string]string{"b": b}},
		// As scripts that join the digest and the name with a TAB write it.
		{name: "TAB", input: a + "\ta.txt\n" + b + "\t*b.bin\n", want: map[string]string{"a.txt": a, "b.bin": b}},
		{name: "digest alone", input: a + "\n", msg: "sums.txt:1: malformed checksum line: no file name after the digest"},
		{name: "digest and a comma", input: a + ",a.txt\n", msg: `found 64 hex digits followed by ","`},
		{name: "byte-order mark", input: "\ufeff" + a + "  a.txt\r\n" + b + "  b.txt\r\n", want: map[string]string{"a.txt": a, "b.txt": b}},
		{name: "byte-order mark before a BSD tag", input: "\ufeffSHA256 (a.txt) = " + a + "\n", want: map[string]string{"a.txt": a}},
		// As Windows PowerShell 5 writes ("$hash  $name" > SHA256SUMS).
		{name: "UTF-16", input: utf16Text(a+"  a.txt\r\n"+b+"  b.txt\r\n", false), want: map[string]string{"a.txt": a, "b.txt": b}},
		{name: "UTF-16 big-endian", input: utf16Text(a+"  a.txt", true), want: map[string]string{"a.txt": a}},
		{name: "CRLF", input: a + "  a.txt\r\n" + b + "  b.txt\r\n", want: map[string]string{"a.txt": a, "b.txt": b}},
		{name: "comments and blanks", input: "# sums\n\n   \n  # x\n" + a + "  a\n\n", want: map[string]string{"a": a}},
		{name: "name with spaces", input: a + "   two  spaces \n", want: map[string]string{" two  spaces ": a}},
		{name: "escaped name", input: `\` + a + `  new\nline\\back` + "\n", want: map[string]string{"new\nline\\back": a}},
		{name: "BSD tag", input: "SHA256 (x (1).tar) = " + b + "\n", want: map[string]string{"x (1).tar": b}},
		// As openssl dgst -sha256 writes it (1.1, then 3), and sha256sum -c
		// takes it; with the spaces around "=" free, as there too.
		{name: "OpenSSL tag", input: "SHA256(a.txt)= " + a + "\nSHA2-256(b (1).bin)= " + b + "\n", want: map[string]string{"a.txt": a, "b (1).bin": b}},
		{name: "BSD tag spacing", input: "SHA256 (a.txt)=" + a + "\nSHA256(b) =  " + b + "\n", want: map[string]string{"a.txt": a, "b": b}},
		{name: "names cleaned", input: a + "  ./a.txt\n" + b + "  sub//x/../b.bin\n", want: map[string]string{"a.txt": a, "sub/b.bin": b}},
		{name: "duplicate same", input: a + "  a\n" + a + "  a\n", want: map[string]string{"a": a}},
		{name: "duplicate once cleaned", input: a + "  a\n" + b + "  ./a\n", msg: `sums.txt:2: malformed checksum line: "a" is listed twice`},
		{name: "duplicate different", input: a + "  a\n" + b + "  a\n", msg: `sums.txt:2: malformed checksum line: "a" is listed twice`},
		{name: "short hex", input: "\n" + a[:63] + "  a\n", msg: `sums.txt:2: malformed checksum line: want "HEX  NAME" with a 64-digit SHA-256 digest, found 63 hex digits`},
		{name: "not hex", input: strings.Repeat("z", 64) + "  a\n", msg: "sums.txt:1: malformed checksum line: want \"HEX  NAME\" with a 64-digit SHA-256 digest, found 0 hex digits"},
		{name: "no name", input: a + "  \n", msg: "sums.txt:1: malformed checksum line: no file name"},
		{name: "no separator", input: a + "a.txt\n", msg: "sums.txt:1: malformed checksum line: want \"HEX  NAME\" with a 64-digit SHA-256 digest, found 65 hex digits"},
		{name: "md5", input: "d41d8cd98f00b204e9800998ecf8427e  a\n", msg: "found 32 hex digits"},
		{name: "bad escape", input: `\` + a + `  a\tb` + "\n", msg: `unknown escape "\t"`},
		{name: "lone backslash", input: `\` + a + `  a\` + "\n", msg: `lone "\"`},
		{name: "bad BSD tag", input: "SHA256 (x) " + b + "\n", msg: `want "SHA256 (NAME) = HEX"`},
		{name: "too long", input: a + "  " + strings.Repeat("n", MaxLineLength+10) + "\n", msg: "sums.txt:1: malformed checksum line: line is longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseChecksums("sums.txt", strings.NewReader(tt.input))
			if tt.msg != "" {
				if err == nil || !errors.Is(err, ErrInvalidChecksumLine) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("error %v, want ErrInvalidChecksumLine containing %q", err, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseChecksumsReadError(t *testing.T) {
	errDisk := errors.New("input/output error")
	_, err := ParseChecksums("sums.txt", &failingReader{data: strings.Repeat("a", 64) + "  a\n", err: errDisk})
	if !errors.Is(err, errDisk) || !strings.HasPrefix(err.Error(), "reading sums.txt: ") {
		t.Fatalf("error %v, want the read error wrapped with the file name", err)
	}
}
