package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fetchpool/fetchpool/internal/http1"
	"github.com/fetchpool/fetchpool/pkg/limit"
)

// retryableStatus reports whether an HTTP status is worth another attempt:
// a timeout, "too early", "too many requests", or a server-side failure that
// usually passes.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// shouldRetry decides whether an attempt that failed with err (or, when err
// is nil, ended with HTTP status) deserves another attempt. Connection
// errors, timeouts, stalls, short bodies and the statuses of
// retryableStatus are retried; other statuses, local failures (disk,
// checksum, policy) and anything after ctx is done are not.
func shouldRetry(ctx context.Context, status int, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err == nil {
		return retryableStatus(status)
	}
	var spent *spentError
	if errors.As(err, &spent) {
		return false // a split range already used its retries
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return retryableStatus(he.StatusCode)
	}
	if permanent(err) {
		return false
	}
	return transient(err)
}

// permanent reports errors that another attempt cannot fix.
func permanent(err error) bool {
	var (
		disk     *diskFullError
		write    *writeError
		sum      *ChecksumError
		wait     *retryAfterError
		scheme   *redirectSchemeError
		location *locationError
		stopped  *InterruptedError
		dns      *net.DNSError
		notHTTP  *http1.NotHTTPError
	)
	switch {
	case errors.As(err, &disk), errors.As(err, &write), errors.As(err, &sum),
		errors.As(err, &wait), errors.As(err, &scheme), errors.As(err, &location), errors.As(err, &stopped),
		errors.As(err, &notHTTP),
		badCertificate(err), notTLS(err), malformed(err), isTLSRefusal(err), linkLocalRefused(err),
		h2RefusedHeader(err) != "":
		return true
	case errors.Is(err, ErrTooManyRedirects), errors.Is(err, ErrPartInUse), errors.Is(err, ErrPartBusy), errors.Is(err, ErrSkip),
		errors.Is(err, http1.ErrTLSAnswer), errors.Is(err, http1.ErrTooManyInterim), headerTooLong(err),
		errors.Is(err, http1.ErrHTTP10TransferEncoding):
		return true
	case errors.As(err, &dns):
		return dns.IsNotFound
	}
	return false
}

// malformedWords begin net/http's messages for an HTTP/1 response that
// breaks the protocol (a status line, header or chunked body that does not
// parse, Content-Lengths that disagree, a transfer coding it has not heard
// of): what the server sends every time, not a failure that passes. The
// errors are of unexported types, or plain: their words are all there is
// to tell them by (TestProtocolViolationsAreNotRetried checks them
// against the net/http of the build, through both transports). A body or
// header cut short is not among them: net/http says io.ErrUnexpectedEOF,
// or, in a trailer, words left out here ("unexpected EOF reading trailer",
// "suspiciously long trailer"), as the cut may be the network's.
var malformedWords = []string{
	// The status line and header (net/http/response.go, transfer.go).
	"malformed HTTP response", "malformed HTTP status code", "malformed HTTP version",
	"bad Content-Length", "invalid empty Content-Length",
	"http: message cannot contain multiple Content-Length headers",
	"unsupported transfer encoding", "too many transfer encodings", "bad trailer key",
	// A chunked body (net/http/internal/chunked.go).
	"invalid byte in chunk length", "http chunk length too large", "empty hex number for chunk length",
	"malformed chunked encoding", "chunked encoding contains too much non-data",
	"chunked line ends with bare LF", "invalid CR in chunked line", "header line too long",
}

// headerTooLong reports a response header longer than the transport
// takes (1 MiB for http1's, 10 MiB for net/http's, which says so only in
// words).
func headerTooLong(err error) bool {
	return errors.Is(err, http1.ErrHeaderTooLong) ||
		strings.HasPrefix(innermost(err).Error(), "net/http: server response headers exceeded")
}

// malformed reports a response that breaks HTTP itself, which another
// attempt would get again: one of malformedWords, or a header line that
// does not parse (a textproto.ProtocolError). But for a line without a
// colon: textproto says so of a header cut short mid-line too
// ("Content-Le" and the connection closed), which the next attempt may
// get whole.
func malformed(err error) bool {
	var proto textproto.ProtocolError
	if errors.As(err, &proto) {
		return !strings.HasPrefix(string(proto), "malformed MIME header: missing colon")
	}
	return malformedMessage(err) != "" && !statusLineCut(innermost(err).Error())
}

