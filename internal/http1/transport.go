// Package http1 is a lean HTTP/1.1 transport for plain-text GET and HEAD
// requests, handing every other request to a fallback http.RoundTripper.
//
// net/http's Transport serves each connection with two goroutines of its
// own and hands every request and response between them and the caller
// through channels: on a fast link, with small bodies, those hand-offs
// are a large part of the cost of a request. This Transport writes the
// request and reads the response on the caller's goroutine, and keeps no
// goroutine at all: on loopback, 16 goroutines fetching 16 KiB bodies
// spent about 30 % less CPU per request than through net/http. It is meant for a downloader's requests, not as a general
// replacement: requests with a body, through a proxy, over TLS (where
// HTTP/2 is wanted) or with headers it would have to reject go to the
// fallback, which decides and words any error.
package http1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Transport is an http.RoundTripper for plain http:// GET and HEAD
// requests that keeps connections alive per host. The zero value is not
// usable: Fallback must be set. It is safe for concurrent use.
type Transport struct {
	// Fallback serves every request this Transport does not: other
	// schemes and methods, requests with a body, through a proxy, or with
	// a header that is not plain text.
	Fallback http.RoundTripper
	// Interim, when set, is told of each interim (1xx) response to req
	// but 101, which RoundTrip skips; also of those that Fallback skips,
	// through an httptrace.ClientTrace. A client that counts them as signs
	// of life sets it once here, where a trace in every request's context
	// would cost an allocation per request.
	Interim func(req *http.Request)
	// HeaderRead, when set, is told of req each time bytes of the
	// response header to it arrive (Fallback's are not told of): signs of
	// life for a watcher that gives up on a server that sends nothing,
	// while a header comes slowly.
	HeaderRead func(req *http.Request)
	// Proxy tells which requests go through a proxy (nil: none do); those
	// go to Fallback. http.ProxyFromEnvironment is the usual choice.
	Proxy func(*http.Request) (*url.URL, error)
	// DialContext opens connections; nil uses a net.Dialer with no timeout.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// MaxConnsPerHost caps the requests in flight to one host:port; more
	// wait for a connection to come free (0 = no cap). Idle connections
	// are kept up to the same number (64 without a cap).
	MaxConnsPerHost int
	// MaxIdleConns caps the idle connections kept over all hosts (0 = no
	// cap); past it the least recently used is closed. Without it, a list
	// of many hosts keeps a connection to each of them to the end.
	MaxIdleConns int
	// IdleConnTimeout is how long an idle connection may wait for reuse;
	// an older one is closed instead (0 = 90 seconds).
	IdleConnTimeout time.Duration
	// ReadBufferSize is the read buffer of each connection (0 = 64 KiB):
	// a small response arrives whole in one read.
	ReadBufferSize int
	// MaxResponseHeaderBytes caps the response header (0 = 1 MiB).
	MaxResponseHeaderBytes int64

	mu    sync.Mutex
	hosts map[string]*host
	nIdle int // idle connections over all hosts

	// readers holds the read buffers of idle connections, which need none
	// until they are used again: a run over many hosts keeps up to
	// MaxIdleConns of them, each with a buffer of ReadBufferSize.
	readers sync.Pool
}

// host is the connections to one host:port.
type host struct {
	slots chan struct{} // a token per request in flight; nil without a cap
	idle  []*conn       // most recently used last
	refs  int           // requests holding h, from Transport.host to release; guarded by Transport.mu
}

// conn is one connection, used by one request at a time.
type conn struct {
	nc     net.Conn
	lr     limitedReader // nc, capped while a header is read
	br     *bufio.Reader // nil while the connection is idle
	wbuf   []byte
	idleAt time.Time
	// pending tells whether the server sent anything, or closed, while
	// the connection was idle (nil: cannot tell); see pendingCheck.
	pending func() bool
}

