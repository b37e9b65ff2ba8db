package input

import (
	"runtime"
	"strings"
)

// FilePath is the local path that the path of a file URL (url.URL.Path)
// names. It is the path itself, except on Windows, where a file URL spells
// a drive as "/C:/dir/f" (file:///C:/dir/f): that is C:\dir\f there, and
// "/C:/dir/f" names no file.
func FilePath(urlPath string) string {
	return filePathFor(urlPath, runtime.GOOS == "windows")
}

// filePathFor is FilePath for Windows (windows set) or for the others.
func filePathFor(p string, windows bool) string {
	if !windows {
		return p
	}
	if len(p) >= 3 && p[0] == '/' && isAlpha(p[1]) && p[2] == ':' {
		p = p[1:]
	}
	return strings.ReplaceAll(p, "/", `\`)
}
