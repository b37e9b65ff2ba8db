// Package input turns command-line arguments, list files and standard input
// into a stream of items to fetch.
//
// A Reader is the Source that pool.Run reads its items from, one at a
// time, so that a list of any length is streamed; Format writes an Item
// back in the syntax it was read in (as the --failed list does).
package input

import "strconv"

// Item is one thing to fetch, as written in the input.
type Item struct {
	// URL is the item as given: an http(s) URL, a file:// URL or a local path.
	URL string
	// Name is the explicit output name from the input ("" if none). It is
	// relative to the output directory and may contain "/" subdirectories.
	Name string
	// SHA256 is the expected hex digest of the content ("" if none).
	SHA256 string
	// Source names where the item came from: a file name, "-" for standard
	// input, or "arg" for a positional argument.
	Source string
	// Line is the 1-based line number in Source, or the argument's position.
	Line int
	// Err is set when the item could not be parsed; such an item fails with
	// this error without being fetched.
	Err error
}

// Where says where the item came from, in the form "FILE:LINE", "-:LINE" or
// "arg N", for messages that a person can act on.
func (it Item) Where() string {
	if it.Source == "arg" {
		return "arg " + strconv.Itoa(it.Line)
	}
	return it.Source + ":" + strconv.Itoa(it.Line)
}
