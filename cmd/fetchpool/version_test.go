package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

func TestVersionFrom(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	rev := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name   string
		ldflag string
		info   *debug.BuildInfo
		want   string
	}{
		{"linker flag wins", "v9.9.9", &debug.BuildInfo{Main: debug.Module{Version: "v1.0.0"}}, "v9.9.9"},
		{"go install module@version", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: settings("vcs.revision", rev)}, "v1.2.3"},
		{"pseudo-version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101000000-0123456789ab"}}, "v0.0.0-20260101000000-0123456789ab"},
		{"checkout with VCS stamping", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.revision", rev, "vcs.modified", "false")}, "devel+0123456789ab"},
		{"checkout with changes", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.revision", rev, "vcs.modified", "true")}, "devel+0123456789ab-dirty"},
		{"short revision", "", &debug.BuildInfo{Main: debug.Module{Version: ""}, Settings: settings("vcs.revision", "abc")}, "devel+abc"},
		// Go 1.24 and later stamp a checkout with a pseudo-version of its
		// commit (the module version "v0.0.0-...", a release it is not),
		// and "+dirty" for uncommitted changes.
		{"checkout, Go 1.24 pseudo-version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101000000-0123456789ab"}, Settings: settings("vcs.revision", rev, "vcs.modified", "false")}, "devel+0123456789ab"},
		{"checkout, Go 1.24 pseudo-version, changes", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101000000-0123456789ab+dirty"}, Settings: settings("vcs.revision", rev, "vcs.modified", "true")}, "devel+0123456789ab-dirty"},
		{"checkout after a tag, Go 1.24", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.4-0.20260101000000-0123456789ab"}, Settings: settings("vcs.revision", rev, "vcs.modified", "false")}, "devel+0123456789ab"},
		{"checkout at a tag, Go 1.24", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: settings("vcs.revision", rev, "vcs.modified", "false")}, "v1.2.3"},
		{"-buildvcs=false", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
		{"no build information", "", nil, "devel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionFrom(tt.ldflag, tt.info); got != tt.want {
				t.Errorf("versionFrom(%q, ...) = %q, want %q", tt.ldflag, got, tt.want)
			}
		})
	}
}

// TestVersionFlag builds the binary the way a release does (version from
// -ldflags -X) and checks --version and the default User-Agent; the test
// binary, built without the flag, must still name some version.
func TestVersionFlag(t *testing.T) {
	released := filepath.Join(t.TempDir(), "fetchpool")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=v9.9.9", "-o", released, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build with -ldflags: %v\n%s", err, out)
	}
	tests := []struct {
		name, bin string
		check     func(string) bool
	}{
		{"-X main.version", released, func(v string) bool { return v == "fetchpool v9.9.9\n" }},
		{"no linker flag", binary, func(v string) bool {
			name, v, ok := strings.Cut(strings.TrimSuffix(v, "\n"), " ")
			return ok && name == "fetchpool" && v != "" && !strings.ContainsAny(v, " \n")
		}},
	}
	t.Run("User-Agent", func(t *testing.T) {
		agents := make(chan string, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			agents <- r.UserAgent()
		}))
		defer srv.Close()
		out, err := exec.Command(released, "-q", "-o", t.TempDir(), srv.URL+"/a").CombinedOutput()
		if err != nil {
			t.Fatalf("fetching: %v\n%s", err, out)
		}
		if got := <-agents; got != "fetchpool/v9.9.9" {
			t.Errorf("User-Agent %q, want fetchpool/v9.9.9", got)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(tt.bin, "--version").Output()
			if err != nil {
				t.Fatalf("--version: %v", err)
			}
			if !tt.check(string(out)) {
				t.Errorf("--version printed %q", out)
			}
		})
	}
}

