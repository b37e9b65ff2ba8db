package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Source is one named stream of input lines.
type Source struct {
	// Name is "-" for standard input, else the file name as given.
	Name string
	// R is read by the Reader; its owner closes it.
	R io.Reader
	// Again, when not nil, reads the source anew from its start, for
	// Rest: an *os.File of a regular file is one. Leave it nil for
	// standard input and pipes, which cannot be read twice.
	Again io.ReaderAt
}

// Reader streams items from positional arguments first (Source "arg", Line
// the 1-based position), then from each Source in order, one line at a time.
// It holds at most one buffer of MaxLineLength bytes of input, so memory does
// not grow with the input, and the first item is returned as soon as its line
// has arrived. A Reader is not safe for concurrent use.
type Reader struct {
	args    []string
	sources []Source
	arg     int           // next argument
	src     int           // current source
	br      *bufio.Reader // reads sources[src] when open
	lines   *bufio.Reader // the lines of sources[src]: br, or UTF-16 decoded from br
	open    bool
	line    int   // lines read from sources[src]
	err     error // sticky: io.EOF or a read error
	max     int   // MaxLineLength, except in tests
	skip    int   // lines of sources[0] that Next passes over (Rest)
	shard   Shard // when not zero, Next passes over other shards' items (Rest)
}

// NewReader returns a Reader of the arguments, then the sources.
func NewReader(args []string, sources []Source) *Reader {
	return newReader(args, sources, MaxLineLength)
}

// newReader lets tests use short lines (max ≥ 14, bufio's smallest buffer
// less the line ending) to reach the long-line paths cheaply.
func newReader(args []string, sources []Source, max int) *Reader {
	return &Reader{args: args, sources: sources, max: max}
}

// Next returns the next item, skipping blank lines and comments of the sources
// and a UTF-8 byte-order mark at the start of each source; a source that
// starts with a UTF-16 byte-order mark is read as UTF-16 (an argument is
// always an item: a blank one fails with ErrEmptyItem). Items that
// fail to parse are returned with Err set (a line longer than MaxLineLength
// gives one item with ErrLineTooLong, and reading goes on with the next
// line). At the end of the input Next returns io.EOF. A source that cannot be
// read ends the input: Next returns the read error wrapped with the source's
// name ("reading urls.txt: ..."), and so does every later call.
func (r *Reader) Next() (Item, error) {
	for {
		it, err := r.next()
		if err == nil && r.shard != (Shard{}) && !r.shard.Contains(it.URL) {
			continue
		}
		return it, err
	}
}

// next is Next but for the shard.
func (r *Reader) next() (Item, error) {
	if r.err != nil {
		return Item{}, r.err
	}
	if r.arg < len(r.args) {
		r.arg++
		it := parseArg(r.args[r.arg-1])
		it.Source, it.Line = "arg", r.arg
		return it, nil
	}
	for r.src < len(r.sources) {
		s := r.sources[r.src]
		if s.R == nil {
			// A panic here would be on pool.Run's reading goroutine.
			r.err = fmt.Errorf("reading %s: no reader (Source.R is nil)", displayName(s.Name))
			return Item{}, r.err
		}
		if !r.open {
			r.start(s.R)
		}
		it, err := r.nextLine()
		switch {
		case err == nil && r.src == 0 && r.line <= r.skip:
			// Taken by the run before (Rest).
		case err == nil:
			it.Source, it.Line = s.Name, r.line
			return it, nil
		case errors.Is(err, io.EOF):
			r.src++
			r.open = false
		default:
			r.err = fmt.Errorf("reading %s: %w", displayName(s.Name), err)
			return Item{}, r.err
		}
	}
	r.err = io.EOF
	return Item{}, r.err
}

