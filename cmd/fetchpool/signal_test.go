package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/report"
)

// Generous bounds for things that take milliseconds on an idle machine; a
// loaded CI runner with the race detector can be a hundred times slower.
const (
	eventually = 30 * time.Second
	// abortBound is how soon a second interrupt must end the process: the
	// contract says within a second.
	abortBound = time.Second
)

// modTime is the Last-Modified of everything the test servers serve, so a
// resume can send If-Range.
var modTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// holdBody is what holdServer serves for path: content(path), or 80 copies
// of it under /big/, more than the client's copy buffer holds, so that
// bytes reach the .part file while the rest is held.
func holdBody(path string) []byte {
	if strings.Contains(path, "/big/") {
		return bytes.Repeat(content(path), 80)
	}
	return content(path)
}

// holdServer serves holdBody(path) for every path, with Range support. While
// holding, a path under /hold/ sends the first half of its body, reports its
// arrival, and sends the rest only after release is closed (or never, if
// the client goes away first). Every request is recorded.
type holdServer struct {
	*httptest.Server
	holding atomic.Bool
	arrived chan string // paths of /hold/ requests, as they arrive
	release chan struct{}
	once    sync.Once

	mu       sync.Mutex
	requests []string // "PATH RANGE" of every request, in order
}

func newHoldServer(t *testing.T) *holdServer {
	t.Helper()
	s := &holdServer{arrived: make(chan string, 100), release: make(chan struct{})}
	s.holding.Store(true)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	t.Cleanup(s.unblock) // runs before Close, which waits for the handlers
	return s
}

// unblock lets every held response finish.
func (s *holdServer) unblock() { s.once.Do(func() { close(s.release) }) }

func (s *holdServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, strings.TrimSpace(r.URL.Path+" "+r.Header.Get("Range")))
	s.mu.Unlock()
	body := holdBody(r.URL.Path)
	if !strings.HasPrefix(r.URL.Path, "/hold/") || !s.holding.Load() {
		http.ServeContent(w, r, "", modTime, bytes.NewReader(body))
		return
	}
	half := len(body) / 2
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Last-Modified", modTime.Format(http.TimeFormat))
	w.Write(body[:half])
	w.(http.Flusher).Flush()
	s.arrived <- r.URL.Path
	select {
	case <-s.release:
		w.Write(body[half:])
	case <-r.Context().Done():
	}
}

// seen returns the recorded requests.
func (s *holdServer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// await waits until n /hold/ requests have arrived and returns their paths.
func (s *holdServer) await(t *testing.T, n int) []string {
	t.Helper()
	var paths []string
	deadline := time.After(eventually)
	for len(paths) < n {
		select {
		case p := <-s.arrived:
			paths = append(paths, p)
		case <-deadline:
			t.Fatalf("only %d of %d held requests arrived: %v", len(paths), n, paths)
		}
	}
	return paths
}

// proc is a running fetchpool whose stdin stays open until the test closes
// it, and whose stderr lines can be awaited one by one.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout bytes.Buffer // read only after exited
	log    lineLog
	next   int // the first stderr line waitLine has not looked at
	exited chan struct{}
	code   int
	end    time.Time // when the process was seen to exit
}

// lineLog collects lines and wakes whoever waits for the next one.
type lineLog struct {
	mu     sync.Mutex
	lines  []string
	closed bool
	wake   chan struct{}
}

func (l *lineLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
	close(l.wake)
	l.wake = make(chan struct{})
}

func (l *lineLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	close(l.wake)
	l.wake = make(chan struct{})
}

// from returns the lines from i on, whether more can come, and a channel
// closed when something changes.
func (l *lineLog) from(i int) ([]string, bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines[min(i, len(l.lines)):]), !l.closed, l.wake
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// startFetchpool starts the binary in dir with a stdin pipe and returns at
// once. The process is killed when the test ends if it is still running.
// Its environment is newCommand's: no proxies, no NO_COLOR, and no second
// of waiting that the race detector adds at exit.
func startFetchpool(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	return startCommand(t, newCommand(dir, args...))
}

// startCommand starts cmd, a run of the binary (perhaps through another
// command), as startFetchpool does.
func startCommand(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{t: t, cmd: cmd, exited: make(chan struct{}), log: lineLog{wake: make(chan struct{})}}
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = &p.stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			p.log.add(sc.Text())
		}
		io.Copy(io.Discard, stderr)
		err := cmd.Wait()
		p.end = time.Now()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			p.code = ee.ExitCode() // -1 when killed by a signal
		case err != nil:
			p.code = -2
		}
		p.log.close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// write sends lines to the process's stdin.
func (p *proc) write(lines ...string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, strings.Join(lines, "\n")+"\n"); err != nil {
		p.t.Fatalf("writing to stdin: %v", err)
	}
}

// signal sends sig to the process.
func (p *proc) signal(sig syscall.Signal) time.Time {
	p.t.Helper()
	if err := kill(p.cmd.Process.Pid, sig); err != nil {
		p.t.Fatalf("kill %v: %v", sig, err)
	}
	return time.Now()
}

// waitLine waits for a stderr line matching re, after the lines already
// waited for, and returns it.
func (p *proc) waitLine(re string) string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(eventually)
	for {
		lines, open, wake := p.log.from(p.next)
		for i, l := range lines {
			if rx.MatchString(l) {
				p.next += i + 1
				return l
			}
		}
		if !open {
			p.t.Fatalf("fetchpool exited (code %d) without a stderr line matching %q; stderr:\n%s", p.code, re, &p.log)
		}
		select {
		case <-wake:
		case <-deadline:
			p.t.Fatalf("no stderr line matching %q after %v; stderr so far:\n%s", re, eventually, &p.log)
		}
	}
}

// wait waits for the process to exit and returns what it left.
func (p *proc) wait() result {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(eventually):
		p.t.Fatalf("fetchpool still running after %v; stderr so far:\n%s", eventually, &p.log)
	}
	return result{code: p.code, stdout: p.stdout.String(), stderr: p.log.String()}
}

// reportFile is the part of a --report document the tests read.
type reportFile struct {
	Summary struct {
		Done, Skipped, Failed int
		NotStarted            int `json:"not_started"`
		Canceled              int
		// UnreadInput is there when the input was not read to its end.
		UnreadInput *struct{ After, Reason string } `json:"unread_input"`
	}
	Items []struct {
		URL, Output, Status, Error string
	}
}

func readReport(t *testing.T, path string) reportFile {
	t.Helper()
	var r reportFile
	if err := json.Unmarshal(readFile(t, path), &r); err != nil {
		t.Fatalf("--report is not JSON: %v", err)
	}
	return r
}

// readLines returns the non-empty lines of a file.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	var lines []string
	for l := range strings.Lines(string(readFile(t, path))) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// failedItems is the items of a --failed list: its lines but the comments
// (an interrupted run ends the list with one about the unread input).
func failedItems(t *testing.T, path string) []string {
	t.Helper()
	var items []string
	for _, l := range readLines(t, path) {
		if !strings.HasPrefix(l, "#") {
			items = append(items, l)
		}
	}
	return items
}

// noParts fails if any .part file or sidecar is left under dir.
func noParts(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".part") {
			t.Errorf("leftover partial file %s", path)
		}
		return nil
	})
}

var (
	notStartedRx   = regexp.MustCompile(`not started (\d+)`)
	unreadRx       = regexp.MustCompile(`\nthe rest of the input \(after -:\d+\) was not read: to finish the list, run it again \(finished files are skipped\)\n*$`)
	failedUnreadRx = regexp.MustCompile(`^# interrupted: the rest of the input \(after -:\d+\) was not read; to finish the list, run the whole list again \(finished files are skipped\)$`)
)