// limitedReader reads from r until n is spent, then fails: it keeps a
// server from feeding an endless header.
type limitedReader struct {
	r   io.Reader
	n   int64
	eof bool // r said io.EOF: the server closed the connection
	// read, when set, is told of req each time bytes arrive: while a
	// header is read (Transport.HeaderRead).
	read func(req *http.Request)
	req  *http.Request
}

// errHeaderCut fails a request whose response header the connection ended
// in the middle of a line of: http.ReadResponse parses the line cut short,
// and calls it malformed ("malformed HTTP response \"HTTP/1.\""), where the
// next answer may be whole.
var errHeaderCut = fmt.Errorf("the connection closed in the middle of the response header: %w", io.ErrUnexpectedEOF)

// DefaultMaxResponseHeaderBytes is the cap on a response header of a
// Transport whose MaxResponseHeaderBytes is 0.
const DefaultMaxResponseHeaderBytes = 1 << 20

// ErrHeaderTooLong fails a request whose response header is longer than
// MaxResponseHeaderBytes.
var ErrHeaderTooLong = errors.New("the server's response header is too long")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, ErrHeaderTooLong
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if err == io.EOF {
		l.eof = true
	}
	if n > 0 && l.read != nil {
		l.read(l.req)
	}
	return n, err
}

const (
	defaultIdleTimeout = 90 * time.Second
	defaultReadBuffer  = 64 << 10
	defaultMaxHeader   = DefaultMaxResponseHeaderBytes
	defaultMaxIdle     = 64
	noLimit            = 1<<63 - 1
	defaultUserAgent   = "Go-http-client/1.1" // what net/http sends
)

// RoundTrip sends req and returns its response; see http.RoundTripper.
// The response body must be read to its end or closed: a body read to
// its end gives its connection back for reuse, one closed early closes it.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.serves(req) {
		return t.fallback(req)
	}
	if t.Proxy != nil {
		proxy, err := t.Proxy(req)
		if err != nil || proxy != nil {
			return t.fallback(req)
		}
	}
	ctx := req.Context()
	addr := address(req.URL)
	h := t.host(addr)
	if err := h.acquire(ctx); err != nil {
		t.unref(h, addr)
		return nil, err
	}
	for retried := false; ; retried = true {
		c, reused, err := t.conn(ctx, h, addr, retried)
		if err != nil {
			t.release(h, addr)
			return nil, err
		}
		resp, err := t.exchange(ctx, h, addr, c, req)
		if err == nil {
			return resp, nil
		}
		c.nc.Close()
		var stale *staleError
		if errors.As(err, &stale) {
			if reused && !retried && ctx.Err() == nil {
				continue // the server closed it while idle: once more, on a new one (other idle ones may be as stale)
			}
			err = stale.err
		}
		t.release(h, addr)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
}

// MaxInterim is the most interim (1xx) responses a request takes before
// its answer: a server that sends 102 Processing for ever would otherwise
// hold it for ever, each one a sign of life to Interim's watcher.
const MaxInterim = 100

// ErrTooManyInterim fails a request after MaxInterim interim responses; also
// one sent to Fallback, when Interim is set.
var ErrTooManyInterim = fmt.Errorf("the server sent %d interim (1xx) responses and no answer", MaxInterim)

// fallback hands req to Fallback.
func (t *Transport) fallback(req *http.Request) (*http.Response, error) {
	if t.Fallback == nil {
		return nil, fmt.Errorf("http1: no fallback transport for a %s request to %s", req.Method, req.URL.Redacted())
	}
	if t.Interim != nil {
		interim, asked := t.Interim, req // Interim is told of the request it was given
		n := 0                           // one request at a time: no lock
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			Got1xxResponse: func(int, textproto.MIMEHeader) error {
				if n++; n > MaxInterim {
					return ErrTooManyInterim
				}
				interim(asked)
				return nil
			},
		}))
	}
	return t.Fallback.RoundTrip(req)
}