// statusLineCut reports net/http's words for a status line that may only
// have been cut short: net/http parses the line before it sees the
// connection end, so "HTTP/1." or "HTTP/1.1 20" and a closed connection
// read as malformed, though the next attempt may get the line whole. A
// line that no cut could make ("SSH-2.0-...", "HTTP/1.1 2x0") is not.
func statusLineCut(msg string) bool {
	if line, ok := strings.CutPrefix(msg, "malformed HTTP response "); ok {
		line, err := strconv.Unquote(line)
		if err != nil {
			return false
		}
		if len(line) <= len("HTTP/") {
			return strings.HasPrefix("HTTP/", line)
		}
		return strings.HasPrefix(line, "HTTP/") && len(line) <= len("HTTP/1.1") &&
			strings.Trim(line[len("HTTP/"):], "0123456789.") == ""
	}
	if code, ok := strings.CutPrefix(msg, "malformed HTTP status code "); ok {
		code, err := strconv.Unquote(code)
		return err == nil && len(code) < 3 && strings.Trim(code, "0123456789") == ""
	}
	return false
}

// malformedMessage is the words of net/http that say how err's response
// breaks the protocol, without its "http: ", or "" when it does not (as far
// as malformedWords tell).
func malformedMessage(err error) string {
	msg := innermost(err).Error()
	for _, w := range malformedWords {
		if strings.HasPrefix(msg, w) {
			return strings.TrimPrefix(msg, "http: ")
		}
	}
	return ""
}

// innermost is the error at the end of err's chain of Unwrap: the
// words of the transport, without the wrappers'.
func innermost(err error) error {
	for inner := errors.Unwrap(err); inner != nil; inner = errors.Unwrap(err) {
		err = inner
	}
	return err
}

// tlsRefusals are the TLS alerts by which a server refuses who the client
// is or what it offers, by alert number, with what they mean for the
// person at the terminal: it answers the same to the next attempt. Alerts
// not listed (an internal error, a bad record MAC, a decode error) may
// pass, and are retried.
var tlsRefusals = map[uint8]string{
	40:  "it agrees with fetchpool on no TLS cipher suite or parameters", // handshake_failure
	71:  "it agrees with fetchpool on no TLS cipher suite or parameters", // insufficient_security
	70:  "it speaks no TLS version fetchpool does (1.2 or later)",        // protocol_version
	116: "it requires a client certificate, which fetchpool does not send",
	42:  "it requires a client certificate, which fetchpool does not send", // bad_certificate
	43:  "it requires a client certificate, which fetchpool does not send", // unsupported_certificate
	46:  "it requires a client certificate, which fetchpool does not send", // certificate_unknown
	49:  "it denies this client access",                                    // access_denied
	109: "it requires a TLS extension that fetchpool does not send",        // missing_extension
	110: "it refuses a TLS extension that fetchpool sends",                 // unsupported_extension
	112: "it serves no site of this host name",                             // unrecognized_name
	120: "it speaks neither HTTP/2 nor HTTP/1.1",                           // no_application_protocol
}

// tlsRefusal is what a TLS alert from the server that err carries means,
// when it is one of tlsRefusals, and the alert's own words; else "", "".
// crypto/tls reports such an alert as a *net.OpError with Op "remote
// error" around a value of its unexported alert type, a uint8: the number
// is read by reflection.
func tlsRefusal(err error) (meaning, alert string) {
	for ; err != nil; err = errors.Unwrap(err) {
		op, ok := err.(*net.OpError)
		if !ok || op.Op != "remote error" || op.Err == nil {
			continue
		}
		v := reflect.ValueOf(op.Err)
		if v.Kind() != reflect.Uint8 || v.Type().PkgPath() != "crypto/tls" {
			return "", ""
		}
		meaning = tlsRefusals[uint8(v.Uint())]
		if meaning == "" {
			return "", ""
		}
		return meaning, strings.TrimPrefix(op.Err.Error(), "tls: ")
	}
	return "", ""
}

// isTLSRefusal reports a TLS alert of tlsRefusals from the server.
func isTLSRefusal(err error) bool {
	meaning, _ := tlsRefusal(err)
	return meaning != ""
}

// badCertificate reports a server certificate that failed verification.
func badCertificate(err error) bool {
	var (
		unknownCA x509.UnknownAuthorityError
		invalid   x509.CertificateInvalidError
		hostname  x509.HostnameError
		verify    *tls.CertificateVerificationError
	)
	return errors.As(err, &unknownCA) || errors.As(err, &invalid) || errors.As(err, &hostname) ||
		errors.As(err, &verify)
}

