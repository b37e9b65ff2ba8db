package report

import (
	"bytes"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// TerminalOptions says how a Terminal draws.
type TerminalOptions struct {
	// Width reports the terminal's columns; it is asked on every redraw so
	// that a resize takes effect at once. nil or a result <= 0 means 80.
	Width func() int
	// Height reports the terminal's rows, to keep the live block shorter
	// than the screen; nil or a result <= 0 means no limit but MaxLines.
	Height func() int
	// Quiet draws no live block and prints only failures and the shutdown
	// lines, as the -q flag asks ("only errors and the summary").
	Quiet bool
	// Verbose also prints each attempt, retry and redirect.
	Verbose bool
	// Bell rings the terminal bell when Close is called.
	Bell bool
	// NoColor writes no color codes (cursor movement is still used).
	NoColor bool
	// MaxLines is the most transfers shown one per line; the rest are
	// counted on a "+N more" line. 0 means DefaultMaxLines.
	MaxLines int
}

// DefaultMaxLines is how many in-flight transfers a Terminal shows one per
// line unless TerminalOptions says otherwise.
const DefaultMaxLines = 10

// minRedraw is the least time between two redraws: about 10 per second. It
// is a little under 100ms so that a 100ms ticker whose ticks jitter by a
// millisecond does not skip every other frame.
const minRedraw = 95 * time.Millisecond

// maxPending is how many log lines a Terminal holds for the next redraw
// before it prints them at once.
const maxPending = 256

// ANSI sequences.
const (
	clearToEnd = "\x1b[J"
	colorReset = "\x1b[0m"
	colorGreen = "\x1b[32m"
	colorRed   = "\x1b[1;31m"
	colorAmber = "\x1b[33m"
)

// Terminal draws live progress on a terminal: a block of lines at the bottom
// of the screen, redrawn at most about 10 times a second, with
//
//	an overall bar:   45% |██████      |  12/32  14.2 MiB  4.6 MiB/s  ETA 5s
//	a line per transfer in flight (name, bar or spinner, bytes, rate),
//	"+N more in flight" beyond MaxLines, and
//	a status line:    queued 3 · in flight 8 · done 12 · failed 1 · skipped 0
//
// A transfer that a worker began but that waits at the gate (--rate,
// --per-host) before its first request, or before a retry's, has no line,
// and is counted on the status line as "waiting N" (between queued and in
// flight), not as in flight: only what is being sent is in flight.
//
// Lines of finished items ("ok ...", "skip ...", "FAIL ...", the same words
// as Plain) are printed above the block: the block is cleared, the lines
// printed and the block drawn again, in one write. Lines of the block never
// take more than Width()-1 columns (names are shortened in the middle), so
// they never wrap, even after a resize or on a 40-column terminal. Close
// erases the block, so that the summary follows the log lines. Output of
// other sinks that lands on the same screen (--json lines on standard
// output, when it is the terminal too) must go through Above.
//
// Progress values are read on Tick, never per read. A Terminal must only be
// used by one goroutine (a Dispatcher's).
type Terminal struct {
	w     io.Writer
	opts  TerminalOptions
	tally tally
	start time.Time

	transfers []*transfer // begun by a worker, oldest first
	byPointer map[*event.Progress]*transfer
	active    []*transfer // those in flight: not waiting at the gate
	waiting   int         // those that wait at the gate (Progress.Waiting)

	overall     gauge
	overallRate meter
	// answered tells that a transfer had its answer: the overall rate is
	// measured from the first answer on.
	answered bool
	// inputEnd tells that the whole input is read (an InputEnd event):
	// no item will be queued after those counted.
	inputEnd bool
	// byBytes tells that the overall bar follows the bytes rather than
	// the items, as it does from the first redraw that finds the whole
	// input read (see followBytes); it stays so.
	byBytes bool
	// endedHave and endedWant are the bytes that the finished transfers
	// have and were to have, for the overall bar once it follows bytes;
	// endedKnown counts those transfers. lost counts the items canceled
	// before their size was known, and lostHave is what they had.
	endedHave, endedWant, endedKnown int64
	lost, lostHave                   int64
	// restW is the widest the fields after the overall bar were at the
	// width restAt.
	restW, restAt int

	pending      []pendingLine // lines for the next redraw
	drawn        int           // lines of the block now on the screen
	shown        []string      // those lines, to count the rows they take after a resize
	lastDraw     time.Time
	stopping     string // "stopping" or "aborting" once shutdown begins
	buf          bytes.Buffer
	lines        []string // the block as last drawn
	rows         []row
	fieldScratch []string
	err          error
}

// pendingLine is a line to print above the block at the next redraw: on the
// Terminal's writer, or on out when another sink wrote it through Above.
type pendingLine struct {
	out  io.Writer
	text string // with its newline when out is set
}

// transfer is one in-flight transfer as the Terminal shows it.
type transfer struct {
	p     *event.Progress
	name  string
	rate  meter
	gauge gauge
	// short is name shortened to shortW columns, shortSkip bytes of a
	// shared prefix left out, kept between redraws.
	short     string
	shortW    int
	shortSkip int
	// retryAt is when the next attempt is due, while it waits to retry.
	retryAt time.Time
	// renamed is the Progress's Renamed name that name was taken from.
	renamed string
	// waited tells that it was last seen waiting at the gate: its rate
	// is measured from when it got through, not from when it was begun.
	waited bool
	// answered tells that it had its answer (a size, or bytes); base is
	// what it held then, such as a part it resumes, which did not come at
	// the rate it has: rates are measured from that answer on, without it.
	answered bool
	base     int64
	// size is its last known total, or -1 before one is known: a retry
	// whose answer has no Content-Length does not take from the overall
	// bar, once it follows bytes, the size it had.
	size int64
}

// knownSize is the transfer's total, or the last one known when it no
// longer knows it, or -1 when it never did.
func (tr *transfer) knownSize() int64 {
	if n := tr.p.Total(); n >= 0 {
		tr.size = n
	}
	return tr.size
}

// bytes is what the transfer has of what it is to have, as the overall
// bar counts them once it follows bytes: a size not known is what has
// come.
func (tr *transfer) bytes() (have, want int64) {
	have, want = tr.p.Done(), tr.knownSize()
	if want < 0 {
		want = have
	}
	return min(max(have, 0), want), want
}

// shortName is the name shortened to w columns. When it does not fit,
// its first skip bytes, a prefix every name in flight shares, give way to
// "…": what tells it from the others stays.
func (tr *transfer) shortName(w, skip int) string {
	if tr.shortW != w || tr.shortSkip != skip || tr.short == "" {
		tr.short, tr.shortW, tr.shortSkip = truncMiddle(tr.name, w), w, skip
		if skip > 0 && skip < len(tr.name) && w > 2 && width(tr.name) > w {
			tr.short = "…" + truncMiddle(tr.name[skip:], w-1)
		}
	}
	return tr.short
}

// sharedPrefix is the length in bytes of the start that all the names
// share, cut back to just after a separator (not inside a word or number:
// "file-1" and "file-10" share "file-"), or 0 when that is under 3 bytes
// or there are fewer than two names.
func sharedPrefix(trs []*transfer) int {
	if len(trs) < 2 {
		return 0
	}
	first := trs[0].name
	n := len(first)
	for _, tr := range trs[1:] {
		n = min(n, len(tr.name))
		for i := 0; i < n; i++ {
			if tr.name[i] != first[i] {
				n = i
				break
			}
		}
	}
	for n > 0 && !isSeparator(first[n-1]) {
		n--
	}
	if n < 3 {
		return 0
	}
	return n
}

// isSeparator tells the ASCII punctuation and spaces that end a word in a
// file name.
func isSeparator(c byte) bool {
	return c < 0x80 && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9')
}

// NewTerminal returns a Terminal that draws on w, which should be a
// terminal (standard error).
func NewTerminal(w io.Writer, opts TerminalOptions) *Terminal {
	if opts.MaxLines <= 0 {
		opts.MaxLines = DefaultMaxLines
	}
	return &Terminal{w: w, opts: opts, byPointer: make(map[*event.Progress]*transfer)}
}

// Handle follows the event and queues the line it calls for, if any.
func (t *Terminal) Handle(ev event.Event) {
	t.tally.add(ev)
	if t.start.IsZero() && !ev.Time.IsZero() {
		t.start = ev.Time
	}
	switch ev.Kind {
	case event.Started:
		t.started(ev)
	case event.Finished:
		t.finished(ev)
	case event.InputEnd:
		t.inputEnd = true
	case event.Attempt, event.Retry, event.Redirect, event.Duplicate:
		if tr := t.byPointer[ev.Progress]; tr != nil {
			tr.retryAt = time.Time{}
			if ev.Kind == event.Retry {
				tr.retryAt = ev.Time.Add(ev.Wait)
			}
		}
		if t.opts.Verbose && !t.opts.Quiet {
			t.log(verboseLine(ev))
		}
	case event.Draining, event.Aborting:
		t.stopping = "stopping"
		if ev.Kind == event.Aborting {
			t.stopping = "aborting"
		}
		t.log(stopLine(ev))
		t.redraw() // a person pressed Ctrl-C: answer at once
	}
}

func (t *Terminal) started(ev event.Event) {
	if ev.Progress == nil || t.byPointer[ev.Progress] != nil {
		return
	}
	tr := &transfer{p: ev.Progress, name: clean(ev.Progress.Name), size: -1}
	if tr.name == "" {
		tr.name = clean(ev.Output)
	}
	if tr.name == "" {
		tr.name = shownURL(ev.Item.URL)
	}
	if !ev.Time.IsZero() {
		tr.rate.add(ev.Time, ev.Progress.Done())
	}
	t.transfers = append(t.transfers, tr)
	t.byPointer[ev.Progress] = tr
}

func (t *Terminal) finished(ev event.Event) {
	r := ev.Result
	tr := t.byPointer[ev.Progress]
	if tr != nil {
		delete(t.byPointer, ev.Progress)
		if i := slices.Index(t.transfers, tr); i >= 0 {
			t.transfers = slices.Delete(t.transfers, i, i+1)
		}
	}
	t.ended(tr, r)
	if r == nil || (t.opts.Quiet && r.Status != event.StatusFailed) {
		return
	}
	label, rest := finishedLine(r, ev.Progress != nil)
	t.log(t.color(label) + strings.Repeat(" ", len(padLabel(label))-len(label)) + rest)
}

// ended counts the bytes of an item that is over, for the overall bar; tr
// is its transfer, or nil when none was begun.
func (t *Terminal) ended(tr *transfer, r *event.Result) {
	canceled := r != nil && r.Status == event.StatusCanceled
	if tr == nil || canceled && tr.knownSize() < 0 {
		if canceled {
			// Cut short before its size was known: it counts as one of
			// the mean size, that never comes.
			t.lost++
			if tr != nil {
				t.lostHave += tr.p.Done()
			}
		}
		return // skipped at once, or failed before it was begun: no bytes
	}
	have, want := tr.bytes()
	switch {
	case r == nil || r.Status == event.StatusFailed:
		want = have // what did not come will not: it is not to be had
	case !canceled:
		have = want
	}
	t.endedHave += have
	t.endedWant += want
	t.endedKnown++
}

// color paints a label unless NoColor.
func (t *Terminal) color(label string) string {
	if t.opts.NoColor {
		return label
	}
	c := colorRed
	switch label {
	case labelOK:
		c = colorGreen
	case labelSkip, labelCanceled:
		c = colorAmber
	}
	return c + label + colorReset
}

// log queues a line to print above the block at the next redraw.
func (t *Terminal) log(line string) {
	t.queue(pendingLine{text: line})
}

func (t *Terminal) queue(l pendingLine) {
	t.pending = append(t.pending, l)
	if len(t.pending) >= maxPending {
		t.redraw()
	}
}

// Above returns a writer for output that shares the screen with the block
// but goes to another writer w, such as standard output when it is the same
// terminal as the Terminal's: what is written is held until the next
// redraw, which erases the block, writes it to w above where the block
// was, and draws the block again below it. Without this, a line written
// under the block would be erased with it, and the block left behind.
//
// The writer must be used only from the goroutine that calls Handle (by
// another sink of the same Dispatcher). Its Write never fails: an error
// writing to w is reported by Close.
func (t *Terminal) Above(w io.Writer) io.Writer {
	return aboveWriter{t: t, w: w}
}

type aboveWriter struct {
	t *Terminal
	w io.Writer
}

func (a aboveWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		a.t.queue(pendingLine{out: a.w, text: string(p)})
	}
	return len(p), nil
}