// TestSignalGracefulShutdown: the first SIGINT, SIGTERM or SIGHUP (the ssh
// session that ran it dropped) says at once that shutdown began and for how
// many transfers it waits, reads no more input (stdin stays open and later
// lines are never fetched), starts nothing new, lets the transfers in flight
// finish, lists the queued items as not started in the summary, --failed
// and --report, and exits 130.
func TestSignalGracefulShutdown(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			srv := newHoldServer(t)
			dir := t.TempDir()
			p := startFetchpool(t, dir, "-j", "2", "-o", "out", "--no-progress",
				"--failed", "failed.txt", "--report", "report.json")
			queued := []string{srv.URL + "/q/c.bin", srv.URL + "/q/d.bin", srv.URL + "/q/e.bin"}
			p.write(append([]string{srv.URL + "/hold/a.bin", srv.URL + "/hold/b.bin"}, queued...)...)
			srv.await(t, 2)

			p.signal(sig)
			p.waitLine(`^stopping: waiting for 2 transfers in flight`)
			// Input after the signal is never read: the process will exit
			// with its stdin still open, and never asks for this URL.
			p.write(srv.URL + "/q/late.bin")
			select {
			case <-p.exited:
				t.Fatalf("exited before the transfers in flight finished; stderr:\n%s", &p.log)
			default:
			}
			srv.unblock()
			r := p.wait()

			if r.code != exitInterrupted {
				t.Fatalf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
			}
			for _, name := range []string{"a.bin", "b.bin"} {
				if got := readFile(t, filepath.Join(dir, "out", name)); !bytes.Equal(got, content("/hold/"+name)) {
					t.Errorf("%s: the transfer in flight did not finish whole (%d bytes)", name, len(got))
				}
			}
			noParts(t, filepath.Join(dir, "out"))
			for _, req := range srv.seen() {
				if !strings.HasPrefix(req, "/hold/") {
					t.Errorf("a transfer started after the signal: %s", req)
				}
			}
			m := notStartedRx.FindStringSubmatch(r.stderr)
			if m == nil || !strings.Contains(r.stderr, "done 2") {
				t.Fatalf("summary does not say done 2 and not started N:\n%s", r.stderr)
			}
			// stdin is still open: what it holds next is nowhere else.
			if !unreadRx.MatchString(r.stderr) {
				t.Errorf("stderr does not end by saying where the input was left unread:\n%s", r.stderr)
			}
			notStarted, _ := strconv.Atoi(m[1])
			// The queue holds -j items, so at least one of the three was
			// admitted before the signal.
			if notStarted < 1 || notStarted > len(queued) {
				t.Errorf("not started %d, want 1..%d", notStarted, len(queued))
			}
			// --failed ends with a comment that says the same (reading
			// it again ignores the comment).
			failed := readLines(t, filepath.Join(dir, "failed.txt"))
			if n := len(failed); n == 0 || !failedUnreadRx.MatchString(failed[n-1]) {
				t.Errorf("--failed does not end by saying where the input was left unread: %q", failed)
			} else {
				failed = failed[:n-1]
			}
			if len(failed) != notStarted {
				t.Errorf("--failed lists %d items, want the %d not started: %q", len(failed), notStarted, failed)
			}
			for _, l := range failed {
				if !slices.Contains(queued, l) {
					t.Errorf("--failed lists %q, which was not queued", l)
				}
			}
			rep := readReport(t, filepath.Join(dir, "report.json"))
			if rep.Summary.Done != 2 || rep.Summary.NotStarted != notStarted {
				t.Errorf("report summary %+v, want done 2, not_started %d", rep.Summary, notStarted)
			}
			canceled := 0
			for _, it := range rep.Items {
				if it.Status == "canceled" {
					canceled++
					if !slices.Contains(queued, it.URL) {
						t.Errorf("report: canceled item %q was not queued", it.URL)
					}
				}
			}
			if canceled != notStarted {
				t.Errorf("report lists %d canceled items, want %d", canceled, notStarted)
			}
		})
	}
}

// TestSignalHangupIgnoredUnderNohup: a SIGHUP that was ignored when
// fetchpool started (nohup fetchpool ...) stays ignored: the transfer goes
// on, and a SIGTERM after it is the first signal, not the second, so it
// lets the transfer finish instead of aborting it.
func TestSignalHangupIgnoredUnderNohup(t *testing.T) {
	srv := newHoldServer(t)
	dir := t.TempDir()
	// As nohup starts it: with SIGHUP ignored, which exec passes on.
	cmd := newCommand(dir, "-o", "out", "--no-progress", srv.URL+"/hold/a.bin")
	cmd.Args = append([]string{"sh", "-c", `trap '' HUP; exec "$0" "$@"`}, cmd.Args...)
	cmd.Path = "/bin/sh"
	p := startCommand(t, cmd)
	srv.await(t, 1)
	p.signal(syscall.SIGHUP)
	p.signal(syscall.SIGTERM)
	p.waitLine(`^stopping: waiting for 1 transfer`)
	finishesWhole(t, p, srv, dir)
}

// finishesWhole lets srv send the held a.bin, and checks that the run then
// ends with exit 130, a.bin whole in dir/out: a shutdown, not an abort.
func finishesWhole(t *testing.T, p *proc, srv *holdServer, dir string) {
	t.Helper()
	srv.unblock()
	r := p.wait()
	if r.code != exitInterrupted || strings.Contains(r.stderr, "aborting") || strings.Contains(r.stderr, "interrupted a second time") {
		t.Fatalf("exit %d, want 130 after the transfer finished; stderr:\n%s", r.code, r.stderr)
	}
	if got := readFile(t, filepath.Join(dir, "out", "a.bin")); !bytes.Equal(got, content("/hold/a.bin")) {
		t.Errorf("a.bin: the transfer did not finish whole (%d bytes)", len(got))
	}
}

// TestSignalHangupTwiceFinishesTransfers: a terminal that goes away sends
// SIGHUP twice, from the kernel and from the shell that passes it on to its
// jobs. The second one counted as a second Ctrl-C and aborted the
// transfers in flight; it is the same hangup, and they finish. A SIGINT
// after it still aborts.
func TestSignalHangupTwiceFinishesTransfers(t *testing.T) {
	for _, abort := range []bool{false, true} {
		t.Run(fmt.Sprintf("then SIGINT %v", abort), func(t *testing.T) {
			srv := newHoldServer(t)
			dir := t.TempDir()
			p := startFetchpool(t, dir, "-o", "out", "--no-progress", srv.URL+"/hold/a.bin")
			srv.await(t, 1)
			p.signal(syscall.SIGHUP)
			p.waitLine(`^stopping: waiting for 1 transfer`)
			p.signal(syscall.SIGHUP)
			if abort {
				p.signal(syscall.SIGINT)
				r := p.wait()
				if r.code != exitInterrupted || !strings.Contains(r.stderr, "interrupted a second time") {
					t.Fatalf("exit %d, want 130 and the transfer aborted; stderr:\n%s", r.code, r.stderr)
				}
				return
			}
			time.Sleep(300 * time.Millisecond) // time for the second SIGHUP to be taken
			finishesWhole(t, p, srv, dir)
		})
	}
}

// TestSignalShutdownWithNothingInFlight: a signal while the input is idle
// (stdin open, nothing to read) ends the run at once with exit 130.
func TestSignalShutdownWithNothingInFlight(t *testing.T) {
	srv := newHoldServer(t)
	dir := t.TempDir()
	p := startFetchpool(t, dir, "-o", "out", "--no-progress")
	p.write(srv.URL + "/q/a.bin")
	p.waitLine(`^ok .*a\.bin`)
	p.signal(syscall.SIGINT)
	p.waitLine(`^stopping: no transfers in flight`)
	r := p.wait()
	if r.code != exitInterrupted {
		t.Fatalf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "done 1, skipped 0, failed 0, not started 0") {
		t.Errorf("summary missing or wrong:\n%s", r.stderr)
	}
}

