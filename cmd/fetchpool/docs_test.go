package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

var update = flag.Bool("update", false, "rewrite the generated files under docs/ from the command")

// docsDir is the repository's docs directory, seen from this package.
const docsDir = "../../docs"

// generatedDirs are the directories under docs/ that hold only generated
// files: the Markdown reference and the man pages.
var generatedDirs = []string{"cli", "man"}

// manDate is the date in the man pages' headers, fixed so that a page
// changes only when the command does.
var manDate = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// TestDocs renders the command reference from newRootCommand and compares it
// with docs/cli (Markdown) and docs/man (man pages). After changing a flag or
// a help text, run: go test ./cmd/fetchpool -run TestDocs -update
func TestDocs(t *testing.T) {
	want, err := renderDocs()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		writeDocs(t, want)
	}
	const fix = "run: go test ./cmd/fetchpool -run TestDocs -update"
	for name, content := range want {
		got, err := os.ReadFile(filepath.Join(docsDir, name))
		if err != nil {
			t.Errorf("docs/%s: %v; %s", name, err, fix)
			continue
		}
		if !bytes.Equal(got, content) {
			t.Errorf("docs/%s is out of date; %s\n%s", name, fix, firstDifference(got, content))
		}
	}
	for _, name := range docFiles(t) {
		if _, ok := want[name]; !ok {
			t.Errorf("docs/%s is not generated from any command; %s", name, fix)
		}
	}
}

// renderDocs returns the reference for the root command and each of its
// subcommands, keyed by path under docs/.
func renderDocs() (map[string][]byte, error) {
	root := newRootCommand(func(context.Context, *options) error { return nil })
	files := map[string][]byte{}
	var render func(*cobra.Command) error
	render = func(c *cobra.Command) error {
		c.DisableAutoGenTag = true
		c.Long = markdownText(c.Long)
		var md, man bytes.Buffer
		if err := doc.GenMarkdownCustom(c, &md, func(link string) string { return link }); err != nil {
			return err
		}
		header := &doc.GenManHeader{Section: "1", Source: "fetchpool", Manual: "fetchpool manual", Date: &manDate}
		if err := doc.GenMan(c, header, &man); err != nil {
			return err
		}
		files["cli/"+strings.ReplaceAll(c.CommandPath(), " ", "_")+".md"] = md.Bytes()
		files["man/"+strings.ReplaceAll(c.CommandPath(), " ", "-")+".1"] = man.Bytes()
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
				continue
			}
			if err := render(sub); err != nil {
				return err
			}
		}
		return nil
	}
	return files, render(root)
}

