package naming

import (
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile are seeds for every fuzz target: the names that a hostile list,
// server or URL would try.
var hostile = []string{
	"", ".", "..", "...", " spaced ", "a..b.txt", "../../x", "/etc/passwd",
	"a/../../b", `C:\x`, `\\host\share`, "a\x00b", "\x1b[31mred", "a\nb",
	"CON", "nul.txt", "com1.tar.gz", "a\xff\xfe", "txt\u202eexe.doc",
	strings.Repeat("x", 300), strings.Repeat("日", 100) + ".txt",
}

func FuzzSanitize(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Sanitize(s)
		checkSegment(t, got)
		if again := Sanitize(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
		win := sanitize(s, true)
		if strings.ContainsAny(win, windowsForbidden+`/\`) || win == "" || len(win) > MaxLen {
			t.Fatalf("sanitize(%q, windows) = %q", s, win)
		}
	})
}

func FuzzSanitizePath(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Add("dir/sub/a.txt")
	f.Add("./a//b/./c")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := SanitizePath(s)
		if err != nil {
			if !errors.Is(err, ErrUnsafeName) || got != "" {
				t.Fatalf("SanitizePath(%q) = %q, %v; want only ErrUnsafeName", s, got, err)
			}
			return
		}
		checkPath(t, got)
		if again, err := SanitizePath(filepath.ToSlash(got)); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}

func FuzzFromContentDisposition(f *testing.F) {
	for _, s := range hostile {
		f.Add(`attachment; filename="` + s + `"`)
		f.Add(`attachment; filename*=UTF-8''` + url.PathEscape(s))
	}
	f.Add(`attachment; filename*=ISO-8859-1''na%EFve.txt; filename="naive.txt"`)
	f.Add(`attachment; filename*0*=UTF-8''na%C3; filename*1*=%AFve.txt`)
	f.Add(`inline; filename="=?UTF-8?B?bmHDr3ZlLnR4dA==?="`)
	f.Add(`;;"=;\"; filename=x`)
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := FromContentDisposition(s)
		if !ok {
			if got != "" {
				t.Fatalf("FromContentDisposition(%q) = %q, false", s, got)
			}
			return
		}
		checkSegment(t, got)
	})
}

func FuzzFromURL(f *testing.F) {
	for _, s := range hostile {
		f.Add("https://example.com/" + url.PathEscape(s))
		f.Add("https://example.com/" + s)
	}
	f.Add("http://[::1]:8080/a/../b/%2e%2e/c?q=1#f")
	f.Add("http://h/a%2Fb/")
	f.Add("file:///tmp/x")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			t.Skip()
		}
		checkSegment(t, FromURL(u))
		checkPath(t, KeepPath(u))
	})
}

// FuzzWithSuffix: the name that Reserve tries for the n-th item of a taken
// name is as safe as the name (checkPath), in the same directory, with the
// same extension when it fits, and differs from the name and from the
// candidate of another n.
func FuzzWithSuffix(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, 1)
	}
	f.Add("a/b/c.tar.gz", 2)
	f.Add(strings.Repeat("é", 130)+".txt", 10)
	f.Add(strings.Repeat("x", 250)+"."+strings.Repeat("y", 30), 123456)
	f.Add("CON .txt", 1)
	f.Fuzz(func(t *testing.T, s string, n int) {
		name, err := SanitizePath(s)
		if err != nil || n < 1 {
			return
		}
		got := WithSuffix(name, n)
		checkPath(t, got)
		if got == name {
			t.Fatalf("WithSuffix(%q, %d) = the name itself", name, n)
		}
		if filepath.Dir(got) != filepath.Dir(name) {
			t.Fatalf("WithSuffix(%q, %d) = %q: another directory", name, n, got)
		}
		if other := WithSuffix(name, n+1); other == got {
			t.Fatalf("WithSuffix(%q, %d) and %d are both %q", name, n, n+1, got)
		}
	})
}

// FuzzReserveFold: two names are one name to a Reserver exactly when
// strings.EqualFold says so ('/' and '\' alike): the second of two such
// names gets a suffix, and of two others, both keep their own (the files
// of one, name.part and the like, aside).
func FuzzReserveFold(f *testing.F) {
	for _, p := range [][2]string{
		{"a.txt", "A.TXT"}, {"k", "\u212a"}, {"s", "\u017f"}, {"ß", "SS"}, {"a/b", `A\B`},
		{"x", "x.part"}, {"dir/a", "dir"}, {"İ", "i"}, {"σ", "ς"}, {"ǅ", "ǆ"}, {"a", "b"},
		{"caf\u00e9", "CAFE\u0301"}, {"\u212b", "a\u030a"},
	} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) || a == "" || b == "" {
			return
		}
		fold := func(s string) string { return strings.ReplaceAll(s, `\`, "/") }
		if same := strings.EqualFold(fold(a), fold(b)); (hashFolded(a) == hashFolded(b)) != same {
			t.Fatalf("hashFolded(%q) == hashFolded(%q) is %v; EqualFold says %v", a, b, !same, same)
		}
		// Reserve compares the canonical decompositions (NFD), as macOS
		// file systems do.
		if !strings.EqualFold(fold(canonical(a)), fold(canonical(b))) {
			return
		}
		r := NewReserver()
		if got := r.Reserve(a, nil); got != a {
			t.Fatalf("Reserve(%q) in an empty Reserver = %q", a, got)
		}
		if got := r.Reserve(b, nil); got == b {
			t.Fatalf("Reserve(%q) after %q = %q, the same name on a case-insensitive or macOS disk", b, a, got)
		}
	})
}
