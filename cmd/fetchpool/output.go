package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fetchpool/fetchpool/pkg/input"
)

// Why a run stopped when the reader of its standard output, or of its
// standard error, went away.
var (
	errOutputClosed = errors.New("standard output was closed")
	errStderrClosed = errors.New("standard error was closed")
)

// outputWatch is standard output (or error) for the sinks that write to
// it. Its first failed write calls failed, which stops the run: with
// closed for a broken pipe, and with the error itself for any other
// failure unless pipeOnly is set.
type outputWatch struct {
	w        io.Writer
	failed   context.CancelCauseFunc
	closed   error
	pipeOnly bool // standard error: only a reader gone stops the run
	once     sync.Once
}

func (o *outputWatch) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	switch {
	case err == nil:
	case brokenPipe(err):
		o.once.Do(func() { o.failed(o.closed) })
	case !o.pipeOnly:
		o.once.Do(func() { o.failed(fmt.Errorf("writing the results: %w", err)) })
	}
	return n, err
}

// abortGrace is how long an aborted run may take to end before
// exitIfStuck ends the process.
const abortGrace = 5 * time.Second

// exitIfStuck ends the process with exitInterrupted when the run, aborted
// (ctx done: a second Ctrl-C), has not finished abortGrace later: its
// output is blocked, by a reader that stopped reading, and it cannot end by
// itself. The transfers were aborted, so nothing is lost that a kill would
// not lose: files under their final names are whole, and unfinished ones
// stay as .part for a resume. A --failed list or --report not yet written
// whole could not be completed, so it is removed (leftOutput) rather than
// left to make a retry skip items; one written whole is kept, when only
// the summary after it is blocked. Without s.Exit (tests in one process)
// it does nothing.
func exitIfStuck(ctx context.Context, finished <-chan struct{}, s *streams, left []leftOutput) {
	if s.Exit == nil {
		return
	}
	select {
	case <-finished:
		return
	case <-ctx.Done():
	}
	t := time.NewTimer(abortGrace)
	defer t.Stop()
	select {
	case <-finished:
		return
	case <-t.C:
	}
	msg := fmt.Sprintf("fetchpool: aborted, but the run could not end in %v: its output is blocked (a reader that stopped reading?); exiting now. Finished files are whole; unfinished ones are kept as .part for a resume", abortGrace)
	for _, l := range left {
		if l.Abandon() {
			msg += "; " + l.name + " was removed: it could not be completed"
		}
	}
	said := make(chan struct{})
	go func() {
		fmt.Fprintln(s.Err, msg) // standard error may be blocked too
		close(said)
	}()
	select {
	case <-said:
	case <-time.After(time.Second):
	}
	s.Exit(exitInterrupted)
}

// leftOutput is a file that the run writes, --failed or --report, for
// exitIfStuck to remove when it cannot be completed. Abandon removes the
// run's own file only, unless it is whole: not a device such as
// /dev/stdout, whose removal, as root, would take it from every program,
// nor a file put in its place since. It tells whether it did.
type leftOutput struct {
	name string
	abandoner
}

// abandoner is report.Failed and report.Document, for leftOutput.
type abandoner interface{ Abandon() bool }

// unfinished is what exitIfStuck removes of c's output files.
func (c *config) unfinished(opts *options) []leftOutput {
	var left []leftOutput
	if c.failed != nil {
		left = append(left, leftOutput{opts.Failed, c.failed})
	}
	if c.report != nil {
		left = append(left, leftOutput{opts.Report, c.report})
	}
	return left
}

// restGrace is how long the unread rest of a list file is still copied
// into --failed once the run is aborted (a second Ctrl-C): a short rest is
// listed whole, but millions of lines take seconds, which the abort would
// wait for until exitIfStuck ended the process and removed the list.
const restGrace = time.Second

// errRestCut ends the copy of the unread rest into --failed, as the reason
// of the comment that ends the list (see untilAborted).
var errRestCut = errors.New("listing it here was cut short by a second interrupt")

// untilAborted is next until restGrace after it is first called with ctx
// done; then it sets cut and returns errRestCut.
func untilAborted(ctx context.Context, next func() (input.Item, error), cut *atomic.Bool) func() (input.Item, error) {
	var deadline time.Time
	return func() (input.Item, error) {
		if ctx.Err() != nil {
			now := time.Now()
			if deadline.IsZero() {
				deadline = now.Add(restGrace)
			}
			if now.After(deadline) {
				cut.Store(true)
				return input.Item{}, errRestCut
			}
		}
		return next()
	}
}

// stopReason says why a stopped run stopped, for --report and --failed:
// "interrupted" for a signal, else the cause given to its stop context.
func stopReason(stop context.Context) string {
	cause := context.Cause(stop)
	if cause == nil || errors.Is(cause, context.Canceled) {
		return "interrupted"
	}
	return cause.Error()
}
