//go:build unix

package procs

import (
	"syscall"
	"time"
)

// userTime is the CPU time the process has spent in user mode.
func userTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano()), true
}
