package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/fetch"
)

// TestEndToEndKilledLocalCopyRerun: a run killed (kill -9, the OOM killer,
// a CI timeout) while it copies a large local file leaves the copy's part;
// the same command run again puts the file under its own name and leaves
// nothing else. Before, the part had no sidecar, so the next run took it
// for another program's file: it saved the copy as big.1.bin and left
// big.bin.part beside it for ever.
func TestEndToEndKilledLocalCopyRerun(t *testing.T) {
	dir := t.TempDir()
	body := make([]byte, 4<<20)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	first := startFetchpool(t, dir, "-o", "out", "--no-progress", "--limit-rate", "512K", "big.bin")
	part := filepath.Join(out, "big.bin.part")
	waitForPart(t, part, first)
	// Past what a part of fetchpool's may hold without a sidecar.
	deadline := time.Now().Add(eventually)
	for fi, err := os.Stat(part); err != nil || fi.Size() <= fetch.MaxPartWithoutSidecar; fi, err = os.Stat(part) {
		if time.Now().After(deadline) {
			t.Fatalf("%s not past %d bytes after %v (%v)", part, fetch.MaxPartWithoutSidecar, eventually, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	first.cmd.Process.Kill()
	first.wait()

	r := fetchpool(t, dir, "", "-o", "out", "--no-progress", "big.bin")
	if r.code != 0 {
		t.Fatalf("second run: exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if got := readFile(t, filepath.Join(out, "big.bin")); !bytes.Equal(got, body) {
		t.Errorf("out/big.bin: %d bytes, not the file copied (%d bytes)", len(got), len(body))
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"big.bin"}; !slices.Equal(names, want) {
		t.Errorf("out holds %v, want %v", names, want)
	}
}
