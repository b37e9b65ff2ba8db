package input

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf16"
)

// readAll drains r and returns the items and the error that ended it.
func readAll(t *testing.T, r *Reader) ([]Item, error) {
	t.Helper()
	var items []Item
	for i := 0; ; i++ {
		if i > 1e6 {
			t.Fatal("Reader does not end")
		}
		it, err := r.Next()
		if err != nil {
			return items, err
		}
		items = append(items, it)
	}
}

func TestReader(t *testing.T) {
	args := []string{"http://example.com/a", "", "#an argument is an item", "ftp://x/y", "./local"}
	sources := []Source{
		{Name: "urls.txt", R: strings.NewReader("# header\n\nhttp://example.com/b\thb.txt\r\nhttp://[::1\n\n")},
		{Name: "empty.txt", R: strings.NewReader("")},
		{Name: "more.txt", R: strings.NewReader(`{"url": "http://example.com/c", "output": "c.txt"}` + "\n  \t\n/abs/d")},
		{Name: "-", R: strings.NewReader("\r\nhttp://example.com/e\r\n")},
	}
	want := []struct {
		where string
		url   string
		name  string
		err   error
	}{
		{"arg 1", "http://example.com/a", "", nil},
		{"arg 2", "", "", ErrEmptyItem},
		{"arg 3", "#an argument is an item", "", nil},
		{"arg 4", "ftp://x/y", "", ErrUnsupportedScheme},
		{"arg 5", "./local", "", nil},
		{"urls.txt:3", "http://example.com/b", "hb.txt", nil},
		{"urls.txt:4", "http://[::1", "", ErrInvalidURL},
		{"more.txt:1", "http://example.com/c", "c.txt", nil},
		{"more.txt:3", "/abs/d", "", nil},
		{"-:2", "http://example.com/e", "", nil},
	}
	items, err := readAll(t, NewReader(args, sources))
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Next ended with %v, want io.EOF", err)
	}
	if len(items) != len(want) {
		t.Fatalf("got %d items, want %d: %+v", len(items), len(want), items)
	}
	for i, w := range want {
		it := items[i]
		if it.Where() != w.where || it.URL != w.url || it.Name != w.name || !errors.Is(it.Err, w.err) || (w.err == nil) != (it.Err == nil) {
			t.Errorf("item %d = %s %q %q %v, want %s %q %q %v", i, it.Where(), it.URL, it.Name, it.Err, w.where, w.url, w.name, w.err)
		}
	}
	if _, err := NewReader(args, sources).Next(); err != nil {
		t.Errorf("a second Reader: %v", err)
	}
}

// TestReaderByteOrderMark checks that one U+FEFF at the very start of a
// file or of standard input is dropped, and kept anywhere else: there, at
// the start of a line, it fails the item with ErrByteOrderMark.
func TestReaderByteOrderMark(t *testing.T) {
	const bom = "\ufeff"
	tests := []struct {
		name  string
		input string
		want  []string // Where=URL<TAB>Name of each item; "!" marks an error
	}{
		{"URL line", bom + "http://h/1\nhttp://h/2\n", []string{"f:1=http://h/1", "f:2=http://h/2"}},
		{"URL line with CR LF", bom + "http://h/1\r\n", []string{"f:1=http://h/1"}},
		{"comment line", bom + "# list\nhttp://h/2\n", []string{"f:2=http://h/2"}},
		{"blank first line", bom + "\nhttp://h/2", []string{"f:2=http://h/2"}},
		{"JSON line", bom + `{"url": "http://h/1", "output": "one.txt"}`, []string{"f:1=http://h/1\tone.txt"}},
		{"TAB line", bom + "http://h/1\tone.txt", []string{"f:1=http://h/1\tone.txt"}},
		{"only a mark", bom, nil},
		{"only one mark", bom + bom + "http://h/1", []string{"!f:1=" + bom + "http://h/1"}},
		{"not on line 2", "http://h/1\n" + bom + "http://h/2", []string{"f:1=http://h/1", "!f:2=" + bom + "http://h/2"}},
		{"not inside a line", "http://h/1" + bom + "\n", []string{"f:1=http://h/1" + bom}},
	}
	for _, tt := range tests {
		for _, src := range []string{"f", "-"} {
			t.Run(tt.name+" in "+src, func(t *testing.T) {
				items, err := readAll(t, NewReader(nil, []Source{{Name: src, R: strings.NewReader(tt.input)}}))
				if !errors.Is(err, io.EOF) {
					t.Fatalf("Next ended with %v, want io.EOF", err)
				}
				var got []string
				for _, it := range items {
					s := it.Where() + "=" + it.URL
					if it.Name != "" {
						s += "\t" + it.Name
					}
					if it.Err != nil {
						s = "!" + s
					}
					got = append(got, s)
				}
				want := make([]string, len(tt.want))
				for i, w := range tt.want {
					want[i] = strings.Replace(w, "f:", src+":", 1)
				}
				if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
					t.Errorf("items %q, want %q", got, want)
				}
			})
		}
	}
	t.Run("every source", func(t *testing.T) {
		items, _ := readAll(t, NewReader(nil, []Source{
			{Name: "a", R: strings.NewReader(bom + "http://h/1\n")},
			{Name: "-", R: strings.NewReader(bom + "http://h/2\n")},
		}))
		if len(items) != 2 || items[0].URL != "http://h/1" || items[1].URL != "http://h/2" {
			t.Errorf("items %+v, want http://h/1 and http://h/2", items)
		}
	})
}

