package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestSidecarWhileTheBodyArrives: the sidecar is on disk before the body of
// a large or unsized part, so a crash leaves a part that resumes; a small
// sized body is written without one; either way none is left once the
// file is in place.
func TestSidecarWhileTheBodyArrives(t *testing.T) {
	tests := []struct {
		name     string
		size     int
		sized    bool // Content-Length sent
		wantMeta bool
	}{
		{"16 KiB with a length", 16 << 10, true, false},
		{"one buffer with a length", lazyMetaMax, true, false},
		{"one buffer and a byte", lazyMetaMax + 1, true, true},
		{"16 KiB without a length", 16 << 10, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := payload(tt.size, 50)
			path := filepath.Join(t.TempDir(), "f")
			req := request("", path, nil)
			sawMeta := make(chan bool, 1)
			srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("ETag", `"s"`)
				if tt.sized {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				}
				half := len(body) / 2
				w.Write(body[:half])
				w.(http.Flusher).Flush()
				// The client reads the first half once the part is open
				// and its sidecar, if any, written.
				deadline := time.Now().Add(10 * time.Second)
				for req.Progress.Done() < int64(half) && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				_, err := os.Stat(path + ".part.meta")
				sawMeta <- err == nil
				w.Write(body[half:])
			})
			req.URL = srv.URL + "/f"
			if _, err := newClient(t, testConfig()).Fetch(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			assertDone(t, path, body)
			if got := <-sawMeta; got != tt.wantMeta {
				t.Errorf("sidecar on disk during the body: %v, want %v", got, tt.wantMeta)
			}
		})
	}
}

// TestSmallPartKeptWithSidecar: a small part that fails for good still gets
// its sidecar, written when it is kept, and the next run resumes it.
func TestSmallPartKeptWithSidecar(t *testing.T) {
	body := payload(16<<10, 51)
	res := newResource(body, `"k"`)
	rc := &recorder{}
	srv := serve(t, rc, shortThenServe(res))
	path := filepath.Join(t.TempDir(), "f")
	cfg := testConfig()
	cfg.Retries = 0
	c := newClient(t, cfg)
	if _, err := c.Fetch(context.Background(), request(srv.URL+"/f", path, nil)); err == nil {
		t.Fatal("a short body with no retries succeeded")
	}
	if got := mustFile(t, path+".part"); len(got) != len(body)/2 {
		t.Fatalf("part has %d bytes, want %d", len(got), len(body)/2)
	}
	m, err := ReadMeta(path + ".part")
	if err != nil || m.URL != srv.URL+"/f" || m.ETag != `"k"` || m.Length != int64(len(body)) {
		t.Fatalf("sidecar %+v, %v", m, err)
	}
	if _, err := c.Fetch(context.Background(), request(srv.URL+"/f", path, nil)); err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, body)
	if r := rc.header(1).Get("Range"); r != fmt.Sprintf("bytes=%d-", len(body)/2) {
		t.Errorf("second run Range %q, want the rest", r)
	}
}

// TestTornSidecar: a sidecar cut short by a crash (the first write of a
// sidecar is not atomic) is no sidecar: the part starts over and nothing
// of either is left.
func TestTornSidecar(t *testing.T) {
	body := payload(20<<10, 52)
	for name, meta := range map[string]string{
		"empty":     "",
		"cut short": `{"url":"URL","etag":"\"v1`,
		"no url":    `{"etag":"\"v1\"","length":20480}`,
	} {
		t.Run(name, func(t *testing.T) {
			rc := &recorder{}
			srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
				newResource(body, `"v1"`).ServeHTTP(w, r)
			})
			path := filepath.Join(t.TempDir(), "f")
			writePart(t, path, body[:1000], nil)
			if err := os.WriteFile(path+".part.meta", []byte(meta), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := newClient(t, testConfig()).Fetch(context.Background(), request(srv.URL+"/f", path, nil)); err != nil {
				t.Fatal(err)
			}
			assertDone(t, path, body)
			if r := rc.header(0).Get("Range"); r != "" {
				t.Errorf("resumed with Range %q from a torn sidecar", r)
			}
		})
	}
}

// TestStaleSidecarReplaced: when a part with a sidecar starts over (the
// server ignored the Range), the old sidecar does not outlive its bytes:
// it is rewritten for the new body before the body is written.
func TestStaleSidecarReplaced(t *testing.T) {
	body := payload(16<<10, 53)
	path := filepath.Join(t.TempDir(), "f")
	req := request("", path, nil)
	seen := make(chan Meta, 1)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"new"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:100]) // 200, whatever was asked
		w.(http.Flusher).Flush()
		deadline := time.Now().Add(10 * time.Second)
		for req.Progress.Done() < 100 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		m, _ := ReadMeta(path + ".part")
		seen <- m
		w.Write(body[100:])
	})
	req.URL = srv.URL + "/f"
	writePart(t, path, body[:1000], &Meta{URL: req.URL, ETag: `"old"`, Length: int64(len(body))})
	if _, err := newClient(t, testConfig()).Fetch(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, body)
	if m := <-seen; m.ETag != `"new"` {
		t.Errorf("sidecar during the new body: %+v, want the new ETag", m)
	}
}