// serves tells whether req is one for this Transport rather than the
// fallback: a plain http:// GET or HEAD with no body, whose header this
// Transport can write as net/http would, without rejecting anything.
func (t *Transport) serves(req *http.Request) bool {
	if req.URL == nil || req.URL.Scheme != "http" || req.URL.Host == "" ||
		(req.Method != http.MethodGet && req.Method != http.MethodHead) ||
		(req.Body != nil && req.Body != http.NoBody) || req.Trailer != nil {
		return false
	}
	if !hostText(req.Host) || !hostText(req.URL.Host) {
		return false
	}
	for k, vs := range req.Header {
		if !token(k) {
			return false
		}
		for _, v := range vs {
			if !plainText(v) {
				return false
			}
		}
	}
	return true
}

// token tells whether s is a non-empty RFC 9110 token: a header name.
func token(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenByte[s[i]] {
			return false
		}
	}
	return true
}

// tokenByte tells the bytes of a token: visible ASCII but delimiters.
var tokenByte = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c)
	}
	return t
}()

// plainText tells whether s can be a header value as is: no control
// character but tab.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// hostText tells whether s can go in the Host header as is: printable
// ASCII, and no IPv6 zone (net/http removes it, and turns international
// names into punycode).
func hostText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '%' {
			return false
		}
	}
	return true
}

// address is u's host:port, port 80 when u names none.
func address(u *url.URL) string {
	if h := u.Host; plainAddress(h) {
		return h // as is, without a copy per request
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port)
}

// plainAddress tells whether h is already an address as address makes it:
// lower case, with a port.
func plainAddress(h string) bool {
	colon := strings.LastIndexByte(h, ':')
	if colon < 0 || colon == len(h)-1 || colon < strings.LastIndexByte(h, ']') {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; 'A' <= c && c <= 'Z' || c == '%' {
			return false
		}
	}
	return true
}

// host returns the connections of addr, making them on first use, for
// a request that gives them back with release (or unref, if it never
// got a slot).
func (t *Transport) host(addr string) *host {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.hosts[addr]
	if h == nil {
		if t.hosts == nil {
			t.hosts = make(map[string]*host)
		}
		h = &host{}
		if t.MaxConnsPerHost > 0 {
			h.slots = make(chan struct{}, t.MaxConnsPerHost)
		}
		t.hosts[addr] = h
	}
	h.refs++
	return h
}

