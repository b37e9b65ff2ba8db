package report

import (
	"bytes"
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/input"
)

// busyRun queues n items and starts the first started of them, with names
// long and short, wide runes, and sizes known and unknown. It returns the
// events and the progress of the started transfers.
func busyRun(n, started int) ([]event.Event, []*event.Progress, []input.Item) {
	var r run
	var items []input.Item
	for i := 0; i < n; i++ {
		it := item(i+1, fmt.Sprintf("https://example.com/f%d", i))
		items = append(items, it)
		r.queue(it)
	}
	names := []string{
		"a.bin",
		"a-rather-long-file-name-from-a-content-disposition-header-2025-03-01.tar.gz",
		"日本語のファイル名.txt",
		"unknown-size.stream",
	}
	var ps []*event.Progress
	for i := 0; i < started; i++ {
		p := r.start(items[i], names[i%len(names)])
		if i%len(names) != 3 {
			p.SetTotal(int64(i+1) << 20)
		}
		ps = append(ps, p)
	}
	return r.events, ps, items
}

// advance moves every transfer forward by step bytes (up to its total).
func advance(ps []*event.Progress, step int64) {
	for _, p := range ps {
		n := p.Done() + step
		if t := p.Total(); t >= 0 && n > t {
			n = t
		}
		p.SetDone(n)
	}
}

// harness replays what a Terminal writes on a screen, checking after every
// write that no line is wider than the terminal.
type harness struct {
	t    *testing.T
	out  bytes.Buffer
	sc   screen
	seen int
	cols func() int
}

// isLogLine tells the lines printed above the block that may be wider than
// the terminal (they wrap, and are never redrawn) from those of the block.
func isLogLine(l string) bool {
	for _, p := range []string{"ok ", "skip ", "FAIL ", "CANCEL ", "stopping: ", "aborting "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

func (h *harness) sync() {
	h.t.Helper()
	h.sc.write(h.out.String()[h.seen:])
	h.seen = h.out.Len()
	for _, l := range h.sc.lines() {
		if isLogLine(l) {
			continue // log lines with a reason may wrap; they are never redrawn
		}
		if w := visibleWidth(l); w > h.cols() {
			h.t.Errorf("line %q is %d columns on a %d-column terminal", l, w, h.cols())
		}
	}
}

// termRun drives a Terminal through a busy run: ticks while transfers move,
// some items finishing ok, skipped and failed.
func termRun(t *testing.T, opts TerminalOptions, cols func() int) (*Terminal, *harness) {
	t.Helper()
	evs, ps, items := busyRun(20, 6)
	h := &harness{t: t, cols: cols}
	opts.Width = cols
	term := NewTerminal(&h.out, opts)
	feed(term, evs)
	now := time.Duration(0)
	tick := func(n int) {
		for i := 0; i < n; i++ {
			now += 100 * time.Millisecond
			advance(ps, 64<<10)
			term.Tick(at(now))
			h.sync()
		}
	}
	tick(5)
	finish := func(i int, p *event.Progress, res event.Result) {
		res.Item = items[i]
		term.Handle(event.Event{Kind: event.Finished, Time: at(now), Item: items[i], Progress: p, Result: &res})
	}
	finish(0, ps[0], event.Result{Output: "out/a.bin", Status: event.StatusOK, Bytes: 1 << 20, Size: 1 << 20, Duration: 400 * time.Millisecond})
	finish(10, nil, event.Result{Output: "out/some/very/long/directory/name/that/goes/on/skipped-file.bin",
		Status: event.StatusSkipped, Reason: "exists"})
	finish(2, ps[2], event.Result{Status: event.StatusFailed, Attempts: 4, Err: errString("HTTP 503 Service Unavailable")})
	tick(5)
	return term, h
}

type errString string

func (e errString) Error() string { return string(e) }

var statusLabels = []string{"queued ", "in flight ", "done ", "failed ", "skipped "}

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func TestTerminal(t *testing.T) {
	for _, cols := range []int{100, 40} {
		t.Run(fmt.Sprintf("%d columns", cols), func(t *testing.T) {
			term, h := termRun(t, TerminalOptions{NoColor: true, Bell: true}, func() int { return cols })
			lines := h.sc.lines()
			t.Logf("screen:\n%s", strings.Join(lines, "\n"))

			// Log lines first, in order, then the block.
			wantLog := []string{"ok   out/a.bin  1.0 MiB  0.4s", "skip out/",
				"FAIL urls.txt:3 https://example.com/f2: HTTP 503 Service Unavailable"}
			if len(lines) < len(wantLog)+3 {
				t.Fatalf("screen has %d lines", len(lines))
			}
			for i, w := range wantLog {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d = %q, want it to start with %q", i, lines[i], w)
				}
			}
			// Not shortened at any width: the terminal wraps it, and
			// the whole path stays in the scrollback.
			if want := "skip out/some/very/long/directory/name/that/goes/on/skipped-file.bin  (exists)"; lines[1] != want {
				t.Errorf("skip line %q, want %q", lines[1], want)
			}
			block := strings.Join(lines[len(wantLog):], "\n")
			if !strings.Contains(lines[len(wantLog)], "3/20") {
				t.Errorf("overall line %q does not count 3 of 20 items", lines[len(wantLog)])
			}
			for _, l := range statusLabels {
				if !strings.Contains(block, l) {
					t.Errorf("status line lacks %q:\n%s", l, block)
				}
			}
			for _, c := range []string{"queued 13", "in flight 4", "done 1", "failed 1", "skipped 1"} {
				if !strings.Contains(block, c) {
					t.Errorf("status lacks %q:\n%s", c, block)
				}
			}
			// The unknown-size transfer shows a byte count and no percentage.
			found := false
			for _, l := range lines {
				if strings.HasPrefix(l, "unknown-size") {
					found = true
					if strings.Contains(l, "%") || !strings.Contains(l, "KiB") {
						t.Errorf("unknown-size line %q: want a byte count and no percentage", l)
					}
				}
			}
			if !found {
				t.Error("no line for the transfer of unknown size")
			}
			if sgr.MatchString(h.out.String()) {
				t.Error("NoColor output holds color codes")
			}

			// Close erases the block and leaves only the log lines, then rings.
			if err := term.Close(); err != nil {
				t.Fatal(err)
			}
			h.sync()
			if after := h.sc.lines(); len(after) != len(wantLog) {
				t.Errorf("after Close the screen shows:\n%s\nwant only the %d log lines", strings.Join(after, "\n"), len(wantLog))
			}
			if !strings.HasSuffix(h.out.String(), "\a") || h.sc.bells != 1 {
				t.Error("no bell at the end")
			}
		})
	}
}

func TestTerminalColor(t *testing.T) {
	_, h := termRun(t, TerminalOptions{}, func() int { return 80 })
	out := h.out.String()
	for _, want := range []string{colorGreen + "ok" + colorReset, colorAmber + "skip" + colorReset, colorRed + "FAIL" + colorReset} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks the colored label %q", want)
		}
	}
}

