package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/input"
)

// humanSize formats n bytes for a person: "512 B", "1.2 KiB", "14.2 MiB",
// "3.0 GiB" (1024-based units, one decimal above bytes).
func humanSize(n int64) string {
	if n < 0 {
		n = 0
	}
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := [...]string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n) / 1024
	i := 0
	// Round first, so 1023.96 KiB becomes "1.0 MiB" rather than "1024.0 KiB".
	for v >= 1023.95 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}

// humanRate formats a transfer rate in bytes per second, e.g. "4.6 MiB/s".
func humanRate(bytesPerSec float64) string {
	if bytesPerSec < 0 {
		bytesPerSec = 0
	}
	return humanSize(int64(bytesPerSec+0.5)) + "/s"
}

// humanDuration formats d rounded for a person: "12ms" below 0.1 s, "3.1s"
// below 10 s, "42s" below a minute, "3m05s" below an hour, else "1h02m".
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < 100*time.Millisecond:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d < time.Minute:
		return strconv.Itoa(int(d.Round(time.Second)/time.Second)) + "s"
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	default:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}

// plural returns "1 attempt", "2 attempts".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// clean replaces control characters (C0, DEL, C1), bidirectional-text
// controls, line and paragraph separators and invalid UTF-8 so that text
// taken from input lists, servers or errors can never move the cursor,
// change colors, reorder the line that shows it (a reason phrase with
// U+202E) or start a false one in a log viewer (U+2028). A TAB, which
// separates an item's URL from its name in a list, is shown as the two
// characters \t: as a "?", "a.txt<TAB>x" read as the query "a.txt?x".
// Anything else becomes "?".
func clean(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			if strings.IndexByte(s[i:], '\t') < 0 {
				return strings.Map(cleanRune, s)
			}
			return cleanTabs(s)
		}
	}
	return s
}

// cleanTabs is clean of s, which holds a TAB.
func cleanTabs(s string) string {
	parts := strings.Split(s, "\t")
	for i, p := range parts {
		parts[i] = strings.Map(cleanRune, p)
	}
	return strings.Join(parts, `\t`)
}

// shownURL is an item's URL as a person reads it: cleaned, and with the
// password of a URL like http://user:secret@host/ shown as "xxxxx", so that
// it stays out of terminals and logs. (The JSON lines, --report and
// --failed keep the URL as given: programs and re-runs need it whole.)
func shownURL(s string) string {
	return clean(input.RedactPassword(s))
}

func cleanRune(r rune) rune {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return '?'
	case r == utf8.RuneError, isLayoutControl(r):
		return '?'
	}
	return r
}

// isLayoutControl reports the characters that change how a line is laid
// out without showing: bidirectional-text marks, embeddings, overrides and
// isolates, and the line and paragraph separators (those naming.Sanitize
// keeps out of names).
func isLayoutControl(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' ||
		('\u202a' <= r && r <= '\u202e') || ('\u2066' <= r && r <= '\u2069') ||
		r == '\u2028' || r == '\u2029'
}

// width is the number of terminal columns s takes; s must hold no escapes.
// Text made of ASCII, Latin letters and the glyphs of bars and spinners is
// counted directly; anything else (wide, combining, emoji) asks uniseg.
func width(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !narrow(r) {
			return uniseg.StringWidth(s)
		}
		n++
		i += size
	}
	return n
}

// narrow says whether r surely takes one column on its own: Latin letters
// and signs, "…", box drawing, blocks and braille.
func narrow(r rune) bool {
	switch {
	case r >= 0xa0 && r < 0x300 && r != 0xad:
		return true
	case r == '…', r >= 0x2500 && r <= 0x259f, r >= 0x2800 && r <= 0x28ff:
		return true
	}
	return false
}

// visibleWidth is width after removing ANSI CSI sequences.
func visibleWidth(s string) int { return width(stripANSI(s)) }