// Tick redraws the block, unless it was drawn less than about 100ms ago.
func (t *Terminal) Tick(now time.Time) {
	if t.start.IsZero() {
		t.start = now
	}
	if !t.lastDraw.IsZero() && now.Sub(t.lastDraw) < minRedraw {
		return
	}
	t.draw(now)
}

// Close prints the lines still pending, erases the block and rings the bell
// if asked. It returns the first error writing to the terminal; it does not
// close the writer.
func (t *Terminal) Close() error {
	t.buf.Reset()
	t.eraseBlock()
	t.writePending()
	if t.opts.Bell {
		t.buf.WriteString("\a")
	}
	t.flush()
	return t.err
}

// draw clears the block, prints pending log lines and draws the block again
// as of now, in one write so that the terminal never shows a half-drawn
// frame.
func (t *Terminal) draw(now time.Time) {
	t.lastDraw = now
	t.lines = t.lines[:0]
	if !t.opts.Quiet && t.tally.queued+t.tally.inFlight+t.tally.finished() > 0 {
		t.lines = t.block(now)
	}
	t.redraw()
}

// redraw clears the block, prints pending log lines and draws the lines of
// the last block again, without reading any progress.
func (t *Terminal) redraw() {
	t.buf.Reset()
	t.eraseBlock()
	t.writePending()
	for _, l := range t.lines {
		t.buf.WriteString(l)
		t.buf.WriteByte('\n')
	}
	t.drawn = len(t.lines)
	t.shown = append(t.shown[:0], t.lines...)
	t.flush()
}