// plainHTTPAnswer reports a TLS handshake that got an HTTP response back:
// an https:// URL for a port that serves plain http. net/http's Client
// says so (ErrSchemeMismatch); its Transport, which do calls, does not.
func plainHTTPAnswer(err error) bool {
	var rh tls.RecordHeaderError
	return errors.As(err, &rh) && string(rh.RecordHeader[:]) == "HTTP/"
}

// notTLS reports a TLS handshake that got something else than TLS back:
// plain HTTP (plainHTTPAnswer), or another protocol (an SSH banner, say).
// The server on that port answers the same way every time. crypto/tls
// tells it by the Conn of its RecordHeaderError: a record header that goes
// bad later (a version or length garbled on the way) has none, and may
// pass.
func notTLS(err error) bool {
	var rh tls.RecordHeaderError
	return errors.As(err, &rh) && rh.Conn != nil
}

// transient reports errors of the network or the server that may pass.
func transient(err error) bool {
	var (
		stall   *stallError
		timeout *timeoutError
		short   *shortBodyError
		read    *readError
		rng     *rangeError
		changed changedError
		cut     *partCutError
		urlErr  *url.Error
		netErr  net.Error
		errno   syscall.Errno
	)
	switch {
	case errors.As(err, &stall), errors.As(err, &timeout), errors.As(err, &short),
		errors.As(err, &rng), errors.As(err, &changed), errors.As(err, &cut):
		return true
	case errors.Is(err, context.Canceled):
		return false // the caller's, or a stall already classified above
	case errors.As(err, &read):
		return true
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF):
		return true
	case errors.As(err, &netErr), errors.As(err, &errno):
		return true
	case errors.As(err, &urlErr):
		// The transport's own failures (protocol errors, a connection
		// closed before the response) come as url.Error around plain
		// errors; a bad request would have failed before the request.
		return !strings.Contains(urlErr.Err.Error(), "unsupported protocol scheme")
	}
	return false
}

// retryWait is the wait before attempt+1 after attempt failed with err:
// exponential backoff with jitter, raised to a Retry-After the server sent.
// A Retry-After above MaxRetryWait fails the item instead.
func (c *Client) retryWait(attempt int, err error) (time.Duration, error) {
	c.rndMu.Lock()
	d := limit.Backoff(attempt, c.cfg.RetryWait, maxBackoff, c.rnd)
	c.rndMu.Unlock()
	var he *HTTPError
	if errors.As(err, &he) && he.hasRetryAfter {
		if he.retryAfter > c.cfg.MaxRetryWait {
			return 0, &retryAfterError{wait: he.retryAfter, max: c.cfg.MaxRetryWait, cause: err}
		}
		d = max(d, he.retryAfter)
	}
	return d, nil
}

// pauser is a Gate that can hold back every request to a host for a while
// (*limit.Gate does).
type pauser interface {
	Pause(host string, until time.Time)
}

// pauseFor pauses, at the gate, the host that answered err when that
// answer asked for a pause (a Retry-After of more than 0 on a 429 or 503):
// no request of any item goes to it before the pause is over, as a well
// behaved client does. host is the request's; a redirect's target, when
// err is its answer. It reports whether the host was paused.
func (c *Client) pauseFor(host string, err error) bool {
	p, ok := c.cfg.Gate.(pauser)
	var he *HTTPError
	if !ok || !errors.As(err, &he) || !he.hasRetryAfter || he.retryAfter <= 0 {
		return false
	}
	var at *redirectedError
	if errors.As(err, &at) {
		if h := Host(at.url); h != "" {
			host = h
		}
	}
	p.Pause(host, time.Now().Add(he.retryAfter))
	return true
}

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// describeDNS says which name could not be resolved and why, without the
// resolver's address ("dial tcp: lookup h on 10.0.0.53:53: no such host").
func describeDNS(e *net.DNSError) string {
	if e.IsTimeout {
		return "cannot resolve " + e.Name + ": the DNS lookup timed out"
	}
	return "cannot resolve " + e.Name + ": " + e.Err
}