// stripANSI removes CSI escape sequences ("\x1b[...X") and carriage returns.
func stripANSI(s string) string {
	if !strings.ContainsAny(s, "\x1b\r") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r':
		case c == 0x1b && i+1 < len(s) && s[i+1] == '[':
			i += 2
			for i < len(s) && (s[i] < 0x40 || s[i] > 0x7e) {
				i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// truncMiddle shortens s to at most w columns by cutting its middle and
// putting "…" there, so both the start and the extension of a name stay.
func truncMiddle(s string, w int) string {
	if width(s) <= w {
		return s
	}
	if w <= 0 {
		return ""
	}
	if w == 1 {
		return "…"
	}
	gs := graphemes(s)
	keepHead := (w - 1) / 2
	keepTail := w - 1 - keepHead
	var head, tail strings.Builder
	used := 0
	for _, g := range gs {
		if used+g.w > keepHead {
			break
		}
		head.WriteString(g.s)
		used += g.w
	}
	keepTail += keepHead - used // give the tail what the head could not use
	used = 0
	start := len(gs)
	for start > 0 && used+gs[start-1].w <= keepTail {
		start--
		used += gs[start].w
	}
	for _, g := range gs[start:] {
		tail.WriteString(g.s)
	}
	return head.String() + "…" + tail.String()
}

// truncEnd shortens s to at most w columns, ending it with "…" when cut.
func truncEnd(s string, w int) string {
	if width(s) <= w {
		return s
	}
	if w <= 0 {
		return ""
	}
	var b strings.Builder
	used := 0
	for _, g := range graphemes(s) {
		if used+g.w > w-1 {
			break
		}
		b.WriteString(g.s)
		used += g.w
	}
	b.WriteString("…")
	return b.String()
}

// padRight pads s with spaces to w columns.
func padRight(s string, w int) string {
	if n := w - width(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

// padLeft pads s with spaces on the left to w columns.
func padLeft(s string, w int) string {
	if n := w - width(s); n > 0 {
		return strings.Repeat(" ", n) + s
	}
	return s
}

type grapheme struct {
	s string
	w int
}

func graphemes(s string) []grapheme {
	var out []grapheme
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		out = append(out, grapheme{g.Str(), g.Width()})
	}
	return out
}

// reason says why an item failed or was canceled, for a person.
func reason(r *event.Result, started bool) string {
	if r.Err != nil {
		return r.Err.Error()
	}
	switch r.Status {
	case event.StatusCanceled:
		if started {
			return "interrupted"
		}
		return "not started"
	case event.StatusFailed:
		return "failed"
	}
	return ""
}

// itemRef names an item for a message: "urls.txt:3 https://x/y", just the
// URL when the item has no known source, or just the source ("arg 2") when
// it has no URL (an empty argument).
func itemRef(it *event.Result) string {
	u := shownURL(it.Item.URL)
	switch {
	case it.Item.Source == "":
		return u
	case u == "":
		return clean(it.Item.Where())
	}
	return clean(it.Item.Where()) + " " + u
}

// Labels that start the line of a finished item.
const (
	labelOK       = "ok"
	labelSkip     = "skip"
	labelFail     = "FAIL"
	labelCanceled = "CANCEL"
)

// finishedLine is the label and the rest of the line that reports a finished
// item, its text cleaned. It is never shortened to fit a terminal: the line
// stays in the scrollback, where a path cut in the middle could no longer
// tell two files apart (the terminal wraps a long line instead).
func finishedLine(r *event.Result, started bool) (label, rest string) {
	switch r.Status {
	case event.StatusOK:
		tail := "  " + humanSize(r.Size) + "  " + humanDuration(r.Duration)
		return labelOK, outputOf(r) + tail
	case event.StatusSkipped:
		tail := ""
		if r.Reason != "" {
			tail = "  (" + clean(r.Reason) + ")"
		}
		return labelSkip, outputOf(r) + tail
	case event.StatusCanceled:
		return labelCanceled, itemRef(r) + ": " + clean(reason(r, started))
	default:
		return labelFail, itemRef(r) + ": " + clean(reason(r, started))
	}
}

func outputOf(r *event.Result) string {
	if r.Output != "" {
		return clean(r.Output)
	}
	return shownURL(r.Item.URL)
}

// padLabel pads a label to the column where the rest of the line starts.
func padLabel(label string) string {
	if len(label) >= 5 {
		return label + " "
	}
	return label + strings.Repeat(" ", 5-len(label))
}

// verboseLine is the line for an Attempt, Redirect or Retry event, or "".
func verboseLine(ev event.Event) string {
	u := shownURL(ev.Item.URL)
	switch ev.Kind {
	case event.Attempt:
		if ev.Message != "" {
			return "try " + strconv.Itoa(ev.Attempt) + " " + u + " (" + clean(ev.Message) + ")"
		}
		return "try " + strconv.Itoa(ev.Attempt) + " " + u
	case event.Redirect:
		// Numbered like the attempts, so that the hops of a chain read
		// in order.
		return "redirect " + strconv.Itoa(max(ev.Attempt, 1)) + " " + u + " -> " + shownURL(ev.Message)
	case event.Retry:
		why := "failed"
		if ev.Err != nil {
			why = clean(ev.Err.Error())
		}
		return "retry " + u + " in " + humanDuration(ev.Wait) + ": " + why
	case event.Duplicate:
		return "duplicate " + ev.Item.Where() + " " + u + ": dropped, listed before"
	}
	return ""
}

// stopLine is the line for a Draining or Aborting event, or "".
func stopLine(ev event.Event) string {
	switch ev.Kind {
	case event.Draining:
		if ev.InFlight == 0 {
			return "stopping: no transfers in flight; not starting any more"
		}
		return "stopping: waiting for " + plural(ev.InFlight, "transfer") +
			" in flight to finish (Ctrl-C again to abort them)"
	case event.Aborting:
		return "aborting " + plural(ev.InFlight, "transfer") +
			" in flight; what has arrived stays in .part files for a resume"
	}
	return ""
}
