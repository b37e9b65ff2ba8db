package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// waitOpeningPipe waits until a thread of process pid is blocked opening a
// named pipe that has no writer (Linux shows wait_for_partner as its wchan).
func waitOpeningPipe(t *testing.T, p *proc) {
	t.Helper()
	waitBlocked(t, p, "opening the pipe", "wait_for_partner")
}

// waitReadingPipe waits until a thread of the process is blocked reading
// a pipe (its wchan names pipe_read, or pipe_wait on older kernels).
func waitReadingPipe(t *testing.T, p *proc) {
	t.Helper()
	waitBlocked(t, p, "reading the pipe", "pipe_read", "pipe_wait")
}

// waitBlocked waits until a thread of the process is blocked in the
// kernel in one of wchans (what /proc/PID/task/TID/wchan names), doing
// what.
func waitBlocked(t *testing.T, p *proc, what string, wchans ...string) {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for time.Now().Before(deadline) {
		tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "task", "*", "wchan"))
		for _, task := range tasks {
			b, err := os.ReadFile(task)
			if err == nil && slices.ContainsFunc(wchans, func(w string) bool { return strings.Contains(string(b), w) }) {
				return
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("fetchpool exited (code %d) before %s; stderr:\n%s", p.code, what, &p.log)
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("fetchpool was not %s within %v", what, eventually)
}

// TestSignalWhileOpeningNamedPipe: a named pipe given with -i,
// --checksums or --netrc-file that no writer opens (the producer failed to start) used to
// hang the run in open(2) before any work, deaf to Ctrl-C and to a second
// one: only kill -9 ended it. The first Ctrl-C now says so and exits 130.
func TestSignalWhileOpeningNamedPipe(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"input", []string{"-i", "pipe"}},
		{"checksums", []string{"--checksums", "pipe", "http://127.0.0.1:1/x"}},
		{"netrc", []string{"--netrc-file", "pipe", "http://127.0.0.1:1/x"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
				t.Skip("no named pipes here:", err)
			}
			p := startFetchpool(t, dir, append(tt.args, "-o", "out", "--failed", "failed.txt")...)
			waitOpeningPipe(t, p)
			p.signal(syscall.SIGINT)
			p.waitLine(`^stopping: .*pipe`)
			if r := p.wait(); r.code != exitInterrupted {
				t.Errorf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
			}
		})
	}
}

// TestEndToEndNamedPipeInput: a list from a named pipe whose writer comes
// after fetchpool started is read as any other.
func TestEndToEndNamedPipeInput(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("body of " + r.URL.Path))
	}))
	defer srv.Close()
	dir := t.TempDir()
	pipe := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Skip("no named pipes here:", err)
	}
	p := startFetchpool(t, dir, "-i", "pipe", "-o", "out")
	waitOpeningPipe(t, p)
	if err := os.WriteFile(pipe, []byte(srv.URL+"/a.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := p.wait(); r.code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if got := string(readFile(t, filepath.Join(dir, "out", "a.txt"))); got != "body of /a.txt" {
		t.Errorf("out/a.txt = %q", got)
	}
}

// TestStdoutListRefusedBeforeInputsOpen: --report - and --failed - are
// usage errors, but were found only once the -i files were open: with a
// named pipe that no writer opens, the run waited in open(2) instead of
// saying at once what was wrong with its flags.
func TestStdoutListRefusedBeforeInputsOpen(t *testing.T) {
	for _, flag := range []string{"--report", "--failed"} {
		t.Run(flag, func(t *testing.T) {
			dir := t.TempDir()
			if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
				t.Skip("no named pipes here:", err)
			}
			p := startFetchpool(t, dir, "-i", "pipe", "-o", "out", flag, "-")
			select {
			case <-p.exited:
			case <-time.After(5 * time.Second):
				t.Fatalf("fetchpool %s - still running after 5s (waiting for the pipe's writer?); stderr so far:\n%s", flag, &p.log)
			}
			if r := p.wait(); r.code != exitUsage || !strings.Contains(r.stderr, flag+" -: give a file name") {
				t.Errorf("exit %d, want %d with the usage error; stderr:\n%s", r.code, exitUsage, r.stderr)
			}
		})
	}
}

// TestSignalWhileReadingChecksums: a --checksums list whose writer does
// not end it (curl .../SHA256SUMS | fetchpool --checksums - URL, with curl
// stuck; or a named pipe its producer opened and never closed) is read
// before any work, and the read held the run, deaf to Ctrl-C and to a
// second one: only kill -9 ended it. The first Ctrl-C now says so and
// exits 130, as for a named pipe that no program opens.
func TestSignalWhileReadingChecksums(t *testing.T) {
	t.Run("standard input", func(t *testing.T) {
		dir := t.TempDir()
		p := startFetchpool(t, dir, "--checksums", "-", "-o", "out", "http://127.0.0.1:1/x")
		defer p.stdin.Close()
		waitReadingPipe(t, p)
		p.signal(syscall.SIGINT)
		p.waitLine(`^stopping: .*--checksums -`)
		if r := p.wait(); r.code != exitInterrupted {
			t.Errorf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("named pipe", func(t *testing.T) {
		dir := t.TempDir()
		pipe := filepath.Join(dir, "pipe")
		if err := syscall.Mkfifo(pipe, 0o644); err != nil {
			t.Skip("no named pipes here:", err)
		}
		p := startFetchpool(t, dir, "--checksums", "pipe", "-o", "out", "http://127.0.0.1:1/x")
		waitOpeningPipe(t, p)
		w, err := os.OpenFile(pipe, os.O_WRONLY, 0) // the producer: it opens and writes nothing
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		// Nothing tells when the run is in its read: a pipe opened so is
		// read through the poller, not in the kernel.
		time.Sleep(300 * time.Millisecond)
		p.signal(syscall.SIGINT)
		p.waitLine(`^stopping: .*--checksums pipe`)
		if r := p.wait(); r.code != exitInterrupted {
			t.Errorf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
		}
	})
}

// TestSignalWhileOpeningOutputPipe: a named pipe given as --report or
// --failed that no program opens for reading (its reader failed to start)
// held the run in open(2) before any work, deaf to Ctrl-C, to a second one
// and to SIGTERM: only kill -9 ended it. The first Ctrl-C now says so and
// exits 130, having fetched nothing, and leaves no report behind.
func TestSignalWhileOpeningOutputPipe(t *testing.T) {
	for _, flag := range []string{"--report", "--failed"} {
		t.Run(flag, func(t *testing.T) {
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
			}))
			defer srv.Close()
			dir := t.TempDir()
			if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
				t.Skip("no named pipes here:", err)
			}
			args := []string{"-o", "out", flag, "pipe", srv.URL + "/x"}
			if flag == "--failed" {
				args = append(args, "--report", "report.json") // made first
			}
			p := startFetchpool(t, dir, args...)
			waitOpeningPipe(t, p)
			p.signal(syscall.SIGINT)
			p.waitLine(`^stopping: .*` + flag + ` pipe`)
			if r := p.wait(); r.code != exitInterrupted {
				t.Errorf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
			for _, name := range []string{"report.json", "report.json.part"} {
				if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
					t.Errorf("%s left behind", name)
				}
			}
		})
	}
}
