package fetch

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestTimeoutsAreTimeouts: an item that fails because an attempt timed out
// (--timeout) or stalled (--stall-timeout) has an error that says so to a
// program, as a net.Error does, through Timeout() bool: a caller that
// embeds the package tells a timeout from a refusal without matching text.
// A failure of another kind is no timeout.
func TestTimeoutsAreTimeouts(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stall":
			w.Header().Set("Content-Length", "100")
			w.Write([]byte("x"))
			w.(http.Flusher).Flush()
		case "/missing":
			http.NotFound(w, r)
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	tests := []struct {
		name        string
		path        string
		cfg         func(*Config)
		wantTimeout bool
	}{
		{"stalled body", "/stall", func(c *Config) { c.StallTimeout = 50 * time.Millisecond }, true},
		{"stalled headers", "/slow", func(c *Config) { c.StallTimeout = 50 * time.Millisecond }, true},
		{"attempt timed out", "/slow", func(c *Config) { c.Timeout = 50 * time.Millisecond }, true},
		{"retried, then timed out", "/slow", func(c *Config) { c.Timeout, c.Retries = 50*time.Millisecond, 1 }, true},
		{"HTTP 404", "/missing", func(*Config) {}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Retries = 0
			tt.cfg(&cfg)
			c := newClient(t, cfg)
			defer c.CloseIdleConnections()
			_, err := c.Fetch(context.Background(), Request{URL: srv.URL + tt.path, Path: filepath.Join(t.TempDir(), "f")})
			if err == nil {
				t.Fatal("Fetch succeeded, want it to fail")
			}
			var timeout interface{ Timeout() bool }
			if got := errors.As(err, &timeout) && timeout.Timeout(); got != tt.wantTimeout {
				t.Errorf("Fetch = %v: a timeout %v, want %v", err, got, tt.wantTimeout)
			}
		})
	}
}
