package fetch

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestResume416 resumes a 50000-byte part whose server answers the Range
// request with 416 and "Content-Range: bytes */50000". The part counts as
// complete only when nothing the sidecar recorded contradicts the 416:
// not the length of the resource, not its ETag, not its Last-Modified.
// Otherwise the part is restarted from zero with a plain GET, which the
// server answers with what it has now.
func TestResume416(t *testing.T) {
	const partLen = 50000
	old := payload(2*partLen, 41) // what the earlier run was fetching
	part := old[:partLen]
	now := payload(partLen, 42) // what the server has now, when it changed
	mod := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	lm := mod.Format(http.TimeFormat)
	later := mod.Add(time.Hour).Format(http.TimeFormat)

	tests := []struct {
		name     string
		meta     Meta              // the sidecar; URL filled in
		answer   map[string]string // headers of the 416, besides Content-Range
		current  []byte            // the body of a GET without Range
		want     []byte            // under the final name
		wantReqs int
	}{
		{
			name:     "recorded length longer: a lying server",
			meta:     Meta{ETag: `"v1"`, LastModified: lm, Length: 2 * partLen},
			answer:   map[string]string{"ETag": `"v1"`, "Last-Modified": lm},
			current:  old,
			want:     old,
			wantReqs: 2,
		},
		{
			name:     "recorded length longer: the file shrank, no validators",
			meta:     Meta{Length: 2 * partLen},
			current:  now,
			want:     now,
			wantReqs: 2,
		},
		{
			name:     "another ETag",
			meta:     Meta{ETag: `"v1"`, Length: -1},
			answer:   map[string]string{"ETag": `"v2"`},
			current:  now,
			want:     now,
			wantReqs: 2,
		},
		{
			name:     "another Last-Modified, same length",
			meta:     Meta{LastModified: lm, Length: partLen},
			answer:   map[string]string{"Last-Modified": later},
			current:  now,
			want:     now,
			wantReqs: 2,
		},
		{
			name:     "same weak ETag, another Last-Modified",
			meta:     Meta{ETag: `W/"v1"`, LastModified: lm, Length: partLen},
			answer:   map[string]string{"ETag": `W/"v1"`, "Last-Modified": later},
			current:  now,
			want:     now,
			wantReqs: 2,
		},
		{
			name:     "same strong ETag, another Last-Modified",
			meta:     Meta{ETag: `"v1"`, LastModified: lm, Length: partLen},
			answer:   map[string]string{"ETag": `"v1"`, "Last-Modified": later},
			current:  now,
			want:     now,
			wantReqs: 2,
		},
		{
			name:     "everything agrees: complete",
			meta:     Meta{ETag: `"v1"`, LastModified: lm, Length: partLen},
			answer:   map[string]string{"ETag": `"v1"`, "Last-Modified": lm},
			current:  now, // not asked for
			want:     part,
			wantReqs: 1,
		},
		{
			name:     "same instant in another date format: complete",
			meta:     Meta{LastModified: lm, Length: partLen},
			answer:   map[string]string{"Last-Modified": mod.Format(time.RFC850)},
			current:  now,
			want:     part,
			wantReqs: 1,
		},
		{
			name:     "nothing recorded to contradict: complete",
			meta:     Meta{Length: -1},
			answer:   map[string]string{"ETag": `"v9"`, "Last-Modified": later},
			current:  now,
			want:     part,
			wantReqs: 1,
		},
	}
	for _, tt := range tests {
		for _, digest := range []bool{false, true} {
			name := tt.name
			if digest {
				name += ", --sha256"
			}
			t.Run(name, func(t *testing.T) {
				rc := &recorder{}
				srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
					if r.Header.Get("Range") == "" {
						w.Write(tt.current)
						return
					}
					for k, v := range tt.answer {
						w.Header().Set(k, v)
					}
					w.Header().Set("Content-Range", "bytes */50000")
					w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				})
				url := srv.URL + "/f"
				path := filepath.Join(t.TempDir(), "f")
				m := tt.meta
				m.URL = url
				writePart(t, path, part, &m)
				cfg := testConfig()
				cfg.Retries = 0
				req := request(url, path, nil)
				if digest {
					req.SHA256 = sum(tt.want)
				}
				res, err := newClient(t, cfg).Fetch(context.Background(), req)
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				assertDone(t, path, tt.want)
				if res.Size != int64(len(tt.want)) || (digest && res.SHA256 != sum(tt.want)) {
					t.Errorf("Result %+v", res)
				}
				if rc.count() != tt.wantReqs {
					t.Fatalf("%d requests, want %d", rc.count(), tt.wantReqs)
				}
				if got := rc.header(0).Get("Range"); got != "bytes=50000-" {
					t.Errorf("first Range %q, want bytes=50000-", got)
				}
				if tt.wantReqs > 1 {
					if got := rc.header(1).Get("Range"); got != "" {
						t.Errorf("the restart sent Range %q; want a plain GET", got)
					}
				}
			})
		}
	}
}

