package fetch

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestNoPartWritesWithoutAName: with Request.NoPart, a small body is
// written into a file without a name and appears under its final name only
// when whole and stamped: mid-body, neither the file nor a part is on
// disk. A body cut short becomes the part, with its sidecar, and the next
// run resumes it. A body too large, or a request without NoPart, goes
// through the part as always.
func TestNoPartWritesWithoutAName(t *testing.T) {
	small := payload(100<<10, 31)
	large := payload(lazyMetaMax+1, 32)
	for _, tt := range []struct {
		name      string
		body      []byte
		noPart    bool
		wantNamed bool // a part is on disk mid-body
	}{
		{"small, NoPart", small, true, false},
		{"small, without NoPart", small, false, true},
		{"large, NoPart", large, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			half := make(chan struct{})
			resume := make(chan struct{})
			srv := serve(t, &recorder{}, func(n int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", strconv.Itoa(len(tt.body)))
				w.Header().Set("ETag", `"n1"`)
				w.Header().Set("Last-Modified", "Fri, 01 Mar 2024 12:00:00 GMT")
				w.Write(tt.body[:len(tt.body)/2])
				w.(http.Flusher).Flush()
				close(half)
				<-resume
				w.Write(tt.body[len(tt.body)/2:])
			})
			path := filepath.Join(t.TempDir(), "f.bin")
			req := request(srv.URL+"/f.bin", path, nil)
			req.NoPart = tt.noPart
			done := make(chan error, 1)
			go func() {
				_, err := newClient(t, testConfig()).Fetch(context.Background(), req)
				done <- err
			}()
			<-half
			// The file is open once the first bytes are counted.
			within(t, 5*time.Second, func() {
				for req.Progress.Done() == 0 {
					time.Sleep(time.Millisecond)
				}
			})
			_, partErr := os.Stat(path + ".part")
			if named := partErr == nil; named != tt.wantNamed {
				t.Errorf("mid-body, %s.part exists = %v, want %v", filepath.Base(path), named, tt.wantNamed)
			}
			assertGone(t, path)
			close(resume)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			assertDone(t, path, tt.body)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if want := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC); !fi.ModTime().Equal(want) {
				t.Errorf("mtime %v, want %v", fi.ModTime(), want)
			}
			if fi.Mode().Perm()&0o444 != 0o444 {
				t.Errorf("mode %v: not readable by all", fi.Mode())
			}
			if etag := readETag(path); etag != `"n1"` && xattrsWork(t, filepath.Dir(path)) {
				t.Errorf("stored ETag %q, want %q", etag, `"n1"`)
			}
		})
	}
}

// xattrsWork tells whether dir's file system keeps user extended
// attributes.
func xattrsWork(t *testing.T, dir string) bool {
	p := filepath.Join(dir, "xattr-probe")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(p)
	writeETag(p, "x")
	return readETag(p) == "x"
}

// TestNoPartCutShortKeepsThePart: a small body written without a name and
// cut short is kept as the part, with its sidecar, and resumed by the next
// Fetch with a Range from where it ended.
func TestNoPartCutShortKeepsThePart(t *testing.T) {
	body := payload(100<<10, 33)
	res := newResource(body, `"c1"`)
	rc := &recorder{}
	srv := serve(t, rc, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Header().Set("ETag", `"c1"`)
			w.Write(body[:30000])
			return // the server closes a body shorter than its length
		}
		res.ServeHTTP(w, r)
	})
	path := filepath.Join(t.TempDir(), "c.bin")
	cfg := testConfig()
	cfg.Retries = 0
	req := request(srv.URL+"/c.bin", path, nil)
	req.NoPart = true
	if _, err := newClient(t, cfg).Fetch(context.Background(), req); err == nil {
		t.Fatal("a body cut short did not fail")
	}
	assertGone(t, path)
	if got := mustFile(t, path+".part"); len(got) != 30000 || string(got) != string(body[:30000]) {
		t.Fatalf("the part holds %d bytes, want the first 30000 of the body", len(got))
	}
	if _, err := ReadMeta(path + ".part"); err != nil {
		t.Fatalf("the kept part has no sidecar: %v", err)
	}
	req = request(srv.URL+"/c.bin", path, nil) // a new run: the part is there
	if _, err := newClient(t, cfg).Fetch(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, body)
	if got := rc.header(1).Get("Range"); got != "bytes=30000-" {
		t.Errorf("second request Range %q, want bytes=30000-", got)
	}
}

// TestNoPartNameTaken: a file that appears under the final name while the
// body is written without a name (NoPart was wrong) is replaced, through
// the part and a rename, as without NoPart; and a digest that does not
// match leaves nothing behind.
func TestNoPartNameTaken(t *testing.T) {
	body := payload(50<<10, 34)
	srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
		newResource(body, `"t1"`).ServeHTTP(w, r)
	})
	dir := t.TempDir()

	path := filepath.Join(dir, "taken.bin")
	if err := os.WriteFile(path, []byte("somebody else's"), 0o644); err != nil {
		t.Fatal(err)
	}
	req := request(srv.URL+"/taken.bin", path, nil)
	req.NoPart = true
	if _, err := newClient(t, testConfig()).Fetch(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, body)
	if fi, _ := os.Stat(path); !fi.ModTime().Equal(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("mtime %v: the copy was not stamped", fi.ModTime())
	}

	bad := filepath.Join(dir, "bad.bin")
	req = request(srv.URL+"/bad.bin", bad, nil)
	req.NoPart = true
	req.SHA256 = sum([]byte("not the body"))
	cfg := testConfig()
	cfg.Retries = 0
	_, err := newClient(t, cfg).Fetch(context.Background(), req)
	var mismatch *ChecksumError
	if !errors.As(err, &mismatch) {
		t.Fatalf("err = %v, want a checksum mismatch", err)
	}
	assertGone(t, bad, bad+".part", bad+".part.meta")
}

// TestNameUnnamedCopiesWhenLinkFails: when a file without a name cannot be
// linked (here, the name exists), its bytes are copied to the name.
func TestNameUnnamedCopiesWhenLinkFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.part")
	f, err := openUnnamed(path)
	if errors.Is(err, errNoUnnamed) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	body := payload(3*bufSize+5, 35) // more than one copy buffer
	if _, err := f.WriteAt(body, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := &transfer{c: newClient(t, testConfig()), part: path}
	defer tr.lock.release()
	if err := tr.nameUnnamed(f); err != nil {
		t.Fatal(err)
	}
	if got := mustFile(t, path); string(got) != string(body) {
		t.Errorf("%s holds %d bytes, want the %d written", path, len(got), len(body))
	}
}
