package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestArgsAreItems: with the completion and help subcommands beside it, the
// root command still takes every positional argument as an item. Only a
// first argument spelled exactly like a subcommand is one.
func TestArgsAreItems(t *testing.T) {
	tests := []struct{ args, want []string }{
		{[]string{"https://x/a", "local/file"}, []string{"https://x/a", "local/file"}},
		{[]string{"https://x/a", "completion", "help"}, []string{"https://x/a", "completion", "help"}},
		{[]string{"./completion"}, []string{"./completion"}},
		{[]string{"./help"}, []string{"./help"}},
		{[]string{"file:///tmp/completion"}, []string{"file:///tmp/completion"}},
		{[]string{"-j", "2", "completion.txt", "helpful"}, []string{"completion.txt", "helpful"}},
		{[]string{"--dry-run", "--", "completion"}, []string{"completion"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			opts, _, err := parse(t, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(opts.Args, tt.want) {
				t.Errorf("items %q, want %q", opts.Args, tt.want)
			}
		})
	}
}

// TestLocalFileNamedLikeASubcommand: "./completion" fetches the file.
func TestLocalFileNamedLikeASubcommand(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"completion", "help"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := fetchpool(t, dir, "", "-q", "-o", "out", "./completion", "./help")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	for _, name := range []string{"completion", "help"} {
		if got := string(readFile(t, filepath.Join(dir, "out", name))); got != name+"\n" {
			t.Errorf("out/%s = %q", name, got)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string // in stdout (exit 0) or stderr (otherwise)
	}{
		{[]string{"completion", "bash"}, 0, "# bash completion V2 for fetchpool"},
		{[]string{"completion", "zsh"}, 0, "#compdef fetchpool"},
		{[]string{"completion", "fish"}, 0, "complete -c fetchpool"},
		{[]string{"completion", "powershell"}, 0, "Register-ArgumentCompleter -CommandName 'fetchpool'"},
		{[]string{"completion", "--no-descriptions", "zsh"}, 0, "__complete"},
		{[]string{"completion"}, 2, "wants the name of a shell: bash, zsh, fish or powershell"},
		{[]string{"completion", "tcsh"}, 2, `got "tcsh"`},
		{[]string{"completion", "bash", "zsh"}, 2, "wants one shell"},
		{[]string{"completion", "--no-such-flag", "bash"}, 2, "no-such-flag"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := fetchpool(t, t.TempDir(), "", tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			out := r.stdout
			if tt.code != 0 {
				out = r.stderr
				if r.stdout != "" {
					t.Errorf("stdout on error: %q", r.stdout)
				}
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output does not contain %q:\n%.400s", tt.want, out)
			}
			// The usage to read is the subcommand's: fetchpool --help
			// says nothing of shells.
			if hint := "Run 'fetchpool completion --help' for usage.\n"; tt.code == exitUsage && !strings.HasSuffix(r.stderr, hint) {
				t.Errorf("stderr does not end with %q:\n%s", hint, r.stderr)
			}
		})
	}
}

// TestCompletionRequests asks the binary what the scripts ask it: the
// words for a position on the command line, and the directive that says
// how the shell goes on (":4" no file names; ":6" no file names and no
// space after the word, which the user goes on typing).
func TestCompletionRequests(t *testing.T) {
	tests := []struct {
		args      []string
		want      []string
		directive string // "" = not checked
	}{
		{[]string{"--on-exists", ""}, []string{"skip", "overwrite", "rename", "newer"}, ":4"},
		{[]string{"--shard", ""}, []string{"auto/"}, ":6"},
		{[]string{"--sha"}, []string{"--sha256", "--shard"}, ""},
		{[]string{"completion", ""}, shells, ""},
		{[]string{"comp"}, []string{"completion"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := fetchpool(t, t.TempDir(), "", append([]string{"__completeNoDesc"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			got := lines[:len(lines)-1] // the last line is the directive, ":N"
			if d := lines[len(lines)-1]; tt.directive != "" && d != tt.directive {
				t.Errorf("directive %s, want %s", d, tt.directive)
			}
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("completions %q lack %q", got, w)
				}
			}
		})
	}
}

// TestCompletionDescriptions: the descriptions that zsh, fish and
// powershell show beside each flag read as --help does. The backquotes that
// name a flag's value in its usage (`N`, `FILE`) are for --help's column,
// and were shown as they are: "at most `N` transfers at once".
func TestCompletionDescriptions(t *testing.T) {
	r := fetchpool(t, t.TempDir(), "", "__complete", "--")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	want := "--concurrency\tat most N transfers at once\n"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("completions lack %q:\n%s", want, r.stdout)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "`") {
			t.Errorf("a description shows a backquote: %q", line)
		}
	}
}

// TestBashCompletion sources the bash script and completes a word the way
// bash does, with a stand-in for the bash-completion package's one helper.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := `
_get_comp_words_by_ref() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
source <(fetchpool completion bash)
COMP_WORDS=(fetchpool --on-exists re)
COMP_CWORD=2
COMP_LINE="fetchpool --on-exists re"
COMP_POINT=${#COMP_LINE}
__start_fetchpool 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"
`
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "rename" {
		t.Errorf("bash completed --on-exists re to %q, want rename", got)
	}
}

// TestHelp: "fetchpool help", --help and -h print the same help on standard
// output, with the items, the subcommands and the flags.
func TestHelp(t *testing.T) {
	var first string
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := fetchpool(t, t.TempDir(), "", args...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%s: exit %d; stderr:\n%s", args[0], r.code, r.stderr)
		}
		if first == "" {
			first = r.stdout
		} else if r.stdout != first {
			t.Errorf("%s prints other help than --help:\n%s", args[0], r.stdout)
		}
	}
	for _, want := range []string{
		"Usage:\n  fetchpool [flags] [ITEM ...]\n  fetchpool [command]\n",
		"Available Commands:\n  completion  ",
		"\n  help        Help about any command\n",
		"\nFlags:\n  -i, --input FILE ",
		"--shard K/N",
		"Exit codes:",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("--help lacks %q:\n%s", want, first)
		}
	}
	r := fetchpool(t, t.TempDir(), "", "help", "completion")
	if r.code != 0 || !strings.Contains(r.stdout, "source <(fetchpool completion bash)") {
		t.Errorf("help completion: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
