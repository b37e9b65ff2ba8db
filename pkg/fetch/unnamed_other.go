//go:build !linux

package fetch

import "os"

// openUnnamed fails with errNoUnnamed: files without a name (O_TMPFILE)
// are Linux's.
func openUnnamed(part string) (*partFile, error) {
	return nil, &os.PathError{Op: "open", Path: part, Err: errNoUnnamed}
}

// linkUnnamed fails with errNoUnnamed: no file here is without a name.
func linkUnnamed(f *partFile, path string) error {
	return &os.LinkError{Op: "link", Old: f.Name(), New: path, Err: errNoUnnamed}
}
