package pool

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/fetch"
)

// existsMismatchError fails an item whose destination existed before the
// run, is kept (--on-exists skip, or newer with nothing newer to fetch),
// and does not have the expected digest. The
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

	got, err := checkKept(ctx, j.path, j.sha256, progress)
	res := fetch.Result{Path: j.path, SHA256: got, Skipped: err == nil}
	if err == nil && ctx.Err() == nil {
		j.partNote = dropStalePart(j)
	}
	if ctx.Err() != nil {
		// The Aborting event counts this check and comes before its end.
		<-r.aborted
		if err != nil {
			err = aborted(ctx, err)
		}
	}
	r.sending.Add(-1) // before its end is told, as for a transfer
	r.finish(j, progress, res, err, start)
}

// checkKept hashes a file that existed before the run and is kept, and
// returns its digest; the error says when it does not match want (an
// *existsMismatchError) or cannot be read. The file is never modified.
func checkKept(ctx context.Context, path, want string, progress *event.Progress) (string, error) {
	got, err := fetch.SumFile(ctx, path, progress)
	switch {
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return got, fmt.Errorf("cannot check %s against the expected SHA-256: %w", path, err)
	case !strings.EqualFold(got, want):
		return got, &existsMismatchError{path: path, sum: &fetch.ChecksumError{Want: strings.ToLower(want), Got: got}}
	}
	return got, nil
}