// TestNoSidecarIsNotReadAgain: with Request.NoSidecar the caller vouches
// that there is no sidecar, and Fetch does not read one: here a sidecar of
// another URL, which it would otherwise refuse to touch, is not looked at.
func TestNoSidecarIsNotReadAgain(t *testing.T) {
	body := payload(4<<10, 54)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		newResource(body, `"n"`).ServeHTTP(w, r)
	})
	path := filepath.Join(t.TempDir(), "f")
	writePart(t, path, []byte("other"), &Meta{URL: "http://elsewhere.test/f", Length: -1})
	c := newClient(t, testConfig())
	if _, err := c.Fetch(context.Background(), request(srv.URL, path, nil)); !errors.Is(err, ErrPartInUse) {
		t.Fatalf("without NoSidecar: err = %v, want ErrPartInUse", err)
	}
	req := request(srv.URL, path, nil)
	req.NoSidecar = true
	if _, err := c.Fetch(context.Background(), req); err != nil {
		t.Fatalf("with NoSidecar: %v", err)
	}
	if got := mustFile(t, path); !bytes.Equal(got, body) {
		t.Errorf("file has %d bytes, not the body", len(got))
	}
}

// TestTornSidecarTempRemoved: a run killed while it replaced a sidecar
// (writeMeta) leaves NAME.part.meta.tmp beside the part. The run that
// resumes or restarts the part and moves it into place leaves nothing of
// it behind: not the part, not the sidecar, not the torn temporary one.
func TestTornSidecarTempRemoved(t *testing.T) {
	body := payload(1<<20, 52)
	half := int64(len(body) / 2)
	tests := []struct {
		name  string
		split bool
		meta  *Meta
	}{
		{"one stream resumed", false, &Meta{ETag: `"t"`, Length: int64(len(body))}},
		{"split resumed", true, &Meta{ETag: `"t"`, Length: int64(len(body)),
			Spans: []Span{{Start: 0, End: half, Next: half / 2}, {Start: half, End: int64(len(body)), Next: half}}}},
		{"no sidecar: restarted", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
				newResource(body, `"t"`).ServeHTTP(w, r)
			})
			path := filepath.Join(t.TempDir(), "f")
			part := body[:half/2]
			if tt.split {
				part = append(append([]byte(nil), body[:half/2]...), make([]byte, len(body)-int(half/2))...)
			}
			if tt.meta != nil {
				tt.meta.URL = srv.URL + "/f"
				tt.meta.LastModified = newResource(nil, "").mod.Format(http.TimeFormat)
			}
			writePart(t, path, part, tt.meta)
			if err := os.WriteFile(path+".part.meta.tmp", []byte(`{"url":"`), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := testConfig()
			if tt.split {
				cfg.Split, cfg.SplitMin = 2, 64<<10
			}
			if _, err := newClient(t, cfg).Fetch(context.Background(), request(srv.URL+"/f", path, nil)); err != nil {
				t.Fatal(err)
			}
			assertDone(t, path, body)
			assertGone(t, path+".part.meta.tmp")
		})
	}
}

// TestWriteWhereADirectoryIsAFile: an output directory replaced by a file
// while the run goes on fails its items naming the file in the way and
// what to do, not with the bare "not a directory" of the system call.
func TestWriteWhereADirectoryIsAFile(t *testing.T) {
	body := payload(16<<10, 53)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		newResource(body, `"d"`).ServeHTTP(w, r)
	})
	out := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(out, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(out, "f"), filepath.Join(out, "sub", "f")} {
		req := request(srv.URL+"/f", path, nil)
		_, err := newClient(t, testConfig()).Fetch(context.Background(), req)
		want := "writing " + path + ".part: " + out + " is a file, not a directory; move it out of the way and run again"
		if err == nil || err.Error() != want {
			t.Errorf("Fetch to %s: %v, want %s", path, err, want)
		}
	}
}

// TestDirectoryMadeAtTheDestination: a directory made under the file's
// name while it downloads (by another program, or a slip) fails the item
// saying what is in the way and that the whole part is kept for the next
// run, naming each path once, not with rename(2)'s "rename A B: is a
// directory".
func TestDirectoryMadeAtTheDestination(t *testing.T) {
	body := payload(1<<20, 55)
	path := filepath.Join(t.TempDir(), "f")
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		if err := os.MkdirAll(filepath.Join(path, "sub"), 0o755); err != nil {
			t.Error(err)
		}
		newResource(body, `"m"`).ServeHTTP(w, r)
	})
	_, err := newClient(t, testConfig()).Fetch(context.Background(), request(srv.URL+"/f", path, nil))
	want := "moving " + path + ".part into place: " + path + " is a directory; " + path + ".part is kept whole: move the directory away and run again"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if got := mustFile(t, path+".part"); !bytes.Equal(got, body) {
		t.Errorf("the part holds %d bytes, want the whole %d", len(got), len(body))
	}
}
