package main

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowServer serves one 6,000,000-byte file at any path, with an ETag and
// a Last-Modified, and ignores Range: a resume gets a 200, which restarts
// the part. Each response sends its first half, reports its arrival, and
// holds the rest until release (or until the client goes away).
type slowServer struct {
	*httptest.Server
	body    []byte
	arrived chan struct{}
	release func()
	held    chan struct{}
}

func newSlowServer(t *testing.T) *slowServer {
	t.Helper()
	s := &slowServer{arrived: make(chan struct{}, 10), held: make(chan struct{})}
	s.body = make([]byte, 6_000_000)
	r := rand.New(rand.NewPCG(7, 8))
	for i := range s.body {
		s.body[i] = byte(r.Uint32())
	}
	s.release = sync.OnceFunc(func() { close(s.held) })
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	t.Cleanup(s.release) // runs first: Close waits for the handlers
	return s
}

func (s *slowServer) serve(w http.ResponseWriter, r *http.Request) {
	half := len(s.body) / 2
	w.Header().Set("ETag", `"two"`)
	w.Header().Set("Last-Modified", modTime.Format(http.TimeFormat))
	w.Header().Set("Content-Length", strconv.Itoa(len(s.body)))
	w.Write(s.body[:half])
	w.(http.Flusher).Flush()
	s.arrived <- struct{}{}
	select {
	case <-s.held:
		w.Write(s.body[half:])
	case <-r.Context().Done():
	}
}

// await waits for the next response to be held.
func (s *slowServer) await(t *testing.T) {
	t.Helper()
	select {
	case <-s.arrived:
	case <-time.After(eventually):
		t.Fatalf("no request arrived after %v", eventually)
	}
}

// waitForPart waits until the part at path holds bytes.
func waitForPart(t *testing.T, path string, p *proc) {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("fetchpool exited (code %d) before writing %s; stderr:\n%s", p.code, path, &p.log)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no byte reached %s after %v", path, eventually)
		}
	}
}

// clashMessage is how a run reports a part that another run writes.
const clashMessage = "out/two.bin.part is being written by another process; not touched"

// TestEndToEndTwoRunsOneDirectory: a second fetchpool started into the
// output directory of a first one, while the first writes the same file,
// fails that item at once, saying so, and leaves the first one's part and
// sidecar as they are, whether it would have resumed the part (and, as
// the server ignores ranges, started it over) or, with --no-resume,
// discarded it. The first one then puts the whole file in place. Before
// parts were locked, the second run's truncated part was renamed into
// place by the first, which reported success.
func TestEndToEndTwoRunsOneDirectory(t *testing.T) {
	for _, tt := range []struct {
		name  string
		flags []string
	}{
		{"resume", nil},
		{"no resume", []string{"--no-resume"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSlowServer(t)
			dir := t.TempDir()
			url := srv.URL + "/two.bin"
			part := filepath.Join(dir, "out", "two.bin.part")
			first := startFetchpool(t, dir, "-o", "out", "--no-progress", url)
			srv.await(t)
			waitForPart(t, part, first)
			before, err := os.Stat(part)
			if err != nil {
				t.Fatal(err)
			}
			meta := readFile(t, part+".meta")

			second := startFetchpool(t, dir, append(tt.flags, "-o", "out", "--no-progress", url)...)
			select {
			case <-second.exited:
			case <-srv.arrived:
				// It is writing the part too: what overlapping runs did
				// before parts were locked. Kill it halfway, as a cron
				// job's timeout would.
				second.cmd.Process.Kill()
			case <-time.After(eventually):
				t.Fatalf("the second run neither ended nor sent a request after %v; stderr so far:\n%s", eventually, &second.log)
			}
			r := second.wait()
			if r.code != 1 || !strings.Contains(r.stderr, clashMessage) {
				t.Errorf("second run: exit %d, want 1 with %q; stderr:\n%s", r.code, clashMessage, r.stderr)
			}
			if after, err := os.Stat(part); err != nil || !os.SameFile(before, after) {
				t.Errorf("the first run's part is not the same file after the second run (%v)", err)
			} else if got := readFile(t, part); len(got) < int(before.Size()) || !bytes.Equal(got, srv.body[:len(got)]) {
				t.Errorf("the first run's part changed: %d bytes, was %d, not all of them its own", len(got), before.Size())
			}
			if got, err := os.ReadFile(part + ".meta"); !bytes.Equal(got, meta) {
				t.Errorf("the first run's sidecar changed (%v): %s, was %s", err, got, meta)
			}

			srv.release()
			r = first.wait()
			checkOnlyWhole(t, r, filepath.Join(dir, "out"), srv.body)
		})
	}
}

