package report

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/input"
)

func TestJSONLines(t *testing.T) {
	var buf bytes.Buffer
	j := NewJSON(&buf)
	feed(j, sampleRun())
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	golden(t, "json_lines", out)

	var got []Record
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		var rec Record
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, rec)
	}
	want := []Record{
		{URL: "https://example.com/b.bin", Output: "out/b.bin", Status: "skipped", Reason: "exists"},
		{URL: "https://example.com/a.bin", FinalURL: "https://cdn.example.com/a.bin", Output: "out/a.bin", Status: "ok", Bytes: 1258291, Size: 1258291,
			SHA256: strings.Repeat("ab", 32), HTTPStatus: 200, Attempts: 1, DurationMS: 400},
		{URL: "https://x/y", Output: "out/y", Status: "failed", HTTPStatus: 404, Attempts: 2,
			DurationMS: 1600, Error: "HTTP 404 Not Found"},
		{URL: "ftp://old/file", Status: "failed", Error: `unsupported scheme "ftp"`},
		{URL: "https://example.com/d.iso", Output: "out/d.iso", Status: "canceled", Bytes: 3 << 20,
			Attempts: 1, DurationMS: 1000, Error: "aborted by a second interrupt, out/d.iso.part kept for a resume"},
		{URL: "https://example.com/e.iso", Status: "canceled", Error: "not started"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Every field is always there, so that jq filters need no defaults.
	var m map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"url", "output", "status", "bytes", "sha256", "http_status", "attempts", "duration_ms", "error"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %v", k, m)
		}
	}
}

// Each object is written whole as soon as its item finishes.
func TestJSONWritesPerLine(t *testing.T) {
	w := &countingWriter{}
	j := NewJSON(w)
	evs := sampleRun()
	finished := 0
	for _, ev := range evs {
		j.Handle(ev)
		if ev.Kind == event.Finished {
			finished++
		}
		if w.writes != finished {
			t.Fatalf("after %d finished items, %d writes", finished, w.writes)
		}
	}
	if !w.lastEndsInNewline {
		t.Error("a write does not end a line")
	}
}

type countingWriter struct {
	writes            int
	lastEndsInNewline bool
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	w.lastEndsInNewline = bytes.HasSuffix(p, []byte("\n")) && bytes.Count(p, []byte("\n")) == 1
	return len(p), nil
}

func dryRunEvents() []event.Event {
	var r run
	for i, u := range []string{"https://example.com/a.bin", "https://example.com/q?x=1&y=<2>", "file:///srv/c"} {
		it := item(i+1, u)
		r.queue(it)
		r.emit(event.Event{Kind: event.Planned, Item: it, Output: filepath.Join("out", []string{"a.bin", "q", "c"}[i])})
	}
	return r.events
}

// dryRunWithFailure is dryRunEvents and then an item that could not be
// planned.
func dryRunWithFailure() []event.Event {
	r := run{events: dryRunEvents()}
	it := item(4, "ftp://old/file")
	r.queue(it)
	r.finish(it, nil, event.Result{Status: event.StatusFailed, Err: errors.New(`unsupported scheme "ftp"`)})
	return r.events
}

func TestDryRun(t *testing.T) {
	var text, js bytes.Buffer
	d := NewDryRun(&text)
	j := NewJSON(&js)
	for _, ev := range dryRunEvents() {
		d.Handle(ev)
		j.Handle(ev)
	}
	if err := errors.Join(d.Close(), j.Close()); err != nil {
		t.Fatal(err)
	}
	golden(t, "dryrun_text", text.String())
	golden(t, "dryrun_json", js.String())
	for _, line := range strings.Split(strings.TrimSpace(js.String()), "\n") {
		var p Plan
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil || p.URL == "" || p.Output == "" {
			t.Errorf("line %q: %+v, %v", line, p, err)
		}
	}
}