// eraseBlock moves the cursor to the first line of the block and clears
// the screen from there down.
//
// The block's lines are counted in rows of the terminal as it is now: after
// it was made narrower, the terminal (tmux, VTE, iTerm2, Windows Terminal)
// has rewrapped each line of the block onto several rows, and going up only
// a row per line would leave the top of the old block on the screen.
//
// The first line is erased on its own and the rest from the line below it:
// tmux takes an erase-below from the top-left corner for a clear screen and
// first copies the whole screen into the scrollback (scroll-on-clear), which
// would leave a copy of the block there at every redraw of a block that
// starts at the top of the screen.
func (t *Terminal) eraseBlock() {
	if t.drawn == 0 {
		return
	}
	cols, up := t.cols(), 0
	for _, l := range t.shown {
		up += rowsAt(l, cols)
	}
	t.buf.WriteString("\x1b[" + strconv.Itoa(up) + "A\r\x1b[K")
	if up > 1 {
		t.buf.WriteString("\x1b[B" + clearToEnd + "\x1b[A")
	}
	t.drawn = 0
}

// rowsAt is how many rows of a terminal cols wide the line s takes when
// the terminal wraps it.
func rowsAt(s string, cols int) int {
	if width(s) <= cols {
		return 1
	}
	rows, x := 1, 0
	for _, g := range graphemes(s) {
		if x+g.w > cols {
			rows++
			x = 0
		}
		x += g.w
	}
	return rows
}

