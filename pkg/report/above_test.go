package report

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// Lines that another sink writes through Above onto the same screen (as
// --json does when standard output is the terminal too) are printed above
// the block at the next redraw, in order with the Terminal's own lines;
// the block is never left behind, and nothing is written to the other
// writer before then.
func TestTerminalAbove(t *testing.T) {
	var screenBuf strings.Builder
	var stdout countingWriter
	evs, ps, items := busyRun(4, 2)
	term := NewTerminal(&screenBuf, TerminalOptions{NoColor: true, Width: func() int { return 80 }})
	out := io.MultiWriter(&stdout, &screenBuf) // another stream onto the same screen
	above := term.Above(out)
	feed(term, evs)
	term.Tick(at(100 * time.Millisecond))

	res := event.Result{Item: items[0], Output: "out/a.bin", Status: event.StatusOK, Bytes: 1 << 20, Size: 1 << 20}
	ev := event.Event{Kind: event.Finished, Time: at(150 * time.Millisecond), Item: items[0], Progress: ps[0], Result: &res}
	if n, err := io.WriteString(above, `{"url":"https://example.com/f0"}`+"\n"); n == 0 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	term.Handle(ev)
	if stdout.writes != 0 {
		t.Errorf("the line went out before the block was erased")
	}
	term.Tick(at(300 * time.Millisecond))
	if stdout.writes == 0 {
		t.Errorf("the line was not written at the redraw")
	}
	io.WriteString(above, `{"url":"https://example.com/f1"}`+"\n")
	if err := term.Close(); err != nil {
		t.Fatal(err)
	}

	var sc screen
	sc.write(screenBuf.String())
	got := strings.Join(sc.lines(), "\n")
	want := `{"url":"https://example.com/f0"}` + "\n" +
		"ok   out/a.bin  1.0 MiB  0ms\n" +
		`{"url":"https://example.com/f1"}`
	if got != want {
		t.Errorf("the screen ends with:\n%s\nwant:\n%s", got, want)
	}
}
