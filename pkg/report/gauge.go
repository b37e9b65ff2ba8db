package report

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// gauge draws the percentage and bar of one line with progressbar/v3, which
// writes to io.Discard: the Terminal takes the rendered text from String()
// and lays out the line itself, because progressbar fits its width only to
// an *os.File and times rates with its own clock.
//
// A gauge is used by one goroutine only; its bars run no goroutine of their
// own (the spinner advances once per render).
type gauge struct {
	pb    *progressbar.ProgressBar
	max   int64 // the bar's max; -1 for a spinner
	cur   int64
	width int
}

// spinnerType picks progressbar's braille spinner: one column wide.
const spinnerType = 14

func newBar(max int64, width int) *progressbar.ProgressBar {
	return progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(io.Discard),
		progressbar.OptionSetWidth(width),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionShowBytes(false),
		progressbar.OptionSpinnerType(spinnerType),
		progressbar.OptionSetSpinnerChangeInterval(0),
	)
}

// barWidth is the width of what bar returns for a bar of w columns:
// "%4d%% |" + w + "|".
func barWidth(w int) int { return w + 8 }

// percentWidth is the width of what percent returns.
const percentWidth = 5

// bar returns " 45% |█████     |" for cur of total (total > 0), with a bar
// of w columns: barWidth(w) in all.
func (g *gauge) bar(cur, total int64, w int) string {
	cur = min(max(cur, 0), total)
	if g.pb == nil || g.max != total || cur < g.cur || (g.width != w && cur >= total) {
		// A finished progressbar no longer renders, and one that went
		// backwards would count wrong: start a new one.
		g.pb = newBar(total, w)
		g.max, g.cur, g.width = total, 0, w
	}
	if g.width != w {
		progressbar.OptionSetWidth(w)(g.pb)
		g.width = w
	}
	g.cur = cur
	_ = g.pb.Set64(cur)
	_ = g.pb.RenderBlank() // Set64 renders only when the percentage changes
	return trimRendered(g.pb.String())
}

// spinner returns the next frame of a spinner, for a transfer whose size is
// not known: one column.
func (g *gauge) spinner() string {
	if g.pb == nil || g.max != -1 {
		g.pb = newBar(-1, 10)
		g.max, g.cur, g.width = -1, 0, 10
	}
	_ = g.pb.RenderBlank()
	return trimRendered(g.pb.String())
}

// percent returns " 45%", as bar does but without the bar.
func percent(cur, total int64) string {
	p := 0
	if total > 0 {
		p = int(float64(min(max(cur, 0), total)) / float64(total) * 100)
	}
	return padLeft(strconv.Itoa(p)+"%", percentWidth)
}

// trimRendered drops the carriage return and the trailing spaces that
// progressbar puts around a rendered line.
func trimRendered(s string) string {
	return strings.TrimRight(strings.TrimLeft(s, "\r"), " ")
}

// meter measures a rate from samples of a growing count taken on ticks, over
// a window of the last few seconds.
type meter struct {
	t    [8]time.Time
	v    [8]int64
	n    int // samples held
	next int // where the next sample goes
}

// sampleEvery is the least time between two samples: 8 samples make a
// window of about 4 s.
const sampleEvery = 500 * time.Millisecond

// add records that the count was v at now.
func (m *meter) add(now time.Time, v int64) {
	if m.n > 0 {
		last := (m.next + len(m.t) - 1) % len(m.t)
		if v < m.v[last] { // restarted from zero: old samples mean nothing
			m.n = 0
		} else if now.Sub(m.t[last]) < sampleEvery {
			return
		}
	}
	m.t[m.next], m.v[m.next] = now, v
	m.next = (m.next + 1) % len(m.t)
	m.n = min(m.n+1, len(m.t))
}

// rate reports the count per second between the oldest sample and v at now,
// and false when the samples span too little time to say.
func (m *meter) rate(now time.Time, v int64) (float64, bool) {
	if m.n == 0 {
		return 0, false
	}
	oldest := (m.next + len(m.t) - m.n) % len(m.t)
	span := now.Sub(m.t[oldest])
	if span < sampleEvery || v < m.v[oldest] {
		return 0, false
	}
	return float64(v-m.v[oldest]) / span.Seconds(), true
}