func (t *Terminal) writePending() {
	for _, l := range t.pending {
		if l.out == nil {
			t.buf.WriteString(l.text)
			t.buf.WriteByte('\n')
			continue
		}
		t.flush() // what goes to the terminal first, in order
		if _, err := io.WriteString(l.out, l.text); err != nil && t.err == nil {
			t.err = err
		}
	}
	clear(t.pending)
	t.pending = t.pending[:0]
}

func (t *Terminal) flush() {
	if t.buf.Len() == 0 {
		return
	}
	if _, err := t.w.Write(t.buf.Bytes()); err != nil && t.err == nil {
		t.err = err
	}
	t.buf.Reset()
}

// cols is the terminal's width in columns.
func (t *Terminal) cols() int {
	if t.opts.Width != nil {
		if n := t.opts.Width(); n > 0 {
			return n
		}
	}
	return 80
}

// width is how many columns a line of the block may take: one less than the
// terminal's, so that no terminal wraps a full line.
func (t *Terminal) width() int {
	return max(t.cols()-1, 10)
}

// sortOut splits the transfers into those in flight (active) and those
// that wait at the gate before their next request, which get no line:
// they are sending nothing, and are only counted on the status line.
func (t *Terminal) sortOut(now time.Time) {
	t.active, t.waiting = t.active[:0], 0
	for _, tr := range t.transfers {
		done := tr.p.Done()
		if !tr.answered && (tr.p.Total() >= 0 || done > 0) {
			// Its answer came: a part it resumes is held, not received
			// now; nor is the wait for the answer part of its rate.
			tr.answered, tr.base = true, done
			tr.rate = meter{}
			tr.rate.add(now, done)
			if !t.answered {
				// Nor of the overall rate, for the first answer.
				t.answered = true
				t.overallRate = meter{}
			}
		}
		tr.base = min(tr.base, done) // restarted from zero
		if tr.p.Waiting() {
			t.waiting++
			tr.waited = true
			continue
		}
		if tr.waited {
			tr.waited = false
			tr.rate = meter{}
			tr.rate.add(now, tr.p.Done())
		}
		t.active = append(t.active, tr)
	}
}

