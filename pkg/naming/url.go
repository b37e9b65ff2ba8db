package naming

import (
	"net"
	"net/url"
	"path/filepath"
	"strings"
)

// DefaultName is the name of a resource whose URL names no file: a path that
// is empty or ends in "/".
const DefaultName = "index.html"

// FromURL names a file from the last segment of the URL's path, percent-decoded
// and sanitized. An encoded slash ("%2F") is part of the segment, so it never
// makes a directory. The query and fragment are never used. A path that is
// empty, ends in "/" or ends in a "." or ".." segment (also when encoded as
// "%2e") names a directory, so the file is DefaultName.
func FromURL(u *url.URL) string {
	if u == nil {
		return DefaultName
	}
	p := u.EscapedPath()
	seg := unescape(p[strings.LastIndexByte(p, '/')+1:])
	if seg == "" || seg == "." || seg == ".." {
		return DefaultName
	}
	return Sanitize(seg)
}

// unescape percent-decodes s; a malformed escape is kept literally rather
// than losing the whole name.
func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// KeepPath maps a URL to HOST/URL-PATH, relative and joined with the OS
// separator, for saving under the output directory with --keep-paths.
//
// HOST is the URL's host name in lower case, with "_PORT" appended when the
// URL gives a port other than its scheme's default ("example.com_8080"),
// on every platform so that one list makes the same tree everywhere; the
// colons of an IPv6 address become '_' as well ("[::1]:80" is "__1_80"). A URL without a host (file:///x) uses
// "localhost". The path is split on "/" and each segment percent-decoded and
// sanitized; empty and "." segments are dropped and ".." removes the segment
// before it but never the host, as a server would resolve it. A path that is
// empty or ends in "/" (or in "." or "..") gets DefaultName as its last
// element. The query is never used.
func KeepPath(u *url.URL) string {
	if u == nil {
		return filepath.Join("localhost", DefaultName)
	}
	segs := []string{hostDir(u)}
	p := u.EscapedPath()
	dir := true
	for raw := range strings.SplitSeq(p, "/") {
		seg := unescape(raw)
		switch seg {
		case "", ".":
			dir = true
		case "..":
			if len(segs) > 1 {
				segs = segs[:len(segs)-1]
			}
			dir = true
		default:
			segs = append(segs, Sanitize(seg))
			dir = false
		}
	}
	if dir {
		segs = append(segs, DefaultName)
	}
	return filepath.Join(segs...)
}

// hostDir is the directory named after the URL's host and port.
func hostDir(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if host == "" {
		host = "localhost"
	}
	if port := u.Port(); port != "" && !defaultPort(u.Scheme, port) {
		host = net.JoinHostPort(host, port)
	}
	return Sanitize(strings.Map(hostRune, host))
}

// defaultPort reports whether port is the scheme's own (80 for http, 443
// for https): https://example.com:443/x is the same request as
// https://example.com/x, which the run fetches once, and lands in the same
// directory, as wget -x puts it.
func defaultPort(scheme, port string) bool {
	switch strings.ToLower(scheme) {
	case "http":
		return port == "80"
	case "https":
		return port == "443"
	}
	return false
}

// hostRune drops the brackets of an IPv6 literal and turns the colons of
// the address and port into '_'.
func hostRune(r rune) rune {
	switch r {
	case '[', ']':
		return -1
	case ':':
		return '_'
	}
	return r
}
