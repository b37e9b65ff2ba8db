package naming

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	long := strings.Repeat("a", 300)
	tests := []struct {
		name, in, want string
	}{
		{"plain", "report.pdf", "report.pdf"},
		{"inner dots kept", "a..b.txt", "a..b.txt"},
		{"dotfile kept", ".bashrc", ".bashrc"},
		{"empty", "", "_"},
		{"whitespace only", " \t\n ", "_"},
		{"dot", ".", "_"},
		{"dot dot", "..", "_"},
		{"three dots", "...", "_"},
		{"spaced", " spaced ", "spaced"},
		{"trailing dots and spaces", "name.txt. . ", "name.txt"},
		{"slash", "a/b", "a_b"},
		{"parent traversal", "../../x", ".._.._x"},
		{"absolute", "/etc/passwd", "_etc_passwd"},
		{"backslash", `C:\x`, "C:_x"},
		{"NUL", "a\x00b", "a_b"},
		{"escape sequence", "\x1b[31mred", "_[31mred"},
		{"inner newline", "a\nb", "a_b"},
		{"DEL", "a\x7fb", "a_b"},
		{"C1 control", "a\u0085b\u009bc", "a_b_c"},
		{"bidi override", "txt\u202eexe.doc", "txt_exe.doc"},
		{"line separator", "a\u2028b", "a_b"},
		{"invalid UTF-8", "a\xff\xfeb", "a__b"},
		{"truncated rune", "a\xe2\x82", "a__"},
		{"multi-byte kept", "naïve 日本.txt", "naïve 日本.txt"},
		{"CON", "CON", "CON_"},
		{"con lower", "con", "con_"},
		{"nul.txt", "nul.txt", "nul_.txt"},
		{"CON.tar.gz", "CON.tar.gz", "CON_.tar.gz"},
		{"COM1", "com1.log", "com1_.log"},
		{"LPT9", "LPT9", "LPT9_"},
		{"COM superscript", "COM\u00b9", "COM\u00b9_"},
		{"CONOUT$", "conout$", "conout$_"},
		{"device with space", "nul .txt", "nul_ .txt"},
		{"device with colon", "aux:x", "aux_:x"},
		{"not a device", "CONSOLE", "CONSOLE"},
		{"COM0 not a device", "COM0", "COM0"},
		{"COM10 not a device", "COM10", "COM10"},
		{"long no ext", long, strings.Repeat("a", 241)},
		{"long with ext", long + ".txt", strings.Repeat("a", 237) + ".txt"},
		{"long with compound ext", long + ".tar.gz", strings.Repeat("a", 234) + ".tar.gz"},
		{"long ext not kept", "a." + long, ("a." + long)[:241]},
		{"long, trailing spaces at the cut", "a" + strings.Repeat(" ", 300) + "b", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sanitize(tt.in)
			if got != tt.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			checkSegment(t, got)
			if again := Sanitize(got); again != got {
				t.Errorf("Sanitize is not idempotent: Sanitize(%q) = %q", got, again)
			}
		})
	}
}

func TestSanitizeCutsAtRuneBoundary(t *testing.T) {
	for pad := range 4 {
		for _, ext := range []string{"", ".txt"} {
			in := strings.Repeat("x", pad) + strings.Repeat("日", 100) + ext // 300+ bytes
			got := Sanitize(in)
			if !utf8.ValidString(got) {
				t.Errorf("pad %d ext %q: cut inside a character: %q", pad, ext, got)
			}
			if len(got) > MaxLen || len(got) < MaxLen-3 {
				t.Errorf("pad %d ext %q: len %d, want %d-%d", pad, ext, len(got), MaxLen-3, MaxLen)
			}
			if !strings.HasSuffix(got, ext) || !strings.HasPrefix(got, strings.Repeat("x", pad)+"日") {
				t.Errorf("pad %d ext %q: got %q", pad, ext, got)
			}
		}
	}
}