// TestGoInstallShape checks what "go install
// github.com/fetchpool/fetchpool/cmd/fetchpool@latest" needs: the module
// path, this directory as a main package under it, and no replace
// directives (go install ignores them and refuses such modules).
func TestGoInstallShape(t *testing.T) {
	out, err := exec.Command("go", "mod", "edit", "-json", filepath.Join("..", "..", "go.mod")).Output()
	if err != nil {
		t.Fatalf("go mod edit -json: %v", err)
	}
	var mod struct {
		Module  struct{ Path string }
		Replace []struct{ Old struct{ Path string } }
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	if mod.Module.Path != "github.com/fetchpool/fetchpool" {
		t.Errorf("module path %q, want github.com/fetchpool/fetchpool", mod.Module.Path)
	}
	for _, r := range mod.Replace {
		t.Errorf("go.mod replaces %s: go install module@version would refuse the module", r.Old.Path)
	}
	out, err = exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Name}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "github.com/fetchpool/fetchpool/cmd/fetchpool main" {
		t.Errorf("go list . = %q, want the main package github.com/fetchpool/fetchpool/cmd/fetchpool", got)
	}
}

// TestReleaseConfig checks what the release promises in .goreleaser.yaml
// without goreleaser itself (too slow to install in CI; "goreleaser check"
// runs in .ci/run where it is installed): six static, trimmed builds with
// the version linked in, archives with the README, license and man pages,
// a checksums file, and the same six targets cross-built by .ci/run.
func TestReleaseConfig(t *testing.T) {
	var cfg struct {
		Version int
		Builds  []struct {
			Main, Binary                      string
			Env, Goos, Goarch, Flags, Ldflags []string
		}
		Archives []struct {
			Formats         []string
			FormatOverrides []struct {
				Goos    string
				Formats []string
			} `yaml:"format_overrides"`
			Files []string
		}
		Checksum struct {
			NameTemplate string `yaml:"name_template"`
			Algorithm    string
		}
	}
	repo := filepath.Join("..", "..")
	decodeYAML(t, filepath.Join(repo, ".goreleaser.yaml"), &cfg)
	if cfg.Version != 2 {
		t.Errorf("version: %d, want the version 2 schema", cfg.Version)
	}
	if len(cfg.Builds) != 1 || len(cfg.Archives) != 1 {
		t.Fatalf("want one build and one archive: %+v", cfg)
	}
	b := cfg.Builds[0]
	if b.Main != "./cmd/fetchpool" || b.Binary != "fetchpool" {
		t.Errorf("build main %q, binary %q", b.Main, b.Binary)
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") || !slices.Contains(b.Flags, "-trimpath") {
		t.Errorf("build env %q, flags %q: want CGO_ENABLED=0 and -trimpath", b.Env, b.Flags)
	}
	if !strings.Contains(strings.Join(b.Ldflags, " "), "-X main.version=") {
		t.Errorf("ldflags %q do not set main.version", b.Ldflags)
	}
	var targets []string
	for _, goos := range b.Goos {
		for _, goarch := range b.Goarch {
			targets = append(targets, goos+"/"+goarch)
		}
	}
	slices.Sort(targets)
	want := []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}
	if !slices.Equal(targets, want) {
		t.Errorf("release targets %q, want %q", targets, want)
	}
	m := regexp.MustCompile(`for target in ([^;]+); do`).FindSubmatch(readFile(t, filepath.Join(repo, ".ci", "run")))
	if m == nil {
		t.Fatal(".ci/run has no cross-build loop")
	}
	ci := strings.Fields(string(m[1]))
	slices.Sort(ci)
	if !slices.Equal(ci, targets) {
		t.Errorf(".ci/run cross-builds %q, the release %q", ci, targets)
	}

	a := cfg.Archives[0]
	for _, file := range []string{"README.md", "LICENSE"} {
		if !slices.Contains(a.Files, file) {
			t.Errorf("archives lack %s: %q", file, a.Files)
		}
	}
	for _, pattern := range a.Files {
		if matches, _ := filepath.Glob(filepath.Join(repo, pattern)); len(matches) == 0 {
			t.Errorf("archive file %q matches nothing", pattern)
		}
	}
	if len(a.FormatOverrides) != 1 || a.FormatOverrides[0].Goos != "windows" || !slices.Equal(a.FormatOverrides[0].Formats, []string{"zip"}) {
		t.Errorf("want zip archives for windows: %+v", a.FormatOverrides)
	}
	if cfg.Checksum.NameTemplate == "" || cfg.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum %+v: want a sha256 checksums file", cfg.Checksum)
	}
}
