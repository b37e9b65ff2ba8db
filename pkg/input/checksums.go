package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// ErrInvalidChecksumLine is returned by ParseChecksums for a line it cannot
// read.
var ErrInvalidChecksumLine = errors.New("malformed checksum line")

// ParseChecksums reads a checksums file and returns each NAME mapped to its
// lower-case hex SHA-256 digest. It accepts what sha256sum writes: "HEX  NAME"
// (text mode), "HEX *NAME" (binary mode), the escaped form "\HEX  NAME" for
// names holding a backslash or line break, and the BSD tag form
// "SHA256 (NAME) = HEX" (also as openssl dgst writes it, "SHA256(NAME)= HEX"
// or "SHA2-256(NAME)= HEX"); also "HEX NAME" with one space, or with a TAB
// (as scripts that join the two with one write it). Blank lines and
// lines starting with '#' are skipped, a trailing CR is dropped, and so is a
// UTF-8 byte-order mark at the start of the file (as Windows tools write
// one), as in an input list; a file that starts with a UTF-16 byte-order
// mark is read as UTF-16 (Windows PowerShell 5 writes text so). Names
// are cleaned to the slash-separated form of an output name ("./a.iso" is
// "a.iso", "sub//b" is "sub/b"), the form pool.Options.Checksums is looked
// up in. name is the file's name for messages: a malformed
// line is an error naming "FILE:LINE" that wraps ErrInvalidChecksumLine, and
// so is a NAME listed twice with different digests.
func ParseChecksums(name string, r io.Reader) (map[string]string, error) {
	sums := make(map[string]string)
	br := bufio.NewReaderSize(r, MaxLineLength+2)
	mark, _ := br.Peek(len(utf16LEMark))
	if ok, bigEndian := utf16Mark(mark); ok {
		_, _ = br.Discard(len(mark))
		br = bufio.NewReaderSize(newUTF16Reader(br, bigEndian), MaxLineLength+2)
	}
	for n := 1; ; n++ {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%s:%d: %w: %w", name, n, ErrInvalidChecksumLine, ErrLineTooLong)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		if n == 1 {
			raw = bytes.TrimPrefix(raw, []byte(byteOrderMark))
		}
		if len(raw) > 0 {
			if perr := addChecksum(sums, raw); perr != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, n, perr)
			}
		}
		if err != nil {
			return sums, nil
		}
	}
}

func addChecksum(sums map[string]string, raw []byte) error {
	line := bytes.TrimSuffix(bytes.TrimSuffix(raw, []byte("\n")), []byte("\r"))
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 || trimmed[0] == '#' {
		return nil
	}
	file, sum, err := checksumLine(string(bytes.TrimLeft(line, " \t")))
	if err != nil {
		return err
	}
	file = path.Clean(filepath.ToSlash(file))
	if old, dup := sums[file]; dup && old != sum {
		return fmt.Errorf("%w: %q is listed twice with different digests", ErrInvalidChecksumLine, file)
	}
	sums[file] = sum
	return nil
}

// checksumLine splits one non-blank line into its name and digest.
func checksumLine(line string) (file, sum string, err error) {
	if rest, ok := cutTag(line); ok {
		i := strings.LastIndexByte(rest, ')')
		eq, found := strings.CutPrefix(strings.TrimLeft(rest[max(i, 0):], ") \t"), "=")
		if i < 0 || !found {
			return "", "", fmt.Errorf(`%w: want "SHA256 (NAME) = HEX"`, ErrInvalidChecksumLine)
		}
		file, sum = rest[:i], strings.TrimLeft(eq, " \t")
	} else {
		escaped := strings.HasPrefix(line, `\`)
		if escaped {
			line = line[1:]
		}
		n := 0
		for n < len(line) && isHex(line[n]) {
			n++
		}
		switch {
		case n != 64:
			return "", "", fmt.Errorf(`%w: want "HEX  NAME" with a 64-digit SHA-256 digest, found %d hex digits`,
				ErrInvalidChecksumLine, n)
		case len(line) == 64:
			return "", "", fmt.Errorf("%w: no file name after the digest", ErrInvalidChecksumLine)
		case line[64] != ' ' && line[64] != '\t':
			// A TAB is taken too: scripts write "HEX<TAB>NAME".
			r, _ := utf8.DecodeRuneInString(line[64:])
			return "", "", fmt.Errorf(`%w: want "HEX  NAME", found 64 hex digits followed by %q`,
				ErrInvalidChecksumLine, string(r))
		}
		sum, file = line[:64], line[65:]
		if file != "" && (file[0] == ' ' || file[0] == '*') {
			file = file[1:]
		}
		if escaped {
			if file, err = unescapeName(file); err != nil {
				return "", "", err
			}
		}
	}
	if file == "" {
		return "", "", fmt.Errorf("%w: no file name after the digest", ErrInvalidChecksumLine)
	}
	if sum, err = ParseSHA256(sum); err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrInvalidChecksumLine, err)
	}
	return file, sum, nil
}

// cutTag returns what follows the "(" of a tagged line: "SHA256 (" as
// sha256sum --tag writes it, "SHA256(" and "SHA2-256(" as openssl dgst
// does.
func cutTag(line string) (string, bool) {
	for _, tag := range []string{"SHA256 (", "SHA256(", "SHA2-256(", "SHA2-256 ("} {
		if rest, ok := strings.CutPrefix(line, tag); ok {
			return rest, true
		}
	}
	return "", false
}

// unescapeName undoes sha256sum's escaping of "\\", "\n" and "\r" in names.
func unescapeName(s string) (string, error) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf(`%w: name ends in a lone "\"`, ErrInvalidChecksumLine)
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", fmt.Errorf(`%w: unknown escape "\%c" in name`, ErrInvalidChecksumLine, s[i])
		}
	}
	return b.String(), nil
}
