package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime/debug"
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
