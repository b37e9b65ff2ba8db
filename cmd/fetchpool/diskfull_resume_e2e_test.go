//go:build linux

package main

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/fetchpool/fetchpool/pkg/fetch"
)

// TestFaultFullDiskKeepsResumedPart: the .part that an earlier run left (a
// prefix of a 3 MB file, with its sidecar), resumed where it cannot be
// finished (under prlimit --fsize, or on a 1 MB tmpfs that fills up),
// fails the item (exit 1) with what to do, and is kept with its sidecar;
// once there is room, the same command resumes it (exit 0) instead of
// starting over.
func TestFaultFullDiskKeepsResumedPart(t *testing.T) {
	big := make([]byte, 3_000_000)
	rnd := rand.New(rand.NewPCG(7, 8))
	for i := range big {
		big[i] = byte(rnd.Uint32())
	}
	var mu sync.Mutex
	var ranges []string // the Range header of each request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		mu.Unlock()
		w.Header().Set("ETag", `"big"`)
		http.ServeContent(w, r, "", modTime, bytes.NewReader(big))
	}))
	t.Cleanup(srv.Close)
	url := srv.URL + "/big.bin"

	tests := []struct {
		name  string
		fsize bool // prlimit --fsize=500000; else a 1 MB tmpfs
		part  int  // bytes the earlier run got
		want  string
	}{
		{
			name: "file size limit", fsize: true, part: 400_000,
			want: "FAIL arg 1 " + url + ": file size limit reached writing out/big.bin.part: file too large; " +
				"raise the file size limit (ulimit -f) and run again: the download resumes from out/big.bin.part\n",
		},
		{
			name: "full disk", part: 700_000,
			want: "FAIL arg 1 " + url + ": disk full writing out/big.bin.part: no space left on device; " +
				"free some space and run again: the download resumes from out/big.bin.part\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			var cmd *exec.Cmd
			if tt.fsize {
				if _, err := exec.LookPath("prlimit"); err != nil {
					t.Skip("no prlimit")
				}
				os.Mkdir(out, 0o755)
				cmd = exec.Command("prlimit", "--fsize=500000", binary, "-o", "out", url)
				cmd.Dir, cmd.Env = dir, testEnv()
			} else {
				mountTmpfs(t, out, "size=1m")
				cmd = newCommand(dir, "-o", "out", url)
			}
			part := filepath.Join(out, "big.bin.part")
			meta := fetch.Meta{URL: url, ETag: `"big"`, LastModified: modTime.Format(http.TimeFormat), Length: int64(len(big))}
			writeEarlierPart(t, part, big[:tt.part], meta)

			r := runCommand(t, cmd)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr has no line %q:\n%s", tt.want, r.stderr)
			}
			got, err := os.ReadFile(part)
			if err != nil {
				t.Fatalf("the part is gone: %v", err)
			}
			if len(got) < tt.part || !bytes.Equal(got, big[:len(got)]) {
				t.Errorf("part of %d bytes: want at least the %d it had, all of them the file's", len(got), tt.part)
			}
			if m, err := fetch.ReadMeta(part); err != nil || !reflect.DeepEqual(m, meta) {
				t.Errorf("sidecar %+v, %v; want %+v", m, err, meta)
			}

			if !tt.fsize { // make room
				if err := syscall.Mount("tmpfs", out, "tmpfs", syscall.MS_REMOUNT, "size=8m"); err != nil {
					t.Fatalf("growing the tmpfs: %v", err)
				}
			}
			mu.Lock()
			asked := len(ranges)
			mu.Unlock()
			r = fetchpool(t, dir, "", "-o", "out", url)
			if r.code != 0 {
				t.Fatalf("the run after making room: exit %d; stderr:\n%s", r.code, r.stderr)
			}
			if saved, err := os.ReadFile(filepath.Join(out, "big.bin")); err != nil || !bytes.Equal(saved, big) {
				t.Errorf("big.bin: %d bytes, %v; want the 3 MB file", len(saved), err)
			}
			mu.Lock()
			again := slices.Clone(ranges[asked:])
			mu.Unlock()
			if len(again) != 1 || resumedFrom(again[0]) < tt.part {
				t.Errorf("the run after making room sent Range %q; want one request, from byte %d or later", again, tt.part)
			}
			for _, name := range []string{"big.bin.part", "big.bin.part.meta"} {
				if _, err := os.Stat(filepath.Join(out, name)); err == nil {
					t.Errorf("%s left after the file was saved", name)
				}
			}
		})
	}
}

// resumedFrom is N of a Range header "bytes=N-", or -1.
func resumedFrom(rng string) int {
	v, ok := strings.CutPrefix(rng, "bytes=")
	v, open := strings.CutSuffix(v, "-")
	n, err := strconv.Atoi(v)
	if !ok || !open || err != nil {
		return -1
	}
	return n
}
