package input_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fetchpool/fetchpool/pkg/input"
)

func ExampleParseLine() {
	for _, line := range []string{
		"https://example.com/a.iso",
		"https://example.com/b.iso\tisos/b.iso",
		`{"url": "https://example.com/c.iso", "sha256": "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"}`,
		"ftp://example.com/d.iso",
		"# a comment",
	} {
		it, ok := input.ParseLine(line)
		if !ok {
			fmt.Println("skipped")
			continue
		}
		fmt.Printf("url=%s name=%q sha256=%.8s err=%v\n", it.URL, it.Name, it.SHA256, it.Err)
	}
	// Output:
	// url=https://example.com/a.iso name="" sha256= err=<nil>
	// url=https://example.com/b.iso name="isos/b.iso" sha256= err=<nil>
	// url=https://example.com/c.iso name="" sha256=ba7816bf err=<nil>
	// url=ftp://example.com/d.iso name="" sha256= err=unsupported scheme "ftp" (fetchpool fetches http, https and file URLs)
	// skipped
}

// A Reader streams the items of the arguments, then of each source; a line
// that does not parse is an item too, with Err set, so that it can be
// reported with where it came from.
func ExampleReader() {
	list := strings.NewReader("# mirrors\nhttps://example.com/a.iso\n\nhttps://example.com/b.iso\tb.iso\n{bad json\n")
	r := input.NewReader([]string{"https://example.com/c.iso"}, []input.Source{{Name: "urls.txt", R: list}})
	for {
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			panic(err)
		}
		if it.Err != nil {
			fmt.Printf("%s: %v\n", it.Where(), errors.Is(it.Err, input.ErrInvalidJSON))
			continue
		}
		fmt.Printf("%s %s %q\n", it.Where(), it.URL, it.Name)
	}
	// Output:
	// arg 1 https://example.com/c.iso ""
	// urls.txt:2 https://example.com/a.iso ""
	// urls.txt:4 https://example.com/b.iso "b.iso"
	// urls.txt:5: true
}

// Format writes an item back as a line that ParseLine reads as the same
// item, as the --failed list does.
func ExampleFormat() {
	fmt.Println(input.Format(input.Item{URL: "https://example.com/a.iso"}))
	fmt.Println(input.Format(input.Item{URL: "https://example.com/a.iso", Name: "isos/a.1.iso"}))
	fmt.Println(input.Format(input.Item{URL: "https://example.com/a.iso", SHA256: strings.Repeat("0", 64)}))
	// Output:
	// https://example.com/a.iso
	// https://example.com/a.iso	isos/a.1.iso
	// {"url":"https://example.com/a.iso","sha256":"0000000000000000000000000000000000000000000000000000000000000000"}
}

func ExampleParseChecksums() {
	sums, err := input.ParseChecksums("SHA256SUMS", strings.NewReader(
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  ./abc.txt\n"+
			"SHA256 (sub/empty) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"))
	fmt.Println(len(sums), sums["abc.txt"][:8], sums["sub/empty"][:8], err)

	_, err = input.ParseChecksums("SHA256SUMS", strings.NewReader("not a checksum line\n"))
	fmt.Println(errors.Is(err, input.ErrInvalidChecksumLine))
	// Output:
	// 2 ba7816bf e3b0c442 <nil>
	// true
}

func ExampleParseShard() {
	shard, err := input.ParseShard("auto/3", func(string) string { return "1" }) // JOB_COMPLETION_INDEX=1
	if err != nil {
		panic(err)
	}
	fmt.Println(shard)
	// Output: 2/3
}

// A run that stopped after taking two items lists the rest of its input,
// read anew, for a retry: a regular file can be read again (Again), where
// standard input could not.
func ExampleRest() {
	const list = "https://example.com/a.iso\n# isos\nhttps://example.com/b.iso\nhttps://example.com/c.iso\n"
	sources := []input.Source{{Name: "urls.txt", R: strings.NewReader(list), Again: strings.NewReader(list)}}

	var taken input.Position // its Take is pool.Options.Taken
	r := input.NewReader(nil, sources)
	for range 2 {
		taken.Take(r.Next())
	}
	fmt.Println("stopped after", taken.Where())

	rest := input.Rest(nil, sources, taken.Last(), input.Shard{})
	for {
		it, err := rest.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		fmt.Println("not fetched:", it.URL, "from", it.Where())
	}
	// Output:
	// stopped after urls.txt:3
	// not fetched: https://example.com/c.iso from urls.txt:4
}
