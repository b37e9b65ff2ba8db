package main

import (
	"errors"
	"fmt"
)

// Exit codes, as the command-line contract defines them.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

var (
	// errFailed: at least one item failed; the summary already said which.
	errFailed = errors.New("some items failed")
	// errInterrupted: the run was stopped by a signal.
	errInterrupted = errors.New("interrupted")
)

// usageError is a mistake in how the command was called: a bad flag or
// argument, an unreadable input file, or an unusable output directory.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCode maps the result of execute to the process's exit code.
func exitCode(err error) int {
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.As(err, &usage):
		return exitUsage
	default:
		return exitFailed
	}
}