// Quiet draws no block at all: only failures, which a pipe could take too.
func TestTerminalQuiet(t *testing.T) {
	term, h := termRun(t, TerminalOptions{Quiet: true, NoColor: true}, func() int { return 80 })
	if err := term.Close(); err != nil {
		t.Fatal(err)
	}
	want := "FAIL urls.txt:3 https://example.com/f2: HTTP 503 Service Unavailable\n"
	if got := h.out.String(); got != want {
		t.Errorf("quiet output = %q, want %q", got, want)
	}
}

func TestTerminalRedrawRate(t *testing.T) {
	evs, ps, _ := busyRun(4, 4)
	w := &countingWriter{}
	term := NewTerminal(w, TerminalOptions{NoColor: true})
	feed(term, evs)
	for ms := 10; ms <= 2000; ms += 10 { // ticks 100 times a second
		advance(ps, 1000)
		term.Tick(at(time.Duration(ms) * time.Millisecond))
	}
	if w.writes < 15 || w.writes > 21 {
		t.Errorf("%d redraws in 2s of ticks every 10ms, want about 20", w.writes)
	}
	// Lines of finished items wait for the next redraw rather than forcing
	// one: a thousand tiny files do not mean a thousand redraws.
	before := w.writes
	var r run
	for i := 0; i < 100; i++ {
		it := item(100+i, fmt.Sprintf("https://example.com/small%d", i))
		r.queue(it)
		r.finish(it, nil, event.Result{Output: fmt.Sprintf("out/small%d", i), Status: event.StatusOK})
	}
	feed(term, r.events)
	term.Tick(at(2100 * time.Millisecond))
	if w.writes != before+1 {
		t.Errorf("100 finished items took %d writes, want 1", w.writes-before)
	}
}

// A Ctrl-C is answered at once, not at the next tick.
func TestTerminalDrainingIsImmediate(t *testing.T) {
	evs, _, _ := busyRun(4, 2)
	h := &harness{t: t, cols: func() int { return 60 }}
	term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
	feed(term, evs)
	term.Tick(at(time.Second))
	term.Handle(event.Event{Kind: event.Draining, Time: at(time.Second + time.Millisecond), InFlight: 2})
	h.sync()
	lines := h.sc.lines()
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "stopping: waiting for 2 transfers in flight") {
		t.Fatalf("screen after Draining:\n%s", strings.Join(lines, "\n"))
	}
	term.Tick(at(2 * time.Second))
	h.sync()
	if block := strings.Join(h.sc.lines(), "\n"); !strings.Contains(block, "stopping · queued") {
		t.Errorf("status line does not say it is stopping:\n%s", block)
	}
}

func TestTerminalManyTransfers(t *testing.T) {
	tests := []struct {
		name      string
		opts      TerminalOptions
		wantLines int // transfer lines shown
	}{
		{"default cap", TerminalOptions{}, DefaultMaxLines},
		{"MaxLines", TerminalOptions{MaxLines: 3}, 3},
		{"short terminal", TerminalOptions{Height: func() int { return 8 }}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, ps, _ := busyRun(100, 64)
			h := &harness{t: t, cols: func() int { return 100 }}
			tt.opts.Width, tt.opts.NoColor = h.cols, true
			term := NewTerminal(&h.out, tt.opts)
			feed(term, evs)
			for i := 1; i <= 3; i++ {
				advance(ps, 1<<20)
				term.Tick(at(time.Duration(i) * time.Second))
				h.sync()
			}
			lines := h.sc.lines()
			// overall, transfers, "+N more", status
			if len(lines) != 1+tt.wantLines+1+1 {
				t.Fatalf("%d lines:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			if want := fmt.Sprintf("+%d more in flight", 64-tt.wantLines); lines[1+tt.wantLines] != want {
				t.Errorf("line %q, want %q", lines[1+tt.wantLines], want)
			}
			if tt.opts.Height != nil && len(lines) >= tt.opts.Height() {
				t.Errorf("block of %d lines on a %d-line terminal", len(lines), tt.opts.Height())
			}
		})
	}
}