// TestResume416ChecksumStillChecked: a part accepted as complete on a 416
// is verified like any other; a mismatch fetches the file once more from
// the start (the part is of an earlier run), and when that does not match
// either, fails the item and leaves nothing under the final name.
func TestResume416ChecksumStillChecked(t *testing.T) {
	part := payload(50000, 43)
	rc := &recorder{}
	srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("Range") == "" {
			w.Write(part)
			return
		}
		w.Header().Set("Content-Range", "bytes */50000")
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
	})
	path := filepath.Join(t.TempDir(), "f")
	writePart(t, path, part, &Meta{URL: srv.URL, ETag: `"v1"`, Length: 50000})
	cfg := testConfig()
	cfg.Retries = 0
	req := request(srv.URL, path, nil)
	req.SHA256 = sum([]byte("something else"))
	_, err := newClient(t, cfg).Fetch(context.Background(), req)
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Got != sum(part) {
		t.Fatalf("err = %v, want a ChecksumError naming the part's digest", err)
	}
	if rc.count() != 2 {
		t.Errorf("%d requests, want 2: the resume, then the whole file once", rc.count())
	}
	assertGone(t, path, path+".part", path+".part.meta")
}

// TestResume206IgnoringIfRange: a server that ignores If-Range answers a
// resume with the tail of what it has now. The tail follows the part only
// when neither its ETag nor its Last-Modified contradicts the sidecar;
// otherwise the part restarts from zero.
func TestResume206IgnoringIfRange(t *testing.T) {
	const partLen = 50000
	old := payload(2*partLen, 51)
	now := payload(2*partLen, 52) // same length, other bytes
	mod := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	lm := mod.Format(http.TimeFormat)
	later := mod.Add(time.Hour).Format(http.TimeFormat)

	tests := []struct {
		name     string
		meta     Meta
		header   map[string]string // of every answer
		current  []byte
		want     []byte
		wantReqs int
	}{
		{"another Last-Modified, no ETag", Meta{LastModified: lm, Length: 2 * partLen},
			map[string]string{"Last-Modified": later}, now, now, 2},
		{"same weak ETag, another Last-Modified", Meta{ETag: `W/"v1"`, LastModified: lm, Length: 2 * partLen},
			map[string]string{"ETag": `W/"v1"`, "Last-Modified": later}, now, now, 2},
		{"same strong ETag, another Last-Modified", Meta{ETag: `"v1"`, LastModified: lm, Length: 2 * partLen},
			map[string]string{"ETag": `"v1"`, "Last-Modified": later}, now, now, 2},
		{"another ETag", Meta{ETag: `"v1"`, Length: 2 * partLen},
			map[string]string{"ETag": `"v2"`}, now, now, 2},
		{"same Last-Modified: resumed", Meta{LastModified: lm, Length: 2 * partLen},
			map[string]string{"Last-Modified": lm}, old, old, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			srv := serve(t, rc, func(_ int, w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				if r.Header.Get("Range") == "bytes=50000-" {
					// If-Range ignored: the tail of the current file.
					w.Header().Set("Content-Range", "bytes 50000-99999/100000")
					w.WriteHeader(http.StatusPartialContent)
					w.Write(tt.current[partLen:])
					return
				}
				w.Write(tt.current)
			})
			url := srv.URL + "/f"
			path := filepath.Join(t.TempDir(), "f")
			m := tt.meta
			m.URL = url
			writePart(t, path, old[:partLen], &m)
			cfg := testConfig()
			cfg.Retries = 0
			if _, err := newClient(t, cfg).Fetch(context.Background(), request(url, path, nil)); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			assertDone(t, path, tt.want)
			if rc.count() != tt.wantReqs {
				t.Errorf("%d requests, want %d", rc.count(), tt.wantReqs)
			}
		})
	}
}

