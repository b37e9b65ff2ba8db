package input

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzRedactPassword: the redaction never grows a URL without a password,
// never leaves the password of a well-formed one, and keeps the rest.
func FuzzRedactPassword(f *testing.F) {
	for _, s := range []string{"http://u:p@h/x", "http://h/x?a=b@c", "https://u@h", "ftp://a:b@c:d@e/f", "x://:@/", "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := RedactPassword(s)
		if !strings.Contains(s, "@") && got != s {
			t.Fatalf("RedactPassword(%q) = %q: changed a URL without @", s, got)
		}
		// Items are absolute URLs: a scheme, then "://".
		if u, err := url.Parse(s); err == nil && u.User != nil && u.Scheme != "" && strings.HasPrefix(s, u.Scheme+"://") {
			if _, ok := u.User.Password(); ok {
				g, err := url.Parse(got)
				if err != nil || g.User == nil {
					t.Fatalf("RedactPassword(%q) = %q: no longer a URL with a user (%v)", s, got, err)
				}
				if p, _ := g.User.Password(); p != "xxxxx" || g.User.Username() != u.User.Username() ||
					g.Host != u.Host || g.Path != u.Path {
					t.Fatalf("RedactPassword(%q) = %q: want the password alone replaced", s, got)
				}
			}
		}
	})
}
