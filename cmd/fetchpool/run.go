package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/pool"
	"github.com/fetchpool/fetchpool/pkg/report"
)

// execute runs the command line args with the given streams. stop begins a
// graceful shutdown; ctx aborts transfers in flight.
func execute(ctx, stop context.Context, s *streams, args []string) error {
	cmd := newRootCommand(func(_ context.Context, opts *options) error {
		return run(ctx, stop, s, opts)
	})
	wrapHelp(cmd, helpWidth(s))
	cmd.SetArgs(args)
	cmd.SetIn(s.In)
	cmd.SetOut(s.Out)
	cmd.SetErr(s.Err)
	plainCompletionUsages(cmd, args)
	err := longWithOneDash(cmd, args)
	if err == nil {
		err = cmd.ExecuteContext(ctx)
	}
	var usage usageError
	switch {
	case errors.As(err, &usage) && len(args) > 0 && args[0] == "completion":
		// Its own usage (fetchpool completion tcsh): its help says
		// what it takes, fetchpool --help nothing of shells. Not so
		// for fetchpool flags before it (fetchpool -q completion).
		fmt.Fprintf(s.Err, "fetchpool: %v\nRun 'fetchpool completion --help' for usage.\n", err)
	case errors.As(err, &usage):
		fmt.Fprintf(s.Err, "fetchpool: %v\nRun 'fetchpool --help' for usage.\n", err)
	case err != nil && !errors.Is(err, errFailed) && !errors.Is(err, errInterrupted):
		fmt.Fprintf(s.Err, "fetchpool: %v\n", err)
	}
	return err
}

// helpWidth is the width --help wraps at: the terminal's (less one column,
// so that no line ends at its very edge), else 80.
func helpWidth(s *streams) int {
	if s.OutTerminal && s.Width != nil {
		return max(s.Width()-1, 40)
	}
	return 80
}

