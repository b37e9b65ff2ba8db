package fetch

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/input"
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

// TestFetchRefusesABadDigest: a Request.SHA256 that is not a digest fails
// the item before anything is sent, rather than after the whole file was
// fetched, as a mismatch; either case of hex digits is a digest.
func TestFetchRefusesABadDigest(t *testing.T) {
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // sha256("abc")
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, _ *http.Request) { w.Write([]byte("abc")) })
	dir := t.TempDir()
	local := filepath.Join(dir, "abc.txt")
	if err := os.WriteFile(local, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url, sum string
		wantErr        bool
	}{
		{"GitHub's digest form", srv.URL + "/a", "sha256:" + abc, true},
		{"too short", srv.URL + "/b", "abc", true},
		{"not hex, local file", local, strings.Repeat("x", 64), true},
		{"upper case", srv.URL + "/c", strings.ToUpper(abc), false},
	}
	c := newClient(t, testConfig())
	defer c.CloseIdleConnections()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := rc.count()
			path := filepath.Join(dir, "out", strings.ReplaceAll(tt.name, " ", "_"))
			_, err := c.Fetch(context.Background(), Request{URL: tt.url, Path: path, SHA256: tt.sum})
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Fetch = %v, want the file", err)
				}
				assertDone(t, path, []byte("abc"))
				return
			}
			if !errors.Is(err, input.ErrInvalidSHA256) {
				t.Errorf("Fetch = %v, want an error wrapping input.ErrInvalidSHA256", err)
			}
			if n := rc.count() - before; n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
			assertGone(t, path, path+".part")
		})
	}
}

// TestNegativeTimeoutsMeanNone: a negative ConnectTimeout, like a negative
// Timeout or StallTimeout, bounds nothing. It made every dial time out at
// once ("connect timed out"), so no item could be fetched.
func TestNegativeTimeoutsMeanNone(t *testing.T) {
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, _ *http.Request) { w.Write([]byte("abc")) })
	for _, tt := range []struct {
		name string
		set  func(*Config)
	}{
		{"ConnectTimeout", func(c *Config) { c.ConnectTimeout = -time.Second }},
		{"Timeout", func(c *Config) { c.Timeout = -time.Second }},
		{"StallTimeout", func(c *Config) { c.StallTimeout = -time.Second }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Retries = 0
			tt.set(&cfg)
			c := newClient(t, cfg)
			defer c.CloseIdleConnections()
			path := filepath.Join(t.TempDir(), "f")
			if _, err := c.Fetch(context.Background(), Request{URL: srv.URL + "/f", Path: path}); err != nil {
				t.Fatalf("Fetch = %v, want the file", err)
			}
			assertDone(t, path, []byte("abc"))
		})
	}
}
