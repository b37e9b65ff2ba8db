package report

import (
	"io"
	"strings"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// DefaultHeartbeat is how often Plain prints a status line while transfers
// are in flight, unless PlainOptions says otherwise.
const DefaultHeartbeat = 10 * time.Second

// PlainOptions says what a Plain sink prints.
type PlainOptions struct {
	// Quiet prints only failures and the shutdown lines: no ok, skip,
	// canceled or heartbeat lines.
	Quiet bool
	// Verbose also prints each attempt, retry and redirect (unless Quiet).
	Verbose bool
	// Heartbeat is the least time between two status lines; 0 means
	// DefaultHeartbeat.
	Heartbeat time.Duration
}

// Plain writes one line per finished item, for logs and pipes: it never
// writes an ANSI escape. While transfers are in flight it also writes a
// status line, never more often than the heartbeat interval. Lines look like
//
//	ok   out/a.bin  1.2 MiB  0.4s
//	skip out/b.bin  (exists)
//	FAIL urls.txt:3 https://x/y: HTTP 404 Not Found
//	CANCEL urls.txt:4 https://x/z: not started
//	queued 3 · in flight 8 · done 120 · failed 2 · skipped 0 · 1.2 GiB
type Plain struct {
	w        io.Writer
	opts     PlainOptions
	tally    tally
	inFlight map[*event.Progress]struct{}
	lastBeat time.Time
}

// NewPlain returns a Plain sink that writes to w.
func NewPlain(w io.Writer, opts PlainOptions) *Plain {
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	return &Plain{w: w, opts: opts, inFlight: make(map[*event.Progress]struct{})}
}

// Handle prints the line an event calls for, if any.
func (p *Plain) Handle(ev event.Event) {
	p.tally.add(ev)
	if p.lastBeat.IsZero() && !ev.Time.IsZero() {
		p.lastBeat = ev.Time
	}
	switch ev.Kind {
	case event.Started:
		if ev.Progress != nil {
			p.inFlight[ev.Progress] = struct{}{}
		}
	case event.Finished:
		delete(p.inFlight, ev.Progress)
		if ev.Result == nil {
			return
		}
		if p.opts.Quiet && ev.Result.Status != event.StatusFailed {
			return
		}
		label, rest := finishedLine(ev.Result, ev.Progress != nil)
		p.println(padLabel(label) + rest)
	case event.Attempt, event.Retry, event.Redirect, event.Duplicate:
		if p.opts.Verbose && !p.opts.Quiet {
			p.println(verboseLine(ev))
		}
	case event.Draining, event.Aborting:
		p.println(stopLine(ev))
	}
}

// Tick prints a status line when transfers are in flight and the heartbeat
// interval has passed since the last one (or since the run began).
func (p *Plain) Tick(now time.Time) {
	if p.opts.Quiet {
		return
	}
	if p.lastBeat.IsZero() {
		p.lastBeat = now
		return
	}
	if p.tally.inFlight <= 0 || now.Sub(p.lastBeat) < p.opts.Heartbeat {
		return
	}
	p.lastBeat = now
	bytes, waiting := p.tally.Bytes, 0
	for pr := range p.inFlight {
		bytes += pr.Done()
		if pr.Waiting() {
			waiting++
		}
	}
	p.println(strings.Join(p.tally.statusFields(waiting), " · ") + " · " + humanSize(bytes))
}

func (p *Plain) println(line string) {
	_, _ = io.WriteString(p.w, line+"\n")
}

// Wants tells whether Plain does anything with events of kind k: attempts,
// retries and redirects only matter when it prints them.
func (p *Plain) Wants(k event.Kind) bool {
	return !verboseOnly(k) || (p.opts.Verbose && !p.opts.Quiet)
}
