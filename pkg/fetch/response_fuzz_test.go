package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// script is the list of answers of FuzzResponses' server, four bytes an
// answer, used up one request at a time; past its end the server answers
// as a correct one does. An answer whose kind is 8 mod 16 also replaces
// the file with its second version, for this request and the next ones.
type script struct {
	mu      sync.Mutex
	steps   []byte
	version int
}

func (s *script) next() (kind, a, b, c byte, ok bool, version int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.steps) < 4 {
		return 0, 0, 0, 0, false, s.version
	}
	st := s.steps[:4]
	s.steps = s.steps[4:]
	if st[0]%16 == 8 {
		s.version = 1
	}
	return st[0], st[1], st[2], st[3], true, s.version
}

// fileVersion is one version of the file that FuzzResponses' server serves.
type fileVersion struct {
	body []byte
	etag string
	mod  time.Time
}

// FuzzResponses: against a server whose answers are odd but truthful (a
// 206 for other bytes than were asked, with or without the total, a body
// cut short, a Content-Length that says otherwise, a 200 to a range, a
// 416, a 500), with or without a part from an earlier run and its
// sidecar, split or not, the item either fails with nothing under the
// final name or the final name holds the file: every byte the server sent
// is the file's byte at the offset its Content-Range gives, so a misplaced
// or missing byte is fetchpool's. The file may change on the server
// between two requests (a new ETag, Last-Modified and length): then the
// final name holds one version or the other, never a mix. With the first
// version's digest expected, the final name holds that version, and a
// digest mismatch comes only from a file that changed.
func FuzzResponses(f *testing.F) {
	mod := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	versions := [2]fileVersion{
		{payload(3000, 78), `"e"`, mod},
		{payload(2500, 79), `"f"`, mod.Add(time.Hour)},
	}
	body, etag := versions[0].body, versions[0].etag
	cur := &script{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind, a, b, c, ok, v := cur.next()
		body, etag, mod := versions[v].body, versions[v].etag, versions[v].mod
		w.Header().Set("ETag", etag)
		if !ok || kind%8 == 0 {
			http.ServeContent(w, r, "", mod, bytes.NewReader(body))
			return
		}
		first := (int(a)<<8 | int(b)) % len(body)
		last := min(first+int(c)*16, len(body)-1)
		w.Header().Set("Last-Modified", mod.Format(http.TimeFormat))
		switch kind % 8 {
		case 1: // the whole file, as if there were no range
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body)
		case 2: // the whole file, cut short
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body[:first])
		case 3, 4: // a 206 of other bytes, with the total or without
			total := strconv.Itoa(len(body))
			if kind%8 == 4 {
				total = "*"
			}
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%s", first, last, total))
			w.Header().Set("Content-Length", strconv.Itoa(last-first+1))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[first : last+1])
		case 5: // a 206 cut short
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(body)))
			w.Header().Set("Content-Length", strconv.Itoa(last-first+1))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[first : first+(last-first)/2])
		case 6: // a 206 without a Content-Length, its body sent chunked
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(body)))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[first : last+1])
		case 7:
			if c&1 == 0 {
				w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(body)))
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return
			}
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	f.Cleanup(srv.Close)
	split := splitConfig()
	split.SplitMin = 1
	clients := [2]*Client{newClient(f, testConfig()), newClient(f, split)}
	u := srv.URL + "/f"

	for _, s := range []struct {
		steps []byte
		part  uint16
		flags uint8 // 1: the part has a sidecar; 2: split; 4: the digest is expected
	}{
		{nil, 0, 0},
		{[]byte{3, 0, 0, 255}, 0, 2},
		{[]byte{3, 3, 232, 20}, 1000, 1},
		{[]byte{3, 3, 231, 20}, 1000, 1},
		{[]byte{4, 3, 232, 255}, 1000, 1},
		{[]byte{5, 3, 232, 255, 6, 0, 0, 0}, 1000, 1},
		{[]byte{1, 0, 0, 0}, 1000, 1},
		{[]byte{2, 5, 0, 0}, 1000, 3},
		{[]byte{7, 0, 0, 0}, 3000, 1},
		{[]byte{7, 0, 0, 1, 7, 0, 0, 1, 7, 0, 0, 1, 7, 0, 0, 1}, 0, 0},
		{[]byte{0, 0, 0, 0, 3, 2, 238, 46, 4, 5, 220, 46}, 0, 2},
		{[]byte{6, 0, 0, 255}, 0, 2},
		{[]byte{8, 0, 0, 0}, 1000, 1},
		{[]byte{3, 0, 0, 40, 8, 0, 0, 0}, 0, 0},
		{[]byte{4, 0, 0, 40, 24, 0, 0, 0, 3, 2, 145, 255}, 0, 0},
		{[]byte{0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0}, 0, 2},
		{[]byte{4, 0, 0, 40, 3, 2, 145, 255}, 2000, 5},
		{[]byte{1, 0, 0, 0}, 2000, 7},
		{[]byte{8, 0, 0, 0}, 1000, 5},
	} {
		f.Add(s.steps, s.part, s.flags)
	}
	f.Fuzz(func(t *testing.T, steps []byte, partLen uint16, flags uint8) {
		if len(steps) > 64 {
			return
		}
		path := filepath.Join(t.TempDir(), "f")
		if partLen > 0 {
			part := body[:min(int(partLen), len(body))]
			if err := os.WriteFile(path+".part", part, 0o644); err != nil {
				t.Fatal(err)
			}
			if flags&1 != 0 {
				meta := Meta{URL: u, ETag: etag, LastModified: mod.Format(http.TimeFormat), Length: int64(len(body))}
				if err := writeMeta(path+".part", meta); err != nil {
					t.Fatal(err)
				}
			}
		}
		cur.mu.Lock()
		cur.steps, cur.version = steps, 0
		cur.mu.Unlock()
		c := clients[0]
		if flags&2 != 0 {
			c = clients[1]
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req := request(u, path, nil)
		if flags&4 != 0 {
			req.SHA256 = sum(body)
		}
		_, err := c.Fetch(ctx, req)
		got, rerr := os.ReadFile(path)
		cur.mu.Lock()
		changed := cur.version != 0
		cur.mu.Unlock()
		switch {
		case errors.As(err, new(*ChecksumError)) && !changed:
			// Every byte was the file's: a wrong digest is of bytes
			// misplaced, or of a prefix hashed wrong.
			t.Fatalf("the file never changed, yet: %v", err)
		case err == nil && req.SHA256 != "" && !bytes.Equal(got, body):
			t.Fatalf("%s holds %d bytes (sha256 %s), not the file whose digest was expected", path, len(got), sum(got)[:12])
		case err != nil && rerr == nil:
			t.Fatalf("the item failed (%v), yet %s holds %d bytes", err, path, len(got))
		case err == nil && rerr != nil:
			t.Fatalf("the item succeeded, yet %v", rerr)
		case err == nil && !bytes.Equal(got, body) && !bytes.Equal(got, versions[1].body):
			t.Fatalf("%s holds %d bytes (sha256 %s), neither version of the file", path, len(got), sum(got)[:12])
		}
	})
}
