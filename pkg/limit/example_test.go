package limit_test

import (
	"fmt"

	"golang.org/x/time/rate"

	"github.com/fetchpool/fetchpool/pkg/limit"
)

func ExampleParseRate() {
	for _, spec := range []string{"10", "600/m", "2/h", "0"} {
		r, err := limit.ParseRate(spec)
		if r == rate.Inf {
			fmt.Println(spec+": unlimited", err)
			continue
		}
		fmt.Printf("%s: %.4g per second %v\n", spec, float64(r), err)
	}
	_, err := limit.ParseRate("fast")
	fmt.Println(err)
	// Output:
	// 10: 10 per second <nil>
	// 600/m: 10 per second <nil>
	// 2/h: 0.0005556 per second <nil>
	// 0: unlimited <nil>
	// invalid --rate "fast": want a number of requests per second, minute or hour, like 10/s, 600/m or 2/h
}

func ExampleParseSize() {
	n, err := limit.ParseSize("--limit-rate", "1.5M")
	fmt.Println(n, err)
	// Output: 1572864 <nil>
}
