//go:build !unix

package main

import (
	"fmt"
	"os"
	"syscall"
)

// kill ends the process pid for SIGKILL; this platform has no other
// signal to send to another process.
func kill(pid int, sig syscall.Signal) error {
	if sig != syscall.SIGKILL {
		return fmt.Errorf("cannot send %v to another process here", sig)
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
