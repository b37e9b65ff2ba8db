// Package fetch transfers one item into place: request, .part file, resume,
// retries, verification and the atomic rename.
//
// One Client, made with New, serves a whole run and is safe for concurrent
// use: pool.Run calls its Fetch from each worker (it is the pool's
// Fetcher), and a program can call Fetch itself for a single item (see the
// example). Fetch reports live progress through the Request's
// event.Progress, and takes the run's limits as the Config's Gate and
// Throttle (package limit).
//
// A transfer writes NAME.part beside its destination, keeps the validator of
// the part (URL, ETag, Last-Modified, length) in the sidecar NAME.part.meta,
// and renames the part into place only once it is complete and verified, so
// a file under its final name is always complete. No code path opens the
// final name for writing.
//
// When the caller vouches that no part is on disk (Request.NoPart), a small
// body that starts the file is written, on Linux, into a file without a name
// (O_TMPFILE) in the destination's directory, stamped, and linked under its
// final name once whole and verified: no part to create and rename. Only if
// it is cut short does it become NAME.part, for a resume as above.
//
// The sidecar is written before the body when the body may be large
// (unknown length, or more than one 256 KiB copy buffer); a small body goes
// without one unless its part is kept unfinished (interrupted, or failed
// for good), when the sidecar is written then. A crash can thus leave a
// small part without a sidecar, which is restarted from zero: at most one
// buffer is lost, and a small file costs three system calls fewer.
//
// Saved bytes are the resource as served: the client never asks for a
// content coding (Transport.DisableCompression), so there is nothing to
// decode, and a .gz file served without Content-Encoding is kept byte for
// byte. A server that compresses unasked, or a -H Accept-Encoding given by
// the user, leaves the coded bytes as they came.
//
// A part has one writer at a time. A transfer that opens, resumes or
// removes a part first takes an exclusive flock(2) on it, without waiting,
// and holds it until the part is in place or the transfer ends; just
// before the rename it checks that the part's name still leads to the file
// it holds. A part that another process (or another Client) holds fails
// the item with ErrPartBusy, untouched: two runs into one directory never
// move each other's bytes into place. A file without a name needs no lock;
// nor do platforms without flock get one (Windows).
//
// The part is not fsynced before the rename: a crash of the process cannot
// expose a partial file under the final name, a crash of the machine could.
// The ETag that --on-exists newer needs is kept in the extended attribute
// user.fetchpool.etag of the file (best effort), not in a file beside it.
package fetch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/limit"
)

// Gate admits each request: the pool's request rate and per-host cap. It is
// acquired for every attempt and every range request, and released once the
// response body has been read.
type Gate interface {
	// Acquire blocks until a request to host ("host:port") may start, or ctx
	// is done. release must be called once the request is over.
	Acquire(ctx context.Context, host string) (release func(), err error)
}

// Throttle caps the bandwidth of the bodies read through it.
type Throttle interface {
	// Reader returns r with its reads charged with ctx.
	Reader(ctx context.Context, r io.Reader) io.Reader
}

