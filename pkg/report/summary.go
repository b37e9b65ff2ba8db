package report

import (
	"cmp"
	"container/heap"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// MaxListedFailures is how many failed or canceled items a Summary keeps to
// list by name: the first ones in the input. The rest are only counted, so
// memory does not grow with the number of failures. --report and --failed
// list them all.
const MaxListedFailures = 1000

// Summary counts how items ended and prints the summary a run ends with.
//
// Counts and Print must not run at the same time as Handle: call them after
// the Dispatcher that feeds the Summary is closed. Make one with
// NewSummary; the zero Summary is not usable.
type Summary struct {
	start    time.Time
	end      time.Time
	now      func() time.Time
	tally    tally
	failures failures // at most maxListed, the first in the input
	ended    int      // failures so far, kept or not
	more     int      // failures not kept in failures
	// maxListed is MaxListedFailures; tests lower it.
	maxListed int
	unchecked int    // files saved with no digest to check them against (Checksums)
	first     string // the first of them, as a path

	// DryRun says that the run plans items instead of fetching them, so
	// that the summary says what was planned even when nothing was.
	DryRun bool
	// Checksums names the list of digests the run was given (--checksums
	// FILE), "" for none. With it, the summary counts the files saved
	// that the list has no entry for, and says so after the failures:
	// they were saved unverified, which must not go unsaid.
	Checksums string
	// Failed and Report name the --failed list and the --report document
	// that the run writes ("" for none): where the failures past the
	// first MaxListedFailures can be read, as the summary says. Without
	// either, it says how to have them all.
	Failed, Report string
	// Unwritten says that a --failed list or a --report document was to
	// be written but could not be (then its name is not in Failed or
	// Report): the summary does not send the user to it, nor tell them to
	// ask for one.
	Unwritten bool
}

// NewSummary returns a Summary of a run that started at start.
func NewSummary(start time.Time) *Summary {
	return &Summary{start: start, now: time.Now, maxListed: MaxListedFailures}
}

// Handle counts a finished item and keeps the lines of the failures that
// come first in the input (Result.Seq), whatever order they end in.
func (s *Summary) Handle(ev event.Event) {
	s.tally.add(ev)
	if ev.Kind != event.Finished || ev.Result == nil {
		return
	}
	r := ev.Result
	if s.Checksums != "" && r.Status == event.StatusOK && r.WantSHA256 == "" {
		if s.unchecked == 0 {
			s.first = r.Output
		}
		s.unchecked++
	}
	if r.Status != event.StatusFailed && r.Status != event.StatusCanceled {
		return
	}
	s.ended++
	f := failure{seq: r.Seq, ended: s.ended}
	switch {
	case len(s.failures) < s.maxListed:
		f.line = failureLine(r, ev.Progress != nil)
		heap.Push(&s.failures, f)
	case s.maxListed > 0 && f.before(s.failures[0]):
		// It comes before the last one kept, which makes room.
		f.line = failureLine(r, ev.Progress != nil)
		s.failures[0] = f
		heap.Fix(&s.failures, 0)
		s.more++
	default:
		s.more++
	}
}

// failure is the summary's line for an item that failed or was canceled.
type failure struct {
	seq   uint64 // Result.Seq: the item's place in the input
	ended int    // the order it ended in, for items of the same seq
	line  string
}

// before tells whether f is listed before g: input order, then the order
// they ended in (items without a Seq keep that order).
func (f failure) before(g failure) bool {
	return compareFailures(f, g) < 0
}

func compareFailures(f, g failure) int {
	return cmp.Or(cmp.Compare(f.seq, g.seq), cmp.Compare(f.ended, g.ended))
}

// failures is a heap whose top is the failure listed last: the one to
// drop when one that comes before it arrives and the list is full.
type failures []failure

func (h failures) Len() int           { return len(h) }
func (h failures) Less(i, j int) bool { return h[j].before(h[i]) }
func (h failures) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *failures) Push(x any)        { *h = append(*h, x.(failure)) }
func (h *failures) Pop() any {
	old := *h
	f := old[len(old)-1]
	*h = old[:len(old)-1]
	return f
}

// Close marks the end of the run, so that Elapsed no longer grows. It
// always returns nil.
func (s *Summary) Close() error {
	if s.end.IsZero() {
		s.end = s.now()
	}
	return nil
}

// Counts reports the counts so far. Elapsed runs from the start until Close
// (or until now, before Close).
func (s *Summary) Counts() Counts {
	c := s.tally.Counts
	end := s.end
	if end.IsZero() {
		end = s.now()
	}
	c.Elapsed = max(end.Sub(s.start), 0)
	return c
}

