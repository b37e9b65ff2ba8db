package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// patience bounds every wait for something that takes milliseconds on an
// idle machine: a loaded runner with the race detector is far slower, and a
// test that waits this long has failed anyway.
const patience = 30 * time.Second

// gateServer serves content(path) for every path. A path under /slow/ sends
// half of its body, then waits until the gate opens (or the client goes
// away) before sending the rest; under /slow/nolen/ the body goes without a
// Content-Length (chunked). /missing/ paths are 404. Requests are counted.
type gateServer struct {
	*httptest.Server
	open     chan struct{}
	once     sync.Once
	requests atomic.Int64
	holding  atomic.Int64  // /slow/ requests now waiting at the gate
	arrived  chan struct{} // a /slow/ request reached the gate
}

func newGateServer(t *testing.T) *gateServer {
	t.Helper()
	s := &gateServer{open: make(chan struct{}), arrived: make(chan struct{}, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	t.Cleanup(s.release) // runs first: Close waits for the handlers
	return s
}

// release opens the gate for every held response, now and later.
func (s *gateServer) release() { s.once.Do(func() { close(s.open) }) }

// await waits until n /slow/ requests have reached the gate.
func (s *gateServer) await(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(patience)
	for i := range n {
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("only %d of %d held requests arrived after %v", i, n, patience)
		}
	}
}

func (s *gateServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	body := content(r.URL.Path)
	switch {
	case strings.HasPrefix(r.URL.Path, "/missing/"):
		http.NotFound(w, r)
		return
	case !strings.HasPrefix(r.URL.Path, "/slow/"):
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/slow/nolen/") {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	half := len(body) / 2
	w.Write(body[:half])
	w.(http.Flusher).Flush()
	s.holding.Add(1)
	defer s.holding.Add(-1)
	s.arrived <- struct{}{}
	select {
	case <-s.open:
		w.Write(body[half:])
	case <-r.Context().Done():
	}
}

// vt is a small model of a terminal screen: enough of what a VT100 does to
// replay what fetchpool writes and see what a person would see. Text auto-
// wraps at cols (recorded, since no line of the live block may wrap); LF
// moves down and scrolls; cursor-up stops at the top of the screen, as on a
// real terminal, so a block drawn taller than the screen leaves debris.
type vt struct {
	cols, height int
	lines        [][]rune
	cont         []bool // the line continues the one before it (auto-wrap)
	top          int    // first line on the screen; those above scrolled off
	y, x         int
	bells        int
	homeClears   int      // erase-belows from the top-left corner: tmux copies the screen to the scrollback first
	sgr          []string // parameters of every SGR (color) sequence
	moves        int      // cursor movements and erasures
	unknown      []string // escape sequences the model does not know
}

func newVT(cols, height int) *vt { return &vt{cols: cols, height: height} }

// write replays b.
func (v *vt) write(b []byte) {
	s := []rune(string(b))
	for i := 0; i < len(s); i++ {
		switch r := s[i]; {
		case r == '\n':
			v.down()
		case r == '\r':
			v.x = 0
		case r == '\a':
			v.bells++
		case r == '\b':
			v.x = max(v.x-1, 0)
		case r == 0x1b && i+1 < len(s) && s[i+1] == '[':
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			if j == len(s) {
				v.unknown = append(v.unknown, string(s[i:]))
				return
			}
			v.csi(string(s[i+2:j]), s[j])
			i = j
		case r == 0x1b || r < 0x20:
			v.unknown = append(v.unknown, strconv.QuoteRune(r))
		default:
			v.put(r)
		}
	}
}

func (v *vt) line(y int) []rune {
	for len(v.lines) <= y {
		v.lines = append(v.lines, nil)
		v.cont = append(v.cont, false)
	}
	return v.lines[y]
}

func (v *vt) down() {
	v.y++
	v.line(v.y)
	if v.y >= v.top+v.height {
		v.top = v.y - v.height + 1
	}
}

func (v *vt) put(r rune) {
	if v.x >= v.cols {
		v.down()
		v.x = 0
		v.cont[v.y] = true
	}
	l := v.line(v.y)
	for len(l) <= v.x {
		l = append(l, ' ')
	}
	l[v.x] = r
	v.lines[v.y] = l
	v.x++
}

func (v *vt) csi(arg string, final rune) {
	n := 1
	if k, err := strconv.Atoi(arg); err == nil {
		n = k
	}
	switch final {
	case 'm':
		v.sgr = append(v.sgr, arg)
		return
	case 'A':
		v.y = max(v.y-n, v.top)
	case 'B':
		v.y = min(v.y+n, max(v.top+v.height-1, v.y))
		v.line(v.y)
	case 'J': // erase below (the only form fetchpool should use)
		if arg != "" && arg != "0" {
			v.unknown = append(v.unknown, "CSI "+arg+"J")
		}
		if v.y == v.top && v.x == 0 {
			v.homeClears++
		}
		l := v.line(v.y)
		v.lines[v.y] = l[:min(v.x, len(l))]
		v.lines, v.cont = v.lines[:v.y+1], v.cont[:v.y+1]
	case 'K':
		l := v.line(v.y)
		v.lines[v.y] = l[:min(v.x, len(l))]
	default:
		v.unknown = append(v.unknown, "CSI "+arg+string(final))
	}
	v.moves++
}

// resize makes the terminal cols wide and rewraps what it holds, as tmux,
// VTE and most terminals of today do: each line written is cut again into
// rows of the new width, and the cursor stays on the character it was on.
func (v *vt) resize(cols int) {
	var rows [][]rune
	var conts []bool
	cy, cx := 0, 0 // the cursor in the rewrapped rows
	rewrap := func(l []rune, cursor int) {
		start := len(rows)
		for len(l) > cols {
			rows, conts = append(rows, l[:cols]), append(conts, len(rows) > start)
			l = l[cols:]
		}
		rows, conts = append(rows, l), append(conts, len(rows) > start)
		if cursor >= 0 {
			cy, cx = start+cursor/cols, cursor%cols
		}
	}
	var line []rune
	cursor := -1
	for i, l := range v.lines {
		if i > 0 && !v.cont[i] {
			rewrap(line, cursor)
			line, cursor = nil, -1
		}
		if i == v.y {
			cursor = len(line) + v.x
		}
		line = append(line, l...)
		for i+1 < len(v.lines) && v.cont[i+1] && len(line)%v.cols != 0 {
			line = append(line, ' ') // a row that wrapped was full
		}
	}
	rewrap(line, cursor)
	v.lines, v.cont, v.cols = rows, conts, cols
	v.y, v.x = cy, cx
	v.top = max(0, len(v.lines)-v.height)
}

// text is every line written, scrollback included, with wrapped rows joined
// back into the lines they came from and trailing blank lines dropped.
func (v *vt) text() []string {
	var out []string
	for i, l := range v.lines {
		s := strings.TrimRight(string(l), " ")
		if i > 0 && v.cont[i] {
			out[len(out)-1] += s
			continue
		}
		out = append(out, s)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// screen is the rows on the screen now, one string per row.
func (v *vt) screen() []string {
	var out []string
	for _, l := range v.lines[min(v.top, len(v.lines)):] {
		out = append(out, strings.TrimRight(string(l), " "))
	}
	return out
}

// tooWide is the lines that were wider than the terminal, but for the
// summary and failures: a failure's reason is never shortened. Lines of the
// live block and of items ok or skipped must fit.
// isItemLine tells the line of a finished item, which is never shortened
// (the terminal wraps it) and stays in the scrollback.
func isItemLine(l string) bool {
	for _, p := range []string{"ok ", "skip ", "FAIL ", "CANCEL "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

func (v *vt) tooWide() []string {
	var out []string
	for _, l := range v.text() {
		if len([]rune(l)) > v.cols && !isItemLine(l) && !summaryRx.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

// ptyProc is fetchpool running with a pseudo-terminal for its standard
// streams, and what the terminal received so far.
type ptyProc struct {
	t          *testing.T
	cols, rows int
	cmd        *exec.Cmd
	ptmx       *os.File
	resizes    []resized // in the order they were made

	mu   sync.Mutex
	out  []byte
	eof  bool
	wake chan struct{} // closed and replaced on every read

	exited chan struct{}
	code   int
}

// onPTY says how to run fetchpool on a pseudo-terminal.
type onPTY struct {
	cols, rows int
	env        []string  // added to a clean environment
	stdout     io.Writer // nil: the terminal
	stderr     io.Writer // nil: the terminal
	stdin      *os.File  // nil: the terminal
}

// startOnPTY starts the binary in dir with stdin, stderr and stdout (unless
// set says otherwise) on a new pseudo-terminal. What the
// terminal shows is read concurrently. The process is killed when the test
// ends if it still runs.
func startOnPTY(t *testing.T, dir string, set onPTY, args ...string) *ptyProc {
	t.Helper()
	cols, rows := set.cols, set.rows
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)}); err != nil {
		t.Fatalf("sizing the pseudo-terminal: %v", err)
	}
	p := &ptyProc{t: t, cols: cols, rows: rows, ptmx: ptmx, wake: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = newCommand(dir, args...)
	p.cmd.Env = append(p.cmd.Env, set.env...)
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = tty, tty, tty
	if set.stdout != nil {
		p.cmd.Stdout = set.stdout
	}
	if set.stderr != nil {
		p.cmd.Stderr = set.stderr
	}
	if set.stdin != nil {
		p.cmd.Stdin = set.stdin
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the child holds it; the master reads EIO once it exits
	go p.read(ptmx)
	go func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			p.code = ee.ExitCode()
		case err != nil:
			p.code = -2
		}
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
		ptmx.Close()
	})
	return p
}

func (p *ptyProc) read(ptmx *os.File) {
	buf := make([]byte, 32<<10)
	for {
		n, err := ptmx.Read(buf)
		p.mu.Lock()
		p.out = append(p.out, buf[:n]...)
		if err != nil {
			p.eof = true
		}
		close(p.wake)
		p.wake = make(chan struct{})
		p.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// snapshot returns what the terminal received so far, whether more may
// come, and a channel closed when that changes.
func (p *ptyProc) snapshot() ([]byte, bool, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.out), !p.eof, p.wake
}

// resized is a change of the terminal's width, after the first at bytes
// it received.
type resized struct {
	at   int
	cols int
}

// resize makes the terminal cols wide, as a person dragging the window's
// edge does. The screen model rewraps what it holds at that point of what
// the terminal received: what comes after is drawn at the new width.
func (p *ptyProc) resize(cols int) {
	p.t.Helper()
	p.mu.Lock()
	p.resizes = append(p.resizes, resized{at: len(p.out), cols: cols})
	p.mu.Unlock()
	if err := pty.Setsize(p.ptmx, &pty.Winsize{Cols: uint16(cols), Rows: uint16(p.rows)}); err != nil {
		p.t.Fatalf("resizing the pseudo-terminal: %v", err)
	}
}

// model replays what the terminal received into a fresh screen model,
// rewrapping it where the terminal was resized.
func (p *ptyProc) model(out []byte) *vt {
	v := newVT(p.cols, p.rows)
	p.mu.Lock()
	resizes := slices.Clone(p.resizes)
	p.mu.Unlock()
	done := 0
	for _, r := range resizes {
		if r.at > len(out) {
			break
		}
		v.write(out[done:r.at])
		v.resize(r.cols)
		done = r.at
	}
	v.write(out[done:])
	return v
}

// waitScreen waits until the screen, as the model shows it, satisfies ok,
// and returns those rows.
func (p *ptyProc) waitScreen(what string, ok func(rows []string) bool) []string {
	p.t.Helper()
	deadline := time.After(patience)
	for {
		out, more, wake := p.snapshot()
		rows := p.model(out).screen()
		if ok(rows) {
			return rows
		}
		if !more {
			p.t.Fatalf("fetchpool ended without showing %s; screen:\n%s", what, strings.Join(rows, "\n"))
		}
		select {
		case <-wake:
		case <-deadline:
			p.t.Fatalf("no %s after %v; screen:\n%s", what, patience, strings.Join(rows, "\n"))
		}
	}
}

// wait waits until the process has exited and the terminal has delivered
// all it wrote, and returns the exit code and the bytes.
func (p *ptyProc) wait() (int, []byte) {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(patience):
		out, _, _ := p.snapshot()
		p.t.Fatalf("fetchpool still running after %v; terminal:\n%q", patience, out)
	}
	deadline := time.After(patience)
	for {
		out, more, wake := p.snapshot()
		if !more {
			return p.code, out
		}
		select {
		case <-wake:
		case <-deadline:
			p.t.Fatalf("the terminal was not closed %v after fetchpool exited", patience)
		}
	}
}

var (
	colorSGR   = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	summaryRx  = regexp.MustCompile(`^done \d+, skipped \d+, failed \d+, not started \d+`)
	loggedRx   = regexp.MustCompile(`^(ok   |skip |FAIL |CANCEL )`)
	overallRx  = regexp.MustCompile(`^\s*\d+%.*\b\d+/\d+\b`)
	barGlyphRx = regexp.MustCompile(`[█▏▎▍▌▋▊▉]|\|[ █]*\|`)
)

// hasRow reports whether a row of rows contains all of parts.
func hasRow(rows []string, parts ...string) bool {
	for _, r := range rows {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(r, p)
		}
		if all {
			return true
		}
	}
	return false
}

// TestTerminalProgress runs fetchpool on a real pseudo-terminal while three
// transfers are held half-way (two with a Content-Length, one without) and
// two more wait in the queue: the screen shows the overall bar, a line per
// transfer and the status line with every label and count. Once the run
// ends the block is gone: what stays is the line of each finished item and
// the summary. No line of the block is ever wider than the terminal, and
// NO_COLOR=1 leaves out every color code.
func TestTerminalProgress(t *testing.T) {
	tests := []struct {
		name       string
		cols, rows int
		noColor    bool
	}{
		{"100x30", 100, 30, false},
		{"40x20 NO_COLOR", 40, 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newGateServer(t)
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "out"), 0o755)
			os.WriteFile(filepath.Join(dir, "out", "old.txt"), []byte("old"), 0o644)
			slow := []string{
				"/slow/alpha-with-a-name-long-enough-to-be-shortened-on-a-narrow-screen.bin",
				"/slow/beta.bin",
				"/slow/nolen/gamma.bin",
				"/slow/delta.bin",
				"/slow/epsilon.bin",
			}
			args := []string{"-o", "out", "-j", "3", "--retries", "0",
				srv.URL + "/fast/new.txt", srv.URL + "/fast/old.txt", srv.URL + "/missing/gone.txt"}
			for _, p := range slow {
				args = append(args, srv.URL+p)
			}
			var env []string
			if tt.noColor {
				env = append(env, "NO_COLOR=1")
			}
			p := startOnPTY(t, dir, onPTY{cols: tt.cols, rows: tt.rows, env: env}, args...)

			// The three fast items end first (-j 3 takes them first); then
			// three slow ones are held in flight and two wait in the queue.
			live := p.waitScreen("the live block with 3 in flight and 2 queued", func(rows []string) bool {
				all := strings.Join(rows, "\n")
				for _, want := range []string{"queued 2", "in flight 3", "done 1", "failed 1", "skipped 1"} {
					if !strings.Contains(all, want) {
						return false
					}
				}
				return hasRow(rows, "alp") && hasRow(rows, "beta.bin") && hasRow(rows, "gamma.bin")
			})
			if got := srv.holding.Load(); got != 3 {
				t.Errorf("%d responses held at the gate, want 3", got)
			}
			checkLiveBlock(t, live, tt.cols)

			srv.release()
			code, out := p.wait()
			if code != 1 {
				t.Errorf("exit %d, want 1 (one item failed)", code)
			}
			v := p.model(out)
			checkFinalScreen(t, v.text(), ended{ok: len(slow) + 1, skip: 1, fail: 1})
			if w := v.tooWide(); len(w) > 0 {
				t.Errorf("lines wider than the %d columns of the terminal: %q", tt.cols, w)
			}
			// At any width, the whole name: a name cut in the middle
			// could not tell two files apart.
			if want := "ok   out/alpha-with-a-name-long-enough-to-be-shortened-on-a-narrow-screen.bin  "; !hasRow(v.text(), want) {
				t.Errorf("no line %q on the final screen:\n%s", want, strings.Join(v.text(), "\n"))
			}
			if len(v.unknown) > 0 {
				t.Errorf("escape sequences a terminal would not expect here: %q", v.unknown)
			}
			switch {
			case tt.noColor && colorSGR.Match(out):
				t.Errorf("NO_COLOR=1 but color codes were written: %q", colorSGR.FindAll(out, 5))
			case !tt.noColor && !bytes.Contains(out, []byte("\x1b[32mok\x1b[0m")):
				t.Errorf("without NO_COLOR the ok label is not green; terminal:\n%q", out)
			}
		})
	}
}

