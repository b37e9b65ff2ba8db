package fetch

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// ParseHeader parses extra request headers given as "Name: value" (-H),
// for Config.Header. It refuses what would fail every request, since
// net/http refuses to send it: a value without a colon, a name that is not
// an RFC 9110 token, and a value with a control character other than tab.
// Errors quote the value, as given with --header. Names and values are
// trimmed of surrounding white space; a name given twice keeps both values.
func ParseHeader(values []string) (http.Header, error) {
	h := http.Header{}
	for _, v := range values {
		name, value, ok := strings.Cut(v, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
			return nil, fmt.Errorf("invalid --header %q: want \"Name: value\"", v)
		}
		if i := strings.IndexFunc(name, notTokenRune); i >= 0 {
			r, _ := utf8.DecodeRuneInString(name[i:])
			return nil, fmt.Errorf("invalid --header %q: a header name cannot contain %q", v, string(r))
		}
		if strings.ContainsFunc(value, controlChar) {
			return nil, fmt.Errorf("invalid --header %q: the value contains a control character", v)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}

// notTokenRune tells the runes that cannot be in a header name (an RFC
// 9110 token): anything but visible ASCII, and the delimiters.
func notTokenRune(r rune) bool {
	return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}

// controlChar tells the runes that net/http refuses in a header value: the
// ASCII control characters but tab.
func controlChar(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }
