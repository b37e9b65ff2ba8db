// Package launch starts one benchmarked tool from a small process and reports
// what it cost, so that its peak RSS is its own.
//
// A child's ru_maxrss is never lower than its parent's RSS when it was
// forked: Linux carries the parent's high-water mark across fork (and vfork)
// and exec. The benchmark process, server included, is larger than curl, so
// every tool started from it directly would show the benchmark's RSS. The
// launcher is a small, fresh process; the floor it leaves is its own RSS.
//
// Protocol: the benchmark starts the launcher with the tool's path and
// arguments, and the writing end of a pipe as fd 3. The launcher runs the
// tool with its own stdin, stdout and stderr, passes SIGTERM and SIGINT on,
// and writes one Report line to fd 3 when the tool has been reaped.
package launch

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Env, set to "1", makes the bench binary itself act as the launcher, for
// when the separate launcher binary cannot be built (and in tests).
const Env = "FETCHPOOL_BENCH_LAUNCH"

// Report is what the launcher tells the benchmark.
type Report struct {
	// Start is when the tool was started.
	Start time.Time
	// Wall is from the tool's start until it was reaped.
	Wall time.Duration
	// MaxRSS is the peak RSS in bytes of the largest process of the tool's
	// tree (wait4 rusage), -1 if unknown.
	MaxRSS int64
	// CPU is the user+system time of the tool and its waited-for
	// descendants, -1 if unknown.
	CPU time.Duration
	// Exit is "" on success, else how the tool ended ("exit status 22").
	Exit string
}

// Run runs os.Args[1:] as the tool, writes its Report to fd 3 and returns the
// exit code for the launcher: the tool's.
func Run() int {
	syscall.CloseOnExec(3) // the tool must not hold the report pipe open
	out := os.NewFile(3, "report")
	defer out.Close()
	if len(os.Args) < 2 {
		return write(out, Report{MaxRSS: -1, CPU: -1, Exit: "launcher: no command"}, 127)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, Env+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return write(out, Report{MaxRSS: -1, CPU: -1, Exit: err.Error()}, 127)
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s) // the tool may have exited already
		}
	}()
	err := cmd.Wait()
	rep := Report{Start: start, Wall: time.Since(start), MaxRSS: -1, CPU: -1}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rep.MaxRSS = ru.Maxrss << 10 // KiB on Linux
		rep.CPU = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
	}
	code := 0
	if err != nil {
		rep.Exit = err.Error()
		code = 1
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			code = ee.ExitCode()
		}
	}
	return write(out, rep, code)
}

// write sends rep as one line: start wall maxrss cpu exit-text.
func write(f *os.File, rep Report, code int) int {
	line := strconv.FormatInt(rep.Start.UnixNano(), 10) + " " +
		strconv.FormatInt(int64(rep.Wall), 10) + " " +
		strconv.FormatInt(rep.MaxRSS, 10) + " " +
		strconv.FormatInt(int64(rep.CPU), 10) + " " +
		strconv.Quote(rep.Exit) + "\n"
	if _, err := f.WriteString(line); err != nil {
		os.Stderr.WriteString("bench launcher: writing the report: " + err.Error() + "\n")
	}
	return code
}

// ErrNoReport means the launcher ended without a report: it was killed.
var ErrNoReport = errors.New("the launcher gave no report")

// Parse reads the line that Run writes.
func Parse(line string) (Report, error) {
	var rep Report
	f := strings.SplitN(strings.TrimSpace(line), " ", 5)
	if len(f) != 5 {
		return rep, ErrNoReport
	}
	var nums [4]int64
	for i := range nums {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return rep, ErrNoReport
		}
		nums[i] = n
	}
	exit, err := strconv.Unquote(f[4])
	if err != nil {
		return rep, ErrNoReport
	}
	rep.Start = time.Unix(0, nums[0])
	rep.Wall, rep.MaxRSS, rep.CPU, rep.Exit = time.Duration(nums[1]), nums[2], time.Duration(nums[3]), exit
	return rep, nil
}
