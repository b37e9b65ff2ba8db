//go:build (unix && !aix) || windows

package fetch

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLockPart: a locked part cannot be locked again, not even from the
// same process (flock locks belong to the open file, not to the process),
// and closing another descriptor of the part keeps the lock; releasing it
// frees the part. check sees a part replaced under its name.
func TestLockPart(t *testing.T) {
	part := filepath.Join(t.TempDir(), "f.part")
	if _, err := lockPart(part, false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("locking a missing part without create: %v, want fs.ErrNotExist", err)
	}
	first, err := lockPart(part, true)
	if err != nil {
		t.Fatal(err)
	}
	defer first.release()
	if _, err := os.Stat(part); err != nil {
		t.Fatalf("create did not create the part: %v", err)
	}
	// The part's writes go through descriptors of their own.
	if f, err := openPart(part, 0); err != nil {
		t.Fatal(err)
	} else if err := closePart(f); err != nil {
		t.Fatal(err)
	}
	for _, create := range []bool{false, true} {
		_, err := lockPart(part, create)
		if !errors.Is(err, ErrPartBusy) {
			t.Fatalf("second lock (create %v): %v, want ErrPartBusy", create, err)
		}
		if want := part + " is being written by another process; not touched"; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("second lock: %q, want it to start with %q", err, want)
		}
	}
	if err := first.check(part); err != nil {
		t.Errorf("check of the locked part: %v", err)
	}

	// Something that takes no lock puts another file under the name.
	other := part + ".other"
	if err := os.WriteFile(other, []byte("not mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	replace(t, other, part)
	if err := first.check(part); !errors.Is(err, ErrPartBusy) || !strings.Contains(err.Error(), "replaced") {
		t.Errorf("check after a replacement: %v, want ErrPartBusy saying the part was replaced", err)
	}
	first.release()
	second, err := lockPart(part, false)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	second.release()
}

// heldBody serves body, sized, with an ETag and range support; the first
// request gets the first half and then waits for release (or for the
// client to go away) before the rest, or for cut to end it short.
type heldBody struct {
	*httptest.Server
	body []byte
	rc   recorder
	// release lets the first response finish; the test's end does too.
	release, cut func()
	ch, cutCh    chan struct{}
}

func newHeldBody(t *testing.T, seed uint64) *heldBody {
	h := &heldBody{body: payload(3*bufSize+7, seed), ch: make(chan struct{}), cutCh: make(chan struct{})}
	h.release = sync.OnceFunc(func() { close(h.ch) })
	h.cut = sync.OnceFunc(func() { close(h.cutCh) })
	h.Server = httptest.NewServer(h)
	t.Cleanup(h.Close)
	t.Cleanup(h.release) // runs first: Close waits for the handlers
	return h
}

func (h *heldBody) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("ETag", `"v"`)
	if h.rc.add(r) > 1 {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.body))
		return
	}
	half := len(h.body) / 2
	w.Header().Set("Content-Length", strconv.Itoa(len(h.body)))
	w.Write(h.body[:half])
	w.(http.Flusher).Flush()
	select {
	case <-h.ch:
		w.Write(h.body[half:])
	case <-h.cutCh:
	case <-r.Context().Done():
	}
}

// startHeld starts a Fetch of h's /f into path whose body stops halfway
// until h.release is called, and waits until bytes are in the part. The
// Fetch's error arrives on the returned channel.
func startHeld(t *testing.T, h *heldBody, path string) <-chan error {
	t.Helper()
	cfg := testConfig()
	cfg.StallTimeout = 0 // held as long as the test needs
	done := make(chan error, 1)
	go func() {
		_, err := newClient(t, cfg).Fetch(context.Background(), request(h.URL+"/f", path, nil))
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(path + ".part"); err == nil && fi.Size() > 0 {
			return done
		}
		select {
		case err := <-done:
			t.Fatalf("the first Fetch ended before its body was held: %v", err)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no byte reached the part")
		}
	}
}

