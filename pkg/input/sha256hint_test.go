package input

import (
	"errors"
	"strings"
	"testing"
)

// TestParseSHA256Hints: a digest in a form people paste says what to fix.
func TestParseSHA256Hints(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	for _, tt := range []struct{ in, want string }{
		{"sha256:" + hex, `(give it without the "sha256:" prefix)`},
		{"SHA256=" + hex, `(give it without the "SHA256=" prefix)`},
		{hex + "  ubuntu.iso", "(give the digest alone, without what follows it)"},
		{strings.Repeat("a", 32), "(that is the length of an MD5 digest, not a SHA-256)"},
		{strings.Repeat("a", 40), "(that is the length of a SHA-1 digest, not a SHA-256)"},
		{strings.Repeat("a", 128), "(that is the length of a SHA-512 digest, not a SHA-256)"},
		{"abc", "want 64 hexadecimal digits, got 3 characters"},
		{strings.Repeat("g", 64), `want 64 hexadecimal digits`},
	} {
		_, err := ParseSHA256(tt.in)
		if !errors.Is(err, ErrInvalidSHA256) || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("ParseSHA256(%.20q...) = %v, want it to end in %q", tt.in, err, tt.want)
		}
	}
	if got, err := ParseSHA256(strings.ToUpper(hex)); err != nil || got != hex {
		t.Errorf("ParseSHA256(upper case) = %q, %v", got, err)
	}
}
