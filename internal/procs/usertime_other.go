//go:build !unix

package procs

import "time"

// userTime is not read here: no scaling.
func userTime() (time.Duration, bool) { return 0, false }
