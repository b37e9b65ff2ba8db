package fetch

import (
	"context"
	"errors"
	"hash"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// bufSize is the copy buffer: large enough that a fast loopback or LAN
// transfer makes few system calls per megabyte.
const bufSize = 256 << 10

// copyBody copies r into f starting at offset off, at most limit bytes
// (limit < 0: until EOF), feeding h (if not nil) and p. It returns the bytes
// written; a read error comes back as *readError, a write error as
// *diskFullError or *writeError naming the file.
//
// Reads fill the buffer, and it is written when full, at the end of the
// body, or before an error is returned, so a small body that arrives in
// several reads is one write. What was read is always written, so the part
// holds every byte received when a read fails.
//
// This is the hot path: per read, one atomic add on p (plus, through a
// guard's watch, one on the stall counter); per buffer, one write and one
// hash update; no allocation, no lock.
func (c *Client) copyBody(ctx context.Context, f *partFile, off int64, r io.Reader, limit int64, h hash.Hash, p *event.Progress) (int64, error) {
	bp := c.getBuf()
	defer c.putBuf(bp)
	buf := *bp
	done := ctx.Done()
	var n int64 // written to f
	held := 0   // read into buf[:held], not written yet
	for {
		var rerr error
		select {
		case <-done:
			rerr = ctx.Err()
		default:
			room := buf[held:]
			if left := limit - n - int64(held); limit >= 0 && left < int64(len(room)) {
				room = room[:left]
			}
			m, err := r.Read(room)
			held += m
			p.Add(int64(m))
			rerr = err
			if rerr == nil && len(room) > m {
				continue // room left in the buffer and in the limit
			}
		}
		if held > 0 {
			// Another program may cut the part (its lock is only
			// advisory): a write after the cut would leave a hole of
			// zeros where the bytes cut were. One fstat a buffer, none
			// for a body that fits in one.
			if n > 0 {
				if err := checkPart(f, f.Name(), off+n); err != nil {
					return n, err
				}
			}
			if _, werr := f.WriteAt(buf[:held], off+n); werr != nil {
				return n, classifyWrite(f.Name(), werr)
			}
			if h != nil {
				h.Write(buf[:held])
			}
			n += int64(held)
			held = 0
		}
		switch {
		case rerr == io.EOF:
			return n, nil
		case rerr != nil:
			return n, &readError{err: rerr}
		case limit >= 0 && n >= limit:
			return n, nil
		}
	}
}

// getBuf takes a free copy buffer, or makes one.
//
// The free buffers are a channel, not a sync.Pool: a pool is emptied by
// every garbage collection, and a run of small files collects often, so
// each worker made (and zeroed) a new 256 KiB buffer after each one. The
// channel keeps at most one per request in flight, as many as are in use
// at the busiest moment anyway.
func (c *Client) getBuf() *[]byte {
	select {
	case b := <-c.bufs:
		return b
	default:
		b := make([]byte, bufSize)
		return &b
	}
}

// putBuf gives a buffer back.
func (c *Client) putBuf(b *[]byte) {
	select {
	case c.bufs <- b:
	default:
	}
}

// classifyWrite turns a failed write of path into a disk-full error or a
// plain write error.
func classifyWrite(path string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return &diskFullError{path: path, err: err, noInodes: outOfInodes(filepath.Dir(path))}
	}
	if errors.Is(err, syscall.EFBIG) {
		return &diskFullError{path: path, err: err, fsMax: !fileSizeLimited()}
	}
	if errors.Is(err, syscall.EDQUOT) || noSpace(err) {
		return &diskFullError{path: path, err: err}
	}
	if errors.Is(err, syscall.ENOTDIR) {
		return &writeError{path: path, err: err, file: fileAbove(path)}
	}
	if pe := (*fs.PathError)(nil); errors.Is(err, syscall.EINVAL) && errors.As(err, &pe) && pe.Op == "open" {
		// An open that creates a file fails so for a name that the file
		// system refuses: vfat and exfat take no : * ? " < > | \ in one.
		return &writeError{path: path, err: err, badName: true}
	}
	// Out of file descriptors (EMFILE, ENFILE): writeError's message says
	// what to do (withFDHint).
	return &writeError{path: path, err: err}
}