// block renders the lines of the live block.
func (t *Terminal) block(now time.Time) []string {
	w := t.width()
	t.sortOut(now)
	lines := append(t.lines[:0], t.overallLine(now, w))

	status := t.statusLines(w)
	shown := min(len(t.active), t.opts.MaxLines)
	if t.opts.Height != nil {
		if h := t.opts.Height(); h > 0 {
			// Keep the whole block on the screen, with one line to spare.
			shown = max(min(shown, h-1-len(lines)-len(status)-1), 0)
		}
	}
	lines = t.transferLines(lines, now, t.active[:shown], w)
	if more := len(t.active) - shown; more > 0 {
		lines = append(lines, truncEnd("+"+strconv.Itoa(more)+" more in flight", w))
	}
	return append(lines, status...)
}

// overallLine is the bar of the run, with the count of items completed
// (done, skipped or failed) of admitted so far, bytes, rate and ETA; fields
// that do not fit are dropped, the ETA first (but for the bytes to have).
//
// The bar follows the items completed until it can follow the bytes, as
// aria2c's and wget2's do: once the whole input is read and every transfer
// that has an answer knows its size (see followBytes). Then it is the
// bytes the items have of the bytes they are to have, and it stays so
// until the end (but while a body of unknown size comes): it does not go
// back and forth while the input is read. A single big file is not at 0%
// while its own line is at half, nor a big file after many small ones at
// 95% with most of the bytes to come. Items still queued, and transfers
// that have no answer yet, are taken to be of the mean size of those known
// until theirs is: a big file that many small ones follow does not make
// the bar jump back from where the items had taken it. The bytes field
// says "have/want" when want is no guess.
//
// Items canceled by a shutdown stay in the total but are not counted as
// completed, and the bytes a canceled transfer lacks stay lacking: after a
// Ctrl-C the bar shows what was actually dealt with, never 100% for a list
// cut short.
func (t *Terminal) overallLine(now time.Time, w int) string {
	completed := int64(t.tally.completed())
	left := int64(t.tally.queued + t.tally.inFlight)
	total := int64(t.tally.finished()) + left
	// bytes is what the items have, parts they resumed included, as the
	// bar counts them once it follows bytes; received is what came in
	// this run, without those parts, for the rate.
	bytes, received := t.endedHave+t.lostHave, t.tally.Bytes
	for _, tr := range t.transfers {
		bytes += tr.p.Done()
		received += tr.p.Done() - tr.base
	}
	cur, of := completed, total
	count := strconv.FormatInt(completed, 10) + "/" + strconv.FormatInt(total, 10)
	size, sizeShort := humanSize(bytes), ""
	lacking, lackingKnown := t.bytesLacking(left)
	byBytes := false
	if sh, ok := t.byteShare(); ok && t.followBytes() {
		byBytes = true
		cur, of = sh.have, sh.want
		size = humanSize(sh.have)
		if !sh.guess {
			size, sizeShort = sizeOf(sh.have, sh.want), size
		}
		lacking, lackingKnown = sh.lacking, true
	}
	rate, eta := "", ""
	r, rateOK := t.overallRate.rate(now, received)
	if rateOK {
		rate = humanRate(r)
	}
	t.overallRate.add(now, received)
	if !rateOK {
		r = 0
	}
	if d, ok := t.eta(now, completed, left, r, lacking, lackingKnown, !byBytes); ok {
		eta = "ETA " + humanDuration(d)
	}
	// The richest fields that fit: without the bytes to have (but those
	// had), then without the ETA, then without the rate, then the count
	// alone.
	choices := [...][4]string{
		{count, size, rate, eta},
		{count, sizeShort, rate, eta},
		{count, size, rate},
		{count, sizeShort, rate},
		{count, size},
		{count, sizeShort},
		{count},
	}
	var fields []string
	for _, choice := range choices {
		fields = t.fieldScratch[:0]
		for _, f := range choice {
			if f != "" {
				fields = append(fields, f)
			}
		}
		if percentWidth+joinedWidth(fields) <= w {
			break
		}
	}
	t.fieldScratch = fields
	rest := "  " + strings.Join(fields, "  ")
	// The bar leaves room for the widest fields yet at this width: it
	// does not grow and shrink by a column as a number gains a digit.
	if t.restAt != w {
		t.restAt, t.restW = w, 0
	}
	t.restW = max(t.restW, width(rest))
	g := percent(cur, of)
	if room := w - percentWidth - t.restW; room >= 9 && of > 0 {
		g = t.overall.bar(cur, of, min(room-3, 50))
	}
	return truncEnd(g+rest, w)
}