// Config sets up a Client. The zero value works: no timeouts, no retries.
type Config struct {
	// Concurrency is the number of transfers in flight at once (the
	// workers of the pool that uses the Client). It sizes the idle
	// connections kept per host, so that keep-alive connections are
	// reused, and caps the connections to one host at Concurrency × Split
	// (but no more than 1<<20, more than a process may open): a request
	// beyond that waits for a connection, and its StallTimeout runs while
	// it waits, so give at least the pool's number (their sum, for a
	// Client that serves several runs at once). 0 means no cap.
	Concurrency int
	// Header holds extra request headers (-H); a "Host" entry sets the
	// request's Host.
	Header http.Header
	// UserAgent is sent as User-Agent unless Header sets one. A
	// User-Agent in Header with an empty value sends none; with neither,
	// Go's default is sent.
	UserAgent string
	// Insecure skips TLS certificate verification (HTTP/2 stays on).
	Insecure bool
	// Proxy picks the proxy of each request, as http.Transport.Proxy
	// does. nil takes it from the environment (HTTP_PROXY, HTTPS_PROXY,
	// NO_PROXY, which net/http reads once per process: see
	// http.ProxyFromEnvironment), and New then refuses a proxy variable
	// that is not a proxy URL. A program that wants no proxy whatever
	// its environment says gives a func that returns nil, nil;
	// http.ProxyURL gives one proxy for every request.
	Proxy func(*http.Request) (*url.URL, error)
	// NetrcFile is the netrc file to read credentials from ("" = none).
	// Credentials go only to the host of their machine entry (or the default
	// entry), never across a redirect to another host.
	NetrcFile string
	// ConnectTimeout bounds the dial, the TLS handshake, and the answer of
	// a proxy to the CONNECT of an https URL (0 or less = none, as for
	// Timeout and StallTimeout).
	ConnectTimeout time.Duration
	// Timeout bounds each attempt, body included (0 or less = none).
	Timeout time.Duration
	// StallTimeout aborts, and retries, an attempt that receives no byte for
	// that long, headers included (0 or less = none).
	//
	// An item whose last attempt timed out (Timeout, StallTimeout, or
	// ConnectTimeout) fails with an error that errors.As finds an
	// interface{ Timeout() bool } in, reporting true, as for a net.Error.
	StallTimeout time.Duration
	// Retries is the number of attempts after the first.
	Retries int
	// RetryWait is the base of the exponential backoff between attempts
	// (capped at 30s).
	RetryWait time.Duration
	// MaxRetryWait caps the wait a Retry-After header may ask for; a longer
	// one fails the item with that reason. 0 means 60s; a negative value
	// honours no wait at all (only a Retry-After of 0).
	MaxRetryWait time.Duration
	// NoResume truncates an existing .part instead of resuming it.
	NoResume bool
	// Hash computes the SHA-256 of every file, even when no digest is
	// expected.
	Hash bool
	// Split is the number of concurrent range requests for a large file
	// (≤1 = off; more than MaxSplit is MaxSplit); SplitMin is the smallest
	// size split.
	Split    int
	SplitMin int64
	// Gate admits every request (nil = no gate, and so is a nil
	// *limit.Gate).
	Gate Gate
	// Throttle caps the bandwidth of every body (nil = no cap, and so is
	// the nil *limit.Bandwidth that limit.NewBandwidth returns for none).
	Throttle Throttle
	// Rand is the source of backoff jitter (nil = seeded from the clock).
	// The Client guards it; nobody else may use it.
	Rand *rand.Rand
}

// MaxSplit is the most ranges a file is split into (Config.Split). A
// sidecar that records more is not one a split wrote, and its part is
// fetched again from the start rather than resumed range by range.
const MaxSplit = 16

// inFlight is the most requests a Client has in flight at once: a request
// per worker, times the ranges of a split, but no more than maxInFlight.
func (cfg Config) inFlight() int {
	j, s := max(cfg.Concurrency, 1), max(cfg.Split, 1)
	if j > maxInFlight/s {
		return maxInFlight
	}
	return j * s
}

// maxInFlight caps inFlight: no process has more connections open at once
// than Linux lets it open files (fs.nr_open, 1<<20 by default), however
// large -j is. The free buffers and connection caps are sized from
// inFlight: -j 100000000000 made a channel of that many buffers, and the run
// died out of memory before its first request.
const maxInFlight = 1 << 20

// Client fetches items. One Client serves a whole run; it is safe for
// concurrent use. Make one with New: the zero Client has no connection pool,
// and panics on its first HTTP request.
type Client struct {
	cfg   Config
	rt    http.RoundTripper // the connection pool: http1 for plain HTTP, net/http for the rest
	netrc netrc
	bufs  chan *[]byte // free copy buffers of bufSize, one per request in flight

	// alloc makes a split's part its full size (allocate); a test puts a
	// file system's refusal in its place.
	alloc func(f *partFile, size int64) error

	// noUnnamed: files without a name (openUnnamed) proved impossible
	// here; parts are named from the start.
	noUnnamed atomic.Bool

	rndMu sync.Mutex
	rnd   *rand.Rand
}

// Default waits.
const (
	maxBackoff          = 30 * time.Second
	defaultMaxRetryWait = 60 * time.Second
	maxRedirects        = 10
)

