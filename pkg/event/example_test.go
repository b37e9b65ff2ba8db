package event_test

import (
	"fmt"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// A transfer pushes its progress with atomic operations; a renderer reads it
// whenever it likes, from any goroutine.
func ExampleProgress() {
	p := event.NewProgress("a.iso")
	fmt.Println(p.Name, p.Done(), p.Total())
	p.SetTotal(1000)
	p.Add(250)
	p.Add(250)
	p.Rename("debian.iso") // the server's Content-Disposition name
	fmt.Println(p.Renamed(), p.Done(), p.Total())
	// Output:
	// a.iso 0 -1
	// debian.iso 500 1000
}

func ExampleKind_String() {
	fmt.Println(event.Queued, event.Finished, event.Duplicate)
	// Output: queued finished duplicate
}
