// Package event defines what a run reports: the life of each item and the
// live progress of each transfer. The engine emits events; report sinks turn
// them into bars, lines or JSON.
package event

import (
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/fetchpool/fetchpool/pkg/input"
)

// Kind says what happened.
type Kind uint8

// The kinds of event, in the order an item meets them.
const (
	// Queued: the item was admitted to the queue.
	Queued Kind = iota + 1
	// Started: a worker took the item; Progress is live until Finished.
	// Until Progress.Waiting is false the transfer still waits at the gate
	// (--rate, --per-host) and has sent nothing; it waits again, with
	// Waiting set, when a later request (a retry's) waits at the gate.
	Started
	// Attempt: one request attempt begins (Attempt is 1-based): its
	// request is through the gate (--rate, --per-host) and about to be
	// sent. An attempt that waits at the gate is not announced until it
	// gets through. Message, when set, says what it asks for when that is
	// not the whole file the usual way, e.g. "bytes 0-1023" for one range
	// of a split.
	Attempt
	// Redirect: a redirect was followed; Message holds the new URL, and
	// Attempt counts the redirects of the request so far (1 for the
	// first).
	Redirect
	// Retry: an attempt failed with Err and is retried after Wait.
	Retry
	// Finished: the item is over; Result is set.
	Finished
	// Draining: a graceful shutdown began; InFlight transfers are awaited.
	Draining
	// Aborting: in-flight transfers are being aborted; InFlight are affected.
	Aborting
	// Planned: a dry run would fetch Item into Output; nothing is sent.
	Planned
	// Duplicate: Item asks for the same request and output as an earlier
	// item, and is dropped; it gets no other event.
	Duplicate
	// InputEnd: the input was read to its end, before any shutdown: every
	// item of the run has had its Queued (or Duplicate) event, and no more
	// will come. A run whose input failed, or that stopped reading it for
	// a shutdown, has none.
	InputEnd
)

var kindNames = [...]string{Queued: "queued", Started: "started", Attempt: "attempt", Redirect: "redirect",
	Retry: "retry", Finished: "finished", Draining: "draining", Aborting: "aborting", Planned: "planned",
	Duplicate: "duplicate", InputEnd: "input end"}

// String is the kind's name in lower case, like "finished".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ErrNotStarted ends, as canceled, an item whose transfer never sent a
// request because a shutdown began first (queued, or waiting for the
// request rate or a slot of its host). fetch.ErrNotStarted and
// pool.ErrNotStarted are this same value, so errors.Is matches it
// whichever package ended the item.
var ErrNotStarted = errors.New("not started: the run was interrupted")

// Status is how an item ended.
type Status string

// The statuses an item can end with.
const (
	StatusOK       Status = "ok"
	StatusSkipped  Status = "skipped"
	StatusFailed   Status = "failed"
	StatusCanceled Status = "canceled"
)

// Event is one fact about a run. Only the fields that matter for its Kind
// are set.
//
// Every admitted item gets exactly one Queued and one Finished event (or,
// in a dry run, Queued and Planned, unless it cannot be planned: a line
// that does not parse or a missing local source is Finished, failed, as
// in a real run). Started comes between them only for
// items a worker began; such an item's Finished event carries the same
// Progress, so a renderer can tell in-flight items from queued ones by
// whether Finished has a Progress.
type Event struct {
	Kind     Kind
	Time     time.Time
	Item     input.Item
	Output   string    // destination path, when known
	Progress *Progress // Started, Finished, and Attempt, Retry, Redirect of a transfer
	Attempt  int       // Attempt, Retry; the redirect's number for Redirect
	Wait     time.Duration
	Err      error
	Message  string
	InFlight int     // Draining, Aborting
	Result   *Result // Finished
}

