package main

import (
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEndToEndKilledRunLeavesNoBrokenReport: a run killed (kill -9 after
// CI's grace for SIGTERM, the OOM killer) while items are in flight leaves
// no --report file that a script would fail to parse, and no --failed list
// that fetchpool -i would take for all that is left: not one cut short,
// and not the previous run's, which a script would take for this one's.
// What it wrote is in report.json.part and failed.txt.part, which the next
// run replaces; that run's files are whole and no .part is left. Before,
// report.json held the items written so far and no summary (jq failed on
// it), and failed.txt lacked the items in flight and the input not read.
func TestEndToEndKilledRunLeavesNoBrokenReport(t *testing.T) {
	srv := newHoldServer(t)
	dir := t.TempDir()
	report := filepath.Join(dir, "report.json")
	failed := filepath.Join(dir, "failed.txt")
	if err := os.WriteFile(report, []byte(`{"items":[],"summary":{"done":9}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(failed, []byte(srv.URL+"/q/earlier.bin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startFetchpool(t, dir, "-j", "2", "-o", "out", "--no-progress", "--report", "report.json", "--failed", "failed.txt")
	p.write(srv.URL+"/q/a.bin", srv.URL+"/hold/b.bin")
	srv.await(t, 1)
	p.waitLine(`^ok .*a\.bin`)
	// The report's items reach the disk about once a second.
	written := func() bool {
		for _, path := range []string{report, report + ".part"} {
			if data, _ := os.ReadFile(path); strings.Contains(string(data), "a.bin") {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(eventually); !written(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the report does not list a.bin after %v", eventually)
		}
	}
	p.cmd.Process.Kill()
	p.wait()

	for _, path := range []string{report, failed} {
		if data, err := os.ReadFile(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after kill -9, %s is there (%v), want none: %q", filepath.Base(path), err, data)
		}
	}
	srv.unblock()
	r := fetchpool(t, dir, srv.URL+"/q/a.bin\n"+srv.URL+"/hold/b.bin\n", "-o", "out", "--no-progress", "--report", "report.json", "--failed", "failed.txt")
	if r.code != 0 {
		t.Fatalf("second run: exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if rep := readReport(t, report); rep.Summary.Done != 1 || rep.Summary.Skipped != 1 || len(rep.Items) != 2 {
		t.Errorf("second run's report: summary %+v with %d items, want done 1, skipped 1, 2 items", rep.Summary, len(rep.Items))
	}
	if items := failedItems(t, failed); len(items) != 0 {
		t.Errorf("second run's --failed lists %q, want nothing", items)
	}
	for _, path := range []string{report, failed} {
		if _, err := os.Stat(path + ".part"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s.part left after a whole run (%v)", filepath.Base(path), err)
		}
	}
}

// TestEndToEndOutputFileIsAReadFile: --report or --failed naming a file
// that the run reads besides its lists (--checksums, --netrc-file), or
// written to that file's name until the run ends (FILE.part), is a usage
// error before any request, and the file is left as it was. It
// used to be emptied or overwritten with the report: the checksums or the
// credentials were lost, and the run ended with exit 0.
func TestEndToEndOutputFileIsAReadFile(t *testing.T) {
	c := &counting{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	read := map[string]string{
		"--checksums":  "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb  a\n",
		"--netrc-file": "machine example.com login u password p\n",
	}
	for readFlag, data := range read {
		for _, outFlag := range []string{"--report", "--failed"} {
			t.Run(outFlag+" "+readFlag, func(t *testing.T) {
				c.requests.Store(0)
				dir := t.TempDir()
				path := filepath.Join(dir, "file")
				if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
				r := fetchpool(t, dir, "", "-o", "out", readFlag, "file", outFlag, "./file", srv.URL+"/a")
				if r.code != 2 || !strings.Contains(r.stderr, outFlag+" ./file") || !strings.Contains(r.stderr, readFlag) {
					t.Errorf("exit %d, want 2 naming %s and %s; stderr:\n%s", r.code, outFlag, readFlag, r.stderr)
				}
				if got := readFile(t, path); string(got) != data {
					t.Errorf("%s changed to %q", readFlag, got)
				}
				if n := c.requests.Load(); n != 0 {
					t.Errorf("%d requests sent, want none", n)
				}
			})
			// The file it is written to until the run ends: --report
			// sums with --checksums sums.part removed the checksums.
			t.Run(outFlag+" "+readFlag+" .part", func(t *testing.T) {
				c.requests.Store(0)
				dir := t.TempDir()
				path := filepath.Join(dir, "file.part")
				if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
				r := fetchpool(t, dir, "", "-o", "out", readFlag, "file.part", outFlag, "file", srv.URL+"/a")
				if want := readFlag + " file.part is where " + outFlag + " file is written"; r.code != 2 || !strings.Contains(r.stderr, want) {
					t.Errorf("exit %d, want 2 with %q; stderr:\n%s", r.code, want, r.stderr)
				}
				if got, err := os.ReadFile(path); err != nil || string(got) != data {
					t.Errorf("%s changed to %q (%v)", readFlag, got, err)
				}
				if n := c.requests.Load(); n != 0 {
					t.Errorf("%d requests sent, want none", n)
				}
			})
		}
	}
}

// TestEndToEndOutputPendingIsAnInput: -i failed.txt.part, the list that a
// killed run left, with --failed failed.txt (or --report) is a usage
// error, and the list is left as it was: the run writes failed.txt.part
// until it ends, and used to remove it first, the list being read.
func TestEndToEndOutputPendingIsAnInput(t *testing.T) {
	for _, flag := range []string{"--failed", "--report"} {
		t.Run(flag, func(t *testing.T) {
			dir := t.TempDir()
			list := "http://127.0.0.1:1/a\n"
			if err := os.WriteFile(filepath.Join(dir, "out.part"), []byte(list), 0o644); err != nil {
				t.Fatal(err)
			}
			r := fetchpool(t, dir, "", "-i", "out.part", flag, "out")
			if r.code != 2 || !strings.Contains(r.stderr, "-i out.part is where "+flag+" out is written") {
				t.Errorf("exit %d, want 2 naming both; stderr:\n%s", r.code, r.stderr)
			}
			if got := readFile(t, filepath.Join(dir, "out.part")); string(got) != list {
				t.Errorf("the list changed to %q", got)
			}
		})
	}
}

// TestEndToEndOutputFileIsAStream: --report or --failed naming, as itself,
// the file that standard error (or, for a dry run, standard output) goes
// to as well (fetchpool --report log 2>log) is a usage error before any
// request. The file was made anew under its name, and every line written
// to standard error went to the old one, gone: the log was lost. Named
// /dev/stderr, the report goes there on purpose, mixed with the log.
func TestEndToEndOutputFileIsAStream(t *testing.T) {
	c := &counting{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	for _, tt := range []struct {
		name, stream string // the stream that goes to the file
		args         []string
		want         string
	}{
		{"report is stderr", "stderr", []string{"--report", "log"}, "--report log is standard error as well"},
		{"failed is stderr", "stderr", []string{"--failed", "log"}, "--failed log is standard error as well"},
		{"dry run's report is stdout", "stdout", []string{"--dry-run", "--report", "log"}, "--report log is standard output as well, where --dry-run writes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c.requests.Store(0)
			dir := t.TempDir()
			log, err := os.Create(filepath.Join(dir, "log"))
			if err != nil {
				t.Fatal(err)
			}
			defer log.Close()
			cmd := newCommand(dir, append(tt.args, "-o", "out", srv.URL+"/a")...)
			var other strings.Builder
			if tt.stream == "stderr" {
				cmd.Stderr, cmd.Stdout = log, &other
			} else {
				cmd.Stdout, cmd.Stderr = log, &other
			}
			err = cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want 2", err)
			}
			if got := readFile(t, filepath.Join(dir, "log")); !strings.Contains(string(got)+other.String(), tt.want) {
				t.Errorf("the output does not say %q:\n%s%s", tt.want, got, other.String())
			}
			if n := c.requests.Load(); n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
		})
	}
	// On purpose: the report mixed into standard error.
	dir := t.TempDir()
	r := fetchpool(t, dir, "", "-o", "out", "--report", "/dev/stderr", srv.URL+"/a")
	if r.code != 0 || !strings.Contains(r.stderr, `"summary":`) {
		t.Errorf("--report /dev/stderr: exit %d, want 0 with the report on standard error:\n%s", r.code, r.stderr)
	}
}

// TestEndToEndUsageErrorKeepsEarlierReport: a run that ends with a usage
// error before any request, because its --failed list cannot be made,
// leaves the report of the run before as it was. The report was made
// first, and the earlier one removed with it: the usage error (exit 2,
// nothing fetched) lost the last report there was.
func TestEndToEndUsageErrorKeepsEarlierReport(t *testing.T) {
	c := &counting{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	for _, tt := range []struct{ name, failed string }{
		{"failed under a missing directory", "missing/failed.txt"},
		{"failed is a directory", "out"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c.requests.Store(0)
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
				t.Fatal(err)
			}
			report := filepath.Join(dir, "report.json")
			earlier := `{"items":[],"summary":{"done":9}}` + "\n"
			if err := os.WriteFile(report, []byte(earlier), 0o644); err != nil {
				t.Fatal(err)
			}
			r := fetchpool(t, dir, "", "-o", "out", "--report", "report.json", "--failed", tt.failed, srv.URL+"/a")
			if r.code != 2 || !strings.Contains(r.stderr, "--failed file "+tt.failed) {
				t.Errorf("exit %d, want 2 naming --failed %s; stderr:\n%s", r.code, tt.failed, r.stderr)
			}
			if got, err := os.ReadFile(report); err != nil || string(got) != earlier {
				t.Errorf("the earlier report is now %q (%v), want it kept: %q", got, err, earlier)
			}
			if _, err := os.Stat(report + ".part"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("report.json.part left (%v)", err)
			}
			if n := c.requests.Load(); n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
		})
	}
}

// TestEndToEndOutputIsTheOtherOnesPending: --report r --failed r.part (or
// --failed f --report f.part) names as one file the file that the other is
// written to until the run ends: a usage error before any request, which
// leaves the file there as it was. Each replaced the other's, and the run
// ended without the report (or the list), saying that another run had
// replaced it.
func TestEndToEndOutputIsTheOtherOnesPending(t *testing.T) {
	c := &counting{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	for _, tt := range []struct {
		args    []string
		there   string // a file of an earlier run, left as it was
		message string
	}{
		{[]string{"--report", "r", "--failed", "r.part"}, "r.part", "--failed r.part is where --report r is written until the run ends"},
		{[]string{"--failed", "f", "--report", "f.part"}, "f.part", "--report f.part is where --failed f is written until the run ends"},
		{[]string{"--dry-run", "--report", "r", "--failed", "r.part"}, "r.part", "--failed r.part is where --report r is written"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			c.requests.Store(0)
			dir := t.TempDir()
			earlier := srv.URL + "/left\n"
			if err := os.WriteFile(filepath.Join(dir, tt.there), []byte(earlier), 0o644); err != nil {
				t.Fatal(err)
			}
			r := fetchpool(t, dir, "", append(tt.args, "-o", "out", srv.URL+"/a")...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.message) {
				t.Errorf("exit %d, want 2 with %q; stderr:\n%s", r.code, tt.message, r.stderr)
			}
			if got, err := os.ReadFile(filepath.Join(dir, tt.there)); err != nil || string(got) != earlier {
				t.Errorf("%s is now %q (%v), want it kept", tt.there, got, err)
			}
			if n := c.requests.Load(); n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
		})
	}
}

// TestEndToEndOutputDirIsThePendingName: -o r.part --report r: the output
// directory, made by the run a moment before, has the name that the report
// is written to until the run ends. It was removed as the leftover of a
// killed run, and every item failed, "r.part is a file, not a directory".
func TestEndToEndOutputDirIsThePendingName(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("a"))
	}))
	defer srv.Close()
	for _, flag := range []string{"--report", "--failed"} {
		t.Run(flag, func(t *testing.T) {
			dir := t.TempDir()
			r := fetchpool(t, dir, "", "-o", "r.part", flag, "r", srv.URL+"/a")
			if r.code != 0 {
				t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
			}
			if got := readFile(t, filepath.Join(dir, "r.part", "a")); string(got) != "a" {
				t.Errorf("r.part/a holds %q, want %q", got, "a")
			}
			if _, err := os.Stat(filepath.Join(dir, "r")); err != nil {
				t.Errorf("%s r was not written: %v", flag, err)
			}
		})
	}
}
