//go:build !unix

package http1

import "net"

// pendingCheck would tell whether an idle connection has something to
// read; without a way to peek without waiting there is none, and a
// connection the server closed is found stale when it is used.
func pendingCheck(net.Conn) func() bool { return nil }