// Result is the outcome of one item.
type Result struct {
	Item       input.Item
	Seq        uint64 // the item's place in the input, from 1 (items end in another order)
	FinalURL   string // where redirects led: the URL of the last response; "" without a redirect
	Output     string // saved file's path: the output dir joined with the name
	Status     Status
	Bytes      int64 // bytes received (or copied) by this run, retries included
	Size       int64 // size of the saved file when Status is StatusOK, of the file kept when StatusSkipped
	SHA256     string
	HTTPStatus int
	Attempts   int
	// Duration is the time the item spent being fetched: from its first
	// request through the gate to its end, retries, their backoff and
	// their waits at the gate included, but not the wait for its first
	// turn at the gate (--rate, --per-host) nor its time in the queue.
	// About 0 for an item that never got through the gate.
	Duration time.Duration
	Err      error  // why it failed or was canceled; nil when it is ok or skipped
	Reason   string // why it was skipped, e.g. "exists"; "" unless Status is StatusSkipped
	// Name is the name the item was given, relative to the output
	// directory with '/' separators, when it is not the one the item's
	// input alone gives it: the name was taken (by an earlier item, a
	// directory, another URL's .part, or an existing file with
	// --on-exists rename) and got a ".N" suffix, when the item was
	// admitted or when it moved to its server's (Content-Disposition)
	// name. A list that is read again (--failed) names the item so, for a
	// retry of the bare URL would pick the plain name. "" when the item
	// has the name it would get on its own, or never got one.
	Name string
	// WantSHA256 is the digest the item was to match: its own, --sha256's,
	// or the --checksums entry found for its name ("" = none). A list that
	// names the item by Name keeps it, for a retry under that name would
	// not find the same --checksums entry.
	WantSHA256 string
}

// Progress is the live state of one transfer. The transfer pushes facts with
// single atomic operations; renderers read them whenever they like, from any
// goroutine, without locks. Make one with NewProgress: a zero Progress
// reports a total of 0, not -1 (unknown).
type Progress struct {
	// Name is what a person should see for this transfer, until Rename.
	Name    string
	Start   time.Time
	done    atomic.Int64
	total   atomic.Int64
	renamed atomic.Pointer[string]
	waiting atomic.Bool
}

// NewProgress returns the progress of a transfer that starts now, with an
// unknown total.
func NewProgress(name string) *Progress {
	p := &Progress{Name: name, Start: time.Now()}
	p.total.Store(-1)
	return p
}

// Rename sets what a person should see for this transfer from now on,
// such as the name its server gave in Content-Disposition.
func (p *Progress) Rename(name string) { p.renamed.Store(&name) }

// Renamed reports the name given to Rename, or "" if there was none.
func (p *Progress) Renamed() string {
	if n := p.renamed.Load(); n != nil {
		return *n
	}
	return ""
}

// SetWaiting tells whether the transfer waits at the gate (for the
// request rate or a slot of its host) before its next request: a worker
// took it, but nothing is being sent, so it is not in flight. The engine
// sets it before the Started event of a transfer that may wait, and clears
// it when the first request gets through; it sets it again while a later
// request, such as a retry's, waits at the gate. A Progress that never had
// it set is in flight from Started on.
func (p *Progress) SetWaiting(w bool) { p.waiting.Store(w) }

// Waiting reports whether the transfer waits at the gate before its next
// request (see SetWaiting).
func (p *Progress) Waiting() bool { return p.waiting.Load() }

// Add records n more bytes received.
func (p *Progress) Add(n int64) { p.done.Add(n) }

// SetDone sets the bytes held so far, e.g. when resuming or restarting.
func (p *Progress) SetDone(n int64) { p.done.Store(n) }

// SetTotal sets the expected size in bytes; -1 means unknown.
func (p *Progress) SetTotal(n int64) { p.total.Store(n) }

// Done reports the bytes held so far.
func (p *Progress) Done() int64 { return p.done.Load() }

// Total reports the expected size in bytes, or -1 if it is unknown.
func (p *Progress) Total() int64 { return p.total.Load() }