// run is the whole program once the flags parse: it wires the input, the
// engine and the sinks, and maps the outcome to an error for the exit code.
func run(ctx, stop context.Context, s *streams, opts *options) error {
	start := time.Now()
	c, err := configure(opts, s)
	if err != nil {
		return err
	}
	if s.Hashing != nil {
		s.Hashing(c.fetch.Hash || opts.SHA256 != "" || opts.Checksums != "")
	}
	if err := c.openInputs(stop, opts, s); err != nil {
		return err
	}
	defer func() {
		for _, cl := range c.closers {
			cl.Close()
		}
	}()
	// Made by this run, which the note on curl's -o below needs to know.
	_, statErr := os.Lstat(opts.OutputDir)
	newDir := errors.Is(statErr, fs.ErrNotExist)
	prepare := pool.PrepareOutputDir
	if opts.DryRun {
		prepare = pool.CheckOutputDir // which creates nothing
	}
	if err := prepare(opts.OutputDir); err != nil {
		return usageError{err}
	}
	client, err := newClient(stop, s, c.fetch)
	if errors.Is(err, errInterrupted) {
		return err
	}
	if err != nil {
		return usageError{err}
	}
	defer client.CloseIdleConnections()

	// A reader of standard output or standard error that goes away
	// (fetchpool --json | head, fetchpool 2>&1 | head) stops the run as a
	// first Ctrl-C does: nothing new starts, and what is in flight
	// finishes, so no download is left half done.
	stop, outputFailed := context.WithCancelCause(stop)
	defer outputFailed(nil)
	out := &outputWatch{w: s.Out, failed: outputFailed, closed: errOutputClosed}
	errOut := &outputWatch{w: s.Err, failed: outputFailed, closed: errStderrClosed, pipeOnly: true}

	// A reader of the output that stops reading without going away
	// (fetchpool --json | a stuck program) blocks the sinks, and with them
	// every worker that reports: even a second Ctrl-C could not end the run.
	finished := make(chan struct{})
	defer close(finished)
	failed := opts.Failed
	if opts.DryRun {
		failed = "" // not written (sinks): the list there is a real run's
	}

	summary := report.NewSummary(start)
	summary.DryRun = opts.DryRun
	summary.Checksums = opts.Checksums
	summary.Failed, summary.Report = failed, opts.Report
	if opts.Checksums == "-" {
		summary.Checksums = "the checksums read from standard input"
	}
	sinks, err := c.sinks(stop, opts, s, out, errOut, summary, start)
	if err != nil {
		return err // the report and list of an earlier run are kept
	}
	// The run starts: the report and list of an earlier run go, so that
	// one killed before its end leaves neither for its own.
	if c.report != nil {
		c.report.Begin()
	}
	if c.failed != nil {
		c.failed.Begin()
	}
	go exitIfStuck(ctx, finished, s, c.unfinished(opts))
	d := report.NewDispatcher(100*time.Millisecond, sinks...)
	c.pool.Emit = d.Emit
	var taken input.Position
	c.pool.Taken = taken.Take
	runErr := pool.Run(ctx, stop, input.NewReader(opts.Args, c.sources), client, c.pool)
	// Neither the counts nor the items of the summary, --report and
	// --failed can tell of what was not read: they say where it begins.
	unread := "the rest of the input was not read"
	if where := taken.Where(); where != "" {
		unread = "the rest of the input (after " + where + ") was not read"
	}
	var inputErr error
	stopped := ""           // said after the summary of a run interrupted before the end of its input
	var restCut atomic.Bool // the copy of the unread rest into --failed was cut short
	switch {
	case runErr != nil:
		// The input broke off midway: what was read has been handled.
		inputErr = fmt.Errorf("the input ended early: %w; %s: to finish the list, run it again once the input can be read (finished files are skipped)", runErr, unread)
		c.endWith(report.Unread{After: taken.Where(), Reason: runErr.Error()},
			"the input ended early: "+runErr.Error()+"; "+unread+"; to finish the list, run the whole list again once the input can be read (finished files are skipped)")
	case stop.Err() != nil && !taken.Ended() && !input.NothingAfter(opts.Args, c.sources, taken.Last(), c.pool.Shard):
		why := stopReason(stop)
		var rest *input.Reader
		if c.failed != nil {
			rest = input.Rest(opts.Args, c.sources, taken.Last(), c.pool.Shard)
		}
		if rest != nil {
			// The list can hold the rest too: then it is all that is left.
			c.failed.Rest(untilAborted(ctx, rest.Next, &restCut))
			if c.report != nil {
				c.report.SetUnread(report.Unread{After: taken.Where(), Reason: why})
			}
			stopped = fmt.Sprintf("%s; %s lists it after what did not finish: fetchpool -i %s finishes the list (or run the whole list again: finished files are skipped)",
				unread, opts.Failed, opts.Failed)
			break
		}
		stopped = unread + ": to finish the list, run it again (finished files are skipped)"
		if opts.DryRun {
			stopped = unread + ", so it was not planned"
		}
		c.endWith(report.Unread{After: taken.Where(), Reason: why},
			why+": "+unread+"; to finish the list, run the whole list again (finished files are skipped)")
	}
	closeErr := d.Close()
	// The summary must not send the user to a file that is not there.
	if c.report != nil && !c.report.Written() {
		summary.Report, summary.Unwritten = "", true
	}
	if c.failed != nil && !c.failed.Written() {
		summary.Failed, summary.Unwritten = "", true
	}
	if restCut.Load() {
		stopped = fmt.Sprintf("%s; %s lists only the start of it, as a second interrupt cut the listing short: to finish the list, run the whole list again (finished files are skipped)",
			unread, opts.Failed)
	}
	summary.Print(s.Err)
	if stopped != "" {
		fmt.Fprintln(s.Err, stopped)
	}
	if stop.Err() == nil && inputErr == nil && !opts.Quiet && !opts.DryRun && noItems(summary.Counts()) {
		fmt.Fprintf(s.Err, "note: %s held no items, so nothing was fetched\n", inputNames(opts, c.pool.Shard))
	}
	if newDir && !opts.DryRun && !opts.Quiet && len(opts.Args) == 1 && len(opts.Inputs) == 0 && namedLikeItsFile(opts.OutputDir) {
		fmt.Fprintf(s.Err, "note: -o %s is the directory the file was saved in, not its name as with curl -o; to name the file, give URL<TAB>NAME on standard input\n", opts.OutputDir)
	}
	if opts.Bell && s.ErrTerminal {
		fmt.Fprint(s.Err, "\a")
	}

	cause := context.Cause(stop)
	outputClosed := errors.Is(cause, errOutputClosed) || errors.Is(cause, errStderrClosed)
	switch {
	case closeErr != nil && !outputClosed:
		return fmt.Errorf("writing the results: %w", closeErr)
	case stop.Err() != nil:
		switch {
		case errors.Is(cause, errOutputClosed) && opts.DryRun:
			fmt.Fprintln(s.Err, "fetchpool: standard output was closed (broken pipe): planning stopped there")
		case errors.Is(cause, errOutputClosed):
			fmt.Fprintln(s.Err, "fetchpool: standard output was closed (broken pipe): no transfer was started after that, and those in flight were finished")
		}
		if inputErr != nil {
			// The exit code says interrupted; the input broke off too.
			fmt.Fprintf(s.Err, "fetchpool: %v\n", inputErr)
		}
		return errInterrupted
	case inputErr != nil:
		return inputErr
	}
	counts := summary.Counts()
	if counts.Failed > 0 || counts.Canceled > 0 {
		return errFailed
	}
	return nil
}

