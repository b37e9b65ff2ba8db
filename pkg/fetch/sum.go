package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// SumFile returns the hex SHA-256 of the regular file at path, counting
// what it reads in p (if not nil) after setting its total. It checks ctx
// between reads, so cancelling ctx ends it promptly with ctx's error. It
// refuses what is not a regular file: opening a FIFO would block.
func SumFile(ctx context.Context, path string, p *event.Progress) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	f, err := openFile(path, os.O_RDONLY, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if p != nil {
		p.SetTotal(fi.Size())
	}
	h := sha256.New()
	if _, err := hashFrom(ctx, h, f, make([]byte, bufSize), p); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
