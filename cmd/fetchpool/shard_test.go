package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestShardPartition runs the binary once per shard over one list, as N
// machines would: every item lands in exactly one shard, the shards are
// about the same size, and auto/N with JOB_COMPLETION_INDEX = K-1 is K/N.
func TestShardPartition(t *testing.T) {
	const shards, items = 3, 3000
	dir := t.TempDir()
	urls := make([]string, items)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://cdn%d.example.com/data/file-%05d.bin", i%7, i)
	}
	writeList(t, filepath.Join(dir, "urls.txt"), urls)

	seen := map[string]int{}
	for k := 1; k <= shards; k++ {
		spec := fmt.Sprintf("%d/%d", k, shards)
		r := runCommand(t, newCommand(dir, "--dry-run", "--shard", spec, "-i", "urls.txt"))
		if r.code != 0 {
			t.Fatalf("--shard %s: exit %d; stderr:\n%s", spec, r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		for _, line := range lines {
			url, _, ok := strings.Cut(line, " -> ")
			if !ok {
				t.Fatalf("--shard %s: dry-run line %q is not URL -> PATH", spec, line)
			}
			seen[url]++
		}
		if n, want := len(lines), items/shards; n < want*95/100 || n > want*105/100 {
			t.Errorf("shard %s has %d items, want %d ± 5%%", spec, n, want)
		}

		auto := newCommand(dir, "--dry-run", "--shard", fmt.Sprintf("auto/%d", shards), "-i", "urls.txt")
		auto.Env = append(auto.Env, fmt.Sprintf("JOB_COMPLETION_INDEX=%d", k-1))
		if a := runCommand(t, auto); a.code != 0 || a.stdout != r.stdout {
			t.Errorf("auto/%d with JOB_COMPLETION_INDEX=%d: exit %d, %d bytes of output, want shard %s's %d",
				shards, k-1, a.code, len(a.stdout), spec, len(r.stdout))
		}
	}
	for _, u := range urls {
		if seen[u] != 1 {
			t.Errorf("%s is in %d shards, want 1", u, seen[u])
		}
	}
	if len(seen) != items {
		t.Errorf("%d distinct items across the shards, want %d", len(seen), items)
	}
}

func TestShardAutoErrors(t *testing.T) {
	tests := []struct {
		name, index string // index "" leaves JOB_COMPLETION_INDEX unset
	}{
		{"unset", ""},
		{"out of range", "3"},
		{"negative", "-1"},
		{"not a number", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := newCommand(t.TempDir(), "--dry-run", "--shard", "auto/3", "http://127.0.0.1:1/a")
			if tt.index != "" {
				cmd.Env = append(cmd.Env, "JOB_COMPLETION_INDEX="+tt.index)
			}
			r := runCommand(t, cmd)
			if r.code != 2 || !strings.Contains(r.stderr, "JOB_COMPLETION_INDEX") {
				t.Errorf("exit %d, want 2 and a message naming JOB_COMPLETION_INDEX; stderr:\n%s", r.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("items planned despite the error:\n%s", r.stdout)
			}
		})
	}
}

// exampleItems starts a loopback server and returns a list of n URLs on it
// and the file names they are saved under.
func exampleItems(t *testing.T, n int) (urls, names []string) {
	srv := fileServer(t)
	for i := range n {
		name := fmt.Sprintf("file-%03d.bin", i)
		urls = append(urls, srv.URL+"/"+name)
		names = append(names, name)
	}
	return urls, names
}

// TestShardExampleGitHubActions runs the fetch step of
// docs/examples/github-actions-shards.yml once for each entry of its matrix,
// each in a workspace of its own, the way the runners would, against a
// loopback server: every item is fetched on exactly one runner.
func TestShardExampleGitHubActions(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	var workflow struct {
		Jobs map[string]struct {
			Strategy struct{ Matrix struct{ Shard []int } }
			Steps    []struct{ Name, Uses, Run string }
		}
	}
	decodeYAML(t, filepath.Join(docsDir, "examples", "github-actions-shards.yml"), &workflow)
	job, ok := workflow.Jobs["fetch"]
	if !ok {
		t.Fatal("no fetch job")
	}
	matrix := job.Strategy.Matrix.Shard
	for i, k := range matrix {
		if k != i+1 {
			t.Fatalf("matrix.shard = %v, want 1, 2, ... N", matrix)
		}
	}
	var script string
	for _, s := range job.Steps {
		if strings.HasPrefix(s.Run, "fetchpool ") {
			script = s.Run
		}
	}
	if !strings.Contains(script, "--shard ${{ matrix.shard }}/${{ strategy.job-total }}") {
		t.Fatalf("the fetch step does not shard by the matrix:\n%s", script)
	}

	urls, names := exampleItems(t, 60)
	var got []string
	for _, k := range matrix {
		workspace := t.TempDir()
		writeList(t, filepath.Join(workspace, "urls.txt"), urls)
		run := strings.NewReplacer("${{ matrix.shard }}", strconv.Itoa(k), "${{ strategy.job-total }}", strconv.Itoa(len(matrix))).Replace(script)
		if strings.Contains(run, "${{") {
			t.Fatalf("an expression the test does not know:\n%s", run)
		}
		cmd := exec.Command(bash, "-e", "-c", run)
		cmd.Dir = workspace
		cmd.Env = append(newCommand("").Env, "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"))
		if r := runCommand(t, cmd); r.code != 0 {
			t.Fatalf("shard %d: %s\nexit %d; stderr:\n%s", k, run, r.code, r.stderr)
		}
		files := dirNames(t, filepath.Join(workspace, "out", fmt.Sprintf("shard-%d", k)))
		got = append(got, files...)
		if n := len(jsonLines(t, filepath.Join(workspace, "items.jsonl"))); n != len(files) {
			t.Errorf("shard %d: %d lines in items.jsonl for %d files", k, n, len(files))
		}
		checkReport(t, filepath.Join(workspace, "report.json"), len(files))
		if failed := readFile(t, filepath.Join(workspace, "failed.txt")); len(failed) != 0 {
			t.Errorf("shard %d: failed.txt is not empty:\n%s", k, failed)
		}
	}
	checkOnce(t, got, names)
}

