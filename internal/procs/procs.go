// Package procs runs the process on one P (GOMAXPROCS=1) until user-space
// work needs more.
//
// A downloader's work is mostly system calls and waiting. On one P its
// goroutines take turns on one thread, the way an event loop does: a
// response that arrives while another is being written to disk waits its
// turn instead of waking a second thread, and the next requests leave
// together (see internal/http1). A server on the same machine, sharing its
// CPUs, is then woken once per burst instead of once per request. On 2
// CPUs, 20,000 files of 16 KiB from such a server took a fifth less time
// than with one P per CPU.
//
// One P is too few when the process's own computation fills it: hashing
// every file (Full, when that is known from the start), or decrypting TLS
// at gigabytes a second. A Scaler watches the process's user CPU time and,
// once one interval was mostly spent computing, gives the process all its
// Ps, for the rest of the run.
package procs

import (
	"runtime"
	"sync"
	"time"
)

// Busy is the share of an interval spent in user mode past which one P is
// taken to be full: with GOMAXPROCS=1 user time cannot exceed the wall
// time. A run of small files spends under half its time there, the rest in
// the kernel; hashing a large file, nearly all.
const Busy = 0.7

// Scaler watches user CPU time while the process runs on one P. It is made
// by Start.
type Scaler struct {
	full     int
	userTime func() (time.Duration, bool)
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

// Start sets GOMAXPROCS to 1 and, every interval, compares the user CPU
// time the process spent in it with the interval: past Busy it sets
// GOMAXPROCS to full and stops watching. It returns nil and leaves
// GOMAXPROCS at full where the process's CPU time cannot be read, or when
// full is 1.
func Start(full int, interval time.Duration) *Scaler {
	return start(full, interval, userTime)
}

func start(full int, interval time.Duration, user func() (time.Duration, bool)) *Scaler {
	u0, ok := user()
	if !ok || full <= 1 {
		runtime.GOMAXPROCS(max(full, 1))
		return nil
	}
	s := &Scaler{full: full, userTime: user, stop: make(chan struct{}), done: make(chan struct{})}
	runtime.GOMAXPROCS(1)
	go s.watch(interval, u0)
	return s
}

func (s *Scaler) watch(interval time.Duration, u0 time.Duration) {
	defer close(s.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	t0 := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case t1 := <-tick.C:
			u1, ok := s.userTime()
			if !ok {
				return
			}
			if float64(u1-u0) >= Busy*float64(t1.Sub(t0)) {
				runtime.GOMAXPROCS(s.full)
				return
			}
			u0, t0 = u1, t1
		}
	}
}

// Full sets GOMAXPROCS to full now and ends the watch: for a run known to
// compute from the start, such as one that hashes every file. A nil
// Scaler's Full does nothing.
func (s *Scaler) Full() {
	if s == nil {
		return
	}
	s.Stop()
	runtime.GOMAXPROCS(s.full)
}

// Stop ends the watch and leaves GOMAXPROCS as it is. A nil Scaler's Stop
// does nothing.
func (s *Scaler) Stop() {
	if s == nil {
		return
	}
	s.once.Do(func() { close(s.stop) })
	<-s.done
}