// markdownText turns a help text written for the terminal into Markdown
// that shows the same: each run of indented lines becomes a code block
// (indented four spaces, with a blank line on either side), so that tables
// like the input lines keep their shape and "<TAB>" is not taken for HTML.
func markdownText(s string) string {
	var out []string
	inBlock := false
	for _, line := range strings.Split(s, "\n") {
		indented := strings.HasPrefix(line, " ") && strings.TrimSpace(line) != ""
		switch {
		case indented && !inBlock:
			if len(out) > 0 && out[len(out)-1] != "" {
				out = append(out, "")
			}
			inBlock = true
		case !indented && inBlock && line != "":
			out = append(out, "")
			inBlock = false
		case !indented && line == "":
			inBlock = false
		}
		if indented {
			line = "  " + line
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func TestMarkdownText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text\nwraps", "plain text\nwraps"},
		{"Lines:\n  a  b\n  c<TAB>d\nAfter.", "Lines:\n\n    a  b\n    c<TAB>d\n\nAfter."},
		{"Lines:\n\n  a\n\nAfter.", "Lines:\n\n    a\n\nAfter."},
		{"  first\ntext", "    first\n\ntext"},
	}
	for _, tt := range tests {
		if got := markdownText(tt.in); got != tt.want {
			t.Errorf("markdownText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// docFiles lists the files in the generated directories, as paths under
// docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, dir := range generatedDirs {
		entries, err := os.ReadDir(filepath.Join(docsDir, dir))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range entries {
			names = append(names, dir+"/"+e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// writeDocs replaces the generated directories with files. It is the one
// place a test writes outside t.TempDir, and only with -update.
func writeDocs(t *testing.T, files map[string][]byte) {
	t.Helper()
	for _, name := range docFiles(t) {
		if _, ok := files[name]; !ok {
			if err := os.Remove(filepath.Join(docsDir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, content := range files {
		path := filepath.Join(docsDir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// firstDifference shows the first line where got and want differ.
func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n  have: " + gl + "\n  want: " + wl
		}
	}
	return "(they differ only in the line ends)"
}

// TestReadme keeps the README honest: its first code block is the two
// set-up commands, CI runs the same test command, and every flag it shows
// in a fetchpool command line or in the fetchpool column of the comparison
// table is a flag of the command.
func TestReadme(t *testing.T) {
	readme := string(readFile(t, filepath.Join("..", "..", "README.md")))
	first := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(readme)
	const setup = "go run ./cmd/fetchpool -i testdata/example/urls.txt -o /tmp/fetchpool-example\ngo test -race ./...\n"
	if first == nil || first[1] != setup {
		t.Errorf("the README's first code block is not the two set-up commands:\n%s", setup)
	}
	if ci := string(readFile(t, filepath.Join("..", "..", ".ci", "run"))); !strings.Contains(ci, "\ngo test -race ./...\n") {
		t.Error(".ci/run does not run the README's test command, go test -race ./...")
	}

	flags := map[string]bool{}
	root := newRootCommand(func(context.Context, *options) error { return nil })
	root.Flags().VisitAll(func(f *pflag.Flag) {
		flags["--"+f.Name] = true
		if f.Shorthand != "" {
			flags["-"+f.Shorthand] = true
		}
	})
	flags["--help"], flags["--version"], flags["--"] = true, true, true
	var shown []string
	flagRE := regexp.MustCompile(`(?:^|\s)(--?[a-zA-Z][a-zA-Z0-9-]*)`)
	command := regexp.MustCompile(`(?:^|[^/\w.-])fetchpool\s`) // the command, not a path like ./cmd/fetchpool
	for _, line := range strings.Split(readme, "\n") {
		var text string
		switch {
		case strings.HasPrefix(line, "| ") && strings.Count(line, "|") == 6:
			text = strings.Split(line, "|")[2] // the fetchpool column
		case command.MatchString(line):
			text = line[command.FindStringIndex(line)[0]:]
			text, _, _ = strings.Cut(text, "#") // a comment
		default:
			continue
		}
		for _, m := range flagRE.FindAllStringSubmatch(strings.ReplaceAll(text, "`", " "), -1) {
			shown = append(shown, m[1])
		}
	}
	if len(shown) < 30 {
		t.Fatalf("found only %d flags in the README: %q", len(shown), shown)
	}
	for _, f := range shown {
		if !flags[f] {
			t.Errorf("the README shows %s, which fetchpool does not have", f)
		}
	}

	// And the other way round: every flag of --help is in the README, in
	// its long or its short form, in a command or in code in the text, as
	// a user who reads only the README would otherwise never learn of it.
	mentioned := map[string]bool{}
	for _, f := range shown {
		mentioned[f] = true
	}
	prose := regexp.MustCompile("(?s)```.*?```").ReplaceAllString(readme, "")
	for _, code := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(prose, -1) {
		for _, m := range flagRE.FindAllStringSubmatch(code[1], -1) {
			mentioned[m[1]] = true
		}
	}
	root.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" || f.Name == "version" {
			return
		}
		if mentioned["--"+f.Name] || f.Shorthand != "" && mentioned["-"+f.Shorthand] {
			return
		}
		t.Errorf("the README does not mention --%s (a flag in --help)", f.Name)
	})

	// Its layout names every package of the module.
	for _, dir := range []string{"pkg", "internal"} {
		entries, err := os.ReadDir(filepath.Join("..", "..", dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() && !strings.Contains(readme, "`"+dir+"/"+e.Name()+"`") {
				t.Errorf("the README's layout does not name %s/%s", dir, e.Name())
			}
		}
	}
}

// TestReadmeMessages keeps the messages that the README quotes true of the
// code: each quote is in the README (its lines joined), and the literal
// pieces that make it are in the sources of the command and its packages.
// A message reworded in the code fails here until the README follows.
func TestReadmeMessages(t *testing.T) {
	readme := strings.Join(strings.Fields(string(readFile(t, filepath.Join("..", "..", "README.md")))), " ")
	var code strings.Builder
	for _, dir := range []string{".", "../../pkg"} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			code.Write(readFile(t, path))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		quote  string   // as the README shows it
		pieces []string // the literals in the code that make it
	}{
		{"`queued 3 · in flight 8 · done 12 · failed 1 · skipped 0`",
			[]string{`"queued "`, `"in flight "`, `"done "`, `"failed "`, `"skipped "`}},
		{"`waiting N`", []string{`"waiting "`}},
		{"`try N`", []string{`"try "`}},
		{"`reason`, e.g. `exists` or `not modified on the server`", []string{`"exists"`, `"not modified on the server"`}},
		{`"unread_input": {"after": "urls.txt:1234", "reason": "interrupted"}`,
			[]string{"`json:\"unread_input,omitempty\"`", `"interrupted"`}},
		{"`# urls.txt:7: line is longer than 65536 bytes, not copied here`",
			[]string{`"line is longer than %d bytes"`, `", not copied here"`, "MaxLineLength = 64 << 10"}},
		{"`# interrupted: the rest of the input (after -:1234) was not read; …`",
			[]string{`"the rest of the input (after "`, `") was not read"`, `why+": "+unread+"; `}},
		{"`# the input ended early: reading urls.txt: …; the rest of the input (after urls.txt:1234) was not read; …`",
			[]string{`"the input ended early: "+runErr.Error()+"; "+unread+"; `}},
		{"# FAIL arg 1 https://example.com/two.bin: out/two.bin.part is being written by another process; not touched (run again once that one is done)",
			[]string{`"FAIL"`, `" is being written by another process; not touched (run again once that one is done)"`}},
		{"`unknown shorthand flag: 'N' in -N: use --on-exists newer`", []string{`"use --on-exists newer"`}},
		{"(`exists, checksum ok`)", []string{`"exists, checksum ok"`}},
		{"`not checked: 2 of the files saved have no entry in SHA256SUMS (the first: out/extra.bin)`",
			[]string{`"not checked: "`, `" of the files saved have no entry in "`, `" (the first: "`}},
		{"(`bytes 4194304-8388607: after 4 attempts: HTTP 503 ...`)",
			[]string{`"bytes %d-%d: %w"`, `"after %d attempts: "`}},
		{"stderr ends with a note that it held no items", []string{`"note: %s held no items, so nothing was fetched\n"`}},
	}
	for _, tt := range tests {
		if !strings.Contains(readme, tt.quote) {
			t.Errorf("the README no longer quotes %s: update this test with it", tt.quote)
			continue
		}
		for _, p := range tt.pieces {
			if !strings.Contains(code.String(), p) {
				t.Errorf("the README quotes %s, but the code has no %s: say in the README what fetchpool says now", tt.quote, p)
			}
		}
	}
}