// TestSecondClientLeavesPartAlone: while one Client writes a part, another
// one (as a second process would) fetching the same item fails at once with
// ErrPartBusy, whatever it would have done to the part (resume it, start
// it over, truncate it for a new body), and leaves the part and its
// sidecar as they were; the first one then puts the whole file in place.
func TestSecondClientLeavesPartAlone(t *testing.T) {
	tests := []struct {
		name     string
		noResume bool
		req      func(*Request)
		wantReqs int // requests the second Client sends
	}{
		{"resume", false, nil, 0},
		{"no resume", true, nil, 0},
		// As the pool asks when it found no sidecar at admission: the
		// clash shows only when the body is to be written.
		{"no sidecar looked for", false, func(r *Request) { r.NoSidecar = true }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHeldBody(t, 60)
			path := filepath.Join(t.TempDir(), "f")
			first := startHeld(t, h, path)
			meta := mustFile(t, path+".part.meta")
			before, err := os.Stat(path + ".part")
			if err != nil {
				t.Fatal(err)
			}

			cfg := testConfig()
			cfg.NoResume = tt.noResume
			req := request(h.URL+"/f", path, nil)
			if tt.req != nil {
				tt.req(&req)
			}
			res, err := newClient(t, cfg).Fetch(context.Background(), req)
			if !errors.Is(err, ErrPartBusy) {
				t.Fatalf("second Fetch: %v, want ErrPartBusy", err)
			}
			if want := path + ".part is being written by another process; not touched"; !strings.Contains(err.Error(), want) {
				t.Errorf("second Fetch: %q, want it to say %q", err, want)
			}
			if got := h.rc.count() - 1; got != tt.wantReqs || res.Attempts > 1 {
				t.Errorf("second Fetch sent %d requests in %d attempts, want %d at most in one", got, res.Attempts, tt.wantReqs)
			}
			after, err := os.Stat(path + ".part")
			if err != nil || !os.SameFile(before, after) {
				t.Fatalf("the part is not the same file after the second Fetch (%v)", err)
			}
			// The first Fetch may still add to it, but only its own bytes.
			if got := mustFile(t, path+".part"); int64(len(got)) < before.Size() || !bytes.Equal(got, h.body[:len(got)]) {
				t.Errorf("the part changed: %d bytes, was %d, not all of them the first Fetch's", len(got), before.Size())
			}
			if got := mustFile(t, path+".part.meta"); !bytes.Equal(got, meta) {
				t.Errorf("the sidecar changed: %s, was %s", got, meta)
			}
			assertGone(t, path)

			h.release()
			if err := <-first; err != nil {
				t.Fatalf("first Fetch: %v", err)
			}
			assertDone(t, path, h.body)
		})
	}
}

// TestReplacedPartIsNotRenamed: a part that something else replaced while
// the transfer wrote it (a process that takes no lock) is not moved into
// place when the body ends, nor written to by the next attempt; the file
// under the part's name is left as it is.
func TestReplacedPartIsNotRenamed(t *testing.T) {
	for _, tt := range []struct {
		name string
		then func(*heldBody)
	}{
		{"body ends", func(h *heldBody) { h.release() }},
		{"next attempt", func(h *heldBody) { h.cut() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHeldBody(t, 61)
			path := filepath.Join(t.TempDir(), "f")
			first := startHeld(t, h, path)

			other := []byte("another process's bytes")
			if err := os.WriteFile(path+".other", other, 0o644); err != nil {
				t.Fatal(err)
			}
			replace(t, path+".other", path+".part")
			tt.then(h)
			err := <-first
			if !errors.Is(err, ErrPartBusy) || !strings.Contains(err.Error(), path+".part was replaced") {
				t.Fatalf("Fetch: %v, want ErrPartBusy saying the part was replaced", err)
			}
			assertGone(t, path)
			if got := mustFile(t, path+".part"); !bytes.Equal(got, other) {
				t.Errorf("the replacing part changed: %d bytes, want the %d it had", len(got), len(other))
			}
		})
	}
}

