package fetch

import (
	"testing"

	"github.com/fetchpool/fetchpool/pkg/limit"
)

// TestNilLimitsAreNone: limit.NewBandwidth returns a nil *Bandwidth for
// no cap, and a nil *Gate admits everything; put in Config as they come
// (Throttle: limit.NewBandwidth(n)), they made interfaces that are not
// nil, so every body of an uncapped run went through the throttled path
// (no write straight from the connection's buffer, a wrapper per read) and
// every transfer was announced as waiting at a gate that never holds
// anything back (Gated).
func TestNilLimitsAreNone(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		throttled bool
		wantGated bool
	}{
		{"none", Config{}, false, false},
		{"nil bandwidth", Config{Throttle: limit.NewBandwidth(0)}, false, false},
		{"nil gate", Config{Gate: (*limit.Gate)(nil)}, false, false},
		{"a cap", Config{Throttle: limit.NewBandwidth(1 << 20)}, true, false},
		{"a gate", Config{Gate: limit.NewGate(10, 1, 0)}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.cfg)
			if got := c.cfg.Throttle != nil; got != tt.throttled {
				t.Errorf("throttled = %v, want %v", got, tt.throttled)
			}
			if got := c.Gated(); got != tt.wantGated {
				t.Errorf("Gated() = %v, want %v", got, tt.wantGated)
			}
		})
	}
}
