package pool

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/input"
)

func hexSum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestRunSkipChecksExistingFiles: with --on-exists skip, a destination that
// exists before the run and has an expected digest (from --checksums or the
// item's own "sha256") is hashed: a match is skipped as checked, a mismatch
// fails and the file is left as it is. One without a digest is skipped
// unhashed, as before.
func TestRunSkipChecksExistingFiles(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"good.bin": "good", "bad.bin": "bad", "plain.bin": "plain", "json.bin": "json"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := strings.Repeat("ab", 32)
	lines := "http://h.test/good.bin\nhttp://h.test/bad.bin\nhttp://h.test/plain.bin\n" +
		`{"url": "http://h.test/json.bin", "sha256": "` + strings.ToUpper(hexSum("json")) + `"}` + "\n"
	f := &fakeFetcher{}
	rec := &recorder{}
	err := Run(context.Background(), context.Background(),
		input.NewReader(nil, []input.Source{{Name: "list", R: strings.NewReader(lines)}}), f,
		Options{Concurrency: 2, OutputDir: dir, Emit: rec.emit,
			Checksums: map[string]string{"good.bin": hexSum("good"), "bad.bin": want}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.paths) != 0 {
		t.Errorf("fetched %v; existing files are not fetched with --on-exists skip", f.paths)
	}
	byName := map[string]*event.Result{}
	finished := map[string]event.Event{}
	rec.mu.Lock()
	for _, ev := range rec.events {
		if ev.Kind == event.Finished {
			byName[filepath.Base(ev.Output)] = ev.Result
			finished[filepath.Base(ev.Output)] = ev
		}
	}
	rec.mu.Unlock()

	for _, name := range []string{"good.bin", "json.bin"} {
		r := byName[name]
		body := strings.TrimSuffix(name, ".bin")
		if r == nil || r.Status != event.StatusSkipped || r.Err != nil || r.Reason != "exists, checksum ok" {
			t.Errorf("%s: %+v, want skipped as \"exists, checksum ok\"", name, r)
			continue
		}
		if r.SHA256 != hexSum(body) {
			t.Errorf("%s: sha256 %q, want %q", name, r.SHA256, hexSum(body))
		}
		if finished[name].Progress == nil {
			t.Errorf("%s: checked without a Started event and progress", name)
		}
	}

	bad := byName["bad.bin"]
	if bad == nil || bad.Status != event.StatusFailed {
		t.Fatalf("bad.bin: %+v, want failed", bad)
	}
	msg := bad.Err.Error()
	for _, s := range []string{filepath.Join(dir, "bad.bin"), "does not match the expected SHA-256", "got " + hexSum("bad"), "want " + want, "--on-exists overwrite"} {
		if !strings.Contains(msg, s) {
			t.Errorf("bad.bin error %q does not say %q", msg, s)
		}
	}
	var ce *fetch.ChecksumError
	if !errors.As(bad.Err, &ce) || ce.Got != hexSum("bad") || ce.Want != want {
		t.Errorf("bad.bin error %v is not the *fetch.ChecksumError of the two digests", bad.Err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "bad.bin")); err != nil || string(b) != "bad" {
		t.Errorf("bad.bin after the run: %q, %v; want it left as it is", b, err)
	}

	plain := byName["plain.bin"]
	if plain == nil || plain.Status != event.StatusSkipped || plain.Err != nil || plain.Reason != "exists" || plain.SHA256 != "" {
		t.Errorf("plain.bin: %+v, want skipped as \"exists\", not hashed", plain)
	}
	if finished["plain.bin"].Progress != nil {
		t.Error("plain.bin, with no expected digest, was handed to a worker")
	}
	if rec.count(event.Started) != 3 {
		t.Errorf("%d Started events, want the 3 checks", rec.count(event.Started))
	}
}

// TestRunSkipCheckSingleSHA256: --sha256 for a single item applies to an
// existing file too.
func TestRunSkipCheckSingleSHA256(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "one.iso"), []byte("old"), 0o644)
	rec := &recorder{}
	err := Run(context.Background(), context.Background(), input.NewReader([]string{"http://h.test/one.iso"}, nil), &fakeFetcher{},
		Options{Concurrency: 1, OutputDir: dir, SHA256: hexSum("new"), Emit: rec.emit})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.results()[event.StatusFailed]; len(got) != 1 {
		t.Fatalf("failed %d, want the existing file that does not match --sha256", len(got))
	}
}

// TestRunSkipCheckStopAndAbort: a check in progress counts as in flight: a
// graceful shutdown lets it go on, and an abort interrupts it promptly, as
// canceled. The file is a big sparse one, so that the check takes a while.
func TestRunSkipCheckStopAndAbort(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "big.iso"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 << 30); err != nil {
		t.Skip("no sparse file:", err)
	}
	f.Close()
	rec := &recorder{}
	ctx, abort := context.WithCancel(context.Background())
	defer abort()
	stop, begin := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, stop, input.NewReader([]string{"http://h.test/big.iso", "http://h.test/next.iso"}, nil), &fakeFetcher{},
			Options{Concurrency: 1, OutputDir: dir, SHA256: strings.Repeat("0", 64), Emit: rec.emit})
	}()
	var progress *event.Progress
	waitFor(t, "the check to start", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, ev := range rec.events {
			if ev.Kind == event.Started {
				progress = ev.Progress
			}
		}
		return progress != nil && progress.Done() > 0
	})
	begin()
	waitFor(t, "the Draining event", func() bool { return rec.count(event.Draining) == 1 })
	rec.mu.Lock()
	for _, ev := range rec.events {
		if ev.Kind == event.Draining && ev.InFlight != 1 {
			t.Errorf("Draining counts %d in flight, want the check", ev.InFlight)
		}
	}
	rec.mu.Unlock()
	// The check goes on after a graceful shutdown begins.
	at := progress.Done()
	waitFor(t, "the check to go on", func() bool { return progress.Done() > at })
	// (The queued item may end as not started meanwhile.)
	rec.mu.Lock()
	for _, ev := range rec.events {
		if ev.Kind == event.Finished && filepath.Base(ev.Output) == "big.iso" {
			t.Error("the check ended at the graceful shutdown")
		}
	}
	rec.mu.Unlock()
	abort()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return promptly after abort")
	}
	if progress.Done() >= progress.Total() {
		t.Fatal("the check was not interrupted: it read the whole file")
	}
	for _, r := range rec.results()[event.StatusCanceled] {
		switch base := filepath.Base(r.Output); {
		case base == "big.iso" && !errors.Is(r.Err, ErrAborted):
			t.Errorf("the check ended as %v, want aborted", r.Err)
		case base == "next.iso" && !errors.Is(r.Err, ErrNotStarted):
			t.Errorf("the queued item ended as %v, want not started", r.Err)
		}
	}
	if n := len(rec.results()[event.StatusCanceled]); n != 2 {
		t.Errorf("%d canceled, want 2", n)
	}
	if rec.count(event.Aborting) != 1 {
		t.Error("no Aborting event")
	}
}
