package report

import (
	"errors"
	"strconv"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// Counts is how many items ended which way, and the bytes and time a run took.
type Counts struct {
	Done    int
	Skipped int
	Failed  int
	// NotStarted counts canceled items that no worker began.
	NotStarted int
	// Canceled counts transfers that were in flight when they were aborted.
	Canceled int
	// Planned counts the items a dry run planned.
	Planned int
	// Duplicates counts the items dropped as the same as an earlier one.
	Duplicates int
	// Bytes is the sum of the bytes every item wrote in this run.
	Bytes   int64
	Elapsed time.Duration
}

// tally follows the life of items to know how many are queued, in flight and
// over. Every sink that shows counts embeds one, so they all agree.
type tally struct {
	Counts
	queued   int
	inFlight int
}

// add accounts for ev and reports the Result of a Finished event.
func (t *tally) add(ev event.Event) {
	switch ev.Kind {
	case event.Queued:
		t.queued++
	case event.Started:
		t.queued--
		t.inFlight++
	case event.Planned:
		t.queued--
		t.Planned++
	case event.Duplicate:
		t.Duplicates++
	case event.Finished:
		if ev.Progress != nil {
			t.inFlight--
		} else {
			t.queued--
		}
		if ev.Result != nil {
			t.count(ev.Result, ev.Progress != nil)
		}
	}
}

func (t *tally) count(r *event.Result, started bool) {
	t.Bytes += r.Bytes
	switch r.Status {
	case event.StatusOK:
		t.Done++
	case event.StatusSkipped:
		t.Skipped++
	case event.StatusCanceled:
		// A transfer withdrawn while it waited for --rate or --per-host
		// had begun, but sent nothing: it was not started either.
		if started && !errors.Is(r.Err, event.ErrNotStarted) {
			t.Canceled++
		} else {
			t.NotStarted++
		}
	default:
		t.Failed++
	}
}

// finished is how many items are over, whichever way.
func (t *tally) finished() int {
	return t.completed() + t.NotStarted + t.Canceled
}

// completed is how many items were dealt with: fetched, skipped or failed.
// Items canceled by a shutdown, begun or not, are over but were not done.
func (t *tally) completed() int {
	return t.Done + t.Skipped + t.Failed
}

// statusFields are the labelled counts of a status line, in the order a
// person reads them. waiting is how many of the transfers a worker began
// wait at the gate (--rate, --per-host) before their next request (the
// first, or a retry's): they are not in flight, and are counted apart,
// when there are any.
func (t *tally) statusFields(waiting int) []string {
	fields := make([]string, 0, 6)
	fields = append(fields, "queued "+strconv.Itoa(t.queued))
	if waiting > 0 {
		fields = append(fields, "waiting "+strconv.Itoa(waiting))
	}
	return append(fields,
		"in flight "+strconv.Itoa(t.inFlight-waiting),
		"done "+strconv.Itoa(t.Done),
		"failed "+strconv.Itoa(t.Failed),
		"skipped "+strconv.Itoa(t.Skipped),
	)
}
