package fetch

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/fetchpool/fetchpool/pkg/input"
)

// checkProxyEnv fails when a proxy variable of the environment is set to
// something that is not a proxy URL. net/http drops such a value without a
// word and sends every request around the proxy, straight to the servers:
// in a CI that relies on the proxy to filter or log, that is worse than
// not running. getenv is os.Getenv; the variables are read as net/http
// reads them (upper case first, the first one set counts).
func checkProxyEnv(getenv func(string) string) error {
	for _, names := range [][2]string{{"HTTP_PROXY", "http_proxy"}, {"HTTPS_PROXY", "https_proxy"}} {
		name, value := names[0], getenv(names[0])
		if value == "" {
			name, value = names[1], getenv(names[1])
		}
		if value == "" {
			continue
		}
		// As net/http: a value without a scheme is an http proxy.
		raw := value
		if !strings.Contains(value, "://") {
			raw = "http://" + value
		}
		u, err := url.Parse(raw)
		if err == nil && u.Host != "" { // "http://:3128" is this machine, as net/http dials it
			continue
		}
		shown := strings.TrimPrefix(input.RedactPassword(raw), strings.TrimSuffix(raw, value))
		why := "it has no host"
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			why = ue.Err.Error()
		}
		if shown != value {
			// The parser's complaint may quote a piece of the password.
			why = "it does not parse"
		}
		return fmt.Errorf("%s=%q is not a proxy URL (%s): write it as http://[user:password@]host:port, or unset it; requests would go around the proxy", name, shown, why)
	}
	return nil
}

// proxyGivenError marks the failure of a request through a proxy that
// Config.Proxy chose, so that the message does not send the person at the
// terminal to HTTP_PROXY, which played no part.
type proxyGivenError struct{ err error }

func (e *proxyGivenError) Error() string { return e.err.Error() }

func (e *proxyGivenError) Unwrap() error { return e.err }

// givenProxy marks err as a proxy's failure (see proxyGivenError) when
// the request failed at the proxy, and returns it as it is otherwise.
func givenProxy(err error) error {
	var (
		op    *net.OpError
		setup *setupTimeoutError
	)
	if errors.As(err, &op) && op.Op == "proxyconnect" || errors.As(err, &setup) && setup.proxy != "" {
		return &proxyGivenError{err}
	}
	return err
}
