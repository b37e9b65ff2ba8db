package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/fetchpool/fetchpool/bench/launch"
	"github.com/fetchpool/fetchpool/bench/server"
)

// measurement is what one run of one contender cost.
type measurement struct {
	Wall time.Duration `json:"wall_ns"`
	// MaxRSS is the peak resident set in bytes of the largest single process
	// of the tree (wait4 rusage), -1 when not measurable (in-process rows).
	MaxRSS int64 `json:"max_rss"`
	// CPU is user+system time of the process and its waited-for
	// descendants, -1 when not measurable.
	CPU time.Duration `json:"cpu_ns"`
	// FirstRequest is how long after the process started the server saw its
	// first request, -1 if it saw none.
	FirstRequest time.Duration `json:"first_request_ns"`
	Requests     int64         `json:"requests"`
	MaxConns     int64         `json:"max_conns"`
	// Accepted is the number of connections the tool opened in all.
	Accepted int64 `json:"accepted_conns"`
	// Stopped is set when the run was stopped at the end of its window.
	Stopped bool   `json:"stopped,omitempty"`
	Stderr  string `json:"stderr,omitempty"`
}

// errTimeout marks a run killed for taking longer than -timeout.
var errTimeout = errors.New("timed out")

// stopGrace is how long a tool asked to stop (SIGTERM) may take to exit
// before it is killed.
const stopGrace = 10 * time.Second

// execute runs spec through the launcher (see package launch), in its own process
// group, and measures it. The returned error is the tool's failure (exit
// status, timeout); a cancelled ctx kills the whole group and returns
// ctx.Err().
func execute(ctx context.Context, j *job, spec cmdSpec, timeout time.Duration) (measurement, error) {
	m := measurement{MaxRSS: -1, CPU: -1, FirstRequest: -1}
	reportR, reportW, err := os.Pipe()
	if err != nil {
		return m, fmt.Errorf("making the report pipe: %w", err)
	}
	defer reportR.Close()
	defer reportW.Close()
	env := append(os.Environ(), "HOME="+j.home)
	launcher := j.launcher
	if launcher == "" {
		if launcher, err = os.Executable(); err != nil {
			return m, fmt.Errorf("finding the bench binary to launch tools with: %w", err)
		}
		env = append(env, launch.Env+"=1")
	}
	cmd := exec.Command(launcher, append([]string{spec.path}, spec.args...)...)
	cmd.Dir = j.dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.ExtraFiles = []*os.File{reportW}
	out := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = stopGrace // a stray grandchild holding the output pipe open

	var pipe *os.File // the writing end of a generated stdin
	switch {
	case spec.stdinFile != "":
		f, err := os.Open(spec.stdinFile)
		if err != nil {
			return m, fmt.Errorf("opening the URL list: %w", err)
		}
		defer f.Close()
		cmd.Stdin = f
	case spec.stdinURLs:
		r, w, err := os.Pipe()
		if err != nil {
			return m, fmt.Errorf("making the stdin pipe: %w", err)
		}
		defer r.Close()
		defer w.Close()
		cmd.Stdin, pipe = r, w
	}

	j.srv.Reset()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return m, fmt.Errorf("starting %s: %w", spec.path, err)
	}
	reportW.Close() // the launcher has its copy
	var fed sync.WaitGroup
	if pipe != nil {
		cmd.Stdin.(*os.File).Close() // the launcher has its copy
		fed.Add(1)
		go func() { defer fed.Done(); writeURLs(pipe, j) }()
	}
	stopped, runErr, waitErr := supervise(ctx, cmd, j.w.Window, timeout)
	if ctx.Err() != nil {
		return m, ctx.Err()
	}
	m.Stopped = stopped
	end := time.Now()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // stragglers of the group, if any
	if pipe != nil {
		pipe.Close() // unblocks the feeder if the tool stopped reading
	}
	fed.Wait()
	m.Stderr = out.String()
	st := j.srv.Stats()
	m.Requests, m.MaxConns, m.Accepted = st.Requests, st.MaxConns, st.Accepted

	data, _ := io.ReadAll(reportR) // the launcher has exited; EOF follows its report
	rep, err := launch.Parse(string(data))
	if err != nil {
		// Killed before it could report: time the launcher instead.
		m.Wall = end.Sub(start)
		switch {
		case runErr != nil:
		case stopped:
			runErr = fmt.Errorf("%s did not exit within %v of SIGTERM", filepath.Base(spec.path), stopGrace)
		default:
			runErr = fmt.Errorf("%s: %w (%v)", filepath.Base(spec.path), err, waitErr)
		}
		return m, runErr
	}
	m.Wall, m.MaxRSS, m.CPU = rep.Wall, rep.MaxRSS, rep.CPU
	if !st.First.IsZero() {
		m.FirstRequest = st.First.Sub(rep.Start)
	}
	if runErr == nil && rep.Exit != "" && !m.Stopped {
		runErr = fmt.Errorf("%s: %s", filepath.Base(spec.path), rep.Exit)
	}
	return m, runErr
}

