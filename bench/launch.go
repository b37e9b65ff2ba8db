package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// launchEnv makes the bench binary act as the launcher instead of the
// benchmark (see launch).
const launchEnv = "FETCHPOOL_BENCH_LAUNCH"

// launchReport is what the launcher tells the benchmark on fd 3.
type launchReport struct {
	// Start is when the tool was started (UnixNano).
	Start int64 `json:"start"`
	// Wall is from the tool's start until it was reaped.
	Wall time.Duration `json:"wall"`
	// MaxRSS is the peak RSS in bytes of the largest process of the tool's tree.
	MaxRSS int64 `json:"max_rss"`
	// CPU is the user+system time of the tool and its waited-for descendants.
	CPU time.Duration `json:"cpu"`
	// Exit is "" on success, else how the tool ended ("exit status 22").
	Exit string `json:"exit"`
}

// launch runs os.Args[1:] as a child, forwards SIGTERM and SIGINT to it, and
// writes a launchReport to fd 3; it returns the child's exit code.
//
// Why a launcher: a child's ru_maxrss can never be lower than its parent's
// RSS when it was forked, because Linux carries the parent's high-water mark
// across fork and exec. The benchmark process (server included) is larger
// than curl, so children started from it would all show its RSS. The
// launcher is a fresh, small process, so the floor is only the launcher's
// own start-up RSS (printed with the environment).
func launch() int {
	syscall.CloseOnExec(3) // the tool must not hold the report pipe open
	report := os.NewFile(3, "report")
	defer report.Close()
	if len(os.Args) < 2 {
		return writeReport(report, launchReport{Exit: "launcher: no command"}, 127)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, launchEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return writeReport(report, launchReport{Exit: err.Error()}, 127)
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s) // the tool may have exited already
		}
	}()
	err := cmd.Wait()
	rep := launchReport{Start: start.UnixNano(), Wall: time.Since(start), MaxRSS: -1, CPU: -1}
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
	return writeReport(report, rep, code)
}

func writeReport(f *os.File, rep launchReport, code int) int {
	if err := json.NewEncoder(f).Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, "bench launcher: writing the report:", err)
	}
	return code
}
