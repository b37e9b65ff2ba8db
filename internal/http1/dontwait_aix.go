package http1

// msgDontWait is 0 on AIX, which has no MSG_DONTWAIT: the peek does not
// wait anyway, as Go's sockets are non-blocking.
const msgDontWait = 0
