//go:build aix || (!unix && !windows)

package fetch

import "os"

// partLock stands for a transfer's hold on its part where there is no
// flock(2) (AIX): nothing is locked and nothing checked, so two
// processes writing one output directory are not kept apart here.
type partLock struct {
	held      bool
	exclusive bool // always false: nothing is locked
}

// lockPart takes the part at path without locking it: this platform has
// no advisory lock that leaves the part's other opens and its rename
// alone. As the Unix lockPart, it opens the part (creating it, empty,
// when create is set), and fails with an error wrapping fs.ErrNotExist
// when there is no part and create is not set: a transfer that held a
// part that is not there took itself for the remover of a stale part
// (--on-exists newer said "removed" of a part that never was).
func lockPart(path string, create bool) (partLock, error) {
	flag := os.O_RDONLY
	if create {
		flag |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return partLock{}, err
	}
	f.Close() // no handle is kept: Windows refuses to rename or remove an open file
	return partLock{held: true}, nil
}

// check has no inode to compare here: it is always nil.
func (l *partLock) check(path string) error { return nil }

// release forgets the hold.
func (l *partLock) release() { l.held = false }