// followBytes tells whether the overall bar follows the bytes (see
// overallLine): it began to at an earlier redraw, or it can from now on,
// for the input is read to its end; it does not begin to once a shutdown
// began, for the items that it ends before their turn have no size. Only
// a transfer that receives a body of unknown size (chunked, or until the
// server closes) stops it, for as long as that runs: there is no share of
// bytes to tell then.
func (t *Terminal) followBytes() bool {
	for _, tr := range t.transfers {
		if tr.knownSize() < 0 && tr.p.Done() > 0 {
			return false
		}
	}
	if !t.byBytes && (!t.inputEnd || t.stopping != "") {
		return false
	}
	t.byBytes = true
	return true
}

// share is what the overall bar shows once it follows bytes.
type share struct {
	have, want int64
	// lacking is what the items left (queued or in flight) lack: want
	// less have, but for the bytes of the items over, which will not come.
	lacking int64
	// guess tells that want counts items of a size not known yet.
	guess bool
}

// byteShare is the bytes the items have of the bytes they are to have,
// and false when no size is known yet. An item queued, or a transfer
// without a size, counts as the mean of the sizes known, or as what it
// has when that is more; so do the items canceled before their size was
// known, which never have it.
func (t *Terminal) byteShare() (share, bool) {
	var left share // the items left
	known, unsized := t.endedKnown, int64(t.tally.queued)
	for _, tr := range t.transfers {
		if tr.knownSize() < 0 {
			unsized++
			continue
		}
		h, w := tr.bytes()
		left.have += h
		left.want += w
		known++
	}
	sh := share{have: t.endedHave + left.have, want: t.endedWant + left.want}
	if known == 0 || sh.want <= 0 {
		return share{}, false
	}
	if unsized > 0 || t.lost > 0 {
		sh.guess = true
		mean := sh.want / known
		left.want += mean * int64(t.tally.queued)
		for _, tr := range t.transfers {
			if tr.knownSize() < 0 {
				h := tr.p.Done()
				left.have += h
				left.want += max(mean, h)
			}
		}
		sh.have = t.endedHave + t.lostHave + left.have
		sh.want = t.endedWant + max(mean*t.lost, t.lostHave) + left.want
	}
	sh.lacking = left.want - left.have
	return sh, true
}