// Print writes the summary to w: one line with the counts, bytes, elapsed
// time and average rate, then one line per failed or canceled item, in
// input order, and, with Checksums, how many files it had no entry for,
// e.g.
//
//	done 12, skipped 1, failed 2, not started 3 · 14.2 MiB in 3.1s (4.6 MiB/s)
//	FAIL urls.txt:3 https://x/y: HTTP 404 Not Found (1 attempt)
//	not checked: 1 of the files saved have no entry in SHA256SUMS (the first: b.iso)
//
// A write error is ignored: there is nowhere left to report it.
func (s *Summary) Print(w io.Writer) {
	var b strings.Builder
	b.WriteString(countsLine(s.Counts(), s.DryRun))
	b.WriteByte('\n')
	for _, f := range slices.SortedFunc(slices.Values(s.failures), compareFailures) {
		b.WriteString(f.line)
		b.WriteByte('\n')
	}
	if s.more > 0 {
		b.WriteString("... and " + plural(s.more, "more failure") + " (" + s.whereListed() + ")\n")
	}
	if s.unchecked > 0 {
		b.WriteString("not checked: " + strconv.Itoa(s.unchecked) + " of the files saved have no entry in " +
			s.Checksums + " (the first: " + s.first + ")\n")
	}
	_, _ = io.WriteString(w, b.String())
}

// whereListed says where every failure can be read, for the summary line
// that counts those it does not list.
func (s *Summary) whereListed() string {
	switch {
	case s.Failed != "" && s.Report != "":
		return "all are listed in " + s.Failed + " and " + s.Report
	case s.Failed != "":
		return "all are listed in " + s.Failed
	case s.Report != "":
		return "all are listed in " + s.Report
	case s.Unwritten:
		return "the file that was to list them all could not be written: see below"
	case s.DryRun:
		return "run with --report FILE to list them all"
	}
	return "run with --failed FILE to list them all"
}

// countsLine is the first line of the summary. A dry run says how many
// items it planned (none, for an empty input) and how many it could not
// plan, and the duplicates it dropped as the line of a run that fetches
// does, instead of counting what was fetched:
//
//	dry run: 3 items planned, 1 failed, duplicates dropped 2, nothing fetched
func countsLine(c Counts, dryRun bool) string {
	if (dryRun || c.Planned > 0) && c.Done+c.Skipped+c.NotStarted+c.Canceled == 0 {
		line := "dry run: " + plural(c.Planned, "item") + " planned"
		if c.Failed > 0 {
			line += ", " + strconv.Itoa(c.Failed) + " failed"
		}
		if c.Duplicates > 0 {
			line += ", duplicates dropped " + strconv.Itoa(c.Duplicates)
		}
		return line + ", nothing fetched"
	}
	var b strings.Builder
	b.WriteString("done " + strconv.Itoa(c.Done))
	b.WriteString(", skipped " + strconv.Itoa(c.Skipped))
	b.WriteString(", failed " + strconv.Itoa(c.Failed))
	b.WriteString(", not started " + strconv.Itoa(c.NotStarted))
	if c.Canceled > 0 {
		b.WriteString(", canceled " + strconv.Itoa(c.Canceled))
	}
	if c.Duplicates > 0 {
		b.WriteString(", duplicates dropped " + strconv.Itoa(c.Duplicates))
	}
	b.WriteString(" · " + humanSize(c.Bytes) + " in " + humanDuration(c.Elapsed))
	if c.Elapsed > 0 {
		b.WriteString(" (" + humanRate(float64(c.Bytes)/c.Elapsed.Seconds()) + ")")
	}
	return b.String()
}

// failureLine is "FAIL urls.txt:3 https://x/y: HTTP 404 Not Found (1 attempt)".
func failureLine(r *event.Result, started bool) string {
	label, rest := finishedLine(r, started)
	line := label + " " + rest
	if r.Attempts == 1 && r.Status == event.StatusFailed && overNetwork(r.Item.URL) {
		// Several attempts are told by the error itself ("after 3 attempts:
		// ..."). A local file is not tried again: its one attempt is noise.
		line += " (1 attempt)"
	}
	return line
}

// overNetwork tells an http(s) URL from a local path or a file:// URL.
func overNetwork(url string) bool {
	scheme, _, ok := strings.Cut(url, "://")
	return ok && (strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https"))
}

// Wants tells whether Summary does anything with events of kind k: it
// counts items, so attempts, retries and redirects do not matter.
func (s *Summary) Wants(k event.Kind) bool {
	return !verboseOnly(k)
}
