package fetch

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestServerNamedNewerHoldsForRetries: a file under the name its server
// gives, which Request.Rename says to keep unless the response is newer
// (Destination.IfNewer), is judged again on every later response of the
// item, as a file under Request.Path is with Request.IfNewer, and the
// later requests carry the conditions from it. Before, only the first
// response was judged: a retry answered with an older copy (a server rolled
// back, a mirror behind the others) replaced the newer file.
func TestServerNamedNewerHoldsForRetries(t *testing.T) {
	local := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	newer, older := local.Add(time.Hour), local.Add(-time.Hour)
	fresh, stale := payload(64<<10, 61), payload(64<<10, 62)
	rc := &recorder{}
	srv := serve(t, rc, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="served.bin"`)
		if n == 1 {
			// A newer copy, cut short.
			w.Header().Set("Last-Modified", newer.Format(http.TimeFormat))
			w.Header().Set("Content-Length", strconv.Itoa(len(fresh)))
			w.Write(fresh[:len(fresh)/2])
			return
		}
		// Then an older one, to any request: a server that ignores the
		// conditions and If-Range.
		w.Header().Set("Last-Modified", older.Format(http.TimeFormat))
		w.Header().Set("Content-Length", strconv.Itoa(len(stale)))
		w.Write(stale)
	})
	dir := t.TempDir()
	served := filepath.Join(dir, "served.bin")
	os.WriteFile(served, []byte("local"), 0o644)
	os.Chtimes(served, local, local)
	req := request(srv.URL+"/dl", filepath.Join(dir, "dl"), nil)
	req.Rename = func(name string) (Destination, error) {
		return Destination{Path: filepath.Join(dir, name), IfNewer: true}, nil
	}
	res, err := newClient(t, testConfig()).Fetch(context.Background(), req)
	if !errors.Is(err, ErrNotNewer) || !res.Skipped || res.Path != served {
		t.Fatalf("Fetch = %+v, %v; want the item skipped as not newer", res, err)
	}
	if got := mustFile(t, served); !bytes.Equal(got, []byte("local")) {
		t.Fatalf("served.bin holds %d bytes; the older copy replaced the newer file", len(got))
	}
	if rc.count() < 2 {
		t.Fatalf("%d requests, want a retry", rc.count())
	}
	if ims := rc.header(1).Get("If-Modified-Since"); ims != local.Format(http.TimeFormat) {
		t.Errorf("the retry's If-Modified-Since is %q, want the mtime of served.bin, %q", ims, local.Format(http.TimeFormat))
	}
	assertGone(t, filepath.Join(dir, "dl"), filepath.Join(dir, "dl.part"), filepath.Join(dir, "dl.part.meta"))
}
