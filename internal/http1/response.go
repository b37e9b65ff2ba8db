package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// readPlain reads the most common response there is — an HTTP/1.1 2xx to a
// GET, with one Content-Length, no Transfer-Encoding, and the whole header
// already in br's buffer — giving the same *http.Response that
// http.ReadResponse would. It allocates one string for the whole header
// and slices keys and values out of it, where http.ReadResponse allocates
// a string per line, a reader and a transfer decoder: half the allocations
// and about a third less time per response (BenchmarkReadResponse), on a
// step that was some 7 % of the client's CPU on a run of small files.
//
// Anything else, or anything unusual in such a response (a folded line, a
// control character, two Content-Lengths, Connection: close, Pragma,
// Trailer), it leaves unread and returns nil, so that http.ReadResponse
// reads it and decides: this parser only ever accepts a subset of what
// http.ReadResponse accepts, with the same result (FuzzReadPlain checks
// it).
func readPlain(br *bufio.Reader, req *http.Request) *http.Response {
	if req.Method != http.MethodGet {
		return nil
	}
	buf, _ := br.Peek(br.Buffered())
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		return nil
	}
	block := string(buf[:end+2]) // every line with its CRLF
	status, rest, _ := strings.Cut(block, "\r\n")
	// "HTTP/1.1 200 OK": the protocol, a 2xx code but 204, a reason.
	if len(status) < len("HTTP/1.1 200") || status[:9] != "HTTP/1.1 " || status[9] != '2' ||
		!isDigit(status[10]) || !isDigit(status[11]) || status[9:12] == "204" ||
		(len(status) > 12 && status[12] != ' ') || !plainText(status) {
		return nil
	}
	code := 200 + int(status[10]-'0')*10 + int(status[11]-'0')
	lines := strings.Count(rest, "\r\n")
	header := make(http.Header, lines)
	values := make([]string, lines) // one backing array for every value
	length := int64(-1)
	for i := 0; rest != ""; i++ {
		var line string
		line, rest, _ = strings.Cut(rest, "\r\n")
		key, value, ok := strings.Cut(line, ":")
		if !ok || !plainText(value) {
			return nil
		}
		switch canonical(key) {
		case keyInvalid:
			return nil
		case keyOther:
			key = textproto.CanonicalMIMEHeaderKey(key)
		}
		value = trimSpace(value)
		switch key {
		case "Content-Length":
			if length >= 0 {
				return nil // several: http.ReadResponse checks that they agree
			}
			n, err := strconv.ParseUint(value, 10, 63)
			if err != nil {
				return nil
			}
			length = int64(n)
		case "Transfer-Encoding", "Trailer", "Pragma":
			return nil
		case "Connection":
			if hasToken(value, "close") {
				return nil // http.ReadResponse also drops the header
			}
		}
		values[i] = value
		if vs := header[key]; vs != nil {
			header[key] = append(vs, value)
		} else {
			header[key] = values[i : i+1 : i+1]
		}
	}
	if length < 0 {
		return nil
	}
	if _, err := br.Discard(end + 4); err != nil {
		return nil // cannot happen: the bytes are buffered
	}
	resp := &http.Response{
		Status:        status[9:],
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		ContentLength: length,
		Request:       req,
		Body:          http.NoBody,
	}
	if length > 0 {
		resp.Body = &fixedBody{r: br, n: length}
	}
	return resp
}

// Kinds of header name.
const (
	keyCanonical = iota // a token in canonical form, as servers send most
	keyOther            // a token that textproto.CanonicalMIMEHeaderKey changes
	keyInvalid          // not a token
)

// canonical tells whether key is a token, and whether it is in the form
// textproto.CanonicalMIMEHeaderKey gives (an upper-case letter first and
// after each '-', lower-case elsewhere), in one pass.
func canonical(key string) int {
	if key == "" {
		return keyInvalid
	}
	kind, upper := keyCanonical, true
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case !tokenByte[c]:
			return keyInvalid
		case upper && 'a' <= c && c <= 'z', !upper && 'A' <= c && c <= 'Z':
			kind = keyOther
		}
		upper = c == '-'
	}
	return kind
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// trimSpace trims spaces and tabs, the whitespace around a header value.
func trimSpace(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// hasToken tells whether the comma-separated list v holds token, in any
// case.
func hasToken(v, token string) bool {
	for part := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(trimSpace(part), token) {
			return true
		}
	}
	return false
}

// fixedBody is a body of a known length, read like net/http reads one:
// io.EOF with its last bytes, io.ErrUnexpectedEOF if the connection ends
// first.
type fixedBody struct {
	r io.Reader
	n int64 // left to read
}

func (b *fixedBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	switch {
	case err == io.EOF && b.n > 0:
		err = io.ErrUnexpectedEOF
	case err == nil && b.n == 0:
		err = io.EOF
	}
	return n, err
}

// Close is never called: the body wrapper closes the connection instead.
func (b *fixedBody) Close() error { return nil }
