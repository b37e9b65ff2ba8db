package main

import (
	"runtime"
	"strconv"

	"github.com/fetchpool/fetchpool/internal/gctune"
)

// memoryBudget is the resident memory up to which the garbage collector
// may let the heap grow (see gctune): a run of small files keeps a few MiB
// alive and, at GOGC=100, collected some twenty times a second.
const memoryBudget = 32 << 20

// tuneRuntime fits the Go runtime to a downloader, leaving alone what the
// environment sets (GOMAXPROCS, GOGC):
//
//   - one P more than the CPUs. A P is held for the whole of each file
//     system call (a create, a write, a link take a few microseconds each),
//     and with one more P the responses that arrive meanwhile are read at
//     once. On 2 CPUs, 20,000 files of 16 KiB from a server on the same
//     machine took 4 % less time so; large files, with or without --split,
//     took the same.
//   - the collector runs less often while the process is below
//     memoryBudget: on the same run, about a third as many collections,
//     and 2 % less time. Past the budget (a list of a million URLs) it runs
//     as at GOGC=100.
//
// It returns the collector's tuner, nil when there is none, for tests to
// stop.
func tuneRuntime(getenv func(string) string) *gctune.Tuner {
	// The runtime ignores a GOMAXPROCS that is not a positive 32-bit
	// number.
	if n, err := strconv.ParseInt(getenv("GOMAXPROCS"), 10, 32); err != nil || n < 1 {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1)
	}
	return gctune.Start(memoryBudget, getenv)
}
