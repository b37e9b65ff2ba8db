package fetch

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/windows"
)

// TestDiskFullOnWindows: Windows' full disk and exceeded quota are a full
// disk, as ENOSPC and EDQUOT are elsewhere: the part of a fresh item is
// removed for the items after it (removeIfFull), and the message says to
// free some space.
func TestDiskFullOnWindows(t *testing.T) {
	for _, errno := range []syscall.Errno{windows.ERROR_DISK_FULL, windows.ERROR_HANDLE_DISK_FULL, windows.ERROR_DISK_QUOTA_EXCEEDED} {
		err := classifyWrite(`C:\out\f.part`, &os.PathError{Op: "write", Path: `C:\out\f.part`, Err: errno})
		if !isDiskFull(err) {
			t.Errorf("%v (%d) is not a full disk: %v", errno, uintptr(errno), err)
		}
	}
}

// TestDiskFullForTheWholeSplitPartOnWindows: a split part that NTFS could
// not reserve says how much it needed, as for ENOSPC elsewhere.
func TestDiskFullForTheWholeSplitPartOnWindows(t *testing.T) {
	err := &diskFullError{path: `C:\out\f.part`, err: &os.PathError{Op: "truncate", Path: `C:\out\f.part`, Err: windows.ERROR_DISK_FULL}, need: 1 << 30}
	if want := `disk full: C:\out\f.part needs 1073741824 bytes`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("%q, want it to start with %q", err, want)
	}
}
