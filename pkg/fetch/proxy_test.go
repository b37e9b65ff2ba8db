package fetch

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfigProxy: a program that embeds the Client picks its proxy with
// Config.Proxy, whatever the environment says. Before Config.Proxy the
// Client always took the proxy from the environment, as net/http reads it
// once per process, and New failed on a proxy variable that is not a URL
// even for a program that wanted no proxy at all.
func TestConfigProxy(t *testing.T) {
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.String()) // a proxy sees the absolute URL
		w.Write([]byte("via proxy"))
	}))
	defer proxy.Close()
	direct := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("direct"))
	}))
	defer direct.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	proxyURL, _ := url.Parse(proxy.URL)

	// A proxy variable that is not a URL: New refuses it when the
	// environment decides, and leaves it alone when Config.Proxy does.
	t.Setenv("HTTP_PROXY", "http://user:pw@[::1")
	t.Setenv("http_proxy", "")
	if _, err := New(Config{}); err == nil {
		t.Fatal("New took a malformed HTTP_PROXY with Config.Proxy nil")
	}

	tests := []struct {
		name    string
		proxy   func(*http.Request) (*url.URL, error)
		url     string
		want    string // the file's contents, or
		wantErr string // the error's
	}{
		{"no proxy whatever the environment", func(*http.Request) (*url.URL, error) { return nil, nil },
			direct.URL + "/a.txt", "direct", ""},
		{"one proxy for all", http.ProxyURL(proxyURL), "http://files.test/a.txt", "via proxy", ""},
		{"proxy down", http.ProxyURL(&url.URL{Scheme: "http", Host: closedAddr}), "http://files.test/a.txt", "",
			"the proxy " + closedAddr + " (from Config.Proxy): connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			c, err := New(Config{Proxy: tt.proxy})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer c.CloseIdleConnections()
			path := filepath.Join(t.TempDir(), "a.txt")
			_, err = c.Fetch(t.Context(), Request{URL: tt.url, Path: path})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one that says %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertDone(t, path, []byte(tt.want))
			if tt.want == "via proxy" && (len(seen) != 1 || seen[0] != tt.url) {
				t.Errorf("the proxy saw %q, want %q", seen, tt.url)
			}
		})
	}
}

// TestProxyConnectTimeout: a proxy that takes the connection and never
// answers the CONNECT of an https URL is given --connect-timeout, as the
// dial and the TLS handshake are, and the error blames the proxy. Before,
// only the stall timeout (60s by default) ended the attempt, with "no data
// received", which sends the person at the terminal to the server. A
// proxy that answers, to a server slower than the connect timeout, is not
// cut short.
func TestProxyConnectTimeout(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // read nothing, answer nothing
		}
	}()

	slow := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(600 * time.Millisecond) // longer than the connect timeout
		w.Write([]byte("slow but fine"))
	}))
	slow.EnableHTTP2 = true
	slow.StartTLS()
	defer slow.Close()
	tunnel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect { // a plain http request, slow too
			time.Sleep(600 * time.Millisecond)
			w.Write([]byte("slow but fine"))
			return
		}
		up, err := net.Dial("tcp", slow.Listener.Addr().String()) // every host is the slow server
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer up.Close()
		w.WriteHeader(http.StatusOK)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		buf.Flush()
		go io.Copy(up, buf)
		io.Copy(conn, up)
	}))
	defer tunnel.Close()
	tunnelURL, _ := url.Parse(tunnel.URL)

	tests := []struct {
		name    string
		proxy   *url.URL
		url     string
		want    string // the file's contents, or
		wantErr string // the error's
	}{
		{"silent proxy", &url.URL{Scheme: "http", Host: silent.Addr().String()}, "https://files.test/a.txt", "",
			"the proxy " + silent.Addr().String() + " (from Config.Proxy): no answer to the CONNECT request within 300ms (--connect-timeout)"},
		{"tunnel to a slow server", tunnelURL, "https://files.test/a.txt", "slow but fine", ""},
		{"slow proxy, plain http", tunnelURL, "http://files.test/a.txt", "slow but fine", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Retries = 0
			cfg.ConnectTimeout = 300 * time.Millisecond
			cfg.StallTimeout = 10 * time.Second
			cfg.Insecure = true // the test server's certificate
			cfg.Proxy = http.ProxyURL(tt.proxy)
			c := newClient(t, cfg)
			defer c.CloseIdleConnections()
			path := filepath.Join(t.TempDir(), "a.txt")
			start := time.Now()
			_, err := c.Fetch(t.Context(), Request{URL: tt.url, Path: path})
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the fetch took %v", d)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one that says %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertDone(t, path, []byte(tt.want))
		})
	}
}
