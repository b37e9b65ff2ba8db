package naming_test

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/fetchpool/fetchpool/pkg/naming"
)

func ExampleFromURL() {
	for _, raw := range []string{
		"https://example.com/files/report%20v2.pdf?token=x",
		"https://example.com/dir/",
		"https://example.com/a%2Fb.txt",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			panic(err)
		}
		fmt.Println(naming.FromURL(u))
	}
	// Output:
	// report v2.pdf
	// index.html
	// a_b.txt
}

func ExampleFromContentDisposition() {
	fmt.Println(naming.FromContentDisposition(`attachment; filename="../../etc/passwd"`))
	fmt.Println(naming.FromContentDisposition(`attachment; filename*=UTF-8''na%C3%AFve.txt; filename="naive.txt"`))
	fmt.Println(naming.FromContentDisposition(`inline`))
	// Output:
	// passwd true
	// naïve.txt true
	//  false
}

func ExampleSanitize() {
	fmt.Println(naming.Sanitize("a/b\x00c.txt"))
	fmt.Println(naming.Sanitize(".."))
	fmt.Println(naming.Sanitize("nul.txt"))
	// Output:
	// a_b_c.txt
	// _
	// nul_.txt
}

func ExampleSanitizePath() {
	name, err := naming.SanitizePath("isos/debian.iso")
	fmt.Println(filepath.ToSlash(name), err) // joined with the OS separator
	_, err = naming.SanitizePath("../etc/passwd")
	fmt.Println(errors.Is(err, naming.ErrUnsafeName))
	// Output:
	// isos/debian.iso <nil>
	// true
}

func ExampleWithSuffix() {
	fmt.Println(naming.WithSuffix("a.tar.gz", 1))
	fmt.Println(naming.WithSuffix("README", 2))
	// Output:
	// a.1.tar.gz
	// README.2
}

// Two items that would share a name both get one; names differing only in
// case are the same name, for the output directory may not tell them apart.
func ExampleReserver() {
	r := naming.NewReserver()
	fmt.Println(r.Reserve("a.txt", nil))
	fmt.Println(r.Reserve("A.TXT", nil))
	fmt.Println(r.Reserve("a.txt", func(candidate string) bool { return candidate != "a.2.txt" }))
	// Output:
	// a.txt
	// A.1.TXT
	// a.3.txt
}