// describe is err in a few words for a person: the status, or the
// network's complaint without the Go plumbing around it ("connection reset
// by peer" rather than "read tcp 127.0.0.1:41234->...: read: connection
// reset by peer").
func describe(err error) string {
	switch e := err.(type) {
	case *url.Error:
		return describeRequest(e)
	case *readError:
		return describe(e.err)
	case *net.DNSError:
		return describeDNS(e)
	case *redirectedError, *spentError:
		// They say where it failed (and a range, how often) before the
		// reason; the reason alone, below, would lose that.
		return e.Error()
	case *connectTimeoutError, *setupTimeoutError:
		return e.Error() // with the timeout, which the error in it lacks
	case *net.OpError:
		var (
			errno syscall.Errno
			dns   *net.DNSError
		)
		switch {
		case errors.As(e, &dns):
			return describeDNS(dns)
		case errors.As(e, &errno):
			if hint := linkLocalHint(e, errno); hint != "" {
				return hint
			}
			return withFDHint(errno.Error(), errno)
		case e.Timeout() && e.Op == "dial":
			return "connect timed out (--connect-timeout)"
		case e.Timeout():
			return "timed out"
		}
	}
	if meaning, alert := tlsRefusal(err); meaning != "" {
		return "the server refused the connection: " + meaning + " (TLS alert: " + alert + ")"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "connection closed early"
	}
	msg := strings.TrimPrefix(err.Error(), "net/http: ")
	if words := streamError(msg); words != "" {
		return words
	}
	if h := h2RefusedHeader(err); h != "" {
		return fmt.Sprintf("the header %q (-H) cannot be sent over HTTP/2, which the server speaks: remove it", h)
	}
	switch {
	case msg == "TLS handshake timeout":
		// net/http's handshake timeout is of an unexported type: its
		// words tell it, and the transport's TLSHandshakeTimeout is
		// --connect-timeout.
		return "TLS handshake timed out (--connect-timeout)"
	// net/http's words for a body it could not decode name no culprit.
	case strings.Contains(msg, "chunk length"), strings.Contains(msg, "chunked encoding"):
		return "the server sent a malformed chunked body (" + msg + ")"
	case strings.Contains(msg, "malformed MIME header"):
		return "the server sent a malformed trailer (" + msg + ")"
	// net/http's words for a chunked body cut after its last chunk: the
	// second one ("suspiciously long trailer") it says of a trailer line
	// cut short as of one longer than its buffer.
	case msg == "http: unexpected EOF reading trailer":
		return "connection closed early (in the trailer after the chunked body's last chunk)"
	case msg == "http: suspiciously long trailer after chunked body":
		return "the server sent a chunked body whose trailer does not end (the connection closed in it, or it is too long)"
	}
	switch {
	case errors.Is(err, http1.ErrTooManyInterim):
		return http1.ErrTooManyInterim.Error() // without the transports' plumbing
	case headerTooLong(err):
		// The cap, which no flag raises: http1's default for plain
		// http, net/http's (10 MiB) for the rest.
		limit := "10 MiB"
		if errors.Is(err, http1.ErrHeaderTooLong) {
			limit = fmt.Sprintf("%d MiB", http1.DefaultMaxResponseHeaderBytes>>20)
		}
		return http1.ErrHeaderTooLong.Error() + ": over " + limit + ", the most fetchpool reads"
	}
	if m := malformedMessage(err); m != "" {
		// Without the transports' plumbing ("reading the response: ",
		// "HTTP/1.x transport connection broken: "), and naming the
		// culprit.
		return "the server sent a malformed response (" + m + ")"
	}
	return msg
}

// h2RefusedHeader is the header, as "Name: value", that net/http's HTTP/2
// transport refused to send (`http2: invalid Upgrade request header:
// ["foo"]`: Connection other than close or keep-alive, Upgrade, some
// Transfer-Encoding), "" for any other error. Only -H sets them: every
// request to an HTTP/2 server fails so before it is sent.
func h2RefusedHeader(err error) string {
	msg := err.Error()
	i := strings.Index(msg, "http2: invalid ")
	if i < 0 {
		return ""
	}
	name, values, ok := strings.Cut(msg[i+len("http2: invalid "):], " request header: ")
	if !ok || name == "" || strings.Contains(name, " ") {
		return ""
	}
	quoted, err := strconv.QuotedPrefix(strings.TrimPrefix(values, "["))
	if err != nil {
		return name
	}
	value, _ := strconv.Unquote(quoted)
	return name + ": " + value
}

