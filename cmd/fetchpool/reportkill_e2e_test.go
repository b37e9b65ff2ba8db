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
// no --report file that a script would fail to parse: not one cut short,
// and not the previous run's, which it would take for this one's. What it
// wrote is in report.json.part, which the next run replaces; that run's
// report is whole and no .part is left. Before, report.json held the items
// written so far and no summary: jq failed on it.
func TestEndToEndKilledRunLeavesNoBrokenReport(t *testing.T) {
	srv := newHoldServer(t)
	dir := t.TempDir()
	report := filepath.Join(dir, "report.json")
	if err := os.WriteFile(report, []byte(`{"items":[],"summary":{"done":9}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startFetchpool(t, dir, "-j", "2", "-o", "out", "--no-progress", "--report", "report.json")
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

	if data, err := os.ReadFile(report); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after kill -9, report.json is there (%v), want none: %q", err, data)
	}
	srv.unblock()
	r := fetchpool(t, dir, srv.URL+"/q/a.bin\n"+srv.URL+"/hold/b.bin\n", "-o", "out", "--no-progress", "--report", "report.json")
	if r.code != 0 {
		t.Fatalf("second run: exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if rep := readReport(t, report); rep.Summary.Done != 1 || rep.Summary.Skipped != 1 || len(rep.Items) != 2 {
		t.Errorf("second run's report: summary %+v with %d items, want done 1, skipped 1, 2 items", rep.Summary, len(rep.Items))
	}
	if _, err := os.Stat(report + ".part"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("report.json.part left after a whole run (%v)", err)
	}
}
