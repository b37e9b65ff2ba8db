package report

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// lockedBuffer is a bytes.Buffer that a reader goroutine fills.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A real pseudo-terminal: the Terminal writes to its tty side, sized 80x24,
// and what the master side reads shows the bars and the status line, then
// only the log lines once the block is erased.
func TestTerminalOnPTY(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	if !term.IsTerminal(int(tty.Fd())) {
		t.Fatal("tty side is not a terminal")
	}
	width := func() int {
		w, _, err := term.GetSize(int(tty.Fd()))
		if err != nil {
			return 0
		}
		return w
	}
	if w := width(); w != 80 {
		t.Fatalf("terminal width = %d, want 80", w)
	}

	var got lockedBuffer
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(&got, ptmx)
		copied <- err
	}()

	evs, ps, items := busyRun(8, 3)
	tm := NewTerminal(tty, TerminalOptions{Width: width, Height: func() int { return 24 }})
	feed(tm, evs)
	for i := 1; i <= 10; i++ {
		advance(ps, 200<<10)
		tm.Tick(at(time.Duration(i) * 100 * time.Millisecond))
	}
	res := event.Result{Item: items[0], Output: "out/a.bin", Status: event.StatusOK, Bytes: 1 << 20, Size: 1 << 20, Duration: time.Second}
	tm.Handle(event.Event{Kind: event.Finished, Time: at(time.Second), Item: items[0], Progress: ps[0], Result: &res})
	tm.Tick(at(1100 * time.Millisecond))
	if err := tm.Close(); err != nil {
		t.Fatal(err)
	}

	// Wait until the master has read what the Terminal wrote: the final
	// erase is the last thing it writes, and it ends back on the block's
	// first line.
	const erased = clearToEnd + "\x1b[A"
	deadline := time.Now().Add(10 * time.Second)
	for !strings.HasSuffix(got.String(), erased) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	tty.Close()
	select {
	case err := <-copied:
		if err != nil && !errors.Is(err, os.ErrClosed) && !strings.Contains(err.Error(), "input/output error") {
			t.Logf("reading the pty: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Log("reader still running; closing the master")
	}

	out := got.String()
	if !strings.HasSuffix(out, erased) {
		t.Fatalf("the block was not erased at the end; read %q", out)
	}
	for _, want := range []string{"queued ", "in flight ", "done ", "failed ", "skipped ", "%", "|", "█", "0/8",
		colorGreen + "ok" + colorReset} {
		if !strings.Contains(out, want) {
			t.Errorf("pty output lacks %q", want)
		}
	}
	var sc screen
	sc.write(out)
	lines := sc.lines()
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "ok   out/a.bin") {
		t.Errorf("the screen ends with:\n%s\nwant only the ok line", strings.Join(lines, "\n"))
	}
}
