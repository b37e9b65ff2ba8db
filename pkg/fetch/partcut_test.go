package fetch

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// TestPartCutByAnotherProgram: a part cut by another program while the
// body is written into it (the part's lock is only advisory: truncate -s,
// a cleanup script) is not renamed into place with a hole of zeros where
// the cut bytes were, and reported ok. The cut is found before the next
// write, and the next attempt resumes from what the part still holds.
// Before, the file under its final name began with zeros.
func TestPartCutByAnotherProgram(t *testing.T) {
	for _, cut := range []int64{0, 100 << 10} {
		t.Run("to "+strconv.FormatInt(cut, 10)+" bytes", func(t *testing.T) {
			body := payload(3*bufSize, 11)
			res := newResource(body, `"v1"`)
			sent, release := make(chan struct{}), make(chan struct{})
			rc := &recorder{}
			srv := serve(t, rc, func(n int, w http.ResponseWriter, r *http.Request) {
				if n > 1 {
					res.ServeHTTP(w, r)
					return
				}
				// More than two copy buffers, then wait: two are in the
				// part, the rest is held in the client's buffer.
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				w.Header().Set("ETag", `"v1"`)
				w.Write(body[:2*bufSize+1000])
				w.(http.Flusher).Flush()
				close(sent)
				select {
				case <-release:
					w.Write(body[2*bufSize+1000:])
				case <-r.Context().Done():
				}
			})
			cfg := testConfig()
			cfg.Hash = true
			c := newClient(t, cfg)
			path := filepath.Join(t.TempDir(), "f.bin")
			ev := &events{}
			type fetched struct {
				res Result
				err error
			}
			done := make(chan fetched, 1)
			go func() {
				r, err := c.Fetch(context.Background(), request(srv.URL+"/f.bin", path, ev))
				done <- fetched{r, err}
			}()
			<-sent
			part := path + ".part"
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				if fi, err := os.Stat(part); err == nil && fi.Size() >= 2*bufSize {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s never held two copy buffers", part)
				}
			}
			if err := os.Truncate(part, cut); err != nil {
				t.Fatal(err)
			}
			close(release)
			got := <-done
			if got.err != nil {
				t.Fatalf("Fetch: %v", got.err)
			}
			assertDone(t, path, body)
			if got.res.SHA256 != sum(body) || got.res.Attempts != 2 {
				t.Errorf("Result: sha256 %.12s, %d attempts; want %.12s, 2", got.res.SHA256, got.res.Attempts, sum(body))
			}
			if rc.count() == 2 && cut > 0 {
				if h := rc.header(1).Get("Range"); h != "bytes="+strconv.FormatInt(cut, 10)+"-" {
					t.Errorf("second request Range %q, want from the %d bytes left", h, cut)
				}
			}
			retries := ev.of(event.Retry)
			if len(retries) != 1 || !strings.Contains(retries[0].Err.Error(), "f.bin.part was cut to "+strconv.FormatInt(cut, 10)+" bytes by another program") {
				t.Errorf("Retry events %+v, want one that says the part was cut", retries)
			}
		})
	}
}
