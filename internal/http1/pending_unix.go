//go:build unix

package http1

import (
	"net"
	"syscall"
)

// pendingCheck returns a function that tells whether nc, an idle
// connection, has something to read: bytes the server sent unasked, or its
// end (the server closed it). Either way it is no connection to send a
// request on: the bytes would be taken for the response to it. The function
// peeks without waiting, one system call and no allocation, where net/http
// keeps a reader goroutine per connection to notice. It is nil when nc
// cannot be peeked at.
func pendingCheck(nc net.Conn) func() bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var (
		b    [1]byte
		rerr error
	)
	peek := func(fd uintptr) bool {
		_, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|msgDontWait)
		return true // never wait
	}
	return func() bool {
		if err := rc.Read(peek); err != nil {
			return true // closed
		}
		switch rerr {
		case nil:
			return true // a byte, or the server's end (0 bytes)
		case syscall.EAGAIN, syscall.EINTR:
			return false // nothing yet: as it should be
		}
		return true // reset, or otherwise broken
	}
}