// checkLiveBlock checks a screen that shows the live block: the overall
// bar first, then a line per transfer in flight, then the status line.
func checkLiveBlock(t *testing.T, rows []string, cols int) {
	t.Helper()
	screen := strings.Join(rows, "\n")
	first := -1
	for i, r := range rows {
		if overallRx.MatchString(r) {
			first = i
			break
		}
	}
	if first < 0 {
		t.Fatalf("no overall bar (NN%% ... done/total) on the screen:\n%s", screen)
	}
	if !strings.Contains(rows[first], "3/8") {
		t.Errorf("the overall bar does not count 3 of 8 items over: %q", rows[first])
	}
	block := rows[first:]
	for _, name := range []string{"alp", "beta.bin", "gamma.bin"} {
		i := -1
		for j, r := range block {
			if strings.HasPrefix(r, name) {
				i = j
			}
		}
		if i < 1 {
			t.Errorf("no line for the transfer %s below the overall bar:\n%s", name, screen)
			continue
		}
		if cols < 80 {
			continue
		}
		// Wide enough for every column: a bar when the size is known, a
		// spinner (no percentage) when it is not.
		hasBar := barGlyphRx.MatchString(block[i]) && strings.Contains(block[i], "%")
		if unknown := name == "gamma.bin"; hasBar == unknown {
			t.Errorf("transfer line %q: bar shown = %v, want %v (size known = %v)", block[i], hasBar, !unknown, !unknown)
		}
	}
	for len(block) > 0 && strings.TrimSpace(block[len(block)-1]) == "" {
		block = block[:len(block)-1]
	}
	if len(block) == 0 || !strings.Contains(block[len(block)-1], "skipped 1") {
		t.Errorf("the block does not end with the status line:\n%s", screen)
	}
	for _, r := range rows {
		if n := len([]rune(r)); n > cols {
			t.Errorf("a row wider than %d columns: %q", cols, r)
		}
	}
}