// A terminal that shrinks, grows and shrinks again: every frame fits the
// width it was drawn for.
func TestTerminalResize(t *testing.T) {
	evs, ps, _ := busyRun(10, 5)
	cols := 120
	h := &harness{t: t, cols: func() int { return cols }}
	term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
	feed(term, evs)
	for i, c := range []int{120, 40, 30, 80, 20, 100} {
		cols = c
		advance(ps, 300<<10)
		term.Tick(at(time.Duration(i+1) * time.Second))
		h.sync()
		frame := h.sc.lines()
		if len(frame) < 3 {
			t.Fatalf("at %d columns the frame is:\n%s", c, strings.Join(frame, "\n"))
		}
		joined := strings.Join(frame, "\n")
		for _, l := range statusLabels {
			if !strings.Contains(joined, l) {
				t.Errorf("at %d columns the status lacks %q:\n%s", c, l, joined)
			}
		}
	}
}

// Nothing is drawn before anything is queued.
func TestTerminalIdle(t *testing.T) {
	var buf bytes.Buffer
	term := NewTerminal(&buf, TerminalOptions{})
	for i := 1; i < 10; i++ {
		term.Tick(at(time.Duration(i) * time.Second))
	}
	if err := term.Close(); err != nil || buf.Len() != 0 {
		t.Errorf("idle terminal wrote %q (err %v)", buf.String(), err)
	}
}

// TestTerminalShowsWaitToRetry: a transfer that waits to retry says so on
// its line, counting down, at any width; its next attempt, or the end of
// the wait, brings the rate back.
func TestTerminalShowsWaitToRetry(t *testing.T) {
	for _, cols := range []int{100, 40} {
		t.Run(fmt.Sprintf("%d columns", cols), func(t *testing.T) {
			evs, ps, items := busyRun(4, 2)
			h := &harness{t: t, cols: func() int { return cols }}
			term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
			feed(term, evs)
			line := func(now time.Duration) string {
				t.Helper()
				term.Tick(at(now))
				h.sync()
				for _, l := range h.sc.lines() {
					if strings.HasPrefix(l, "a.bin") {
						return l
					}
				}
				t.Fatalf("no line for a.bin:\n%s", strings.Join(h.sc.lines(), "\n"))
				return ""
			}
			term.Handle(event.Event{Kind: event.Retry, Time: at(time.Second), Item: items[0], Progress: ps[0],
				Attempt: 1, Wait: 57*time.Second + 300*time.Millisecond, Err: errString("HTTP 503 Service Unavailable")})
			if l := line(time.Second + 100*time.Millisecond); !strings.HasSuffix(l, "retry in 58s") {
				t.Errorf("line while waiting: %q, want it to end in %q", l, "retry in 58s")
			}
			if l := line(50 * time.Second); !strings.HasSuffix(l, "retry in 9s") {
				t.Errorf("line later: %q, want it to count down to %q", l, "retry in 9s")
			}
			term.Handle(event.Event{Kind: event.Attempt, Time: at(51 * time.Second), Item: items[0], Progress: ps[0], Attempt: 2})
			if l := line(52 * time.Second); strings.Contains(l, "retry") {
				t.Errorf("line after the next attempt began: %q", l)
			}
			// A range of a split retries without an Attempt event: the wait ends by itself.
			term.Handle(event.Event{Kind: event.Retry, Time: at(53 * time.Second), Item: items[0], Progress: ps[0], Attempt: 1, Wait: time.Second})
			if l := line(55 * time.Second); strings.Contains(l, "retry") {
				t.Errorf("line after the wait: %q", l)
			}
			// Another transfer's retry is not a.bin's.
			term.Handle(event.Event{Kind: event.Retry, Time: at(56 * time.Second), Item: items[1], Progress: ps[1], Attempt: 1, Wait: time.Minute})
			if l := line(57 * time.Second); strings.Contains(l, "retry") {
				t.Errorf("a.bin shows another transfer's retry: %q", l)
			}
		})
	}
}

// TestTerminalETAWaitsForRetries: the overall ETA is never sooner than the
// next attempt of a transfer that waits to retry.
func TestTerminalETAWaitsForRetries(t *testing.T) {
	evs, ps, items := busyRun(4, 2)
	h := &harness{t: t, cols: func() int { return 100 }}
	term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
	feed(term, evs)
	term.Handle(event.Event{Kind: event.Finished, Time: at(time.Second), Item: items[1], Progress: ps[1],
		Result: &event.Result{Item: items[1], Status: event.StatusOK, Output: "out/x"}})
	term.Handle(event.Event{Kind: event.Retry, Time: at(time.Second), Item: items[0], Progress: ps[0], Attempt: 1, Wait: 40 * time.Second})
	term.Tick(at(2 * time.Second))
	h.sync()
	for _, l := range h.sc.lines() {
		if strings.Contains(l, "1/4") {
			if !strings.HasSuffix(l, "ETA 39s") {
				t.Errorf("overall line %q, want the ETA of the retry, 39s", l)
			}
			return
		}
	}
	t.Fatalf("no overall line:\n%s", strings.Join(h.sc.lines(), "\n"))
}

