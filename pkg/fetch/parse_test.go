package fetch

import (
	"strings"
	"testing"
)

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in   string
		want contentRange
		ok   bool
	}{
		{"bytes 0-99/100", contentRange{0, 99, 100}, true},
		{"bytes 100-199/1000", contentRange{100, 199, 1000}, true},
		{"bytes 5-9/*", contentRange{5, 9, -1}, true},
		{"bytes */100", contentRange{-1, -1, 100}, true},
		{"BYTES 0-0/1", contentRange{0, 0, 1}, true},
		{"  bytes 0-9/10 ", contentRange{0, 9, 10}, true},
		{"bytes */*", contentRange{}, false},
		{"bytes 9-0/10", contentRange{}, false},
		{"bytes 0-10/10", contentRange{}, false},
		{"bytes 0-9", contentRange{}, false},
		{"bytes -1-9/10", contentRange{}, false},
		{"bytes +1-9/10", contentRange{}, false},
		{"items 0-9/10", contentRange{}, false},
		{"bytes 0-99999999999999999999/1", contentRange{}, false},
		// The largest range whose length fits an int64, and one past it.
		{"bytes 0-9223372036854775806/9223372036854775807", contentRange{0, 9223372036854775806, 9223372036854775807}, true},
		{"bytes 0-9223372036854775807/*", contentRange{}, false},
		{"bytes 1-9223372036854775807/*", contentRange{}, false},
		{"", contentRange{}, false},
		{"bytes a-b/c", contentRange{}, false},
	}
	for _, tt := range tests {
		got, ok := parseContentRange(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("parseContentRange(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes */100", "bytes 5-9/*", "bytes 9-0/10", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cr, ok := parseContentRange(s)
		if !ok {
			return
		}
		if cr.first < 0 {
			if cr.first != -1 || cr.last != -1 || cr.total < 0 {
				t.Fatalf("%q: bad unsatisfied range %+v", s, cr)
			}
			return
		}
		if cr.last < cr.first || (cr.total >= 0 && cr.last >= cr.total) {
			t.Fatalf("%q: inconsistent %+v", s, cr)
		}
	})
}

func TestParseNetrc(t *testing.T) {
	text := `# comment-free format: tokens only
machine example.com login alice password s3cret
machine Other.Example
	login bob
	password "pass word\"q"
	account ignored
macdef init
cd /pub
ls

machine after.macro login carol password c
default login anon password anon@
machine example.com login second password ignored
machine nologin.example
`
	n := parseNetrc(text)
	tests := []struct {
		host, user, password string
		ok                   bool
	}{
		{"example.com", "alice", "s3cret", true},
		{"EXAMPLE.com", "alice", "s3cret", true},
		{"other.example", "bob", `pass word"q`, true},
		{"after.macro", "carol", "c", true},
		{"unknown.example", "anon", "anon@", true},
		{"nologin.example", "anon", "anon@", true},
	}
	for _, tt := range tests {
		u, p, ok := n.lookup(tt.host)
		if u != tt.user || p != tt.password || ok != tt.ok {
			t.Errorf("lookup(%q) = %q, %q, %v; want %q, %q, %v", tt.host, u, p, ok, tt.user, tt.password, tt.ok)
		}
	}
	if _, _, ok := parseNetrc("machine a login b password c").lookup("other"); ok {
		t.Error("credentials for a host without an entry and no default")
	}
	for _, macro := range []string{"cd", "ls", "/pub"} {
		if _, found := n.machines[macro]; found {
			t.Errorf("macro body %q read as a machine", macro)
		}
	}
}

func FuzzParseNetrc(f *testing.F) {
	for _, s := range []string{
		"machine a login b password c",
		"default login x password y",
		"machine a login \"q\\\"x\" password",
		"macdef m\nbody\n\nmachine z login z password z",
		"machine",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := parseNetrc(s)
		for host := range n.machines {
			if host != strings.ToLower(host) {
				t.Fatalf("host %q not lowercased", host)
			}
			if u, p, ok := n.lookup(host); !ok || (u == "" && p == "") {
				t.Fatalf("entry %q without credentials", host)
			}
		}
	})
}