// checkFinalScreen checks what stays once the run is over: a line per
// finished item, then the summary and the failures, and nothing of the live
// block.
// ended is how the items of a run ended, and whether -q hid the ok and skip
// lines.
type ended struct {
	ok, skip, fail int
	quiet          bool
}

func checkFinalScreen(t *testing.T, lines []string, want ended) {
	t.Helper()
	ok, skip, fail := want.ok, want.skip, want.fail
	all := strings.Join(lines, "\n")
	counts := map[string]int{}
	sum := -1
	for i, l := range lines {
		switch {
		case summaryRx.MatchString(l):
			if sum >= 0 {
				t.Errorf("two summaries:\n%s", all)
			}
			sum = i
		case loggedRx.MatchString(l):
			counts[l[:4]]++
		default:
			t.Errorf("a line that is neither an item's line nor the summary stays on the screen: %q\nscreen:\n%s", l, all)
		}
	}
	if sum < 0 {
		t.Fatalf("no summary at the end:\n%s", all)
	}
	counted := "done " + strconv.Itoa(ok) + ", skipped " + strconv.Itoa(skip) + ", failed " + strconv.Itoa(fail) + ", not started 0"
	if !strings.HasPrefix(lines[sum], counted) {
		t.Errorf("summary %q, want it to start with %q", lines[sum], counted)
	}
	// Every failure is told twice: as it happens, and again in the summary.
	wantCounts := map[string]int{"ok  ": ok, "skip": skip, "FAIL": 2 * fail}
	if want.quiet {
		wantCounts["ok  "], wantCounts["skip"] = 0, 0
	}
	for label, n := range wantCounts {
		if counts[label] != n {
			t.Errorf("%d %q lines, want %d; screen:\n%s", counts[label], strings.TrimSpace(label), n, all)
		}
	}
	if tail := lines[sum+1:]; len(tail) != fail {
		t.Errorf("the summary is followed by %d lines, want the %d failures:\n%s", len(tail), fail, all)
	}
}

