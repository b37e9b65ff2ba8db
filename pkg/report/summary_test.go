package report

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

func TestSummaryPrint(t *testing.T) {
	manyFailures := func() []event.Event {
		var r run
		for i := 1; i <= 5; i++ {
			it := item(i, fmt.Sprintf("https://example.com/%d", i))
			r.queue(it)
			r.finish(it, nil, event.Result{Status: event.StatusFailed, Attempts: 4,
				Err: errors.New("connection refused")})
		}
		return r.events
	}
	dryRun := []event.Event{
		{Kind: event.Queued, Item: item(1, "https://example.com/a")},
		{Kind: event.Planned, Item: item(1, "https://example.com/a"), Output: "a"},
		{Kind: event.Queued, Item: item(2, "https://example.com/b")},
		{Kind: event.Planned, Item: item(2, "https://example.com/b"), Output: "b"},
	}
	tests := []struct {
		name    string
		events  []event.Event
		elapsed time.Duration
		cap     int
		dryRun  bool
	}{
		{"summary_empty", nil, 0, MaxListedFailures, false},
		{"summary_sample", sampleRun(), 3140 * time.Millisecond, MaxListedFailures, false},
		{"summary_capped", manyFailures(), 2 * time.Minute, 3, false},
		{"summary_dry_run", dryRun, time.Millisecond, MaxListedFailures, true},
		// A dry run of an empty input planned nothing, and says so in
		// the words of one that planned items.
		{"summary_dry_run_empty", nil, time.Millisecond, MaxListedFailures, true},
		// Items that could not be planned are counted, and listed, as in
		// a run that fetches.
		{"summary_dry_run_failed", dryRunWithFailure(), time.Millisecond, MaxListedFailures, true},
		// Duplicates dropped are counted as in the line of a run that
		// fetches, after the items planned and failed.
		{"summary_dry_run_duplicates", withDuplicates(dryRun, 2), time.Millisecond, MaxListedFailures, true},
		{"summary_dry_run_failed_duplicates", withDuplicates(dryRunWithFailure(), 1), time.Millisecond, MaxListedFailures, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSummary(t0)
			s.maxListed = tt.cap
			s.DryRun = tt.dryRun
			s.now = func() time.Time { return at(tt.elapsed) }
			feed(s, tt.events)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			s.Print(&buf)
			golden(t, tt.name, buf.String())
		})
	}
}

// withDuplicates is events followed by n Duplicate events of the first
// item, as the pool emits for the same URL read again.
func withDuplicates(events []event.Event, n int) []event.Event {
	out := append([]event.Event(nil), events...)
	for range n {
		out = append(out, event.Event{Kind: event.Duplicate, Item: events[0].Item})
	}
	return out
}

func TestSummaryCounts(t *testing.T) {
	s := NewSummary(t0)
	now := at(3 * time.Second)
	s.now = func() time.Time { return now }
	feed(s, sampleRun())
	s.Close()
	now = at(time.Hour) // after Close, the clock no longer matters
	got := s.Counts()
	want := Counts{Done: 1, Skipped: 1, Failed: 2, NotStarted: 1, Canceled: 1,
		Bytes: 1258291 + 3<<20, Elapsed: 3 * time.Second}
	if got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}
}

// A million failures must not keep a million lines, even when each one
// that ends comes earlier in the input than those kept so far.
func TestSummaryMemoryIsCapped(t *testing.T) {
	s := NewSummary(t0)
	for i := MaxListedFailures + 500; i > 0; i-- {
		s.Handle(event.Event{Kind: event.Queued})
		s.Handle(event.Event{Kind: event.Finished, Result: &event.Result{Seq: uint64(i), Status: event.StatusFailed,
			Err: errors.New("nope")}})
	}
	if len(s.failures) != MaxListedFailures || s.more != 500 {
		t.Errorf("kept %d lines and counted %d more, want %d and 500", len(s.failures), s.more, MaxListedFailures)
	}
	for _, f := range s.failures {
		if f.seq > MaxListedFailures {
			t.Errorf("kept the failure of item %d, not among the first %d", f.seq, MaxListedFailures)
			break
		}
	}
	if c := s.Counts(); c.Failed != MaxListedFailures+500 {
		t.Errorf("Failed = %d", c.Failed)
	}
}

