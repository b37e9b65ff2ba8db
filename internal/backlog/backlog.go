// Package backlog makes, for tests, a loopback address that takes no
// connection: a connect to it hangs until the dialer's timeout.
package backlog

import (
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"
)

// Full is the address of a loopback listener whose queue is full, and
// that accepts nothing: a connect to it hangs until it times out. It skips
// t where the system cannot make one (a kernel that accepts past a full
// queue). The listener is closed when t ends.
func Full(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Skipf("socket: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Skipf("bind: %v", err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Skipf("listen: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Skipf("getsockname: %v", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	filler, err := net.DialTimeout("tcp", addr, time.Second) // takes the one place
	if err != nil {
		t.Skipf("cannot fill the listen queue: %v", err)
	}
	t.Cleanup(func() { filler.Close() })
	if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
		c.Close()
		t.Skip("the kernel accepted past a full listen queue; cannot provoke a connect timeout")
	}
	return addr
}