func TestReaderEOFIsSticky(t *testing.T) {
	r := NewReader(nil, []Source{{Name: "a", R: strings.NewReader("x\n")}})
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := r.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("Next after the end = %v, want io.EOF", err)
		}
	}
}

func TestReaderLongLines(t *testing.T) {
	long := strings.Repeat("x", MaxLineLength+1)
	tests := []struct {
		name  string
		input string
		want  []string // Where of each item; "!" marks the too-long one
	}{
		{"middle", "http://h/1\n" + long + "\nhttp://h/3\n", []string{"f:1", "!f:2", "f:3"}},
		{"huge middle", "http://h/1\n" + strings.Repeat(long, 5) + "\r\nhttp://h/3\n", []string{"f:1", "!f:2", "f:3"}},
		{"last without newline", "http://h/1\n" + long, []string{"f:1", "!f:2"}},
		{"first", long + "\nhttp://h/2", []string{"!f:1", "f:2"}},
		{"exactly max", strings.Repeat("y", MaxLineLength) + "\r\nhttp://h/2\n", []string{"f:1", "f:2"}},
		{"exactly max without newline", strings.Repeat("y", MaxLineLength), []string{"f:1"}},
		{"max plus CR", long[:MaxLineLength] + "\r", []string{"f:1"}},
		{"blank max", strings.Repeat(" ", MaxLineLength) + "\nhttp://h/2\n", []string{"f:2"}},
		{"two in a row", long + "\n" + long + "\n\nhttp://h/4", []string{"!f:1", "!f:2", "f:4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := readAll(t, NewReader(nil, []Source{{Name: "f", R: strings.NewReader(tt.input)}}))
			if !errors.Is(err, io.EOF) {
				t.Fatalf("Next ended with %v, want io.EOF", err)
			}
			var got []string
			for _, it := range items {
				w := it.Where()
				if errors.Is(it.Err, ErrLineTooLong) {
					w = "!" + w
					if len(it.URL) > 200 || !strings.HasPrefix(it.URL, "xxx") {
						t.Errorf("too-long item URL %q, want a short prefix of the line", it.URL)
					}
					if it.Err.Error() != "line is longer than 65536 bytes" {
						t.Errorf("error %q", it.Err)
					}
				} else if it.Err != nil {
					t.Errorf("%s: unexpected error %v", it.Where(), it.Err)
				}
				got = append(got, w)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("items %v, want %v", got, tt.want)
			}
		})
	}
}

