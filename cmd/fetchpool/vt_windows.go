package main

import "golang.org/x/sys/windows"

// escapesWork turns on the interpretation of escape sequences (virtual
// terminal processing) for the console fd and tells whether it is on. A
// Windows console shows the cursor movements that redraw the bars as
// stray characters ("←[1A←[2K") unless a program asks for them; one that
// cannot interpret them (before Windows 10) gets the plain lines, as a
// pipe does.
func escapesWork(fd uintptr) bool {
	h := windows.Handle(fd)
	var mode uint32
	if err := windows.GetConsoleMode(h, &mode); err != nil {
		return false
	}
	if mode&windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING != 0 {
		return true
	}
	return windows.SetConsoleMode(h, mode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING) == nil
}
