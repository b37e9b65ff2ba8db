package fetch

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"
)

// maxFirstHosts bounds the hosts a firstConn remembers: past it, those
// whose first request was answered are forgotten, so that a list of
// millions of hosts does not grow it without end. A forgotten host's next
// requests only open their connections as net/http alone would.
const maxFirstHosts = 4096

// firstConn is net/http's transport, for https, with one rule more: while
// the first request to a host is on its way, the other requests to that
// host wait until it has its connection (or its answer, or has failed).
// net/http dials a connection for every request that finds none to reuse,
// and learns only once the TLS handshakes are done that the host speaks
// HTTP/2: it then keeps one and closes the others. A -j 16 run over one
// https host made 16 handshakes for one connection, and a list that goes
// from host to host a handful for each. After the wait, an HTTP/2 host's
// requests share the first one's connection, however slow its answer; an
// HTTP/1.1 host's go on at once, each on a connection of its own, as
// before, and that host does not make them wait again. The wait is not a
// stall, nor part of --timeout (guard.hold).
//
// It also tells net/http's own TLS handshake timeout (TLSHandshakeTimeout,
// which is timeout) as the setup's deadline does, with its value.
type firstConn struct {
	rt      http.RoundTripper
	timeout time.Duration // --connect-timeout: the transport's TLSHandshakeTimeout
	mu      sync.Mutex
	hosts   map[string]*firstAnswer // by hostPort
}

// firstAnswer is the outcome of the first request to a host.
type firstAnswer struct {
	ready chan struct{} // closed when the first request has its connection, its answer, or failed
	err   error         // its failure to connect, which the waiting requests share; set before ready closes
}

// RoundTrip sends req through the transport, after the first request to
// its host when that one is still on its way.
func (f *firstConn) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := f.roundTrip(req)
	return resp, f.handshakeTimeout(err)
}

// handshakeTimeout is err, or a *setupTimeoutError with the value of the
// timeout when err is net/http's own "TLS handshake timeout": of an
// unexported type, it says neither which flag bounds it nor how long that
// was.
func (f *firstConn) handshakeTimeout(err error) error {
	if err == nil || f.timeout <= 0 || !strings.HasSuffix(err.Error(), "TLS handshake timeout") {
		return err
	}
	var setup *setupTimeoutError
	if errors.As(err, &setup) {
		return err // told already
	}
	return &setupTimeoutError{d: f.timeout, err: err}
}

// roundTrip is RoundTrip before handshakeTimeout.
func (f *firstConn) roundTrip(req *http.Request) (*http.Response, error) {
	if !strings.EqualFold(req.URL.Scheme, "https") {
		return f.rt.RoundTrip(req)
	}
	key := hostPort(req.URL)
	f.mu.Lock()
	a := f.hosts[key]
	if a == nil {
		if f.hosts == nil {
			f.hosts = make(map[string]*firstAnswer)
		}
		if len(f.hosts) >= maxFirstHosts {
			f.forgetLocked()
		}
		a = &firstAnswer{ready: make(chan struct{})}
		f.hosts[key] = a
		f.mu.Unlock()
		// The others go on once this one has its connection: its answer
		// may take long, and may never come.
		var once sync.Once
		connected := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { once.Do(func() { close(a.ready) }) }}
		resp, err := f.rt.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), connected)))
		// Shared with the requests that waited, in the same words.
		err = f.handshakeTimeout(err)
		if err != nil {
			// The next request to the host is a first one again.
			f.mu.Lock()
			if f.hosts[key] == a {
				delete(f.hosts, key)
			}
			f.mu.Unlock()
		}
		once.Do(func() {
			if err != nil && connectFailed(err) {
				a.err = err
			}
			close(a.ready)
		})
		return resp, err
	}
	f.mu.Unlock()
	select {
	case <-a.ready:
	default:
		resume := func() {}
		if g, ok := req.Context().Value(guardKey{}).(*guard); ok {
			resume = g.hold()
		}
		select {
		case <-a.ready:
			resume()
		case <-req.Context().Done():
			resume()
			return nil, req.Context().Err()
		}
	}
	if a.err != nil {
		// The host could not be reached a moment ago: this attempt fails
		// as that one did, rather than wait as long again.
		return nil, a.err
	}
	return f.rt.RoundTrip(req)
}

// forgetLocked forgets the hosts whose first request was answered. f.mu
// must be held.
func (f *firstConn) forgetLocked() {
	for key, a := range f.hosts {
		select {
		case <-a.ready:
			delete(f.hosts, key)
		default:
		}
	}
}

// connectFailed tells whether err, a request's failure, is the host's, or
// its proxy's, before any request could be sent: a dial that failed or
// timed out, a proxy that refused or did not answer, a TLS handshake that
// failed. Every request to the host would meet it.
func connectFailed(err error) bool {
	var (
		op    *net.OpError
		setup *setupTimeoutError
		cert  *tls.CertificateVerificationError
		alert tls.AlertError
	)
	switch {
	case errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect"),
		errors.As(err, &setup), errors.As(err, &cert), errors.As(err, &alert):
		return true
	}
	return strings.Contains(err.Error(), "TLS handshake timeout")
}

// CloseIdleConnections closes the transport's idle connections.
func (f *firstConn) CloseIdleConnections() {
	if ci, ok := f.rt.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
