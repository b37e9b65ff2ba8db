package input

import (
	"strconv"
	"testing"
)

func TestSeen(t *testing.T) {
	s := NewSeen()
	steps := []struct {
		url, output string
		isNew       bool
	}{
		{"http://h/a", "", true},
		{"http://h/a", "", false},
		{"http://h/a", "a.txt", true},
		{"http://h/a", "a.txt", false},
		{"http://h/b", "", true},
		{"http://h/ab", "c", true},
		{"http://h/a", "bc", true}, // same bytes, split differently
		{"", "", true},
		{"", "", false},
		{"HTTP://H/A", "", true},
	}
	for i, st := range steps {
		if got := s.Add(st.url, st.output); got != st.isNew {
			t.Errorf("step %d: Add(%q, %q) = %v, want %v", i, st.url, st.output, got, st.isNew)
		}
	}
	if s.Len() != 7 {
		t.Errorf("Len() = %d, want 7", s.Len())
	}
}

func TestSeenMany(t *testing.T) {
	s := NewSeen()
	const n = 200000
	for i := range n {
		if !s.Add("https://example.com/file/"+strconv.Itoa(i), "") {
			t.Fatalf("item %d taken for a duplicate", i)
		}
	}
	for i := range n {
		if s.Add("https://example.com/file/"+strconv.Itoa(i), "") {
			t.Fatalf("item %d not remembered", i)
		}
	}
	if s.Len() != n {
		t.Errorf("Len() = %d, want %d", s.Len(), n)
	}
}

func TestSeenAddDoesNotAllocateStrings(t *testing.T) {
	s := NewSeen()
	s.Add("http://h/a", "x")
	if n := testing.AllocsPerRun(100, func() { s.Add("http://h/a", "x") }); n != 0 {
		t.Errorf("Add of a known pair allocates %v times, want 0", n)
	}
}

func TestSameRequest(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"http://h/a", "http://h/a"},
		{"http://h/a#frag", "http://h/a"},
		{"HTTP://Example.COM/A#x", "http://example.com/A"},
		{"https://Host:8080?Q=1", "https://host:8080?Q=1"},
		{"http://User:Pass@Host/P", "http://User:Pass@host/P"},
		{"http://h", "http://h"},
		{"/tmp/a#b.txt", "/tmp/a#b.txt"}, // a local path may hold a '#'
		{"file:///tmp/a#b", "file:///tmp/a#b"},
		{"ftp://H/a", "ftp://H/a"},
		// The default port is the same request as none.
		{"http://h:80/a", "http://h/a"},
		{"https://h:443?q", "https://h?q"},
		{"HTTP://H:80", "http://h"},
		{"http://[::1]:80/a", "http://[::1]/a"},
		{"http://h:/a", "http://h/a"},
		{"http://u:80@h/a", "http://u:80@h/a"},
		{"http://h:443/a", "http://h:443/a"},
		{"https://h:80/a", "https://h:80/a"},
		{"http://h:8080/a", "http://h:8080/a"},
	} {
		if got := sameRequest(tt.in); got != tt.want {
			t.Errorf("sameRequest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// A local path is the file it names: "./a" and "a" are one copy.
	for _, tt := range []struct{ in, want string }{
		{"./rel.txt", "rel.txt"},
		{"d//./a.txt", "d/a.txt"},
		{"d/e/../a.txt", "d/e/../a.txt"}, // e may be a symbolic link
		{"/tmp/./a", "/tmp/a"},
		{"a.txt", "a.txt"},
		{"", ""},
		{"http://h/./a", "http://h/./a"},
		// A file URL is the path it names (RFC 8089: no host, or
		// localhost), as fetch reads it.
		{"file:///tmp/./a", "/tmp/a"},
		{"file://localhost/etc/hostname", "/etc/hostname"},
		{"FILE://LocalHost/etc/hostname", "/etc/hostname"},
		{"file:/etc/hostname", "/etc/hostname"},
		{"file:///tmp/a%20b#frag", "/tmp/a b"},
		{"file:///d/e/../a", "/d/e/../a"},
		{"file://otherhost/etc/hostname", "file://otherhost/etc/hostname"}, // refused by fetch
		{"file:rel", "file:rel"},
	} {
		if got := sameFile(tt.in); got != tt.want {
			t.Errorf("sameFile(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	s := NewSeen()
	if !s.Add("http://h/d/a.txt", "") || s.Add("http://h/d/a.txt#frag", "") || s.Add("HTTP://H/d/a.txt", "") || s.Add("http://h:80/d/a.txt", "") {
		t.Error("URLs that make the same request were taken for different items")
	}
	if !s.Add("file:///etc/hostname", "") || s.Add("file://localhost/etc/hostname", "") || s.Add("file:/etc/hostname", "") || s.Add("/etc/hostname", "") {
		t.Error("file URLs of one file, and its path, were taken for different items")
	}
}

// TestFilePathFor: the path of a file URL is the local path, except on
// Windows, where file:///C:/dir/f is C:\dir\f: "/C:/dir/f" was opened as
// it was, and no file URL with a drive could be copied there.
func TestFilePathFor(t *testing.T) {
	tests := []struct {
		path    string
		windows bool
		want    string
	}{
		{"/tmp/a b.txt", false, "/tmp/a b.txt"},
		{"/C:/data/f.bin", false, "/C:/data/f.bin"},
		{"/C:/data/f.bin", true, `C:\data\f.bin`},
		{"/c:/f", true, `c:\f`},
		{"/data/f.bin", true, `\data\f.bin`}, // the current drive's root
		{"/1:/f", true, `\1:\f`},             // no drive letter
	}
	for _, tt := range tests {
		if got := filePathFor(tt.path, tt.windows); got != tt.want {
			t.Errorf("filePathFor(%q, windows %v) = %q, want %q", tt.path, tt.windows, got, tt.want)
		}
	}
}
