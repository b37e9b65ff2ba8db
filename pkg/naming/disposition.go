package naming

import (
	"mime"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxPieces bounds the RFC 2231 continuations (filename*0, filename*1, ...)
// that are put together, so that a hostile header cannot make a huge name.
const maxPieces = 64

// FromContentDisposition returns the file name from a Content-Disposition
// header value, sanitized; ok is false when the header names no usable file.
//
// The extended parameter filename* (RFC 5987/6266, charsets UTF-8 and
// ISO-8859-1, also US-ASCII) is preferred over RFC 2231 continuations
// (filename*0, filename*1*, ...), which are preferred over plain filename;
// a source that does not decode, or leaves no name, gives way to the next.
// Only the base name is kept: everything up to the last '/' or '\' is
// dropped, so "../../etc/passwd" gives "passwd" and `C:\evil\x.exe` gives
// "x.exe".
//
// The parser is lenient, like browsers and wget2: the disposition type may
// be missing, values may be unquoted tokens, quoted strings may lack their
// closing quote, parameter names are case-insensitive, the first occurrence
// of a parameter wins, and junk between parameters is skipped. Inside a
// quoted string a backslash escapes only '"' and '\'; any other backslash
// is kept, because old browsers send Windows paths unescaped. A plain
// filename written as RFC 2047 encoded words ("=?UTF-8?B?...?=") is
// decoded.
func FromContentDisposition(value string) (name string, ok bool) {
	var ext, plain string
	var haveExt, havePlain bool
	var pieces [maxPieces]piece
	npieces := 0
	for key, val := range params(value) {
		switch {
		case key == "filename*":
			if !haveExt {
				ext, haveExt = val, true
			}
		case key == "filename":
			if !havePlain {
				plain, havePlain = val, true
			}
		case strings.HasPrefix(key, "filename*"):
			if addPiece(&pieces, key[len("filename*"):], val) {
				npieces++
			}
		}
	}
	joined, haveJoined := joinPieces(pieces[:], npieces)
	extName, haveExtName := decodeExt(ext, haveExt)
	candidates := [...]struct {
		name string
		ok   bool
	}{
		{extName, haveExtName},
		{joined, haveJoined},
		{decodeWords(plain), havePlain},
	}
	for _, c := range candidates {
		if !c.ok {
			continue
		}
		if base, ok := baseName(c.name); ok {
			return Sanitize(base), true
		}
	}
	return "", false
}

// params yields the lower-cased name and the (unquoted) value of each
// "name=value" parameter in a header value, skipping anything else.
func params(s string) func(yield func(key, val string) bool) {
	return func(yield func(key, val string) bool) {
		for s != "" {
			var key, val string
			var ok bool
			key, val, s, ok = nextParam(s)
			if ok && !yield(key, val) {
				return
			}
		}
	}
}

// nextParam parses one parameter at the start of s and returns what follows
// it; ok is false for a piece without '=' (such as the disposition type).
func nextParam(s string) (key, val, rest string, ok bool) {
	s = strings.TrimLeft(s, " \t;")
	end := strings.IndexAny(s, "=;")
	if end < 0 {
		return "", "", "", false
	}
	if s[end] == ';' {
		return "", "", s[end:], false
	}
	key = strings.ToLower(strings.TrimSpace(s[:end]))
	s = strings.TrimLeft(s[end+1:], " \t")
	if strings.HasPrefix(s, `"`) {
		val, s = quoted(s[1:])
	} else {
		end = strings.IndexByte(s, ';')
		if end < 0 {
			end = len(s)
		}
		val, s = strings.TrimSpace(s[:end]), s[end:]
	}
	// Skip junk after a quoted value up to the next parameter.
	if end := strings.IndexByte(s, ';'); end >= 0 {
		s = s[end:]
	} else {
		s = ""
	}
	return key, val, s, key != ""
}

// quoted reads a quoted string whose opening quote is already consumed and
// returns its value and what follows the closing quote (or "" when there is
// none).
func quoted(s string) (val, rest string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return b.String(), s[i+1:]
		case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

// decodeExt decodes an RFC 5987 ext-value: charset'language'percent-encoded.
func decodeExt(v string, have bool) (string, bool) {
	if !have {
		return "", false
	}
	charset, rest, ok := strings.Cut(v, "'")
	if !ok {
		return "", false
	}
	_, enc, ok := strings.Cut(rest, "'")
	if !ok {
		return "", false
	}
	return decodeCharset(charset, pctDecode(enc))
}

// decodeCharset turns raw bytes in the named charset into UTF-8; ok is false
// for a charset it does not know.
func decodeCharset(charset string, raw string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "utf-8", "utf8":
		return raw, true
	case "iso-8859-1", "iso_8859-1", "latin1", "us-ascii":
		// Every byte is the code point of the same number; bytes above
		// 0x7f in US-ASCII are taken leniently as Latin-1.
		if isASCII(raw) {
			return raw, true
		}
		b := make([]byte, 0, 2*len(raw))
		for i := 0; i < len(raw); i++ {
			b = utf8.AppendRune(b, rune(raw[i]))
		}
		return string(b), true
	}
	return "", false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// pctDecode decodes %XX escapes, keeping a malformed escape as it is.
func pctDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// piece is one RFC 2231 continuation of a parameter value.
type piece struct {
	val     string
	encoded bool // the name ended in '*': percent-encoded, charset in piece 0
	set     bool
}

// addPiece records the continuation named by suffix ("0", "1*", ...) and
// reports whether it was new and in range.
func addPiece(pieces *[maxPieces]piece, suffix, val string) bool {
	num, encoded := strings.CutSuffix(suffix, "*")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n >= maxPieces || num != strconv.Itoa(n) || pieces[n].set {
		return false
	}
	pieces[n] = piece{val: val, encoded: encoded, set: true}
	return true
}

// joinPieces puts together the continuations 0, 1, ... up to the first gap.
func joinPieces(pieces []piece, n int) (string, bool) {
	if n == 0 || !pieces[0].set {
		return "", false
	}
	charset := ""
	var b strings.Builder
	for i, p := range pieces {
		if !p.set {
			break
		}
		v := p.val
		if p.encoded {
			if i == 0 {
				var rest string
				var ok bool
				charset, rest, ok = strings.Cut(v, "'")
				if !ok {
					return "", false
				}
				if _, v, ok = strings.Cut(rest, "'"); !ok {
					return "", false
				}
			}
			v = pctDecode(v)
		}
		b.WriteString(v)
	}
	if !pieces[0].encoded {
		return b.String(), true
	}
	return decodeCharset(charset, b.String())
}

// decodeWords decodes RFC 2047 encoded words, which some servers send in a
// plain filename; anything else, or a failure, leaves s as it is.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	var d mime.WordDecoder
	if out, err := d.DecodeHeader(s); err == nil {
		return out
	}
	return s
}

// baseName drops any directory part, Unix or Windows style; ok is false
// when nothing that could name a file is left.
func baseName(name string) (string, bool) {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	if strings.TrimFunc(name, isTrailingJunk) == "" {
		return "", false // "", ".", "..", "..." and the like name no file
	}
	return name, true
}