// New returns a Client with one HTTP client for all transfers: proxies from
// cfg.Proxy or the environment, the redirect policy, and connection pooling
// sized to cfg.Concurrency. It fails when cfg.NetrcFile cannot be read,
// when cfg.Proxy is nil and HTTP_PROXY or HTTPS_PROXY is set to something
// that is not a proxy URL (net/http would ignore it, and go around the
// proxy), or when cfg.UserAgent has a control character, which no request
// can carry.
func New(cfg Config) (*Client, error) {
	if cfg.Proxy == nil {
		if err := checkProxyEnv(os.Getenv); err != nil {
			return nil, err
		}
	}
	if strings.ContainsFunc(cfg.UserAgent, controlChar) {
		// No request could carry it (net/http refuses it): every item
		// would fail, after its retries.
		return nil, fmt.Errorf("invalid --user-agent %q: it contains a control character", cfg.UserAgent)
	}
	c := &Client{cfg: cfg, rnd: cfg.Rand, alloc: allocate}
	// A nil *limit.Bandwidth (NewBandwidth's "no cap") or *limit.Gate is
	// none, but not nil as an interface: every body would take the
	// throttled path, and every transfer be told waiting at the gate.
	if b, ok := cfg.Throttle.(*limit.Bandwidth); ok && b == nil {
		c.cfg.Throttle = nil
	}
	if g, ok := cfg.Gate.(*limit.Gate); ok && g == nil {
		c.cfg.Gate = nil
	}
	if c.rnd == nil {
		now := uint64(time.Now().UnixNano())
		c.rnd = rand.New(rand.NewPCG(now, now>>17|1))
	}
	// A negative bound is none, as for Timeout and StallTimeout: the dialer
	// would take it for a deadline already past.
	c.cfg.ConnectTimeout = max(c.cfg.ConnectTimeout, 0)
	c.cfg.Split = min(c.cfg.Split, MaxSplit)
	switch {
	case c.cfg.MaxRetryWait == 0:
		c.cfg.MaxRetryWait = defaultMaxRetryWait
	case c.cfg.MaxRetryWait < 0:
		c.cfg.MaxRetryWait = 0
	}
	if cfg.NetrcFile != "" {
		n, err := readNetrc(cfg.NetrcFile)
		if err != nil {
			return nil, err
		}
		c.netrc = n
	}
	c.bufs = make(chan *[]byte, c.cfg.inFlight())
	c.rt = c.transport()
	return c, nil
}

// Gated reports whether a request may wait at the Client's gate
// (Config.Gate: a request rate or a cap per host) before it is sent.
func (c *Client) Gated() bool { return c.cfg.Gate != nil }