// TestSignalSecondInterruptAborts: a second SIGINT aborts the transfers in
// flight within a second, keeps their .part files (with the bytes
// received) and sidecars, reports them as canceled in the summary and
// --failed, and exits 130; a later run resumes each part from where it
// ended and gets the right bytes.
func TestSignalSecondInterruptAborts(t *testing.T) {
	srv := newHoldServer(t)
	dir := t.TempDir()
	urls := []string{srv.URL + "/hold/big/a.bin", srv.URL + "/hold/big/b.bin"}
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	p := startFetchpool(t, dir, "-j", "2", "-o", "out", "--no-progress", "--failed", "failed.txt")
	p.write(urls...)
	srv.await(t, 2)
	for _, name := range []string{"a.bin", "b.bin"} {
		waitSize(t, out, name+".part", 1) // bytes flow into the part
	}

	p.signal(syscall.SIGINT)
	p.waitLine(`^stopping: waiting for 2 transfers`)
	sent := p.signal(syscall.SIGINT)
	r := p.wait()
	if took := p.end.Sub(sent); took > abortBound {
		t.Errorf("the second interrupt took %v to end the run, want at most %v", took, abortBound)
	}
	if r.code != exitInterrupted {
		t.Fatalf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"aborting 2 transfers in flight", "done 0", "canceled 2"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
		}
	}
	if a, c := strings.Index(r.stderr, "aborting"), strings.Index(r.stderr, "CANCEL"); a < 0 || c < a {
		t.Errorf("the aborting line does not come before the canceled items:\n%s", r.stderr)
	}
	for _, u := range urls {
		want := "CANCEL -:" + strconv.Itoa(slices.Index(urls, u)+1) + " " + u + ": aborted: interrupted a second time, out/" + path.Base(u) + ".part kept for a resume\n"
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if failed := failedItems(t, filepath.Join(dir, "failed.txt")); !slices.Equal(sorted(failed), urls) {
		t.Errorf("--failed = %q, want the aborted %q", failed, urls)
	}
	kept := map[string]int{}
	for _, name := range []string{"a.bin", "b.bin"} {
		path := filepath.Join(dir, "out", name)
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%s exists under its final name after an abort", name)
		}
		part := readFile(t, path+".part")
		whole := holdBody("/hold/big/" + name)
		if len(part) == 0 || len(part) > len(whole)/2 || !bytes.Equal(part, whole[:len(part)]) {
			t.Errorf("%s.part holds %d bytes, want the bytes received, up to %d", name, len(part), len(whole)/2)
		}
		kept[name] = len(part)
		if _, err := os.Stat(path + ".part.meta"); err != nil {
			t.Errorf("the sidecar of %s.part is gone: %v", name, err)
		}
	}

	// The later run resumes each part where it ended.
	srv.holding.Store(false)
	r = fetchpool(t, dir, "", "-o", "out", "-i", "failed.txt")
	if r.code != 0 {
		t.Fatalf("resume run: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	for _, name := range []string{"a.bin", "b.bin"} {
		whole := holdBody("/hold/big/" + name)
		if got := readFile(t, filepath.Join(dir, "out", name)); !bytes.Equal(got, whole) {
			t.Errorf("%s after resume: %d bytes, not the resource", name, len(got))
		}
		want := "/hold/big/" + name + " bytes=" + strconv.Itoa(kept[name]) + "-"
		if !slices.Contains(srv.seen(), want) {
			t.Errorf("no resume request %q; requests: %q", want, srv.seen())
		}
	}
	noParts(t, filepath.Join(dir, "out"))
}

// TestSignalShutdownOnTerminal: on a terminal, the shutdown line appears at
// once, while the transfer is still in flight.
func TestSignalShutdownOnTerminal(t *testing.T) {
	srv := newHoldServer(t)
	dir := t.TempDir()
	term, shown := startOnTerminal(t, dir, "stopping: waiting for 1 transfer", "-o", "out", srv.URL+"/hold/a.bin")

	srv.await(t, 1)
	term.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-shown:
	case <-time.After(eventually):
		t.Fatalf("no shutdown line on the terminal; screen:\n%q", term.screen.String())
	}
	srv.unblock()
	term.waitInterrupted(t)
	if got := readFile(t, filepath.Join(dir, "out", "a.bin")); !bytes.Equal(got, content("/hold/a.bin")) {
		t.Errorf("the transfer in flight did not finish whole")
	}
}

// TestSignalShutdownBarOnTerminal: after the first Ctrl-C, the items that
// will never start are canceled, and the overall bar does not count them as
// done: with one transfer still in flight and nothing completed, it shows
// 0/N, not the canceled items as finished.
func TestSignalShutdownBarOnTerminal(t *testing.T) {
	srv := newHoldServer(t)
	dir := t.TempDir()
	// The status line of a frame drawn once the queued items are canceled.
	const stopped = "stopping · queued 0 · in flight 1 · done 0"
	term, shown := startOnTerminal(t, dir, stopped, "-j", "1", "-o", "out", srv.URL+"/hold/a.bin",
		srv.URL+"/q/b.bin", srv.URL+"/q/c.bin", srv.URL+"/q/d.bin", srv.URL+"/q/e.bin")

	srv.await(t, 1)
	term.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-shown:
	case <-time.After(eventually):
		t.Fatalf("no frame with %q on the terminal; screen:\n%q", stopped, term.screen.String())
	}
	out := term.screen.String()
	frame := out[:strings.Index(out, stopped)]
	frame = frame[strings.LastIndex(frame, "\x1b[J")+len("\x1b[J"):] // from where the block was last erased
	// The count after the overall bar: "|  0/3  5.9 KiB".
	counts := regexp.MustCompile(`\|\s+(\d+)/(\d+)\s`).FindStringSubmatch(frame)
	if counts == nil {
		t.Fatalf("no overall count in the frame:\n%q", frame)
	}
	if total, _ := strconv.Atoi(counts[2]); counts[1] != "0" || total < 2 {
		t.Errorf("overall bar counts %s/%s after the first Ctrl-C, want 0 of at least 2: the canceled items are not done; frame:\n%q",
			counts[1], counts[2], frame)
	}
	srv.unblock()
	term.waitInterrupted(t)
}

// terminalRun is the binary running on a pseudo-terminal of 40×120 rows
// and columns, with what it draws read into screen.
type terminalRun struct {
	cmd     *exec.Cmd
	screen  *safeBuffer
	exited  chan struct{}
	waitErr error
}

// startOnTerminal starts the binary in dir with args on a new
// pseudo-terminal; shown is closed once the screen shows want. The test is
// skipped where there is no pseudo-terminal.
func startOnTerminal(t *testing.T, dir, want string, args ...string) (run *terminalRun, shown <-chan struct{}) {
	t.Helper()
	ptmx, tty, err := openTerminal(40, 120)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	run = &terminalRun{cmd: exec.Command(binary, args...), screen: &safeBuffer{}, exited: make(chan struct{})}
	run.cmd.Dir = dir
	run.cmd.Env = append(testEnv(), "NO_COLOR=1")
	run.cmd.Stdin, run.cmd.Stdout, run.cmd.Stderr = tty, tty, tty
	if err := run.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	go func() {
		run.waitErr = run.cmd.Wait()
		close(run.exited)
	}()
	t.Cleanup(func() {
		run.cmd.Process.Kill()
		<-run.exited
	})
	shown = run.screen.when(want)
	go io.Copy(run.screen, ptmx)
	return run, shown
}

// waitInterrupted fails the test unless the run ends soon with exit 130.
func (r *terminalRun) waitInterrupted(t *testing.T) {
	t.Helper()
	select {
	case <-r.exited:
		var ee *exec.ExitError
		if !errors.As(r.waitErr, &ee) || ee.ExitCode() != exitInterrupted {
			t.Fatalf("exit %v, want 130; screen:\n%q", r.waitErr, r.screen.String())
		}
	case <-time.After(eventually):
		t.Fatalf("still running; screen:\n%q", r.screen.String())
	}
}

// safeBuffer is a bytes.Buffer for one writer and other reader goroutines,
// that tells when some text has been written.
type safeBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	want  string
	found chan struct{}
}

