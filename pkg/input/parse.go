package input

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLineLength is the longest input line, in bytes without its line ending,
// that the Reader accepts; a longer line becomes one failed item.
const MaxLineLength = 64 << 10

// Errors returned in Item.Err, each wrapped with the details of the line.
var (
	// ErrLineTooLong is returned for a line longer than MaxLineLength.
	ErrLineTooLong = fmt.Errorf("line is longer than %d bytes", MaxLineLength)
	// ErrNotText is returned for a line that is not valid UTF-8 or holds
	// control characters other than the TAB separator. For a command-line
	// argument the message says "argument" instead, and errors.Is still
	// finds ErrNotText.
	ErrNotText = errors.New("line is not valid text (binary data?)")
	// ErrByteOrderMark is returned for a line that starts with U+FEFF,
	// which is invisible: a list that starts with one has it dropped, so
	// one at the start of a line is most often a second list joined to the
	// first with cat, and the line would be taken for a local path.
	ErrByteOrderMark = errors.New("starts with an invisible byte-order mark (U+FEFF), as a file saved by a Windows editor does: remove it, or give each such list with -i, which drops it at the start of a list")
	// ErrEmptyItem is returned for a command-line argument that is empty or
	// all white space (a blank line of a list is skipped instead).
	ErrEmptyItem = errors.New("empty item")
	// ErrInvalidJSON is returned for a line starting with '{' that is not a
	// valid JSON item.
	ErrInvalidJSON = errors.New("invalid JSON item")
	// ErrTooManyFields is returned for a line with more than one TAB.
	ErrTooManyFields = errors.New("too many TAB-separated fields")
	// ErrUnsupportedScheme is returned for a URL whose scheme is not http,
	// https or file.
	ErrUnsupportedScheme = errors.New("unsupported scheme")
	// ErrInvalidURL is returned for an http, https or file URL that cannot be
	// fetched as written.
	ErrInvalidURL = errors.New("invalid URL")
	// ErrInvalidSHA256 is returned for a digest that is not 64 hex digits.
	ErrInvalidSHA256 = errors.New("invalid sha256")
)

// errArgNotText is ErrNotText worded for a command-line argument.
var errArgNotText error = reworded{"argument is not valid text (invalid UTF-8 or a control character)", ErrNotText}

// errCarriageReturn is ErrNotText for a line that is text but for a CR
// inside it: most likely a whole list with CR line endings (classic Mac OS,
// some exports), which reads as one line.
var errCarriageReturn error = reworded{`line holds a carriage return (CR) inside it: a list with CR line endings? Convert it with tr '\r' '\n' < LIST > NEW`, ErrNotText}

// reworded is an error with its own message that errors.Is still matches to
// err.
type reworded struct {
	msg string
	err error
}

func (e reworded) Error() string { return e.msg }
func (e reworded) Unwrap() error { return e.err }

// jsonItem is the JSON form of an input line. Pointers tell a missing key
// (or null) from an empty string.
type jsonItem struct {
	URL    *string `json:"url"`
	Output *string `json:"output"`
	SHA256 *string `json:"sha256"`
	// Status, Attempts and HTTPStatus are keys of a --json result line,
	// which is not an item: its "output" has the output directory in it
	// already, and its "sha256" is "" for a failed item.
	Status     json.RawMessage `json:"status"`
	Attempts   json.RawMessage `json:"attempts"`
	HTTPStatus json.RawMessage `json:"http_status"`
}

// isResult tells a line that --json wrote, by the keys that only a result
// line has together.
func (j *jsonItem) isResult() bool {
	return j.Status != nil && j.Attempts != nil && j.HTTPStatus != nil
}

