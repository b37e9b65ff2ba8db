package input

import (
	"errors"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	const hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		line string
		skip bool   // ok == false
		want Item   // URL, Name, SHA256 when err is nil; URL always
		err  error  // wanted sentinel, nil for a good item
		msg  string // substring of the error message
	}{
		{name: "empty", line: "", skip: true},
		{name: "blank", line: " \t \r", skip: true},
		{name: "comment", line: "# a comment", skip: true},
		{name: "indented comment", line: "   #http://example.com/", skip: true},
		{name: "comment with binary", line: "#\x00\xff", skip: true},
		{name: "plain", line: "https://example.com/a.txt", want: Item{URL: "https://example.com/a.txt"}},
		{name: "whitespace", line: "  \thttp://example.com/a \t ", want: Item{URL: "http://example.com/a"}},
		{name: "CRLF", line: "http://example.com/a\r\n", want: Item{URL: "http://example.com/a"}},
		{name: "hash inside", line: "http://example.com/a#frag", want: Item{URL: "http://example.com/a#frag"}},
		{name: "query and port", line: "http://127.0.0.1:8080/a?b=c&d=%20e", want: Item{URL: "http://127.0.0.1:8080/a?b=c&d=%20e"}},
		{name: "uppercase scheme", line: "HTTP://EXAMPLE.COM/A", want: Item{URL: "HTTP://EXAMPLE.COM/A"}},
		{name: "mixed case https", line: "hTTpS://example.com", want: Item{URL: "hTTpS://example.com"}},
		{name: "ipv6", line: "http://[::1]:8080/x", want: Item{URL: "http://[::1]:8080/x"}},
		{name: "userinfo", line: "https://u:p@example.com/x", want: Item{URL: "https://u:p@example.com/x"}},
		{name: "unicode path", line: "https://example.com/été.txt", want: Item{URL: "https://example.com/été.txt"}},
		{name: "space in path", line: "http://example.com/a b", want: Item{URL: "http://example.com/a b"}},
		{name: "tab name", line: "http://example.com/a\tb.txt", want: Item{URL: "http://example.com/a", Name: "b.txt"}},
		{name: "tab name trimmed", line: "http://example.com/a  \t  dir/b c.txt  ", want: Item{URL: "http://example.com/a", Name: "dir/b c.txt"}},
		{name: "tab name CRLF", line: "http://example.com/a\tb.txt\r", want: Item{URL: "http://example.com/a", Name: "b.txt"}},
		{name: "two tabs", line: "http://example.com/a\t\tb.txt", want: Item{URL: "http://example.com/a", Name: "b.txt"}},
		{name: "three fields", line: "http://example.com/a\tb\tc", want: Item{URL: "http://example.com/a\tb\tc"}, err: ErrTooManyFields},
		{name: "local relative", line: "./a", want: Item{URL: "./a"}},
		{name: "local absolute", line: "/abs/x", want: Item{URL: "/abs/x"}},
		{name: "local with colon", line: "a:b", want: Item{URL: "a:b"}},
		{name: "local drive-like", line: "c:/x", want: Item{URL: "c:/x"}},
		{name: "local with space", line: "my file.txt", want: Item{URL: "my file.txt"}},
		{name: "local tab name", line: "data/a.bin\tb.bin", want: Item{URL: "data/a.bin", Name: "b.bin"}},
		{name: "mailto is a path", line: "mailto:x@example.com", want: Item{URL: "mailto:x@example.com"}},
		{name: "file URL", line: "file:///x", want: Item{URL: "file:///x"}},
		{name: "file URL localhost", line: "file://localhost/x", want: Item{URL: "file://localhost/x"}},
		{name: "file URL one slash", line: "file:/x", want: Item{URL: "file:/x"}},
		{name: "FILE URL", line: "FILE:///X", want: Item{URL: "FILE:///X"}},
		{name: "file URL with host", line: "file://server/x", want: Item{URL: "file://server/x"}, err: ErrInvalidURL, msg: `host "server"`},
		{name: "file URL opaque", line: "file:x", want: Item{URL: "file:x"}, err: ErrInvalidURL, msg: "absolute path"},
		{name: "file URL empty", line: "file://", want: Item{URL: "file://"}, err: ErrInvalidURL, msg: "absolute path"},
		{name: "ftp", line: "ftp://example.com/x", want: Item{URL: "ftp://example.com/x"}, err: ErrUnsupportedScheme,
			msg: `unsupported scheme "ftp" (fetchpool fetches http, https and file URLs)`},
		{name: "FTP uppercase", line: "FTP://example.com/x", want: Item{URL: "FTP://example.com/x"}, err: ErrUnsupportedScheme, msg: `"ftp"`},
		{name: "s3", line: "s3://bucket/key", want: Item{URL: "s3://bucket/key"}, err: ErrUnsupportedScheme, msg: `"s3"`},
		{name: "http no host", line: "http://", want: Item{URL: "http://"}, err: ErrInvalidURL, msg: "no host"},
		{name: "http port only", line: "http://:80/x", want: Item{URL: "http://:80/x"}, err: ErrInvalidURL, msg: "no host"},
		{name: "http opaque", line: "http:example.com", want: Item{URL: "http:example.com"}, err: ErrInvalidURL, msg: "no host"},
		{name: "http bad ipv6", line: "http://[::1", want: Item{URL: "http://[::1"}, err: ErrInvalidURL, msg: "missing ']' in host"},
		{name: "http bad escape", line: "http://example.com/%zz", want: Item{URL: "http://example.com/%zz"}, err: ErrInvalidURL, msg: `invalid URL escape "%zz" (write a % that is part of the URL as %25)`},
		{name: "http bad port", line: "http://example.com:99999/", want: Item{URL: "http://example.com:99999/"}, err: ErrInvalidURL, msg: "port 99999"},
		{name: "http letters in port", line: "http://example.com:8x/", want: Item{URL: "http://example.com:8x/"}, err: ErrInvalidURL, msg: "port"},
		{name: "binary", line: "\x00\x01\x02http", want: Item{URL: `"\x00\x01\x02http"`}, err: ErrNotText, msg: "line is not valid text (binary data?)"},
		{name: "escape sequence", line: "http://example.com/\x1b[2J", want: Item{URL: `"http://example.com/\x1b[2J"`}, err: ErrNotText},
		{name: "invalid UTF-8", line: "http://example.com/\xff\xfe", want: Item{URL: `"http://example.com/\xff\xfe"`}, err: ErrNotText},
		{name: "C1 control", line: "http://example.com/\u0085x", want: Item{URL: `"http://example.com/\u0085x"`}, err: ErrNotText},
		{name: "DEL", line: "a\x7fb", want: Item{URL: `"a\x7fb"`}, err: ErrNotText},
		// The stand-in of a binary line is short, like that of an overlong
		// one: a binary file given with -i used to print each of its
		// "lines" whole, four times its size once escaped, on stderr.
		{name: "long binary", line: "\x00" + strings.Repeat("é", 60000), want: Item{URL: `"\x00` + strings.Repeat("é", 49) + `"...`}, err: ErrNotText},
		// A list with CR line endings (classic Mac OS) is one "line" of
		// text: the error says so, not "binary data".
		{name: "CR line endings", line: "http://example.com/a\rhttp://example.com/b\r", want: Item{URL: `"http://example.com/a\rhttp://example.com/b"`}, err: ErrNotText,
			msg: `holds a carriage return (CR) inside it: a list with CR line endings? Convert it with tr '\r' '\n' < LIST > NEW`},
		{name: "byte-order mark", line: "\ufeffhttp://example.com/a", want: Item{URL: "\ufeffhttp://example.com/a"}, err: ErrByteOrderMark,
			msg: "starts with an invisible byte-order mark (U+FEFF)"},
		{name: "byte-order mark after spaces", line: " \ufeff{\"url\": \"./a\"}", want: Item{URL: "\ufeff{\"url\": \"./a\"}"}, err: ErrByteOrderMark},

		{name: "json url", line: `{"url": "https://example.com/a"}`, want: Item{URL: "https://example.com/a"}},
		{name: "json all", line: `{"url":"https://example.com/a","output":"dir/b.txt","sha256":"` + strings.ToUpper(hex) + `"}`,
			want: Item{URL: "https://example.com/a", Name: "dir/b.txt", SHA256: hex}},
		{name: "json unknown keys", line: `{"url":"./a","size":3,"extra":{"x":[1,2]}}`, want: Item{URL: "./a"}},
		// A digest under another key would go unchecked without a word.
		{name: "json sha typo", line: `{"url":"./a","sha265":"` + hex + `"}`, want: Item{URL: `{"url":"./a","sha265":"` + hex + `"}`}, err: ErrInvalidJSON,
			msg: `"sha265" is not checked: fetchpool verifies only "sha256"`},
		// A line of --json output fed back: its "output" has the directory
		// in it (out/out/a), and a failed item's "sha256" is "".
		{name: "json result line", line: `{"url":"./a","output":"out/a","status":"ok","bytes":0,"size":0,"sha256":"","http_status":0,"attempts":1,"duration_ms":0,"error":""}`,
			want: Item{URL: `{"url":"./a","output":"out/a","status":"ok","bytes":0,"size":0,"sha256":"","http_status":0,"attempts":1,"duration_ms":0,"error":""}`}, err: ErrInvalidJSON, msg: "a line of --json output, not an item"},
		{name: "json status key alone", line: `{"url":"./a","status":"published"}`, want: Item{URL: "./a"}},
		{name: "json md5", line: `{"url":"./a","md5":"0123"}`, want: Item{URL: `{"url":"./a","md5":"0123"}`}, err: ErrInvalidJSON, msg: `"md5"`},
		{name: "json checksum", line: `{"url":"./a","Checksum":"x"}`, want: Item{URL: `{"url":"./a","Checksum":"x"}`}, err: ErrInvalidJSON, msg: `"Checksum"`},
		{name: "json sha512", line: `{"url":"./a","sha512":"x"}`, want: Item{URL: `{"url":"./a","sha512":"x"}`}, err: ErrInvalidJSON, msg: `"sha512"`},
		{name: "json hash", line: `{"hash":null,"url":"./a"}`, want: Item{URL: `{"hash":null,"url":"./a"}`}, err: ErrInvalidJSON, msg: `"hash"`},
		{name: "json digest", line: `{"url":"./a","digest":{"sha256":"x"}}`, want: Item{URL: `{"url":"./a","digest":{"sha256":"x"}}`}, err: ErrInvalidJSON, msg: `"digest"`},
		{name: "json sha256 any case", line: `{"url":"./a","SHA256":"` + hex + `"}`, want: Item{URL: "./a", SHA256: hex}},
		{name: "json sha-256", line: `{"url":"./a","sha-256":"` + hex + `"}`, want: Item{URL: `{"url":"./a","sha-256":"` + hex + `"}`}, err: ErrInvalidJSON, msg: `"sha-256"`},
		{name: "json keys that are no digest", line: `{"url":"./a","shared":true,"shape":1,"sha":"x","source":"crcx"}`, want: Item{URL: "./a"}},
		{name: "json nested digest key", line: `{"url":"./a","meta":{"md5":"x"}}`, want: Item{URL: "./a"}},
		// An output name under another key would be dropped without a
		// word, and the file named after its URL.
		{name: "json out", line: `{"url":"./a","out":"b.txt"}`, want: Item{URL: `{"url":"./a","out":"b.txt"}`}, err: ErrInvalidJSON,
			msg: `invalid JSON item: key "out" is not read: fetchpool takes a file's name only from "output"; rename the key to "output", or remove it to name the file after its URL`},
		{name: "json name", line: `{"name": "b.txt", "url": "./a"}`, want: Item{URL: `{"name": "b.txt", "url": "./a"}`}, err: ErrInvalidJSON, msg: `key "name" is not read`},
		{name: "json filename", line: `{"url":"./a","fileName":"b"}`, want: Item{URL: `{"url":"./a","fileName":"b"}`}, err: ErrInvalidJSON, msg: `key "fileName"`},
		{name: "json file_name", line: `{"url":"./a","file_name":"b"}`, want: Item{URL: `{"url":"./a","file_name":"b"}`}, err: ErrInvalidJSON, msg: `key "file_name"`},
		{name: "json path", line: `{"url":"./a","path":"b"}`, want: Item{URL: `{"url":"./a","path":"b"}`}, err: ErrInvalidJSON, msg: `key "path"`},
		{name: "json dest", line: `{"url":"./a","dest":"b"}`, want: Item{URL: `{"url":"./a","dest":"b"}`}, err: ErrInvalidJSON, msg: `key "dest"`},
		{name: "json file", line: `{"url":"./a","file":"b"}`, want: Item{URL: `{"url":"./a","file":"b"}`}, err: ErrInvalidJSON, msg: `key "file"`},
		{name: "json ouput typo", line: `{"url":"./a","ouput":"b"}`, want: Item{URL: `{"url":"./a","ouput":"b"}`}, err: ErrInvalidJSON, msg: `key "ouput"`},
		{name: "json output_path", line: `{"url":"./a","output_path":"b"}`, want: Item{URL: `{"url":"./a","output_path":"b"}`}, err: ErrInvalidJSON, msg: `key "output_path"`},
		{name: "json escaped out key", line: `{"url":"./a","\u006fut":"b"}`, want: Item{URL: `{"url":"./a","\u006fut":"b"}`}, err: ErrInvalidJSON, msg: `key "out"`},
		{name: "json Output any case", line: `{"url":"./a","Output":"b"}`, want: Item{URL: "./a", Name: "b"}},
		// With "output" given, another such key is the user's own data.
		{name: "json name beside output", line: `{"url":"./a","output":"b","name":"Release B","path":"x"}`, want: Item{URL: "./a", Name: "b"}},
		{name: "json nested name", line: `{"url":"./a","meta":{"name":"x","out":[1]}}`, want: Item{URL: "./a"}},
		{name: "json name as a value", line: `{"url":"./a","tag":"name","x":["out"]}`, want: Item{URL: "./a"}},
		{name: "json url with the words", line: `{"url":"file:///out/name/path"}`, want: Item{URL: "file:///out/name/path"}},
		{name: "json out after a backslash", line: `{"url":"./a","x":"a\\","out":"b"}`, want: Item{URL: `{"url":"./a","x":"a\\","out":"b"}`}, err: ErrInvalidJSON, msg: `key "out"`},
		{name: "json key with a quote", line: `{"url":"./a","x\"out":1,"source":"y"}`, want: Item{URL: "./a"}},
		{name: "json null optional", line: `{"url":"./a","output":null,"sha256":null}`, want: Item{URL: "./a"}},
		{name: "json tab whitespace", line: "{\"url\":\t\"./a\"}", want: Item{URL: "./a"}},
		{name: "json url trimmed", line: `{"url":"  ./a "}`, want: Item{URL: "./a"}},
		{name: "json name kept raw", line: `{"url":"./a","output":" x\ty "}`, want: Item{URL: "./a", Name: " x\ty "}},
		{name: "json hash url", line: `{"url":"#a"}`, want: Item{URL: "#a"}},
		{name: "json missing url", line: `{"output":"x"}`, want: Item{URL: `{"output":"x"}`}, err: ErrInvalidJSON, msg: `no "url"`},
		{name: "json uri", line: `{"uri":"./a"}`, want: Item{URL: `{"uri":"./a"}`}, err: ErrInvalidJSON, msg: `invalid JSON item: no "url" (key "uri" is not read: rename it to "url")`},
		{name: "json download_url", line: `{"name":"a","browser_download_url":"./a"}`, want: Item{URL: `{"name":"a","browser_download_url":"./a"}`}, err: ErrInvalidJSON, msg: `no "url" (key "browser_download_url" is not read`},
		{name: "json link", line: `{"Link":"./a","output":"b"}`, want: Item{URL: `{"Link":"./a","output":"b"}`}, err: ErrInvalidJSON, msg: `(key "Link" is not read`},
		{name: "json null url", line: `{"url":null}`, want: Item{URL: `{"url":null}`}, err: ErrInvalidJSON, msg: `no "url"`},
		{name: "json empty url", line: `{"url":""}`, want: Item{URL: `{"url":""}`}, err: ErrInvalidJSON, msg: `no "url"`},
		{name: "json url number", line: `{"url":5}`, want: Item{URL: `{"url":5}`}, err: ErrInvalidJSON, msg: `"url" must be a string, not number`},
		{name: "json output bool", line: `{"url":"./a","output":true}`, want: Item{URL: `{"url":"./a","output":true}`}, err: ErrInvalidJSON, msg: `"output" must be a string, not bool`},
		{name: "json sha array", line: `{"url":"./a","sha256":[]}`, want: Item{URL: `{"url":"./a","sha256":[]}`}, err: ErrInvalidJSON, msg: `"sha256" must be a string`},
		{name: "json empty output", line: `{"url":"./a","output":""}`, want: Item{URL: `{"url":"./a","output":""}`}, err: ErrInvalidJSON, msg: `"output" is empty`},
		{name: "json blank output", line: `{"url":"./a","output":"  "}`, want: Item{URL: `{"url":"./a","output":"  "}`}, err: ErrInvalidJSON, msg: `"output" is empty`},
		{name: "json syntax", line: `{"url":`, want: Item{URL: `{"url":`}, err: ErrInvalidJSON, msg: "unexpected end of JSON input"},
		{name: "json trailing", line: `{"url":"./a"} x`, want: Item{URL: `{"url":"./a"} x`}, err: ErrInvalidJSON},
		{name: "json ftp", line: `{"url":"ftp://h/x"}`, want: Item{URL: "ftp://h/x"}, err: ErrUnsupportedScheme},
		{name: "json no host", line: `{"url":"https://"}`, want: Item{URL: "https://"}, err: ErrInvalidURL},
		{name: "json control in url", line: `{"url":"./a\u0000b"}`, want: Item{URL: `{"url":"./a\u0000b"}`}, err: ErrInvalidJSON, msg: "control character"},
		{name: "json sha short", line: `{"url":"./a","sha256":"abc"}`, want: Item{URL: `{"url":"./a","sha256":"abc"}`}, err: ErrInvalidSHA256, msg: "got 3 characters"},
		{name: "json sha long", line: `{"url":"./a","sha256":"` + hex + `0"}`, want: Item{URL: `{"url":"./a","sha256":"` + hex + `0"}`}, err: ErrInvalidSHA256},
		{name: "json sha empty", line: `{"url":"./a","sha256":""}`, want: Item{URL: `{"url":"./a","sha256":""}`}, err: ErrInvalidSHA256},
		{name: "json sha not hex", line: `{"url":"./a","sha256":"` + hex[:63] + `g"}`, want: Item{URL: `{"url":"./a","sha256":"` + hex[:63] + `g"}`}, err: ErrInvalidSHA256, msg: "hexadecimal"},
		{name: "json array", line: `{"url":"./a"`, want: Item{URL: `{"url":"./a"`}, err: ErrInvalidJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, ok := ParseLine(tt.line)
			if ok == tt.skip {
				t.Fatalf("ParseLine(%q) ok = %v, want %v", tt.line, ok, !tt.skip)
			}
			if tt.skip {
				return
			}
			if tt.err == nil && it.Err != nil {
				t.Fatalf("ParseLine(%q) error %v, want none", tt.line, it.Err)
			}
			if tt.err != nil && !errors.Is(it.Err, tt.err) {
				t.Fatalf("ParseLine(%q) error %v, want %v", tt.line, it.Err, tt.err)
			}
			if tt.msg != "" && !strings.Contains(it.Err.Error(), tt.msg) {
				t.Errorf("ParseLine(%q) error %q, want it to contain %q", tt.line, it.Err, tt.msg)
			}
			it.Err = nil
			if it != tt.want {
				t.Errorf("ParseLine(%q) = %+v, want %+v", tt.line, it, tt.want)
			}
		})
	}
}