// fileAbove is the nearest of the directories above path that exists and
// is not a directory (an output directory replaced by a file during the
// run), or "" when there is none.
func fileAbove(path string) string {
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		if fi, err := os.Lstat(dir); err == nil && !fi.IsDir() {
			return dir
		}
		if up := filepath.Dir(dir); up == dir {
			return ""
		}
	}
}

// guard bounds one request: its context is cancelled with a *stallError
// when no byte arrives for the stall timeout, from the request on (the wait
// for headers included). Every answer before the body counts as bytes too:
// each response of a chain of redirects (Client.do tells answered), and
// each interim (1xx) response (the transport's Interim hook finds the
// guard as the request's context, a *guardCtx); a server that answers
// every hop in time, or says 102 Processing while it works, is not silent.
// Reads through watch count bytes with one atomic add; a watchdog timer
// looks at the count four times per stall timeout, so a stall is caught
// between one and one and a quarter timeouts after the last byte, and the
// per-read path takes no lock (a Timer.Reset per read would).
type guard struct {
	ctx        context.Context
	cancel     context.CancelCauseFunc
	endTimeout context.CancelFunc // of --timeout; nil without one
	clock      *attemptClock      // of --timeout; nil without one
	stall      time.Duration
	timer      *time.Timer   // the watchdog; nil without a stall timeout
	got        atomic.Int64  // bytes of the body, answers before it, and ends of waits (see paid)
	paying     atomic.Bool   // bytes arrived and wait for the --limit-rate throttle: not a stall
	watched    watchedReader // what watch returns: made with the guard
	gctx       guardCtx      // ctx, as a type the Interim hook can find

	// Owned by the watchdog.
	seen  int64
	since time.Time
}

// newGuard bounds a request made under ctx: by --timeout, whose context
// is cancelled with a *timeoutError, and by the stall watchdog.
func (c *Client) newGuard(ctx context.Context) *guard {
	g := &guard{stall: c.cfg.StallTimeout, since: time.Now()}
	if d := c.cfg.Timeout; d > 0 {
		tctx, cancel := context.WithCancelCause(ctx)
		g.clock = &attemptClock{left: d, armed: time.Now()}
		g.clock.timer = time.AfterFunc(d, func() { cancel(&timeoutError{d: d}) })
		g.endTimeout = func() {
			g.clock.timer.Stop()
			cancel(nil)
		}
		ctx = tctx
	}
	cctx, cancel := context.WithCancelCause(ctx)
	g.gctx = guardCtx{Context: cctx, g: g}
	g.ctx, g.cancel = &g.gctx, cancel
	if g.stall > 0 {
		g.timer = time.AfterFunc(time.Duration(math.MaxInt64), g.look)
		g.timer.Reset(g.tick())
	}
	return g
}

// guardCtx is a guard's context: a type of its own, so that a hook given
// only the request can find the guard (see interim), with no value added
// to the context per request.
type guardCtx struct {
	context.Context
	g *guard
}

// guardKey is the key under which a guardCtx, and any context made from
// it (a hook's, httptrace's), gives its guard.
type guardKey struct{}

// Value gives the guard for guardKey, and what the context holds for any
// other key.
func (c *guardCtx) Value(key any) any {
	if key == (guardKey{}) {
		return c.g
	}
	return c.Context.Value(key)
}

// answered tells the watchdog that a response arrived (nil g: no guard).
func (g *guard) answered() {
	if g != nil {
		g.got.Add(1)
	}
}

// interim is the transport's Interim hook: it tells the guard of req, if
// any, that an interim (1xx) response arrived.
func interim(req *http.Request) {
	if gc, ok := req.Context().(*guardCtx); ok {
		gc.g.answered()
	}
}

// attemptClock is the --timeout of one request: it runs while the request
// does, and stands still while the request waits at the gate (see hold).
type attemptClock struct {
	mu    sync.Mutex
	timer *time.Timer   // cancels the request with a *timeoutError
	left  time.Duration // of the timeout, when the timer was armed
	armed time.Time
}

// hold stops g's clocks, the --timeout and the stall watchdog, while the
// request waits for something that is not the server (a gate slot of a
// redirect's host), as the wait at the gate before a first request is not
// part of an attempt either. The returned function starts them again.
func (g *guard) hold() (resume func()) {
	g.paying.Store(true)
	c := g.clock
	if c == nil {
		return g.paid
	}
	c.mu.Lock()
	stopped := c.timer.Stop()
	c.left -= time.Since(c.armed)
	c.mu.Unlock()
	return func() {
		g.paid()
		if !stopped {
			return // it fired already
		}
		c.mu.Lock()
		c.armed = time.Now()
		c.timer.Reset(max(c.left, 0))
		c.mu.Unlock()
	}
}

