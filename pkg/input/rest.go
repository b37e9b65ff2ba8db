package input

import (
	"errors"
	"io"
	"math"
)

// Rest returns a Reader of the input that NewReader(args, sources) reads,
// from the item after last on, read anew: a run that stopped before the end
// of its input can list what it never read, for a retry. last is the last
// item the run took (the zero Item when it took none); the lines up to it
// are passed over, and so are the items of other shards than shard (the
// zero Shard keeps all), as a run with that shard drops them.
//
// The rest can be read anew only when every source in it has Again set:
// Rest returns nil when one of them has not (standard input, a pipe), and
// when last's Source names two sources (which one it came from is unclear).
func Rest(args []string, sources []Source, last Item, shard Shard) *Reader {
	first, skip := 0, 0 // the first source of the rest, and its lines taken
	switch last.Source {
	case "":
	case "arg":
		args = args[min(last.Line, len(args)):]
	default:
		args, first = nil, -1
		for i, src := range sources {
			if src.Name == last.Source {
				if first >= 0 {
					return nil
				}
				first = i
			}
		}
		if first < 0 {
			return nil
		}
		skip = last.Line
	}
	var rest []Source
	for _, src := range sources[first:] {
		if src.Again == nil {
			return nil
		}
		r := io.NewSectionReader(src.Again, 0, math.MaxInt64)
		rest = append(rest, Source{Name: src.Name, R: r, Again: src.Again})
	}
	r := NewReader(args, rest)
	r.skip, r.shard = skip, shard
	return r
}

// NothingAfter tells that the input holds no item after last (see Rest): a
// run that stopped before it saw the end of its input had in fact taken it
// all, and must not send people to finish a list that has no rest. It says
// false when the rest cannot be read anew.
func NothingAfter(args []string, sources []Source, last Item, shard Shard) bool {
	r := Rest(args, sources, last, shard)
	if r == nil {
		return false
	}
	_, err := r.Next()
	return errors.Is(err, io.EOF)
}

// Position follows how far a run read its input: give its Take to
// pool.Options.Taken. Its methods are not safe for concurrent use; Run calls
// Take on the goroutine that called it, and the results are read after.
type Position struct {
	last  Item
	ended bool
}

// Take records an item taken from the input (err nil), or how the input
// ended (io.EOF: it was read to its end; another error: it broke off).
func (p *Position) Take(it Item, err error) {
	switch {
	case err == nil:
		p.last = it
	case errors.Is(err, io.EOF):
		p.ended = true
	}
}

// Last is the last item taken, or the zero Item when none was.
func (p *Position) Last() Item { return p.last }

// Ended tells that the input was read to its end.
func (p *Position) Ended() bool { return p.ended }

// Where is the place of the last item taken, as Item.Where gives it, or ""
// when none was.
func (p *Position) Where() string {
	if p.last.Source == "" {
		return ""
	}
	return p.last.Where()
}
