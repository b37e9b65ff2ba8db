package naming

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/fetchpool/fetchpool/internal/hashset"
	"golang.org/x/text/unicode/norm"
)

// PartSuffix is appended to a name for the file that a transfer writes
// before it is complete.
const PartSuffix = ".part"

// MetaSuffix is appended to the name of a part for its sidecar, and
// MetaTempSuffix for the temporary file through which a transfer replaces
// the sidecar (see writeMeta in package fetch).
const (
	MetaSuffix     = ".meta"
	MetaTempSuffix = MetaSuffix + ".tmp"
)

// SidecarSuffix is appended to a name for the JSON file that keeps a
// partial transfer's validator (NAME.part.meta).
const SidecarSuffix = PartSuffix + MetaSuffix

// SidecarTempSuffix is appended to a name for the temporary file of its
// sidecar (NAME.part.meta.tmp): the longest ending that a transfer adds
// to a name for its files beside the destination.
const SidecarTempSuffix = PartSuffix + MetaTempSuffix

// Reserver hands out names for one run so that no two transfers share a
// file. It is safe for concurrent use.
//
// Names are relative paths (as from SanitizePath or KeepPath) and are
// compared the way strings.EqualFold compares them (Unicode simple case
// folding, '\' and '/' alike), because the output directory may be on a
// case-insensitive file system, and in their canonical decomposition
// (NFD), because macOS file systems take the composed (NFC) and decomposed
// spellings of a name for one file. Each name is stored only as a 64-bit
// FNV-1a hash of its folded form, so a run of millions of names stays
// small. Two different names whose hashes collide count as the same name;
// the only effect is an unneeded suffix, never a shared file.
//
// A reserved name "x" holds four files: x, x.part, x.part.meta and
// x.part.meta.tmp (through which a split transfer rewrites its sidecar). A
// candidate is taken when any of its four files is one of another name's
// four, so an item literally named "x.part", "x.part.meta" or
// "x.part.meta.tmp" cannot clash with the files of "x", nor "x" with
// theirs. The directories above a reserved name are remembered too: after
// "a/b" is reserved, "a" is taken (it must stay a directory). The converse
// is not detected by Reserve: after "a" is reserved, "a/b" is handed out,
// so a caller asks FileAbove first.
//
// A name is held until the run ends, unless Release gives it back. Make a
// Reserver with NewReserver; the zero Reserver is not usable.
type Reserver struct {
	mu sync.Mutex
	// taken holds the hashes of reserved names and of their directories
	// (with a trailing '/').
	taken *hashset.Set
	// next holds, for a name that was already taken more than once
	// (hintFrom), the suffix to try first next time, so that a million
	// items named index.html do not each walk the whole chain of
	// index.N.html. A name taken only once more gets no hint: a list of
	// two mirrors of one tree, each name twice, made one per name, a map
	// as long as the list. At maxHints hints, they are all forgotten.
	next map[uint64]int
	// released holds the hashes of names given back by Release, and
	// retaken those of them that a Reserve took again since (until they
	// are released once more). taken, which forgets nothing, still holds
	// them; a name counts as free when it is in released and not in
	// retaken. released is compact, as taken is: a run whose server names
	// every file (Content-Disposition) releases the name of every item,
	// and a map of them took some 75 bytes an item. retaken grows only
	// with the names released and then taken again. released is nil until
	// the first Release.
	released *hashset.Set
	retaken  map[uint64]struct{}
	n        int
}

// hintFrom is the first suffix whose taking leaves a hint (Reserver.next):
// below it, the walk of a name's suffixes is short.
const hintFrom = 2

// maxHints bounds Reserver.next; past it, a name walks its suffixes once
// more to make its hint again.
const maxHints = 1 << 16

// NewReserver returns an empty Reserver.
func NewReserver() *Reserver {
	return &Reserver{taken: hashset.New(), next: make(map[uint64]int)}
}

// Reserve reserves and returns the first free candidate among name,
// WithSuffix(name, 1), WithSuffix(name, 2), ...
//
// A candidate is free when none of its files (see Reserver) clashes with a
// name already reserved by r and free(candidate) reports true. free may be
// nil, meaning always true; the caller uses it to skip names whose existing
// .part belongs to another URL, or, for --on-exists rename, names that exist
// on disk. free is called with r locked: it must not call r's methods, and
// it must eventually report true. A name is held until Release.
func (r *Reserver) Reserve(name string, free func(candidate string) bool) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.try(name, free) {
		return name
	}
	start := hashFolded(canonical(name))
	n := max(r.next[start], 1)
	for ; ; n++ {
		c := WithSuffix(name, n)
		if r.try(c, free) {
			if n >= hintFrom {
				if len(r.next) >= maxHints {
					clear(r.next)
				}
				r.next[start] = n + 1
			}
			return c
		}
	}
}

// try reserves c if it is free.
func (r *Reserver) try(c string, free func(string) bool) bool {
	cc := canonical(c)
	k := keysOf(cc)
	if r.clashes(k) {
		return false
	}
	if free != nil && !free(c) {
		return false
	}
	r.taken.Add(k.name)
	if r.released != nil && r.released.Has(k.name) {
		if r.retaken == nil {
			r.retaken = make(map[uint64]struct{})
		}
		r.retaken[k.name] = struct{}{}
	}
	r.addDirs(cc)
	r.n++
	return true
}