// TestLocalCopyLeavesPartAlone: a local copy takes its part like a
// download does.
func TestLocalCopyLeavesPartAlone(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("source"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dst")
	held, err := lockPart(path+".part", true)
	if err != nil {
		t.Fatal(err)
	}
	defer held.release()
	if err := os.WriteFile(path+".part", []byte("being written"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = newClient(t, testConfig()).Fetch(context.Background(), request(src, path, nil))
	if !errors.Is(err, ErrPartBusy) {
		t.Fatalf("Fetch: %v, want ErrPartBusy", err)
	}
	assertGone(t, path)
	if got := mustFile(t, path+".part"); string(got) != "being written" {
		t.Errorf("the part holds %q, want it untouched", got)
	}
}

// BenchmarkLockPart is what a named part pays for its lock: open, flock,
// fstat and lstat as it is taken, the lstat before the rename, and the
// close that lets it go.
func BenchmarkLockPart(b *testing.B) {
	part := filepath.Join(b.TempDir(), "f.part")
	b.ReportAllocs()
	for b.Loop() {
		l, err := lockPart(part, true)
		if err != nil {
			b.Fatal(err)
		}
		if err := l.check(part); err != nil {
			b.Fatal(err)
		}
		l.release()
	}
}

// TestRemoveStalePart: the part of an item whose destination is kept is
// removed, with its sidecar, only when the sidecar names the item's URL
// and no one holds the part; a part of another URL, one without a
// sidecar, and one being written are left as they are.
func TestRemoveStalePart(t *testing.T) {
	const url = "http://example.com/f"
	tests := []struct {
		name        string
		sidecar     string // "" = none
		held        bool
		wantRemoved bool
		wantBusy    bool
	}{
		{"own URL", `{"url":"` + url + `"}`, false, true, false},
		{"own URL, being written", `{"url":"` + url + `"}`, true, false, true},
		{"another URL", `{"url":"http://example.com/g"}`, false, false, false},
		{"no sidecar", "", false, false, false},
		{"sidecar not JSON", "{", false, false, false},
		{"a directory", `{"url":"` + url + `"}`, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			part := filepath.Join(t.TempDir(), "f.part")
			if tt.name == "a directory" {
				os.Mkdir(part, 0o755)
			} else {
				os.WriteFile(part, []byte("half"), 0o644)
			}
			if tt.sidecar != "" {
				os.WriteFile(part+".meta", []byte(tt.sidecar), 0o644)
				os.WriteFile(part+".meta.tmp", []byte(tt.sidecar), 0o644)
			}
			if tt.held {
				l, err := lockPart(part, false)
				if err != nil {
					t.Fatal(err)
				}
				defer l.release()
			}
			removed, err := RemoveStalePart(part, url)
			if removed != tt.wantRemoved || errors.Is(err, ErrPartBusy) != tt.wantBusy || (err != nil) != tt.wantBusy {
				t.Fatalf("RemoveStalePart = %v, %v; want %v, busy %v", removed, err, tt.wantRemoved, tt.wantBusy)
			}
			for _, f := range []string{part, part + ".meta", part + ".meta.tmp"} {
				_, err := os.Lstat(f)
				switch {
				case tt.wantRemoved && err == nil:
					t.Errorf("%s is left", filepath.Base(f))
				case !tt.wantRemoved && (f == part || tt.sidecar != "") && err != nil:
					t.Errorf("%s is gone: %v", filepath.Base(f), err)
				}
			}
		})
	}
	// A part that is a hard link (a tree copied with cp -al) is let go by
	// lockPart, to be made anew; but one of another URL is not the item's
	// to let go.
	t.Run("another URL's part, hard-linked", func(t *testing.T) {
		dir := t.TempDir()
		part := filepath.Join(dir, "f.part")
		os.WriteFile(part, []byte("half"), 0o644)
		if err := os.Link(part, filepath.Join(dir, "snapshot")); err != nil {
			t.Skip("no hard links here:", err)
		}
		os.WriteFile(part+".meta", []byte(`{"url":"http://example.com/g"}`), 0o644)
		if removed, err := RemoveStalePart(part, url); removed || err != nil {
			t.Errorf("RemoveStalePart = %v, %v; want false, nil", removed, err)
		}
		if _, err := os.Lstat(part); err != nil {
			t.Errorf("another URL's part is gone: %v", err)
		}
	})
	if removed, err := RemoveStalePart(filepath.Join(t.TempDir(), "none.part"), url); removed || err != nil {
		t.Errorf("no part: RemoveStalePart = %v, %v; want false, nil", removed, err)
	}
	// A sidecar without its part (a run killed between removing the part
	// and its sidecar) describes nothing: the item's is removed, and no
	// part is said to be; another URL's is left alone.
	for _, tt := range []struct {
		sidecarURL string
		wantGone   bool
	}{{url, true}, {"http://example.com/g", false}} {
		part := filepath.Join(t.TempDir(), "f.part")
		os.WriteFile(part+".meta", []byte(`{"url":"`+tt.sidecarURL+`"}`), 0o644)
		os.WriteFile(part+".meta.tmp", []byte(`{"url":"`+tt.sidecarURL+`"}`), 0o644)
		if removed, err := RemoveStalePart(part, url); removed || err != nil {
			t.Errorf("sidecar of %s alone: RemoveStalePart = %v, %v; want false, nil", tt.sidecarURL, removed, err)
		}
		for _, f := range []string{part + ".meta", part + ".meta.tmp"} {
			if _, err := os.Lstat(f); (err != nil) != tt.wantGone {
				t.Errorf("sidecar of %s alone: %s gone: %v, want %v", tt.sidecarURL, filepath.Base(f), err != nil, tt.wantGone)
			}
		}
	}
}

// TestAdoptPart: the part of an item saved under another name is moved,
// with its sidecar, to the item's part only when the sidecar names the
// item's URL, no one holds the part, and nothing is at the new name; a
// sidecar of the item's alone is removed.
func TestAdoptPart(t *testing.T) {
	const url = "http://example.com/f"
	own := `{"url":"` + url + `","length":-1}`
	tests := []struct {
		name      string
		part      bool
		sidecar   string // "" = none
		held      bool
		target    bool // something is at the new name's part already
		wantMoved bool
		wantBusy  bool
	}{
		{"own URL", true, own, false, false, true, false},
		{"own URL, being written", true, own, true, false, false, true},
		{"another URL", true, `{"url":"http://example.com/g"}`, false, false, false, false},
		{"no sidecar", true, "", false, false, false, false},
		{"new name taken", true, own, false, true, false, false},
		{"sidecar alone", false, own, false, false, false, false},
		{"sidecar a symbolic link", true, own, false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			from, to := filepath.Join(dir, "f.part"), filepath.Join(dir, "f.1.part")
			if tt.part {
				os.WriteFile(from, []byte("half"), 0o644)
			}
			switch {
			case tt.name == "sidecar a symbolic link":
				os.WriteFile(filepath.Join(dir, "elsewhere"), []byte(tt.sidecar), 0o644)
				os.Symlink("elsewhere", from+".meta")
			case tt.sidecar != "":
				os.WriteFile(from+".meta", []byte(tt.sidecar), 0o644)
			}
			if tt.target {
				os.WriteFile(to, []byte("other"), 0o644)
			}
			if tt.held {
				l, err := lockPart(from, false)
				if err != nil {
					t.Fatal(err)
				}
				defer l.release()
			}
			moved, err := AdoptPart(from, to, url)
			if moved != tt.wantMoved || errors.Is(err, ErrPartBusy) != tt.wantBusy || (err != nil) != tt.wantBusy {
				t.Fatalf("AdoptPart = %v, %v; want %v, busy %v", moved, err, tt.wantMoved, tt.wantBusy)
			}
			exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }
			switch {
			case tt.wantMoved:
				if exists(from) || exists(from+".meta") {
					t.Errorf("the old part or its sidecar is left")
				}
				if b, err := os.ReadFile(to); err != nil || string(b) != "half" {
					t.Errorf("the new part holds %q (%v), want the old part's bytes", b, err)
				}
				if m, err := ReadMeta(to); err != nil || !m.For(url) {
					t.Errorf("the new part's sidecar: %+v, %v", m, err)
				}
			case !tt.part:
				if exists(from + ".meta") {
					t.Errorf("the sidecar alone is left")
				}
			default:
				if !exists(from) || (tt.sidecar != "") != exists(from+".meta") {
					t.Errorf("the old part or its sidecar was touched")
				}
				if exists(to+".meta") || tt.target != exists(to) {
					t.Errorf("something was moved to the new name")
				}
			}
		})
	}
}

// replace puts the file other under the name part, as a process that
// takes no lock would: by a rename over it, or where an open file cannot
// be replaced (Windows), by removing it first, when that can be done; the
// test is skipped where neither can.
func replace(t *testing.T, other, part string) {
	t.Helper()
	err := os.Rename(other, part)
	if err != nil && runtime.GOOS == "windows" {
		if err = os.Remove(part); err == nil {
			err = os.Rename(other, part) // fails while the removed part is still open
		}
		if err != nil {
			t.Skipf("the open part cannot be replaced here: %v", err)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}
