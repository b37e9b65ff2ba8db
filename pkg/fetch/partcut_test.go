package fetch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
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
			done := fetchInBackground(c, request(srv.URL+"/f.bin", path, ev))
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
			want := "" // nothing left: from the start
			if cut > 0 {
				want = "bytes=" + strconv.FormatInt(cut, 10) + "-"
			}
			if n := rc.count(); n != 2 {
				t.Errorf("%d requests, want 2", n)
			} else if h := rc.header(1).Get("Range"); h != want {
				t.Errorf("second request Range %q, want %q: from the %d bytes left", h, want, cut)
			}
			retries := ev.of(event.Retry)
			if len(retries) != 1 || !strings.Contains(retries[0].Err.Error(), "f.bin.part was cut to "+strconv.FormatInt(cut, 10)+" of its ") {
				t.Errorf("Retry events %+v, want one that says the part was cut", retries)
			}
		})
	}
}

// TestSplitPartCutByAnotherProgram: a split part cut by another program
// while its ranges are written is not renamed into place with a hole of
// zeros where the cut bytes were: the ranges find it shorter than the file
// before their next write, and the next attempt starts over, for the
// bytes of every range written before the cut are in doubt.
func TestSplitPartCutByAnotherProgram(t *testing.T) {
	body := payload(4<<20, 12)
	res := newResource(body, `"v1"`)
	var held atomic.Bool
	held.Store(true)
	arrived, release := make(chan struct{}, 8), make(chan struct{})
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		if !held.Load() {
			res.ServeHTTP(w, r)
			return
		}
		// The first 300 KiB of the range (more than a copy buffer), then
		// the rest once released.
		var start, end int64
		if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &start, &end); err != nil {
			end = int64(len(body)) - 1
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(body)))
		w.Header().Set("Content-Length", strconv.FormatInt(end-start+1, 10))
		w.WriteHeader(http.StatusPartialContent)
		first := min(start+300<<10, end+1)
		w.Write(body[start:first])
		w.(http.Flusher).Flush()
		arrived <- struct{}{}
		select {
		case <-release:
			w.Write(body[first : end+1])
		case <-r.Context().Done():
		}
	})
	cfg := splitConfig()
	c := newClient(t, cfg)
	path := filepath.Join(t.TempDir(), "big.bin")
	ev := &events{}
	done := fetchInBackground(c, request(srv.URL+"/big.bin", path, ev))
	for range cfg.Split {
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the ranges of the split did not all arrive")
		}
	}
	// Each range has written a copy buffer, at least, of its first bytes.
	for deadline := time.Now().Add(10 * time.Second); !wroteEach(path+".part", len(body), cfg.Split); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the ranges did not each write their first buffer")
		}
	}
	if err := os.Truncate(path+".part", 0); err != nil {
		t.Fatal(err)
	}
	held.Store(false)
	close(release)
	got := <-done
	if got.err != nil {
		t.Fatalf("Fetch: %v", got.err)
	}
	assertDone(t, path, body)
	if got.res.Attempts != 2 {
		t.Errorf("%d attempts, want 2: one cut, one from the start", got.res.Attempts)
	}
	retries := ev.of(event.Retry)
	if len(retries) == 0 || !strings.Contains(retries[0].Err.Error(), "big.bin.part was cut to ") {
		t.Errorf("Retry events %+v, want one that says the part was cut", retries)
	}
}

// fetched is what Fetch returned.
type fetched struct {
	res Result
	err error
}

// fetchInBackground runs c.Fetch of req in a goroutine, and hands what it
// returned on the channel.
func fetchInBackground(c *Client, req Request) <-chan fetched {
	done := make(chan fetched, 1)
	go func() {
		r, err := c.Fetch(context.Background(), req)
		done <- fetched{r, err}
	}()
	return done
}

// wroteEach tells whether the part at path, of a file of size bytes split
// in n ranges, holds a non-zero byte at the start of each range.
func wroteEach(path string, size, n int) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 1)
	for i := range n {
		if _, err := f.ReadAt(b, int64(i*(size/n)+bufSize-1)); err != nil || b[0] == 0 {
			return false
		}
	}
	return true
}

// heldThrottle lets the first after bytes of a body through, then reports
// on held and waits for release before the rest.
type heldThrottle struct {
	after   int64
	held    chan struct{}
	release chan struct{}
}

func (h *heldThrottle) Reader(_ context.Context, r io.Reader) io.Reader {
	return &heldReader{r: r, h: h}
}

type heldReader struct {
	r    io.Reader
	h    *heldThrottle
	n    int64
	once bool
}

func (r *heldReader) Read(p []byte) (int, error) {
	if r.n >= r.h.after && !r.once {
		r.once = true
		close(r.h.held)
		<-r.h.release
	}
	if left := r.h.after - r.n; left > 0 && int64(len(p)) > left {
		p = p[:left]
	}
	n, err := r.r.Read(p)
	r.n += int64(n)
	return n, err
}

// TestLocalCopyPartCutByAnotherProgram: a local copy whose part another
// program cuts while it is written fails, saying so, and leaves neither
// the file with a hole of zeros under its name nor the part.
func TestLocalCopyPartCutByAnotherProgram(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.bin")
	body := payload(3*bufSize, 13)
	if err := os.WriteFile(src, body, 0o644); err != nil {
		t.Fatal(err)
	}
	th := &heldThrottle{after: 2*bufSize + 1000, held: make(chan struct{}), release: make(chan struct{})}
	cfg := testConfig()
	cfg.Throttle = th
	c := newClient(t, cfg)
	path := filepath.Join(dir, "out.bin")
	done := make(chan error, 1)
	go func() {
		_, err := c.Fetch(context.Background(), request(src, path, nil))
		done <- err
	}()
	<-th.held
	if err := os.Truncate(path+".part", 0); err != nil {
		t.Fatal(err)
	}
	close(th.release)
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "out.bin.part was cut to 0 of its ") {
		t.Errorf("Fetch = %v, want an error saying the part was cut", err)
	}
	assertGone(t, path, path+".part", path+".part.meta")
}
