package main

import (
	"errors"
	"syscall"

	"golang.org/x/sys/windows"
)

// brokenPipe tells whether err is a write to a pipe whose reader went
// away. Windows has no EPIPE of its own: a closed pipe is ERROR_NO_DATA
// ("the pipe is being closed") or ERROR_BROKEN_PIPE, and
// ERROR_PIPE_NOT_CONNECTED once its reader is gone for good; fetchpool
// --json | head ended "writing the results: The pipe is being closed."
// with exit 1 there, where elsewhere it stops as for Ctrl-C.
func brokenPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, windows.ERROR_NO_DATA) ||
		errors.Is(err, windows.ERROR_BROKEN_PIPE) || errors.Is(err, windows.ERROR_PIPE_NOT_CONNECTED)
}
