package fetch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLongPath(t *testing.T) {
	long := strings.Repeat("d", 100) + `\` + strings.Repeat("e", 100) + `\` + strings.Repeat("f", 100) + `\x.part`
	abs, err := filepath.Abs(long)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		{`out\x.part`, `out\x.part`},
		{long, `\\?\` + abs},
		{`C:\` + long, `\\?\C:\` + long},
		{`C:\a\..\` + long, `\\?\C:\` + long},
		{`\\server\share\` + long, `\\?\UNC\server\share\` + long},
		{`\\?\C:\` + long, `\\?\C:\` + long},
	} {
		if got := longPath(tt.path); got != tt.want {
			t.Errorf("longPath(%q) =\n%q, want\n%q", tt.path, got, tt.want)
		}
	}
}

// TestLockPartDeep: a part deeper than MAX_PATH is locked and made, as
// os.OpenFile makes files there.
func TestLockPartDeep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100), strings.Repeat("e", 100), strings.Repeat("f", 100))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(dir, "x.part")
	l, err := lockPart(part, true)
	if err != nil {
		t.Fatalf("lockPart of a %d-byte path: %v", len(part), err)
	}
	defer l.release()
	if err := l.check(part); err != nil {
		t.Errorf("check: %v", err)
	}
	if _, err := os.Stat(part); err != nil {
		t.Errorf("the part was not made: %v", err)
	}
}
