//go:build !unix || aix

package fetch

// partLock stands for a transfer's hold on its part where there is no
// flock(2) (Windows, AIX): nothing is locked and nothing checked, so two
// processes writing one output directory are not kept apart here.
type partLock struct {
	held      bool
	exclusive bool // always false: nothing is locked
}

// lockPart takes the part at path without locking it: this platform has
// no advisory lock that leaves the part's other opens and its rename
// alone.
func lockPart(path string, create bool) (partLock, error) {
	return partLock{held: true}, nil
}

// check has no inode to compare here: it is always nil.
func (l *partLock) check(path string) error { return nil }

// release forgets the hold.
func (l *partLock) release() { l.held = false }
