// Package naming decides where an item's bytes land: names from input,
// Content-Disposition or the URL, sanitized and reserved so that two
// transfers never share a file.
//
// pool.Run names each item (FromURL, KeepPath, SanitizePath for a name from
// the input) and reserves it in its run's Reserver; fetch takes a name from
// Content-Disposition with FromContentDisposition.
package naming

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen is the longest path element, in bytes, that Sanitize returns and
// that WithSuffix makes: 241, the 255-byte limit of one path element (on
// Linux, macOS and Windows alike) less the 14 bytes of the longest ending
// that a transfer adds to a name for its files beside the destination, so
// that NAME.part, NAME.part.meta and NAME.part.meta.tmp can be created as
// well.
const MaxLen = maxElement - len(SidecarTempSuffix)

// maxElement is the limit, in bytes, of one path element on Linux, macOS and
// Windows alike.
const maxElement = 255

// maxKeptExt is the longest extension, in bytes, that shortening keeps; a
// longer "extension" is just part of a long name.
const maxKeptExt = 32

// ErrUnsafeName reports an explicit output name that would leave the output
// directory or names no file: an absolute path, a drive letter, a ".."
// segment, or nothing at all.
var ErrUnsafeName = errors.New("unsafe output name")

// windowsNames makes Sanitize also replace the characters that Windows
// forbids in file names; elsewhere they are ordinary characters.
const windowsNames = runtime.GOOS == "windows"

// windowsForbidden are the printable characters that Windows refuses in a
// file name (':' would also name a drive or an alternate data stream).
const windowsForbidden = `<>:"|?*`

// Sanitize turns one untrusted path segment into a safe file name.
//
// The result is never empty, never "." or "..", and holds no '/', '\',
// NUL or other control character (C0, DEL, C1), no bidirectional-text
// control (which could make a name display with a false extension) and no
// line or paragraph separator: each is replaced with '_', and so is every
// byte that is not valid UTF-8 (one '_' per byte). Leading and trailing white
// space is trimmed, and so are trailing dots, which Windows would drop; a
// name left empty by that (for example "", ".", ".." or "...") becomes "_". A
// Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, CONIN$, CONOUT$,
// in any case, also followed by an extension as in "nul.txt") gets '_'
// after the device word: "CON_", "nul_.txt". A name longer than MaxLen bytes
// is cut at a UTF-8 boundary to at most MaxLen bytes, keeping its extension
// (see Ext) when that is at most 32 bytes long. On Windows the characters
// <>:"|?* are replaced with '_' as well. Inner dots are kept: "a..b.txt" is
// a fine name. Sanitize is idempotent.
func Sanitize(segment string) string {
	return sanitize(segment, windowsNames)
}

func sanitize(s string, windows bool) string {
	s = strings.TrimFunc(s, unicode.IsSpace)
	s = replaceUnsafe(s, windows)
	s = strings.TrimRightFunc(s, isTrailingJunk)
	if s == "" {
		return "_"
	}
	s = avoidDevice(s)
	if len(s) > MaxLen {
		s = shorten(s, MaxLen)
	}
	return s
}

// isTrailingJunk reports the characters that Windows drops from the end of a
// name, so that "a.txt." and "a.txt" would be the same file there.
func isTrailingJunk(r rune) bool {
	return r == '.' || unicode.IsSpace(r)
}