// TestTerminalShutdownBarCountsOnlyCompleted: after a Ctrl-C, the items that
// never start and the transfers aborted are canceled, not done: the overall
// bar counts only the items done, skipped or failed, and never reaches 100%
// for a list cut short.
func TestTerminalShutdownBarCountsOnlyCompleted(t *testing.T) {
	evs, ps, items := busyRun(8, 3)
	h := &harness{t: t, cols: func() int { return 100 }}
	term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
	feed(term, evs)
	finish := func(at time.Time, i int, p *event.Progress, res event.Result) {
		res.Item = items[i]
		term.Handle(event.Event{Kind: event.Finished, Time: at, Item: items[i], Progress: p, Result: &res})
	}
	overall := func(now time.Time) string {
		t.Helper()
		term.Tick(now)
		h.sync()
		for _, l := range h.sc.lines() {
			if strings.Contains(l, "%") && strings.Contains(l, "/8") {
				return l
			}
		}
		t.Fatalf("no overall line:\n%s", strings.Join(h.sc.lines(), "\n"))
		return ""
	}
	finish(at(time.Second), 0, ps[0], event.Result{Output: "out/a.bin", Status: event.StatusOK, Bytes: 1 << 20, Size: 1 << 20})
	if l := overall(at(time.Second)); !strings.Contains(l, " 1/8 ") || !strings.HasPrefix(strings.TrimSpace(l), "12%") {
		t.Fatalf("before the shutdown, overall line %q, want 12%% and 1/8", l)
	}

	// The first Ctrl-C: the 5 queued items end as not started.
	term.Handle(event.Event{Kind: event.Draining, Time: at(2 * time.Second), InFlight: 2})
	for i := 3; i < 8; i++ {
		finish(at(2*time.Second), i, nil, event.Result{Status: event.StatusCanceled})
	}
	if l := overall(at(3 * time.Second)); !strings.Contains(l, " 1/8 ") || !strings.HasPrefix(strings.TrimSpace(l), "12%") {
		t.Errorf("after the first Ctrl-C, overall line %q, want still 12%% and 1/8: not-started items are not done", l)
	}

	// One transfer in flight finishes; the second Ctrl-C aborts the other.
	finish(at(4*time.Second), 1, ps[1], event.Result{Output: "out/b", Status: event.StatusOK, Bytes: 2 << 20, Size: 2 << 20})
	term.Handle(event.Event{Kind: event.Aborting, Time: at(5 * time.Second), InFlight: 1})
	finish(at(5*time.Second), 2, ps[2], event.Result{Output: "out/c", Status: event.StatusCanceled, Bytes: 1 << 10,
		Err: errString("aborted by a second interrupt")})
	if l := overall(at(6 * time.Second)); !strings.Contains(l, " 2/8 ") || !strings.HasPrefix(strings.TrimSpace(l), "25%") || strings.Contains(l, "ETA") {
		t.Errorf("after the abort, overall line %q, want 25%%, 2/8 and no ETA", l)
	}
}

// TestTerminalNamesTellTransfersApart: on a narrow terminal, names that
// share a long start keep what tells them apart, not the shared start.
func TestTerminalNamesTellTransfersApart(t *testing.T) {
	tests := []struct {
		cols  int
		names []string
		want  []string // a part of each one's line
	}{
		{40, []string{"file-number-1-with-a-rather-long-name.bin", "file-number-10-with-a-rather-long-name.bin", "file-number-2-with-a-rather-long-name.bin"},
			[]string{"…1-with", "…10-with", "…2-with"}},
		{40, []string{"backup-2025-03-01-full.tar.gz", "backup-2025-03-02-full.tar.gz"},
			[]string{"…01-full", "…02-full"}},
		// Names that differ at the start are cut in the middle, as before.
		{40, []string{"alpha-with-a-name-long-enough-to-cut.bin", "beta-with-a-name-long-enough-to-cut.bin"},
			[]string{"alpha-", "beta-w"}},
		// Names that fit are whole.
		{100, []string{"file-number-1-with-a-name.bin", "file-number-2-with-a-name.bin"},
			[]string{"file-number-1-with-a-name.bin", "file-number-2-with-a-name.bin"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d columns %s", tt.cols, tt.names[0]), func(t *testing.T) {
			var r run
			for i, name := range tt.names {
				it := item(i+1, "https://example.com/"+name)
				r.queue(it)
				p := r.start(it, name)
				p.SetTotal(1 << 20)
				p.Add(1 << 18)
			}
			h := &harness{t: t, cols: func() int { return tt.cols }}
			term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
			feed(term, r.events)
			term.Tick(at(time.Second))
			h.sync()
			screen := strings.Join(h.sc.lines(), "\n")
			for _, part := range tt.want {
				if n := strings.Count(screen, part); n != 1 {
					t.Errorf("%q is on %d lines, want 1:\n%s", part, n, screen)
				}
			}
		})
	}
}

