package fetch

import (
	"fmt"
	"os"
	"strings"
)

// netrc holds the credentials of a netrc file.
type netrc struct {
	machines map[string]login // by lowercased host name
	def      *login           // the "default" entry
}

type login struct{ user, password string }

// lookup returns the credentials for host (a host name, no port): its
// machine entry, else the default entry.
func (n netrc) lookup(host string) (user, password string, ok bool) {
	if l, found := n.machines[strings.ToLower(host)]; found {
		return l.user, l.password, true
	}
	if n.def != nil {
		return n.def.user, n.def.password, true
	}
	return "", "", false
}

// readNetrc reads and parses a netrc file.
func readNetrc(path string) (netrc, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return netrc{}, fmt.Errorf("cannot read netrc file %s: %w", path, withoutPath(err))
	}
	return parseNetrc(string(data)), nil
}

// parseNetrc parses netrc text: "machine NAME login USER password PASS"
// entries and one "default" entry, in any layout of whitespace; "account"
// is ignored and "macdef" bodies (up to a blank line) are skipped. Values
// may be double-quoted with backslash escapes, as curl allows. Of two
// entries for the same machine the first wins; an entry with neither login
// nor password is dropped. It never fails: what it cannot read it skips.
func parseNetrc(text string) netrc {
	n := netrc{machines: map[string]login{}}
	var (
		cur       login
		host      string
		isDefault bool
		inEntry   bool
	)
	flush := func() {
		if !inEntry || (cur.user == "" && cur.password == "") {
			return
		}
		if isDefault {
			if n.def == nil {
				l := cur
				n.def = &l
			}
		} else if _, dup := n.machines[host]; !dup {
			n.machines[host] = cur
		}
	}
	s := netrcScanner{text: text}
	for {
		tok, ok := s.next()
		if !ok {
			break
		}
		switch tok {
		case "machine":
			flush()
			name, _ := s.next()
			cur, host, isDefault, inEntry = login{}, strings.ToLower(name), false, true
		case "default":
			flush()
			cur, host, isDefault, inEntry = login{}, "", true, true
		case "login":
			cur.user, _ = s.next()
		case "password":
			cur.password, _ = s.next()
		case "account":
			s.next()
		case "macdef":
			flush()
			inEntry = false
			s.skipMacro()
		}
	}
	flush()
	return n
}

// netrcScanner splits netrc text into tokens.
type netrcScanner struct {
	text string
	pos  int
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v'
}

// next returns the next token, unquoting a double-quoted one.
func (s *netrcScanner) next() (string, bool) {
	for s.pos < len(s.text) && isSpace(s.text[s.pos]) {
		s.pos++
	}
	if s.pos >= len(s.text) {
		return "", false
	}
	if s.text[s.pos] == '"' {
		return s.quoted(), true
	}
	start := s.pos
	for s.pos < len(s.text) && !isSpace(s.text[s.pos]) {
		s.pos++
	}
	return s.text[start:s.pos], true
}

// quoted reads a double-quoted token; an unterminated one runs to the end.
func (s *netrcScanner) quoted() string {
	s.pos++ // opening quote
	var b strings.Builder
	for s.pos < len(s.text) {
		c := s.text[s.pos]
		s.pos++
		switch {
		case c == '"':
			return b.String()
		case c == '\\' && s.pos < len(s.text):
			b.WriteByte(s.text[s.pos])
			s.pos++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// skipMacro skips a macdef: the rest of its line, then up to and including
// the first empty line.
func (s *netrcScanner) skipMacro() {
	i := strings.Index(s.text[s.pos:], "\n\n")
	if i < 0 {
		s.pos = len(s.text)
		return
	}
	s.pos += i + 2
}
