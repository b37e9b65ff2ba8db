package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestTuneRuntime: one P, scaled up later (see procs), and the collector
// tuned, unless the environment sets GOMAXPROCS or GOGC.
func TestTuneRuntime(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	gogc := debug.SetGCPercent(100)
	t.Cleanup(func() {
		runtime.GOMAXPROCS(procs)
		debug.SetGCPercent(gogc)
	})
	first := 1 // see procs: one P where user CPU time can be read
	if runtime.GOOS == "windows" {
		first = procs + 1
	}
	tests := []struct {
		name      string
		env       map[string]string
		wantProcs int
		tuned     bool // on Linux, where the resident memory can be read
	}{
		{"unset", nil, first, runtime.GOOS == "linux"},
		{"GOMAXPROCS set", map[string]string{"GOMAXPROCS": "3"}, procs, runtime.GOOS == "linux"},
		{"GOMAXPROCS not a number", map[string]string{"GOMAXPROCS": "abc"}, first, runtime.GOOS == "linux"},
		{"GOMAXPROCS 0", map[string]string{"GOMAXPROCS": "0"}, first, runtime.GOOS == "linux"},
		{"GOMAXPROCS past 32 bits", map[string]string{"GOMAXPROCS": "4294967297"}, first, runtime.GOOS == "linux"},
		{"GOGC set", map[string]string{"GOGC": "100"}, first, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GOMAXPROCS(procs)
			tuned := tuneRuntime(func(k string) string { return tt.env[k] })
			defer tuned.stop()
			if got := runtime.GOMAXPROCS(0); got != tt.wantProcs {
				t.Errorf("GOMAXPROCS %d, want %d", got, tt.wantProcs)
			}
			if (tuned.gc != nil) != tt.tuned {
				t.Errorf("collector tuned: %v, want %v", tuned.gc != nil, tt.tuned)
			}
		})
	}
}

// TestHashingToldOnce: run tells main, once the options are read, whether
// it hashes files, which decides how many Ps it gets (see tuneRuntime).
func TestHashingToldOnce(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.txt")
	if err := os.WriteFile(src, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sums := filepath.Join(dir, "SHA256SUMS")
	if err := os.WriteFile(sums, []byte("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  src.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want bool
	}{
		{"plain", nil, false},
		{"--json", []string{"--json"}, true},
		{"--report", []string{"--report", filepath.Join(dir, "r.json")}, true},
		{"--checksums", []string{"--checksums", sums}, true},
		{"--sha256", []string{"--sha256", "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var told []bool
			s := &streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard,
				Width: func() int { return 80 }, Getenv: func(string) string { return "" },
				Hashing: func(h bool) { told = append(told, h) }}
			args := append([]string{"-q", "-o", filepath.Join(t.TempDir(), "out"), src}, tt.args...)
			if err := execute(context.Background(), context.Background(), s, args); err != nil {
				t.Fatalf("fetchpool %v: %v", args, err)
			}
			if len(told) != 1 || told[0] != tt.want {
				t.Errorf("fetchpool %v told hashing %v, want [%v]", args, told, tt.want)
			}
		})
	}
}