// ParseLine parses one input line (or positional argument) into an item. ok
// is false for a blank line or a comment (a line starting with '#' after
// trimming). Problems are reported in it.Err, never as a panic; such an item
// still has URL set to the line's text (when the line is not valid text, the
// start of it, quoted) so that it can be reported. Source and Line are left
// for the caller.
//
// The forms of a line are:
//
//	URL                         the whole trimmed line is the URL
//	URL<TAB>NAME                an explicit output name (both trimmed)
//	{"url": ..., "output": ..., "sha256": ...}  a JSON object
//
// A JSON object must have a non-empty string "url"; "output" and "sha256"
// are optional strings (null counts as absent), unknown keys are ignored
// but for one that names another digest ("md5", "sha265", "checksum"),
// which is an error (its digest would go unchecked), and, in a line
// without "output", one that names the output file otherwise ("out",
// "name", "path"), which is an error too (the file would be named after
// its URL); any other type is an error. The error of a line without "url"
// names a key that gives the URL otherwise ("uri", "link", "download_url").
// "sha256" must be 64 hex digits and is returned in lower case. Names are
// kept as written; the naming package sanitizes them.
//
// A value has a scheme when it starts with a letter followed by letters,
// digits, '+', '-' or '.' and then ':', and either "//" follows the colon or
// the scheme is http, https or file (case-insensitively). Such a value must
// be an http or https URL with a host, or a file URL with an absolute path
// and no host other than localhost. Anything else ("./a", "/abs/x", "a:b")
// is a local path, which is not checked here.
func ParseLine(line string) (it Item, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return Item{}, false
	}
	if !isText(line, true) {
		err := ErrNotText
		if strings.IndexByte(line, '\r') >= 0 && isText(strings.ReplaceAll(line, "\r", ""), true) {
			err = errCarriageReturn
		}
		return Item{URL: quotedStart(line), Err: err}, true
	}
	if strings.HasPrefix(line, byteOrderMark) {
		return Item{URL: line, Err: ErrByteOrderMark}, true
	}
	if line[0] == '{' {
		return parseJSON(line), true
	}
	it.URL = line
	if tab := strings.IndexByte(line, '\t'); tab >= 0 {
		it.URL = strings.TrimSpace(line[:tab])
		it.Name = strings.TrimSpace(line[tab+1:])
		if strings.IndexByte(it.Name, '\t') >= 0 {
			it.URL = line
			it.Name = ""
			it.Err = fmt.Errorf("%w: want URL<TAB>NAME (use a JSON line for more)", ErrTooManyFields)
			return it, true
		}
	}
	it.Err = checkURL(it.URL)
	return it, true
}

// quotedStart is the stand-in URL of a line that is not text: the line
// quoted, or only its first longPrefix bytes (cut at a character boundary
// when there is one nearby) and "...", so that a binary file read as a list
// prints a short line per "line" of it, not the whole of each escaped.
func quotedStart(line string) string {
	if len(line) <= longPrefix {
		return strconv.Quote(line)
	}
	n := longPrefix
	for i := 0; i < utf8.UTFMax && n > 1 && !utf8.RuneStart(line[n]); i++ {
		n--
	}
	return strconv.Quote(line[:n]) + "..."
}

func parseJSON(line string) Item {
	it := Item{URL: line}
	var j jsonItem
	if err := json.Unmarshal([]byte(line), &j); err != nil {
		it.Err = jsonError(err)
		return it
	}
	if j.isResult() {
		it.Err = fmt.Errorf(`%w: this is a line of --json output, not an item (its "output" already has the output directory in it); to fetch the failed items again, run with --failed FILE and give FILE to -i, or keep just the URL: jq -c '{url}'`, ErrInvalidJSON)
		return it
	}
	if key := strayDigestKey(line); key != "" {
		it.Err = fmt.Errorf(`%w: key %q is not checked: fetchpool verifies only "sha256" (64 hex digits); give the SHA-256 so, or remove the key`, ErrInvalidJSON, key)
		return it
	}
	if j.URL == nil || strings.TrimSpace(*j.URL) == "" {
		it.Err = fmt.Errorf(`%w: no "url"`, ErrInvalidJSON)
		if key := strayKey(line, urlKey); key != "" && j.URL == nil {
			it.Err = fmt.Errorf(`%w: no "url" (key %q is not read: rename it to "url")`, ErrInvalidJSON, key)
		}
		return it
	}
	if j.Output == nil {
		if key := strayKey(line, outputKey); key != "" {
			it.Err = fmt.Errorf(`%w: key %q is not read: fetchpool takes a file's name only from "output"; rename the key to "output", or remove it to name the file after its URL`, ErrInvalidJSON, key)
			return it
		}
	}
	u := strings.TrimSpace(*j.URL)
	if !isText(u, false) {
		it.Err = fmt.Errorf(`%w: "url" contains a control character`, ErrInvalidJSON)
		return it
	}
	if err := checkURL(u); err != nil {
		it.URL = u
		it.Err = err
		return it
	}
	if j.Output != nil && strings.TrimSpace(*j.Output) == "" {
		it.Err = fmt.Errorf(`%w: "output" is empty (leave it out to name the file from the URL)`, ErrInvalidJSON)
		return it
	}
	var sum string
	if j.SHA256 != nil {
		var err error
		if sum, err = ParseSHA256(*j.SHA256); err != nil {
			it.Err = err
			return it
		}
	}
	it.URL = u
	if j.Output != nil {
		it.Name = *j.Output
	}
	it.SHA256 = sum
	return it
}

