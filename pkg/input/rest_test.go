package input

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// urlsOf reads r to its end and returns the URLs of its items.
func urlsOf(t *testing.T, r *Reader) []string {
	t.Helper()
	var urls []string
	for {
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			return urls
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		urls = append(urls, it.URL)
	}
}

func TestRest(t *testing.T) {
	const a = "# list a\nhttp://h/a1\n\nhttp://h/a2\nhttp://h/a3\n"
	const b = "http://h/b1\nhttp://h/b2\n"
	args := []string{"http://h/x1", "http://h/x2"}
	files := func() []Source {
		return []Source{
			{Name: "a.txt", R: strings.NewReader(a), Again: strings.NewReader(a)},
			{Name: "b.txt", R: strings.NewReader(b), Again: strings.NewReader(b)},
		}
	}
	all := []string{"http://h/x1", "http://h/x2", "http://h/a1", "http://h/a2", "http://h/a3", "http://h/b1", "http://h/b2"}
	tests := []struct {
		name    string
		last    Item
		sources func() []Source
		shard   Shard
		want    []string // nil: Rest returns nil
	}{
		{"nothing taken", Item{}, files, Shard{}, all},
		{"after an argument", Item{Source: "arg", Line: 1}, files, Shard{}, all[1:]},
		{"after the last argument", Item{Source: "arg", Line: 2}, files, Shard{}, all[2:]},
		{"mid-file, past a blank line", Item{Source: "a.txt", Line: 4}, files, Shard{}, all[4:]},
		{"at a file's end", Item{Source: "a.txt", Line: 5}, files, Shard{}, all[5:]},
		{"all taken", Item{Source: "b.txt", Line: 2}, files, Shard{}, []string{}},
		{"one shard", Item{}, files, Shard{K: 1, N: 2}, shardOf(all, Shard{K: 1, N: 2})},
		{"the other shard", Item{}, files, Shard{K: 2, N: 2}, shardOf(all, Shard{K: 2, N: 2})},
		{"standard input in the rest", Item{Source: "arg", Line: 2}, func() []Source {
			return append(files(), Source{Name: "-", R: strings.NewReader("http://h/s\n")})
		}, Shard{}, nil},
		{"standard input before the rest", Item{Source: "b.txt", Line: 1}, func() []Source {
			return append([]Source{{Name: "-", R: strings.NewReader("http://h/s\n")}}, files()...)
		}, Shard{}, []string{"http://h/b2"}},
		{"a file given twice", Item{Source: "a.txt", Line: 2}, func() []Source {
			return append(files(), files()[0])
		}, Shard{}, nil},
		{"a source not in the input", Item{Source: "c.txt", Line: 1}, files, Shard{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sources := tt.sources()
			r := Rest(args, sources, tt.last, tt.shard)
			if tt.want == nil {
				if r != nil {
					t.Fatalf("Rest = a Reader of %q, want nil: the rest cannot be read anew", urlsOf(t, r))
				}
				return
			}
			if r == nil {
				t.Fatal("Rest = nil, want a Reader")
			}
			if got := urlsOf(t, r); !slices.Equal(got, tt.want) && (len(got) > 0 || len(tt.want) > 0) {
				t.Errorf("the rest = %q, want %q", got, tt.want)
			}
			if got, want := NothingAfter(args, tt.sources(), tt.last, tt.shard), len(tt.want) == 0; got != want {
				t.Errorf("NothingAfter = %v, want %v", got, want)
			}
		})
	}
}

// TestRestKeepsPlaces checks that the items of the rest keep the source
// and line they have in the whole input, for messages and --failed.
func TestRestKeepsPlaces(t *testing.T) {
	const a = "http://h/1\n# c\nhttp://h/2\nhttp://h/3\n"
	src := []Source{{Name: "a.txt", R: strings.NewReader(a), Again: strings.NewReader(a)}}
	r := Rest(nil, src, Item{Source: "a.txt", Line: 3}, Shard{})
	it, err := r.Next()
	if err != nil || it.URL != "http://h/3" || it.Where() != "a.txt:4" {
		t.Fatalf("first item of the rest = %q at %s (%v), want http://h/3 at a.txt:4", it.URL, it.Where(), err)
	}
}

func shardOf(urls []string, s Shard) []string {
	in := []string{}
	for _, u := range urls {
		if s.Contains(u) {
			in = append(in, u)
		}
	}
	return in
}

func TestPosition(t *testing.T) {
	var p Position
	if p.Where() != "" || p.Ended() || p.Last() != (Item{}) {
		t.Fatalf("zero Position: Where %q, Ended %v, Last %+v; want nothing taken", p.Where(), p.Ended(), p.Last())
	}
	p.Take(Item{URL: "http://h/1", Source: "a.txt", Line: 3}, nil)
	p.Take(Item{}, errors.New("reading a.txt: input/output error"))
	if p.Where() != "a.txt:3" || p.Ended() {
		t.Fatalf("after a read error: Where %q, Ended %v; want a.txt:3, not ended", p.Where(), p.Ended())
	}
	p.Take(Item{}, io.EOF)
	if !p.Ended() || p.Last().URL != "http://h/1" {
		t.Fatalf("after io.EOF: Ended %v, Last %q; want ended, last http://h/1", p.Ended(), p.Last().URL)
	}
}
