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

// invalidName tells whether err is Windows' refusal of a path that cannot
// name a file (ERROR_INVALID_NAME: a '"', '<', '>', '|', '?', '*' or a
// misplaced ':' in it): a local item that does not exist, for which
// "no such file" says what to do (a quoted item, a URL with something
// before it), where the system's words did not.
func invalidName(err error) bool { return errors.Is(err, windows.ERROR_INVALID_NAME) }
