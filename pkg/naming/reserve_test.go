package naming

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestReserve(t *testing.T) {
	tests := []struct {
		name string
		in   []string // reserved in order
		want []string
	}{
		{"distinct", []string{"a.txt", "b.txt"}, []string{"a.txt", "b.txt"}},
		{"collisions", []string{"a.txt", "a.txt", "a.txt"}, []string{"a.txt", "a.1.txt", "a.2.txt"}},
		{"compound extension", []string{"x.tar.gz", "x.tar.gz"}, []string{"x.tar.gz", "x.1.tar.gz"}},
		{"no extension", []string{"README", "README"}, []string{"README", "README.1"}},
		{"case-insensitive", []string{"A.txt", "a.txt", "A.TXT"}, []string{"A.txt", "a.1.txt", "A.2.TXT"}},
		{"Unicode case", []string{"ÄÖ.txt", "äö.txt"}, []string{"ÄÖ.txt", "äö.1.txt"}},
		{"Kelvin sign folds to k", []string{"k.txt", "\u212a.txt"}, []string{"k.txt", "\u212a.1.txt"}},
		{"explicit suffix taken first", []string{"a.1.txt", "a.txt", "a.txt"}, []string{"a.1.txt", "a.txt", "a.2.txt"}},
		{"name after its part", []string{"x.part", "x"}, []string{"x.part", "x.1"}},
		{"part after its name", []string{"x", "x.part"}, []string{"x", "x.1.part"}},
		{"part in upper case", []string{"x", "X.PART"}, []string{"x", "X.1.PART"}},
		{"sidecar after its name", []string{"x", "x.part.meta"}, []string{"x", "x.part.1.meta"}},
		{"name after its sidecar", []string{"x.part.meta", "x"}, []string{"x.part.meta", "x.1"}},
		{"sidecar's temporary file after its name", []string{"x", "x.part.meta.tmp"}, []string{"x", "x.part.meta.1.tmp"}},
		{"name after its sidecar's temporary file", []string{"X.PART.META.TMP", "x"}, []string{"X.PART.META.TMP", "x.1"}},
		{"part of a part", []string{"x.part", "x.part.part"}, []string{"x.part", "x.part.1.part"}},
		{"meta is not a sidecar alone", []string{"x", "x.meta"}, []string{"x", "x.meta"}},
		{"subdirectories", []string{"d/a.txt", "d/a.txt", "e/a.txt"}, []string{"d/a.txt", "d/a.1.txt", "e/a.txt"}},
		{"directory case", []string{"D/a.txt", "d/A.txt"}, []string{"D/a.txt", "d/A.1.txt"}},
		{"file where a directory is", []string{"h/a/index.html", "h/a"}, []string{"h/a/index.html", "h/a.1"}},
		{"backslash and slash alike", []string{"d/a", `d\a`}, []string{"d/a", `d\a.1`}},
		// macOS takes both spellings for one file: the second would
		// replace the first.
		{"composed and decomposed", []string{"caf\u00e9.txt", "cafe\u0301.txt"}, []string{"caf\u00e9.txt", "cafe\u0301.1.txt"}},
		{"decomposed and composed, other case", []string{"E\u0301t\u00e9/a", "\u00e9te\u0301/A"}, []string{"E\u0301t\u00e9/a", "\u00e9te\u0301/A.1"}},
		{"Hangul syllable and its jamo", []string{"\ud55c.txt", "\u1112\u1161\u11ab.txt"}, []string{"\ud55c.txt", "\u1112\u1161\u11ab.1.txt"}},
		{"two-level decomposition", []string{"\u01d6", "u\u0308\u0304"}, []string{"\u01d6", "u\u0308\u0304.1"}},
		{"accents that differ", []string{"e\u0301.txt", "e\u0300.txt"}, []string{"e\u0301.txt", "e\u0300.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReserver()
			for i, name := range tt.in {
				name = filepath.FromSlash(name)
				if got, want := r.Reserve(name, nil), filepath.FromSlash(tt.want[i]); got != want {
					t.Errorf("Reserve(%q) #%d = %q, want %q", name, i, got, want)
				}
			}
			if r.Len() != len(tt.in) {
				t.Errorf("Len() = %d, want %d", r.Len(), len(tt.in))
			}
		})
	}
}