// parseArg parses a positional argument. An argument is always an item: never
// a comment ("#notes.txt" is a file), and never skipped as blank, because an
// empty argument is most often a variable that was not set.
func parseArg(arg string) Item {
	if strings.TrimSpace(arg) == "" {
		return Item{Err: fmt.Errorf("%w (an unset variable?)", ErrEmptyItem)}
	}
	it, ok := ParseLine(arg)
	if !ok {
		return Item{URL: arg}
	}
	if errors.Is(it.Err, ErrNotText) {
		it.Err = errArgNotText
	}
	return it
}

func displayName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}

// start begins reading a source, reusing the buffer of the one before.
func (r *Reader) start(src io.Reader) {
	if r.br == nil {
		// Room for the longest line and its CR LF.
		r.br = bufio.NewReaderSize(src, r.max+2)
	} else {
		r.br.Reset(src)
	}
	r.lines = r.br
	r.line = 0
	r.open = true
}

// byteOrderMark, U+FEFF in UTF-8, is dropped from the start of a source.
const byteOrderMark = "\ufeff"

// nextLine returns the next item of the current source, io.EOF at its end,
// or a read error. One byte-order mark at the very start of the source is
// skipped; anywhere else it is part of the line.
func (r *Reader) nextLine() (Item, error) {
	for {
		b, err := r.lines.ReadSlice('\n')
		if r.line == 0 && r.lines == r.br && (err == nil || errors.Is(err, io.EOF) || errors.Is(err, bufio.ErrBufferFull)) {
			if ok, bigEndian := utf16Mark(b); ok {
				r.startUTF16(b, err, bigEndian)
				continue
			}
		}
		if r.line == 0 {
			// Windows editors and PowerShell start UTF-8 text with a
			// byte-order mark; it is not part of the first line.
			b = bytes.TrimPrefix(b, []byte(byteOrderMark))
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			r.line++
			return r.skipLong(b)
		}
		if err != nil && (!errors.Is(err, io.EOF) || len(b) == 0) {
			return Item{}, err
		}
		// A last line without a newline (err == io.EOF) counts; the next
		// ReadSlice returns io.EOF with no data.
		r.line++
		b = bytes.TrimSuffix(b, []byte("\n"))
		b = bytes.TrimSuffix(b, []byte("\r"))
		if len(b) > r.max {
			return longItem(b, r.max), nil
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		if it, ok := ParseLine(string(b)); ok {
			return it, nil
		}
	}
}

// startUTF16 switches the current source, whose first slice head (read
// with error err) starts with a UTF-16 byte-order mark (big-endian when
// bigEndian is set), to reading lines decoded from UTF-16. Windows
// PowerShell 5 writes lists that way (> and Out-File), and every line of
// them would fail as not text. The decoded lines need their own buffer:
// br holds the bytes still to be decoded.
func (r *Reader) startUTF16(head []byte, err error, bigEndian bool) {
	rest := bytes.Clone(head[len(utf16LEMark):])
	var src io.Reader = bytes.NewReader(rest)
	if err == nil || errors.Is(err, bufio.ErrBufferFull) {
		// At io.EOF br is not read again: a terminal would wait for more.
		src = io.MultiReader(src, r.br)
	}
	r.lines = bufio.NewReaderSize(newUTF16Reader(src, bigEndian), r.max+2)
}

// skipLong discards the rest of a line that did not fit in the buffer and
// returns the item that reports it. head is the start of the line.
func (r *Reader) skipLong(head []byte) (Item, error) {
	it := longItem(head, r.max)
	for {
		_, err := r.lines.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == nil, errors.Is(err, io.EOF):
			return it, nil
		default:
			return Item{}, err
		}
	}
}

// longPrefix is how much of an overlong line is kept in its item's URL.
const longPrefix = 100

// longItem reports a line longer than max, keeping its start (cut at a
// character boundary) as the URL so that the message says which line it was.
func longItem(b []byte, max int) Item {
	n := min(longPrefix, max, len(b))
	for n > 0 && n < len(b) && !utf8.RuneStart(b[n]) {
		n--
	}
	s := string(b[:n])
	if !isText(s, true) {
		s = strconv.Quote(s)
	}
	return Item{URL: s + "...", Err: ErrLineTooLong}
}
