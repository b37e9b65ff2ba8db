package main

import (
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/bench/launch"
	"github.com/fetchpool/fetchpool/bench/server"
)

// TestMain lets the test binary act as the launcher, as the bench binary does.
func TestMain(m *testing.M) {
	if os.Getenv(launch.Env) == "1" {
		os.Exit(launch.Run())
	}
	os.Exit(m.Run())
}

// writeFiles writes files 0..count-1 of size bytes as the server serves them.
func writeFiles(t *testing.T, dir string, size int64, count int) {
	t.Helper()
	for n := range count {
		f, err := os.Create(filepath.Join(dir, server.Name(n)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, server.NewReader(size, n)); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerify(t *testing.T) {
	const size, count = 3000, 100
	w := &workload{Size: size, Count: count}
	tests := []struct {
		name    string
		spoil   func(t *testing.T, dir string)
		partial bool
		files   int
		wantErr bool
	}{
		{name: "complete", spoil: func(*testing.T, string) {}, files: count},
		{name: "one byte changed", wantErr: true, spoil: func(t *testing.T, dir string) {
			// File 99 is the last, which the sample always includes.
			f, err := os.OpenFile(filepath.Join(dir, "99.bin"), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b := make([]byte, 1)
			_, _ = f.ReadAt(b, 1234)
			b[0] ^= 1
			if _, err := f.WriteAt(b, 1234); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "file missing", wantErr: true, spoil: remove("42.bin")},
		{name: "short file", wantErr: true, spoil: truncate("7.bin", size-1)},
		{name: "left-over part file", wantErr: true, spoil: create("7.bin.part")},
		{name: "partial run ignores unfinished files", partial: true, files: count - 2, spoil: func(t *testing.T, dir string) {
			remove("42.bin")(t, dir)
			truncate("7.bin", 10)(t, dir)
			create("8.bin.part")(t, dir)
		}},
		{name: "partial run skips files aria2c has not finished", partial: true, files: count - 1, spoil: create("3.bin.aria2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, size, count)
			tt.spoil(t, dir)
			v, err := verify(dir, w, count, tt.partial)
			if tt.wantErr {
				if !errors.Is(err, errVerify) {
					t.Fatalf("verify = %v, want a verification error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Files != tt.files || v.Bytes != int64(tt.files)*size {
				t.Errorf("verified %+v, want %d files of %d bytes", v, tt.files, size)
			}
		})
	}
}

func remove(name string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func truncate(name string, size int64) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		if err := os.Truncate(filepath.Join(dir, name), size); err != nil {
			t.Fatal(err)
		}
	}
}

func create(name string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSample(t *testing.T) {
	present := make([]int, 1000)
	for i := range present {
		present[i] = 999 - i
	}
	got := sample(present, 16<<10)
	if len(got) != sampleFiles || got[0] != 0 || got[len(got)-1] != 999 {
		t.Errorf("sample of 1000 small files: %d picks from %d to %d, want %d from 0 to 999", len(got), got[0], got[len(got)-1], sampleFiles)
	}
	if got := sample([]int{3, 1, 2}, 1<<20); len(got) != 3 {
		t.Errorf("large files: %v, want all of them", got)
	}
}

// testJob is a job against a live server with a fresh output directory.
func testJob(t *testing.T, w *workload) *job {
	t.Helper()
	srv, err := server.Start(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return &job{w: w, srv: srv, dir: out, home: dir,
		list: filepath.Join(dir, "urls.txt"), curlConfig: filepath.Join(dir, "curl.cfg")}
}

func TestExecute(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	j := testJob(t, &workload{Count: 1, Size: 10})
	ctx := context.Background()

	m, err := execute(ctx, j, cmdSpec{path: sh, args: []string{"-c", "echo out; echo err >&2"}}, time.Minute)
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	if m.MaxRSS <= 0 || m.CPU < 0 || m.Wall <= 0 {
		t.Errorf("measurement %+v: want RSS, CPU and wall time", m)
	}
	if m.FirstRequest != -1 {
		t.Errorf("FirstRequest = %v without any request, want -1", m.FirstRequest)
	}
	if !strings.Contains(m.Stderr, "out") || !strings.Contains(m.Stderr, "err") {
		t.Errorf("output %q, want both streams", m.Stderr)
	}
	if _, err := execute(ctx, j, cmdSpec{path: sh, args: []string{"-c", "exit 3"}}, time.Minute); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("a failing tool: err = %v, want its exit status", err)
	}
	begin := time.Now()
	if _, err := execute(ctx, j, cmdSpec{path: sh, args: []string{"-c", "sleep 30"}}, 200*time.Millisecond); !errors.Is(err, errTimeout) {
		t.Errorf("a slow tool: err = %v, want a timeout", err)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("the timeout took %v to stop the tool", took)
	}
}

// TestStdinWindow pipes URLs to a reader that never finishes: the window
// stops it, and the run counts as stopped, not failed.
func TestStdinWindow(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	j := testJob(t, &workload{Count: 1_000_000, Size: 16, Stdin: true, Window: 300 * time.Millisecond})
	m, err := execute(context.Background(), j, cmdSpec{path: sh, stdinURLs: true,
		args: []string{"-c", "read line; echo \"$line\" >&2; exec sleep 30"}}, time.Minute)
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	if !m.Stopped {
		t.Error("the run was not marked stopped")
	}
	if want := j.srv.URL(16, 0); !strings.Contains(m.Stderr, want) {
		t.Errorf("the tool read %q, want the first URL %s", m.Stderr, want)
	}
}

// TestCurlRun runs the curl contenders of workload a (curl -Z, and curl -Z
// -R, which keeps the server's mtime), end to end, when curl is installed.
func TestCurlRun(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	w := &workload{Key: "a", Count: 20, Size: 5000, Conc: 4}
	ts := toolSet{paths: map[string]string{"curl": curl}}
	cs := contenders(w, ts, map[string]bool{"curl": true})
	if len(cs) != 2 || !strings.Contains(cs[1].label, "-R") {
		t.Fatalf("got %d contenders, want the curl -Z and curl -Z -R rows", len(cs))
	}
	for i, c := range cs {
		t.Run(c.label, func(t *testing.T) {
			j := testJob(t, w)
			if err := writeLists(j); err != nil {
				t.Fatal(err)
			}
			m, err := execute(context.Background(), j, c.command(j), time.Minute)
			if err != nil {
				t.Fatalf("curl: %v\n%s", err, m.Stderr)
			}
			v, err := verify(j.dir, w, w.Count, false)
			if err != nil {
				t.Fatal(err)
			}
			if v.Files != 20 || m.Requests != 20 || m.FirstRequest <= 0 {
				t.Errorf("verified %+v, measured %+v: want 20 files, 20 requests and a first request", v, m)
			}
			fi, err := os.Stat(filepath.Join(j.dir, server.Name(0)))
			if err != nil {
				t.Fatal(err)
			}
			if kept := fi.ModTime().Year() == 2024; kept != (i == 1) {
				t.Errorf("mtime %v: kept the server's = %v, want %v", fi.ModTime(), kept, i == 1)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
		check   func(config) bool
	}{
		{args: nil, check: func(c config) bool { return c.runs == 3 && len(c.workloads) == 5 && c.tools == nil }},
		{args: []string{"-quick"}, check: func(c config) bool { return c.runs == 1 && c.stdinURLs == 20_000 }},
		{args: []string{"-quick", "-runs", "3"}, check: func(c config) bool { return c.runs == 3 }},
		{args: []string{"-w", "a, b", "-tools", "fetchpool,limit"}, check: func(c config) bool {
			return strings.Join(c.workloads, "") == "ab" && c.tools["limit"] && !c.tools["curl"]
		}},
		{args: []string{"-serve", ":0", "-conn-rate", "20M"}, check: func(c config) bool { return c.connRate == 20<<20 }},
		{args: []string{"-w", "f"}, wantErr: true},
		{args: []string{"-tools", "wget"}, wantErr: true},
		{args: []string{"-runs", "0"}, wantErr: true},
		{args: []string{"-conn-rate", "fast"}, wantErr: true},
		{args: []string{"extra"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cfg, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr {
				if !errors.Is(err, errUsage) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Errorf("parsed %+v", cfg)
			}
		})
	}
}

func TestIdeal(t *testing.T) {
	w := &workload{Count: 1000, Conc: 16, Latency: 50 * time.Millisecond}
	if got, want := w.ideal(), 63*50*time.Millisecond; got != want {
		t.Errorf("ideal = %v, want %v", got, want)
	}
}

func TestContenders(t *testing.T) {
	all := map[string]string{"fetchpool": "/fp", "aria2c": "/a", "wget2": "/w", "curl": "/c", "xargs": "/x"}
	withGoclient := maps.Clone(all)
	withGoclient["goclient"] = "/g"
	tests := []struct {
		name  string
		w     *workload
		paths map[string]string
		tools map[string]bool
		want  []string
	}{
		{"a: all tools and the Go limits", &workload{Key: "a", Count: 10, Conc: 2}, withGoclient, nil,
			[]string{"fetchpool", "aria2c", "wget2", "curl", "curl", "xargs", "limit", "limit", "limit"}},
		{"a: no goclient built, only the in-process limit", &workload{Key: "a", Count: 10, Conc: 2}, all, map[string]bool{"limit": true},
			[]string{"limit"}},
		{"c: the curl limit", &workload{Key: "c", Count: 4, Conc: 4}, all, map[string]bool{"limit": true}, []string{"limit"}},
		{"e: only tools that stream stdin", &workload{Key: "e", Count: 10, Conc: 2, Stdin: true}, all, nil, []string{"fetchpool", "aria2c"}},
		{"xargs needs curl", &workload{Key: "b", Count: 10, Conc: 2}, map[string]string{"xargs": "/x"}, nil, nil},
		{"missing tools are skipped", &workload{Key: "b", Count: 10, Conc: 2}, map[string]string{"wget2": "/w"}, nil, []string{"wget2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range contenders(tt.w, toolSet{paths: tt.paths}, tt.tools) {
				got = append(got, c.key)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("contenders = %v, want %v", got, tt.want)
			}
		})
	}
}
