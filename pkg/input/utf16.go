package input

import (
	"bytes"
	"encoding/binary"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// UTF-16 byte-order marks. Windows PowerShell 5 writes text files with
// > and Out-File as little-endian UTF-16 after such a mark.
const (
	utf16LEMark = "\xff\xfe"
	utf16BEMark = "\xfe\xff"
)

// utf16Mark tells whether b starts with a UTF-16 byte-order mark, and
// whether that mark is big-endian.
func utf16Mark(b []byte) (ok, bigEndian bool) {
	switch {
	case bytes.HasPrefix(b, []byte(utf16LEMark)):
		return true, false
	case bytes.HasPrefix(b, []byte(utf16BEMark)):
		return true, true
	}
	return false, false
}

// utf16Reader decodes UTF-16 text read from r into UTF-8. A surrogate
// without its other half, and an odd byte at the end, become U+FFFD.
type utf16Reader struct {
	r     io.Reader
	order binary.ByteOrder
	raw   [4096]byte
	nraw  int    // bytes of raw not yet decoded (0 or 1: half a code unit)
	high  rune   // a high surrogate waiting for its low half, or 0
	out   []byte // decoded and not yet returned
	err   error  // sticky error of r
}

func newUTF16Reader(r io.Reader, bigEndian bool) *utf16Reader {
	d := &utf16Reader{r: r, order: binary.LittleEndian}
	if bigEndian {
		d.order = binary.BigEndian
	}
	return d
}

// Read implements io.Reader.
func (d *utf16Reader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		d.fill()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// fill reads once from r and decodes what came, into out.
func (d *utf16Reader) fill() {
	n, err := d.r.Read(d.raw[d.nraw:])
	n += d.nraw
	// out is empty here: reuse its array. Each code unit gives at most 3
	// bytes of UTF-8, a surrogate pair 4 bytes for two units.
	out := d.out[:0]
	i := 0
	for ; i+1 < n; i += 2 {
		out = d.decode(out, rune(d.order.Uint16(d.raw[i:])))
	}
	d.nraw = copy(d.raw[:], d.raw[i:n])
	if err != nil {
		if d.high != 0 {
			out = utf8.AppendRune(out, utf8.RuneError)
		}
		if d.nraw > 0 {
			out = utf8.AppendRune(out, utf8.RuneError)
		}
		d.high, d.nraw = 0, 0
		d.err = err
	}
	d.out = out
}

// decode appends code unit u to out, pairing surrogates.
func (d *utf16Reader) decode(out []byte, u rune) []byte {
	if d.high != 0 {
		high := d.high
		d.high = 0
		if r := utf16.DecodeRune(high, u); r != utf8.RuneError {
			return utf8.AppendRune(out, r)
		}
		out = utf8.AppendRune(out, utf8.RuneError)
	}
	switch {
	case 0xd800 <= u && u < 0xdc00:
		d.high = u
		return out
	case utf16.IsSurrogate(u):
		return utf8.AppendRune(out, utf8.RuneError)
	}
	return utf8.AppendRune(out, u)
}
