package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/report"
)

// noItems tells a run that had no item to deal with: an empty list, which
// is a success (exit 0), but one that a log should tell apart from a list
// fetched whole, as when an empty variable was piped in.
func noItems(c report.Counts) bool {
	return c.Done+c.Skipped+c.Failed+c.NotStarted+c.Canceled+c.Duplicates == 0
}

// inputNames names the inputs of a run without arguments, for a note:
// "standard input", "urls.txt", "a.txt and b.txt", "shard 2/3 of urls.txt".
func inputNames(opts *options, shard input.Shard) string {
	names := []string{"standard input"}
	if len(opts.Inputs) > 0 {
		names = names[:0]
		for _, in := range opts.Inputs {
			if in == "-" {
				in = "standard input"
			}
			names = append(names, in)
		}
	}
	list := strings.Join(names, ", ")
	if n := len(names); n > 1 {
		list = strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	}
	if len(opts.Args) > 0 {
		list = "the arguments"
	}
	if shard.N > 1 {
		return "shard " + shard.String() + " of " + list
	}
	return list
}

// isURL reports whether s starts as a URL does, "SCHEME://", where a file
// name is wanted.
func isURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	return ok && validScheme(scheme)
}

// validScheme reports whether s can be a URL's scheme: a letter, then
// letters, digits, "+", "-" or ".".
func validScheme(s string) bool {
	for i, r := range s {
		letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		if !letter && (i == 0 || !('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return s != ""
}

// fileReason is err from opening or creating a file that the message
// around it names already, without the operation and path of its
// *fs.PathError: "open urls.txt: no such file or directory" would name it
// twice.
func fileReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// unexpandedTilde reports whether path starts with a ~ that no shell
// expanded ("~/dl" quoted, or after = in --output-dir=~/dl) and names
// nothing that exists: it would be taken as a directory named ~.
func unexpandedTilde(path string) bool {
	if path != "~" && !strings.HasPrefix(path, "~/") && !strings.HasPrefix(path, "~"+string(os.PathSeparator)) {
		return false
	}
	first, _, _ := strings.Cut(filepath.ToSlash(path), "/")
	_, err := os.Lstat(first)
	return errors.Is(err, fs.ErrNotExist)
}

// tildeHint says, for a file that could not be opened at path, that its
// leading ~ was not expanded; "" when that is not why.
func tildeHint(path string, err error) string {
	if !errors.Is(err, fs.ErrNotExist) || !unexpandedTilde(path) {
		return ""
	}
	return " (a leading ~ is not expanded outside a shell: write the full path)"
}

// missingDir says what to do when a file could not be created at path
// because its directory does not exist, because a file stands where a
// directory of its path should be, or because path is a directory; ""
// for any other err.
func missingDir(path string, err error) string {
	switch {
	case errors.Is(err, syscall.ENOTDIR):
		for dir := filepath.Dir(path); dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
			if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
				return " (" + dir + " is a file, not a directory: give another path)"
			}
		}
		return ""
	case errors.Is(err, syscall.EISDIR) && strings.HasSuffix(path, "/"):
		// The kernel says so of any name ending in /, a file's too.
		return " (a name that ends in / names a directory: give the name of a file)"
	case errors.Is(err, syscall.EISDIR):
		return " (give the name of a file, in it or elsewhere)"
	case !errors.Is(err, fs.ErrNotExist):
		return ""
	}
	if hint := tildeHint(path, err); hint != "" {
		return hint
	}
	return " (create " + filepath.Dir(path) + " first, or give another path)"
}

// namedLikeItsFile reports whether dir holds a single file, with dir's own
// extension: what fetchpool -o file.txt URL, meant as curl -o, leaves.
func namedLikeItsFile(dir string) bool {
	ext := filepath.Ext(filepath.Clean(dir))
	if len(ext) < 2 {
		return false
	}
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 1 && strings.EqualFold(filepath.Ext(entries[0].Name()), ext)
}