// TestShardExampleKubernetes runs the container of
// docs/examples/kubernetes-indexed-job.yaml once for each completion index,
// with its volumes as directories, the way the pods would, against a
// loopback server: every item is fetched by exactly one pod.
func TestShardExampleKubernetes(t *testing.T) {
	type mount struct {
		Name      string
		MountPath string `yaml:"mountPath"`
	}
	var job struct {
		Kind string
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Template       struct {
				Spec struct {
					Containers []struct {
						Name          string
						Command, Args []string
						VolumeMounts  []mount `yaml:"volumeMounts"`
					}
					Volumes []struct {
						Name      string
						ConfigMap *struct{ Name string } `yaml:"configMap"`
					}
				}
			}
		}
	}
	f, err := os.Open(filepath.Join(docsDir, "examples", "kubernetes-indexed-job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for dec := yaml.NewDecoder(f); job.Kind != "Job"; {
		if err := dec.Decode(&job); errors.Is(err, io.EOF) {
			t.Fatal("no Job in the manifest")
		} else if err != nil {
			t.Fatal(err)
		}
	}
	spec := job.Spec.Template.Spec
	if job.Spec.CompletionMode != "Indexed" || len(spec.Containers) != 1 {
		t.Fatalf("want an Indexed Job with one container: %+v", job.Spec)
	}
	c := spec.Containers[0]
	n := job.Spec.Completions
	if i := slices.Index(c.Args, "--shard"); i < 0 || i+1 == len(c.Args) || c.Args[i+1] != fmt.Sprintf("auto/%d", n) {
		t.Fatalf("args %q lack --shard auto/%d (spec.completions)", c.Args, n)
	}
	if len(c.Command) != 1 || filepath.Base(c.Command[0]) != "fetchpool" {
		t.Fatalf("command %q is not fetchpool", c.Command)
	}

	// Each volume is a directory under root; the list is the ConfigMap's
	// urls.txt.
	urls, names := exampleItems(t, 60)
	root := t.TempDir()
	var listDir string
	for _, m := range c.VolumeMounts {
		if err := os.MkdirAll(filepath.Join(root, m.MountPath), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, v := range spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				listDir = m.MountPath
			}
		}
	}
	if listDir == "" {
		t.Fatal("no ConfigMap volume for the list")
	}
	writeList(t, filepath.Join(root, listDir, "urls.txt"), urls)
	envVar := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	var got []string
	for index := range n {
		env := map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(index)}
		args := make([]string, len(c.Args))
		for i, a := range c.Args {
			a = envVar.ReplaceAllStringFunc(a, func(ref string) string {
				v, ok := env[ref[2:len(ref)-1]]
				if !ok {
					t.Fatalf("%s is not set in the pod", ref)
				}
				return v
			})
			for _, m := range c.VolumeMounts {
				if a == m.MountPath || strings.HasPrefix(a, m.MountPath+"/") {
					a = filepath.Join(root, a)
				}
			}
			args[i] = a
		}
		cmd := newCommand(root, args...)
		cmd.Env = append(cmd.Env, "JOB_COMPLETION_INDEX="+env["JOB_COMPLETION_INDEX"])
		if r := runCommand(t, cmd); r.code != 0 {
			t.Fatalf("index %d: fetchpool %q: exit %d; stderr:\n%s", index, args, r.code, r.stderr)
		}
		shard := filepath.Join(root, "data", fmt.Sprintf("shard-%d", index))
		files := dirNames(t, shard)
		got = append(got, files...)
		checkReport(t, shard+".report.json", len(files))
	}
	checkOnce(t, got, names)
}

func writeList(t *testing.T, path string, urls []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(urls, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func decodeYAML(t *testing.T, path string, v any) {
	t.Helper()
	b := readFile(t, path)
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// dirNames lists the files in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// jsonLines decodes a file of JSON lines.
func jsonLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(readFile(t, path))), "\n") {
		if line == "" {
			continue
		}
		var o map[string]any
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		objs = append(objs, o)
	}
	return objs
}

// checkReport checks that a --report file counts done items and nothing
// else.
func checkReport(t *testing.T, path string, done int) {
	t.Helper()
	var report struct {
		Summary struct{ Done, Skipped, Failed, NotStarted int }
	}
	if err := json.Unmarshal(readFile(t, path), &report); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if s := report.Summary; s.Done != done || s.Failed != 0 {
		t.Errorf("%s: summary %+v, want %d done", path, s, done)
	}
}

// checkOnce checks that got holds every name in want exactly once.
func checkOnce(t *testing.T, got, want []string) {
	t.Helper()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("files across shards:\n%q\nwant each of:\n%q", got, want)
	}
}
