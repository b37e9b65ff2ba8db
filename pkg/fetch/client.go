package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fetchpool/fetchpool/internal/http1"
	"github.com/fetchpool/fetchpool/pkg/event"
)

// defaultIdlePerHost is how many idle connections to one host a Client
// without Config.Concurrency keeps, as http1.Transport does without
// MaxConnsPerHost.
const defaultIdlePerHost = 64

// transport is the one connection pool of a Client.
//
// Idle connections per host are sized to the pool (every worker, times
// every range of a split) so that keep-alive connections are reused instead
// of being closed and dialled again; the default of 2 would churn. Over
// all hosts they are capped (maxIdleConns), so that a list of thousands of
// hosts does not keep a connection to each.
//
// Connections per host are capped at the same number, the most requests
// the Client ever has in flight. Without the cap, a worker that sends its
// next request before the transport has put the last one's connection back
// (it does so on its own goroutine, just after the body's end) finds none
// idle and dials another: a -j 16 run of small files opened 18 to 26
// connections instead of 16. With it, the request waits the moment it
// takes for that connection.
//
// Plain http:// requests not sent through a proxy go through the lean
// http1.Transport, whose exchange costs about a third less CPU than
// net/http's (it matters on a run of small files); the rest (https with
// HTTP/2, proxies) go through net/http's. net/http caps idle HTTP/1.1
// connections over all hosts, but keeps an idle HTTP/2 connection to each
// host until IdleConnTimeout, whatever their number: its connections are
// counted (capConns), and when more are open than can be in use plus
// maxIdleConns, the idle ones are closed.
func (c *Client) transport() http.RoundTripper {
	dialer := &net.Dialer{Timeout: c.cfg.ConnectTimeout}
	// A Config without Concurrency says nothing of how many requests come
	// at once: no cap (a cap of 2 would hold back the workers of a larger
	// pool until their stall timeouts ended them), and as many idle
	// connections as http1 keeps by default.
	conns, idle := 0, defaultIdlePerHost
	if c.cfg.Concurrency > 0 {
		conns = max(c.cfg.inFlight(), 2)
		idle = conns
	}
	maxIdle := maxIdleConns(idle)
	proxy := c.cfg.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	tr := &http.Transport{
		Proxy:               proxy,
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: c.cfg.ConnectTimeout,
		// No ResponseHeaderTimeout: the stall guard of each request covers
		// the wait for headers, and the transport's own timer would cost one
		// more timer per request.
		DisableCompression:    true,
		MaxIdleConns:          maxIdle,
		MaxIdleConnsPerHost:   min(idle, maxIdle),
		MaxConnsPerHost:       conns,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		// A proxy that refuses a CONNECT fails the request with its status,
		// typed, so that it is retried (or not) as a status is, and named
		// as the proxy's (describe): net/http's own error is the bare
		// reason phrase, "Proxy Authentication Required".
		OnProxyConnectResponse: func(_ context.Context, _ *url.URL, _ *http.Request, resp *http.Response) error {
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			return &net.OpError{Op: "proxyconnect", Net: "tcp", Err: newHTTPError(resp)}
		},
	}
	// The CONNECT of an https URL through a proxy says who asks as the
	// requests do (-A, or -H User-Agent), not "Go-http-client/1.1".
	// A User-Agent header with an empty value sends none, there too.
	ua := c.cfg.UserAgent
	vs, set := c.cfg.Header[http.CanonicalHeaderKey("User-Agent")]
	if set {
		ua = ""
		if len(vs) > 0 {
			ua = vs[0]
		}
	}
	if ua != "" || set {
		tr.ProxyConnectHeader = http.Header{"User-Agent": {ua}}
	}
	if c.cfg.Insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // --insecure asks for it
	}
	// In use: at most one connection per request in flight (or, without
	// Concurrency, as many as are kept idle per host).
	dial := boundDial(dialer.DialContext, c.cfg.ConnectTimeout)
	tr.DialContext = capConns(boundSetup(dial, c.cfg.ConnectTimeout),
		maxIdle+max(conns, idle), tr.CloseIdleConnections)
	return &http1.Transport{
		Fallback:        &firstConn{rt: tr, timeout: c.cfg.ConnectTimeout},
		Interim:         interim,
		HeaderRead:      interim,
		Proxy:           tr.Proxy,
		DialContext:     dial,
		MaxConnsPerHost: tr.MaxConnsPerHost,
		MaxIdleConns:    tr.MaxIdleConns,
		IdleConnTimeout: tr.IdleConnTimeout,
	}
}

