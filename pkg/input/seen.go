package input

import (
	"encoding/binary"
	"hash/maphash"
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
// that differ only in their #fragment (never sent) or in the case of their
// scheme and host are the same request, and so the same pair.
func (s *Seen) Add(url, output string) bool {
	url = sameRequest(url)
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
// fragment, with its scheme and host in lower case. Anything else (a local
// path may hold a '#') is returned as it is. It allocates only for a URL
// whose scheme or host has an upper-case letter.
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
	if !hasUpper(url[:schemeEnd]) && !hasUpper(url[hostStart:hostEnd]) {
		return url
	}
	return strings.ToLower(url[:schemeEnd]) + url[schemeEnd:hostStart] + strings.ToLower(url[hostStart:hostEnd]) + url[hostEnd:]
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