// when returns a channel closed once s has been written to the buffer.
func (s *safeBuffer) when(text string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.want, s.found = text, make(chan struct{})
	return s.found
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	if s.found != nil && s.want != "" && strings.Contains(s.b.String(), s.want) {
		close(s.found)
		s.want = ""
	}
	return n, err
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestSignalNothingStartsAfterShutdown: an item that still waits for its
// first request (taken by a worker but waiting for the request rate, or set
// aside until its host has a free slot) sends nothing once a shutdown
// begins: it ends as canceled at once, and the run ends when the transfer
// in flight does. -v never says "try 1" for it: nothing was sent. So it is
// for a split that an earlier run left half-done, whose ranges all wait
// for the request rate: they waited a minute each, and were sent after
// the shutdown had begun.
func TestSignalNothingStartsAfterShutdown(t *testing.T) {
	for _, tt := range []struct {
		name  string
		args  []string
		split bool // the waiting item resumes a split part
	}{
		{"waiting for the request rate", []string{"--rate", "1/m"}, false},
		{"waiting for a slot of its host", []string{"--per-host", "1"}, false},
		{"a split resumed, waiting for the request rate", []string{"--rate", "1/m", "--split", "4", "--split-min", "1M"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newHoldServer(t)
			dir := t.TempDir()
			args := append([]string{"-j", "2", "-o", "out", "--no-progress", "-v", "--failed", "failed.txt"}, tt.args...)
			waiting := srv.URL + "/q/b.bin"
			part := filepath.Join(dir, "out", "b.bin.part")
			if tt.split {
				halfSplitPart(t, part, waiting, 4<<20)
			}
			p := startFetchpool(t, dir, args...)
			p.write(srv.URL + "/hold/a.bin")
			srv.await(t, 1)
			p.write(waiting)
			// Read, and taken by a worker that waits at the gate (--rate) or
			// set aside (--per-host): nothing to see either way.
			time.Sleep(time.Second)
			p.signal(syscall.SIGINT)
			// The one at the gate is withdrawn, not waited for.
			p.waitLine(`^stopping: waiting for 1 transfer in flight`)
			p.waitLine(`^CANCEL -:2 ` + regexp.QuoteMeta(waiting) + `: not started`)
			srv.unblock()
			r := p.wait()
			if r.code != exitInterrupted {
				t.Fatalf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "done 1, skipped 0, failed 0, not started 1 ·") {
				t.Errorf("summary wrong:\n%s", r.stderr)
			}
			inFlight := "/hold/a.bin"
			if tt.split {
				inFlight += " bytes=0-" // the split's probe
			}
			if got := srv.seen(); !slices.Equal(got, []string{inFlight}) {
				t.Errorf("requests %q, want only the one in flight before the signal", got)
			}
			if strings.Contains(r.stderr, "try 1 "+waiting+"\n") {
				t.Errorf("-v says %q for the item that sent nothing:\n%s", "try 1 "+waiting, r.stderr)
			}
			checkFile(t, dir, "a.bin", "/hold/a.bin")
			if failed := failedItems(t, filepath.Join(dir, "failed.txt")); !slices.Equal(failed, []string{waiting}) {
				t.Errorf("--failed = %q, want %q", failed, waiting)
			}
			if tt.split {
				if fi, err := os.Stat(part); err != nil || fi.Size() != 4<<20 {
					t.Errorf("the split part is not kept for a resume: %v", err)
				}
			}
		})
	}
}

// halfSplitPart leaves at part what an earlier run of --split 4 left of a
// file of size bytes at url: the part, its full size, and a sidecar that
// says each range got half-way. (Its bytes are zeros: nothing reads them.)
func halfSplitPart(t *testing.T, part, url string, size int64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(part), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(part, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	type span struct {
		Start int64 `json:"start"`
		End   int64 `json:"end"`
		Next  int64 `json:"next"`
	}
	var spans []span
	for i := range int64(4) {
		start := i * size / 4
		spans = append(spans, span{start, start + size/4, start + size/8})
	}
	meta, err := json.Marshal(map[string]any{"url": url, "etag": `"v1"`, "length": size, "spans": spans})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(part+".meta", meta, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSignalDrainBoundedByTimeouts: a transfer in flight that stalls does
// not hold a graceful shutdown forever: its stall timeout still ends it.
func TestSignalDrainBoundedByTimeouts(t *testing.T) {
	srv := newFaultServer(t)
	dir := t.TempDir()
	stalled := srv.URL + "/stall/99/s.bin"
	p := startFetchpool(t, dir, "-o", "out", "--no-progress", "--retries", "0", "--stall-timeout", "1s")
	p.write(stalled)
	srv.await(t) // the request is out; the server stalls
	sent := p.signal(syscall.SIGINT)
	p.waitLine(`^stopping: waiting for 1 transfer`)
	r := p.wait()
	if r.code != exitInterrupted {
		t.Fatalf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
	}
	if took := p.end.Sub(sent); took > 10*time.Second {
		t.Errorf("the shutdown took %v with a 1s stall timeout", took)
	}
	if !strings.Contains(r.stderr, "FAIL -:1 "+stalled+": no data received for 1s (--stall-timeout)") {
		t.Errorf("the stalled transfer did not end by its stall timeout:\n%s", r.stderr)
	}
}

// TestSignalNoRetryAfterShutdown: a shutdown starts no new attempt. A
// transfer waiting to retry ends at once instead of sleeping out its
// backoff, and one whose attempt fails after the signal is not retried;
// both are canceled (and listed in --failed), with the reason of their
// last attempt, and a part worth resuming is kept.
func TestSignalNoRetryAfterShutdown(t *testing.T) {
	for _, tt := range []struct {
		name string
		path string
		args []string
		// ready waits until the transfer is where the signal should find it.
		ready func(*testing.T, *proc, *faultServer, string)
		want  string // the CANCEL line's reason, a regexp
		part  bool   // whether a .part is kept
		// stopping is the stop line, a regexp: a transfer waiting to
		// retry is not one the shutdown waits for.
		stopping string
	}{
		{
			name: "waiting to retry",
			path: "/status/99/a.bin",
			args: []string{"--retry-wait", "1m"},
			ready: func(t *testing.T, p *proc, _ *faultServer, url string) {
				p.waitLine(`^retry ` + regexp.QuoteMeta(url) + ` in `)
			},
			want:     `HTTP 503 Service Unavailable; not retried: stopping$`,
			stopping: `^stopping: no transfers in flight; not starting any more$`,
		},
		{
			name: "failing after the signal",
			path: "/stall/99/s.bin",
			args: []string{"--retry-wait", "1ms", "--stall-timeout", "1s"},
			ready: func(t *testing.T, _ *proc, s *faultServer, _ string) {
				s.await(t)
			},
			want:     `no data received for 1s \(--stall-timeout\); not retried: stopping, out/s\.bin\.part kept for a resume$`,
			part:     true,
			stopping: `^stopping: waiting for 1 transfer in flight`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFaultServer(t)
			dir := t.TempDir()
			url := srv.URL + tt.path
			args := append([]string{"-o", "out", "--no-progress", "-v", "--retries", "3", "--failed", "failed.txt"}, tt.args...)
			p := startFetchpool(t, dir, args...)
			p.write(url)
			tt.ready(t, p, srv, url)
			sent := p.signal(syscall.SIGINT)
			p.waitLine(tt.stopping)
			p.waitLine(`^CANCEL -:1 ` + regexp.QuoteMeta(url) + `: ` + tt.want)
			r := p.wait()
			if r.code != exitInterrupted {
				t.Fatalf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
			}
			if took := p.end.Sub(sent); took > 10*time.Second {
				t.Errorf("the shutdown took %v", took)
			}
			if n := len(srv.ranges(tt.path)); n != 1 {
				t.Errorf("%d requests for %s, want 1: no retry after the signal", n, tt.path)
			}
			if failed := failedItems(t, filepath.Join(dir, "failed.txt")); !slices.Equal(failed, []string{url}) {
				t.Errorf("--failed = %q, want %q", failed, url)
			}
			_, err := os.Stat(filepath.Join(dir, "out", path.Base(tt.path)+".part"))
			if kept := err == nil; kept != tt.part {
				t.Errorf(".part kept = %v, want %v", kept, tt.part)
			}
		})
	}
}

// TestSignalAbortBeforeAnyByte: a transfer aborted before a byte arrived
// has no .part, and its line does not claim one.
func TestSignalAbortBeforeAnyByte(t *testing.T) {
	srv := newFaultServer(t)
	dir := t.TempDir()
	url := srv.URL + "/mute/99/m.bin"
	p := startFetchpool(t, dir, "-o", "out", "--no-progress")
	p.write(url)
	srv.await(t) // the request is out; the server says nothing
	p.signal(syscall.SIGINT)
	p.waitLine(`^stopping: waiting for 1 transfer`)
	p.signal(syscall.SIGINT)
	r := p.wait()
	if r.code != exitInterrupted {
		t.Fatalf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
	}
	if want := "CANCEL -:1 " + url + ": aborted: interrupted a second time\n"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	if strings.Contains(r.stderr, "context canceled") {
		t.Errorf("stderr speaks Go:\n%s", r.stderr)
	}
	noParts(t, filepath.Join(dir, "out"))
}

// TestSignalInputReadToTheEnd: when the whole input was read before the
// signal, nothing is said about unread input.
func TestSignalInputReadToTheEnd(t *testing.T) {
	srv := newHoldServer(t)
	dir := t.TempDir()
	p := startFetchpool(t, dir, "-o", "out", "--no-progress", srv.URL+"/hold/a.bin")
	srv.await(t, 1)
	p.signal(syscall.SIGINT)
	p.waitLine(`^stopping: waiting for 1 transfer`)
	srv.unblock()
	r := p.wait()
	if r.code != exitInterrupted || !strings.Contains(r.stderr, "done 1,") {
		t.Fatalf("exit %d, want 130 with done 1; stderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "not read") {
		t.Errorf("stderr speaks of unread input, though the arguments were all read:\n%s", r.stderr)
	}
}

// TestSignalLastLineTakenIsTheEnd: the input was read up to its last line
// but the run had not yet seen that nothing follows (the queue was full)
// when the signal came: nothing is left to read, so nothing is said about
// unread input ("the rest of the input (after urls.txt:8) was not read: to
// finish the list, run it again" sent people to run a list that had no
// rest), and --failed lists only what did not finish.
func TestSignalLastLineTakenIsTheEnd(t *testing.T) {
	srv := newHoldServer(t)
	dir := t.TempDir()
	var list strings.Builder
	for i := 1; i <= 8; i++ {
		dirName := "/hold/" // the three workers are held by the first three
		if i > 3 {
			dirName = "/"
		}
		fmt.Fprintf(&list, "%s%sf%d.bin\n", srv.URL, dirName, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "urls.txt"), []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startFetchpool(t, dir, "-o", "out", "--no-progress", "-j", "3", "--failed", "left.txt", "-i", "urls.txt")
	srv.await(t, 3)
	// The workers are held, the queue is full, and the reader has taken
	// the last line, f8.bin: the end of the input is behind it. Nothing
	// marks that moment; give the reader a moment to get there.
	time.Sleep(300 * time.Millisecond)
	p.signal(syscall.SIGINT)
	p.waitLine(`^stopping: waiting for 3 transfers`)
	srv.unblock()
	r := p.wait()
	if r.code != exitInterrupted || !strings.Contains(r.stderr, "done 3,") {
		t.Fatalf("exit %d, want 130 with done 3; stderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "after urls.txt:8") {
		t.Errorf("stderr speaks of input unread after the last line:\n%s", r.stderr)
	}
	left := readFile(t, filepath.Join(dir, "left.txt"))
	if strings.Contains(string(left), "not read") || strings.Count(string(left), "http") != 5 {
		t.Errorf("left.txt should list f4.bin to f8.bin and nothing about unread input:\n%s", left)
	}
}

// TestSignalEveryLineReadIsAccounted: after the first interrupt, every
// line of the input up to the one the run names as the last it read ("the
// rest of the input (after urls.txt:L) was not read") is in the report,
// --json and --failed exactly once: the transfers in flight as done, every
// other line as canceled, not started. None is lost between being read and
// being queued (the reader holds the next line while the queue is full), and
// none is told of twice. The failed list, with the lines after L, is what is
// left to do.
func TestSignalEveryLineReadIsAccounted(t *testing.T) {
	const lines = 12
	for _, tt := range []struct {
		name     string
		args     []string
		inFlight int
		// mayReadAll: the whole input may be read before the interrupt.
		mayReadAll bool
	}{
		{"-j 1", []string{"-j", "1"}, 1, false},
		{"-j 2", []string{"-j", "2"}, 2, false},
		{"-j 4", []string{"-j", "4"}, 4, false},
		// The rest wait aside for their host, which is at its cap; the
		// workers go on reading.
		{"-j 2 --per-host 1", []string{"-j", "2", "--per-host", "1"}, 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newHoldServer(t)
			dir := t.TempDir()
			var list []string
			for i := 1; i <= lines; i++ {
				dirName := "q"
				if i <= tt.inFlight {
					dirName = "hold"
				}
				list = append(list, srv.URL+"/"+dirName+"/f"+strconv.Itoa(i)+".bin")
			}
			if err := os.WriteFile(filepath.Join(dir, "urls.txt"), []byte(strings.Join(list, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"-i", "urls.txt", "-o", "out", "--no-progress",
				"--json", "--report", "report.json", "--failed", "failed.txt"}, tt.args...)
			p := startFetchpool(t, dir, args...)
			srv.await(t, tt.inFlight)
			p.signal(syscall.SIGINT)
			p.waitLine(`^stopping: waiting for \d+ transfers? in flight`)
			srv.unblock()
			r := p.wait()
			if r.code != exitInterrupted {
				t.Fatalf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
			}

			last := lines
			m := regexp.MustCompile(`\nthe rest of the input \(after urls\.txt:(\d+)\) was not read`).FindStringSubmatch(r.stderr)
			switch {
			case m == nil && !tt.mayReadAll:
				t.Fatalf("stderr does not say where the input was left unread:\n%s", r.stderr)
			case m != nil:
				last, _ = strconv.Atoi(m[1])
				// The reader may not have read past the lines in flight
				// when the interrupt comes (the race detector, a loaded
				// machine): left right after them is as right as later.
				if last < tt.inFlight || last >= lines {
					t.Fatalf("the input was left after line %d, want at or after the %d in flight and before the end", last, tt.inFlight)
				}
			}
			readAll := m == nil

			// Lines end in any order, and with --per-host an item after
			// the held ones may be done before they start: what is done
			// is what --json says is ok; it must hold the transfers in
			// flight, and every other line read must be canceled.
			status := map[string]string{}
			var jsonItems []string
			for l := range strings.Lines(r.stdout) {
				var rec struct{ URL, Status string }
				if err := json.Unmarshal([]byte(l), &rec); err != nil {
					t.Fatalf("--json line %q: %v", l, err)
				}
				status[rec.URL] = rec.Status
				jsonItems = append(jsonItems, rec.URL+" "+rec.Status)
			}
			var done, canceled, want []string
			for i, url := range list[:last] {
				if status[url] == "ok" || i < tt.inFlight {
					done = append(done, url)
					want = append(want, url+" ok")
					continue
				}
				canceled = append(canceled, url)
				want = append(want, url+" canceled")
				line := fmt.Sprintf("CANCEL urls.txt:%d %s: not started: the run was interrupted\n", i+1, url)
				if n := strings.Count(r.stderr+"\n", line); n != 2 { // as it ends, and in the summary
					t.Errorf("stderr tells %d times of %q, want twice", n, line)
				}
			}
			t.Logf("left after line %d: %d done, %d canceled", last, len(done), len(canceled))
			if !slices.Equal(sorted(jsonItems), sorted(want)) {
				t.Errorf("--json items:\n%q\nwant each line read once:\n%q", sorted(jsonItems), sorted(want))
			}
			summary := fmt.Sprintf("done %d, skipped 0, failed 0, not started %d ·", len(done), len(canceled))
			if !strings.Contains(r.stderr, summary) {
				t.Errorf("summary does not say %q:\n%s", summary, r.stderr)
			}

			rep := readReport(t, filepath.Join(dir, "report.json"))
			var reportItems []string
			for _, it := range rep.Items {
				reportItems = append(reportItems, it.URL+" "+it.Status)
			}
			if !slices.Equal(sorted(reportItems), sorted(want)) {
				t.Errorf("--report items:\n%q\nwant each line read once:\n%q", sorted(reportItems), sorted(want))
			}
			if s := rep.Summary; s.Done != len(done) || s.NotStarted != len(canceled) || s.Canceled != 0 || s.Failed != 0 {
				t.Errorf("--report summary %+v, want done %d, not_started %d", s, len(done), len(canceled))
			}
			switch u := rep.Summary.UnreadInput; {
			case readAll && u != nil:
				t.Errorf("--report says the input was left unread (%+v), though all of it was read", *u)
			case readAll:
			case u == nil:
				t.Errorf("--report does not say where the input was left unread")
			case u.After != fmt.Sprintf("urls.txt:%d", last) || u.Reason != "interrupted":
				t.Errorf("--report unread_input = %+v, want after urls.txt:%d, interrupted", *u, last)
			}

			// The input is a file, which can be read again: --failed
			// lists its unread rest too, after what did not finish, and
			// so is all that is left to do, with what was done every
			// line of the input, once; no note says something is missing.
			for _, l := range readLines(t, filepath.Join(dir, "failed.txt")) {
				if strings.HasPrefix(l, "#") {
					t.Errorf("--failed has the note %q, though it lists the rest", l)
				}
			}
			left := failedItems(t, filepath.Join(dir, "failed.txt"))
			if !slices.Equal(sorted(left), sorted(append(canceled, list[last:]...))) {
				t.Errorf("--failed lists %q; want the %d canceled and the lines after %d: all that is left to do", left, len(canceled), last)
			}
			if !readAll && !strings.Contains(r.stderr, "failed.txt lists it after what did not finish: fetchpool -i failed.txt finishes the list") {
				t.Errorf("stderr does not say that failed.txt lists the rest:\n%s", r.stderr)
			}
		})
	}
}

// TestSignalFailedListsTheUnreadRest: interrupted before the end of input
// that can be read again (arguments and regular files, blank lines and
// comments among them), --failed lists the unread rest after what did not
// finish, in input syntax, so that fetchpool -i on it finishes
// the whole list; with a --shard, only the shard's lines.
func TestSignalFailedListsTheUnreadRest(t *testing.T) {
	for _, n := range []int{0, 2} {
		t.Run(fmt.Sprintf("%d shards", n), func(t *testing.T) {
			srv := newHoldServer(t)
			dir := t.TempDir()
			held := srv.URL + "/hold/first.bin"
			shard := "" // with n shards, the one of the held URL
			for k := 1; k <= n; k++ {
				if (input.Shard{K: k, N: n}).Contains(held) {
					shard = fmt.Sprintf("%d/%d", k, n)
				}
			}
			args := []string{held, srv.URL + "/q/arg2.bin"}
			a := []string{"# mirrors", srv.URL + "/q/a1.bin", "", srv.URL + "/q/a2.bin\ta-two.bin", srv.URL + "/q/a3.bin"}
			b := []string{`{"url": "` + srv.URL + `/q/b1.bin", "output": "b-one.bin"}`, srv.URL + "/q/b2.bin"}
			for name, lines := range map[string][]string{"a.txt": a, "b.txt": b} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			flags := []string{"-j", "1", "-o", "out", "--no-progress", "--failed", "failed.txt", "-i", "a.txt", "-i", "b.txt"}
			if shard != "" {
				flags = append(flags, "--shard", shard)
			}
			var want []string // every item of the shard but the held one, which finishes
			for _, u := range []string{args[1], a[1], srv.URL + "/q/a2.bin", a[4], srv.URL + "/q/b1.bin", b[1]} {
				if sh, _ := input.ParseShard(shard, nil); shard == "" || sh.Contains(u) {
					want = append(want, u)
				}
			}
			p := startFetchpool(t, dir, append(flags, args...)...)
			srv.await(t, 1)
			p.signal(syscall.SIGINT)
			p.waitLine(`^stopping: waiting for 1 transfer in flight`)
			srv.unblock()
			if r := p.wait(); r.code != exitInterrupted {
				t.Fatalf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
			}
			listed := failedItems(t, filepath.Join(dir, "failed.txt"))
			var urls []string
			for _, l := range listed {
				it, ok := input.ParseLine(l)
				if !ok || it.Err != nil {
					t.Fatalf("--failed line %q does not read back: %v", l, it.Err)
				}
				urls = append(urls, it.URL)
				if strings.HasSuffix(it.URL, "/a2.bin") && it.Name != "a-two.bin" || strings.HasSuffix(it.URL, "/b1.bin") && it.Name != "b-one.bin" {
					t.Errorf("--failed line %q lost its name", l)
				}
			}
			// The items taken and canceled come in the order they ended.
			if !slices.Equal(sorted(urls), sorted(want)) {
				t.Errorf("--failed lists\n%q\nwant every unfinished item, once:\n%q", urls, want)
			}
			r := runCommand(t, newCommand(dir, "-o", "out", "--no-progress", "-i", "failed.txt"))
			if r.code != 0 {
				t.Fatalf("fetchpool -i failed.txt: exit %d; stderr:\n%s", r.code, r.stderr)
			}
			for _, name := range []string{"first.bin", "arg2.bin", "a1.bin", "a-two.bin", "a3.bin", "b-one.bin", "b2.bin"} {
				if _, err := os.Stat(filepath.Join(dir, "out", name)); err != nil && shard == "" {
					t.Errorf("after the retry: %v", err)
				}
			}
		})
	}
}

// TestSignalAbortCutsALongRestShort: a second interrupt while --failed
// copies the unread rest of a long list file (millions of lines take
// seconds) ends the copy soon, with a comment that says the rest is not all
// listed, and the run exits 130 with its summary and the list, which says
// where it left off. It used to copy on until exitIfStuck ended the process
// five seconds later, saying its output was blocked, with no summary, and
// removed the list.
func TestSignalAbortCutsALongRestShort(t *testing.T) {
	srv := newHoldServer(t)
	dir := t.TempDir()
	const lines = 4 << 20
	var list bytes.Buffer
	list.WriteString(srv.URL + "/hold/first.bin\n" + srv.URL + "/q/second.bin\n")
	for i := range lines {
		fmt.Fprintf(&list, "r/%x\n", i) // short, so that the file is not big
	}
	if err := os.WriteFile(filepath.Join(dir, "urls.txt"), list.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	list.Reset()
	p := startFetchpool(t, dir, "-j", "1", "-o", "out", "--no-progress", "--failed", "failed.txt", "-i", "urls.txt")
	srv.await(t, 1)
	p.signal(syscall.SIGINT)
	p.waitLine(`^stopping: waiting for 1 transfer in flight`)
	sent := p.signal(syscall.SIGINT)
	r := p.wait()
	// exitIfStuck ends the process after abortGrace: well before, then.
	bound := restGrace + 2*abortBound
	if took := p.end.Sub(sent); r.code != exitInterrupted || took > bound {
		t.Fatalf("exit %d %v after the second interrupt, want 130 within %v; stderr:\n%s", r.code, took, bound, r.stderr)
	}
	for _, want := range []string{"done 0,", "failed.txt lists only the start of it"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
		}
	}
	listed := readLines(t, filepath.Join(dir, "failed.txt"))
	if len(listed) < 3 || len(listed) > lines {
		t.Fatalf("--failed holds %d lines, want the items taken, the start of the rest and a comment", len(listed))
	}
	last := listed[len(listed)-1]
	if !regexp.MustCompile(`^# the input could not be read again after urls\.txt:\d+: listing it here was cut short by a second interrupt; the rest of it is not listed here$`).MatchString(last) {
		t.Errorf("--failed ends with %q, not a comment saying where the rest was cut", last)
	}
	for _, want := range []string{srv.URL + "/hold/first.bin", srv.URL + "/q/second.bin"} {
		if !slices.Contains(listed, want) {
			t.Errorf("--failed does not list %s", want)
		}
	}
}

// TestSignalDryRunPlansEveryLineRead: a dry run interrupted while its input
// streams in plans every line up to the one it names as the last it read,
// each once and in order, and no line after it.
func TestSignalDryRunPlansEveryLineRead(t *testing.T) {
	dir := t.TempDir()
	p := startFetchpool(t, dir, "--dry-run", "-o", "out")
	// Lines go in until the process stops reading and exits. Once this many
	// are written, most of them have been read (a pipe holds few).
	const before = 20000
	written := make(chan struct{})
	go func() {
		var b strings.Builder
		for i := 1; ; i++ {
			fmt.Fprintf(&b, "http://example.test/f%d\n", i)
			if i%1000 != 0 {
				continue
			}
			if _, err := io.WriteString(p.stdin, b.String()); err != nil {
				return
			}
			b.Reset()
			if i == before {
				close(written)
			}
		}
	}()
	select {
	case <-written:
	case <-time.After(eventually):
		t.Fatalf("the dry run did not read %d lines in %v", before, eventually)
	}
	p.signal(syscall.SIGINT)
	r := p.wait()
	if r.code != exitInterrupted {
		t.Fatalf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
	}
	m := regexp.MustCompile(`\nthe rest of the input \(after -:(\d+)\) was not read, so it was not planned(\n|$)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("stderr does not say where the input was left unread:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "finished files") {
		t.Errorf("stderr speaks of finished files, which a dry run has none of:\n%s", r.stderr)
	}
	last, _ := strconv.Atoi(m[1])
	planned := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(planned) != last {
		t.Errorf("%d items planned, want the %d lines read", len(planned), last)
	}
	for i, l := range planned {
		if want := fmt.Sprintf("http://example.test/f%d -> out/f%d", i+1, i+1); l != want {
			t.Fatalf("planned line %d is %q, want %q", i+1, l, want)
		}
	}
	if want := fmt.Sprintf("dry run: %d items planned, nothing fetched", last); !strings.Contains(r.stderr, want) {
		t.Errorf("summary does not say %q:\n%s", want, r.stderr)
	}
}

// TestSignalDryRunOutputClosed: a dry run whose reader goes away
// (fetchpool --dry-run -i urls.txt | head -1) says that planning stopped
// there, not that transfers in flight were finished or that finished files
// are skipped: a dry run has neither.
func TestSignalDryRunOutputClosed(t *testing.T) {
	dir := t.TempDir()
	var list strings.Builder
	for i := range 200000 { // more plans than a pipe holds
		fmt.Fprintf(&list, "http://example.test/f%d\n", i)
	}
	cmd := newCommand(dir, "--dry-run", "-o", "out", "-i", "-")
	cmd.Stdin = strings.NewReader(list.String())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatalf("reading the first line: %v", err)
	}
	stdout.Close() // as head -1 does
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want code %d\nstderr:\n%s", err, exitInterrupted, errOut.String())
	}
	stderr := errOut.String()
	if !strings.HasSuffix(stderr, "was not read, so it was not planned\nfetchpool: standard output was closed (broken pipe): planning stopped there\n") ||
		strings.Contains(stderr, "transfer") || strings.Contains(stderr, "finished files") {
		t.Errorf("stderr does not end by saying planning stopped, or speaks of transfers and files:\n%s", stderr)
	}
}

// TestSignalOutputClosed: when the reader of standard output goes away
// (fetchpool --json | head -1), the run stops as on a first Ctrl-C instead
// of dying of SIGPIPE: nothing new starts, the transfers in flight finish
// (no .part is left, every file is whole), the summary is printed on
// standard error with the reason, --failed ends with it, and the exit code
// is 130.
func TestSignalOutputClosed(t *testing.T) {
	const count = 100
	body, list := slowList(t, count)
	dir := t.TempDir()
	cmd := newCommand(dir, "--json", "-j", "2", "-o", "out", "--failed", "failed.txt", "-i", "-")
	cmd.Stdin = strings.NewReader(list)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the first JSON line: %v", err)
	}
	stdout.Close() // as head -1 does
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want code %d\nstderr:\n%s", err, exitInterrupted, errOut.String())
	}
	if !strings.Contains(first, `"status":"ok"`) {
		t.Errorf("first JSON line %q is not a finished item", first)
	}
	stderr := errOut.String()
	for _, want := range []string{
		"stopping: waiting for",
		"fetchpool: standard output was closed (broken pipe)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	m := regexp.MustCompile(`done (\d+), skipped 0, failed 0, not started (\d+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no summary on stderr:\n%s", stderr)
	}
	done, _ := strconv.Atoi(m[1])
	if done < 1 || done >= count {
		t.Errorf("%d items done, want some but not all %d", done, count)
	}
	// The items withdrawn say why: nobody interrupted the run.
	notStarted, _ := strconv.Atoi(m[2])
	if n := strings.Count(stderr, ": not started: standard output was closed\n"); notStarted > 0 && n != 2*notStarted || strings.Contains(stderr, "interrupted") {
		t.Errorf("the %d items not started are not said to be for the closed output (%d lines):\n%s", notStarted, n, stderr)
	}
	noParts(t, dir)
	entries, err := os.ReadDir(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != done {
		t.Errorf("%d files in out, want the %d done", len(entries), done)
	}
	for _, e := range entries {
		if fi, err := e.Info(); err != nil || fi.Size() != int64(len(body)) {
			t.Errorf("out/%s is not whole: %v %v", e.Name(), fi, err)
		}
	}
	lines := readLines(t, filepath.Join(dir, "failed.txt"))
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], "# standard output was closed: the rest of the input") {
		t.Errorf("--failed does not end with the reason:\n%s", strings.Join(lines, "\n"))
	}
}

// TestSignalErrorOutputClosed: when the reader of standard error goes away
// (fetchpool 2>&1 | head -1), the run stops as on a first Ctrl-C too,
// instead of fetching the rest of the list with nobody to tell: it exits
// 130, fetches far from all, and leaves every file whole and no .part.
func TestSignalErrorOutputClosed(t *testing.T) {
	const count = 100
	body, list := slowList(t, count)
	dir := t.TempDir()
	cmd := newCommand(dir, "--no-progress", "-j", "2", "-o", "out", "-i", "-")
	cmd.Stdin = strings.NewReader(list)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(stderr).ReadString('\n'); err != nil {
		t.Fatalf("reading the first line: %v", err)
	}
	stderr.Close() // as head -1 does
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want code %d", err, exitInterrupted)
	}
	noParts(t, dir)
	entries, err := os.ReadDir(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || len(entries) > count/2 {
		t.Errorf("%d files fetched, want some, and far from all %d", len(entries), count)
	}
	for _, e := range entries {
		if fi, err := e.Info(); err != nil || fi.Size() != int64(len(body)) {
			t.Errorf("out/%s is not whole: %v %v", e.Name(), fi, err)
		}
	}
}

// TestSignalAbortWithBlockedOutput: a reader of standard output that stops
// reading without going away (fetchpool --json | a stuck program) blocks
// the output, and with it the workers; a second Ctrl-C still ends the run,
// within abortGrace, with exit 130 and a line that says why. Every file
// saved is whole, and --failed, which could not be completed, is removed.
func TestSignalAbortWithBlockedOutput(t *testing.T) {
	body := []byte("0123456789abcdef")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	var list strings.Builder
	for i := range 20000 { // far more JSON lines than a pipe holds
		fmt.Fprintf(&list, "%s/f%d\n", srv.URL, i)
	}
	dir := t.TempDir()
	stderr := abortWithOutputBlocked(t, dir, list.String(), func(errOut *safeBuffer) {
		// Stuck once standard error, written by the same goroutine as the
		// blocked output, stops growing.
		last, still := -1, 0
		for still < 4 {
			time.Sleep(250 * time.Millisecond)
			if n := len(errOut.String()); n == last {
				still++
			} else {
				last, still = n, 0
			}
		}
	}, "--json", "--no-progress", "-j", "4", "-o", "out", "--failed", "failed.txt", "-i", "-")
	if !strings.Contains(stderr, "its output is blocked") || !strings.Contains(stderr, "failed.txt was removed") {
		t.Errorf("stderr does not say why it exits:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "failed.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failed.txt, which could not be completed, is still there (%v)", err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || len(entries) == 20000 {
		t.Errorf("%d files fetched, want some, not all", len(entries))
	}
	for _, e := range entries {
		if fi, err := e.Info(); err != nil || (fi.Size() != int64(len(body)) && !strings.HasSuffix(e.Name(), ".part")) {
			t.Errorf("out/%s is not whole: %v %v", e.Name(), fi, err)
		}
	}
}

// TestSignalAbortWithBlockedSummaryKeepsTheList: when only the summary is
// blocked (standard error, whose reader stopped reading, gets the failures
// listed again at the end), a second interrupt still ends the run within
// abortGrace, but the --failed list, complete by then, is kept: it used to
// be removed as one "that could not be completed".
func TestSignalAbortWithBlockedSummaryKeepsTheList(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	const count = 2000 // failures: their lines in the summary fill a pipe
	dir := t.TempDir()
	cmd := newCommand(dir, "--no-progress", "-o", "out", "--failed", "failed.txt", "-i", "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer cmd.Process.Kill()
	go func() {
		var list strings.Builder
		for i := range count {
			fmt.Fprintf(&list, "%s/f%d\n", srv.URL, i)
		}
		io.WriteString(stdin, list.String()) // and stdin stays open
	}()
	sc := bufio.NewScanner(stderr)
	for failures := 0; failures < count && sc.Scan(); {
		if strings.HasPrefix(sc.Text(), "FAIL ") {
			failures++
		}
	}
	// Standard error is read no more.
	cmd.Process.Signal(os.Interrupt)
	path := filepath.Join(dir, "failed.txt")
	deadline := time.Now().Add(eventually)
	for {
		if b, _ := os.ReadFile(path); bytes.Contains(b, []byte("\n# interrupted: ")) {
			break // closed: complete
		}
		if time.Now().After(deadline) {
			t.Fatalf("failed.txt was not completed after the first interrupt")
		}
		time.Sleep(10 * time.Millisecond)
	}
	sent := time.Now()
	cmd.Process.Signal(os.Interrupt)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(abortGrace + 30*time.Second):
		t.Fatalf("still running %v after the second interrupt", time.Since(sent))
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want code %d", err, exitInterrupted)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the complete --failed list was removed: %v", err)
	}
	if items := failedItems(t, path); len(items) != count {
		t.Errorf("--failed lists %d items, want %d", len(items), count)
	}
}

// abortWithOutputBlocked runs fetchpool in dir with args and stdin, its
// standard output a pipe that nobody reads; once stuck has waited for the
// output to block, it sends two interrupts, and checks that the run ends
// within abortGrace and a margin, with exit 130. It returns standard error.
func abortWithOutputBlocked(t *testing.T, dir, stdin string, stuck func(*safeBuffer), args ...string) string {
	t.Helper()
	cmd := newCommand(dir, args...)
	cmd.Stdin = strings.NewReader(stdin)
	stdout, err := cmd.StdoutPipe() // never read
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	errOut := &safeBuffer{}
	cmd.Stderr = errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stuck(errOut)
	cmd.Process.Signal(os.Interrupt)
	time.Sleep(200 * time.Millisecond)
	sent := time.Now()
	cmd.Process.Signal(os.Interrupt)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(abortGrace + 30*time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running %v after the second interrupt; stderr:\n%s", time.Since(sent), errOut.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want code %d; stderr:\n%s", err, exitInterrupted, errOut.String())
	}
	return errOut.String()
}

// slowList serves count files of 16 KiB, each after 50 ms, and returns
// their body and a list of their URLs, one per line.
func slowList(t *testing.T, count int) (body []byte, list string) {
	t.Helper()
	body = bytes.Repeat([]byte("x"), 16<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	var b strings.Builder
	for i := range count {
		fmt.Fprintf(&b, "%s/f%d.bin\n", srv.URL, i)
	}
	return body, b.String()
}

// TestExitIfStuckRemovesOnlyItsOwnList: when an aborted run whose output
// is blocked exits, it removes the --failed list (or --report) that it was
// still writing, its own file, and nothing else: not a --failed that is not
// a regular file (--failed /dev/stdout, which the usage error of --failed
// - suggests, piped to the very reader that stopped reading: as root,
// removing /dev/stdout would take it from every program of the system);
// not another run's FILE.part put in place of its own, nor that run's
// whole FILE; and not its own list once written whole, when only what
// comes after it is blocked. It removed whatever regular file was at FILE
// or FILE.part.
func TestExitIfStuckRemovesOnlyItsOwnList(t *testing.T) {
	for _, tt := range []struct {
		name    string
		path    string                                            // --failed, in dir
		prepare func(t *testing.T, path string)                   // before the list is made
		meddle  func(t *testing.T, path string, f *report.Failed) // while it is written
		removed bool                                              // the run's own list, unfinished, goes
		kept    map[string]string                                 // files left as they were: name in dir, content
	}{
		{name: "a link to /dev/null", path: "stdout",
			prepare: func(t *testing.T, path string) {
				if err := os.Symlink(os.DevNull, path); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "its own, unfinished", path: "failed.txt", removed: true},
		{name: "its own, whole", path: "failed.txt",
			meddle: func(t *testing.T, path string, f *report.Failed) {
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
			},
			kept: map[string]string{"failed.txt": ""}},
		{name: "another run's in its place", path: "failed.txt",
			meddle: func(t *testing.T, path string, f *report.Failed) {
				// Another run with the same --failed makes its own
				// FILE.part, and a third one has put its list in place.
				os.Remove(path + report.PendingSuffix)
				for _, p := range []string{path, path + report.PendingSuffix} {
					if err := os.WriteFile(p, []byte("http://example.com/other\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			},
			kept: map[string]string{"failed.txt": "http://example.com/other\n", "failed.txt.part": "http://example.com/other\n"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, tt.path)
			if tt.prepare != nil {
				tt.prepare(t, path)
			}
			f, err := report.NewFailed(path)
			if err != nil {
				t.Fatal(err)
			}
			f.Begin()
			f.Handle(event.Event{Kind: event.Finished, Result: &event.Result{Status: event.StatusFailed,
				Item: input.Item{URL: "http://example.com/a"}}})
			if tt.meddle != nil {
				tt.meddle(t, path, f)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // aborted
			errOut := &safeBuffer{}
			code := make(chan int, 1)
			s := &streams{Err: errOut, Exit: func(c int) { code <- c }}
			exitIfStuck(ctx, make(chan struct{}), s, []leftOutput{{tt.path, f}})
			select {
			case c := <-code:
				if c != exitInterrupted {
					t.Errorf("exit code %d, want %d", c, exitInterrupted)
				}
			default:
				t.Fatal("exitIfStuck returned without exiting")
			}
			if said := strings.Contains(errOut.String(), tt.path+" was removed"); said != tt.removed {
				t.Errorf("stderr says the list was removed: %v, want %v:\n%s", said, tt.removed, errOut.String())
			}
			if _, err := os.Lstat(path); err != nil && tt.path == "stdout" {
				t.Errorf("--failed %s (a link to %s) was removed: %v", path, os.DevNull, err)
			}
			if _, err := os.Lstat(path + report.PendingSuffix); tt.removed && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the unfinished list is still there (%v)", err)
			}
			for name, want := range tt.kept {
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || want != "" && string(got) != want {
					t.Errorf("%s: %q, %v; want it kept as it was", name, got, err)
				}
			}
		})
	}
}

// TestSignalAbortDryRunWithBlockedOutput: a dry run whose output is blocked
// (fetchpool --dry-run --failed left.txt ... | a stuck program), aborted
// with a second Ctrl-C, exits as a real run does, but leaves --failed as
// it is: the dry run never wrote it, and the list there is the one that a
// real run left to retry (it used to be removed, "left.txt was removed: it
// could not be completed").
func TestSignalAbortDryRunWithBlockedOutput(t *testing.T) {
	var list strings.Builder
	for i := range 20000 { // far more lines than a pipe holds
		fmt.Fprintf(&list, "http://127.0.0.1:1/f%d\n", i)
	}
	dir := t.TempDir()
	left := "http://127.0.0.1:1/failed-before\n"
	if err := os.WriteFile(filepath.Join(dir, "left.txt"), []byte(left), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr := abortWithOutputBlocked(t, dir, list.String(), func(*safeBuffer) {
		time.Sleep(time.Second) // the pipe fills at once: nothing is fetched
	}, "--dry-run", "--no-progress", "-o", "out", "--failed", "left.txt", "-i", "-")
	if strings.Contains(stderr, "was removed") {
		t.Errorf("stderr says a list was removed:\n%s", stderr)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "left.txt")); err != nil || string(data) != left {
		t.Errorf("the dry run changed left.txt: %q, %v; want it as a real run left it", data, err)
	}
}