// TestFoldedHashNormalForms checks that a name hashes as its NFC and NFD
// spellings do, over scripts with precomposed letters.
func TestFoldedHashNormalForms(t *testing.T) {
	for _, name := range []string{
		"café.txt", "Ångström/Ärger.pdf", "ñandú", "Ελληνικά ΐ.txt", "Привет й.txt", "한국어 파일.hwp",
		"ベース.txt", "গ্রন্থ", "ǖǘǚǜ", "Å", "ḱṓṕ", "\u1e9b\u0323",
	} {
		nfc, nfd := norm.NFC.String(name), norm.NFD.String(name)
		if h := hashFolded(canonical(name)); h != hashFolded(canonical(nfc)) || h != hashFolded(canonical(nfd)) {
			t.Errorf("%q: hash %x, of its NFC %x, of its NFD %x; want one hash", name, h, hashFolded(canonical(nfc)), hashFolded(canonical(nfd)))
		}
	}
}

func TestReserverFileAbove(t *testing.T) {
	tests := []struct {
		name     string
		reserved []string
		in       string
		want     string // "" when there is no file above
	}{
		{"nothing reserved", nil, "a/b", ""},
		{"file above", []string{"a"}, "a/b", "a"},
		{"file two levels above", []string{"h/a"}, "h/a/b/c.txt", "h/a"},
		{"case-insensitive", []string{"Data"}, "data/x", "data"},
		{"backslash", []string{"a"}, `a\b`, "a"},
		{"the name itself", []string{"a/b"}, "a/b", ""},
		{"a directory above", []string{"a/x"}, "a/b", ""},
		{"a longer name", []string{"ab"}, "a/b", ""},
		{"no directory", []string{"a"}, "b", ""},
		{"composed file, decomposed directory", []string{"h/caf\u00e9"}, "h/cafe\u0301/x/y", "h/cafe\u0301"},
		{"decomposed file, composed directory", []string{"Cafe\u0301"}, "caf\u00e9/x", "caf\u00e9"},
		{"another accent", []string{"caf\u00e8"}, "caf\u00e9/x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReserver()
			for _, name := range tt.reserved {
				r.Reserve(filepath.FromSlash(name), nil)
			}
			dir, ok := r.FileAbove(filepath.FromSlash(tt.in))
			if dir != tt.want || ok != (tt.want != "") {
				t.Errorf("FileAbove(%q) = %q, %v; want %q", tt.in, dir, ok, tt.want)
			}
		})
	}
	t.Run("released", func(t *testing.T) {
		r := NewReserver()
		r.Reserve("a", nil)
		r.Release("a")
		if dir, ok := r.FileAbove("a/b"); ok {
			t.Errorf("FileAbove(%q) = %q after the file was released", "a/b", dir)
		}
	})
}

func TestReserveFree(t *testing.T) {
	r := NewReserver()
	onDisk := map[string]bool{"a.txt": true, "a.1.txt": true, "a.3.txt": true}
	var asked []string
	free := func(c string) bool {
		asked = append(asked, c)
		return !onDisk[c]
	}
	if got := r.Reserve("a.txt", free); got != "a.2.txt" {
		t.Errorf("first Reserve = %q, want a.2.txt", got)
	}
	if got := r.Reserve("a.txt", free); got != "a.4.txt" {
		t.Errorf("second Reserve = %q, want a.4.txt", got)
	}
	// The second call asks about a.txt again (free decides about it, not the
	// run) but not about a.1.txt or a.2.txt, which come before the last
	// suffix handed out.
	want := "a.txt a.1.txt a.2.txt a.txt a.3.txt a.4.txt"
	if got := strings.Join(asked, " "); got != want {
		t.Errorf("free was asked about %q, want %q", got, want)
	}
	// A name that free refused is not reserved: without free it is handed out.
	if got := r.Reserve("a.1.txt", nil); got != "a.1.txt" {
		t.Errorf("Reserve(a.1.txt) = %q, want it (it was never reserved)", got)
	}
	if r.Len() != 3 {
		t.Errorf("Len() = %d, want 3", r.Len())
	}
}