// maxIdleConns is how many idle connections a Client keeps over all hosts,
// for inFlight requests at most at once: room for every connection of one
// host and for a list that takes turns over a few hosts, but not one
// connection to every host of a list of thousands, which would run out of
// file descriptors. Nor more than the limit on open files leaves once each
// request in flight has its connection, its file and for a moment a second
// one (a sidecar), and the process its own few (fdReserve): -j 64 over many
// hosts under ulimit -n 256 kept 256 idle connections, and failed most
// items "too many open files".
func maxIdleConns(inFlight int) int {
	return idleWithin(inFlight, openFileLimit())
}

// fdReserve is the file descriptors kept for the process's own use
// (standard streams, input lists, --report, --failed, the runtime's).
const fdReserve = 32

// minIdle is the fewest idle connections kept whatever the limit on open
// files: a few, so that a list on one host still reuses its connections.
const minIdle = 4

// idleWithin is maxIdleConns under a limit of limit open files (0 = none
// known).
func idleWithin(inFlight, limit int) int {
	n := max(4*inFlight, 64)
	if limit > 0 {
		n = min(n, max(limit-3*inFlight-fdReserve, minIdle))
	}
	return n
}

// capConns wraps dial so that it counts the connections open, and calls
// closeIdle each time a dial finds more than limit of them: the idle ones
// then go (net/http's CloseIdleConnections leaves those that carry a
// request, or are about to). It is how idle HTTP/2 connections, which
// net/http keeps one per host without a cap over all hosts, are held to
// maxIdleConns: over thousands of hosts they would run out of file
// descriptors. Closing them all, not the least recently used ones, is the
// most net/http allows; past the limit, most are to hosts of no further
// use anyway.
func capConns(dial func(ctx context.Context, network, addr string) (net.Conn, error), limit int,
	closeIdle func()) func(ctx context.Context, network, addr string) (net.Conn, error) {
	open := new(atomic.Int64)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if open.Add(1) > int64(limit) {
			// This connection is not in the pool yet: it stays.
			closeIdle()
		}
		return &countedConn{Conn: nc, open: open}, nil
	}
}

// boundSetup wraps dial so that a connection gets timeout for its setup:
// the CONNECT exchange with a proxy, which net/http bounds only by a
// minute of its own, and the start of a TLS handshake (which
// TLSHandshakeTimeout bounds as well). A proxy that takes the connection
// and never answers the CONNECT would otherwise hold the request until the
// stall timeout, which blames the server. The deadline ends at the first
// write after a read: the TLS client's second flight, once the proxy has
// answered and the server has spoken. A connection whose first write is
// neither a CONNECT nor a TLS handshake (a plain http request through a
// proxy) loses it at once: its first read is the response, which may take
// longer than a connect.
func boundSetup(dial func(ctx context.Context, network, addr string) (net.Conn, error),
	timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if timeout <= 0 {
		return dial
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if err := nc.SetDeadline(time.Now().Add(timeout)); err != nil {
			return nc, nil //nolint:nilerr // no deadline: the stall timeout still holds
		}
		// Until its setup is over, the stall timeout waits: the deadline
		// bounds it.
		return &setupConn{Conn: nc, timeout: timeout, resume: connecting(ctx)}, nil
	}
}

// tlsHandshakeRecord is the first byte of a TLS handshake record, which a
// ClientHello begins with.
const tlsHandshakeRecord = 0x16

// setupConn is a connection whose deadline (boundSetup) lasts until its
// first write after a read.
type setupConn struct {
	net.Conn
	timeout time.Duration
	read    atomic.Bool // something was read
	done    atomic.Bool // the deadline is lifted
	wrote   atomic.Bool // something was written
	connect atomic.Bool // the first write was a proxy's CONNECT request
	// resume starts the stall watchdog of the request that dialled it
	// again (connecting), once the setup is over: done, failed, or the
	// connection closed.
	resume     func()
	resumeOnce sync.Once
}