// rowsAt counts the rows a line of the block takes once a narrower
// terminal has rewrapped it; a wide rune that does not fit at the end of a
// row goes to the next one whole.
func TestRowsAt(t *testing.T) {
	tests := []struct {
		line string
		cols int
		want int
	}{
		{"", 40, 1},
		{strings.Repeat("x", 40), 40, 1},
		{strings.Repeat("x", 41), 40, 2},
		{strings.Repeat("x", 99), 40, 3},
		{strings.Repeat("x", 99), 100, 1},
		{"x" + strings.Repeat("日", 20), 40, 2}, // 41 columns
		{"x" + strings.Repeat("日", 20), 20, 3}, // x and 9 日 (the 10th does not fit), 10 日, 1 日
	}
	for _, tt := range tests {
		if got := rowsAt(tt.line, tt.cols); got != tt.want {
			t.Errorf("rowsAt(%q, %d) = %d, want %d", tt.line, tt.cols, got, tt.want)
		}
	}
}

// TestTerminalWaitingAtGate: transfers that a worker began but that wait at
// the gate (--rate, --per-host) before their first request have sent
// nothing: they get no line (it used to be "0 B  0 B/s" each), and the
// status line counts them as waiting, not in flight. Once through, a
// transfer gets its line, with a rate measured from then, not from when
// it began to wait.
func TestTerminalWaitingAtGate(t *testing.T) {
	for _, cols := range []int{100, 40} {
		t.Run(fmt.Sprintf("%d columns", cols), func(t *testing.T) {
			var r run
			var items []input.Item
			for i := range 4 {
				it := item(i+1, fmt.Sprintf("https://example.com/f%d.bin", i))
				items = append(items, it)
				r.queue(it)
			}
			var ps []*event.Progress
			for i := range 3 {
				p := event.NewProgress(fmt.Sprintf("f%d.bin", i))
				p.SetWaiting(i > 0) // f0 is through the gate
				p.SetTotal(10 << 20)
				r.emit(event.Event{Kind: event.Started, Item: items[i], Output: "out/f.bin", Progress: p})
				ps = append(ps, p)
			}
			h := &harness{t: t, cols: func() int { return cols }}
			term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
			feed(term, r.events)
			screen := func(now time.Duration) string {
				t.Helper()
				term.Tick(at(now))
				h.sync()
				return strings.Join(h.sc.lines(), "\n")
			}
			for s := 1; s <= 10; s++ {
				ps[0].Add(100 << 10)
				screen(time.Duration(s) * time.Second)
			}
			got := screen(11 * time.Second)
			for _, want := range []string{"queued 1", "waiting 2", "in flight 1", "f0.bin"} {
				if !strings.Contains(got, want) {
					t.Errorf("screen lacks %q:\n%s", want, got)
				}
			}
			for _, unwanted := range []string{"f1.bin", "f2.bin", "0 B/s"} {
				if strings.Contains(got, unwanted) {
					t.Errorf("screen shows %q for a transfer that waits at the gate:\n%s", unwanted, got)
				}
			}

			// f1 gets through after waiting 11 s, and moves 100 KiB a second.
			ps[1].SetWaiting(false)
			for s := 12; s <= 14; s++ {
				ps[1].Add(100 << 10)
				got = screen(time.Duration(s) * time.Second)
			}
			if !strings.Contains(got, "waiting 1") || !strings.Contains(got, "in flight 2") {
				t.Errorf("status once f1 is through:\n%s", got)
			}
			if cols == 100 && !hasLine(got, "f1.bin", "100.0 KiB/s") {
				t.Errorf("f1's line does not show its rate since it got through (100.0 KiB/s):\n%s", got)
			}

			// All through: the waiting count goes, as before.
			ps[2].SetWaiting(false)
			got = screen(15 * time.Second)
			if strings.Contains(got, "waiting") || !strings.Contains(got, "in flight 3") || !strings.Contains(got, "f2.bin") {
				t.Errorf("status once all are through:\n%s", got)
			}
		})
	}
}

// hasLine reports whether a line of text contains all of parts.
func hasLine(text string, parts ...string) bool {
	for _, l := range strings.Split(text, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return true
		}
	}
	return false
}

// TestTerminalETAFromBytes: when every item left is in flight with a known
// size, the ETA is the bytes they lack at the overall rate. It used to come
// only from the pace of items completed: none for a single big file, and
// for the last big file of a list a guess that grew with every second,
// whatever the bytes said.
func TestTerminalETAFromBytes(t *testing.T) {
	tests := []struct {
		name       string
		small      bool // a small item before the big one, done after 1 s
		unknown    bool // the big file's size is unknown
		waitAtGate bool // an item after it waits at the gate
		want       string
	}{
		{name: "single file", want: "15s"},
		{name: "last file of a list", small: true, want: "15s"},
		{name: "unknown size", unknown: true, want: ""},
		{name: "unknown size, list", small: true, unknown: true, want: "5.0s"}, // the pace of items
		{name: "another waits at the gate", small: true, waitAtGate: true, want: "10s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r run
			it := func(n int) input.Item { return item(n, fmt.Sprintf("https://example.com/f%d.bin", n)) }
			var small, waiting *event.Progress
			if tt.small {
				r.queue(it(1))
				small = r.start(it(1), "small.bin")
			}
			r.queue(it(2))
			big := r.start(it(2), "big.bin")
			if !tt.unknown {
				big.SetTotal(20 << 20)
			}
			if tt.waitAtGate {
				r.queue(it(3))
				waiting = r.start(it(3), "next.bin")
				waiting.SetWaiting(true)
			}
			h := &harness{t: t, cols: func() int { return 100 }}
			term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
			feed(term, r.events)
			// big.bin: 1 MiB a second for 5 s.
			for s := 0; s <= 50; s++ {
				if s == 10 && small != nil {
					term.Handle(event.Event{Kind: event.Finished, Time: at(time.Second), Item: it(1), Progress: small,
						Result: &event.Result{Item: it(1), Status: event.StatusOK, Output: "out/small.bin"}})
				}
				big.SetDone(int64(s) << 20 / 10)
				term.Tick(at(time.Duration(s) * 100 * time.Millisecond))
			}
			h.sync()
			overall := ""
			for _, l := range h.sc.lines() {
				if strings.Contains(l, "%") && strings.Contains(l, "/s") && !strings.Contains(l, "big.bin") {
					overall = l
				}
			}
			if overall == "" {
				t.Fatalf("no overall line:\n%s", strings.Join(h.sc.lines(), "\n"))
			}
			if tt.want == "" && strings.Contains(overall, "ETA") || tt.want != "" && !strings.HasSuffix(overall, "ETA "+tt.want) {
				t.Errorf("overall line %q, want the ETA %q", overall, tt.want)
			}
		})
	}
}

