package report

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// progressbar starts a goroutine per spinner unless told not to; a run with
// thousands of transfers of unknown size must not leave one behind each.
func TestGaugeStartsNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	gs := make([]gauge, 100)
	for i := range gs {
		gs[i].spinner()
		gs[i].spinner()
	}
	var g gauge
	for i := int64(0); i <= 10; i++ {
		g.bar(i, 10, 20)
	}
	// Other tests' goroutines may come and go meanwhile; a goroutine per
	// spinner would add a hundred.
	if after := runtime.NumGoroutine(); after-before >= 50 {
		t.Errorf("%d goroutines before, %d after 100 spinners", before, after)
	}
}

func TestGaugeBar(t *testing.T) {
	var g gauge
	tests := []struct {
		cur, total int64
		w          int
		want       string
	}{
		{0, 100, 10, "  0% |          |"},
		{45, 100, 10, " 45% |████      |"},
		{45, 100, 20, " 45% |█████████           |"}, // resized
		{200, 100, 10, " 100% |██████████|"},         // clamped to the total
		{10, 100, 10, " 10% |█         |"},           // went back: a new bar
		{10, 50, 10, " 20% |██        |"},            // total changed
	}
	for _, tt := range tests {
		got := g.bar(tt.cur, tt.total, tt.w)
		if strings.TrimLeft(got, " ") != strings.TrimLeft(tt.want, " ") {
			t.Errorf("bar(%d, %d, %d) = %q, want %q", tt.cur, tt.total, tt.w, got, tt.want)
		}
		if width(got) != barWidth(tt.w) {
			t.Errorf("bar(%d, %d, %d) = %q is %d columns, want %d", tt.cur, tt.total, tt.w, got, width(got), barWidth(tt.w))
		}
	}
	if got := percent(1, 3); got != "  33%" {
		t.Errorf("percent(1, 3) = %q", got)
	}
	// The spinner turns on every render, one column wide.
	a, b := g.spinner(), g.spinner()
	if a == b || width(a) != 1 || width(b) != 1 {
		t.Errorf("spinner frames %q, %q", a, b)
	}
}

func TestMeter(t *testing.T) {
	var m meter
	if _, ok := m.rate(t0, 0); ok {
		t.Error("rate without samples")
	}
	m.add(t0, 0)
	if _, ok := m.rate(at(100*time.Millisecond), 1000); ok {
		t.Error("rate over 100ms: too short a span to say")
	}
	// 1 MiB/s for 10s, sampled every 100ms: the window is the last ~4s.
	for ms := 100; ms <= 10000; ms += 100 {
		now := at(time.Duration(ms) * time.Millisecond)
		m.add(now, int64(ms)*1024*1024/1000)
	}
	r, ok := m.rate(at(10*time.Second), 10*1024*1024)
	if !ok || r < 0.99*1024*1024 || r > 1.01*1024*1024 {
		t.Errorf("rate = %v, %v; want 1 MiB/s", r, ok)
	}
	// Then it stalls for 5s, still sampled on ticks: once the window has
	// passed, the rate is zero.
	for ms := 10100; ms <= 15000; ms += 100 {
		m.add(at(time.Duration(ms)*time.Millisecond), 10*1024*1024)
	}
	if r, ok := m.rate(at(15*time.Second), 10*1024*1024); !ok || r != 0 {
		t.Errorf("rate after a 5s stall = %v, %v; want 0", r, ok)
	}
	// A restart from zero resets the window rather than going negative.
	m.add(at(16*time.Second), 0)
	if r, ok := m.rate(at(17*time.Second), 1024); !ok || r != 1024 {
		t.Errorf("rate after a restart = %v, %v; want 1024", r, ok)
	}
}
