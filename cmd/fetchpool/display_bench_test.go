package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// displayRuns is how many times each mode runs; the median is reported.
const displayRuns = 5

// displayModes are the ways of showing progress compared: the live bars on
// a terminal, the plain lines on the same terminal, and only the summary.
var displayModes = []struct {
	name  string
	flags []string
}{
	{"bars", nil},
	{"no-progress", []string{"--no-progress"}},
	{"quiet", []string{"-q"}},
}

// BenchmarkDisplay measures what the progress display costs the transfers:
// the same downloads with the bars on a pseudo-terminal, with --no-progress
// and with -q, run side by side (interleaved, so that a change in the
// machine's load hits every mode alike), on
//
//	files: 2,000 files of 16 KiB from a loopback server, -j 16
//	body:  one body of 1 GiB, streamed from a pattern buffer
//
// written to a tmpfs (/dev/shm when there is one). It builds its own binary
// without the race detector, and reports the median wall time and CPU time
// (user + system, of fetchpool alone) of 5 runs of each mode, and the ratios
// of bars to the others:
//
//	go test ./cmd/fetchpool -run '^$' -bench Display -benchtime 1x
func BenchmarkDisplay(b *testing.B) {
	if testing.Short() {
		b.Skip("runs the binary 30 times on 1 GiB and 2,000 files")
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		b.Skipf("no pseudo-terminal here: %v", err)
	}
	ptmx.Close()
	tty.Close()

	bin := filepath.Join(b.TempDir(), "fetchpool")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		b.Fatalf("building fetchpool without -race: %v", err)
	}
	srv := httptest.NewServer(patternHandler{})
	b.Cleanup(srv.Close)
	base := scratchDir(b)

	var list strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&list, "%s/small/%d.bin\n", srv.URL, i)
	}
	listFile := filepath.Join(base, "list.txt")
	if err := os.WriteFile(listFile, []byte(list.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	workloads := []struct {
		name string
		args []string
		size int64 // bytes every run must leave on disk
	}{
		{"files-2000x16KiB", []string{"-j", "16", "-i", listFile}, 2000 * 16 << 10},
		{"body-1GiB", []string{srv.URL + "/big/1gib.bin"}, 1 << 30},
	}
	for _, wl := range workloads {
		b.Run(wl.name, func(b *testing.B) {
			for range b.N {
				times := make([][]time.Duration, len(displayModes))
				cpu := make([][]time.Duration, len(displayModes))
				for round := range displayRuns {
					for m, mode := range displayModes {
						out := filepath.Join(base, fmt.Sprintf("out-%s-%d", mode.name, round))
						args := append(append([]string{"-o", out}, wl.args...), mode.flags...)
						took, shown := runOnPTY(b, bin, args)
						times[m] = append(times[m], took)
						cpu[m] = append(cpu[m], shown.cpu)
						// The comparison means something only if the bars
						// were drawn, and only by the bars.
						if drew := shown.escapes > 0; drew != (mode.flags == nil) {
							b.Fatalf("%s: %d escape sequences on the terminal", mode.name, shown.escapes)
						}
						if round == 0 {
							b.Logf("%s: %d bytes, %d escape sequences on the terminal", mode.name, shown.bytes, shown.escapes)
						}
						if got := dirSize(b, out); got != wl.size {
							b.Fatalf("%s: %d bytes on disk, want %d", mode.name, got, wl.size)
						}
						os.RemoveAll(out)
					}
				}
				reportDisplay(b, "wall", times)
				reportDisplay(b, "cpu", cpu)
			}
		})
	}
}

// reportDisplay reports the median of each mode's times (wall or cpu) and
// the ratios of the bars to the others.
func reportDisplay(b *testing.B, what string, times [][]time.Duration) {
	medians := make([]time.Duration, len(times))
	for m, ts := range times {
		medians[m] = median(ts)
		b.ReportMetric(float64(medians[m].Microseconds())/1000, what+"-ms/"+displayModes[m].name)
		b.Logf("%s %-12s median %8.1f ms  runs %v", what, displayModes[m].name,
			float64(medians[m].Microseconds())/1000, roundAll(ts))
	}
	for m := 1; m < len(medians); m++ {
		ratio := float64(medians[0]) / float64(medians[m])
		b.ReportMetric(ratio, what+"-bars/"+displayModes[m].name)
		b.Logf("%s bars / %-12s %.3f", what, displayModes[m].name, ratio)
	}
}

func median(ts []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ts))
	return s[len(s)/2]
}

func roundAll(ts []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ts))
	for i, t := range ts {
		out[i] = t.Round(time.Millisecond)
	}
	return out
}

// shownCount counts what a terminal was sent, and the CPU time (user and
// system) the run took.
type shownCount struct {
	bytes, escapes int64
	cpu            time.Duration
}

func (c *shownCount) Write(p []byte) (int, error) {
	c.bytes += int64(len(p))
	c.escapes += int64(bytes.Count(p, []byte("\x1b[")))
	return len(p), nil
}

// runOnPTY runs bin with args on a fresh 120x40 pseudo-terminal, reading
// everything it shows, and returns the wall time from start to exit and
// what the terminal was sent.
func runOnPTY(b *testing.B, bin string, args []string) (time.Duration, shownCount) {
	b.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		b.Fatal(err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Cols: 120, Rows: 40}); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.Env = append(os.Environ(), "NO_COLOR=")
	var shown shownCount
	read := make(chan struct{})
	go func() {
		io.Copy(&shown, ptmx)
		close(read)
	}()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	tty.Close()
	err = cmd.Wait()
	took := time.Since(start)
	if err != nil {
		b.Fatalf("fetchpool %s: %v", strings.Join(args, " "), err)
	}
	select {
	case <-read:
	case <-time.After(patience):
		b.Fatal("the terminal did not close after fetchpool exited")
	}
	shown.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return took, shown
}

// patternHandler serves /small/... as 16 KiB and /big/... as 1 GiB, both
// with a Content-Length, from one pattern buffer: it allocates nothing per
// request, so the server costs the same in every mode.
type patternHandler struct{}

var displayPattern = func() []byte {
	p := make([]byte, 1<<20)
	for i := range p {
		p[i] = byte(i*7 + i>>8)
	}
	return p
}()

func (patternHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	size := int64(16 << 10)
	if strings.HasPrefix(r.URL.Path, "/big/") {
		size = 1 << 30
	}
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	for left := size; left > 0; {
		n := min(left, int64(len(displayPattern)))
		if _, err := w.Write(displayPattern[:n]); err != nil {
			return
		}
		left -= n
	}
}

// scratchDir is a directory on a tmpfs when the machine has /dev/shm, so
// that the disk does not decide the times; else the benchmark's temporary
// directory. It is removed when the benchmark ends.
func scratchDir(b *testing.B) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "fetchpool-bench-"); err == nil {
			b.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return b.TempDir()
}

// dirSize is the total size of the regular files under dir.
func dirSize(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