// streamError is net/http's HTTP/2 stream error, msg ("stream error:
// stream ID 1; INTERNAL_ERROR; received from peer", of an unexported
// type), in words that say who ended the stream; "" for any other error.
func streamError(msg string) string {
	rest, ok := strings.CutPrefix(msg, "stream error: stream ID ")
	if !ok {
		return ""
	}
	parts := strings.SplitN(rest, "; ", 3)
	if len(parts) < 2 {
		return ""
	}
	code := parts[1]
	if len(parts) == 3 && parts[2] == "received from peer" {
		return "the server reset the HTTP/2 stream (" + code + ")"
	}
	if len(parts) == 3 {
		code += ": " + parts[2]
	}
	return "the server broke the HTTP/2 protocol on the stream (" + code + ")"
}

// linkLocalRefused reports a connection to a link-local IPv6 address that
// the kernel refused for want of a network interface (see linkLocalHint):
// the next attempt would be refused the same.
func linkLocalRefused(err error) bool {
	var (
		op    *net.OpError
		errno syscall.Errno
	)
	return errors.As(err, &op) && errors.As(op.Err, &errno) && linkLocalHint(op, errno) != ""
}

// linkLocalHint says what a link-local IPv6 address needs when the kernel
// refused to connect to it (EINVAL, "invalid argument"): the network
// interface to reach it through, as its zone, or one that exists; "" for
// any other failure.
func linkLocalHint(e *net.OpError, errno syscall.Errno) string {
	addr, ok := e.Addr.(*net.TCPAddr)
	if errno != syscall.EINVAL || e.Op != "dial" || !ok || addr.IP.To4() != nil || !addr.IP.IsLinkLocalUnicast() {
		return ""
	}
	if addr.Zone == "" {
		return fmt.Sprintf("cannot connect to the link-local address %s: it needs the network interface to reach it through, as its zone: http://[%s%%25eth0]:%d/",
			addr.IP, addr.IP, addr.Port)
	}
	return fmt.Sprintf("cannot connect to %s%%%s: no network interface is named %q (ip link lists them)", addr.IP, addr.Zone, addr.Zone)
}

// proxySource says where the proxy that e went through came from, for
// describeRequest.
func proxySource(e *url.Error) string {
	if errors.As(e.Err, new(*proxyGivenError)) {
		return "from Config.Proxy" // not the environment's
	}
	if strings.HasPrefix(strings.ToLower(e.URL), "https:") {
		return "from HTTPS_PROXY; NO_PROXY lists hosts that bypass it"
	}
	return "from HTTP_PROXY; NO_PROXY lists hosts that bypass it"
}

// describeRequest is describe for a request that got no response, or no
// usable one: what went wrong before the body, and what to do about it
// when the person at the terminal can do something.
func describeRequest(e *url.Error) string {
	var (
		proxy *net.OpError
		setup *setupTimeoutError
	)
	switch {
	case errors.As(e.Err, &setup) && setup.proxy != "":
		// net/http does not tell it as the proxy's failure.
		return fmt.Sprintf("the proxy %s (%s): %v", setup.proxy, proxySource(e), setup)
	case errors.As(e.Err, &proxy) && proxy.Op == "proxyconnect":
		// net/http's words ("connection refused") would blame the
		// server the URL names.
		where := "the proxy"
		var dial *net.OpError
		if errors.As(proxy.Err, &dial) && dial.Addr != nil {
			where += " " + dial.Addr.String()
		}
		from := proxySource(e)
		reason := describe(proxy.Err)
		if errors.Is(proxy.Err, io.EOF) {
			reason = "it closed the connection without sending a response"
		}
		return fmt.Sprintf("%s (%s): %s", where, from, reason)
	case plainHTTPAnswer(e.Err):
		return "the server answered in plain HTTP, not TLS: its port serves http://, not https://"
	case notTLS(e.Err):
		var rh tls.RecordHeaderError
		errors.As(e.Err, &rh)
		return fmt.Sprintf("the server's answer is not TLS (it begins %q): its port serves another protocol than https://", rh.RecordHeader[:])
	case badCertificate(e.Err):
		return strings.TrimPrefix(e.Err.Error(), "net/http: ") +
			"; if you trust this server, --insecure fetches without verifying its certificate"
	case errors.Is(e.Err, io.EOF):
		return "the server closed the connection without sending a response"
	}
	if msg := e.Err.Error(); strings.Contains(msg, "malformed MIME header") {
		// Not a trailer, as describe would take it: a request fails
		// before its body. The transports' words before it are plumbing.
		return "the server sent a malformed response header (" + msg[strings.Index(msg, "malformed MIME header"):] + ")"
	}
	return describe(e.Err)
}