// TestWholePartLandsUnderServerName: a part whose server named the file
// (Content-Disposition), left whole by a run stopped before its rename, is
// found complete by a 416 and lands under the server's name, as it would
// have: the 416 is asked (Request.Rename) with the name it gives, or, as
// a 416 seldom repeats it, with the one the sidecar recorded from the
// response that began the part. Before, it landed under the URL's name.
// With Request.IfNewer, a file under the server's name that is newer than
// the part's copy is kept, and the part removed.
func TestWholePartLandsUnderServerName(t *testing.T) {
	body := payload(300<<10, 43) // larger than one buffer: its sidecar comes first
	mod := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		cdOn416  bool
		ifNewer  bool
		existing time.Time // mtime of the file under the server's name; zero: none
		wantBody bool      // the part lands under the server's name
	}{
		{"416 names it", true, false, time.Time{}, true},
		{"416 does not name it", false, false, time.Time{}, true},
		{"newer, older file there", false, true, mod.Add(-time.Hour), true},
		{"newer, newer file there", false, true, mod.Add(time.Hour), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path, served := filepath.Join(dir, "dl"), filepath.Join(dir, "served.bin")
			srv := serve(t, &recorder{}, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					// The run that begins the part, and stops short.
					w.Header().Set("Content-Disposition", `attachment; filename="served.bin"`)
					w.Header().Set("Last-Modified", mod.Format(http.TimeFormat))
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
					w.Write(body[:len(body)/2])
					return
				}
				if tt.cdOn416 || r.Header.Get("Range") == "" {
					w.Header().Set("Content-Disposition", `attachment; filename="served.bin"`)
				}
				http.ServeContent(w, r, "", mod, bytes.NewReader(body))
			})
			var names []string
			rename := func(name string) (Destination, error) {
				names = append(names, name)
				d := Destination{Path: filepath.Join(dir, name)}
				if _, err := os.Stat(d.Path); err == nil {
					d.IfNewer = true
				}
				return d, nil
			}
			cfg := testConfig()
			cfg.Retries = 0
			req := request(srv.URL+"/dl", path, nil)
			req.Rename = rename
			if _, err := newClient(t, cfg).Fetch(context.Background(), req); err == nil {
				t.Fatal("the short body succeeded")
			}
			// The rest of the part came, and the run stopped before its
			// rename.
			if err := os.WriteFile(path+".part", body, 0o644); err != nil {
				t.Fatal(err)
			}
			if !tt.existing.IsZero() {
				os.WriteFile(served, []byte("local"), 0o644)
				os.Chtimes(served, tt.existing, tt.existing)
			}
			names = nil
			req = request(srv.URL+"/dl", path, nil)
			req.Rename = rename
			res, err := newClient(t, cfg).Fetch(context.Background(), req)
			if tt.wantBody && err != nil {
				t.Fatal(err)
			}
			if len(names) != 1 || names[0] != "served.bin" {
				t.Errorf("Rename was asked for %q, want served.bin once", names)
			}
			if tt.wantBody {
				if res.Path != served || res.HTTPStatus != http.StatusRequestedRangeNotSatisfiable {
					t.Errorf("Result.Path %s, HTTP status %d; want %s after a 416", res.Path, res.HTTPStatus, served)
				}
				assertDone(t, served, body)
			} else {
				if !errors.Is(err, ErrNotNewer) {
					t.Errorf("Fetch = %v, want ErrNotNewer", err)
				}
				if got := mustFile(t, served); string(got) != "local" {
					t.Errorf("the newer served.bin was replaced")
				}
			}
			assertGone(t, path, path+".part", path+".part.meta")
		})
	}
}