// TestSimpleHTTP checks which URLs take the fast path, and that url.Parse
// accepts every URL that the fast path accepts.
func TestSimpleHTTP(t *testing.T) {
	tests := []struct {
		url  string
		fast bool
	}{
		{"http://example.com", true},
		{"http://example.com:1", true},
		{"HTTPS://example.com:65535/x", true},
		{"http://a.b-c/%41?q=1&r=%2f;x#f%20", true},
		{"https://x?y", true},
		{"https://x#", true},
		{"http://example.com:65536/x", false},
		{"http://example.com:/x", false},
		{"http://x:0123456/", false},
		{"http://example.com/%4", false},
		{"http://example.com/%", false},
		{"http://x/?%zz", false},
		{"http://u@x/", false},
		{"http://[::1]/", false},
		{"http:///x", false},
		{"http:x", false},
		{"http://x/é", false},
		{"http://x/a b", false},
	}
	for _, tt := range tests {
		fast := simpleHTTP(tt.url, strings.IndexByte(tt.url, ':'))
		if fast != tt.fast {
			t.Errorf("simpleHTTP(%q) = %v, want %v", tt.url, fast, tt.fast)
		}
		if err := checkHTTP(tt.url); fast && err != nil {
			t.Errorf("simpleHTTP(%q) accepts a URL that url.Parse rejects: %v", tt.url, err)
		}
	}
}