// CloseIdleConnections closes the keep-alive connections the Client keeps
// for reuse, ending their goroutines. Call it once the run is over; the
// Client stays usable.
func (c *Client) CloseIdleConnections() {
	if t, ok := c.rt.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// Destination is where Request.Rename puts an item.
type Destination struct {
	// Path replaces Request.Path; "" keeps it.
	Path string
	// SHA256 is the digest expected under the new name (64 hex digits,
	// as for Request.SHA256); "" keeps Request.SHA256.
	SHA256 string
	// IfNewer keeps the file at Path unless the response is a newer copy,
	// judged as a server judges a conditional GET (--on-exists newer):
	// by the ETag stored on the file, else by its mtime against
	// Last-Modified. The request could not be conditional: the name came
	// with its response. Fetch then returns ErrNotNewer. Every later
	// response of the item (a retry's) is judged the same way, and every
	// later request is conditional on the file.
	IfNewer bool
}

// Request is one item to fetch.
type Request struct {
	// URL is an http(s) URL, a file:// URL, or a local path.
	URL string
	// Path is the destination; the part is Path+".part" and its sidecar
	// Path+".part.meta".
	Path string
	// SHA256 is the expected hex digest, 64 digits in either case ("" =
	// none); Fetch refuses any other value before it sends anything.
	SHA256 string
	// IfNewer makes the request conditional on Path being older than the
	// resource (If-Modified-Since from its mtime, If-None-Match from its
	// stored ETag); 304 gives Result.Skipped, and so does a response that
	// is not newer after all (judged like Destination.IfNewer) from a
	// server that ignores the conditions, or to a resume. Then a part left
	// from an earlier run is removed.
	IfNewer bool
	// Rename, if set, is called once with the file name from the
	// Content-Disposition of the first successful response that names one
	// (not sanitized). It returns the destination to use instead of Path,
	// or ErrSkip to skip the item (with the destination that is there, for
	// Result.Path). The part stays at Path+".part"; a part that an earlier
	// run left is kept when the item is skipped this way (but removed after
	// ErrNotNewer).
	Rename func(name string) (Destination, error)
	// Progress receives the bytes as they arrive; nil makes a private one.
	// With a Config.Gate, Fetch marks it waiting (SetWaiting) while a
	// request of the item waits at the gate, and clears it once through.
	Progress *event.Progress
	// Emit, if set, receives Attempt, Redirect and Retry events with Kind,
	// Time, Attempt, Wait, Err and Message set. It is called from one
	// goroutine at a time, but not always the caller's.
	Emit func(event.Event)
	// Stop, if set, withdraws the item before it begins: when Stop is done
	// while the first request still waits at the gate (for the request rate
	// or a slot of its host), Fetch returns an error wrapping ErrNotStarted
	// and sends nothing. Once the first request is through the gate, the
	// transfer goes on, bounded by its timeouts, but it is not retried
	// after Stop: an attempt that fails then (or a wait for the next one
	// that Stop cuts short) ends the item with an error wrapping ErrStopped.
	// So does a transfer with requests left to send by then: the ranges
	// of a split not requested yet, the rest of a range that the server
	// capped, a redirect that waits for a slot of its new host. The
	// responses being read finish; the requests left are not sent (nor
	// waited for at the gate); the part and its sidecar are kept for a
	// resume.
	Stop context.Context
	// Began, if set, is called once, when the item's first request is
	// through the gate and about to be sent (for a local file, when the
	// copy begins): from then on the item is in flight. It is called
	// before Fetch returns, on the goroutine that called Fetch, or, when
	// that first request is one range of a split resumed from an earlier
	// run, on that range's goroutine while Fetch waits for the ranges.
	Began func()
	// Between, if set, is told with waiting true when the item, after a
	// failed attempt, waits before its next one (the backoff, then its
	// turn at the gate), and with waiting false once that attempt's first
	// request is through the gate. Meanwhile nothing of the item is in
	// flight, and a Stop ends it at once rather than let it finish.
	// hostPaused tells that the wait is a pause that the host asked for
	// (a Retry-After), which the Config.Gate, when it can (a *limit.Gate),
	// imposes on every request to that host: the host is busy, not free
	// for another item. Only the attempts of the whole item are told, not
	// the retry of one range of a split (the others go on). It is called
	// before Fetch returns, on the goroutine that called Fetch or, with
	// waiting false, on a range's goroutine of a split.
	Between func(waiting, hostPaused bool)
	// NoSidecar tells that the caller has just found no sidecar
	// (Path+".part.meta"), and that nobody else writes Path's part, so
	// Fetch does not look for one again: it starts the part from zero. The
	// pool knows it from reserving Path; it saves a failed open per file.
	NoSidecar bool
	// NoPart tells that the caller knows that neither a part nor a sidecar
	// is on disk for Path (its directory was empty when the run began, say)
	// and that nobody else writes there; it implies NoSidecar. Fetch then
	// writes a small body (up to 256 KiB, starting the file) into a file
	// without a name, on Linux, and names it Path once it is whole, instead
	// of creating Path+".part" and renaming it. A body cut short still
	// becomes Path+".part", to resume.
	NoPart bool
	// NoFile tells that the caller has just found nothing at Path: the
	// file saved there replaces none, so Fetch does not look for one to
	// give its permission bits to the new file (see keepMode). The pool
	// knows it from reserving Path; it saves an lstat per file. A
	// destination that Rename gives is looked at all the same.
	NoFile bool
}

// Result is what a Fetch did.
type Result struct {
	Path       string // where the file now is
	URL        string // where redirects led: the URL of the last response, whole; "" when it was Request.URL
	Bytes      int64  // bytes received (or copied) in this run
	Size       int64  // final file size
	SHA256     string // hex digest, when verified or Config.Hash
	HTTPStatus int    // last HTTP status (0 for local files)
	// Attempts counts the item's attempts. For a split item it is the
	// largest number of attempts that the item as a whole, or any one of
	// its ranges, took (each range is retried on its own): the count that
	// the reason of a failed split item gives, "bytes A-B: after N
	// attempts: ...".
	Attempts int
	Skipped  bool // 304, or Rename said ErrSkip
	// StaleRemoved tells that an item skipped as not newer (IfNewer) had
	// a part beside the file, from an earlier run, and that it was
	// removed with its sidecar.
	StaleRemoved bool
}

// Fetch transfers req into place. It blocks until the file is in place, the
// item failed, or ctx is done; in the last case the part and its sidecar are
// kept for a later resume and the error wraps ctx's error.
func (c *Client) Fetch(ctx context.Context, req Request) (Result, error) {
	if req.Progress == nil {
		req.Progress = event.NewProgress(req.Path)
	}
	if req.Path == "" {
		return Result{}, errors.New("no destination path")
	}
	if req.SHA256 != "" {
		// Unchecked, a digest that cannot match fails the item only once
		// the whole file has been fetched.
		if _, err := input.ParseSHA256(req.SHA256); err != nil {
			return Result{Path: req.Path}, fmt.Errorf("invalid Request.SHA256: %w", err)
		}
	}
	src, err := classify(req.URL)
	if err != nil {
		return Result{Path: req.Path}, err
	}
	if src.local != "" {
		return c.copyLocal(ctx, req, src.local)
	}
	t := c.newTransfer(req, src.u)
	res, err := t.run(ctx)
	return res, spaceHint(req.URL, err)
}

// spaceHint adds to the error of a URL with a space in it, which the
// server did not know, the most likely reason: a list line "URL NAME" or
// "URL # comment" is one URL, its spaces sent as %20.
func spaceHint(rawURL string, err error) error {
	var he *HTTPError
	if !strings.Contains(rawURL, " ") || !errors.As(err, &he) {
		return err
	}
	switch he.StatusCode {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusGone:
		return fmt.Errorf("%w (the URL has a space, sent as %%20: in a list, give an output name after a TAB, URL<TAB>NAME, and a comment on a line of its own)", err)
	}
	return err
}

// source is where an item comes from: an http(s) URL or a local file.
type source struct {
	u     *url.URL
	local string
}

// isScheme reports whether s can be a URL scheme (RFC 3986: a letter, then
// letters, digits, '+', '-' or '.'), as the input package decides: "- http"
// (a list pasted from Markdown) is not one, so "- http://h/x" is a local
// path, not a URL that cannot be parsed.
func isScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// classify tells http(s) URLs from file:// URLs and local paths. Its
// errors match the input package's for the same faults (errors.Is), so
// that a caller of Fetch tells them apart as it does for a parsed line.
func classify(raw string) (source, error) {
	scheme, _, hasScheme := strings.Cut(raw, "://")
	if len(raw) > 5 && strings.EqualFold(raw[:5], "file:") {
		// file:/PATH, without the slashes, is a file URL too, as the
		// input takes it (and curl).
		scheme, hasScheme = raw[:4], true
	}
	if !hasScheme || !isScheme(scheme) {
		if raw == "" {
			return source{}, input.ErrEmptyItem
		}
		return source{local: raw}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return source{}, fmt.Errorf("%w: %w", input.ErrInvalidURL, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return source{}, fmt.Errorf("%w %q: no host", input.ErrInvalidURL, raw)
		}
		if err := checkHost(u.Hostname()); err != nil {
			return source{}, err
		}
		escapeQuerySpaces(u)
		return source{u: u}, nil
	case "file":
		if u.Host != "" && !strings.EqualFold(u.Host, "localhost") {
			return source{}, fmt.Errorf("file URL %q names host %q: only local files can be copied", raw, u.Host)
		}
		if u.Path == "" {
			return source{}, fmt.Errorf("file URL %q has no path", raw)
		}
		return source{local: input.FilePath(u.Path)}, nil
	default:
		return source{}, fmt.Errorf("%w %q in %q: want http, https or file", input.ErrUnsupportedScheme, u.Scheme, raw)
	}
}

// emitter wraps Request.Emit: stamped with the time, serialized; a nil
// emitter, or one without Emit, drops events.
type emitter struct {
	mu   sync.Mutex
	emit func(event.Event)
}

func (e *emitter) send(ev event.Event) {
	if e == nil || e.emit == nil {
		return
	}
	ev.Time = time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.emit(ev)
}

// newHash returns a SHA-256 hash when one is wanted, else nil.
func (c *Client) newHash(req Request) hash.Hash {
	if req.SHA256 == "" && !c.cfg.Hash {
		return nil
	}
	return sha256.New()
}

// checkHost refuses a host under the .invalid top-level domain, which never
// resolves (RFC 6761, section 6.4): it fails at once, with no DNS query and
// nothing sent to a proxy.
func checkHost(host string) error {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h != "invalid" && !strings.HasSuffix(h, ".invalid") {
		return nil
	}
	return unresolvable{&net.DNSError{Err: "no such host (.invalid names never resolve)", Name: host, IsNotFound: true}}
}

// unresolvable is a *net.DNSError worded as describe words it, for the
// paths that return it before any request.
type unresolvable struct{ err *net.DNSError }

func (e unresolvable) Error() string { return describeDNS(e.err) }
func (e unresolvable) Unwrap() error { return e.err }
