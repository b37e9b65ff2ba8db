//go:build linux

package fetch

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestDiskFullKeepsResumedPart resumes a part that an earlier run left, of
// a 3 MiB file, where it cannot be finished: on a 1 MiB tmpfs (ENOSPC),
// and in a child process whose file size limit is 1 MiB (EFBIG, as under
// prlimit --fsize). The item fails with a message that says what to do,
// and the part and its sidecar are kept, holding at least what the earlier
// run got, every byte of it right; once there is room, the next run
// resumes it instead of starting over. Both a single stream and a --split
// part (pre-allocated, its progress in the sidecar) are tried.
func TestDiskFullKeepsResumedPart(t *testing.T) {
	if os.Getenv("FETCH_KEEPPART_PATH") != "" {
		keepPartChild(t)
		return
	}
	body := payload(3<<20, 31)
	for _, room := range []string{"tmpfs", "fsize"} {
		for _, split := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s, split %d", room, split), func(t *testing.T) {
				srv := serve(t, &recorder{}, func(_ int, w http.ResponseWriter, r *http.Request) {
					newResource(body, `"big"`).ServeHTTP(w, r)
				})
				dir := t.TempDir()
				if room == "tmpfs" {
					if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
						t.Skipf("cannot mount a tmpfs (%v); needs root", err)
					}
					t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
				}
				path := filepath.Join(dir, "big")
				before := leavePart(t, path, srv.URL, body, split)

				var msg string
				if room == "tmpfs" {
					_, err := newClient(t, splitInto(split)).Fetch(context.Background(), request(srv.URL, path, nil))
					if err == nil {
						t.Fatal("3 MiB fit on a 1 MiB tmpfs")
					}
					msg = err.Error()
				} else {
					msg = fetchUnderFsizeLimit(t, path, srv.URL, split)
				}
				t.Logf("full: %s", msg)
				want := "disk full writing " + path + ".part: no space left on device; free some space and run again: the download resumes from " + path + ".part"
				if room == "fsize" {
					want = "file size limit reached writing " + path + ".part: file too large; raise the file size limit (ulimit -f) and run again: the download resumes from " + path + ".part"
				}
				if !strings.Contains(msg, want) {
					t.Errorf("message %q\ndoes not contain %q", msg, want)
				}
				checkKept(t, path, body, before)
				assertGone(t, path, path+".part.meta.tmp")

				if room == "tmpfs" { // make room
					if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, "size=8m"); err != nil {
						t.Fatalf("growing the tmpfs: %v", err)
					}
				}
				res, err := newClient(t, splitInto(split)).Fetch(context.Background(), request(srv.URL, path, nil))
				if err != nil {
					t.Fatalf("the run after making room: %v", err)
				}
				assertDone(t, path, body)
				if limit := int64(len(body) - 400<<10); res.Bytes > limit {
					t.Errorf("the run after making room got %d bytes, more than the %d missing: it started over", res.Bytes, limit)
				}
			})
		}
	}
}

// splitInto is testConfig with --split n for files over 1 KiB.
func splitInto(n int) Config {
	cfg := testConfig()
	cfg.Split, cfg.SplitMin = n, 1<<10
	return cfg
}

// leavePart leaves at path what an earlier run that got 400 KiB of body
// leaves: for one stream, the first 400 KiB and a sidecar; for a split,
// a part pre-allocated to the whole size, holding the first 400/n KiB of
// each of its n ranges, which its sidecar records. It returns the sidecar.
func leavePart(t *testing.T, path, url string, body []byte, split int) Meta {
	t.Helper()
	m := Meta{URL: url, ETag: `"big"`, LastModified: "Fri, 01 Mar 2024 12:00:00 GMT", Length: int64(len(body))}
	if split == 1 {
		writePart(t, path, body[:400<<10], &m)
		return m
	}
	m.Spans = makeSpans(int64(len(body)), split)
	f, err := os.Create(path + ".part")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range m.Spans {
		s := &m.Spans[i]
		s.Next = s.Start + 400<<10/int64(split)
		if _, err := f.WriteAt(body[s.Start:s.Next], s.Start); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(int64(len(body))); err != nil {
		t.Fatal(err)
	}
	if err := writeMeta(path+".part", m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkKept checks that the part at path and its sidecar are still there,
// describe the same resource as before, and hold at least what before
// recorded (for one stream, the part's size), all of it body's bytes.
func checkKept(t *testing.T, path string, body []byte, before Meta) {
	t.Helper()
	part, err := os.ReadFile(path + ".part")
	if err != nil {
		t.Fatalf("the part is gone: %v", err)
	}
	m, err := ReadMeta(path + ".part")
	if err != nil {
		t.Fatalf("the sidecar is gone: %v", err)
	}
	if m.URL != before.URL || m.ETag != before.ETag || m.LastModified != before.LastModified || m.Length != before.Length {
		t.Errorf("sidecar %+v, want the one of before %+v", m, before)
	}
	if len(before.Spans) == 0 {
		if len(part) < 400<<10 || !bytes.Equal(part, body[:len(part)]) {
			t.Errorf("part of %d bytes: want at least the 400 KiB it had, all of them the file's", len(part))
		}
		return
	}
	if len(part) != len(body) || !validSpans(m.Spans, int64(len(body))) || len(m.Spans) != len(before.Spans) {
		t.Fatalf("split part of %d bytes, ranges %+v: not the pre-allocated part recorded before", len(part), m.Spans)
	}
	for i, s := range m.Spans {
		if s.Next < before.Spans[i].Next {
			t.Errorf("range %d: recorded up to %d, less than the %d it had", i, s.Next, before.Spans[i].Next)
		}
		if !bytes.Equal(part[s.Start:s.Next], body[s.Start:s.Next]) {
			t.Errorf("range %d: bytes %d-%d are recorded as done but are not the file's", i, s.Start, s.Next-1)
		}
	}
}

// fetchUnderFsizeLimit fetches url into path in a child process whose file
// size limit (RLIMIT_FSIZE) is 1 MiB, and returns the error it reported.
func fetchUnderFsizeLimit(t *testing.T, path, url string, split int) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFullKeepsResumedPart$", "-test.v")
	cmd.Env = append(os.Environ(), "FETCH_KEEPPART_PATH="+path, "FETCH_KEEPPART_URL="+url,
		"FETCH_KEEPPART_SPLIT="+strconv.Itoa(split))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if msg, ok := strings.CutPrefix(line, "fetch error: "); ok {
			return msg
		}
	}
	t.Fatalf("the child reported no error:\n%s", out)
	return ""
}

// keepPartChild is the child of fetchUnderFsizeLimit.
func keepPartChild(t *testing.T) {
	lim := &syscall.Rlimit{Cur: 1 << 20, Max: 1 << 20}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, lim); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	split, _ := strconv.Atoi(os.Getenv("FETCH_KEEPPART_SPLIT"))
	req := request(os.Getenv("FETCH_KEEPPART_URL"), os.Getenv("FETCH_KEEPPART_PATH"), nil)
	_, err := newClient(t, splitInto(split)).Fetch(context.Background(), req)
	if err == nil {
		t.Fatal("3 MiB fit under a 1 MiB file size limit")
	}
	fmt.Printf("fetch error: %v\n", err)
}