// acquire waits for a slot of h, or for ctx to be done.
func (h *host) acquire(ctx context.Context) error {
	if h.slots == nil {
		return nil
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives h's slot back, and h (see unref).
func (t *Transport) release(h *host, addr string) {
	if h.slots != nil {
		<-h.slots
	}
	t.unref(h, addr)
}

// unref gives h back. A host that no request holds and with nothing idle
// is forgotten, so that a run over many hosts keeps no trace of them.
// (Counting requests rather than slots matters: a host forgotten while a
// request still holds it would get that request's connection as idle, out
// of reach, and let a request to a new host value for addr past the cap.)
func (t *Transport) unref(h *host, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h.refs--
	if h.refs == 0 && len(h.idle) == 0 && t.hosts[addr] == h {
		delete(t.hosts, addr)
	}
}

// conn returns an idle connection to addr, or dials one; a fresh one
// when fresh is set.
func (t *Transport) conn(ctx context.Context, h *host, addr string, fresh bool) (c *conn, reused bool, err error) {
	if !fresh {
		for c := t.takeIdle(h); c != nil; c = t.takeIdle(h) {
			if c.pending == nil || !c.pending() {
				c.br = t.reader(&c.lr)
				return c, true, nil
			}
			// The server sent something while the connection was idle (a
			// second response to the last request, say), or closed it:
			// what it sent would be read as the answer to this request.
			c.nc.Close()
		}
	}
	dial := t.DialContext
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	c = &conn{nc: nc, lr: limitedReader{r: nc, n: noLimit}, pending: pendingCheck(nc)}
	c.br = t.reader(&c.lr)
	return c, false, nil
}

// reader returns a read buffer on r: one an idle connection gave back, or
// a new one.
func (t *Transport) reader(r io.Reader) *bufio.Reader {
	if br, ok := t.readers.Get().(*bufio.Reader); ok {
		br.Reset(r)
		return br
	}
	size := t.ReadBufferSize
	if size <= 0 {
		size = defaultReadBuffer
	}
	return bufio.NewReaderSize(r, size)
}

// takeIdle pops the most recently used idle connection of h that is not
// too old; older ones are closed.
func (t *Transport) takeIdle(h *host) *conn {
	timeout := t.IdleConnTimeout
	if timeout <= 0 {
		timeout = defaultIdleTimeout
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(h.idle) > 0 {
		c := h.idle[len(h.idle)-1]
		h.idle[len(h.idle)-1] = nil
		h.idle = h.idle[:len(h.idle)-1]
		t.nIdle--
		if now.Sub(c.idleAt) < timeout {
			return c
		}
		c.nc.Close()
	}
	return nil
}

// putIdle keeps c for reuse and releases its slot, or closes it when h
// already keeps enough. c's read buffer, empty, is given back for the next
// connection used.
func (t *Transport) putIdle(h *host, addr string, c *conn) {
	maxIdle := t.MaxConnsPerHost
	if maxIdle <= 0 {
		maxIdle = defaultMaxIdle
	}
	c.br.Reset(nil)
	t.readers.Put(c.br)
	c.br = nil
	c.idleAt = time.Now()
	t.mu.Lock()
	if len(h.idle) < maxIdle {
		h.idle = append(h.idle, c)
		t.nIdle++
		c = nil
		if t.MaxIdleConns > 0 && t.nIdle > t.MaxIdleConns {
			c = t.evictOldest()
		}
	}
	t.mu.Unlock()
	if c != nil {
		c.nc.Close()
	}
	t.release(h, addr)
}

// evictOldest takes the least recently used idle connection of all hosts
// out of the pool, forgetting its host if that leaves it with nothing, and
// returns it to be closed (nil when none is idle). t.mu must be held. The
// search is over the hosts remembered, at most MaxIdleConns and the hosts
// of the requests in flight.
func (t *Transport) evictOldest() *conn {
	var oldest *host
	var oldestAddr string
	for addr, h := range t.hosts {
		if len(h.idle) > 0 && (oldest == nil || h.idle[0].idleAt.Before(oldest.idle[0].idleAt)) {
			oldest, oldestAddr = h, addr
		}
	}
	if oldest == nil {
		return nil
	}
	c := oldest.idle[0]
	oldest.idle[0] = nil
	oldest.idle = oldest.idle[1:]
	t.nIdle--
	if oldest.refs == 0 && len(oldest.idle) == 0 {
		delete(t.hosts, oldestAddr)
	}
	return c
}

// CloseIdleConnections closes the connections kept for reuse, and the
// fallback's.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	var idle []*conn
	for addr, h := range t.hosts {
		idle = append(idle, h.idle...)
		t.nIdle -= len(h.idle)
		h.idle = nil
		if h.refs == 0 {
			delete(t.hosts, addr)
		}
	}
	t.mu.Unlock()
	for _, c := range idle {
		c.nc.Close()
	}
	if ci, ok := t.Fallback.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// staleError is a failure before the first byte of the response on a
// reused connection: the server closed it while it was idle, and the
// request can go again on a new one.
type staleError struct{ err error }

func (e *staleError) Error() string { return e.err.Error() }
func (e *staleError) Unwrap() error { return e.err }

// ErrTLSAnswer is the failure of a request whose answer is a TLS record
// (an alert, or a handshake): the URL says http:// for a port that serves
// https.
var ErrTLSAnswer = errors.New("the server answered in TLS: its port serves https://, not http://")

// NotHTTPError is the failure of a request whose answer does not begin as
// an HTTP/1 response does, with "HTTP/": the port serves another protocol
// (SMTP, FTP, Redis...), or HTTP/0.9, whose answer is the bare body.
// net/http would take a word of it for a status code, and say that it is
// malformed ("malformed HTTP status code \"unknown\"").
type NotHTTPError struct {
	// Begins is the answer's first line, or its first 64 bytes.
	Begins string
}

func (e *NotHTTPError) Error() string {
	return fmt.Sprintf("the server's answer is not HTTP/1.x (it begins %q): its port serves another protocol, or HTTP/0.9, which fetchpool does not speak", e.Begins)
}

// beginsHTTP tells whether what br holds can begin an HTTP/1 response:
// "HTTP/", or as much of it as has come, in any case (http.ReadResponse
// words a wrong case itself).
func beginsHTTP(br *bufio.Reader) bool {
	const prefix = "HTTP/"
	b, _ := br.Peek(min(br.Buffered(), len(prefix)))
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// firstLine is the first line of what br holds, at most 64 bytes of it,
// for a message; after the line ends it begins with, if any, so as not
// to show "".
func firstLine(br *bufio.Reader) string {
	b, _ := br.Peek(min(br.Buffered(), 64))
	start := len(b) - len(bytes.TrimLeft(b, "\r\n"))
	if i := bytes.IndexAny(b[start:], "\r\n"); i >= 0 {
		b = b[:start+i]
	}
	return string(b)
}

// ErrHTTP10TransferEncoding fails a request whose answer is an HTTP/1.0
// response with a Transfer-Encoding, which HTTP/1.0 does not have: its
// framing cannot be trusted (RFC 9112, 6.1: a client "MUST treat the
// message as if the framing is faulty"). http.ReadResponse drops the
// header and reads the body to the connection's end, or to its
// Content-Length: a chunked body was saved with its chunk sizes in it.
var ErrHTTP10TransferEncoding = errors.New("the server sent an HTTP/1.0 response with a Transfer-Encoding, which HTTP/1.0 does not have: where its body ends cannot be told")

// checkHTTP10 fails with ErrHTTP10TransferEncoding an HTTP/1.0 response
// whose header has a Transfer-Encoding line, waiting for the whole header
// as http.ReadResponse would. It says nothing of other responses, nor of
// a header cut short or longer than br's buffer: http.ReadResponse reads
// those. Only an HTTP/1.0 response costs more than a look at its first
// bytes.
func checkHTTP10(br *bufio.Reader) error {
	if b, err := br.Peek(len("HTTP/1.0 ")); err != nil || string(b) != "HTTP/1.0 " {
		return nil
	}
	for {
		b, _ := br.Peek(br.Buffered())
		if header, ok := headerBlock(b); ok {
			if hasHeaderLine(header, "Transfer-Encoding") {
				return ErrHTTP10TransferEncoding
			}
			return nil
		}
		if br.Buffered() >= br.Size() {
			return nil
		}
		if _, err := br.Peek(br.Buffered() + 1); err != nil {
			return nil
		}
	}
}

// headerBlock is the status line and header lines at the start of b, up
// to the empty line that ends them (lines end in LF or CRLF), and whether
// that line is in b.
func headerBlock(b []byte) ([]byte, bool) {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return nil, false
		}
		if line := b[i : i+j]; i > 0 && (len(line) == 0 || len(line) == 1 && line[0] == '\r') {
			return b[:i], true
		}
		i += j + 1
	}
}

// hasHeaderLine tells whether header, a header block (headerBlock), has a
// line for the field name, in any case.
func hasHeaderLine(header []byte, name string) bool {
	_, rest, _ := bytes.Cut(header, []byte("\n")) // the status line
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		if key, _, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(key, []byte(name)) {
			return true
		}
	}
	return false
}

// The content types of TLS records that a TLS server sends to a client
// that did not say hello: the first byte of its answer.
const (
	tlsAlert     = 0x15
	tlsHandshake = 0x16
)

// pastDeadline is a deadline long gone: setting it fails a blocked read or
// write at once.
var pastDeadline = time.Unix(1, 0)

// exchange writes req on c and reads the response header. The body it
// returns gives c back (or closes it) at its end.
func (t *Transport) exchange(ctx context.Context, h *host, addr string, c *conn, req *http.Request) (*http.Response, error) {
	stop := func() bool { return true }
	if ctx.Done() != nil {
		nc := c.nc
		stop = context.AfterFunc(ctx, func() { nc.SetDeadline(pastDeadline) })
	}
	fail := func(err error) (*http.Response, error) {
		stop()
		return nil, err
	}
	c.wbuf = appendRequest(c.wbuf[:0], req)
	// Let the goroutines that are ready run first: on one P (see
	// internal/procs) they are the ones whose responses have arrived, and
	// their next requests then leave together with this one, as from an
	// event loop, instead of waking the server once each.
	runtime.Gosched()
	if _, err := c.nc.Write(c.wbuf); err != nil {
		return fail(&staleError{err: err})
	}
	maxHeader := t.MaxResponseHeaderBytes
	if maxHeader <= 0 {
		maxHeader = defaultMaxHeader
	}
	c.lr.n, c.lr.eof = maxHeader+int64(c.br.Size()), false
	if t.HeaderRead != nil {
		c.lr.read, c.lr.req = t.HeaderRead, req // until the header is read (a failure closes c)
	}
	b, err := c.br.Peek(1)
	if err != nil {
		return fail(&staleError{err: err})
	}
	if b[0] == tlsAlert || b[0] == tlsHandshake {
		return fail(ErrTLSAnswer) // no HTTP response begins so
	}
	if !beginsHTTP(c.br) {
		return fail(&NotHTTPError{Begins: firstLine(c.br)})
	}
	if err := checkHTTP10(c.br); err != nil {
		return fail(err)
	}
	resp, err := readResponse(c.br, req, t.Interim)
	c.lr.read, c.lr.req = nil, nil // the body's bytes are the caller's to count
	if err != nil {
		switch {
		case c.lr.n <= 0:
			// The cap cut the header short, maybe mid-line: say so,
			// not what the parser made of the cut.
			err = fmt.Errorf("reading the response: %w", ErrHeaderTooLong)
		case c.lr.eof && !errors.Is(err, io.ErrUnexpectedEOF):
			// So did the connection's end: the parser needed more
			// than came (a whole line that is malformed does not
			// read to the end).
			err = fmt.Errorf("reading the response: %w", errHeaderCut)
		}
		return fail(err)
	}
	c.lr.n = noLimit
	// After a 101 the connection speaks another protocol: never reused.
	rb := &body{t: t, h: h, addr: addr, c: c, stop: stop, ctx: ctx, rc: resp.Body,
		reuse: !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols}
	if resp.Body == http.NoBody {
		rb.finish(true)
		return resp, nil
	}
	resp.Body = rb
	return resp, nil
}

// readResponse reads a response header, skipping informational (1xx)
// responses but 101, which it tells interim (nil: nobody) of.
func readResponse(br *bufio.Reader, req *http.Request, interim func(*http.Request)) (*http.Response, error) {
	if resp := readPlain(br, req); resp != nil {
		return resp, nil
	}
	for n := 0; ; n++ {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("reading the response: %w", err)
		}
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
		if n == MaxInterim {
			return nil, ErrTooManyInterim
		}
		if interim != nil {
			interim(req)
		}
	}
}