// TestReserveRelease: a released name, its part and its sidecar are handed
// out again; a name taken again after its release is held again; the
// directories above a released name stay taken.
func TestReserveRelease(t *testing.T) {
	r := NewReserver()
	for _, want := range []string{"a.txt", "a.1.txt"} {
		if got := r.Reserve("a.txt", nil); got != want {
			t.Fatalf("Reserve(a.txt) = %q, want %q", got, want)
		}
	}
	r.Release("A.TXT") // compared as Reserve compares
	if r.Len() != 1 {
		t.Errorf("Len() after Release = %d, want 1", r.Len())
	}
	if got := r.Reserve("a.txt.part", nil); got != "a.txt.part" {
		t.Errorf("Reserve(a.txt.part) after releasing a.txt = %q, want it", got)
	}
	r.Release("a.txt.part")
	if got := r.Reserve("a.txt", nil); got != "a.txt" {
		t.Errorf("Reserve(a.txt) after Release = %q, want a.txt", got)
	}
	if got := r.Reserve("a.txt", nil); got != "a.2.txt" {
		t.Errorf("Reserve(a.txt) once it is taken again = %q, want a.2.txt", got)
	}
	r.Release("never-reserved")
	r.Release("a.1.txt")
	r.Release("a.1.txt")
	if r.Len() != 2 {
		t.Errorf("Len() = %d, want 2 (a.txt and a.2.txt)", r.Len())
	}

	sub := filepath.FromSlash("d/x")
	r.Reserve(sub, nil)
	r.Release(sub)
	if got := r.Reserve("d", nil); got != "d.1" {
		t.Errorf("Reserve(d) after releasing d/x = %q, want d.1: its directory stays taken", got)
	}
	if got := r.Reserve(sub, nil); got != sub {
		t.Errorf("Reserve(d/x) after its Release = %q, want it", got)
	}
}

func TestReserveManySameName(t *testing.T) {
	r := NewReserver()
	const n = 20000 // quadratic probing would take seconds
	seen := make(map[string]bool, n)
	for i := range n {
		got := r.Reserve("index.html", nil)
		if seen[got] {
			t.Fatalf("#%d: %q handed out twice", i, got)
		}
		seen[got] = true
	}
	if got, want := r.Reserve("index.html", nil), fmt.Sprintf("index.%d.html", n); got != want {
		t.Errorf("next = %q, want %q", got, want)
	}
}

func TestReserveConcurrent(t *testing.T) {
	r := NewReserver()
	const goroutines, each = 8, 100
	names := make(chan string, goroutines*each)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				names <- r.Reserve("Same.txt", nil)
			}
		}()
	}
	wg.Wait()
	close(names)
	seen := make(map[string]bool)
	for name := range names {
		key := strings.ToLower(name)
		if seen[key] {
			t.Fatalf("%q handed out twice", name)
		}
		seen[key] = true
	}
	if len(seen) != goroutines*each || r.Len() != goroutines*each {
		t.Errorf("got %d distinct names, Len() %d; want %d", len(seen), r.Len(), goroutines*each)
	}
}

func BenchmarkReserve(b *testing.B) {
	names := make([]string, 1<<16)
	for i := range names {
		names[i] = fmt.Sprintf("downloads/releases/file-%d.tar.gz", i)
	}
	b.ReportAllocs()
	r := NewReserver()
	i := 0
	for b.Loop() {
		if i == len(names) {
			b.StopTimer()
			r, i = NewReserver(), 0
			b.StartTimer()
		}
		_ = r.Reserve(names[i], nil)
		i++
	}
}

func BenchmarkReserveCollision(b *testing.B) {
	b.ReportAllocs()
	r := NewReserver()
	for b.Loop() {
		_ = r.Reserve("index.html", nil)
	}
}