// TestEndToEndTwoRunsAtOnce: of two runs started together into an empty
// directory, the one that opens the part first writes it; the other fails
// the item saying so, whether it found the part as it began or only once
// its own response came, and the file in place is whole.
func TestEndToEndTwoRunsAtOnce(t *testing.T) {
	srv := newSlowServer(t)
	dir := t.TempDir()
	url := srv.URL + "/two.bin"
	runs := []*proc{
		startFetchpool(t, dir, "-o", "out", "--no-progress", url),
		startFetchpool(t, dir, "-o", "out", "--no-progress", url),
	}
	srv.await(t)
	// The run that finds the part taken ends without waiting for the body.
	var loser, winner *proc
	select {
	case <-runs[0].exited:
		loser, winner = runs[0], runs[1]
	case <-runs[1].exited:
		loser, winner = runs[1], runs[0]
	case <-time.After(eventually):
		srv.release()
		t.Fatalf("neither run ended after %v; stderr:\n%s\n---\n%s", eventually, &runs[0].log, &runs[1].log)
	}
	r := loser.wait()
	if r.code != 1 || !strings.Contains(r.stderr, clashMessage) {
		t.Errorf("the run that ended first: exit %d, want 1 with %q; stderr:\n%s", r.code, clashMessage, r.stderr)
	}
	srv.release()
	checkOnlyWhole(t, winner.wait(), filepath.Join(dir, "out"), srv.body)
}

// checkOnlyWhole checks that the run r succeeded and that out holds the
// whole file and nothing else: no part, no second copy.
func checkOnlyWhole(t *testing.T, r result, out string, body []byte) {
	t.Helper()
	if r.code != 0 {
		t.Errorf("the run that wrote the part: exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	got, err := os.ReadFile(filepath.Join(out, "two.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if sum(got) != sum(body) {
		t.Errorf("two.bin: %d bytes, sha256 %s; want %d bytes, sha256 %s", len(got), sum(got), len(body), sum(body))
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"two.bin"}) {
		t.Errorf("the output directory holds %v, want only two.bin", names)
	}
}

// TestEndToEndSkipRemovesStalePart: a run killed while --on-exists
// overwrite replaced a file leaves the new file's part and sidecar beside
// the old file. The next run with the default --on-exists skip keeps the
// file and, as no other process holds that part and its sidecar names the
// item's own URL, removes them, saying so; before, they stayed for ever.
// A part without a sidecar is not known to be the item's, and is left
// alone; so is a part another run is writing.
func TestEndToEndSkipRemovesStalePart(t *testing.T) {
	srv := newSlowServer(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	url := srv.URL + "/two.bin"
	overwrite := startFetchpool(t, dir, "-o", "out", "--no-progress", "--on-exists", "overwrite", url)
	srv.await(t)
	part := filepath.Join(out, "two.bin.part")
	waitForPart(t, part, overwrite)
	os.WriteFile(filepath.Join(out, "two.bin"), []byte("old"), 0o644)

	// While the overwrite runs, its part is not stale: left alone.
	r := fetchpool(t, dir, "", "-o", "out", "--json", url)
	if r.code != 0 || !strings.Contains(r.stdout, `"reason":"exists; two.bin.part is kept: another process is writing it"`) {
		t.Errorf("skip beside a part being written: exit %d, want 0 saying the part is kept; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if fi, err := os.Stat(part); err != nil || fi.Size() == 0 {
		t.Fatalf("the part of the run in flight is gone or empty (%v)", err)
	}

	overwrite.cmd.Process.Kill()
	overwrite.wait()
	for _, f := range []string{part, part + ".meta"} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("the killed run left no %s: %v", f, err)
		}
	}
	// A part whose owner is not known.
	os.WriteFile(filepath.Join(out, "bare.bin"), []byte("old"), 0o644)
	os.WriteFile(filepath.Join(out, "bare.bin.part"), []byte("par"), 0o644)

	list := url + "\n" + srv.URL + "/bare.bin\n"
	r = fetchpool(t, dir, list, "-o", "out", "--no-progress", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if want := "skip out/two.bin  (exists; removed two.bin.part, left by an interrupted run)"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
	}
	if !strings.Contains(r.stdout, `"reason":"exists; removed two.bin.part, left by an interrupted run"`) {
		t.Errorf("--json does not give the removal as the reason:\n%s", r.stdout)
	}
	for _, f := range []string{part, part + ".meta", part + ".meta.tmp"} {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("%s is still there", f)
		}
	}
	for f, want := range map[string]string{"two.bin": "old", "bare.bin.part": "par"} {
		if got := readFile(t, filepath.Join(out, f)); string(got) != want {
			t.Errorf("%s holds %q, want %q", f, got, want)
		}
	}
}
