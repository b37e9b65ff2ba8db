package server

import (
	"crypto/sha256"
	"io"
	"strconv"
	"strings"
	"sync"
)

// patternLen is the period of the synthetic content. It is a little over
// 1 MiB and odd, so a file's bytes never line up with power-of-two block
// boundaries and neighbouring files differ.
const patternLen = 1<<20 + 4099

// pattern returns the shared, read-only content table: patternLen bytes of
// xorshift output, stored twice in a row so that any slice of up to
// patternLen bytes starting below patternLen is contiguous and can be written
// to a connection without copying.
var pattern = sync.OnceValue(func() []byte {
	buf := make([]byte, 2*patternLen)
	x := uint64(0x9E3779B97F4A7C15)
	for i := 0; i < patternLen; i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		for j := 0; j < 8 && i+j < patternLen; j++ {
			buf[i+j] = byte(x >> (8 * j))
		}
	}
	copy(buf[patternLen:], buf[:patternLen])
	return buf
})

// seed is where file (size, n) starts in the pattern.
func seed(size int64, n int) int64 {
	z := uint64(n)*0x9E3779B97F4A7C15 ^ uint64(size)*0xBF58476D1CE4E5B9
	z ^= z >> 31
	z *= 0x94D049BB133111EB
	z ^= z >> 29
	return int64(z % patternLen)
}

// Name is the file name of synthetic file n, as the last segment of its URL
// path, and so the name every download tool saves it under.
func Name(n int) string { return strconv.Itoa(n) + ".bin" }

// ParseName returns n for a name made by Name, and false for any other name
// (partial files, control files, stray output).
func ParseName(name string) (int, bool) {
	digits, ok := strings.CutSuffix(name, ".bin")
	if !ok || digits == "" || len(digits) > 10 || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// Path is the URL path of synthetic file n of size bytes.
func Path(size int64, n int) string {
	return "/f/" + strconv.FormatInt(size, 10) + "/" + Name(n)
}

// Reader reads the content of one synthetic file. Its WriteTo writes straight
// from the shared pattern, without copying.
type Reader struct {
	seed int64
	off  int64
	size int64
}

// NewReader returns a reader of the content the server sends for file n of
// size bytes.
func NewReader(size int64, n int) *Reader {
	return &Reader{seed: seed(size, n), size: size}
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.off, patternLen)]
	i := (r.seed + r.off) % patternLen
	n := copy(p, pattern()[i:i+int64(len(p))])
	r.off += int64(n)
	return n, nil
}

// WriteTo implements io.WriterTo.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.off < r.size {
		i := (r.seed + r.off) % patternLen
		k := min(r.size-r.off, patternLen)
		m, err := w.Write(pattern()[i : i+k])
		r.off += int64(m)
		total += int64(m)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Sum is the SHA-256 digest of synthetic file n of size bytes.
func Sum(size int64, n int) [sha256.Size]byte {
	h := sha256.New()
	_, _ = NewReader(size, n).WriteTo(h) // a hash never fails to write
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