// TestTerminalModes: on a terminal, the bars are drawn by default (with -v,
// a line per attempt above them); with --no-progress the output is the
// plain lines, as off a terminal, and with -q only the failures and the
// summary: in both, not one escape sequence (no cursor movement, no
// erasing, no color). Each run holds a transfer in flight until a
// failure's line is on the screen, which the bars print only together with
// the live block.
func TestTerminalModes(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		bars  bool
		quiet bool // only failures and the summary
		tries int  // "try N URL" lines
		env   []string
	}{
		{"bars", nil, true, false, 0, nil},
		{"bars -v", []string{"-v"}, true, false, 3, nil},
		{"no-progress", []string{"--no-progress"}, false, false, 0, nil},
		{"no-progress -v", []string{"--no-progress", "--verbose"}, false, false, 3, nil},
		{"quiet", []string{"-q"}, false, true, 0, nil},
		{"quiet long", []string{"--quiet"}, false, true, 0, nil},
		// A terminal that cannot move the cursor gets the plain lines.
		{"TERM=dumb", nil, false, false, 0, []string{"TERM=dumb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newGateServer(t)
			dir := t.TempDir()
			args := append([]string{"-o", "out", "--retries", "0",
				srv.URL + "/slow/held.bin", srv.URL + "/fast/a.txt", srv.URL + "/missing/b.txt"}, tt.flags...)
			p := startOnPTY(t, dir, onPTY{cols: 100, rows: 30, env: tt.env}, args...)
			srv.await(t, 1)
			// The terminal may deliver one redraw in several reads, so with
			// the bars this waits for the whole block, status line included;
			// a block that never shows it fails the wait.
			live := p.waitScreen("the failure's line", func(rows []string) bool {
				for _, r := range rows {
					if strings.HasPrefix(r, "FAIL ") {
						return !tt.bars || hasRow(rows, "in flight 1")
					}
				}
				return false
			})
			if got := hasRow(live, "in flight 1"); got != tt.bars {
				t.Errorf("status line on the screen while a transfer is in flight: %v, want %v; screen:\n%s",
					got, tt.bars, strings.Join(live, "\n"))
			}
			srv.release()
			code, out := p.wait()
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			v := p.model(out)
			var lines []string
			tries := 0
			for _, l := range v.text() {
				if strings.HasPrefix(l, "try 1 "+srv.URL+"/") {
					tries++
					continue
				}
				lines = append(lines, l)
			}
			if tries != tt.tries {
				t.Errorf("%d attempt lines, want %d; screen:\n%s", tries, tt.tries, strings.Join(v.text(), "\n"))
			}
			checkFinalScreen(t, lines, ended{ok: 2, fail: 1, quiet: tt.quiet})
			if tt.bars {
				if v.moves == 0 {
					t.Errorf("the bars moved the cursor never; terminal:\n%q", out)
				}
				return
			}
			if i := bytes.IndexByte(out, 0x1b); i >= 0 {
				t.Errorf("an escape sequence with %s %s on a terminal: %q", tt.env, tt.flags, out[i:min(i+10, len(out))])
			}
		})
	}
}

