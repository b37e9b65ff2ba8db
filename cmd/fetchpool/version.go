package main

import (
	"runtime/debug"
	"strings"
)

// version is set at release time with -ldflags "-X main.version=v1.2.3".
var version = ""

// versionString reports the version from the linker flag, else from the
// module and VCS information Go embeds in the binary; never "".
func versionString() string {
	info, _ := debug.ReadBuildInfo()
	return versionFrom(version, info)
}

// versionFrom is versionString with its inputs given: the -X value and the
// build information (nil when the binary has none). "go install
// module@v1.2.3" gives the module version; a build from a checkout gives
// "devel+REVISION" (with "-dirty" for uncommitted changes), or just
// "devel" when VCS stamping is off (-buildvcs=false). Go 1.24 and later
// stamp a checkout that is not at a tag with a pseudo-version of its
// commit ("v0.0.0-20260101000000-0123456789ab", "+dirty" with changes),
// which reads like a release; it too is "devel+REVISION". A checkout at a
// tag keeps the tag.
func versionFrom(ldflag string, info *debug.BuildInfo) string {
	if ldflag != "" {
		return ldflag
	}
	if info == nil {
		return "devel"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	// A pseudo-version ends in the commit's first 12 hex digits; one
	// that names the commit the binary was built from is Go's stamp of a
	// checkout, not a version that was asked for.
	if rev != "" && len(rev) == 12 && strings.HasSuffix(strings.TrimSuffix(v, "+dirty"), "-"+rev) {
		v = "devel"
	}
	if rev != "" && v == "devel" {
		v += "+" + rev + dirty
	}
	return v
}
