// Command rss runs a command and prints its peak resident set size in
// bytes on the last line of its standard error.
//
// The memory tests need it: a process started straight from the test binary
// shares the test's memory until it execs (vfork), and Linux counts the
// test's resident set in the child's peak. Started from this small program,
// the child's peak is its own (plus this program's few MiB at most).
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rss COMMAND [ARG ...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintln(os.Stderr, "rss:", err)
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "maxrss %d\n", cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss*1024)
	os.Exit(cmd.ProcessState.ExitCode())
}