func TestJSONReportsWriteErrors(t *testing.T) {
	j := NewJSON(failingWriter{})
	feed(j, sampleRun())
	if err := j.Close(); !errors.Is(err, errBrokenPipe) {
		t.Errorf("Close() = %v, want %v", err, errBrokenPipe)
	}
	d := NewDryRun(failingWriter{})
	feed(d, dryRunEvents())
	if err := d.Close(); !errors.Is(err, errBrokenPipe) {
		t.Errorf("DryRun Close() = %v, want %v", err, errBrokenPipe)
	}
}

var errBrokenPipe = errors.New("broken pipe")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errBrokenPipe }

// reportDoc is what a report file must parse as.
type reportDoc struct {
	Items   []Record     `json:"items"`
	Summary *FileSummary `json:"summary"`
}

func readReport(t *testing.T, path string) reportDoc {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc reportDoc
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("report is not valid JSON: %v\n%s", err, data)
	}
	if dec.More() {
		t.Fatalf("report has trailing data:\n%s", data)
	}
	if doc.Summary == nil {
		t.Fatalf("report has no summary:\n%s", data)
	}
	return doc
}

func TestDocument(t *testing.T) {
	tests := []struct {
		name      string
		events    []event.Event
		unread    *Unread // given to SetUnread
		wantItems int
		want      FileSummary
	}{
		{"empty run", nil, nil, 0, FileSummary{ElapsedMS: 2500}},
		{"interrupted run", sampleRun(), nil, 6, FileSummary{Done: 1, Skipped: 1, Failed: 2, NotStarted: 1,
			Canceled: 1, Bytes: 1258291 + 3<<20, ElapsedMS: 2500}},
		// Killed mid-run: items still in flight never got their Finished.
		{"cut short", sampleRun()[:14], nil, 2, FileSummary{Done: 1, Skipped: 1, Bytes: 1258291, ElapsedMS: 2500}},
		// A dry run fetches nothing: the summary says how many items it
		// planned; an item it could not plan is listed as failed.
		{"dry run", dryRunWithFailure(), nil, 1, FileSummary{Failed: 1, Planned: 3, ElapsedMS: 2500}},
		// The lines never read are in no count: the summary says where
		// they begin, and why.
		{"interrupted before the end of the input", sampleRun(), &Unread{After: "urls.txt:7", Reason: "interrupted"}, 6,
			FileSummary{Done: 1, Skipped: 1, Failed: 2, NotStarted: 1, Canceled: 1, Bytes: 1258291 + 3<<20, ElapsedMS: 2500,
				UnreadInput: &Unread{After: "urls.txt:7", Reason: "interrupted"}}},
		{"input ended early before any item", nil, &Unread{Reason: "reading urls.txt: input/output error"}, 0,
			FileSummary{ElapsedMS: 2500, UnreadInput: &Unread{Reason: "reading urls.txt: input/output error"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "report.json")
			r, err := NewDocument(path, t0)
			if err != nil {
				t.Fatal(err)
			}
			r.now = func() time.Time { return at(2500 * time.Millisecond) }
			feed(r, tt.events)
			if tt.unread != nil {
				r.SetUnread(*tt.unread)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			doc := readReport(t, path)
			if len(doc.Items) != tt.wantItems {
				t.Errorf("%d items, want %d", len(doc.Items), tt.wantItems)
			}
			if !reflect.DeepEqual(*doc.Summary, tt.want) {
				t.Errorf("summary = %+v, want %+v", *doc.Summary, tt.want)
			}
			if u := doc.Summary.UnreadInput; !reflect.DeepEqual(u, tt.want.UnreadInput) {
				t.Errorf("unread_input = %+v, want %+v", u, tt.want.UnreadInput)
			}
			if err := r.Close(); err != nil {
				t.Errorf("second Close() = %v", err)
			}
		})
	}
}

func TestDocumentGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	r, err := NewDocument(path, t0)
	if err != nil {
		t.Fatal(err)
	}
	r.now = func() time.Time { return at(3 * time.Second) }
	feed(r, sampleRun())
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	golden(t, "report_file", string(data))
}

