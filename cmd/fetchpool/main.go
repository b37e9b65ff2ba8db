// Command fetchpool downloads lists of URLs and local files with a
// rate-limited pool of workers.
package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	tuned := tuneRuntime(os.Getenv)
	s := systemStreams()
	s.Hashing = tuned.hashing
	// A write to a closed pipe then fails with EPIPE instead of killing
	// the process, so that fetchpool --json | head stops cleanly (see run).
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := interruptContexts()
	os.Exit(exitCode(execute(ctx, stop, s, os.Args[1:])))
}

// errSecondInterrupt is why ctx is cancelled: transfers it aborts say so
// ("aborted: interrupted a second time, out/a.iso.part kept for a resume").
var errSecondInterrupt = errors.New("interrupted a second time")

// interruptContexts returns the run's two contexts: stop is cancelled by the
// first SIGINT, SIGTERM or SIGHUP (finish what is in flight, start nothing
// new), ctx by a second SIGINT or SIGTERM (abort everything), with
// errSecondInterrupt as its cause. ctx is stop's parent, so aborting also stops.
//
// SIGHUP, sent when the ssh session or terminal that ran fetchpool goes
// away, would otherwise kill it at once, leaving --failed and --report
// without the items in flight and not started. A SIGHUP ignored when
// fetchpool started stays ignored (signal.Notify would undo that): nohup
// fetchpool is meant to outlive the session.
func interruptContexts() (ctx, stop context.Context) {
	ctx, abort := context.WithCancelCause(context.Background())
	stop, graceful := context.WithCancel(ctx)
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	if !signal.Ignored(syscall.SIGHUP) {
		signal.Notify(signals, syscall.SIGHUP)
	}
	go func() {
		<-signals
		graceful()
		for sig := range signals {
			if sig == syscall.SIGHUP {
				// A terminal that goes away sends SIGHUP twice, from the
				// kernel and from the shell that passes it on to its
				// jobs: the same hangup, not a second Ctrl-C.
				continue
			}
			abort(errSecondInterrupt)
			return
		}
	}()
	return ctx, stop
}