// failingReader returns its data, then err.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReaderReadError(t *testing.T) {
	errDisk := errors.New("input/output error")
	for _, tt := range []struct {
		name, source, msg string
	}{
		{"urls.txt", "urls.txt", "reading urls.txt: input/output error"},
		{"-", "-", "reading standard input: input/output error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader([]string{"./arg"}, []Source{
				{Name: tt.source, R: &failingReader{data: "http://h/1\nhttp://h/2\nhttp://h/partial", err: errDisk}},
				{Name: "after.txt", R: strings.NewReader("http://h/never\n")},
			})
			items, err := readAll(t, r)
			if !errors.Is(err, errDisk) || err.Error() != tt.msg {
				t.Fatalf("Next ended with %q, want %q wrapping the read error", err, tt.msg)
			}
			if len(items) != 3 || items[2].URL != "http://h/2" {
				t.Fatalf("items before the error: %+v, want the argument and two complete lines", items)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("Next after a read error = %v, want the same error", again)
			}
		})
	}
}

func TestReaderErrorWhileSkippingLongLine(t *testing.T) {
	errDisk := errors.New("input/output error")
	r := NewReader(nil, []Source{{Name: "f", R: &failingReader{data: strings.Repeat("x", 3*MaxLineLength), err: errDisk}}})
	if _, err := r.Next(); !errors.Is(err, errDisk) {
		t.Fatalf("Next = %v, want the read error", err)
	}
}

