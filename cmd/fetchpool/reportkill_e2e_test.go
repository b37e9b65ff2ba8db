package main

import (
	"errors"
	"io/fs"
	"os"
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
