package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// TestSumFile: SumFile ends with the context's error once it is
// cancelled, and refuses what is not a regular file.
func TestSumFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	os.WriteFile(path, make([]byte, 1<<20), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := SumFile(ctx, path, event.NewProgress("big")); !errors.Is(err, context.Canceled) {
		t.Errorf("SumFile with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := SumFile(context.Background(), filepath.Dir(path), event.NewProgress("dir")); err == nil {
		t.Error("SumFile of a directory: no error")
	}
	p := event.NewProgress("big")
	want := sha256.Sum256(make([]byte, 1<<20))
	sum, err := SumFile(context.Background(), path, p)
	if err != nil || sum != hex.EncodeToString(want[:]) {
		t.Errorf("SumFile = %s, %v; want %x", sum, err, want)
	}
	if p.Done() != 1<<20 || p.Total() != 1<<20 {
		t.Errorf("progress %d of %d, want all 1 MiB", p.Done(), p.Total())
	}
}