// supervise waits for the started cmd, the leader of its process group. At
// the end of the window (if any) it sends SIGTERM to the launcher, which
// passes it on, and kills the group stopGrace later; at the timeout, or when
// ctx is cancelled, it kills the group at once. It returns whether the run
// was stopped at its window, the run's failure if it was killed for time,
// and what Wait returned.
func supervise(ctx context.Context, cmd *exec.Cmd, window, timeout time.Duration) (stopped bool, runErr, waitErr error) {
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	kill := func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var windowC, graceC <-chan time.Time
	if window > 0 {
		t := time.NewTimer(window)
		defer t.Stop()
		windowC = t.C
	}
	for {
		select {
		case waitErr = <-exited:
			return stopped, runErr, waitErr
		case <-windowC:
			stopped = true
			_ = cmd.Process.Signal(syscall.SIGTERM) // the launcher passes it on
			t := time.NewTimer(stopGrace)
			defer t.Stop()
			graceC = t.C
		case <-graceC:
			kill()
		case <-deadline.C:
			runErr = fmt.Errorf("%w after %v", errTimeout, timeout)
			kill()
		case <-ctx.Done():
			kill()
			return stopped, ctx.Err(), <-exited
		}
	}
}

// launcherFloor is the peak RSS that the launcher reports for /bin/true: the
// least any tool can show.
func launcherFloor(ctx context.Context, launcher, home string) int64 {
	j := &job{w: &workload{}, dir: home, home: home, launcher: launcher}
	srv, err := server.Start(server.Options{})
	if err != nil {
		return -1
	}
	defer srv.Close()
	j.srv = srv
	truePath, err := exec.LookPath("true")
	if err != nil {
		return -1
	}
	m, err := execute(ctx, j, cmdSpec{path: truePath}, time.Minute)
	if err != nil {
		return -1
	}
	return m.MaxRSS
}

// writeURLs writes the workload's URLs to w, one per line, and closes w. It
// stops at the first error: the tool exited or stopped reading.
func writeURLs(w *os.File, j *job) {
	defer w.Close()
	bw := bufio.NewWriterSize(w, 64<<10)
	prefix := "http://" + j.srv.Addr() + "/f/" + strconv.FormatInt(j.w.Size, 10) + "/"
	line := make([]byte, 0, 128)
	for n := range j.w.Count {
		line = append(line[:0], prefix...)
		line = strconv.AppendInt(line, int64(n), 10)
		line = append(line, ".bin\n"...)
		if _, err := bw.Write(line); err != nil {
			return
		}
	}
	_ = bw.Flush() // a tool that exited early is not the feeder's problem
}

// writeLists writes the URL list and the curl config for a workload.
func writeLists(j *job) error {
	list, err := os.Create(j.list)
	if err != nil {
		return fmt.Errorf("writing the URL list: %w", err)
	}
	cfg, err := os.Create(j.curlConfig)
	if err != nil {
		list.Close()
		return fmt.Errorf("writing the curl config: %w", err)
	}
	lw, cw := bufio.NewWriter(list), bufio.NewWriter(cfg)
	for n := range j.w.Count {
		u := j.srv.URL(j.w.Size, n)
		lw.WriteString(u + "\n")
		cw.WriteString(`url = "` + u + "\"\n")
	}
	errs := []error{lw.Flush(), cw.Flush(), list.Close(), cfg.Close()}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("writing the URL lists: %w", err)
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

var _ io.Writer = (*tailBuffer)(nil)