// eta guesses the time the items left (queued or in flight) will take.
// When the bytes they lack are known (lackingKnown), it is those at the
// overall rate (bytes per second): the pace of the items completed says
// nothing of a last, big file, and there is none for a first one.
// Otherwise it is the pace of the items completed so far, when the
// overall bar follows the items (byItems): a transfer stalled at 0 B/s
// has no ETA when the bar follows bytes, for the pace of items would not
// agree with the bar. It is never sooner than the next attempt of a
// transfer that waits to retry.
func (t *Terminal) eta(now time.Time, completed, left int64, rate float64, lacking int64, lackingKnown, byItems bool) (time.Duration, bool) {
	elapsed := now.Sub(t.start)
	if left <= 0 || elapsed <= 0 || t.start.IsZero() {
		return 0, false
	}
	eta, ok := time.Duration(0), false
	if lackingKnown && rate > 0 {
		eta, ok = time.Duration(float64(lacking)/rate*float64(time.Second)), true
	} else if completed > 0 && byItems {
		eta, ok = time.Duration(float64(elapsed)/float64(completed)*float64(left)), true
	}
	if !ok {
		return 0, false
	}
	// Nothing ends before the transfers that wait to retry have tried again.
	for _, tr := range t.transfers {
		eta = max(eta, tr.retryAt.Sub(now))
	}
	return eta, true
}

// bytesLacking is how many bytes the transfers still lack, and whether
// that is known: the left items are all transfers in flight, and each
// knows its size.
func (t *Terminal) bytesLacking(left int64) (int64, bool) {
	if int64(len(t.active)) != left {
		return 0, false // some are queued, or wait at the gate
	}
	var lacking int64
	for _, tr := range t.active {
		total := tr.p.Total()
		if total < 0 {
			return 0, false
		}
		lacking += max(total-tr.p.Done(), 0)
	}
	return lacking, true
}

// joinedWidth is the width of "  f1  f2 ...".
func joinedWidth(fields []string) int {
	n := 0
	for _, f := range fields {
		n += 2 + width(f)
	}
	return n
}

// row is one transfer line before layout.
type row struct {
	tr    *transfer
	known bool
	done  int64
	total int64
	size  string // "1.2/3.4 MiB", or just "1.2 MiB" when the total is unknown
	rate  string // or, while it waits to retry, "retry in 57s"
	retry bool
}

// columns says which parts of transfer lines are shown, and how wide.
type columns struct {
	name, size, rate int // 0: not shown
	gauge            bool
	fullSize         bool // "done/total" rather than "done"
	bar              int  // columns of the bar; 0: percentage only
}

// gaugeWidth is the width of the percentage and bar.
func (c columns) gaugeWidth() int {
	if c.bar > 0 {
		return barWidth(c.bar)
	}
	return percentWidth
}

// other is the width of everything but the name.
func (c columns) other() int {
	n := 0
	if c.gauge {
		n += 2 + c.gaugeWidth()
	}
	if c.size > 0 {
		n += 2 + c.size
	}
	if c.rate > 0 {
		n += 2 + c.rate
	}
	return n
}

// transferLines appends one line per transfer to lines. The columns line up:
// name, percentage and bar (or a spinner when the size is unknown), bytes
// and rate. On a narrow terminal the rate goes first, then the total size,
// then the percentage, and the name is shortened in the middle.
func (t *Terminal) transferLines(lines []string, now time.Time, trs []*transfer, w int) []string {
	if len(trs) == 0 {
		return lines
	}
	rows := t.rows[:0]
	nameMax, fullW, shortW, rateW := 0, 0, 0, 0
	anyKnown := false
	for _, tr := range trs {
		if n := tr.p.Renamed(); n != tr.renamed {
			// Its server named it: show the name it is saved under.
			tr.renamed, tr.name, tr.short = n, clean(n), ""
		}
		r := row{tr: tr, done: tr.p.Done(), total: tr.p.Total()}
		r.known = r.total > 0
		anyKnown = anyKnown || r.known
		r.size = humanSize(r.done)
		shortW = max(shortW, width(r.size))
		if r.known {
			r.size = sizeOf(r.done, r.total)
		}
		if rate, ok := tr.rate.rate(now, r.done); ok {
			r.rate = humanRate(rate)
		}
		if now.Before(tr.retryAt) {
			r.rate = retryIn(tr.retryAt.Sub(now))
			r.retry = true
		}
		tr.rate.add(now, r.done)
		nameMax = max(nameMax, width(tr.name))
		fullW = max(fullW, width(r.size))
		rateW = max(rateW, width(r.rate))
		rows = append(rows, r)
	}
	t.rows = rows

	c := layout(w, nameMax, fullW, shortW, rateW, anyKnown)
	skip := 0
	if nameMax > c.name {
		skip = sharedPrefix(trs)
	}
	var b strings.Builder
	for i := range rows {
		r := &rows[i]
		b.Reset()
		b.WriteString(padRight(r.tr.shortName(c.name, skip), c.name))
		if r.retry && c.rate == 0 {
			// Too narrow for every column: the wait says more than the bar.
			b.WriteString("  ")
			b.WriteString(r.rate)
			lines = append(lines, truncEnd(b.String(), w))
			continue
		}
		if c.gauge {
			b.WriteString("  ")
			b.WriteString(padRight(r.gauge(c.bar), c.gaugeWidth()))
		}
		if c.size > 0 {
			size := r.size
			if !c.fullSize {
				size = humanSize(r.done)
			}
			b.WriteString("  ")
			b.WriteString(padLeft(size, c.size))
		}
		if c.rate > 0 {
			b.WriteString("  ")
			b.WriteString(padLeft(r.rate, c.rate))
		}
		lines = append(lines, truncEnd(strings.TrimRight(b.String(), " "), w))
	}
	return lines
}

