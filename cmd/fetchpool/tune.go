package main

import (
	"runtime"
	"strconv"
	"time"

	"github.com/fetchpool/fetchpool/internal/gctune"
	"github.com/fetchpool/fetchpool/internal/procs"
)

// memoryBudget is the resident memory up to which the garbage collector
// may let the heap grow (see gctune): a run of small files keeps a few MiB
// alive and, at GOGC=100, collected some twenty times a second.
const memoryBudget = 32 << 20

// scaleInterval is how often the user CPU time is read while the process
// runs on one P (see procs).
const scaleInterval = 250 * time.Millisecond

// tuning is what tuneRuntime started; tests stop it.
type tuning struct {
	gc     *gctune.Tuner // nil when the collector is not tuned
	scaler *procs.Scaler // nil when GOMAXPROCS is fixed
}

// hashing gives a run that hashes every file all its Ps from the start.
func (t tuning) hashing(hashes bool) {
	if hashes {
		t.scaler.Full()
	}
}

// stop ends both.
func (t tuning) stop() {
	t.gc.Stop()
	t.scaler.Stop()
}

// tuneRuntime fits the Go runtime to a downloader, leaving alone what the
// environment sets (GOMAXPROCS, GOGC):
//
//   - one P (GOMAXPROCS=1) while the process's own computation leaves it
//     room, then one P more than the CPUs (see procs). On one P the
//     goroutines take turns like an event loop and requests leave in
//     bursts: on 2 CPUs, 20,000 files of 16 KiB from a server on the same
//     machine took a fifth less time. A run that hashes every file
//     (--json, --report, --checksums, --sha256) gets all its Ps from the
//     start: on one P, hashing 4 files of 512 MiB took 1.6 times as long.
//     One P more than the CPUs, because a P is held for the whole of each
//     file system call, so the responses that arrive meanwhile are read at
//     once.
//   - the collector runs less often while the process is below
//     memoryBudget: on the same run, about a third as many collections,
//     and 2 % less time. Past the budget (a list of a million URLs) it runs
//     as at GOGC=100.
func tuneRuntime(getenv func(string) string) tuning {
	var t tuning
	// The runtime ignores a GOMAXPROCS that is not a positive 32-bit
	// number.
	if n, err := strconv.ParseInt(getenv("GOMAXPROCS"), 10, 32); err != nil || n < 1 {
		t.scaler = procs.Start(runtime.GOMAXPROCS(0)+1, scaleInterval)
	}
	t.gc = gctune.Start(memoryBudget, getenv)
	return t
}