// TestTerminalBell: --bell rings once, after the summary, when standard
// error is a terminal; never without the flag, and never into a pipe.
func TestTerminalBell(t *testing.T) {
	srv := newGateServer(t)
	tests := []struct {
		name     string
		terminal bool
		flags    []string
		bell     bool
	}{
		{"terminal --bell", true, []string{"--bell"}, true},
		{"terminal --bell --no-progress", true, []string{"--bell", "--no-progress"}, true},
		{"terminal", true, nil, false},
		{"pipe --bell", false, []string{"--bell"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"-o", "out", srv.URL + "/fast/a.txt"}, tt.flags...)
			var out []byte
			if tt.terminal {
				var code int
				code, out = startOnPTY(t, dir, onPTY{cols: 80, rows: 24}, args...).wait()
				if code != 0 {
					t.Fatalf("exit %d; terminal:\n%q", code, out)
				}
			} else {
				r := fetchpool(t, dir, "", args...)
				if r.code != 0 {
					t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
				}
				out = []byte(r.stdout + r.stderr)
			}
			n := bytes.Count(out, []byte("\a"))
			switch {
			case !tt.bell && n > 0:
				t.Errorf("%d bells, want none; output:\n%q", n, out)
			case tt.bell && (n != 1 || !bytes.HasSuffix(out, []byte("\a"))):
				t.Errorf("%d bells, want one at the very end; output:\n%q", n, out)
			case tt.bell && !bytes.Contains(out[:len(out)-1], []byte("done 1,")):
				t.Errorf("the bell rang before the summary; output:\n%q", out)
			}
		})
	}
}

// TestTerminalManyTransfers: more transfers in flight than the screen has
// rows. The block stays shorter than the 40x12 screen (the rest counted on
// a "+N more in flight" line), since the cursor cannot go back up past the
// top of the screen to erase it; and once the run ends nothing of it stays.
func TestTerminalManyTransfers(t *testing.T) {
	const cols, rows, n = 40, 12, 16
	srv := newGateServer(t)
	dir := t.TempDir()
	args := []string{"-o", "out", "-j", strconv.Itoa(n)}
	for i := range n {
		args = append(args, srv.URL+"/slow/file-"+strconv.Itoa(i)+".bin")
	}
	p := startOnPTY(t, dir, onPTY{cols: cols, rows: rows}, args...)
	srv.await(t, n)
	screen := p.waitScreen("the block with every transfer in flight", func(rows []string) bool {
		return hasRow(rows, "in flight "+strconv.Itoa(n)) && hasRow(rows, "more in flight")
	})
	block := 0
	for _, r := range screen {
		if strings.TrimSpace(r) != "" {
			block++
		}
	}
	if block >= rows {
		t.Errorf("a block of %d lines on a screen of %d rows:\n%s", block, rows, strings.Join(screen, "\n"))
	}
	srv.release()
	code, out := p.wait()
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	v := p.model(out)
	checkFinalScreen(t, v.text(), ended{ok: n})
	if w := v.tooWide(); len(w) > 0 {
		t.Errorf("lines wider than %d columns: %q", cols, w)
	}
}

