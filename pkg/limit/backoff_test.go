package limit

import (
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

func TestCeiling(t *testing.T) {
	tests := []struct {
		attempt       int
		base, maxWait time.Duration
		want          time.Duration
	}{
		{1, time.Second, 30 * time.Second, time.Second},
		{0, time.Second, 30 * time.Second, time.Second},
		{-3, time.Second, 30 * time.Second, time.Second},
		{2, time.Second, 30 * time.Second, 2 * time.Second},
		{3, time.Second, 30 * time.Second, 4 * time.Second},
		{5, time.Second, 30 * time.Second, 16 * time.Second},
		{6, time.Second, 30 * time.Second, 30 * time.Second},
		{1000, time.Second, 30 * time.Second, 30 * time.Second},
		{1, time.Minute, 30 * time.Second, 30 * time.Second},
		{1000, time.Second, 0, maxDuration},
		{3, 0, time.Second, 0},
	}
	for _, tt := range tests {
		if got := ceiling(tt.attempt, tt.base, tt.maxWait); got != tt.want {
			t.Errorf("ceiling(%d, %v, %v) = %v, want %v", tt.attempt, tt.base, tt.maxWait, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	const base, maxWait = time.Second, 30 * time.Second
	a := rand.New(rand.NewPCG(1, 2))
	b := rand.New(rand.NewPCG(1, 2))
	for attempt := 1; attempt <= 12; attempt++ {
		d := ceiling(attempt, base, maxWait)
		lo, hi := time.Duration(1<<63-1), time.Duration(0)
		for range 200 {
			got := Backoff(attempt, base, maxWait, a)
			if again := Backoff(attempt, base, maxWait, b); again != got {
				t.Fatalf("attempt %d: same seed gave %v and %v", attempt, got, again)
			}
			if got < d/2 || got > d {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", attempt, got, d/2, d)
			}
			lo, hi = min(lo, got), max(hi, got)
		}
		if hi-lo < d/4 {
			t.Errorf("attempt %d: 200 draws spread only over [%v, %v]; jitter is missing", attempt, lo, hi)
		}
	}
}

func TestBackoffEdges(t *testing.T) {
	if got := Backoff(3, 0, time.Second, nil); got != 0 {
		t.Errorf("zero base: got %v, want 0", got)
	}
	if got := Backoff(100, time.Second, 0, nil); got < maxDuration/2 {
		t.Errorf("no cap, attempt 100: got %v, want at least %v", got, maxDuration/2)
	}
	if got := Backoff(2, time.Second, time.Minute, nil); got < time.Second || got > 2*time.Second {
		t.Errorf("nil rand: got %v, want within [1s, 2s]", got)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"120", 120 * time.Second, true},
		{" 5 ", 5 * time.Second, true},
		{"0", 0, true},
		{"-5", 0, true},
		{"99999999999999999999", maxDuration, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.Add(time.Hour).Format(time.RFC850), time.Hour, true},
		{now.Add(2 * time.Minute).Format(time.ANSIC), 2 * time.Minute, true},
		{"", 0, false},
		{"   ", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
		{"-", 0, false},
		{"10s", 0, false},
		{"Sat, 01 Mar 2025 25:00:00 GMT", 0, false},
	}
	for _, tt := range tests {
		got, ok := RetryAfter(tt.value, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.wantOK)
		}
	}
}