// Items reach the disk about once a second, not only at Close.
func TestDocumentFlushesOnTick(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	r, err := NewDocument(path, t0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	feed(r, sampleRun())
	r.Tick(at(2 * time.Second))
	data, _ := os.ReadFile(path + PendingSuffix) // renamed to path by Close
	if !bytes.Contains(data, []byte(`"url":"https://example.com/e.iso"`)) {
		t.Errorf("after a tick the file holds only %q", data)
	}
}

// TestFileSinksInPlaceOnlyWhole: the report and the failed list are
// written beside their paths and renamed there by Close, so a run killed
// before Close leaves neither cut short, nor, once Begin, the one of the
// run before, which a script would take for this one's. Discard, for a run
// that ends before it began (before Begin), leaves the one of the run
// before as it was, and no PATH.part.
func TestFileSinksInPlaceOnlyWhole(t *testing.T) {
	type sink interface {
		Handle(event.Event)
		Tick(time.Time)
		Close() error
	}
	newDocument := func(p string) (sink, error) {
		d, err := NewDocument(p, t0)
		if err == nil {
			d.Begin()
		}
		return d, err
	}
	newFailed := func(p string) (sink, error) {
		f, err := NewFailed(p)
		if err == nil {
			f.Begin()
		}
		return f, err
	}
	for _, tt := range []struct {
		name   string
		create func(path string) (sink, error)
		begun  bool // the earlier file is gone while the run goes on
		end    func(sink) error
		want   string // in the file at path; "" for no file
	}{
		{"report closed", newDocument, true, sink.Close, `"summary":`},
		{"report closed without Begin", func(p string) (sink, error) { return NewDocument(p, t0) },
			false, sink.Close, `"summary":`},
		{"report discarded", func(p string) (sink, error) { return NewDocument(p, t0) },
			false, func(s sink) error { s.(*Document).Discard(); return nil }, "earlier run"},
		{"failed list closed", newFailed, true, sink.Close, "https://example.com/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out")
			if err := os.WriteFile(path, []byte("earlier run\n"), 0o640); err != nil {
				t.Fatal(err)
			}
			s, err := tt.create(path)
			if err != nil {
				t.Fatal(err)
			}
			feed(s, sampleRun())
			s.Tick(at(2 * time.Second))
			_, err = os.Stat(path)
			if there := !errors.Is(err, fs.ErrNotExist); there == tt.begun {
				t.Errorf("while the run goes on, %s is there: %v, want %v", path, there, !tt.begun)
			}
			if err := tt.end(s); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path + PendingSuffix); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s%s left (%v)", path, PendingSuffix, err)
			}
			data, err := os.ReadFile(path)
			if tt.want == "" {
				if err == nil {
					t.Errorf("%s is there, want none: %q", path, data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), tt.want) || tt.want != "earlier run" && strings.Contains(string(data), "earlier run") {
				t.Errorf("%s holds %q, want this run's, with %q", path, data, tt.want)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v (%v), want the earlier file's 640", fi.Mode(), err)
			}
		})
	}
}

// TestFileSinksPendingReplaced: two runs given the same --report (or
// --failed) each write PATH.part; the second removes the first's and makes
// its own. The first must not rename the second's, unfinished, into place
// (a report cut short under PATH), nor remove it: it says so instead.
func TestFileSinksPendingReplaced(t *testing.T) {
	for name, create := range map[string]func(string) (interface{ Close() error }, error){
		"report": func(p string) (interface{ Close() error }, error) { return NewDocument(p, t0) },
		"failed": func(p string) (interface{ Close() error }, error) { return NewFailed(p) },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out")
			first, err := create(path)
			if err != nil {
				t.Fatal(err)
			}
			second, err := create(path)
			if err != nil {
				t.Fatal(err)
			}
			err = first.Close()
			if err == nil || !strings.Contains(err.Error(), "was replaced while this run wrote it") {
				t.Errorf("first Close = %v, want an error saying the pending file was replaced", err)
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s is there (%v): the second run's unfinished file was put in place", path, err)
			}
			if err := second.Close(); err != nil {
				t.Fatalf("second Close = %v", err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("the second run's file is not in place: %v", err)
			}
		})
	}
}

