package input

import (
	"encoding/binary"
	"hash/maphash"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/fetchpool/fetchpool/internal/hashset"
)

// Seen is a compact de-duplication set of (URL, output) pairs. It keeps a
// 64-bit hash of each pair, not the strings, so a list of millions of items
// costs about ten bytes per item; two different pairs share a hash with a
// probability of about n²/2⁶⁵ for n pairs (below 10⁻⁵ for ten million), in
// which case the later one is taken for a duplicate. The hash seed is random
// per Seen. A Seen is not safe for concurrent use: one producer owns it.
// Make one with NewSeen; the zero Seen is not usable.
type Seen struct {
	seed maphash.Seed
	set  *hashset.Set
}

// NewSeen returns an empty set.
func NewSeen() *Seen {
	return &Seen{seed: maphash.MakeSeed(), set: hashset.New()}
}

// Add records the pair and reports whether it was new. Two http(s) URLs
// that differ only in their #fragment (never sent), in the case of their
// scheme and host, or in giving the scheme's default port or none are the
// same request, and so the same pair; two local paths that differ only in
// "./" or doubled slashes, and a file URL and the path it names, are the
// same file (see sameFile).
func (s *Seen) Add(url, output string) bool {
	url = sameFile(sameRequest(url))
	var h maphash.Hash
	h.SetSeed(s.seed)
	// The length prefix keeps ("ab", "c") and ("a", "bc") apart.
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(url)))
	_, _ = h.Write(n[:])
	_, _ = h.WriteString(url)
	_, _ = h.WriteString(output)
	return s.set.Add(h.Sum64())
}

// Len returns the number of distinct pairs added.
func (s *Seen) Len() int { return s.set.Len() }

// sameRequest is an http(s) URL as the request it makes: without its
// fragment, with its scheme and host in lower case and without a default
// port. Anything else (a local path may hold a '#') is returned as it is.
// It allocates only for a URL whose scheme or host has an upper-case letter
// or a default port.
func sameRequest(url string) string {
	schemeEnd := 0 // after "://"
	for _, scheme := range []string{"http://", "https://"} {
		if len(url) >= len(scheme) && strings.EqualFold(url[:len(scheme)], scheme) {
			schemeEnd = len(scheme)
		}
	}
	if schemeEnd == 0 {
		return url
	}
	if i := strings.IndexByte(url, '#'); i >= 0 {
		url = url[:i]
	}
	hostEnd := len(url)
	if i := strings.IndexAny(url[schemeEnd:], "/?"); i >= 0 {
		hostEnd = schemeEnd + i
	}
	hostStart := schemeEnd
	if at := strings.LastIndexByte(url[schemeEnd:hostEnd], '@'); at >= 0 {
		hostStart = schemeEnd + at + 1 // user info keeps its case
	}
	host := url[hostStart:hostEnd]
	port := defaultPort(host, url[:schemeEnd])
	if port == 0 && !hasUpper(url[:schemeEnd]) && !hasUpper(host) {
		return url
	}
	host = host[:len(host)-port]
	return strings.ToLower(url[:schemeEnd]) + url[schemeEnd:hostStart] + strings.ToLower(host) + url[hostEnd:]
}

// defaultPort returns the length of a port at the end of host that makes
// no difference to the request: the scheme's default (":80" for http,
// ":443" for https) or an empty one (":"); 0 when there is none.
func defaultPort(host, scheme string) int {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.IndexByte(host[i:], ']') >= 0 {
		return 0 // no port, or the colon is inside an IPv6 address
	}
	switch port := host[i+1:]; {
	case port == "",
		port == "80" && len(scheme) == len("http://"),
		port == "443" && len(scheme) == len("https://"):
		return len(host) - i
	}
	return 0
}

// sameFile is a local path as the file it names: "./a" and "a//b" are "a"
// and "a/b". A file URL is the path it names, as fetch reads it (with a
// host of "localhost" or none, as RFC 8089 allows, percent-decoded and
// without its #fragment), so that file:///a, file://localhost/a, file:/a
// and /a are one copy. A path with a ".." is kept as it is: after a
// symbolic link, ".." is not the lexical parent. Anything else is returned
// as it is.
func sameFile(item string) string {
	if item == "" {
		return item
	}
	if sch := scheme(item); sch != "" {
		p, ok := filePath(item, sch)
		if !ok {
			return item
		}
		item = p
	}
	if hasDotDot(item) {
		return item
	}
	return filepath.Clean(item)
}

// filePath returns the local path that the file URL s (whose scheme is
// sch) names; false for any other URL, or a file URL that cannot be read.
func filePath(s, sch string) (string, bool) {
	if !strings.EqualFold(sch, "file") {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Path == "" || u.Host != "" && !strings.EqualFold(u.Host, "localhost") {
		return "", false
	}
	return FilePath(u.Path), true
}

// hasDotDot reports whether the path p has a ".." segment.
func hasDotDot(p string) bool {
	for seg := range strings.FieldsFuncSeq(p, func(r rune) bool { return r == '/' || r == filepath.Separator }) {
		if seg == ".." {
			return true
		}
	}
	return false
}

// hasUpper reports whether s has an ASCII upper-case letter.
func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
