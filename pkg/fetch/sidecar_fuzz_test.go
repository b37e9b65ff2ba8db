package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server behaviours of FuzzResumeSidecar, as bits of its mode.
const (
	modeNoRanges  = 1 << iota // answers every request with the whole file
	modeNoETag                // sends no ETag
	modeNoLastMod             // sends no Last-Modified
	modeChunked               // sends no Content-Length
	modeSplit                 // the client splits (4 ranges)
)

// FuzzResumeSidecar: whatever a sidecar holds (hostile JSON, a length or
// ranges that do not fit the part, validators of another file, another
// URL), a part that is a true prefix of the file never ends up as a wrong
// file under the final name. The item either fails, with nothing under
// the final name, or the final name holds the file; or, when the sidecar
// says so (split ranges all fetched, of the part's length: no request
// is needed, and the server cannot contradict it), the part as it was.
func FuzzResumeSidecar(f *testing.F) {
	body := payload(3000, 77)
	mod := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode, _ := strconv.Atoi(filepath.Base(r.URL.Path))
		if mode&modeNoRanges != 0 {
			r.Header.Del("Range")
		}
		if mode&modeNoETag == 0 {
			w.Header().Set("ETag", `"e"`)
		}
		lm := mod
		if mode&modeNoLastMod != 0 {
			lm = time.Time{}
		}
		if mode&modeChunked != 0 {
			w = noLength{w}
		}
		http.ServeContent(w, r, "", lm, bytes.NewReader(body))
	}))
	f.Cleanup(srv.Close)
	plain, split := testConfig(), splitConfig()
	split.SplitMin = 1
	clients := [2]*Client{newClient(f, plain), newClient(f, split)}

	const v = `"etag":"\"e\"","last_modified":"Fri, 01 Mar 2024 12:00:00 GMT"`
	for _, s := range []struct {
		meta string
		part uint16
		mode uint8
	}{
		{`{"url":"$URL",` + v + `,"length":3000}`, 1000, 0},
		{`{"url":"$URL",` + v + `,"length":3000}`, 1000, modeNoRanges | modeChunked},
		{`{"url":"$URL",` + v + `,"length":3000,"spans":[{"start":0,"end":750,"next":700},{"start":750,"end":1500,"next":750},{"start":1500,"end":2250,"next":2000},{"start":2250,"end":3000,"next":3000}]}`, 3000, modeSplit},
		{`{"url":"$URL",` + v + `,"length":1000,"spans":[{"start":0,"end":1000,"next":1000}]}`, 1000, 0},
		{`{"url":"$URL",` + v + `,"length":3000,"spans":[{"start":0,"end":2000,"next":1000},{"start":1000,"end":3000,"next":3000}]}`, 3000, 0},
		{`{"url":"$URL","etag":"W/\"e\"","length":-1}`, 2999, modeNoLastMod},
		{`{"url":"$URL","etag":"\"other\"","length":3000}`, 1500, modeNoLastMod},
		{`{"url":"$URL","last_modified":"Thu, 29 Feb 2024 12:00:00 GMT","length":3000}`, 1500, modeNoETag},
		{`{"url":"$URL","length":5}`, 1500, modeNoETag | modeNoLastMod},
		{`{"url":"$URL","length":9223372036854775807}`, 1500, modeSplit},
		{`{"url":"$URL","length":3000}`, 3000, modeNoETag | modeNoLastMod},
		{`{"url":"","length":3000}`, 100, 0},
		{`{"url":"http://elsewhere/x","length":3000}`, 100, 0},
		{`{"url":"$URL"`, 100, 0},
		{`null`, 100, 0},
	} {
		f.Add(s.meta, s.part, s.mode)
	}
	f.Fuzz(func(t *testing.T, meta string, partLen uint16, mode uint8) {
		u := srv.URL + "/f/" + strconv.Itoa(int(mode&^modeSplit))
		path := filepath.Join(t.TempDir(), "f")
		part := body[:min(int(partLen), len(body))]
		if err := os.WriteFile(path+".part", part, 0o644); err != nil {
			t.Fatal(err)
		}
		meta = strings.ReplaceAll(meta, "$URL", u)
		if err := os.WriteFile(path+".part.meta", []byte(meta), 0o644); err != nil {
			t.Fatal(err)
		}
		c := clients[0]
		if mode&modeSplit != 0 {
			c = clients[1]
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := c.Fetch(ctx, request(u, path, nil))
		got, rerr := os.ReadFile(path)
		if err != nil {
			if rerr == nil {
				t.Fatalf("the item failed (%v), yet %s holds %d bytes", err, path, len(got))
			}
			return
		}
		if rerr != nil {
			t.Fatalf("the item succeeded, yet %v", rerr)
		}
		if bytes.Equal(got, body) {
			return
		}
		var m Meta
		if json.Unmarshal([]byte(meta), &m) == nil && bytes.Equal(got, part) &&
			m.Length == int64(len(part)) && validSpans(m.Spans, m.Length) && allDone(m.Spans) {
			return // the sidecar said the part was whole
		}
		t.Fatalf("%s holds %d bytes (sha256 %s), neither the file (%d bytes) nor the part the sidecar called whole",
			path, len(got), sum(got)[:12], len(body))
	})
}

// allDone reports whether every span is fetched to its end.
func allDone(spans []Span) bool {
	for _, s := range spans {
		if s.Next != s.End {
			return false
		}
	}
	return true
}

// noLength is a ResponseWriter that sends no Content-Length: the body goes
// out chunked.
type noLength struct{ http.ResponseWriter }

func (w noLength) WriteHeader(code int) {
	w.Header().Del("Content-Length")
	w.ResponseWriter.WriteHeader(code)
}

func (w noLength) Write(b []byte) (int, error) {
	w.Header().Del("Content-Length")
	return w.ResponseWriter.Write(b)
}
