package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fetchpool/fetchpool/bench/server"
)

// errVerify marks output that does not match what the server sent.
var errVerify = errors.New("verification failed")

// sampleFiles is how many files verify hashes; files of 1 MiB or more are
// few, and all of them are hashed.
const sampleFiles = 64

// verified is what a verified output directory holds.
type verified struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// verify checks that dir holds files 0..count-1 of the workload, each with
// the right size, and hashes a sample of them (all large files) against the
// content the server sends. A partial run (stopped at its window) may lack
// files and leave partial ones; only complete files are counted and checked.
func verify(dir string, w *workload, count int, partial bool) (verified, error) {
	var v verified
	entries, err := os.ReadDir(dir)
	if err != nil {
		return v, fmt.Errorf("reading the output directory: %w", err)
	}
	var extra, wrong []string
	present := make([]int, 0, count)
	for _, e := range entries {
		name := e.Name()
		n, ok := server.ParseName(name)
		if !ok || n >= count || !e.Type().IsRegular() {
			if !partial {
				extra = append(extra, name)
			}
			continue
		}
		info, err := e.Info()
		if err != nil {
			return v, fmt.Errorf("reading the output directory: %w", err)
		}
		if info.Size() != w.Size {
			if !partial {
				wrong = append(wrong, fmt.Sprintf("%s has %d bytes, want %d", name, info.Size(), w.Size))
			}
			continue
		}
		if partial && exists(filepath.Join(dir, name+".aria2")) {
			continue // aria2c writes in place; its control file marks it unfinished
		}
		present = append(present, n)
		v.Files++
		v.Bytes += info.Size()
	}
	switch {
	case len(wrong) > 0:
		return v, fmt.Errorf("%w: %s", errVerify, listSome(wrong))
	case len(extra) > 0:
		return v, fmt.Errorf("%w: unexpected files in the output directory: %s", errVerify, listSome(extra))
	case !partial && len(present) != count:
		return v, fmt.Errorf("%w: %d of %d files present, missing %s", errVerify, len(present), count, listSome(missing(present, count)))
	}
	for _, n := range sample(present, w.Size) {
		if err := checkContent(filepath.Join(dir, server.Name(n)), w.Size, n); err != nil {
			return v, err
		}
	}
	return v, nil
}

// sample picks the files to hash: all large files, else up to sampleFiles
// spread evenly, always including the first and last.
func sample(present []int, size int64) []int {
	slices.Sort(present)
	if size >= 1<<20 || len(present) <= sampleFiles {
		return present
	}
	picks := make([]int, 0, sampleFiles)
	for i := range sampleFiles {
		picks = append(picks, present[i*(len(present)-1)/(sampleFiles-1)])
	}
	return picks
}

func checkContent(path string, size int64, n int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("checking the content: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("checking the content of %s: %w", path, err)
	}
	got, want := h.Sum(nil), server.Sum(size, n)
	if string(got) != string(want[:]) {
		return fmt.Errorf("%w: %s has sha256 %x, want %x", errVerify, filepath.Base(path), got, want)
	}
	return nil
}

func missing(present []int, count int) []string {
	have := make([]bool, count)
	for _, n := range present {
		have[n] = true
	}
	var out []string
	for n, ok := range have {
		if !ok {
			out = append(out, server.Name(n))
		}
	}
	return out
}

func listSome(items []string) string {
	slices.Sort(items)
	if len(items) > 5 {
		return strings.Join(items[:5], ", ") + fmt.Sprintf(" and %d more", len(items)-5)
	}
	return strings.Join(items, ", ")
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