// layout chooses the columns of transfer lines for a width of w: the
// richest set of columns that leaves the name a fair share, then a bar in
// what is left, then the rest to the name.
func layout(w, nameMax, fullW, shortW, rateW int, anyKnown bool) columns {
	choices := []columns{
		{gauge: true, fullSize: true, size: fullW, rate: rateW},
		{gauge: true, fullSize: true, size: fullW},
		{gauge: true, size: shortW},
		{size: shortW},
		{},
	}
	nameFair := min(nameMax, max(w*2/5, 10))
	c := choices[len(choices)-1]
	for _, ch := range choices {
		if nameFair+ch.other() <= w {
			c = ch
			break
		}
	}
	c.name = min(nameMax, max(w-c.other(), 1))
	c.name = min(c.name, nameFair)
	left := w - c.name - c.other()
	if c.gauge && anyKnown && left >= 9 {
		c.bar = min(left-3, 40)
		left -= c.bar + 3
	}
	if left > 0 {
		c.name = min(nameMax, c.name+left)
	}
	return c
}

// gauge is the percentage and bar of a row, or a spinner for an unknown size.
func (r *row) gauge(barW int) string {
	switch {
	case !r.known:
		return padLeft(r.tr.gauge.spinner(), percentWidth-1)
	case barW > 0:
		return r.tr.gauge.bar(r.done, r.total, barW)
	default:
		return percent(r.done, r.total)
	}
}

// sizeOf is "1.2/3.4 MiB", or "512 KiB/3.4 MiB" when the units differ.
func sizeOf(done, total int64) string {
	d, t := humanSize(done), humanSize(total)
	dn, du, _ := strings.Cut(d, " ")
	_, tu, _ := strings.Cut(t, " ")
	if du == tu {
		return dn + "/" + t
	}
	return d + "/" + t
}

// statusLines are the labelled counts, on as many lines as the width needs.
func (t *Terminal) statusLines(w int) []string {
	fields := t.tally.statusFields(t.waiting)
	if t.stopping != "" {
		fields = append([]string{t.stopping}, fields...)
	}
	const sep = " · "
	var lines []string
	cur := ""
	for _, f := range fields {
		switch {
		case cur == "":
			cur = f
		case width(cur)+width(sep)+width(f) <= w:
			cur += sep + f
		default:
			lines = append(lines, truncEnd(cur, w))
			cur = f
		}
	}
	return append(lines, truncEnd(cur, w))
}

// Wants tells whether Terminal does anything with events of kind k:
// redirects only matter when it prints them; attempts and retries also
// show on the transfer's line, as the wait before its next attempt.
func (t *Terminal) Wants(k event.Kind) bool {
	if t.opts.Quiet {
		return !verboseOnly(k)
	}
	return !verboseOnly(k) || k == event.Attempt || k == event.Retry || t.opts.Verbose
}

// retryIn is the rate column of a transfer that waits to retry: "retry in
// 57s", counting down in whole seconds.
func retryIn(d time.Duration) string {
	d = (d + time.Second - 1).Truncate(time.Second)
	if d < time.Minute {
		return "retry in " + strconv.Itoa(int(d/time.Second)) + "s"
	}
	return "retry in " + humanDuration(d)
}
