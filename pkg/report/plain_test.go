package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

func TestPlainLines(t *testing.T) {
	tests := []struct {
		name string
		opts PlainOptions
	}{
		{"plain_default", PlainOptions{}},
		{"plain_quiet", PlainOptions{Quiet: true}},
		{"plain_verbose", PlainOptions{Verbose: true}},
		{"plain_quiet_verbose", PlainOptions{Quiet: true, Verbose: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			feed(NewPlain(&buf, tt.opts), sampleRun())
			golden(t, tt.name, buf.String())
			if strings.Contains(buf.String(), "\x1b") {
				t.Error("plain output holds an ANSI escape")
			}
			// Shutdown lines are printed whatever the options.
			for _, want := range []string{"stopping: waiting for 1 transfer in flight", "aborting 1 transfer in flight"} {
				if !strings.Contains(buf.String(), want) {
					t.Errorf("output lacks %q", want)
				}
			}
		})
	}
}

// Text from input lists, servers and errors can hold escapes; Plain must
// never pass them on.
func TestPlainNeverWritesEscapes(t *testing.T) {
	var r run
	it := item(1, "https://x/\x1b[31mred")
	r.queue(it)
	p := r.start(it, "\x1b]0;title\a.bin")
	r.finish(it, p, event.Result{Output: "out/\x1b[2J", Status: event.StatusOK})
	it2 := item(2, "https://x/2")
	r.queue(it2)
	r.finish(it2, nil, event.Result{Status: event.StatusFailed, Err: errEsc{}})
	var buf bytes.Buffer
	pl := NewPlain(&buf, PlainOptions{Verbose: true})
	feed(pl, r.events)
	if strings.ContainsAny(buf.String(), "\x1b\a") {
		t.Errorf("plain output holds control characters: %q", buf.String())
	}
	if !strings.Contains(buf.String(), "FAIL urls.txt:2 https://x/2: bad ?[0m") {
		t.Errorf("failure line missing or not cleaned: %q", buf.String())
	}
}

type errEsc struct{}

func (errEsc) Error() string { return "bad \x1b[0m" }

func TestPlainHeartbeat(t *testing.T) {
	var r run
	it := item(1, "https://example.com/big")
	r.queue(it)
	p := r.start(it, "big")
	p.SetDone(5 << 20)

	var buf bytes.Buffer
	pl := NewPlain(&buf, PlainOptions{})
	feed(pl, r.events) // all at t0
	var beats []time.Duration
	for ms := 0; ms <= 35000; ms += 100 { // ticks every 100ms for 35s
		before := buf.Len()
		pl.Tick(at(time.Duration(ms) * time.Millisecond))
		if buf.Len() > before {
			beats = append(beats, time.Duration(ms)*time.Millisecond)
		}
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second}
	if len(beats) != len(want) {
		t.Fatalf("heartbeats at %v, want %v", beats, want)
	}
	for i := range want {
		if beats[i] != want[i] {
			t.Errorf("heartbeat %d at %v, want %v", i, beats[i], want[i])
		}
	}
	line := strings.Split(buf.String(), "\n")[0]
	if want := "queued 0 · in flight 1 · done 0 · failed 0 · skipped 0 · 5.0 MiB"; line != want {
		t.Errorf("heartbeat = %q, want %q", line, want)
	}

	// Nothing in flight: no heartbeat at all.
	pl.Handle(event.Event{Kind: event.Finished, Time: at(36 * time.Second), Item: it, Progress: p,
		Result: &event.Result{Item: it, Status: event.StatusOK, Output: "out/big", Bytes: 5 << 20, Size: 5 << 20}})
	buf.Reset()
	for s := 36; s < 100; s++ {
		pl.Tick(at(time.Duration(s) * time.Second))
	}
	if buf.Len() != 0 {
		t.Errorf("heartbeat with nothing in flight: %q", buf.String())
	}
}

func TestPlainHeartbeatInterval(t *testing.T) {
	var r run
	it := item(1, "https://example.com/big")
	r.queue(it)
	r.start(it, "big")
	for _, quiet := range []bool{false, true} {
		var buf bytes.Buffer
		pl := NewPlain(&buf, PlainOptions{Quiet: quiet, Heartbeat: 2 * time.Second})
		feed(pl, r.events)
		for ms := 0; ms <= 10000; ms += 250 {
			pl.Tick(at(time.Duration(ms) * time.Millisecond))
		}
		want := 5
		if quiet {
			want = 0
		}
		if got := strings.Count(buf.String(), "\n"); got != want {
			t.Errorf("quiet=%v: %d heartbeats in 10s with a 2s interval, want %d", quiet, got, want)
		}
	}
}

// TestPlainHeartbeatWaiting: off a terminal, the heartbeat counts the
// transfers that wait at the gate (--rate, --per-host) as waiting, not in
// flight.
func TestPlainHeartbeatWaiting(t *testing.T) {
	var r run
	var ps []*event.Progress
	for i := range 3 {
		it := item(i+1, fmt.Sprintf("https://example.com/f%d", i))
		r.queue(it)
		p := r.start(it, fmt.Sprintf("f%d", i))
		p.SetWaiting(i > 0)
		ps = append(ps, p)
	}
	ps[0].SetDone(1 << 20)
	var buf bytes.Buffer
	pl := NewPlain(&buf, PlainOptions{Heartbeat: time.Second})
	feed(pl, r.events)
	pl.Tick(at(2 * time.Second))
	want := "queued 0 · waiting 2 · in flight 1 · done 0 · failed 0 · skipped 0 · 1.0 MiB\n"
	if got := buf.String(); got != want {
		t.Errorf("heartbeat = %q, want %q", got, want)
	}
}
