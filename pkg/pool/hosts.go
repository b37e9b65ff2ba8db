package pool

import (
	"context"
	"sync"
)

// maxAside bounds the jobs set aside for busy hosts. Past it, a worker
// waits for a host to free a slot instead of reading further: memory stays
// bounded whatever the input.
const maxAside = 4096

// hosts lets workers go around a busy host (Options.PerHost). A worker that
// takes a job whose host already has PerHost jobs in flight sets it aside
// and takes the next one, so one slow host does not hold up the others;
// set-aside jobs go first, in input order, as soon as their host frees a
// slot.
type hosts struct {
	max int // jobs in flight per host

	mu        sync.Mutex
	cond      sync.Cond
	busy      map[string]int   // jobs in flight, by host
	aside     map[string][]job // waiting for their host, oldest first
	nAside    int
	queueDone bool // the queue is closed and empty
}

func newHosts(max int) *hosts {
	h := &hosts{max: max, busy: make(map[string]int), aside: make(map[string][]job)}
	h.cond.L = &h.mu
	return h
}

// next returns the next job for a worker, its host slot taken: a job set
// aside whose host has a free slot, else the next job of queue that has
// one. It returns false when the queue is closed and nothing is left.
// Once stop is done, any job goes, so that it is reported at once.
func (h *hosts) next(queue <-chan job, stop context.Context) (job, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		if j, ok := h.takeAside(stop.Err() != nil); ok {
			return j, true
		}
		switch {
		case h.queueDone && h.nAside == 0:
			return job{}, false
		case h.queueDone || h.nAside >= maxAside:
			h.cond.Wait() // for a slot, or for stop
			continue
		}
		h.mu.Unlock()
		j, ok := <-queue
		h.mu.Lock()
		if !ok {
			h.queueDone = true
			h.cond.Broadcast()
			continue
		}
		if j.host == "" || h.busy[j.host] < h.max || stop.Err() != nil {
			h.busy[j.host]++
			return j, true
		}
		h.aside[j.host] = append(h.aside[j.host], j)
		h.nAside++
	}
}

// takeAside takes, of the jobs first in line for a host with a free slot
// (any host when all is true), the one that came first in the input
// (job.seq), with the lock held.
func (h *hosts) takeAside(all bool) (job, bool) {
	best := ""
	for host, js := range h.aside {
		if (all || h.busy[host] < h.max) && (best == "" || js[0].seq < h.aside[best][0].seq) {
			best = host
		}
	}
	if best == "" {
		return job{}, false
	}
	js := h.aside[best]
	j := js[0]
	if len(js) == 1 {
		delete(h.aside, best)
	} else {
		h.aside[best] = js[1:]
	}
	h.nAside--
	h.busy[best]++
	h.cond.Broadcast() // there is room aside again
	return j, true
}

// done gives back a slot of host, which a job took.
func (h *hosts) done(host string) {
	h.mu.Lock()
	if h.busy[host]--; h.busy[host] <= 0 {
		delete(h.busy, host)
	}
	h.cond.Broadcast()
	h.mu.Unlock()
}

// retake takes a slot of host again for a job that lent its own: its
// request is through the Fetcher's gate, which keeps the requests to host
// under the cap, so it does not wait; host may count one job more than the
// cap for a moment, and no other job of host goes meanwhile.
func (h *hosts) retake(host string) {
	h.mu.Lock()
	h.busy[host]++
	h.mu.Unlock()
}

// slot is the host slot of one job (Options.PerHost). Its methods may be
// called from any goroutine of the job's transfer.
type slot struct {
	hosts *hosts
	host  string

	mu   sync.Mutex
	held bool // the job counts against host
	left bool // for good: a redirect took it elsewhere, or it ended
}

// leave gives the slot back for good: the job ended, or a redirect took
// its requests to another host.
func (s *slot) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		s.hosts.done(s.host)
	}
	s.held, s.left = false, true
}

// lend gives the slot back while the job waits for its next attempt and
// sends nothing: another job of host may go meanwhile.
func (s *slot) lend() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		s.hosts.done(s.host)
		s.held = false
	}
}

// retake takes the slot again once the job's next attempt is through the
// gate (unless the job left for good).
func (s *slot) retake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.held && !s.left {
		s.hosts.retake(s.host)
		s.held = true
	}
}

// wake wakes the workers waiting for a slot: a shutdown lets every job go.
func (h *hosts) wake() {
	h.mu.Lock()
	h.cond.Broadcast()
	h.mu.Unlock()
}