// setupOver starts the stall watchdog again (resume), once.
func (c *setupConn) setupOver() {
	c.resumeOnce.Do(c.resume)
}

// Close closes the connection, which ends its setup too.
func (c *setupConn) Close() error {
	c.setupOver()
	return c.Conn.Close()
}

// Read reads, and tells a later Write that the other side has spoken. A
// timeout there is the setup's: an *setupTimeoutError says so.
func (c *setupConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.read.Store(true)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() && !c.done.Load() {
		c.setupOver()
		e := &setupTimeoutError{d: c.timeout, err: err}
		if c.connect.Load() {
			e.proxy = c.RemoteAddr().String()
		}
		return n, e
	}
	return n, err
}

// Write lifts the deadline at the first write after a read, then writes.
func (c *setupConn) Write(p []byte) (int, error) {
	if !c.wrote.Swap(true) {
		c.connect.Store(bytes.HasPrefix(p, []byte("CONNECT ")))
		if !c.connect.Load() && (len(p) == 0 || p[0] != tlsHandshakeRecord) {
			c.read.Store(true) // no setup to wait for: lift the deadline now
		}
	}
	if !c.done.Load() && c.read.Load() && c.done.CompareAndSwap(false, true) {
		c.Conn.SetDeadline(time.Time{})
		c.setupOver()
	}
	return c.Conn.Write(p)
}

// boundDial is dial with the dialer's own bound, timeout
// (--connect-timeout), told by how long it is: a connection not made
// within it fails with a *connectTimeoutError.
func boundDial(dial func(ctx context.Context, network, addr string) (net.Conn, error),
	timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if timeout <= 0 {
		return dial
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		// The dial's own bound tells it, not the stall timeout.
		resume := connecting(ctx)
		nc, err := dial(ctx, network, addr)
		resume()
		var ne net.Error
		if err != nil && ctx.Err() == nil && errors.As(err, &ne) && ne.Timeout() {
			return nil, &connectTimeoutError{d: timeout, err: err}
		}
		return nc, err
	}
}

// connectTimeoutError is a connection not made within --connect-timeout
// (boundDial). It says how long it waited, as the errors of --timeout and
// --stall-timeout do.
type connectTimeoutError struct {
	d   time.Duration
	err error // the dialer's *net.OpError
}

func (e *connectTimeoutError) Error() string {
	return "connect timed out after " + seconds(e.d) + " (--connect-timeout)"
}

func (e *connectTimeoutError) Unwrap() error { return e.err }

// Timeout reports true: it is one.
func (e *connectTimeoutError) Timeout() bool { return true }

// setupTimeoutError is a connection's setup (boundSetup) that outlasted
// --connect-timeout: through a proxy, the CONNECT unanswered; else the
// TLS handshake.
type setupTimeoutError struct {
	d     time.Duration
	proxy string // the proxy's address when it was its CONNECT
	err   error
}

func (e *setupTimeoutError) Error() string {
	if e.proxy != "" {
		return "no answer to the CONNECT request within " + seconds(e.d) + " (--connect-timeout)"
	}
	return "TLS handshake timed out after " + seconds(e.d) + " (--connect-timeout)"
}

func (e *setupTimeoutError) Unwrap() error { return e.err }

// Timeout reports true: it is one.
func (e *setupTimeoutError) Timeout() bool { return true }

// countedConn is a connection counted by capConns until it is closed.
type countedConn struct {
	net.Conn
	open   *atomic.Int64
	closed atomic.Bool
}

// Close closes the connection and, the first time, uncounts it.
func (c *countedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.open.Add(-1)
	}
	return c.Conn.Close()
}

// credentialHeaders carry credentials: after a redirect they go only to
// the origin the chain began at. The list is the one net/http's Client
// strips when a redirect changes domain.
var credentialHeaders = []string{"Authorization", "Www-Authenticate", "Cookie", "Cookie2",
	"Proxy-Authorization", "Proxy-Authenticate"}

// sameOrigin reports whether a and b have the same scheme, host and port
// (the default port written out or not).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && hostPort(a) == hostPort(b)
}