// TestSummaryListsFailuresInInputOrder: the summary lists failed and
// canceled items in the order of the input (Result.Seq), not the order they
// ended in; when it lists only some, those are the first in the input, and
// the rest are counted.
func TestSummaryListsFailuresInInputOrder(t *testing.T) {
	tests := []struct {
		name  string
		ended []int // the Seq of each failure, in the order they end
		cap   int
		want  []int // the Seq of each listed failure, in order
		more  int
	}{
		{"in order", []int{1, 2, 3}, 10, []int{1, 2, 3}, 0},
		{"out of order", []int{5, 2, 9, 1, 7, 3}, 10, []int{1, 2, 3, 5, 7, 9}, 0},
		{"capped", []int{5, 2, 9, 1, 7, 3}, 3, []int{1, 2, 3}, 3},
		{"capped, first ends last", []int{4, 3, 2, 1}, 2, []int{1, 2}, 2},
		{"capped, in order", []int{1, 2, 3, 4}, 2, []int{1, 2}, 2},
		{"cap of one", []int{3, 1, 2}, 1, []int{1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSummary(t0)
			s.maxListed = tt.cap
			for i, seq := range tt.ended {
				it := item(seq, fmt.Sprintf("https://example.com/%d", seq))
				status := event.StatusFailed
				if i%2 == 1 {
					status = event.StatusCanceled
				}
				s.Handle(event.Event{Kind: event.Queued, Item: it})
				s.Handle(event.Event{Kind: event.Finished, Item: it, Result: &event.Result{Item: it, Seq: uint64(seq),
					Status: status, Err: errors.New("nope")}})
			}
			var buf bytes.Buffer
			s.Print(&buf)
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")[1:]
			var want []string
			for _, seq := range tt.want {
				want = append(want, fmt.Sprintf("urls.txt:%d https://example.com/%d: nope", seq, seq))
			}
			if tt.more > 0 {
				want = append(want, fmt.Sprintf("... and %s (run with --failed FILE to list them all)", plural(tt.more, "more failure")))
			}
			if len(lines) != len(want) {
				t.Fatalf("summary lists\n%s\nwant %d lines: %q", strings.Join(lines, "\n"), len(want), want)
			}
			for i := range want {
				if !strings.Contains(lines[i], want[i]) {
					t.Errorf("line %d: %q, want %q", i+1, lines[i], want[i])
				}
			}
		})
	}
}

func TestSummaryCountsWithdrawnAsNotStarted(t *testing.T) {
	s := NewSummary(t0)
	it := item(1, "https://example.com/a")
	p := event.NewProgress("a")
	feed(s, []event.Event{
		{Kind: event.Queued, Item: it},
		{Kind: event.Started, Item: it, Progress: p},
		{Kind: event.Finished, Item: it, Progress: p, Result: &event.Result{Item: it, Status: event.StatusCanceled,
			Err: fmt.Errorf("waiting for the rate: %w", event.ErrNotStarted)}},
	})
	if c := s.Counts(); c.NotStarted != 1 || c.Canceled != 0 {
		t.Errorf("withdrawn at the gate: not started %d, canceled %d; want 1 and 0", c.NotStarted, c.Canceled)
	}
}

