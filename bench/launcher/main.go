// Command launcher starts one benchmarked tool from a small process; the
// benchmark builds it and runs every tool through it. See package launch.
package main

import (
	"os"

	"github.com/fetchpool/fetchpool/bench/launch"
)

func main() { os.Exit(launch.Run()) }