// strayDigestKey returns the first top-level key of the JSON object line,
// which decodes, that names a digest (digestKey) but is not "sha256" (in
// any case, as encoding/json matches it): "sha265", "md5", "checksum".
// Other unknown keys are ignored, but a digest under one of these would go
// unchecked without a word. Only a line that may hold such a key is
// scanned (mayNameDigest): the scan would triple the cost of every line
// that gives its "sha256".
func strayDigestKey(line string) string {
	if !mayNameDigest(line) {
		return ""
	}
	dec := json.NewDecoder(strings.NewReader(line))
	if _, err := dec.Token(); err != nil {
		return ""
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return ""
		}
		if !strings.EqualFold(key, "sha256") && digestKey(key) {
			return key
		}
	}
	return ""
}

// mayNameDigest tells whether line holds one of the words that a key
// naming a digest holds (digestKey: "sha", "md5", "hash", "checksum",
// "digest", "crc", "blake"), in any case, other than as the "sha" of a
// "sha256" key: a line that does not cannot have a key naming another
// digest. No hex digest holds one of the words (each has a letter past f).
// It allocates nothing.
func mayNameDigest(line string) bool {
	shas, keys := 0, 0 // "sha" anywhere, and "sha256" keys
	for i := 0; i < len(line); i++ {
		rest := line[i:]
		switch line[i] | 0x20 { // ASCII lower case, for a first look
		case 's':
			if hasPrefixFold(rest, "sha") {
				shas++
				if i > 0 && line[i-1] == '"' && hasPrefixFold(rest, `sha256"`) {
					keys++
				}
			}
		case 'm':
			if hasPrefixFold(rest, "md5") {
				return true
			}
		case 'h':
			if hasPrefixFold(rest, "hash") {
				return true
			}
		case 'c':
			if hasPrefixFold(rest, "checksum") || hasPrefixFold(rest, "crc") {
				return true
			}
		case 'd':
			if hasPrefixFold(rest, "digest") {
				return true
			}
		case 'b':
			if hasPrefixFold(rest, "blake") {
				return true
			}
		}
	}
	return shas > keys
}

// hasPrefixFold is strings.HasPrefix under Unicode case folding.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// digestKey reports whether a JSON key names a digest: "sha" and a number
// ("sha1", "sha-512", "SHA_256"), "crc…", "blake…", or a key holding "md5",
// "hash", "checksum" or "digest". Not "sha" alone, "shared" or "shape".
func digestKey(key string) bool {
	k := normalKey(key)
	if strings.HasPrefix(k, "sha") {
		return len(k) > 3 && '0' <= k[3] && k[3] <= '9'
	}
	for _, w := range []string{"md5", "hash", "checksum", "digest"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return strings.HasPrefix(k, "crc") || strings.HasPrefix(k, "blake")
}

// strayKey returns the first top-level key of the JSON object line, which
// decodes, for which match is true: in a line without "output", one that
// names an output file under another name (outputKey: "out" as aria2c's
// input files write it, "name", "filename", "path", "dest", "file"), and
// in one without "url", one that names the URL otherwise (urlKey). Other
// unknown keys are ignored, but the file would be named after its URL, or
// the line fail as one without a URL, without a word. It reads the keys
// where they are, without decoding the line again, and allocates nothing
// for a key in lower case. Only a line without "output" is read so: the
// common line, which has one, pays nothing.
func strayKey(line string, match func(key string) bool) string {
	depth := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			start := i + 1
			end := closingQuote(line, start)
			if end < 0 {
				return ""
			}
			i = end
			if depth != 1 || !followedByColon(line, i+1) {
				continue // a value, or a key of a nested object
			}
			key := line[start:i]
			if strings.IndexByte(key, '\\') >= 0 {
				key = unquoteKey(line[start-1 : i+1])
			}
			if match(key) {
				return key
			}
		}
	}
	return ""
}

// closingQuote returns the index of the '"' that ends the JSON string
// whose text starts at start, -1 when there is none. It jumps from quote
// to quote: most of a line is its values' long strings.
func closingQuote(line string, start int) int {
	for i := start; i < len(line); {
		q := strings.IndexByte(line[i:], '"')
		if q < 0 {
			return -1
		}
		i += q
		backslashes := 0
		for j := i - 1; j >= start && line[j] == '\\'; j-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return i
		}
		i++
	}
	return -1
}