// TestFileSinksPendingNameIsADirectory: an empty directory where the
// report or the list is written until the run ends (-o report.json.part,
// made just before) is not the leftover of a killed run: it is left, and
// the file written in place. It was removed, and every item of the run
// failed, its output directory now a file.
func TestFileSinksPendingNameIsADirectory(t *testing.T) {
	for name, create := range map[string]func(string) (interface{ Close() error }, error){
		"report": func(p string) (interface{ Close() error }, error) { return NewDocument(p, t0) },
		"failed": func(p string) (interface{ Close() error }, error) { return NewFailed(p) },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out")
			if err := os.Mkdir(path+PendingSuffix, 0o755); err != nil {
				t.Fatal(err)
			}
			s, err := create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Lstat(path + PendingSuffix); err != nil || !fi.IsDir() {
				t.Errorf("the directory %s%s is gone (%v)", path, PendingSuffix, err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("nothing written at %s: %v", path, err)
			}
		})
	}
}

func TestFileSinksReportCreateErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing", "report.json")
	if _, err := NewDocument(dir, t0); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), dir) {
		t.Errorf("NewDocument = %v, want a not-exist error naming the path", err)
	}
	if _, err := NewFailed(dir); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), dir) {
		t.Errorf("NewFailed = %v, want a not-exist error naming the path", err)
	}
}

// TestFileSinksPrivateMode: --report and --failed keep each URL whole,
// password and query tokens included, so a file they create is readable by
// its owner only (as curl's cookie jar): under the usual umask 022 it was
// 0644, and the run's credentials were open to every user of a shared CI
// machine. A file that exists keeps its own mode: whoever made it decided.
func TestFileSinksPrivateMode(t *testing.T) {
	open := map[string]func(string) (interface{ Close() error }, error){
		"report": func(p string) (interface{ Close() error }, error) { return NewDocument(p, t0) },
		"failed": func(p string) (interface{ Close() error }, error) { return NewFailed(p) },
	}
	for name, create := range open {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			fresh := filepath.Join(dir, "new")
			kept := filepath.Join(dir, "kept")
			if err := os.WriteFile(kept, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(kept, 0o644); err != nil {
				t.Fatal(err)
			}
			for path, want := range map[string]os.FileMode{fresh: 0o600, kept: 0o644} {
				s, err := create(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != want {
					t.Errorf("%s: mode %o, want %o", filepath.Base(path), got, want)
				}
			}
		})
	}
}

