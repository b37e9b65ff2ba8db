package fetch

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestIdleConnectionsFitTheOpenFilesLimit: the idle connections a Client
// keeps over all hosts fit the process's limit on open files along with
// the connections and files of the transfers in flight. With -j 64 they
// were capped at 256 whatever the limit, so under ulimit -n 256 a list of
// 300 hosts failed two items in three with "too many open files", over
// https (HTTP/2) as over http. The fetches run in a child process, whose
// limit the test sets; the servers, in this one, listen on every loopback
// address (127.0.X.Y), one host each.
func TestIdleConnectionsFitTheOpenFilesLimit(t *testing.T) {
	if spec := os.Getenv("FETCH_NOFILE_CHILD"); spec != "" {
		noFileCheck(t, strings.Fields(spec))
		return
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	var bases []string
	for _, proto := range []string{"http", "h2"} {
		ln, err := net.Listen("tcp4", "0.0.0.0:0")
		if err != nil {
			t.Skipf("cannot listen on every address: %v", err)
		}
		srv := httptest.NewUnstartedServer(handler)
		srv.Listener.Close()
		srv.Listener = ln
		if proto == "h2" {
			srv.EnableHTTP2 = true
			srv.StartTLS()
		} else {
			srv.Start()
		}
		t.Cleanup(srv.Close)
		scheme := map[string]string{"http": "http", "h2": "https"}[proto]
		bases = append(bases, fmt.Sprintf("%s:%d", scheme, ln.Addr().(*net.TCPAddr).Port))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleConnectionsFitTheOpenFilesLimit$", "-test.v")
	cmd.Env = append(os.Environ(), "FETCH_NOFILE_CHILD="+strings.Join(bases, " "), "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// noFileCheck fetches a file from each of 300 hosts, twice over, with 64
// at once, under a limit of 256 open files, from each server of bases
// ("SCHEME:PORT").
func noFileCheck(t *testing.T, bases []string) {
	lim := &syscall.Rlimit{Cur: 256, Max: 256}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, lim); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	for _, base := range bases {
		scheme, port, _ := strings.Cut(base, ":")
		t.Run(scheme, func(t *testing.T) {
			cfg := testConfig()
			cfg.Concurrency = 64
			cfg.Retries = 0
			cfg.Insecure = true
			c := newClient(t, cfg)
			defer c.CloseIdleConnections()
			dir := t.TempDir()
			urls := make(chan string)
			go func() {
				defer close(urls)
				for round := range 2 {
					for h := range 300 {
						urls <- fmt.Sprintf("%s://127.0.%d.%d:%s/%d-%d", scheme, h/250, h%250+2, port, h, round)
					}
				}
			}()
			var (
				mu   sync.Mutex
				errs []string
				wg   sync.WaitGroup
			)
			for w := range cfg.Concurrency {
				wg.Go(func() {
					for u := range urls {
						path := filepath.Join(dir, strconv.Itoa(w)+"-"+filepath.Base(u))
						if _, err := c.Fetch(context.Background(), request(u, path, nil)); err != nil {
							mu.Lock()
							errs = append(errs, u+": "+err.Error())
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			if len(errs) > 0 {
				t.Errorf("%d of 600 fetches failed under a limit of 256 open files, the first: %s", len(errs), errs[0])
			}
		})
	}
}
