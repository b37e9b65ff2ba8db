//go:build !windows

package main

// escapesWork tells whether the terminal fd interprets escape sequences:
// a terminal here always does.
func escapesWork(fd uintptr) bool { return true }
