package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"
)

// TestBodyThatNeverComes: a redirect or an error status whose header
// promises a small body that never comes (or comes only in part), on a
// connection the server keeps open, is not waited for until the stall
// timeout: the redirect is followed within a second, and the status fails
// the item within a second. Waiting for it made the redirect fail after the
// stall timeout (a minute by default), blamed on its target, which was
// never asked for; and a 404 took a minute to tell. Over http (http1's
// transport) and https with HTTP/1.1 or HTTP/2 (net/http's), whose bodies
// are all closed while a read of them waits.
func TestBodyThatNeverComes(t *testing.T) {
	for _, proto := range []string{"http", "https", "h2"} {
		t.Run(proto, func(t *testing.T) {
			release := make(chan struct{})
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				promise := func(status int, sent string) {
					w.Header().Set("Content-Length", "20")
					w.WriteHeader(status)
					fmt.Fprint(w, sent)
					w.(http.Flusher).Flush()
					select { // the rest never comes, and the connection stays open
					case <-release:
					case <-r.Context().Done():
					}
				}
				switch r.URL.Path {
				case "/redirect":
					w.Header().Set("Location", "/final")
					promise(http.StatusFound, "")
				case "/redirect-part":
					w.Header().Set("Location", "/final")
					promise(http.StatusFound, "moved")
				case "/missing":
					promise(http.StatusNotFound, "")
				case "/bad-request": // its body is looked at for a TLS server's complaint
					promise(http.StatusBadRequest, "")
				case "/final":
					fmt.Fprint(w, "landed")
				}
			}))
			srv.EnableHTTP2 = proto == "h2"
			if proto == "http" {
				srv.Start()
			} else {
				srv.StartTLS()
			}
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(release) }) // before srv.Close, which waits for the handlers

			tests := []struct {
				path       string
				wantStatus int // 0: done
			}{
				{"/redirect", 0},
				{"/redirect-part", 0},
				{"/missing", http.StatusNotFound},
				{"/bad-request", http.StatusBadRequest},
			}
			for _, tt := range tests {
				t.Run(tt.path, func(t *testing.T) {
					cfg := testConfig()
					cfg.StallTimeout = time.Minute // the default
					cfg.Retries = 0
					cfg.Insecure = true
					path := filepath.Join(t.TempDir(), "f")
					var (
						res Result
						err error
					)
					within(t, 5*time.Second, func() {
						res, err = newClient(t, cfg).Fetch(context.Background(), request(srv.URL+tt.path, path, nil))
					})
					if tt.wantStatus == 0 {
						if err != nil {
							t.Fatal(err)
						}
						assertDone(t, path, []byte("landed"))
						return
					}
					var he *HTTPError
					if !errors.As(err, &he) || he.StatusCode != tt.wantStatus {
						t.Fatalf("err = %v, want HTTP %d", err, tt.wantStatus)
					}
					if res.Attempts != 1 {
						t.Errorf("%d attempts, want 1", res.Attempts)
					}
					assertGone(t, path, path+".part")
				})
			}
		})
	}
}
