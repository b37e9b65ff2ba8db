package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEndToEndSplitServerFaults: what a person sees when --split meets a
// server that does not play along. A server that honours the probe's range
// but answers the others with the whole file is read as one stream; a range
// that keeps failing fails the item with one line that says which range,
// after how many attempts, and why, and --json's "attempts" agrees.
func TestEndToEndSplitServerFaults(t *testing.T) {
	body := bytes.Repeat([]byte("fetchpool split faults "), 2_000_000/23+1)[:2_000_000]
	const etag = `"e1"`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", etag)
		rg := r.Header.Get("Range")
		if rg == "" || rg == "bytes=0-" || !strings.HasSuffix(rg, "-1499999") {
			http.ServeContent(w, r, "", modTime, bytes.NewReader(body))
			return
		}
		// Requests for the third of four ranges, bytes 1000000-1499999.
		switch r.URL.Path {
		case "/whole.bin": // every range but the probe's
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body)
		case "/oops.bin":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("oops"))
		case "/short.bin":
			var from int
			fmt.Sscanf(rg, "bytes=%d-", &from)
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-1499999/%d", from, len(body)))
			w.Header().Set("Content-Length", strconv.Itoa(1_500_000-from))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[from : from+1000])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // the connection closes early
		}
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		path     string
		code     int
		reason   string // of the FAIL line, after the URL
		attempts int
	}{
		{"/whole.bin", 0, "", 1},
		{"/oops.bin", 1, "bytes 1000000-1499999: after 3 attempts: HTTP 500 Internal Server Error (×3); oops.bin.part kept: run again to resume", 3},
		{"/short.bin", 1, "bytes 1000000-1499999: after 3 attempts: connection closed early (×3); short.bin.part kept: run again to resume", 3},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			dir := t.TempDir()
			u := srv.URL + tt.path
			r := fetchpool(t, dir, "", "--split", "4", "--split-min", "1M", "--retries", "2", "--retry-wait", "10ms", "--json", u)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			var rec struct {
				Status   string `json:"status"`
				Attempts int    `json:"attempts"`
				Error    string `json:"error"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
				t.Fatalf("--json: %v\n%s", err, r.stdout)
			}
			if rec.Attempts != tt.attempts || rec.Error != tt.reason {
				t.Errorf("--json: attempts %d, error %q; want %d, %q", rec.Attempts, rec.Error, tt.attempts, tt.reason)
			}
			if strings.Contains(r.stderr, "restarting") || strings.Contains(r.stderr, "changed") {
				t.Errorf("stderr speaks of a change:\n%s", r.stderr)
			}
			if tt.code == 0 {
				if got := readFile(t, filepath.Join(dir, tt.path[1:])); !bytes.Equal(got, body) {
					t.Error("the file is not the resource")
				}
				return
			}
			// The summary's line, which would add "(1 attempt)" to a reason
			// of one attempt.
			want := "FAIL arg 1 " + u + ": " + tt.reason + "\n"
			if !strings.HasSuffix(r.stderr, want) {
				t.Errorf("stderr does not end with\n%s\n%s", want, r.stderr)
			}
		})
	}
}

// TestEndToEndRangesOfUnknownLength: a server that caps its ranges and does
// not give the file's length ("bytes 0-1023/*") gets asked for the rest
// until it answers 416; the whole file lands, never its first range, with
// --split or without.
func TestEndToEndRangesOfUnknownLength(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := 0
		fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &start)
		if start >= len(body) {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		end := min(start+1024, len(body))
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/*", start, end-1))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(body[start:end])
	}))
	defer srv.Close()
	for _, args := range [][]string{nil, {"--split", "4", "--split-min", "1"}} {
		dir := t.TempDir()
		r := fetchpool(t, dir, "", append([]string{"-o", "out", srv.URL + "/f.bin"}, args...)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d; stderr:\n%s", args, r.code, r.stderr)
		}
		if got := readFile(t, filepath.Join(dir, "out", "f.bin")); !bytes.Equal(got, body) {
			t.Fatalf("%v: f.bin holds %d bytes, want the file's %d", args, len(got), len(body))
		}
	}
}