// TestReaderStreams proves that the first item is returned while the writer
// has not finished: the writer waits for it before writing more.
func TestReaderStreams(t *testing.T) {
	pr, pw := io.Pipe()
	firstRead := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := io.WriteString(pw, "# list\nhttp://example.com/1\n")
		if err == nil {
			select {
			case <-firstRead:
				_, err = io.WriteString(pw, "http://example.com/2\n")
			case <-time.After(10 * time.Second):
				err = errors.New("the Reader waited for more input before returning the first item")
			}
		}
		pw.CloseWithError(err)
		done <- err
	}()
	r := NewReader(nil, []Source{{Name: "-", R: pr}})
	it, err := r.Next()
	if err != nil || it.URL != "http://example.com/1" || it.Where() != "-:2" {
		t.Fatalf("first Next = %+v, %v", it, err)
	}
	close(firstRead)
	it, err = r.Next()
	if err != nil || it.URL != "http://example.com/2" {
		t.Fatalf("second Next = %+v, %v", it, err)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("third Next = %v, want io.EOF", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestReaderAllocs reads many lines and checks that the Reader does not
// allocate more than one string per item.
func TestReaderAllocs(t *testing.T) {
	const n = 10000
	input := strings.Repeat("https://example.com/some/path/file.tar.gz\n\n# comment\n", n)
	allocs := testing.AllocsPerRun(3, func() {
		r := NewReader(nil, []Source{{Name: "f", R: strings.NewReader(input)}})
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	})
	if allocs > n+10 {
		t.Errorf("reading %d lines allocates %v times, want at most one per item", n, allocs)
	}
}

func TestReaderArguments(t *testing.T) {
	tests := []struct {
		arg, url string
		err      error
		msg      string
	}{
		{arg: "#notes.txt", url: "#notes.txt"},
		{arg: " ./a ", url: "./a"},
		{arg: "http://h/a\tb.txt", url: "http://h/a"},
		{arg: "", err: ErrEmptyItem, msg: "empty item (an unset variable?)"},
		{arg: "  ", err: ErrEmptyItem},
		{arg: "\t\n", err: ErrEmptyItem},
		{arg: "a\x01b", url: `"a\x01b"`, err: ErrNotText, msg: "argument is not valid text (invalid UTF-8 or a control character)"},
		{arg: "http://h/\xff", url: `"http://h/\xff"`, err: ErrNotText, msg: "argument is not valid text (invalid UTF-8 or a control character)"},
		{arg: "ftp://h/a", url: "ftp://h/a", err: ErrUnsupportedScheme},
	}
	args := make([]string, len(tests))
	for i, tt := range tests {
		args[i] = tt.arg
	}
	items, err := readAll(t, NewReader(args, nil))
	if !errors.Is(err, io.EOF) || len(items) != len(tests) {
		t.Fatalf("got %d items ending with %v, want %d, one per argument: %+v", len(items), err, len(tests), items)
	}
	for i, tt := range tests {
		it := items[i]
		if want := fmt.Sprintf("arg %d", i+1); it.Where() != want || it.URL != tt.url {
			t.Errorf("argument %q: item %s %q, want %s %q", tt.arg, it.Where(), it.URL, want, tt.url)
		}
		if !errors.Is(it.Err, tt.err) || (tt.err == nil) != (it.Err == nil) {
			t.Errorf("argument %q: error %v, want %v", tt.arg, it.Err, tt.err)
		}
		if tt.msg != "" && (it.Err == nil || it.Err.Error() != tt.msg) {
			t.Errorf("argument %q: error %q, want %q", tt.arg, it.Err, tt.msg)
		}
	}
}

// TestReaderNotTextLine checks that a line, unlike an argument, is called a
// line in the error.
func TestReaderNotTextLine(t *testing.T) {
	items, _ := readAll(t, NewReader(nil, []Source{{Name: "f", R: strings.NewReader("a\x01b\n")}}))
	if len(items) != 1 || !errors.Is(items[0].Err, ErrNotText) || items[0].Err.Error() != "line is not valid text (binary data?)" {
		t.Errorf("items %+v, want one failing with %q", items, ErrNotText)
	}
}

// utf16Text encodes s as little-endian UTF-16 after a byte-order mark, as
// Windows PowerShell 5 writes a list with > or Out-File, or big-endian.
func utf16Text(s string, bigEndian bool) string {
	units := utf16.Encode([]rune("\ufeff" + s))
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		if bigEndian {
			b = binary.BigEndian.AppendUint16(b, u)
		} else {
			b = binary.LittleEndian.AppendUint16(b, u)
		}
	}
	return string(b)
}

// TestReaderUTF16 checks that a source starting with a UTF-16 byte-order
// mark is read as UTF-16 text: every line of such a list used to fail as
// "not valid text (binary data?)".
func TestReaderUTF16(t *testing.T) {
	const list = "# list\r\nhttp://h/1\r\n\r\nhttp://h/2\tdir/\U0001D11E \u00fc.txt\r\n{\"url\": \"http://h/3\"}\r\nhttp://h/4"
	want := []string{"f:2=http://h/1", "f:4=http://h/2\tdir/\U0001D11E \u00fc.txt", "f:5=http://h/3", "f:6=http://h/4"}
	for _, tt := range []struct {
		name  string
		input string
		want  []string // Where=URL<TAB>Name of each item; "!" marks an error
	}{
		{"little-endian", utf16Text(list, false), want},
		{"big-endian", utf16Text(list, true), want},
		{"only a mark", utf16Text("", false), nil},
		// A high surrogate without its low half, then an odd last byte:
		// each becomes U+FFFD, never a panic or a lost line.
		{"broken", utf16Text("http://h/1\n", false) + "\x3d\xd8h\x00\n\x00x", []string{"f:1=http://h/1", "f:2=\ufffdh", "f:3=\ufffd"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			items, err := readAll(t, NewReader(nil, []Source{
				{Name: "f", R: iotest.OneByteReader(strings.NewReader(tt.input))},
				{Name: "g", R: strings.NewReader("http://h/utf8\n")},
			}))
			if !errors.Is(err, io.EOF) {
				t.Fatalf("Next ended with %v, want io.EOF", err)
			}
			var got []string
			for _, it := range items {
				s := it.Where() + "=" + it.URL
				if it.Name != "" {
					s += "\t" + it.Name
				}
				if it.Err != nil {
					s = "!" + s
				}
				got = append(got, s)
			}
			want := append(append([]string(nil), tt.want...), "g:1=http://h/utf8")
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
				t.Errorf("items %q, want %q", got, want)
			}
		})
	}
}

// TestReaderNilSource: a Source without a reader (R nil, an embedder's
// slip) panicked in Next, which pool.Run calls on a goroutine of its own,
// where the program cannot recover: the process died. It is a read error
// of that source now, after the items before it.
func TestReaderNilSource(t *testing.T) {
	r := NewReader([]string{"http://example.test/a"}, []Source{{Name: "list.txt"}})
	if it, err := r.Next(); err != nil || it.URL != "http://example.test/a" {
		t.Fatalf("first Next: %+v, %v", it, err)
	}
	_, err := r.Next()
	if err == nil || !strings.Contains(err.Error(), "reading list.txt") || !strings.Contains(err.Error(), "Source.R") {
		t.Fatalf("Next = %v, want a read error naming list.txt and Source.R", err)
	}
	if _, again := r.Next(); again != err {
		t.Errorf("later Next = %v, want the same error", again)
	}
}