// appendRequest appends req's request line and header to b, as net/http
// writes them for a request with no body.
func appendRequest(b []byte, req *http.Request) []byte {
	b = append(b, req.Method...)
	b = append(b, ' ')
	b = append(b, req.URL.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	b = append(b, strings.TrimSuffix(host, ":")...)
	b = append(b, "\r\n"...)
	userAgent := defaultUserAgent
	if vs, ok := req.Header["User-Agent"]; ok {
		userAgent = ""
		if len(vs) > 0 {
			userAgent = vs[0]
		}
	}
	if userAgent != "" {
		b = append(b, "User-Agent: "...)
		b = append(b, strings.TrimSpace(userAgent)...)
		b = append(b, "\r\n"...)
	}
	for k, vs := range req.Header {
		switch k {
		case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer":
			continue // written above, or not at all for a request with no body
		}
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, strings.TrimSpace(v)...)
			b = append(b, "\r\n"...)
		}
	}
	if _, ok := req.Header["Connection"]; req.Close && !ok {
		b = append(b, "Connection: close\r\n"...)
	}
	return append(b, "\r\n"...)
}

// body is a response body that gives its connection back at its end.
// Close may be called while a Read blocks, to abort it.
type body struct {
	mu    sync.Mutex
	eof   bool // finished at the end of the body, not by Close
	t     *Transport
	h     *host
	addr  string
	c     *conn // nil once finished
	rc    io.ReadCloser
	ctx   context.Context
	stop  func() bool // stops the cancellation hook; false if it ran
	reuse bool        // the connection may be reused after the body
}