// connecting stops the stall watchdog of the guard of ctx, if it has one,
// while a connection for its request is being made (the dial, a proxy's
// CONNECT, the TLS handshake): --connect-timeout bounds that, and says so,
// while a shorter stall timeout blamed the silence of a server not reached
// yet. The --timeout of the attempt runs on: it bounds the whole attempt.
// The returned function starts the watchdog again; call it once.
func connecting(ctx context.Context) (resume func()) {
	g, ok := ctx.Value(guardKey{}).(*guard)
	if !ok || g.timer == nil {
		return func() {}
	}
	g.paying.Store(true)
	return g.paid
}

// paid ends a wait that is not a stall (hold, or bytes paying the
// throttle). It counts as a sign of life, as bytes do, so that the
// watchdog counts the stall timeout from its first look after the wait,
// not from its last look during it: that one may be up to a tick before the
// wait ended, and the server would get as little as three quarters of the
// timeout.
func (g *guard) paid() {
	g.got.Add(1)
	g.paying.Store(false)
}

// tick is how often the watchdog looks.
func (g *guard) tick() time.Duration { return max(g.stall/4, time.Millisecond) }

// look is the watchdog: it notes whether bytes came since the last look,
// and cancels the request once none came for the stall timeout.
func (g *guard) look() {
	if g.ctx.Err() != nil {
		return // the request is over
	}
	now := time.Now()
	if n := g.got.Load(); n != g.seen || g.paying.Load() {
		g.seen, g.since = n, now
	}
	if now.Sub(g.since) >= g.stall {
		g.cancel(&stallError{d: g.stall})
		return
	}
	g.timer.Reset(g.tick())
}

// stop ends the request's context, its timeout and its watchdog.
func (g *guard) stop() {
	g.cancel(nil)
	if g.endTimeout != nil {
		g.endTimeout()
	}
	if g.timer != nil {
		g.timer.Stop()
	}
}

// watch returns r, counting the bytes it yields for the watchdog. It is
// called once per guard: a request has one body.
func (g *guard) watch(r io.Reader) io.Reader {
	if g.timer == nil {
		return r
	}
	g.watched = watchedReader{r: r, g: g}
	return &g.watched
}

// throttled returns body through the stall watch and then th (nil: no
// throttle). The time that bytes which have arrived spend waiting for th
// to let them through is not a stall: at a low --limit-rate shared by many
// transfers, each one may wait longer than the stall timeout for its turn
// while the bytes flow at the cap.
func (g *guard) throttled(body io.Reader, th Throttle) io.Reader {
	r := g.watch(body)
	if th == nil {
		return r
	}
	r = th.Reader(g.ctx, r)
	if g.timer == nil {
		return r
	}
	g.watched.paced = true
	return &paidReader{r: r, g: g}
}

type watchedReader struct {
	r     io.Reader
	g     *guard
	paced bool // read through a throttle (throttled): bytes read wait for it
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.g.got.Add(int64(n))
		if w.paced {
			w.g.paying.Store(true)
		}
	}
	return n, err
}

// paidReader is the throttle's side of throttled: once its Read returns,
// the bytes are through, and the watchdog waits for the network again.
type paidReader struct {
	r io.Reader
	g *guard
}

func (p *paidReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.g.paid()
	return n, err
}

// why explains a failure of a request under g, made for a transfer under
// parent: parent's own error when the caller stopped it, the stall or the
// timeout that cancelled the request, or err itself.
func (g *guard) why(parent context.Context, err error) error {
	if perr := parent.Err(); perr != nil {
		return perr
	}
	if g.ctx.Err() != nil {
		if cause := context.Cause(g.ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return cause
		}
	}
	return err
}

// whyRequest is why for an error of Client.do: the stall or timeout that
// cut short a request to a redirect's target names that target too.
func (g *guard) whyRequest(parent context.Context, err error) error {
	why := g.why(parent, err)
	var at *redirectedError
	if why != err && parent.Err() == nil && errors.As(err, &at) {
		return &redirectedError{url: at.url, err: why}
	}
	return why
}