// unquoteKey decodes a JSON string with escapes in it, quotes included;
// "" when it does not decode. (Apart from strayKey, so that the
// address it takes makes no key there escape to the heap.)
func unquoteKey(quoted string) string {
	var key string
	if err := json.Unmarshal([]byte(quoted), &key); err != nil {
		return ""
	}
	return key
}

// followedByColon reports whether line, from i on, is white space and then
// ':': the string before i is an object's key.
func followedByColon(line string, i int) bool {
	for ; i < len(line); i++ {
		switch line[i] {
		case ' ', '\t', '\r', '\n':
		case ':':
			return true
		default:
			return false
		}
	}
	return false
}

// outputKeys are the keys other than "output" that people give a file's
// name under, letters and digits only, in lower case (see outputKey).
var outputKeys = map[string]bool{
	"name": true, "filename": true, "fname": true, "file": true, "filepath": true,
	"path": true, "dest": true, "destination": true, "target": true,
	"save": true, "saveas": true, "saveto": true, "savepath": true,
	"localpath": true, "localname": true,
}

// outputKey reports whether a JSON key names an output file but is not
// "output" (in any case, as encoding/json matches it): a key that starts
// with "ou" ("out", "outfile", "output_path", "ouput"), or one of
// outputKeys ("name", "file_name", "Path", "dest"). Not "url" or "sha256".
func outputKey(key string) bool {
	// A first look at the first letter or digit, which "url" and most
	// keys fail, spares them the work below.
	i := 0
	for i < len(key) && !isAlpha(key[i]) && !('0' <= key[i] && key[i] <= '9') && key[i] < utf8.RuneSelf {
		i++
	}
	if i == len(key) || strings.IndexByte("onfpdtsl", key[i]|0x20) < 0 {
		return false
	}
	if strings.EqualFold(key, "output") || strings.EqualFold(key, "sha256") {
		return false
	}
	k := normalKey(key)
	return strings.HasPrefix(k, "ou") || outputKeys[k]
}

// urlKey reports whether a JSON key names an item's URL but is not "url"
// (in any case): "uri", "link", "href", "src", "source", or one that ends
// in "url" ("download_url", "fileUrl").
func urlKey(key string) bool {
	if strings.EqualFold(key, "url") {
		return false
	}
	switch k := normalKey(key); k {
	case "uri", "link", "href", "src", "source":
		return true
	default:
		return strings.HasSuffix(k, "url")
	}
}

// normalKey is a JSON key in lower case, with only its letters and digits.
func normalKey(key string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return r
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		}
		return -1
	}, key)
}

// jsonError rewords a decoding error for a person who wrote the line.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			return fmt.Errorf("%w: want an object, not %s", ErrInvalidJSON, te.Value)
		}
		return fmt.Errorf("%w: %q must be a string, not %s", ErrInvalidJSON, field, te.Value)
	}
	return fmt.Errorf(`%w: %v (want {"url": "...", "output": "...", "sha256": "..."})`,
		ErrInvalidJSON, strings.TrimPrefix(err.Error(), "json: "))
}

// ParseSHA256 checks a hex SHA-256 digest (64 hexadecimal digits, either
// case) and returns it in lower case; its error wraps ErrInvalidSHA256.
func ParseSHA256(s string) (string, error) {
	if len(s) != 64 {
		return "", fmt.Errorf("%w %q: want 64 hexadecimal digits, got %d characters%s",
			ErrInvalidSHA256, s, utf8.RuneCountInString(s), sha256Hint(s))
	}
	lower := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			lower = false
		default:
			return "", fmt.Errorf("%w %q: want 64 hexadecimal digits%s", ErrInvalidSHA256, s, sha256Hint(s))
		}
	}
	if lower {
		return s, nil
	}
	return strings.ToLower(s), nil
}

// sha256Hint says what is wrong with a digest that is not 64 hexadecimal
// digits, where it can tell: a "sha256:" prefix (as GitHub and OCI write
// digests), a sha256sum line pasted whole, or another hash's length.
func sha256Hint(s string) string {
	if len(s) > 7 && strings.EqualFold(s[:7], "sha256:") || len(s) > 7 && strings.EqualFold(s[:7], "sha256=") {
		return " (give it without the " + strconv.Quote(s[:7]) + " prefix)"
	}
	if len(s) > 64 && allHex(s[:64]) && (s[64] == ' ' || s[64] == '\t') {
		return " (give the digest alone, without what follows it)"
	}
	if allHex(s) {
		switch len(s) {
		case 32:
			return " (that is the length of an MD5 digest, not a SHA-256)"
		case 40:
			return " (that is the length of a SHA-1 digest, not a SHA-256)"
		case 128:
			return " (that is the length of a SHA-512 digest, not a SHA-256)"
		}
	}
	return ""
}