// FileAbove reports the first directory above name ("a" for "a/b/c") that
// is reserved as a file's name, which no suffix on name's last element can
// get around: a name there cannot be saved while that file is.
func (r *Reserver) FileAbove(name string) (dir string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if canonical(name) != name {
		// The directories as the caller spells them: a separator is
		// never moved by the decomposition.
		for i := 1; i < len(name); i++ {
			if (name[i] == '/' || name[i] == '\\') && r.has(hashFolded(canonical(name[:i]))) {
				return name[:i], true
			}
		}
		return "", false
	}
	h := fnvOffset
	for i := 0; i < len(name); {
		above, start := h, i // the hash of name[:start]
		var sep bool
		h, i, sep = foldStep(h, name, i)
		if sep && start > 0 && r.has(above) {
			return name[:start], true
		}
	}
	return "", false
}

// Release gives back a name that Reserve handed out, so that a later
// Reserve may hand it out again; its files (name, name.part,
// name.part.meta and name.part.meta.tmp) must no longer be in use, and
// should not be on disk. The directories above it stay reserved. Releasing
// a name that is not reserved does nothing.
func (r *Reserver) Release(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := hashFolded(canonical(name))
	if !r.has(h) {
		return
	}
	if r.released == nil {
		r.released = hashset.New()
	}
	r.released.Add(h)
	delete(r.retaken, h)
	r.n--
}

// Len reports how many names are reserved.
func (r *Reserver) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *Reserver) has(h uint64) bool {
	if !r.taken.Has(h) {
		return false
	}
	if r.released == nil || !r.released.Has(h) {
		return true
	}
	_, again := r.retaken[h]
	return again
}

func (r *Reserver) clashes(k keys) bool {
	return r.has(k.name) || r.has(k.part) || r.has(k.sidecar) || r.has(k.temp) || r.has(k.dir) ||
		(k.hasBase && r.has(k.base))
}

// addDirs records the directories above c, each as its hash with a
// trailing '/'.
func (r *Reserver) addDirs(c string) {
	h := fnvOffset
	for i := 0; i < len(c); {
		var sep bool
		h, i, sep = foldStep(h, c, i)
		if sep {
			r.taken.Add(h)
		}
	}
}

// keys are the hashes that decide whether a candidate clashes.
type keys struct {
	name, part, sidecar, temp uint64 // c, c.part, c.part.meta, c.part.meta.tmp
	dir                       uint64 // c/ (c is the directory of a reserved name)
	base                      uint64 // c without .part, .part.meta or .part.meta.tmp, when it has one
	hasBase                   bool
}

func keysOf(c string) keys {
	var k keys
	h := fnvOffset
	for i := 0; i < len(c); {
		if n := len(c) - i; !k.hasBase && (n == len(SidecarTempSuffix) || n == len(SidecarSuffix) || n == len(PartSuffix)) && hasSuffixAt(c, i) {
			k.base, k.hasBase = h, true
		}
		h, i, _ = foldStep(h, c, i)
	}
	k.name = h
	k.part = fnvString(h, PartSuffix)
	k.sidecar = fnvString(h, SidecarSuffix)
	k.temp = fnvString(h, SidecarTempSuffix)
	k.dir = fnvString(h, "/")
	return k
}

// hasSuffixAt reports whether c[i:] is ".part", ".part.meta" or
// ".part.meta.tmp" in any case. None holds a letter whose case folding
// reaches beyond ASCII (k or s), so comparing bytes is exact.
func hasSuffixAt(c string, i int) bool {
	rest := c[i:]
	return strings.EqualFold(rest, PartSuffix) || strings.EqualFold(rest, SidecarSuffix) ||
		strings.EqualFold(rest, SidecarTempSuffix)
}

const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

// hashFolded is the FNV-1a hash of the folded form of s.
func hashFolded(s string) uint64 {
	return fnvString(fnvOffset, s)
}

// fnvString continues hash h with the folded form of s.
func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); {
		h, i, _ = foldStep(h, s, i)
	}
	return h
}

// foldStep hashes the folded character of s at byte i into h and returns the
// new hash, the index of the next character, and whether the character was
// a path separator.
func foldStep(h uint64, s string, i int) (uint64, int, bool) {
	c := s[i]
	if c < utf8.RuneSelf {
		sep := c == '/' || c == '\\'
		switch {
		case sep:
			c = '/'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		return (h ^ uint64(c)) * fnvPrime, i + 1, sep
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size == 1 {
		return (h ^ uint64(c)) * fnvPrime, i + 1, false
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], foldRune(r))
	for _, b := range buf[:n] {
		h = (h ^ uint64(b)) * fnvPrime
	}
	return h, i + size, false
}

// canonical is s in its canonical decomposition (NFD), the form names are
// compared in: s itself when it is already in that form, as every ASCII
// name is.
func canonical(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return norm.NFD.String(s)
		}
	}
	return s
}

// foldRune maps r to the smallest rune of its case-folding orbit, so that
// runes equal under strings.EqualFold map to the same rune. For ASCII that
// is the upper-case letter, which the fast path in foldStep also uses.
func foldRune(r rune) rune {
	low := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		low = min(low, f)
	}
	return low
}