// TestTerminalJSON: --json with the bars on. Typed at a terminal, the JSON
// lines (stdout) and the bars (stderr) share one screen: the JSON lines
// must not be erased with the block, nor leave pieces of it behind. Piped
// (`fetchpool --json ... | jq`), stdout gets the JSON lines and nothing
// else while the terminal shows the bars. Either way the screen ends with
// each item's line and the summary.
func TestTerminalJSON(t *testing.T) {
	for _, piped := range []bool{false, true} {
		t.Run("stdout piped="+strconv.FormatBool(piped), func(t *testing.T) {
			srv := newGateServer(t)
			dir := t.TempDir()
			names := []string{"/slow/a.bin", "/slow/nolen/b.bin", "/fast/c.bin", "/fast/d.bin"}
			args := []string{"--json", "-o", "out", "-j", "4"}
			for _, n := range names {
				args = append(args, srv.URL+n)
			}
			var stdout lockedBytes
			set := onPTY{cols: 100, rows: 30}
			if piped {
				set.stdout = &stdout
			}
			p := startOnPTY(t, dir, set, args...)
			srv.await(t, 2)
			p.waitScreen("the block, and the fast items' lines above it", func(rows []string) bool {
				done := hasRow(rows, "ok   out/c.bin") && hasRow(rows, "ok   out/d.bin")
				if !piped {
					done = done && hasRow(rows, `"status":"ok"`, "c.bin") && hasRow(rows, `"status":"ok"`, "d.bin")
				}
				return done && hasRow(rows, "in flight 2")
			})
			srv.release()
			code, out := p.wait()
			if code != 0 {
				t.Errorf("exit %d, want 0", code)
			}
			var jsonLines, rest []string
			for _, l := range p.model(out).text() {
				if strings.HasPrefix(l, "{") {
					jsonLines = append(jsonLines, l)
				} else {
					rest = append(rest, l)
				}
			}
			if piped {
				if len(jsonLines) > 0 {
					t.Errorf("JSON lines on the terminal when stdout is a pipe: %q", jsonLines)
				}
				if strings.Contains(stdout.String(), "\x1b") {
					t.Errorf("an escape sequence on stdout: %q", stdout.String())
				}
				jsonLines = strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			}
			var items []string
			for _, l := range jsonLines {
				var rec struct{ URL, Status string }
				if err := json.Unmarshal([]byte(l), &rec); err != nil {
					t.Errorf("a broken JSON line: %q: %v", l, err)
				}
				items = append(items, strings.TrimPrefix(rec.URL, srv.URL))
			}
			if slices.Sort(items); !slices.Equal(items, sorted(names)) {
				t.Errorf("JSON lines for %q, want one for each of %q; terminal:\n%s", items, names, strings.Join(rest, "\n"))
			}
			checkFinalScreen(t, rest, ended{ok: len(names)})
		})
	}
}

