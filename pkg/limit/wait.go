package limit

import (
	"context"

	"golang.org/x/time/rate"
)

// wait takes n tokens from lim, which must be at most its burst. It returns
// only ctx's errors. The limiter fails early, with its own message, when
// the wait would outlast ctx's deadline; wait then waits for the deadline
// itself, so that ctx ends as its owner set it up (with its cause, such as
// a --timeout that names itself) and not before.
func wait(ctx context.Context, lim *rate.Limiter, n int) error {
	err := lim.WaitN(ctx, n)
	if err == nil {
		return nil
	}
	if _, ok := ctx.Deadline(); ok {
		<-ctx.Done()
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}
