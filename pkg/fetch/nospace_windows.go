package fetch

import (
	"errors"

	"golang.org/x/sys/windows"
)

// noSpace tells whether err is Windows' word for a full disk or an
// exceeded quota, which syscall.ENOSPC and EDQUOT do not match there: a
// full disk was a plain write error, and its part stayed, taking the room
// that the items after it needed.
func noSpace(err error) bool {
	return errors.Is(err, windows.ERROR_DISK_FULL) || errors.Is(err, windows.ERROR_HANDLE_DISK_FULL) ||
		errors.Is(err, windows.ERROR_DISK_QUOTA_EXCEEDED)
}
