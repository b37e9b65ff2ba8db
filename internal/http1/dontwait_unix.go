//go:build unix && !aix

package http1

import "syscall"

// msgDontWait makes the peek of pendingCheck return at once even on a
// socket in blocking mode, which Go's are not.
const msgDontWait = syscall.MSG_DONTWAIT