func TestSanitizeWindows(t *testing.T) {
	tests := []struct{ in, want string }{
		{`C:\x`, "C__x"},
		{`a<b>c:d"e|f?g*h`, "a_b_c_d_e_f_g_h"},
		{"CON:stream", "CON_stream"},
		{"plain.txt", "plain.txt"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in, true); got != tt.want {
			t.Errorf("sanitize(%q, windows) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSanitizePath(t *testing.T) {
	tests := []struct {
		in      string
		want    string // with "/"; compared after filepath.FromSlash
		wantErr bool
	}{
		{in: "a.txt", want: "a.txt"},
		{in: "dir/sub/a.txt", want: "dir/sub/a.txt"},
		{in: `dir\sub\a.txt`, want: "dir/sub/a.txt"},
		{in: "a//b/./c", want: "a/b/c"},
		{in: "./a", want: "a"},
		{in: "a/", wantErr: true},
		{in: `a\`, wantErr: true},
		{in: "a/b/ ", wantErr: true},
		{in: "a/./", wantErr: true},
		{in: "a..b.txt", want: "a..b.txt"},
		{in: ".../x", want: "_/x"},
		{in: "CON/nul.txt", want: "CON_/nul_.txt"},
		{in: " a / b ", want: "a/b"},
		{in: "a/\x00/b", want: "a/_/b"},
		{in: "a/\x1b[31m", want: "a/_[31m"},
		{in: "d/" + strings.Repeat("é", 200), want: "d/" + strings.Repeat("é", 120)},
		{in: "../../x", wantErr: true},
		{in: "a/../../b", wantErr: true},
		{in: "a/..", wantErr: true},
		{in: `a\..\b`, wantErr: true},
		{in: "/etc/passwd", wantErr: true},
		{in: `\\host\share\x`, wantErr: true},
		{in: `C:\x`, wantErr: true},
		{in: "c:x", wantErr: true},
		{in: "", wantErr: true},
		{in: ".", wantErr: true},
		{in: "./", wantErr: true},
		{in: "//", wantErr: true},
		{in: " ", wantErr: true},
		{in: "\u3000\t", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := SanitizePath(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrUnsafeName) {
					t.Fatalf("SanitizePath(%q) = %q, %v; want ErrUnsafeName", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("SanitizePath(%q): %v", tt.in, err)
			}
			if want := filepath.FromSlash(tt.want); got != want {
				t.Errorf("SanitizePath(%q) = %q, want %q", tt.in, got, want)
			}
			checkPath(t, got)
		})
	}
}

func TestExt(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a.txt", ".txt"},
		{"a.tar.gz", ".tar.gz"},
		{"a.TAR.GZ", ".TAR.GZ"},
		{"a.tar.bz2", ".tar.bz2"},
		{"a.tar.xz", ".tar.xz"},
		{"a.tar.zst", ".tar.zst"},
		{"a.tar.lz", ".tar.lz"},
		{"a.tar.Z", ".tar.Z"},
		{"a.b.gz", ".gz"},
		{"a.tar", ".tar"},
		{".tar.gz", ".gz"},
		{"a.zip.gz", ".gz"},
		{"README", ""},
		{".bashrc", ""},
		{"..bashrc", ""},
		{".config.json", ".json"},
		{"a.", ""},
		{"", ""},
		{"dir.d/file", ""},
		{"dir/a.txt", ".txt"},
	}
	for _, tt := range tests {
		if got := Ext(tt.in); got != tt.want {
			t.Errorf("Ext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWithSuffix(t *testing.T) {
	long := strings.Repeat("a", 237) + ".txt"
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"a.tar.gz", 1, "a.1.tar.gz"},
		{"README", 2, "README.2"},
		{"a/b/c.txt", 1, "a/b/c.1.txt"},
		{"a.d/README", 3, "a.d/README.3"},
		{".bashrc", 1, ".bashrc.1"},
		{"index.html", 12, "index.12.html"},
		{"a.txt", 0, "a.txt"},
		{long, 1, strings.Repeat("a", 235) + ".1.txt"},
		{long, 10, strings.Repeat("a", 234) + ".10.txt"},
		{"d/" + strings.Repeat("é", 120), 1, "d/" + strings.Repeat("é", 119) + ".1"},
	}
	for _, tt := range tests {
		got := WithSuffix(tt.in, tt.n)
		if got != tt.want {
			t.Errorf("WithSuffix(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if base := got[lastSep(got)+1:]; len(base) > MaxLen {
			t.Errorf("WithSuffix(%q, %d): last element is %d bytes", tt.in, tt.n, len(base))
		}
	}
}

// TestLongNamesLeaveRoomForPartFiles creates, for names at and beyond the
// limit from every source of names, each file that a transfer writes for
// the name: the name itself, NAME.part, NAME.part.meta and the temporary
// NAME.part.meta.tmp, also after a suffix is added. A name that filled the
// 255 bytes of a path element would fail there with "file name too long".
func TestLongNamesLeaveRoomForPartFiles(t *testing.T) {
	cd := func(s string) string {
		name, _ := FromContentDisposition(s)
		return name
	}
	path := func(s string) string {
		p, err := SanitizePath(s)
		if err != nil {
			t.Fatal(err)
		}
		return filepath.ToSlash(p)
	}
	y247 := strings.Repeat("y", 247)
	tests := []struct {
		source, name string
	}{
		{"explicit 251 bytes", path(y247 + ".txt")},
		{"explicit 255 bytes", path(strings.Repeat("y", 251) + ".txt")},
		{"explicit in a directory", path(y247 + "/" + y247 + ".tar.gz")},
		{"explicit without extension", path(strings.Repeat("y", 300))},
		{"explicit multi-byte", path(strings.Repeat("日", 100) + ".txt")},
		{"URL", FromURL(mustParse(t, "https://example.com/"+y247+".iso"))},
		{"URL escaped", FromURL(mustParse(t, "https://example.com/"+strings.Repeat("%C3%A9", 130)+".iso"))},
		{"Content-Disposition", cd(`attachment; filename="` + y247 + `.pdf"`)},
		{"keep paths", filepath.ToSlash(KeepPath(mustParse(t, "https://example.com/"+y247+"/"+y247+".bin")))},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		for _, n := range []int{0, 1, 10, 12345} {
			name := WithSuffix(tt.name, n)
			checkPath(t, filepath.FromSlash(name))
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatalf("%s, suffix %d: %v", tt.source, n, err)
			}
			for _, end := range []string{"", PartSuffix, SidecarSuffix, SidecarTempSuffix} {
				if err := os.WriteFile(p+end, nil, 0o644); err != nil {
					t.Errorf("%s, suffix %d: %v", tt.source, n, err)
				}
			}
		}
	}
}

// checkSegment fails t unless s is one safe path element.
func checkSegment(t testing.TB, s string) {
	t.Helper()
	if strings.ContainsAny(s, `/\`) {
		t.Fatalf("%q holds a separator", s)
	}
	checkPath(t, s)
}

// checkPath fails t unless p is a safe relative path: local, every element
// non-empty, not "." or "..", at most MaxLen bytes, not a Windows device,
// not ending in a dot or space, free of control characters, valid UTF-8.
func checkPath(t testing.TB, p string) {
	t.Helper()
	if !filepath.IsLocal(p) {
		t.Fatalf("%q is not local", p)
	}
	if !utf8.ValidString(p) {
		t.Fatalf("%q is not valid UTF-8", p)
	}
	for _, r := range p {
		if unsafeRune(r, false) && r != filepath.Separator {
			t.Fatalf("%q holds %U", p, r)
		}
	}
	for seg := range strings.SplitSeq(p, string(filepath.Separator)) {
		switch {
		case seg == "" || seg == "." || seg == "..":
			t.Fatalf("%q has segment %q", p, seg)
		case len(seg) > MaxLen:
			t.Fatalf("%q has a %d-byte segment", p, len(seg))
		case strings.TrimFunc(seg, unicode.IsSpace) != seg || strings.HasSuffix(seg, "."):
			t.Fatalf("%q has segment %q with surrounding space or a trailing dot", p, seg)
		case avoidDevice(seg) != seg:
			t.Fatalf("%q has segment %q, a Windows device name", p, seg)
		}
	}
}