// TestSummaryUnchecked checks that, with a list of digests, the summary
// counts and names the files saved that the list had no entry for, and
// only those: not the verified ones, nor those that failed.
func TestSummaryUnchecked(t *testing.T) {
	ok := func(seq int, output, want string) event.Event {
		it := item(seq, "https://example.com/"+output)
		return event.Event{Kind: event.Finished, Item: it, Result: &event.Result{Status: event.StatusOK, Output: output, WantSHA256: want}}
	}
	sum := strings.Repeat("ab", 32)
	events := []event.Event{
		ok(1, "a.iso", sum),
		ok(2, "sub/b.iso", ""),
		{Kind: event.Finished, Item: item(3, "https://example.com/c"), Result: &event.Result{Status: event.StatusFailed, Err: errors.New("HTTP 404")}},
		ok(4, "d.iso", ""),
	}
	for _, tt := range []struct {
		checksums string
		want      string // "" for no line
	}{
		{"SHA256SUMS", "not checked: 2 of the files saved have no entry in SHA256SUMS (the first: sub/b.iso)\n"},
		{"", ""},
	} {
		s := NewSummary(t0)
		s.Checksums = tt.checksums
		feed(s, events)
		var buf bytes.Buffer
		s.Print(&buf)
		line := ""
		if i := strings.Index(buf.String(), "not checked"); i >= 0 {
			line = buf.String()[i:]
		}
		if line != tt.want {
			t.Errorf("Checksums %q: the summary ends with %q, want %q", tt.checksums, line, tt.want)
		}
	}
}

// TestSummarySaysWhereAllFailuresAre: past the failures it lists, the
// summary names the files the run writes that hold them all, or says how to
// have them. It said "(see --report/--failed)" whether or not the run wrote
// either, which sent the user of a run without them looking for files that
// were never written.
func TestSummarySaysWhereAllFailuresAre(t *testing.T) {
	for _, tt := range []struct {
		failed, report    string
		dryRun, unwritten bool
		want              string
	}{
		{"", "", false, false, "... and 2 more failures (run with --failed FILE to list them all)"},
		{"", "", true, false, "... and 2 more failures (run with --report FILE to list them all)"},
		{"f.txt", "", false, false, "... and 2 more failures (all are listed in f.txt)"},
		{"", "r.json", false, false, "... and 2 more failures (all are listed in r.json)"},
		{"f.txt", "r.json", false, false, "... and 2 more failures (all are listed in f.txt and r.json)"},
		// A full disk: it said "all are listed in f.txt" of a list that
		// was not there.
		{"", "", false, true, "... and 2 more failures (the file that was to list them all could not be written: see below)"},
		{"", "r.json", false, true, "... and 2 more failures (all are listed in r.json)"},
	} {
		s := NewSummary(time.Now())
		s.maxListed = 1
		s.Failed, s.Report, s.DryRun, s.Unwritten = tt.failed, tt.report, tt.dryRun, tt.unwritten
		for seq := 1; seq <= 3; seq++ {
			it := item(seq, fmt.Sprintf("https://example.com/%d", seq))
			s.Handle(event.Event{Kind: event.Queued, Item: it})
			s.Handle(event.Event{Kind: event.Finished, Item: it, Result: &event.Result{Item: it, Seq: uint64(seq),
				Status: event.StatusFailed, Err: errors.New("nope")}})
		}
		var buf bytes.Buffer
		s.Print(&buf)
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if got := lines[len(lines)-1]; got != tt.want {
			t.Errorf("--failed %q, --report %q, dry run %v: last line %q, want %q", tt.failed, tt.report, tt.dryRun, got, tt.want)
		}
	}
}

// TestFailureLineAttempts: a failure over the network says it had one
// attempt (more are told by the error); a local file, which is never
// tried again, said "no such file: x (1 attempt)".
func TestFailureLineAttempts(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want string
	}{
		{"https://example.com/a", "FAIL urls.txt:1 https://example.com/a: boom (1 attempt)"},
		{"HTTP://example.com/a", "FAIL urls.txt:1 HTTP://example.com/a: boom (1 attempt)"},
		{"data/a.bin", "FAIL urls.txt:1 data/a.bin: boom"},
		{"file:///data/a.bin", "FAIL urls.txt:1 file:///data/a.bin: boom"},
	} {
		it := item(1, tt.url)
		r := &event.Result{Item: it, Status: event.StatusFailed, Attempts: 1, Err: errors.New("boom")}
		if got := failureLine(r, true); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.url, got, tt.want)
		}
	}
}