// allHex reports whether s is made of hexadecimal digits only.
func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// scheme returns the scheme of s by the rule in ParseLine's comment, or ""
// when s is a local path.
func scheme(s string) string {
	if s == "" || !isAlpha(s[0]) {
		return ""
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlpha(c), '0' <= c && c <= '9', c == '+', c == '-', c == '.':
			continue
		case c != ':':
			return ""
		}
		sch := s[:i]
		if strings.HasPrefix(s[i+1:], "//") || isHTTP(sch) || strings.EqualFold(sch, "file") {
			return sch
		}
		return ""
	}
	return ""
}

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func isHTTP(sch string) bool {
	return strings.EqualFold(sch, "http") || strings.EqualFold(sch, "https")
}

// checkURL validates s as an item: nil for a local path or a fetchable URL.
func checkURL(s string) error {
	sch := scheme(s)
	switch {
	case sch == "":
		return nil
	case isHTTP(sch):
		if simpleHTTP(s, len(sch)) {
			return nil
		}
		return checkHTTP(s)
	case strings.EqualFold(sch, "file"):
		return checkFile(s)
	}
	return fmt.Errorf("%w %q (fetchpool fetches http, https and file URLs)",
		ErrUnsupportedScheme, strings.ToLower(sch))
}

func parseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var ee url.EscapeError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("%w: %v (write a %% that is part of the URL as %%25)", ErrInvalidURL, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	return u, nil
}

func checkHTTP(s string) error {
	u, err := parseURL(s)
	if err != nil {
		return err
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: no host (want %s://HOST/PATH)", ErrInvalidURL, strings.ToLower(u.Scheme))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n > 65535 {
			return fmt.Errorf("%w: port %s is out of range", ErrInvalidURL, p)
		}
	}
	return nil
}

func checkFile(s string) error {
	u, err := parseURL(s)
	if err != nil {
		return err
	}
	if u.Opaque != "" || u.Path == "" {
		return fmt.Errorf("%w: a file URL needs an absolute path (want file:///PATH)", ErrInvalidURL)
	}
	if u.Host != "" && !strings.EqualFold(u.Host, "localhost") {
		return fmt.Errorf("%w: file URL names host %q; only local files can be read (want file:///PATH)",
			ErrInvalidURL, u.Host)
	}
	return nil
}

// simpleHTTP reports whether s, an http(s) URL whose scheme is n bytes long,
// has the common shape "scheme://host[:port][/path][?query][#fragment]" with
// only plain characters, so that url.Parse would accept it with a host. It
// lets ParseLine skip url.Parse, which allocates, on almost every line; any
// other URL goes to url.Parse.
func simpleHTTP(s string, n int) bool {
	if !strings.HasPrefix(s[n:], "://") {
		return false
	}
	s = s[n+3:]
	i := 0
	for i < len(s) && isHostByte(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	if i < len(s) && s[i] == ':' {
		j := i + 1
		port := 0
		for j < len(s) && '0' <= s[j] && s[j] <= '9' && j-i <= 5 {
			port = port*10 + int(s[j]-'0')
			j++
		}
		if j == i+1 || port > 65535 {
			return false
		}
		i = j
	}
	if i < len(s) && s[i] != '/' && s[i] != '?' && s[i] != '#' {
		return false
	}
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case urlBytes[c]:
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

// urlBytes marks the bytes that simpleHTTP accepts after the host: letters,
// digits and the URL punctuation that needs no escaping.
var urlBytes = func() (t [256]bool) {
	for c := range 256 {
		t[c] = isHostByte(byte(c)) || strings.IndexByte("/?#_~!$&'()*+,;=:@", byte(c)) >= 0
	}
	return t
}()

func isHostByte(c byte) bool {
	return isAlpha(c) || '0' <= c && c <= '9' || c == '.' || c == '-'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}

// isText reports whether s is valid UTF-8 without control characters (C0,
// DEL or C1); a TAB is allowed when tab is true.
func isText(s string, tab bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && (c != '\t' || !tab) || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || 0x80 <= r && r <= 0x9f {
			return false
		}
		i += size
	}
	return true
}