func TestParseLineAllocs(t *testing.T) {
	for _, line := range []string{"https://example.com/some/path/file-1.tar.gz?x=1", "./local/file", "https://example.com/a\tname.txt"} {
		if n := testing.AllocsPerRun(100, func() { ParseLine(line) }); n != 0 {
			t.Errorf("ParseLine(%q) allocates %v times, want 0", line, n)
		}
	}
}

// TestMayNameDigest: the first look that spares a JSON line giving its
// "sha256" (and nothing else of the kind) the scan of its keys never
// spares a line with a key that names another digest.
func TestMayNameDigest(t *testing.T) {
	hex := strings.Repeat("0123456789abcdef", 4)
	for _, tt := range []struct {
		line string
		want bool
	}{
		{`{"url":"https://h/a.bin","sha256":"` + hex + `"}`, false},
		{`{"url":"https://h/a.bin","SHA256":"` + strings.ToUpper(hex) + `","output":"b"}`, false},
		{`{"url":"https://h/a.bin"}`, false},
		{`{"url":"https://h/a.bin","sha1":"x"}`, true},
		{`{"url":"https://h/sha256/a.bin","sha256":"` + hex + `","Sha-1":"x"}`, true},
		{`{"url":"https://h/a.bin","sha256":"` + hex + `","CRC32":"x"}`, true},
		{`{"url":"https://h/a.bin","BLAKE3":"x"}`, true},
		{`{"url":"https://h/a.bin","file_digest":"x"}`, true},
		{`{"url":"https://h/a.bin","MD5":"x"}`, true},
		{`{"url":"https://h/a.bin","sha256 ":"x"}`, true},
	} {
		if got := mayNameDigest(tt.line); got != tt.want {
			t.Errorf("mayNameDigest(%s) = %v, want %v", tt.line, got, tt.want)
		}
		if tt.want {
			if it, _ := ParseLine(tt.line); !errors.Is(it.Err, ErrInvalidJSON) {
				t.Errorf("ParseLine(%s): err %v, want ErrInvalidJSON", tt.line, it.Err)
			}
		}
	}
}

// TestParseJSONLineAllocs: a JSON line that gives its "sha256" costs about
// what the line without it costs: the look for a key naming another digest
// (strayDigestKey) decoded every such line a second time, key by key, 55
// allocations where the line takes 12.
func TestParseJSONLineAllocs(t *testing.T) {
	plain := `{"url":"https://example.com/data/part-000123.bin","output":"d/part-000123.bin"}`
	withSum := strings.TrimSuffix(plain, "}") + `,"sha256":"` + strings.Repeat("0123456789abcdef", 4) + `"}`
	base := testing.AllocsPerRun(100, func() { ParseLine(plain) })
	if n := testing.AllocsPerRun(100, func() { ParseLine(withSum) }); n > base+4 {
		t.Errorf("ParseLine of a JSON line with its sha256 allocates %v times, the line without it %v", n, base)
	}
}
