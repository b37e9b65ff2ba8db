package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/report"
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
// stay as .part for a resume. A --failed list not yet closed (listed is not
// set) could not be completed, so it is removed rather than left to make a
// retry skip items, when it is a regular file; one closed, complete, is
// kept, when only the summary after it is blocked. Without s.Exit (tests
// in one process) it does nothing.
func exitIfStuck(ctx context.Context, finished <-chan struct{}, s *streams, failed string, listed *atomic.Bool) {
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
	// Only a regular file, as report.Failed removes a list cut short: a
	// --failed /dev/stdout (or another device, or a pipe) is not the
	// run's to remove, and as root its removal would take it from every
	// program.
	// The list is written as failed.part until it is whole (see
	// report.NewFailed).
	if failed != "" && !listed.Load() && (removeRegular(failed) || removeRegular(failed+report.PendingSuffix)) {
		msg += "; " + failed + " was removed: it could not be completed"
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

// removeRegular removes path when it is a regular file, and tells whether
// it did.
func removeRegular(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().IsRegular() && os.Remove(path) == nil
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