// sinks chooses where the run's events go, from the flags and the terminal.
// Creating a --report or --failed that is a named pipe waits for its
// reader, which stop cuts short.
func (c *config) sinks(stop context.Context, opts *options, s *streams, stdout, stderr io.Writer, summary *report.Summary, start time.Time) ([]report.Sink, error) {
	sinks := []report.Sink{summary}
	var bars *report.Terminal
	// TERM=dumb cannot move the cursor, which the bars need. Nor do they
	// go with items typed at the terminal (-i -): each redraw would wipe
	// the line being typed.
	typing := s.InTerminal && slices.Contains(opts.Inputs, "-")
	if !opts.DryRun && s.ErrTerminal && s.Getenv("TERM") != "dumb" && !opts.NoProgress && !opts.Quiet && !typing {
		bars = report.NewTerminal(stderr, report.TerminalOptions{
			Width:   s.Width,
			Height:  s.Height,
			Verbose: opts.Verbose,
			NoColor: s.Getenv("NO_COLOR") != "",
		})
	}
	out := stdout
	if bars != nil && s.OutTerminal {
		// Standard output shares the screen with the bars: its lines
		// must be printed above them, not under them.
		out = bars.Above(stdout)
	}
	switch {
	case opts.DryRun && !opts.JSON:
		sinks = append(sinks, report.NewDryRun(stdout))
	case opts.JSON:
		sinks = append(sinks, report.NewJSON(out))
	}
	if opts.Report != "" {
		r, err := createOutput(stop, s, "--report", opts.Report, func(path string) (*report.Document, error) {
			return report.NewDocument(path, start)
		})
		if errors.Is(err, errInterrupted) {
			return nil, err
		}
		if err != nil {
			return nil, usagef("cannot write --report file %s: %w%s", opts.Report, fileReason(err), missingDir(opts.Report, err))
		}
		sinks = append(sinks, r)
		c.report = r
	}
	if opts.Failed != "" && !opts.DryRun {
		// A dry run fails nothing to retry: the list that a real run
		// left, which its --failed names, is kept as it is.
		f, err := createOutput(stop, s, "--failed", opts.Failed, report.NewFailed)
		if err != nil && c.report != nil {
			c.report.Discard()
		}
		if errors.Is(err, errInterrupted) {
			return nil, err
		}
		if err != nil {
			return nil, usagef("cannot write --failed file %s: %w%s", opts.Failed, fileReason(err), missingDir(opts.Failed, err))
		}
		sinks = append(sinks, f)
		c.failed = f
	}
	if opts.DryRun {
		return sinks, nil
	}
	if bars != nil {
		return append(sinks, bars), nil
	}
	sinks = append(sinks, report.NewPlain(stderr, report.PlainOptions{Quiet: opts.Quiet, Verbose: opts.Verbose}))
	return sinks, nil
}

// createOutput creates the output file path, given with flag, with create.
// Opening a named pipe for writing blocks until a program opens it for
// reading, which may be never (its reader failed to start): that open
// gives way to Ctrl-C (see aside).
func createOutput[T any](stop context.Context, s *streams, flag, path string, create func(string) (T, error)) (T, error) {
	if fi, err := os.Stat(path); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return create(path)
	}
	return aside(stop, s, "nothing was fetched: "+flag+" "+path+" is a named pipe that no program opened for reading",
		func() (T, error) { return create(path) })
}