func TestFailedReadsBack(t *testing.T) {
	var r run
	items := []input.Item{
		item(1, "https://example.com/plain"),
		{URL: "https://example.com/named", Name: "sub/dir/name.bin", Source: "urls.txt", Line: 2},
		{URL: "https://example.com/sum", SHA256: strings.Repeat("0f", 32), Source: "urls.txt", Line: 3},
		{URL: "https://example.com/both", Name: "b.bin", SHA256: strings.Repeat("aa", 32), Source: "urls.txt", Line: 4},
		{URL: "https://example.com/odd", Name: " spaced name ", Source: "urls.txt", Line: 5},
		item(6, "https://example.com/ok"),
		item(7, "https://example.com/skipped"),
		item(8, "https://example.com/not-started"),
		item(9, "https://example.com/interrupted"),
	}
	bad, _ := input.ParseLine("ftp://host/file\tkeep.me")
	bad.Source, bad.Line = "urls.txt", 10
	badJSON, _ := input.ParseLine(`{"url": "https://x/", "output": 7}`)
	badJSON.Source, badJSON.Line = "urls.txt", 11
	// An empty argument fails but has no line to write: it is left out.
	empty, _ := input.NewReader([]string{""}, nil).Next()
	items = append(items, bad, badJSON, empty)
	statuses := []event.Status{event.StatusFailed, event.StatusFailed, event.StatusFailed, event.StatusFailed,
		event.StatusFailed, event.StatusOK, event.StatusSkipped, event.StatusCanceled, event.StatusCanceled,
		event.StatusFailed, event.StatusFailed, event.StatusFailed}
	for i, it := range items {
		r.queue(it)
		var p *event.Progress
		if i == 8 {
			p = r.start(it, "interrupted")
		}
		r.finish(it, p, event.Result{Status: statuses[i], Err: it.Err})
	}

	path := filepath.Join(t.TempDir(), "failed.txt")
	f, err := NewFailed(path)
	if err != nil {
		t.Fatal(err)
	}
	feed(f, r.events)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	golden(t, "failed_list", string(data))

	var got []input.Item
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		it, ok := input.ParseLine(line)
		if !ok {
			t.Fatalf("line %q reads as nothing", line)
		}
		got = append(got, it)
	}
	want := []input.Item{items[0], items[1], items[2], items[3], items[4], items[7], items[8], bad, badJSON}
	if len(got) != len(want) {
		t.Fatalf("read back %d items, want %d:\n%s", len(got), len(want), data)
	}
	for i, w := range want {
		g := got[i]
		if g.URL != w.URL || g.Name != w.Name || g.SHA256 != w.SHA256 || (g.Err == nil) != (w.Err == nil) {
			t.Errorf("item %d reads back as %+v, want %+v", i, g, w)
		}
		if w.Err != nil && g.Err.Error() != w.Err.Error() {
			t.Errorf("item %d fails with %q, want %q", i, g.Err, w.Err)
		}
	}
}

// TestFailedEndWith: a note ends the list as one comment line, which
// reading the list back ignores.
func TestFailedEndWith(t *testing.T) {
	path := filepath.Join(t.TempDir(), "failed.txt")
	f, err := NewFailed(path)
	if err != nil {
		t.Fatal(err)
	}
	it := input.Item{URL: "https://x/a", Source: "list.txt", Line: 1}
	f.Handle(event.Event{Kind: event.Finished, Item: it, Result: &event.Result{Item: it, Status: event.StatusCanceled}})
	f.EndWith("interrupted: the rest\nwas not read")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if want := "https://x/a\n# interrupted: the rest was not read\n"; string(data) != want {
		t.Fatalf("--failed holds %q, want %q", data, want)
	}
	if _, ok := input.ParseLine("# interrupted: the rest was not read"); ok {
		t.Error("the note reads back as an item")
	}
}

// TestFailedRest: the input that the run did not read is listed after what
// failed, in input syntax, leaving out empty arguments; a read error of it
// ends the list with a comment that says after which line.
func TestFailedRest(t *testing.T) {
	a := input.Item{URL: "https://x/a", Source: "list.txt", Line: 1}
	b := input.Item{URL: "https://x/b", Name: "bee.bin", Source: "list.txt", Line: 3}
	c := input.Item{URL: "https://x/c", Source: "list.txt", Line: 4}
	empty := input.Item{Err: input.ErrEmptyItem, Source: "arg", Line: 2}
	for _, tt := range []struct {
		name string
		rest []input.Item
		err  error // after rest
		want string
	}{
		{"all of it", []input.Item{empty, b, c}, io.EOF, "https://x/a\nhttps://x/b\tbee.bin\nhttps://x/c\n"},
		{"nothing", nil, io.EOF, "https://x/a\n"},
		{"a read error", []input.Item{b}, errors.New("reading list.txt: input/output error"),
			"https://x/a\nhttps://x/b\tbee.bin\n# the input could not be read again after list.txt:3: reading list.txt: input/output error; the rest of it is not listed here\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "failed.txt")
			f, err := NewFailed(path)
			if err != nil {
				t.Fatal(err)
			}
			f.Handle(event.Event{Kind: event.Finished, Item: a, Result: &event.Result{Item: a, Status: event.StatusCanceled}})
			rest := tt.rest
			f.Rest(func() (input.Item, error) {
				if len(rest) == 0 {
					return input.Item{}, tt.err
				}
				it := rest[0]
				rest = rest[1:]
				return it, nil
			})
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if data, _ := os.ReadFile(path); string(data) != tt.want {
				t.Errorf("--failed holds %q, want %q", data, tt.want)
			}
		})
	}
}

