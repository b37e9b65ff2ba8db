package main

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/windows"
)

// failingWriter fails every write with err.
type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// TestOutputClosedOnWindows: Windows' words for a pipe whose reader went
// away stop the run as standard output closed, as EPIPE does elsewhere.
func TestOutputClosedOnWindows(t *testing.T) {
	for _, errno := range []syscall.Errno{windows.ERROR_NO_DATA, windows.ERROR_BROKEN_PIPE, windows.ERROR_PIPE_NOT_CONNECTED} {
		ctx, cancel := context.WithCancelCause(context.Background())
		o := &outputWatch{w: failingWriter{&os.PathError{Op: "write", Path: "/dev/stdout", Err: errno}}, failed: cancel, closed: errOutputClosed}
		o.Write([]byte("x"))
		if cause := context.Cause(ctx); !errors.Is(cause, errOutputClosed) {
			t.Errorf("%v (%d): the run stopped with %v, want %v", errno, uintptr(errno), cause, errOutputClosed)
		}
	}
}
