package input

import "strings"

// RedactPassword replaces the password in the authority of a URL with
// "xxxxx", leaving every other byte as it was (it does not parse and
// print the URL again, so it also works on one that would not parse).
func RedactPassword(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	rest := s[i+3:]
	auth := rest
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		auth = rest[:end]
	}
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return s
	}
	colon := strings.IndexByte(auth[:at], ':')
	if colon < 0 {
		return s
	}
	return s[:i+3] + auth[:colon+1] + "xxxxx" + rest[at:]
}
