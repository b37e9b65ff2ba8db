package pool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// PrepareOutputDir creates the output directory dir when it is missing and
// proves it writable, so that a bad one fails before any request rather
// than with every item. The error names dir and says what to do.
func PrepareOutputDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if err := CheckOutputDir(dir); err != nil {
			return err
		}
		var pe *os.PathError
		if errors.As(err, &pe) && errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("cannot create output directory %s: %s is not a directory", dir, pe.Path)
		}
		return fmt.Errorf("cannot create output directory %s: %w", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".fetchpool-probe-*")
	if err != nil {
		return fmt.Errorf("cannot write to output directory %s: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// CheckOutputDir refuses an output directory dir that exists as something
// else (a regular file, say) or is a symbolic link that leads nowhere,
// creating nothing: the check for a dry run. A missing dir is no error.
func CheckOutputDir(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		return fmt.Errorf("output directory %s exists and is not a directory: give -o a directory", dir)
	}
	if err == nil {
		return nil
	}
	// A symbolic link that leads nowhere: mkdir says only "file exists",
	// of a directory that ls does not show.
	target, lerr := os.Readlink(filepath.Clean(dir))
	switch {
	case lerr != nil:
		return nil
	case errors.Is(err, syscall.ELOOP):
		return fmt.Errorf("output directory %s is a symbolic link to %s, which is a loop of symbolic links: give -o another directory", dir, target)
	case errors.Is(err, fs.ErrNotExist):
		// A relative target is where the link is, not where the run is.
		where := target
		if !filepath.IsAbs(target) {
			where = filepath.Join(filepath.Dir(filepath.Clean(dir)), target)
		}
		return fmt.Errorf("output directory %s is a symbolic link to %s, which does not exist: create %s or give -o another directory", dir, target, where)
	}
	return nil
}
