package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// streams are the program's standard streams and the terminal facts about
// them, decided once, so tests can replace them with buffers.
type streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// InTerminal reports whether standard input is a terminal.
	InTerminal bool
	// OutTerminal reports whether standard output is a terminal.
	OutTerminal bool
	// ErrTerminal reports whether standard error is a terminal.
	ErrTerminal bool
	// Width and Height report the terminal's size in columns and rows.
	Width  func() int
	Height func() int
	// Getenv reads the environment.
	Getenv func(string) string
	// Hashing, when not nil, is told once the options are read whether
	// the run hashes files: main sizes the Go runtime with it (see
	// tuneRuntime).
	Hashing func(bool)
	// Exit, when not nil, ends the process at once: run calls it when an
	// aborted run cannot end because its output is blocked (see
	// exitIfStuck).
	Exit func(code int)
}

// systemStreams returns the process's real streams.
func systemStreams() *streams {
	errFd := int(os.Stderr.Fd())
	return &streams{
		In:          os.Stdin,
		Out:         os.Stdout,
		Err:         os.Stderr,
		InTerminal:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTerminal: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTerminal: term.IsTerminal(errFd) && escapesWork(os.Stderr.Fd()),
		Width: func() int {
			w, _, err := term.GetSize(errFd)
			if err != nil || w <= 0 {
				return 80
			}
			return w
		},
		Height: func() int {
			_, h, err := term.GetSize(errFd)
			if err != nil || h <= 0 {
				return 24
			}
			return h
		},
		Getenv: os.Getenv,
		Exit:   os.Exit,
	}
}