// TestFailedKeepsNames: an item that was named otherwise than its line
// names it (event.Result.Name) is listed with that name, and with the digest
// it was to match; one that had its plain name is listed as given.
func TestFailedKeepsNames(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	other := strings.Repeat("cd", 32)
	for _, tt := range []struct {
		name   string
		item   input.Item
		result event.Result
		want   string
	}{
		{"plain name", item(1, "https://x/a.txt"), event.Result{}, "https://x/a.txt"},
		{"plain name, digest from --checksums", item(1, "https://x/a.txt"), event.Result{WantSHA256: sum}, "https://x/a.txt"},
		{"suffix", item(1, "https://x/a.txt"), event.Result{Name: "a.1.txt"}, "https://x/a.txt\ta.1.txt"},
		{"suffix in a subdirectory", input.Item{URL: "https://x/a", Name: "d/a.txt"}, event.Result{Name: "d/a.1.txt"}, "https://x/a\td/a.1.txt"},
		{"suffix, digest from --checksums", item(1, "https://x/a.txt"), event.Result{Name: "a.1.txt", WantSHA256: sum},
			`{"url":"https://x/a.txt","output":"a.1.txt","sha256":"` + sum + `"}`},
		{"suffix, the item's own digest", input.Item{URL: "https://x/a.txt", SHA256: sum}, event.Result{Name: "a.1.txt", WantSHA256: other},
			`{"url":"https://x/a.txt","output":"a.1.txt","sha256":"` + sum + `"}`},
		{"a name that needs JSON", item(1, "https://x/a.txt"), event.Result{Name: "a .1.txt "}, `{"url":"https://x/a.txt","output":"a .1.txt "}`},
		{"no name for an item that did not parse", input.Item{URL: "ftp://x/a", Err: input.ErrUnsupportedScheme}, event.Result{Name: "a.1"}, "ftp://x/a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "failed.txt")
			f, err := NewFailed(path)
			if err != nil {
				t.Fatal(err)
			}
			res := tt.result
			res.Item, res.Status, res.Err = tt.item, event.StatusFailed, errors.New("boom")
			f.Handle(event.Event{Kind: event.Finished, Item: tt.item, Result: &res})
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if data, _ := os.ReadFile(path); string(data) != tt.want+"\n" {
				t.Fatalf("--failed holds %q, want %q", data, tt.want+"\n")
			}
			it, _ := input.ParseLine(tt.want)
			if want := cmp.Or(tt.result.Name, tt.item.Name); tt.item.Err == nil && it.Name != want {
				t.Errorf("reads back named %q, want %q", it.Name, want)
			}
		})
	}
}