// replaceUnsafe replaces unsafe runes and invalid UTF-8 bytes with '_'. It
// allocates only when something must be replaced.
func replaceUnsafe(s string, windows bool) string {
	i := firstUnsafe(s, windows)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		// Ranging over a string yields utf8.RuneError, width 1, for each
		// invalid byte, so every bad byte becomes one '_'.
		if unsafeRune(r, windows) {
			r = '_'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func firstUnsafe(s string, windows bool) int {
	for i, r := range s {
		if unsafeRune(r, windows) {
			return i
		}
	}
	return -1
}

func unsafeRune(r rune, windows bool) bool {
	switch {
	case r == '/' || r == '\\' || r == utf8.RuneError:
		return true
	case r < 0x20 || (0x7f <= r && r <= 0x9f): // C0, DEL, C1
		return true
	case r == '\u061c' || r == '\u200e' || r == '\u200f' || // bidi marks
		('\u202a' <= r && r <= '\u202e') || ('\u2066' <= r && r <= '\u2069'): // bidi embeddings, overrides, isolates
		return true
	case r == '\u2028' || r == '\u2029': // line and paragraph separators
		return true
	case windows && strings.ContainsRune(windowsForbidden, r):
		return true
	}
	return false
}

// avoidDevice appends '_' to a Windows device word at the start of name.
// Windows takes the device word to end at the first '.' or ':' and ignores
// spaces before that, so "nul .txt" is the device NUL too.
func avoidDevice(name string) string {
	end := strings.IndexAny(name, ".:")
	if end < 0 {
		end = len(name)
	}
	word := strings.TrimRight(name[:end], " ")
	if !isDevice(word) {
		return name
	}
	return word + "_" + name[len(word):]
}

func isDevice(word string) bool {
	switch len(word) {
	case 3:
		for _, d := range [...]string{"CON", "PRN", "AUX", "NUL"} {
			if strings.EqualFold(word, d) {
				return true
			}
		}
		return false
	case 6:
		return strings.EqualFold(word, "CONIN$")
	case 7:
		return strings.EqualFold(word, "CONOUT$")
	}
	if len(word) != 4 && len(word) != 5 {
		return false
	}
	if !strings.EqualFold(word[:3], "COM") && !strings.EqualFold(word[:3], "LPT") {
		return false
	}
	switch word[3:] {
	case "1", "2", "3", "4", "5", "6", "7", "8", "9", "\u00b9", "\u00b2", "\u00b3":
		return true
	}
	return false
}

// shorten cuts name to at most limit bytes at a UTF-8 boundary, keeping a
// short extension whole.
func shorten(name string, limit int) string {
	ext := Ext(name)
	if len(ext) > maxKeptExt || len(ext) >= limit {
		ext = ""
	}
	stem := cutUTF8(name[:len(name)-len(ext)], limit-len(ext))
	if ext == "" {
		stem = strings.TrimRightFunc(stem, isTrailingJunk)
	}
	return stem + ext
}

// cutUTF8 returns the longest prefix of s that is at most n bytes long and
// does not split a multi-byte character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// SanitizePath sanitizes an explicit relative name from the input, which may
// use "/" (or "\") to make subdirectories of the output directory.
//
// Empty and "." segments are dropped and every other segment goes through
// Sanitize; the result is joined with the OS separator. A name that would
// leave the output directory fails loudly with ErrUnsafeName rather than
// landing somewhere else: an absolute name ("/etc/passwd", `\\host\share`),
// a name starting with a drive letter (`C:\x`, "c:x"), or a name with a
// ".." segment anywhere ("a/../b"). A name left with no segment at all ("",
// ".", "./") or made only of white space (" ") is an ErrUnsafeName too, and
// so is a name that ends in a separator ("isos/"): it names a directory, and
// saving a file under the directory's name would not be what was asked.
func SanitizePath(name string) (string, error) {
	if name != "" && (name[0] == '/' || name[0] == '\\') {
		return "", fmt.Errorf("output name %q is absolute; give a path relative to the output directory: %w", name, ErrUnsafeName)
	}
	if hasDrive(name) {
		return "", fmt.Errorf("output name %q starts with a drive letter; give a path relative to the output directory: %w", name, ErrUnsafeName)
	}
	var segs []string
	for seg := range strings.FieldsFuncSeq(name, isSlash) {
		switch seg {
		case ".":
			continue
		case "..":
			return "", fmt.Errorf("output name %q has a \"..\" segment that would leave the output directory: %w", name, ErrUnsafeName)
		}
		segs = append(segs, Sanitize(seg))
	}
	t := strings.TrimRightFunc(name, unicode.IsSpace)
	if len(segs) == 0 || t == "" {
		// Only white space (" ") would make a segment, which Sanitize
		// turns into "_": that is no name either.
		return "", fmt.Errorf("output name %q names no file: %w", name, ErrUnsafeName)
	}
	if isSlash(rune(t[len(t)-1])) {
		return "", fmt.Errorf("output name %q ends in %q and so names a directory, not a file; give the file's name too, as in %q: %w",
			name, t[len(t)-1:], t+"NAME", ErrUnsafeName)
	}
	return filepath.Join(segs...), nil
}

func isSlash(r rune) bool { return r == '/' || r == '\\' }

func hasDrive(name string) bool {
	return len(name) >= 2 && name[1] == ':' &&
		('a' <= name[0] && name[0] <= 'z' || 'A' <= name[0] && name[0] <= 'Z')
}

// compound are the second extensions that form one extension with a
// preceding ".tar".
var compound = [...]string{".gz", ".bz2", ".xz", ".zst", ".lz", ".lz4", ".lzma", ".z"}

// Ext returns the extension that suffixing keeps at the end of a name: the
// part of its last path element from the last dot, or from the dot before
// "tar" for compound archive extensions (.tar.gz .tar.bz2 .tar.xz .tar.zst
// .tar.lz .tar.lz4 .tar.lzma .tar.Z, in any case). It is "" when there is
// none; the leading dots of a dotfile do not start an extension (".bashrc"
// has none) and neither does a trailing dot ("a." has none).
func Ext(name string) string {
	base := name[lastSep(name)+1:]
	body := strings.TrimLeft(base, ".") // a dotfile's leading dots are its name
	dot := strings.LastIndexByte(body, '.')
	if dot <= 0 || dot == len(body)-1 {
		return ""
	}
	ext := body[dot:]
	stem := body[:dot]
	if isCompound(ext) && len(stem) > len(".tar") && strings.EqualFold(stem[len(stem)-len(".tar"):], ".tar") {
		return body[dot-len(".tar"):]
	}
	return ext
}

func isCompound(ext string) bool {
	for _, c := range compound {
		if strings.EqualFold(ext, c) {
			return true
		}
	}
	return false
}

// lastSep is the index of the last '/' or OS path separator in name, or -1.
func lastSep(name string) int {
	return strings.LastIndexFunc(name, func(r rune) bool {
		return r == '/' || r == filepath.Separator
	})
}

// WithSuffix returns name with ".N" inserted before its extension (see Ext):
// WithSuffix("a.tar.gz", 1) is "a.1.tar.gz", WithSuffix("README", 2) is
// "README.2", WithSuffix("a/b/c.txt", 1) is "a/b/c.1.txt". Only the last
// path element changes; if it would grow beyond MaxLen bytes its stem is
// cut (at a UTF-8 boundary) to make room. An n below 1 returns name as is.
func WithSuffix(name string, n int) string {
	if n < 1 {
		return name
	}
	i := lastSep(name) + 1
	dir, base := name[:i], name[i:]
	ext := Ext(base)
	stem := base[:len(base)-len(ext)]
	suffix := "." + strconv.Itoa(n)
	if len(stem)+len(suffix)+len(ext) > MaxLen {
		if len(ext) > maxKeptExt {
			stem, ext = base, ""
		}
		stem = cutUTF8(stem, MaxLen-len(suffix)-len(ext))
	}
	return dir + stem + suffix + ext
}
