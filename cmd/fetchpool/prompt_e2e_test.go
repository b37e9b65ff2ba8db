package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTerminalInputPrompt: -i - on a terminal says that it waits for items
// typed in and how to end them, instead of a blank screen that looks
// hung; Ctrl-D ends the list and the run fetches what was typed.
func TestTerminalInputPrompt(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "typed.txt"), []byte("typed in\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startOnPTY(t, dir, onPTY{cols: 100, rows: 24}, "-i", "-", "-o", "out")
	p.waitScreen("prompt", func(rows []string) bool {
		return hasRow(rows, "reading items from the terminal, one per line; end the list with Ctrl-D")
	})
	if _, err := p.ptmx.Write([]byte("typed.txt\n\x04")); err != nil {
		t.Fatal(err)
	}
	if code, out := p.wait(); code != exitOK {
		t.Fatalf("exit %d, want 0; terminal:\n%s", code, out)
	}
	if got := readFile(t, filepath.Join(dir, "out", "typed.txt")); string(got) != "typed in\n" {
		t.Errorf("out/typed.txt = %q", got)
	}
	// No bars while items are typed: each redraw of the block would wipe
	// the line being typed. One line per finished item instead.
	if out := string(p.snapshotBytes()); strings.Contains(out, "\x1b[") || strings.Contains(out, "in flight") || !strings.Contains(out, "ok   out/typed.txt") {
		t.Errorf("the terminal shows bars, or not the item's line, while items are typed:\n%q", out)
	}

	// -q keeps to errors and the summary.
	q := startOnPTY(t, dir, onPTY{cols: 100, rows: 24}, "-q", "-i", "-", "-o", "quiet")
	if _, err := q.ptmx.Write([]byte("\x04")); err != nil {
		t.Fatal(err)
	}
	if code, out := q.wait(); code != exitOK || strings.Contains(string(out), "reading items") {
		t.Errorf("-q: exit %d, terminal:\n%s", code, out)
	}
	// Nor does a log: with standard error in a file, nobody reads it there.
	var log lockedBytes
	l := startOnPTY(t, dir, onPTY{cols: 100, rows: 24, stderr: &log}, "-i", "-", "-o", "logged")
	if _, err := l.ptmx.Write([]byte("typed.txt\n\x04")); err != nil {
		t.Fatal(err)
	}
	if code, _ := l.wait(); code != exitOK || strings.Contains(log.String(), "reading items") {
		t.Errorf("stderr in a file: exit %d, stderr:\n%s", code, log.String())
	}
	// Items from a pipe need no prompt.
	r := fetchpool(t, dir, "typed.txt\n", "-i", "-", "-o", "piped")
	if r.code != exitOK || strings.Contains(r.stderr, "reading items") {
		t.Errorf("piped: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// snapshotBytes is what the terminal received so far.
func (p *ptyProc) snapshotBytes() []byte {
	out, _, _ := p.snapshot()
	return out
}