// TestReserveModel reserves random names built from pieces that clash in
// every way the Reserver knows about, releasing some of them again, and
// checks the promise with plain strings: no file of one reserved name (name,
// .part, .part.meta, .part.meta.tmp) is, case aside, a file of another, and no reserved name
// is the directory of another.
func TestReserveModel(t *testing.T) {
	pieces := []string{"a", "A", ".part", ".PART", ".meta", ".tmp", ".1", ".txt", "/", "b"}
	rng := rand.New(rand.NewPCG(1, 2))
	r := NewReserver()
	files := map[string]string{} // lower-cased file -> the reserved name holding it
	dirs := map[string]bool{}
	var held []string
	for range 5000 {
		if len(held) > 0 && rng.IntN(4) == 0 {
			i := rng.IntN(len(held))
			name := held[i]
			held = append(held[:i], held[i+1:]...)
			r.Release(name)
			for _, f := range filesOf(name) {
				delete(files, strings.ToLower(f))
			}
			continue
		}
		var b strings.Builder
		for range 1 + rng.IntN(5) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		name, err := SanitizePath(b.String())
		if err != nil {
			continue
		}
		got := r.Reserve(name, nil)
		if got != name && !isSuffixed(got, name) {
			t.Fatalf("Reserve(%q) = %q, not the name or a suffixed form", name, got)
		}
		for _, f := range filesOf(got) {
			key := strings.ToLower(f)
			if other, ok := files[key]; ok {
				t.Fatalf("Reserve(%q) = %q, whose file %q clashes with a file of %q", name, got, f, other)
			}
			files[key] = got
		}
		held = append(held, got)
		if dirs[strings.ToLower(got)] {
			t.Fatalf("Reserve(%q) = %q, a directory of a reserved name", name, got)
		}
		for i, c := range got {
			if c == filepath.Separator {
				dirs[strings.ToLower(got[:i])] = true
			}
		}
	}
	if r.Len() != len(held) {
		t.Errorf("Len() = %d, want the %d names held", r.Len(), len(held))
	}
}

// filesOf lists the files that a transfer saving name writes.
func filesOf(name string) []string {
	return []string{name, name + PartSuffix, name + SidecarSuffix, name + SidecarTempSuffix}
}

func isSuffixed(got, name string) bool {
	for n := 1; n < 10000; n++ {
		if WithSuffix(name, n) == got {
			return true
		}
	}
	return false
}

// TestReleaseAgainAndAgain: a name released, taken again and released once
// more is free each time it is released, and held each time it is taken.
func TestReleaseAgainAndAgain(t *testing.T) {
	r := NewReserver()
	for i := range 3 {
		if got := r.Reserve("a.txt", nil); got != "a.txt" {
			t.Fatalf("round %d: Reserve(a.txt) = %q, want a.txt", i, got)
		}
		other := r.Reserve("a.txt", nil)
		if other == "a.txt" {
			t.Fatalf("round %d: Reserve(a.txt) while it is held = a.txt, want a suffix", i)
		}
		r.Release("a.txt")
		r.Release(other)
		if r.Len() != 0 {
			t.Fatalf("round %d: Len() = %d after releasing both, want 0", i, r.Len())
		}
	}
}

// TestReleaseKeepsHeapSmall: releasing the name of every item (as a run
// does whose server names every file by Content-Disposition) costs the
// Go heap next to nothing: the released names are compact hashes outside
// it, as the reserved ones are. A map of them took 75 bytes an item: a
// million such items grew a run by some 70 MiB.
func TestReleaseKeepsHeapSmall(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("hash sets live outside the Go heap only on Unix")
	}
	const n = 200000
	r := NewReserver()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		name := "f" + strconv.Itoa(i)
		r.Reserve(name, nil)
		r.Release(name)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d names reserved and released: heap grew %d KiB", n, grew>>10)
	if grew > 1<<20 {
		t.Errorf("heap grew %d KiB for %d names released, want under 1 MiB", grew>>10, n)
	}
	runtime.KeepAlive(r)
}

// TestReserveHintsStaySmall: a list that names each file twice (two
// mirrors of one tree) costs the Go heap next to nothing: the hint of the
// suffix to try first was kept for every name taken twice, a map as long as
// the list (27 MiB more for a million items). Hints are kept for names
// taken often, and are still used: the thousandth index.html does not walk
// the 999 before it.
func TestReserveHintsStaySmall(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("hash sets live outside the Go heap only on Unix")
	}
	const n = 100000
	r := NewReserver()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		name := "f" + strconv.Itoa(i)
		r.Reserve(name, nil)
		if got := r.Reserve(name, nil); got != name+".1" {
			t.Fatalf("Reserve(%s) the second time = %q, want %s.1", name, got, name)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d names taken twice: heap grew %d KiB", n, grew>>10)
	if grew > 1<<20 {
		t.Errorf("heap grew %d KiB for %d names taken twice, want under 1 MiB", grew>>10, n)
	}
	runtime.KeepAlive(r)

	for i := range 1000 {
		want := "index.html"
		if i > 0 {
			want = WithSuffix(want, i)
		}
		if got := r.Reserve("index.html", nil); got != want {
			t.Fatalf("Reserve(index.html) #%d = %q, want %q", i+1, got, want)
		}
	}
}