// overallOf is the overall line on the screen (the first line that starts
// with a percentage), or "".
func overallOf(lines []string) string {
	for _, l := range lines {
		if overallStart.MatchString(l) {
			return l
		}
	}
	return ""
}

var overallStart = regexp.MustCompile(`^\s*(\d+)% `)

// percentOf is the percentage an overall line starts with.
func percentOf(t *testing.T, line string) int {
	t.Helper()
	m := overallStart.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no percentage at the start of %q", line)
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// TestTerminalOverallFollowsBytes: once the whole input is read and every
// transfer that has its answer knows its size, the overall bar follows the
// bytes, as aria2c's and wget2's do, and its bytes field says of how many;
// the count of items stays. It counted only items: a single big file at a
// quarter showed 0% under its own line at 25%, and a big file after two
// small ones 66%. An item queued counts as the mean size of those known.
// While the input may bring more items, a transfer has no size, or once a
// shutdown began, the bar stays on items.
func TestTerminalOverallFollowsBytes(t *testing.T) {
	const MiB = 1 << 20
	tests := []struct {
		name    string
		small   int  // small files (1 MiB) done before the big one begins
		queued  int  // items queued after the big one
		unknown bool // the big file's size is not known
		open    bool // the input is not read to its end
		stop    bool // a shutdown began before the big file's size was known
		cols    int  // 0: 100
		want    []string
	}{
		{name: "single file", want: []string{"25%", " 0/1 ", " 5.0/20.0 MiB ", "ETA 15s"}},
		// Too narrow for all: the ETA says more than the bytes to have.
		{name: "single file, 44 columns", cols: 44, want: []string{"25%", " 0/1 ", " 5.0 MiB ", "ETA 15s"}},
		// (2 + 5) MiB of 22.
		{name: "after two small files", small: 2, want: []string{"31%", " 2/3 ", " 7.0/22.0 MiB ", "ETA 15s"}},
		// 1 + 5 MiB of 1 + 20 + 2 items of the mean size, 10.5 MiB: no
		// total is given, it is a guess; the ETA is for the guess.
		{name: "items queued after it", small: 1, queued: 2, want: []string{"14%", " 1/4 ", " 6.0 MiB ", "ETA 36s"}},
		// The ETA is from the bytes all the same (TestTerminalETAFromBytes).
		{name: "input not read to its end", open: true, want: []string{"0%", " 0/1 ", " 5.0 MiB ", "ETA 15s"}},
		{name: "size unknown", unknown: true, want: []string{"0%", " 0/1 ", " 5.0 MiB "}},
		// The ETA is from the pace of items, as the bar.
		{name: "size unknown after small files", small: 2, unknown: true, want: []string{"66%", " 2/3 ", " 7.0 MiB ", "ETA 2.5s"}},
		{name: "shutdown began first", stop: true, want: []string{"0%", " 0/1 ", " 5.0 MiB ", "ETA 15s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r run
			it := func(n int) input.Item { return item(n, fmt.Sprintf("https://example.com/f%d.bin", n)) }
			for i := range tt.small + 1 + tt.queued {
				r.queue(it(i + 1))
			}
			if !tt.open {
				r.emit(event.Event{Kind: event.InputEnd})
			}
			for i := range tt.small {
				p := r.start(it(i+1), fmt.Sprintf("small%d.bin", i))
				p.SetTotal(MiB)
				p.SetDone(MiB)
				r.finish(it(i+1), p, event.Result{Status: event.StatusOK, Output: "out/small.bin", Bytes: MiB, Size: MiB})
			}
			big := r.start(it(tt.small+1), "big.bin")
			cols := cmp.Or(tt.cols, 100)
			h := &harness{t: t, cols: func() int { return cols }}
			term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
			feed(term, r.events)
			if tt.stop {
				term.Handle(event.Event{Kind: event.Draining, Time: at(0), InFlight: 1})
			}
			if !tt.unknown {
				big.SetTotal(20 * MiB)
			}
			// big.bin: 1 MiB a second for 5 s.
			for s := 0; s <= 50; s++ {
				big.SetDone(int64(s) * MiB / 10)
				term.Tick(at(time.Duration(s) * 100 * time.Millisecond))
			}
			h.sync()
			overall := overallOf(h.sc.lines())
			for _, want := range tt.want {
				if !strings.Contains(overall+" ", want) {
					t.Errorf("overall line %q, want %q in it", overall, want)
				}
			}
			if !strings.HasPrefix(strings.TrimSpace(overall), tt.want[0]) {
				t.Errorf("overall line %q, want it to start with %s", overall, tt.want[0])
			}
			if wantETA := slices.ContainsFunc(tt.want, func(s string) bool { return strings.HasPrefix(s, "ETA") }); !wantETA && strings.Contains(overall, "ETA") {
				t.Errorf("overall line %q, want no ETA", overall)
			}
		})
	}
}

// TestTerminalOverallNeverBack: a big file first, then small files that go
// a few at a time, with a transfer now and then that has no answer yet: the
// overall bar goes only forward, and ends on the share of the bytes. It
// counted the items, up to 92% with most of big.bin to come; waiting to
// follow the bytes until every size is known would take it that high
// first, then back. The small ones queued count as the mean size.
func TestTerminalOverallNeverBack(t *testing.T) {
	const MiB = 1 << 20
	var r run
	it := func(n int) input.Item { return item(n, fmt.Sprintf("https://example.com/f%d.bin", n)) }
	const smalls = 12
	for i := range smalls + 1 {
		r.queue(it(i + 1))
	}
	r.emit(event.Event{Kind: event.InputEnd})
	big := r.start(it(1), "big.bin")
	big.SetTotal(100 * MiB)
	h := &harness{t: t, cols: func() int { return 100 }}
	term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
	feed(term, r.events)
	last, now := 0, time.Duration(0)
	tick := func() {
		t.Helper()
		now += 100 * time.Millisecond
		big.SetDone(min(big.Done()+MiB, 100*MiB))
		term.Tick(at(now))
		h.sync()
		p := percentOf(t, overallOf(h.sc.lines()))
		if p < last {
			t.Fatalf("at %v the overall bar went back from %d%% to %d%%:\n%s", now, last, p, strings.Join(h.sc.lines(), "\n"))
		}
		last = p
	}
	// Two small files at a time, each a tick without an answer, then a
	// tick with its size, then done.
	for i := 2; i <= smalls+1; i += 2 {
		var ps []*event.Progress
		for n := i; n <= min(i+1, smalls+1); n++ {
			term.Handle(event.Event{Kind: event.Started, Time: at(now), Item: it(n), Progress: event.NewProgress(fmt.Sprintf("s%d.bin", n))})
			ps = append(ps, term.transfers[len(term.transfers)-1].p)
		}
		tick()
		for _, p := range ps {
			p.SetTotal(MiB / 4)
			p.SetDone(MiB / 8)
		}
		tick()
		for k, p := range ps {
			p.SetDone(MiB / 4)
			term.Handle(event.Event{Kind: event.Finished, Time: at(now), Item: it(i + k), Progress: p,
				Result: &event.Result{Item: it(i + k), Status: event.StatusOK, Output: "out/s.bin", Bytes: MiB / 4, Size: MiB / 4}})
		}
		tick()
	}
	// All small ones done: the bar is the share of the bytes.
	want := int((big.Done() + smalls*MiB/4) * 100 / (100*MiB + smalls*MiB/4))
	if last != want {
		t.Errorf("with only big.bin left, at %d of %d MiB, the overall bar is at %d%%, want %d%%", big.Done()/MiB, 100, last, want)
	}
}

// TestTerminalOverallCutShort: the overall bar follows bytes, with items
// still queued, when a shutdown begins: the queued items end not started,
// and the bar never reaches 100% even once the transfer in flight is done.
func TestTerminalOverallCutShort(t *testing.T) {
	const MiB = 1 << 20
	var r run
	it := func(n int) input.Item { return item(n, fmt.Sprintf("https://example.com/f%d.bin", n)) }
	for i := range 3 {
		r.queue(it(i + 1))
	}
	r.emit(event.Event{Kind: event.InputEnd})
	big := r.start(it(1), "big.bin")
	big.SetTotal(10 * MiB)
	big.SetDone(5 * MiB)
	h := &harness{t: t, cols: func() int { return 100 }}
	term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
	feed(term, r.events)
	term.Tick(at(100 * time.Millisecond))
	h.sync()
	// 5 MiB of 10, and two more of the mean size, 10 MiB.
	if p := percentOf(t, overallOf(h.sc.lines())); p != 16 {
		t.Fatalf("overall bar at %d%%, want 16%%", p)
	}
	term.Handle(event.Event{Kind: event.Draining, Time: at(200 * time.Millisecond), InFlight: 1})
	for i := 2; i <= 3; i++ {
		term.Handle(event.Event{Kind: event.Finished, Time: at(200 * time.Millisecond), Item: it(i),
			Result: &event.Result{Item: it(i), Status: event.StatusCanceled, Err: event.ErrNotStarted}})
	}
	big.SetDone(10 * MiB)
	term.Tick(at(400 * time.Millisecond))
	h.sync()
	if p := percentOf(t, overallOf(h.sc.lines())); p != 33 {
		t.Errorf("after Ctrl-C, with big.bin whole, overall bar at %d%%, want 33%%: the items not started are not done", p)
	}
}

// TestTerminalRateAfterResume: a transfer that resumes a part of 40 MiB
// gets its answer 0.65 s after it began, then 10 MiB a second. Its line,
// the overall rate and the ETA say 10 MiB/s: the part it held did not
// come at that rate. Both rates counted the part as received in the first
// half second: 69 MiB/s, and an ETA of 1.6 s for 5 s to go, for as long
// as the part stayed in their window.
func TestTerminalRateAfterResume(t *testing.T) {
	const MiB = 1 << 20
	for _, inputEnd := range []bool{false, true} {
		t.Run(fmt.Sprintf("input end %v", inputEnd), func(t *testing.T) {
			var r run
			it := item(1, "https://example.com/big.iso")
			r.queue(it)
			if inputEnd {
				r.emit(event.Event{Kind: event.InputEnd})
			}
			p := r.start(it, "big.iso")
			h := &harness{t: t, cols: func() int { return 100 }}
			term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
			feed(term, r.events)
			answer := 650 * time.Millisecond
			for now := time.Duration(0); now <= 2*time.Second; now += 100 * time.Millisecond {
				if now >= answer {
					p.SetDone(40*MiB + int64((now-answer).Seconds()*10*MiB))
					p.SetTotal(100 * MiB)
				}
				term.Tick(at(now))
			}
			h.sync()
			lines := h.sc.lines()
			overall := overallOf(lines)
			if !strings.Contains(overall, " 10.0 MiB/s") {
				t.Errorf("overall line %q, want the rate 10.0 MiB/s", overall)
			}
			// 100 - 53.5 MiB to go at 10 MiB/s.
			if !strings.HasSuffix(overall, "ETA 4.6s") && !strings.HasSuffix(overall, "ETA 4.7s") {
				t.Errorf("overall line %q, want the ETA 4.6s", overall)
			}
			if !hasLine(strings.Join(lines, "\n"), "big.iso ", "/100.0 MiB", " 10.0 MiB/s") {
				t.Errorf("no line of big.iso at 10.0 MiB/s:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

// TestTerminalOverallBarSteady: the overall bar keeps its width while the
// fields after it grow and shrink by a digit ("9.9/100.0 MiB", "10.0/100.0
// MiB", "ETA 10s", "ETA 9.9s"): its end moved by a column or two, back and
// forth, many times a second.
func TestTerminalOverallBarSteady(t *testing.T) {
	const MiB = 1 << 20
	var r run
	it := item(1, "https://example.com/big.iso")
	r.queue(it)
	r.emit(event.Event{Kind: event.InputEnd})
	p := r.start(it, "big.iso")
	p.SetTotal(100 * MiB)
	h := &harness{t: t, cols: func() int { return 100 }}
	term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
	feed(term, r.events)
	ends := map[int]bool{}
	for now := time.Duration(0); now <= 20*time.Second; now += 100 * time.Millisecond {
		// 1 MiB a second, then 20 MiB a second.
		done := int64(now.Seconds() * MiB)
		if now > 5*time.Second {
			done = 5*MiB + int64((now-5*time.Second).Seconds()*20*MiB)
		}
		p.SetDone(min(done, 99*MiB))
		term.Tick(at(now))
		h.sync()
		if now < time.Second {
			continue // the rate and the ETA are not there yet
		}
		overall := []rune(overallOf(h.sc.lines()))
		end := strings.LastIndex(string(overall), "|")
		ends[len([]rune(string(overall)[:end]))] = true
	}
	if len(ends) != 1 {
		t.Errorf("the overall bar ended at %d different columns, want one", len(ends))
	}
}

// TestTerminalBytesKeepResumedPart: while the input is still read (the
// bar follows items), the overall bytes are what the items have. A
// transfer that resumed a part of 40 MiB showed 50.0 MiB just before it
// finished and 10.0 MiB just after: the finished item counted only the
// bytes of this run.
func TestTerminalBytesKeepResumedPart(t *testing.T) {
	const MiB = 1 << 20
	var r run
	big, next := item(1, "https://example.com/big.iso"), item(2, "https://example.com/next.iso")
	r.queue(big)
	r.queue(next)
	p := r.start(big, "big.iso")
	h := &harness{t: t, cols: func() int { return 100 }}
	term := NewTerminal(&h.out, TerminalOptions{Width: h.cols, NoColor: true})
	feed(term, r.events)
	p.SetTotal(50 * MiB)
	p.SetDone(50 * MiB)
	term.Tick(at(time.Second))
	h.sync()
	if overall := overallOf(h.sc.lines()); !strings.Contains(overall, " 50.0 MiB") {
		t.Fatalf("before big.iso finished, overall line %q, want 50.0 MiB", overall)
	}
	term.Handle(event.Event{Kind: event.Finished, Time: at(time.Second), Item: big, Progress: p,
		Result: &event.Result{Item: big, Output: "out/big.iso", Status: event.StatusOK, Bytes: 10 * MiB}})
	term.Tick(at(1100 * time.Millisecond))
	h.sync()
	if overall := overallOf(h.sc.lines()); !strings.Contains(overall, " 50.0 MiB") {
		t.Errorf("after big.iso finished, overall line %q, want 50.0 MiB still: the part it resumed is had", overall)
	}
}
