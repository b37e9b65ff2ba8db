package fetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
)

// TestSpaceInQuerySentEscaped: a space in a URL's query (a list line "URL?v=1
// other.bin", a TAB mistaken for a space; or a server's Location) is sent
// as %20, as one in the path is: sent as it was, it split the request line
// ("GET /f?v=1 other.bin HTTP/1.1"), which servers answer 400 Bad Request,
// and the hint "the URL has a space, sent as %20" was not true. Over http
// (http1) and https with HTTP/1.1 or HTTP/2 (net/http).
func TestSpaceInQuerySentEscaped(t *testing.T) {
	for _, proto := range []string{"http", "https", "h2"} {
		t.Run(proto, func(t *testing.T) {
			var (
				mu   sync.Mutex
				seen []string
			)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.RequestURI)
				mu.Unlock()
				if r.URL.Path == "/r" {
					w.Header()["Location"] = []string{"/g?a=b c"}
					w.WriteHeader(http.StatusFound)
					return
				}
				w.Write([]byte(r.URL.Query().Encode()))
			}))
			srv.EnableHTTP2 = proto == "h2"
			if proto == "http" {
				srv.Start()
			} else {
				srv.StartTLS()
			}
			t.Cleanup(srv.Close)
			cfg := testConfig()
			cfg.Retries = 0
			cfg.Insecure = true
			c := newClient(t, cfg)
			dir := t.TempDir()
			for _, tt := range []struct {
				url  string
				want []string // request URIs
				body string
			}{
				{srv.URL + "/f?v=1 other.bin", []string{"/f?v=1%20other.bin"}, "v=1+other.bin"},
				{srv.URL + "/r", []string{"/r", "/g?a=b%20c"}, "a=b+c"},
			} {
				mu.Lock()
				seen = nil
				mu.Unlock()
				path := filepath.Join(dir, "f")
				if _, err := c.Fetch(context.Background(), request(tt.url, path, nil)); err != nil {
					t.Fatalf("%s: %v", tt.url, err)
				}
				assertDone(t, path, []byte(tt.body))
				mu.Lock()
				got := seen
				mu.Unlock()
				if len(got) != len(tt.want) || got[len(got)-1] != tt.want[len(tt.want)-1] {
					t.Errorf("%s: request URIs %q, want %q", tt.url, got, tt.want)
				}
			}
		})
	}
}
