package fetch

import (
	"bufio"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestSlowHeaderIsNotAStall: a response header that comes slowly, a byte
// every 25 ms, over three times the stall timeout, is not a stall: the
// stall timeout is for an attempt that receives no byte for that long.
// The watchdog counted only the bytes of the body (and interim
// responses), and aborted such an attempt saying "no data received for
// 500ms", which was not true. Over plain http, whose transport (http1)
// tells of the header's bytes as they come; net/http does not.
func TestSlowHeaderIsNotAStall(t *testing.T) {
	const header = "HTTP/1.1 200 OK\r\nX-Pad: 0123456789012345678901234567890123456789\r\nContent-Length: 5\r\n\r\n"
	addr := acceptEach(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		for i := range len(header) {
			if _, err := c.Write([]byte{header[i]}); err != nil {
				return
			}
			time.Sleep(25 * time.Millisecond)
		}
		c.Write([]byte("hello"))
	})
	cfg := testConfig()
	cfg.StallTimeout = 500 * time.Millisecond
	cfg.Retries = 0
	path := filepath.Join(t.TempDir(), "f")
	if _, err := fetchWithin(t, cfg, request("http://"+addr+"/f", path, nil)); err != nil {
		t.Fatal(err)
	}
	assertDone(t, path, []byte("hello"))
}