// TestFailedStandIns: a line that the item does not hold whole (too long,
// or not text and so quoted) is listed as a comment naming it, on one line
// whatever its source's name, never as the stand-in, which reads back as
// another item.
func TestFailedStandIns(t *testing.T) {
	long := "https://x/" + strings.Repeat("a", input.MaxLineLength)
	for _, tt := range []struct {
		name   string
		args   []string
		source string
		text   string
		want   string
	}{
		{"line too long", nil, "urls.txt", long + "\n", "# urls.txt:1: line is longer than 65536 bytes, not copied here\n"},
		{"line not text", nil, "-", "https://x/\x01\n", "# -:1: line is not valid text (binary data?), not copied here\n"},
		{"argument not text", []string{"https://x/\x01"}, "", "",
			"# arg 1: argument is not valid text (invalid UTF-8 or a control character), not copied here\n"},
		{"a line break in the source's name", nil, "a\nb.txt", "\n" + long + "\n", "# a b.txt:2: line is longer than 65536 bytes, not copied here\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var sources []input.Source
			if tt.source != "" {
				sources = append(sources, input.Source{Name: tt.source, R: strings.NewReader(tt.text)})
			}
			it, err := input.NewReader(tt.args, sources).Next()
			if err != nil || it.Err == nil {
				t.Fatalf("reading the item: %v, its error %v; want an item that failed", err, it.Err)
			}
			path := filepath.Join(t.TempDir(), "failed.txt")
			f, err := NewFailed(path)
			if err != nil {
				t.Fatal(err)
			}
			f.Handle(event.Event{Kind: event.Finished, Item: it, Result: &event.Result{Item: it, Status: event.StatusFailed, Err: it.Err}})
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if data, _ := os.ReadFile(path); string(data) != tt.want {
				t.Fatalf("--failed holds %.200q, want %q", data, tt.want)
			}
		})
	}
}

// TestDispatcherReportsEveryFileThatFailed: when both the --report file
// and the --failed list cannot be written (a full disk: /dev/full), the
// run says so of both, each path named once. Before, only the first
// sink's error was kept: a run told of its unwritten report only, and
// left an empty failed list that "fetchpool -i failed.txt" took for
// nothing to retry.
func TestDispatcherReportsEveryFileThatFailed(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	doc, err := NewDocument("/dev/full", t0)
	if err != nil {
		t.Fatal(err)
	}
	failed, err := NewFailed("/dev/full")
	if err != nil {
		t.Fatal(err)
	}
	d := NewDispatcher(0, doc, failed)
	it := input.Item{URL: "https://x/a", Source: "list.txt", Line: 1}
	d.Emit(event.Event{Kind: event.Finished, Item: it, Result: &event.Result{Item: it, Status: event.StatusFailed}})
	err = d.Close()
	if err == nil {
		t.Fatal("Close = nil, want the errors of both files")
	}
	for _, want := range []string{
		"writing report file /dev/full: no space left on device",
		"writing failed list /dev/full: no space left on device",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Close = %q\nwant it to contain %q", err, want)
		}
	}
}

// writeCalls records each Write to it, as the file's writes are.
type writeCalls struct{ calls [][]byte }

func (w *writeCalls) Write(p []byte) (int, error) {
	w.calls = append(w.calls, bytes.Clone(p))
	return len(p), nil
}

// TestFileWritesWholeLines: every write to a --failed or --report file
// ends with a whole line, at a flush of a full buffer and at a tick alike,
// so that a run killed between writes leaves no line cut short. The
// buffer was flushed when full, in the middle of the line that filled it.
func TestFileWritesWholeLines(t *testing.T) {
	var w writeCalls
	f := &file{path: "failed.txt", what: "failed list", bw: bufio.NewWriterSize(&w, 4096)}
	var all bytes.Buffer
	for i := range 3000 {
		line := fmt.Sprintf("https://example.com/%s/%d\n", strings.Repeat("x", i%97), i)
		if i == 1500 {
			line = "https://example.com/" + strings.Repeat("y", 9000) + "\n" // longer than the buffer
		}
		all.WriteString(line)
		f.write([]byte(line))
		if i%700 == 0 {
			f.tick(at(time.Duration(i) * time.Second))
		}
	}
	if err := f.bw.Flush(); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for i, c := range w.calls {
		if len(c) == 0 || c[len(c)-1] != '\n' {
			t.Fatalf("write %d of %d (%d bytes) ends with %q, in the middle of a line", i+1, len(w.calls), len(c), c[max(len(c)-20, 0):])
		}
		got.Write(c)
	}
	if len(w.calls) < 10 {
		t.Errorf("%d writes, want the buffer flushed many times", len(w.calls))
	}
	if !bytes.Equal(got.Bytes(), all.Bytes()) {
		t.Error("the writes do not add up to the lines written")
	}
}