var errBodyClosed = errors.New("http1: read on closed response body")

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	open, eof := b.c != nil, b.eof
	b.mu.Unlock()
	switch {
	case eof:
		return 0, io.EOF
	case !open:
		return 0, errBodyClosed
	}
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.finish(true)
	case err != nil:
		if cerr := b.ctx.Err(); cerr != nil {
			err = cerr
		}
		b.finish(false)
	}
	return n, err
}

// WriteBuffered passes the rest of the body to write in one call, straight
// from the connection's read buffer, when that buffer holds all of it (a
// small response usually arrives whole in one read): the bytes are not
// copied out first. The body then ends as a Read to its end would end it,
// giving the connection back, and WriteBuffered reports true and write's
// error (after an error, the body is left as it was: close it). When the
// buffer does not hold the whole rest, or the length is not known, it does
// nothing and reports false: read the body as usual.
func (b *body) WriteBuffered(write func([]byte) error) (bool, error) {
	fb, ok := b.rc.(*fixedBody)
	if !ok {
		return false, nil
	}
	br, ok := fb.r.(*bufio.Reader)
	if !ok || fb.n <= 0 || int64(br.Buffered()) < fb.n {
		return false, nil
	}
	b.mu.Lock()
	open := b.c != nil
	b.mu.Unlock()
	if !open {
		return false, nil // closed: Read says so
	}
	// A Close meanwhile closes the connection but leaves its buffer
	// alone, and the connection is not reused: p stays valid.
	p, _ := br.Peek(int(fb.n))
	if err := write(p); err != nil {
		return true, err
	}
	_, _ = br.Discard(len(p))
	fb.n = 0
	b.finish(true)
	return true, nil
}

// Close ends the body; before its end, that closes the connection.
func (b *body) Close() error {
	b.finish(false)
	return nil
}

// finish gives the connection back for reuse (at the body's end, when
// the response allows it) or closes it, and releases the request's slot;
// once.
func (b *body) finish(atEOF bool) {
	b.mu.Lock()
	c := b.c
	b.c = nil
	if c != nil && atEOF {
		b.eof = true
	}
	b.mu.Unlock()
	if c == nil {
		return
	}
	reuse := atEOF && b.reuse
	if !b.stop() {
		reuse = false // the context was done: c's deadline is in the past
	}
	if reuse && c.br.Buffered() == 0 {
		b.t.putIdle(b.h, b.addr, c)
		return
	}
	c.nc.Close()
	b.t.release(b.h, b.addr)
}
