package naming

import (
	"strings"
	"testing"
)

func TestFromContentDisposition(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"quoted", `attachment; filename="a.txt"`, "a.txt", true},
		{"inline", `inline; filename="a.txt"`, "a.txt", true},
		{"unquoted", `attachment; filename=a.txt`, "a.txt", true},
		{"unquoted with spaces", `attachment; filename=my file.txt; size=3`, "my file.txt", true},
		{"no type", `filename="a.txt"`, "a.txt", true},
		{"case-insensitive name", `ATTACHMENT; FileName="a.txt"`, "a.txt", true},
		{"space around =", `attachment; filename = "a.txt" `, "a.txt", true},
		{"extended UTF-8", `attachment; filename*=UTF-8''na%C3%AFve.txt`, "naïve.txt", true},
		{"extended lower-case charset with language", `attachment; filename*=utf-8'en'%E2%82%AC%20rates.txt`, "€ rates.txt", true},
		{"extended ISO-8859-1", `attachment; filename*=ISO-8859-1''na%EFve.txt`, "naïve.txt", true},
		{"extended quoted leniently", `attachment; filename*="UTF-8''a%20b.txt"`, "a b.txt", true},
		{"both, extended first", `attachment; filename*=UTF-8''na%C3%AFve.txt; filename="naive.txt"`, "naïve.txt", true},
		{"both, extended last", `attachment; filename="naive.txt"; filename*=UTF-8''na%C3%AFve.txt`, "naïve.txt", true},
		{"unknown charset falls back", `attachment; filename*=KOI8-R''%C1; filename="plain.txt"`, "plain.txt", true},
		{"malformed extended falls back", `attachment; filename*=no-quotes.txt; filename="plain.txt"`, "plain.txt", true},
		{"bad escape kept", `attachment; filename*=UTF-8''100%25%zz.txt`, "100%%zz.txt", true},
		{"invalid UTF-8 from escapes", `attachment; filename*=UTF-8''a%FFb`, "a_b", true},
		{"continuations", `attachment; filename*0="long"; filename*1="name.txt"`, "longname.txt", true},
		{"encoded continuations", `attachment; filename*0*=UTF-8''na%C3; filename*1*=%AFve.txt`, "naïve.txt", true},
		{"continuations with a gap", `attachment; filename*0=a; filename*2=c.txt`, "a", true},
		{"escaped quote", `attachment; filename="say \"hi\".txt"`, `say "hi".txt`, true},
		{"semicolon in quotes", `attachment; filename="a;b.txt"`, "a;b.txt", true},
		{"unterminated quote", `attachment; filename="a.txt`, "a.txt", true},
		{"first wins", `attachment; filename="first.txt"; filename="second.txt"`, "first.txt", true},
		{"RFC 2047", `attachment; filename="=?UTF-8?B?bmHDr3ZlLnR4dA==?="`, "naïve.txt", true},
		{"path", `attachment; filename="../../etc/passwd"`, "passwd", true},
		{"absolute", `attachment; filename="/etc/passwd"`, "passwd", true},
		{"Windows path unquoted", `attachment; filename=C:\evil\x.exe`, "x.exe", true},
		{"Windows path quoted raw", `attachment; filename="C:\evil\x.exe"`, "x.exe", true},
		{"Windows path quoted escaped", `attachment; filename="C:\\evil\\x.exe"`, "x.exe", true},
		{"path in extended", `attachment; filename*=UTF-8''..%2F..%2Fx.sh`, "x.sh", true},
		{"control chars", "attachment; filename=\"a\x1b[31m\x00.txt\"", "a_[31m_.txt", true},
		{"device name", `attachment; filename="CON.txt"`, "CON_.txt", true},
		{"trailing dots", `attachment; filename="a.txt..."`, "a.txt", true},
		{"dot dot falls back", `attachment; filename*=UTF-8''..; filename="b.txt"`, "b.txt", true},
		{"long", `attachment; filename="` + strings.Repeat("x", 400) + `.pdf"`, strings.Repeat("x", 237) + ".pdf", true},
		{"no filename", `attachment`, "", false},
		{"empty header", ``, "", false},
		{"empty filename", `attachment; filename=""`, "", false},
		{"only a directory", `attachment; filename="dir/"`, "", false},
		{"dot dot", `attachment; filename=".."`, "", false},
		{"garbage", `;;;==="";\;=;filename`, "", false},
		{"garbage with a name", `"junk; ;=; filename=ok.txt`, "ok.txt", true},
		{"other parameter", `attachment; name="a.txt"`, "", false},
		{"huge continuation index", `attachment; filename*99999999999999999999=a`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := FromContentDisposition(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("FromContentDisposition(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			if ok {
				checkSegment(t, got)
			}
		})
	}
}

func BenchmarkFromContentDisposition(b *testing.B) {
	const v = `attachment; filename="naive.txt"; filename*=UTF-8''na%C3%AFve.txt`
	b.ReportAllocs()
	for b.Loop() {
		_, _ = FromContentDisposition(v)
	}
}
