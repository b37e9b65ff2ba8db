package report

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/input"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/NAME.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got ---\n%s--- want ---\n%s", name, path, got, want)
	}
}

// t0 is when every synthetic run starts.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// at is t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// run builds the events of a synthetic run, in the documented order.
type run struct {
	events []event.Event
	now    time.Duration
}

func item(n int, url string) input.Item {
	return input.Item{URL: url, Source: "urls.txt", Line: n}
}

func (r *run) emit(ev event.Event) {
	if ev.Time.IsZero() {
		ev.Time = at(r.now)
	}
	r.events = append(r.events, ev)
}

func (r *run) queue(it input.Item) {
	r.emit(event.Event{Kind: event.Queued, Item: it})
}

// start begins a transfer of it and returns its live progress.
func (r *run) start(it input.Item, name string) *event.Progress {
	p := event.NewProgress(name)
	p.Start = at(r.now)
	r.emit(event.Event{Kind: event.Started, Item: it, Output: "out/" + name, Progress: p})
	return p
}

func (r *run) finish(it input.Item, p *event.Progress, res event.Result) {
	res.Item = it
	r.emit(event.Event{Kind: event.Finished, Item: it, Output: res.Output, Progress: p, Result: &res})
}

// sampleRun is a run with one item of every kind of ending, and the events a
// shutdown brings.
func sampleRun() []event.Event {
	var r run
	a := item(1, "https://example.com/a.bin")
	b := item(2, "https://example.com/b.bin")
	c := item(3, "https://x/y")
	d := item(4, "https://example.com/d.iso")
	e := item(5, "https://example.com/e.iso")
	f := input.Item{URL: "ftp://old/file", Source: "-", Line: 6, Err: errors.New("unsupported scheme \"ftp\"")}
	for _, it := range []input.Item{a, b, c, d, e, f} {
		r.queue(it)
	}
	pa := r.start(a, "a.bin")
	r.emit(event.Event{Kind: event.Attempt, Item: a, Attempt: 1})
	pc := r.start(c, "y")
	r.emit(event.Event{Kind: event.Attempt, Item: c, Attempt: 1})
	r.finish(b, nil, event.Result{Output: "out/b.bin", Status: event.StatusSkipped, Reason: "exists"})
	r.now = 400 * time.Millisecond
	pa.SetTotal(1258291)
	pa.SetDone(1258291)
	r.finish(a, pa, event.Result{FinalURL: "https://cdn.example.com/a.bin", Output: "out/a.bin", Status: event.StatusOK, Bytes: 1258291, Size: 1258291,
		SHA256: strings.Repeat("ab", 32), HTTPStatus: 200, Attempts: 1, Duration: 400 * time.Millisecond})
	r.emit(event.Event{Kind: event.Retry, Item: c, Attempt: 1, Wait: 1200 * time.Millisecond,
		Err: errors.New("HTTP 503 Service Unavailable")})
	r.emit(event.Event{Kind: event.Attempt, Item: c, Attempt: 2})
	r.emit(event.Event{Kind: event.Redirect, Item: c, Attempt: 1, Message: "https://x/z"})
	r.emit(event.Event{Kind: event.Redirect, Item: c, Attempt: 2, Message: "https://x/w"})
	r.now = 2 * time.Second
	r.finish(c, pc, event.Result{Output: "out/y", Status: event.StatusFailed, HTTPStatus: 404,
		Attempts: 2, Duration: 1600 * time.Millisecond, Err: errors.New("HTTP 404 Not Found")})
	r.finish(f, nil, event.Result{Status: event.StatusFailed, Err: f.Err})
	pd := r.start(d, "d.iso")
	pd.SetTotal(10 << 20)
	pd.SetDone(3 << 20)
	r.now = 3 * time.Second
	r.emit(event.Event{Kind: event.Draining, InFlight: 1})
	r.emit(event.Event{Kind: event.Aborting, InFlight: 1})
	r.finish(d, pd, event.Result{Output: "out/d.iso", Status: event.StatusCanceled, Bytes: 3 << 20,
		Attempts: 1, Duration: time.Second, Err: errors.New("aborted by a second interrupt, out/d.iso.part kept for a resume")})
	r.finish(e, nil, event.Result{Status: event.StatusCanceled})
	return r.events
}

func feed(s Sink, evs []event.Event) {
	for _, ev := range evs {
		s.Handle(ev)
	}
}

// screen is a tiny terminal emulator: enough of VT100 to replay what a
// Terminal writes (text, \n, \r, cursor up, erase line and erase below,
// colors ignored) and see what a person would see.
type screen struct {
	rows  [][]rune
	row   int
	col   int
	bells int
}

func (s *screen) write(p string) {
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\n':
			s.row++
			s.col = 0
		case r == '\r':
			s.col = 0
		case r == '\a':
			s.bells++
		case r == 0x1b && i+1 < len(rs) && rs[i+1] == '[':
			j := i + 2
			for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
				j++
			}
			if j < len(rs) {
				s.csi(string(rs[i+2:j]), rs[j])
			}
			i = j
		default:
			s.put(r)
		}
	}
}

func (s *screen) grow() {
	for len(s.rows) <= s.row {
		s.rows = append(s.rows, nil)
	}
}

func (s *screen) put(r rune) {
	s.grow()
	line := s.rows[s.row]
	for len(line) <= s.col {
		line = append(line, ' ')
	}
	line[s.col] = r
	s.rows[s.row] = line
	s.col++
}

func (s *screen) csi(arg string, final rune) {
	n := 1
	if v, err := strconv.Atoi(arg); err == nil {
		n = v
	}
	switch final {
	case 'A':
		s.row = max(s.row-n, 0)
	case 'B':
		s.row += n
		s.grow()
	case 'J':
		s.grow()
		if s.col < len(s.rows[s.row]) {
			s.rows[s.row] = s.rows[s.row][:s.col]
		}
		s.rows = s.rows[:s.row+1]
	case 'K':
		s.grow()
		s.rows[s.row] = nil
	}
}

// lines is what the screen shows, without trailing blank lines.
func (s *screen) lines() []string {
	var out []string
	for _, r := range s.rows {
		out = append(out, strings.TrimRight(string(r), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}
