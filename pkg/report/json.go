package report

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// Record is the JSON object that --json and --report write for one finished
// item. Bytes is what this run received for it (retries and resent bytes
// included), Size the size of the saved file, or of the file kept for a
// skipped item (0 for one that failed or was canceled). Error says
// why the item failed or was canceled; it is always present, and "" for an
// item that is ok or skipped. Reason says why a skipped item was skipped,
// and is left out for the others. URL is the item's URL as given;
// FinalURL, left out when there was no redirect, the URL the last response
// came from. DurationMS is the time the item spent being fetched, from its
// first request to its end, retries and their backoff included, but not
// its wait in the queue or for its first turn at the request rate or its
// host's slot (--rate, --per-host): about 0 for an item that sent nothing.
type Record struct {
	URL        string `json:"url"`
	FinalURL   string `json:"final_url,omitempty"`
	Output     string `json:"output"`
	Status     string `json:"status"`
	Bytes      int64  `json:"bytes"`
	Size       int64  `json:"size"`
	SHA256     string `json:"sha256"`
	HTTPStatus int    `json:"http_status"`
	Attempts   int    `json:"attempts"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error"`
	Reason     string `json:"reason,omitempty"`
}

// Plan is the JSON object that a dry run with --json writes for one item.
type Plan struct {
	URL    string `json:"url"`
	Output string `json:"output"`
}

// recordOf is the Record of a Finished event.
func recordOf(ev event.Event) Record {
	r := ev.Result
	rec := Record{
		URL:        r.Item.URL,
		FinalURL:   r.FinalURL,
		Output:     r.Output,
		Status:     string(r.Status),
		Bytes:      r.Bytes,
		Size:       r.Size,
		SHA256:     r.SHA256,
		HTTPStatus: r.HTTPStatus,
		Attempts:   r.Attempts,
		DurationMS: r.Duration.Milliseconds(),
	}
	if rec.URL == "" {
		rec.URL = ev.Item.URL
	}
	switch r.Status {
	case event.StatusOK:
	case event.StatusSkipped:
		rec.Reason = r.Reason
	default:
		rec.Error = reason(r, ev.Progress != nil)
	}
	return rec
}

// lineEncoder encodes values as JSON lines into a reused buffer, leaving
// "<", ">" and "&" unescaped so URLs stay readable.
type lineEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newLineEncoder() *lineEncoder {
	e := &lineEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// encode returns v as one line of JSON ending in "\n"; the slice is valid
// until the next call.
func (e *lineEncoder) encode(v any) []byte {
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		// Record and Plan hold only strings and numbers: this cannot happen.
		panic("report: encoding JSON: " + err.Error())
	}
	return e.buf.Bytes()
}

// JSON writes one JSON object per finished item to w (standard output), one
// line each, written as soon as the item finishes: a Record, or in a dry run
// a Plan per Planned event. Make one with NewJSON; the zero JSON is not
// usable.
type JSON struct {
	w   io.Writer
	enc *lineEncoder
	err error
}

// NewJSON returns a JSON sink that writes to w.
func NewJSON(w io.Writer) *JSON {
	return &JSON{w: w, enc: newLineEncoder()}
}

// Handle writes the object of a Finished or Planned event.
func (j *JSON) Handle(ev event.Event) {
	var line []byte
	switch {
	case ev.Kind == event.Finished && ev.Result != nil:
		line = j.enc.encode(recordOf(ev))
	case ev.Kind == event.Planned:
		line = j.enc.encode(Plan{URL: ev.Item.URL, Output: ev.Output})
	default:
		return
	}
	j.write(line)
}

func (j *JSON) write(line []byte) {
	if j.err != nil {
		return
	}
	_, j.err = j.w.Write(line)
}

// Close reports the first error writing to w (for example a closed pipe).
// It does not close w.
func (j *JSON) Close() error { return j.err }

// DryRun writes "URL -> PATH" to w for each Planned event: what a dry run
// would fetch, and where to.
type DryRun struct {
	w   io.Writer
	err error
}

// NewDryRun returns a DryRun sink that writes to w.
func NewDryRun(w io.Writer) *DryRun { return &DryRun{w: w} }

// Handle writes the line of a Planned event.
func (d *DryRun) Handle(ev event.Event) {
	if ev.Kind != event.Planned || d.err != nil {
		return
	}
	_, d.err = io.WriteString(d.w, shownURL(ev.Item.URL)+" -> "+ev.Output+"\n")
}

// Close reports the first error writing to w. It does not close w.
func (d *DryRun) Close() error { return d.err }
