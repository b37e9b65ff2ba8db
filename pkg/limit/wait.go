package limit

import (
	"context"

	"golang.org/x/time/rate"
)

// wait takes n tokens from lim, which must be at most its burst. It returns
// only ctx's errors: the limiter fails early, with its own message, when
// the wait would outlast ctx's deadline, and that is reported as the
// deadline it foresaw.
func wait(ctx context.Context, lim *rate.Limiter, n int) error {
	err := lim.WaitN(ctx, n)
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if _, ok := ctx.Deadline(); ok {
		return context.DeadlineExceeded
	}
	return err
}