// checkRedirect follows at most maxRedirects redirects, only to http and
// https, and forwards credentials only to the origin (scheme, host and
// port) they were meant for: Go's own rule would also send them to
// subdomains, to other ports of the same host, and from https down to
// plain http. It tells emit of each redirect it allows.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request, emit *emitter) error {
	if len(via) > maxRedirects {
		return ErrTooManyRedirects
	}
	if s := strings.ToLower(req.URL.Scheme); s != "http" && s != "https" {
		return &redirectSchemeError{URL: redactURL(req.URL)}
	}
	if err := checkHost(req.URL.Hostname()); err != nil {
		return err
	}
	if first := via[0].URL; !sameOrigin(req.URL, first) {
		for _, h := range credentialHeaders {
			req.Header.Del(h)
		}
		// The new host's own netrc entry, unless the chain began on
		// https and has come down to plain http: the server would have
		// the credentials sent in clear.
		if !strings.EqualFold(first.Scheme, "https") || strings.EqualFold(req.URL.Scheme, "https") {
			c.setNetrcAuth(req)
		}
	}
	emit.send(event.Event{Kind: event.Redirect, Attempt: len(via), Message: req.URL.String()})
	return nil
}

// newRequest builds a GET for u with the configured headers and credentials.
func (c *Client) newRequest(ctx context.Context, u *url.URL) *http.Request {
	// Built from the parsed URL rather than by http.NewRequest, which
	// would format it and parse it again for every request.
	target := *u
	req := (&http.Request{
		Method:     http.MethodGet,
		URL:        &target,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, 4),
		Host:       strings.TrimSuffix(u.Host, ":"),
	}).WithContext(ctx)
	if c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	for k, vs := range c.cfg.Header {
		if len(vs) == 0 {
			continue
		}
		if http.CanonicalHeaderKey(k) == "Host" {
			req.Host = vs[0]
			continue
		}
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	c.setNetrcAuth(req)
	return req
}

// setNetrcAuth adds the netrc credentials of req's host, unless the request
// already carries credentials (from -H or the URL).
func (c *Client) setNetrcAuth(req *http.Request) {
	if req.Header.Get("Authorization") != "" || req.URL.User != nil {
		return
	}
	if login, password, ok := c.netrc.lookup(req.URL.Hostname()); ok {
		req.SetBasicAuth(login, password)
	}
}

// Host is the host:port that a request for rawURL counts against in a
// per-host cap (see limit.NewGate), "" for a local file or a URL that does
// not parse.
func Host(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https") {
		return ""
	}
	return hostPort(u)
}

// hostPort is u's host with its port made explicit: the key of per-host
// caps and of the credentials rule.
func hostPort(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = "80"
		if strings.EqualFold(u.Scheme, "https") {
			port = "443"
		}
	}
	return net.JoinHostPort(host, port)
}

// redactURL is u without its password, for messages.
func redactURL(u *url.URL) string { return u.Redacted() }

// do sends req and follows its redirects, as http.Client.Do does for a
// GET with checkRedirect as its policy: the request after a 301, 302, 303,
// 307 or 308 with a Location is a GET of that URL with the first request's
// headers and a Referer; credentials from the URL are sent as basic
// authentication, to its origin only; errors come wrapped in *url.Error. It is not
// http.Client.Do because that copies the request, its URL and its headers
// for every request, redirected or not: a fifth of the allocations, and 3 %
// of the CPU, of a run of small files.
//
// A redirect whose Location does not parse fails with a *locationError:
// the server's answer is wrong, not busy, and net/http would say so only
// in words. A request that fails at a redirect's target, another URL than
// req's, fails with a *redirectedError that names it.
//
// hop, when not nil, is called before each redirect is followed, with its
// target: it moves the gate slot to the target's host (see hostSlot), and
// its error ends the chain.
func (c *Client) do(req *http.Request, emit *emitter, g *guard, hop func(*url.URL) error) (*http.Response, error) {
	var via []*http.Request
	headers := req.Header // of every request of the chain, before URL credentials
	first := req.URL
	for {
		// The URL's own credentials, or the first URL's on its origin
		// (where a Location without them leads back).
		creds := req.URL.User
		if creds == nil && first.User != nil && sameOrigin(req.URL, first) {
			creds = first.User
		}
		if creds != nil && req.Header.Get("Authorization") == "" {
			password, _ := creds.Password()
			req.Header = req.Header.Clone()
			req.SetBasicAuth(creds.Username(), password)
		}
		resp, err := c.rt.RoundTrip(req)
		if err != nil {
			if c.cfg.Proxy != nil {
				err = givenProxy(err)
			}
			return nil, failedAt(req.URL, first, &url.Error{Op: "Get", URL: redactURL(req.URL), Err: err})
		}
		g.answered() // each hop's answer is a sign of life
		loc := resp.Header.Get("Location")
		if loc == "" || !redirects(resp.StatusCode) {
			return resp, nil
		}
		// Read what little the redirect has, so that its connection is
		// reused.
		drain(resp)
		resp.Body.Close()
		target, err := req.URL.Parse(loc)
		if err == nil {
			escapeQuerySpaces(target)
			err = checkTarget(target)
		}
		if err != nil {
			return nil, &url.Error{Op: "Get", URL: redactURL(req.URL), Err: &locationError{location: loc, err: err}}
		}
		via = append(via, req)
		next := redirected(req, headers, target)
		if err := c.checkRedirect(next, via, emit); err != nil {
			return nil, &url.Error{Op: "Get", URL: redactURL(target), Err: err}
		}
		if hop != nil {
			if err := hop(target); err != nil {
				return nil, &url.Error{Op: "Get", URL: redactURL(target), Err: err}
			}
		}
		req = next
	}
}

