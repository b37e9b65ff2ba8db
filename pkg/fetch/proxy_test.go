package fetch

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
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
