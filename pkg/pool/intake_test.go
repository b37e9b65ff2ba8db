package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/input"
)

// scriptedSource returns its items, then err (io.EOF when nil). Once
// blockAt items are returned (when blockAt > 0), the next Next blocks
// until unblock is closed.
type scriptedSource struct {
	items   []string
	err     error
	blockAt int
	unblock chan struct{}
	blocked chan struct{} // closed when Next blocks

	mu   sync.Mutex
	read int // items returned
}

func (s *scriptedSource) Next() (input.Item, error) {
	s.mu.Lock()
	n := s.read
	s.mu.Unlock()
	if s.blockAt > 0 && n == s.blockAt {
		close(s.blocked)
		<-s.unblock
	}
	if n == len(s.items) {
		if s.err != nil {
			return input.Item{}, s.err
		}
		return input.Item{}, io.EOF
	}
	s.mu.Lock()
	s.read++
	s.mu.Unlock()
	return input.Item{URL: s.items[n], Source: "list.txt", Line: n + 1}, nil
}

func (s *scriptedSource) returned() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read
}

// takenLog records the calls of Options.Taken.
type takenLog struct {
	items []string
	end   error
}

func (l *takenLog) take(it input.Item, err error) {
	if err != nil {
		l.end = err
		return
	}
	l.items = append(l.items, it.URL)
}

// TestRunTakenIsAccounted: the items Options.Taken is told of are a prefix
// of the input and exactly the items the run reports: each has one Queued
// and one Finished event, and no item it is not told of has any. A
// shutdown stops the reading at once, yet an item read before it is not
// lost: it ends as not started. Taken is told how the input ended, and
// an InputEnd event follows the items of an input read to its end.
func TestRunTakenIsAccounted(t *testing.T) {
	errDisk := errors.New("input/output error")
	for _, tt := range []struct {
		name string
		src  *scriptedSource
		// stop, when set, waits until the run is where a shutdown should
		// find it, with the first item in flight; the fetcher holds
		// transfers until the shutdown began.
		stop     func(*testing.T, *scriptedSource, *recorder)
		wantEnd  error
		wantRead int // items taken; -1: at least 3, and not all
	}{
		{
			name: "stopped with the queue full",
			src:  &scriptedSource{items: urls(8)},
			stop: func(t *testing.T, _ *scriptedSource, rec *recorder) {
				// One in flight, one queued, one waiting for room in
				// the queue; the reader goes on with the next.
				waitFor(t, "three items queued", func() bool { return rec.count(event.Queued) == 3 })
			},
			wantRead: -1,
		},
		{
			name: "stopped while a read blocks",
			src:  &scriptedSource{items: urls(4), blockAt: 2, unblock: make(chan struct{}), blocked: make(chan struct{})},
			stop: func(t *testing.T, src *scriptedSource, _ *recorder) {
				select {
				case <-src.blocked:
				case <-time.After(5 * time.Second):
					t.Fatal("the run never asked for the third item")
				}
			},
			wantRead: 2,
		},
		{name: "read to the end", src: &scriptedSource{items: urls(3)}, wantEnd: io.EOF, wantRead: 3},
		{name: "a read error", src: &scriptedSource{items: urls(3), err: errDisk}, wantEnd: errDisk, wantRead: 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFetcher{started: make(chan string, 100), hold: make(chan struct{})}
			if tt.stop == nil {
				close(f.hold)
			}
			rec := &recorder{}
			var taken takenLog
			stop, stopNow := context.WithCancel(context.Background())
			defer stopNow()
			done := make(chan error, 1)
			go func() {
				done <- Run(context.Background(), stop, tt.src, f,
					Options{Concurrency: 1, OutputDir: t.TempDir(), Emit: rec.emit, Taken: taken.take})
			}()
			if tt.stop != nil {
				select {
				case <-f.started:
				case <-time.After(5 * time.Second):
					t.Fatal("no transfer started")
				}
				tt.stop(t, tt.src, rec)
				stopNow()
				waitFor(t, "the Draining event", func() bool { return rec.count(event.Draining) == 1 })
				close(f.hold)
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return")
			}
			if tt.src.unblock != nil {
				// A read that returns once the run is over is not taken.
				close(tt.src.unblock)
				waitFor(t, "the blocked read to return", func() bool { return tt.src.returned() == tt.src.blockAt+1 })
			}
			if tt.wantEnd != nil && tt.wantEnd != io.EOF && !errors.Is(err, tt.wantEnd) {
				t.Errorf("Run = %v, want %v", err, tt.wantEnd)
			}
			if tt.wantEnd != taken.end {
				t.Errorf("Taken told of the end %v, want %v", taken.end, tt.wantEnd)
			}
			switch n := len(taken.items); {
			case tt.wantRead >= 0 && n != tt.wantRead:
				t.Errorf("%d items taken, want %d", n, tt.wantRead)
			case tt.wantRead < 0 && (n < 3 || n == len(tt.src.items)):
				t.Errorf("%d items taken, want at least 3 and not all %d", n, len(tt.src.items))
			}
			if !slices.Equal(taken.items, tt.src.items[:len(taken.items)]) {
				t.Errorf("items taken %q, want the first of %q", taken.items, tt.src.items)
			}
			// Every item taken is reported once, and nothing else.
			var queued, finished []string
			ends, queuedAfterEnd := 0, 0
			rec.mu.Lock()
			for _, ev := range rec.events {
				switch ev.Kind {
				case event.InputEnd:
					ends++
				case event.Queued:
					queued = append(queued, ev.Item.URL)
					if ends > 0 {
						queuedAfterEnd++
					}
				case event.Finished:
					finished = append(finished, fmt.Sprintf("%s %d", ev.Result.Item.URL, ev.Result.Seq))
				}
			}
			rec.mu.Unlock()
			var want []string
			for i, u := range taken.items {
				want = append(want, fmt.Sprintf("%s %d", u, i+1))
			}
			slices.Sort(finished)
			slices.Sort(want)
			if !slices.Equal(queued, taken.items) || !slices.Equal(finished, want) {
				t.Errorf("queued %q and finished %q, want each item taken once: %q", queued, finished, want)
			}
			// The end of the input is told once, after the last item
			// queued, only when the input was read to its end: until
			// then a terminal's overall bar may see more items come.
			if wantEnds := map[bool]int{true: 1}[tt.wantEnd == io.EOF]; ends != wantEnds || queuedAfterEnd > 0 {
				t.Errorf("%d InputEnd events (%d items queued after one), want %d, after every item queued", ends, queuedAfterEnd, wantEnds)
			}
			if tt.stop != nil {
				res := rec.results()
				if len(res[event.StatusOK]) != 1 || len(res[event.StatusCanceled]) != len(taken.items)-1 {
					t.Errorf("%d ok and %d canceled, want the one in flight ok, the rest canceled",
						len(res[event.StatusOK]), len(res[event.StatusCanceled]))
				}
			}
		})
	}
}