// finalURL is the URL that resp, the answer to a request for first, came
// from when redirects led to another URL, else "". Without a redirect it
// costs nothing: no URL is formatted.
func finalURL(resp *http.Response, first *url.URL) string {
	u := resp.Request.URL
	if u == first {
		return ""
	}
	if s := u.String(); s != first.String() {
		return s
	}
	return ""
}

// failedAt is err, the failure of a request for u in a chain of redirects
// that began at first, made to name u when that is another URL: the
// person reading it knows first, not where it led. Without a redirect (u
// is first) it costs nothing.
func failedAt(u, first *url.URL, err error) error {
	if u == first || u.String() == first.String() {
		return err
	}
	return &redirectedError{url: redactURL(u), err: err}
}

// checkTarget refuses an http(s) redirect target that cannot be asked for:
// one without a host, or with a port out of range. (Other schemes are
// refused by checkRedirect, in its own words.)
func checkTarget(u *url.URL) error {
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return nil
	}
	if u.Hostname() == "" {
		return errNoHost
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return errBadPort
		}
	}
	return nil
}

// escapeQuerySpaces writes the spaces of u's query as %20, as u writes
// those of its path: url.Parse keeps them as they are, and sent so they
// would split the request line ("GET /f?v=1 other.bin HTTP/1.1"), which a
// server answers 400 Bad Request. No other byte of a query that url.Parse
// takes can break the request line: it refuses control characters.
func escapeQuerySpaces(u *url.URL) {
	if strings.Contains(u.RawQuery, " ") {
		u.RawQuery = strings.ReplaceAll(u.RawQuery, " ", "%20")
	}
}

// redirects reports the statuses after which a GET goes to the Location.
func redirects(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// redirected is the GET of target that follows prev, with the chain's
// headers (checkRedirect then decides which credentials go on) and prev's
// URL as Referer, unless that would tell an https URL to a plain http
// server or the headers name a Referer of their own. To another origin
// the Referer is prev's origin only, as browsers send it: the path and
// query of a signed URL (?token=...) are credentials, not for that host.
func redirected(prev *http.Request, headers http.Header, target *url.URL) *http.Request {
	next := (&http.Request{
		Method:     http.MethodGet,
		URL:        target,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     headers.Clone(),
		Host:       strings.TrimSuffix(target.Host, ":"),
	}).WithContext(prev.Context())
	if next.Header.Get("Referer") == "" &&
		!(strings.EqualFold(prev.URL.Scheme, "https") && strings.EqualFold(target.Scheme, "http")) {
		ref := *prev.URL
		ref.User, ref.Fragment, ref.RawFragment = nil, "", ""
		if !sameOrigin(prev.URL, target) {
			ref = url.URL{Scheme: ref.Scheme, Host: ref.Host, Path: "/"}
		}
		next.Header.Set("Referer", ref.String())
	}
	return next
}