// lockedBytes is a bytes.Buffer that a process writes while the test reads.
type lockedBytes struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBytes) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBytes) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTerminalWaitToRetry: on a real terminal, a transfer that waits to
// retry shows the wait on its line, at 100 and at 40 columns; Ctrl-C then
// ends it at once, as canceled, without the retry.
func TestTerminalWaitToRetry(t *testing.T) {
	for _, cols := range []int{100, 40} {
		t.Run(strconv.Itoa(cols)+" columns", func(t *testing.T) {
			srv := newFaultServer(t)
			dir := t.TempDir()
			p := startOnPTY(t, dir, onPTY{cols: cols, rows: 20, env: []string{"NO_COLOR=1"}},
				"-o", "out", "--retry-wait", "1m", srv.URL+"/status/99/a.bin")
			p.waitScreen("wait to retry", func(rows []string) bool {
				return hasRow(rows, "a.bin", "retry in ")
			})
			if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			code, out := p.wait()
			if code != exitInterrupted {
				t.Fatalf("exit %d; terminal:\n%q", code, out)
			}
			rows := p.model(out).text()
			if !hasRow(rows, "CANCEL") || !strings.Contains(strings.Join(rows, ""), "not retried: stopping") {
				t.Errorf("no CANCEL line saying it was not retried:\n%s", strings.Join(rows, "\n"))
			}
			if n := len(srv.ranges("/status/99/a.bin")); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

// TestTerminalBlockAtTopOfScreen: a run on a screen just cleared draws its
// block from the top-left corner. Erasing it there with an erase-below is,
// to tmux, a clear screen, which first copies the screen into the
// scrollback (scroll-on-clear): every redraw, ten a second, left a copy of
// the block there. The block is never erased that way.
func TestTerminalBlockAtTopOfScreen(t *testing.T) {
	srv := newGateServer(t)
	dir := t.TempDir()
	p := startOnPTY(t, dir, onPTY{cols: 100, rows: 30}, "-o", "out",
		srv.URL+"/slow/one.bin", srv.URL+"/slow/two.bin")
	srv.await(t, 2)
	// Several frames: each erases the one before.
	p.waitScreen("the block", func(rows []string) bool { return hasRow(rows, "in flight 2") })
	time.Sleep(500 * time.Millisecond)
	srv.release()
	code, out := p.wait()
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	v := p.model(out)
	if v.homeClears > 0 {
		t.Errorf("the block was erased %d times with an erase-below from the top-left corner of the screen, which tmux copies into the scrollback first", v.homeClears)
	}
	checkFinalScreen(t, v.text(), ended{ok: 2})
}

// TestTerminalNarrowerDuringRun: the window is made narrower while the
// bars are shown. The terminal rewraps the lines of the block drawn at the
// old width onto several rows each; the next redraw must erase all those
// rows, or the top of the old block stays on the screen for good.
func TestTerminalNarrowerDuringRun(t *testing.T) {
	srv := newGateServer(t)
	dir := t.TempDir()
	slow := []string{
		"/slow/first-file-with-a-long-name.bin",
		"/slow/second-file-with-a-long-name.bin",
		"/slow/third-file-with-a-long-name.bin",
	}
	args := []string{"-o", "out"}
	for _, s := range slow {
		args = append(args, srv.URL+s)
	}
	p := startOnPTY(t, dir, onPTY{cols: 100, rows: 30}, args...)
	srv.await(t, len(slow))
	p.waitScreen("the block at 100 columns", func(rows []string) bool {
		return hasRow(rows, "in flight 3", "skipped 0")
	})
	p.resize(40)
	// At 40 columns the status line takes two lines.
	p.waitScreen("the block redrawn at 40 columns", func(rows []string) bool {
		return hasRow(rows, "queued 0 · in flight 3") && !hasRow(rows, "in flight 3 · done 0 · failed 0")
	})
	srv.release()
	code, out := p.wait()
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	v := p.model(out)
	checkFinalScreen(t, v.text(), ended{ok: len(slow)})
}

// TestTerminalServerName: an item whose server names it in
// Content-Disposition is saved under that name, and its line in the block
// says so while it is fetched, not the last segment of its URL.
func TestTerminalServerName(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := content(r.URL.Path)
		w.Header().Set("Content-Disposition", `attachment; filename="report-2025.pdf"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		select {
		case <-release:
			w.Write(body[len(body)/2:])
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	t.Cleanup(open) // before Close, which waits for the handler

	dir := t.TempDir()
	p := startOnPTY(t, dir, onPTY{cols: 100, rows: 30}, "-o", "out", srv.URL+"/download")
	p.waitScreen("the transfer under the server's name", func(rows []string) bool {
		for _, r := range rows {
			if strings.HasPrefix(r, "report-2025.pdf ") && strings.Contains(r, "%") {
				return true
			}
		}
		return false
	})
	open()
	code, out := p.wait()
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	if want := "ok   out/report-2025.pdf  "; !hasRow(p.model(out).text(), want) {
		t.Errorf("no line %q at the end:\n%s", want, strings.Join(p.model(out).text(), "\n"))
	}
}

// TestTerminalWaitingAtGate: with --rate, the workers take items that then
// wait for the request rate before their first request. They have sent
// nothing: the status line counts them as waiting, not in flight, and they
// get no line (each used to show "0 B  0 B/s" as if it were downloading).
// Ctrl-C then waits only for the one transfer really in flight.
func TestTerminalWaitingAtGate(t *testing.T) {
	for _, cols := range []int{100, 40} {
		t.Run(strconv.Itoa(cols)+" columns", func(t *testing.T) {
			srv := newGateServer(t)
			dir := t.TempDir()
			names := []string{"a.bin", "b.bin", "c.bin"}
			args := []string{"-o", "out", "--rate", "1/m"}
			for _, n := range names {
				args = append(args, srv.URL+"/slow/"+n)
			}
			p := startOnPTY(t, dir, onPTY{cols: cols, rows: 20, env: []string{"NO_COLOR=1"}}, args...)
			srv.await(t, 1)
			p.waitScreen("two transfers waiting for the rate", func(rows []string) bool {
				return hasRow(rows, "waiting 2") && hasRow(rows, "in flight 1")
			})
			time.Sleep(300 * time.Millisecond) // a few more frames
			out, _, _ := p.snapshot()
			rows := p.model(out).screen()
			shown := 0
			for _, n := range names {
				if hasRow(rows, n) {
					shown++
				}
			}
			// Only the names tell the rows apart: the transfer in flight,
			// half its body in and then held, itself shows 0 B/s once its
			// rate has two samples, half a second after its answer.
			if shown != 1 || !hasRow(rows, "waiting 2") || !hasRow(rows, "in flight 1") {
				t.Errorf("want one transfer line and the status line saying 2 waiting, 1 in flight; screen:\n%s",
					strings.Join(rows, "\n"))
			}
			if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			p.waitScreen("the stop line", func(rows []string) bool { return hasRow(rows, "stopping: waiting for 1 transfer") })
			srv.release()
			code, out := p.wait()
			if code != exitInterrupted {
				t.Fatalf("exit %d; terminal:\n%q", code, out)
			}
			if n := srv.requests.Load(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			text := strings.Join(p.model(out).text(), "\n")
			if !strings.Contains(text, "done 1, skipped 0, failed 0, not started 2") {
				t.Errorf("summary does not say 1 done and 2 not started:\n%s", text)
			}
		})
	}
}

// TestTerminalRetryWaitingAtGate: a retry that waits at the gate for the
// request rate, its backoff over, has nothing in flight either: the status
// line counts it as waiting, and it has no line (it showed "0 B  0 B/s",
// in flight, for as long as the rate made it wait). Ctrl-C then ends it
// at once, without the retry.
func TestTerminalRetryWaitingAtGate(t *testing.T) {
	for _, cols := range []int{100, 40} {
		t.Run(strconv.Itoa(cols)+" columns", func(t *testing.T) {
			srv := newFaultServer(t)
			dir := t.TempDir()
			p := startOnPTY(t, dir, onPTY{cols: cols, rows: 20, env: []string{"NO_COLOR=1"}},
				"-o", "out", "--rate", "1/m", "--retry-wait", "10ms", srv.URL+"/status/1/a.bin")
			p.waitScreen("the retry waiting for the rate", func(rows []string) bool {
				return hasRow(rows, "waiting 1") && hasRow(rows, "in flight 0")
			})
			time.Sleep(300 * time.Millisecond) // a few more frames
			out, _, _ := p.snapshot()
			rows := p.model(out).screen()
			if hasRow(rows, "a.bin") || !hasRow(rows, "waiting 1") || !hasRow(rows, "in flight 0") {
				t.Errorf("want no transfer line and the status line saying 1 waiting, 0 in flight; screen:\n%s",
					strings.Join(rows, "\n"))
			}
			if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			code, out := p.wait()
			if code != exitInterrupted {
				t.Fatalf("exit %d; terminal:\n%q", code, out)
			}
			if n := len(srv.ranges("/status/1/a.bin")); n != 1 {
				t.Errorf("%d requests, want 1: the retry was sent after Ctrl-C", n)
			}
		})
	}
}

// TestTerminalChecksumsFromTerminal: --checksums - with standard input on
// a terminal waited, without a word, for checksums typed in, as no item is
// read from a terminal (the spec makes that a usage error): it is a usage
// error too, saying to pipe the list in or give it as a file.
func TestTerminalChecksumsFromTerminal(t *testing.T) {
	dir := t.TempDir()
	p := startOnPTY(t, dir, onPTY{cols: 100, rows: 20, env: []string{"NO_COLOR=1"}}, "--checksums", "-", "-o", "out", "http://127.0.0.1:1/x")
	code, out := p.wait()
	text := strings.Join(p.model(out).text(), "\n")
	if code != 2 || !strings.Contains(text, "--checksums -: standard input is a terminal") {
		t.Errorf("exit %d, want 2 saying that standard input is a terminal; terminal:\n%s", code, text)
	}
}

// heldBig is the size of /big/ paths of newHeldServer: a thousand times
// that of the others.
const heldBig = 1000 * 1000

// newHeldServer serves heldBig bytes, with a Content-Length, for a path
// under /big/, a quarter of them at once and the rest once release is
// called (or the client goes away); any other path gets 1000 bytes at once.
func newHeldServer(t *testing.T) (srv *httptest.Server, release func()) {
	t.Helper()
	open := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(open) }) }
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/big/") {
			w.Header().Set("Content-Length", "1000")
			w.Write(bytes.Repeat([]byte("s"), 1000))
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(heldBig))
		w.Write(bytes.Repeat([]byte("b"), heldBig/4))
		w.(http.Flusher).Flush()
		select {
		case <-open:
			w.Write(bytes.Repeat([]byte("b"), heldBig-heldBig/4))
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(release) // runs first: Close waits for the handler
	return srv, release
}

// overallPercent is the percentage and the count of items of the overall
// bar on the screen, or ok false when there is none.
func overallPercent(rows []string) (pct int, count string, ok bool) {
	rx := regexp.MustCompile(`^\s*(\d+)%.*?\s(\d+/\d+)(\s|$)`)
	for _, r := range rows {
		if m := rx.FindStringSubmatch(r); m != nil {
			pct, _ = strconv.Atoi(m[1])
			return pct, m[2], true
		}
	}
	return 0, "", false
}

// TestTerminalOverallFollowsBytes: once the whole input is read and every
// item left is in flight with a known size, the percentage of the overall
// bar follows the bytes, as aria2c's and wget2's do; the count of items
// stays beside it. It counted items only: a single big file held at a
// quarter showed 0% (0/1) under its own line at 25%, and a big file after
// two small ones 66% with three quarters of the bytes still to come. While
// the input may still bring items, the bar stays on items.
func TestTerminalOverallFollowsBytes(t *testing.T) {
	tests := []struct {
		name  string
		cols  int
		small int  // small files before the big one
		pipe  bool // the list comes on a pipe that stays open until the big file is held
		count string
	}{
		{name: "single file", cols: 100, count: "0/1"},
		{name: "single file, 40 columns", cols: 40, count: "0/1"},
		{name: "after two small files", cols: 100, small: 2, count: "2/3"},
		{name: "after two small files, 40 columns", cols: 40, small: 2, count: "2/3"},
		{name: "input still open", cols: 100, small: 2, pipe: true, count: "2/3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, release := newHeldServer(t)
			dir := t.TempDir()
			var urls []string
			for i := range tt.small {
				urls = append(urls, srv.URL+"/small/s"+strconv.Itoa(i)+".txt")
			}
			urls = append(urls, srv.URL+"/big/big.iso")
			set := onPTY{cols: tt.cols, rows: 20, env: []string{"NO_COLOR=1"}}
			args := append([]string{"-o", "out", "-j", "1"}, urls...)
			var w *os.File
			if tt.pipe {
				r, pw, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer pw.Close()
				defer r.Close()
				if _, err := io.WriteString(pw, strings.Join(urls, "\n")+"\n"); err != nil {
					t.Fatal(err)
				}
				set.stdin, w = r, pw
				args = []string{"-o", "out", "-j", "1", "-i", "-"}
			}
			p := startOnPTY(t, dir, set, args...)
			held := func(rows []string) bool {
				_, count, ok := overallPercent(rows)
				return ok && count == tt.count && hasRow(rows, "big.iso", "25%")
			}
			p.waitScreen("big.iso held at a quarter", held)
			if tt.pipe {
				// More items may come: the bar counts the items.
				time.Sleep(300 * time.Millisecond) // a few more frames
				out, _, _ := p.snapshot()
				rows := p.model(out).screen()
				if pct, _, _ := overallPercent(rows); pct != 66 {
					t.Errorf("with the input still open, the overall bar is at %d%%, want 66%% (2 of 3 items); screen:\n%s",
						pct, strings.Join(rows, "\n"))
				}
				w.Close()
				p.waitScreen("the overall bar on bytes once the input is read", func(rows []string) bool {
					pct, _, _ := overallPercent(rows)
					return held(rows) && pct != 66
				})
			}
			time.Sleep(300 * time.Millisecond) // a few more frames
			out, _, _ := p.snapshot()
			rows := p.model(out).screen()
			// (small files + a quarter of the big one) of all the bytes.
			want := (tt.small*1000 + heldBig/4) * 100 / (tt.small*1000 + heldBig)
			if pct, count, ok := overallPercent(rows); !ok || pct != want || count != tt.count {
				t.Errorf("overall bar at %d%% (%s), want %d%% (%s): the share of the bytes; screen:\n%s",
					pct, count, want, tt.count, strings.Join(rows, "\n"))
			}
			release()
			code, out := p.wait()
			if code != 0 {
				t.Errorf("exit %d, want 0", code)
			}
			v := p.model(out)
			checkFinalScreen(t, v.text(), ended{ok: tt.small + 1})
			if w := v.tooWide(); len(w) > 0 {
				t.Errorf("lines wider than the %d columns of the terminal: %q", tt.cols, w)
			}
		})
	}
}
