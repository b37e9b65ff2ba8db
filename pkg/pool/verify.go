package pool

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/fetch"
)

// existsMismatchError fails an item whose destination existed before the
// run, with --on-exists skip, and does not have the expected digest. The
// file is left as it is. It unwraps to the *fetch.ChecksumError.
type existsMismatchError struct {
	path string
	sum  *fetch.ChecksumError
}

func (e *existsMismatchError) Error() string {
	return fmt.Sprintf("%s exists but does not match the expected SHA-256 (got %s, want %s); "+
		"left as it is: --on-exists overwrite replaces it", e.path, e.sum.Got, e.sum.Want)
}

func (e *existsMismatchError) Unwrap() error { return e.sum }

// checkExisting is a job whose destination existed before the run, with
// --on-exists skip and an expected digest: the file is hashed, on a worker
// because a big one takes a while. It counts as in flight while it runs, so
// a graceful shutdown lets it finish; cancelling ctx interrupts it. The file
// is never modified: a match is skipped, a mismatch fails the item.
func (r *run) checkExisting(ctx context.Context, j job) {
	start := time.Now()
	progress := event.NewProgress(j.rel)
	r.sending.Add(1)
	r.opts.Emit(event.Event{Kind: event.Started, Time: start, Item: j.item, Output: j.path, Progress: progress})

	got, err := hashFile(ctx, j.path, progress)
	res := fetch.Result{Path: j.path, SHA256: got}
	switch {
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		err = fmt.Errorf("cannot check %s against the expected SHA-256: %w", j.path, err)
	case !strings.EqualFold(got, j.sha256):
		err = &existsMismatchError{path: j.path, sum: &fetch.ChecksumError{Want: strings.ToLower(j.sha256), Got: got}}
	default:
		res.Skipped = true
	}
	if ctx.Err() != nil {
		// The Aborting event counts this check and comes before its end.
		<-r.aborted
		if err != nil {
			err = aborted(err)
		}
	}
	r.sending.Add(-1) // before its end is told, as for a transfer
	r.finish(j, progress, res, err, start)
}

// hashFile returns the hex SHA-256 of the regular file at path, adding
// what it reads to p. It checks ctx between reads, so cancelling ctx ends
// it promptly with ctx's error.
func hashFile(ctx context.Context, path string, p *event.Progress) (string, error) {
	// Stat first: opening a FIFO for reading would block.
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	p.SetTotal(fi.Size())
	h := sha256.New()
	buf := make([]byte, 256<<10)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		p.Add(int64(n))
		if err == io.EOF {
			return hex.EncodeToString(h.Sum(nil)), nil
		}
		if err != nil {
			return "", err
		}
	}
}
