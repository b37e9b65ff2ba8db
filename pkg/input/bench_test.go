package input

import (
	"strconv"
	"strings"
	"testing"
)

func BenchmarkParseLine(b *testing.B) {
	for _, bm := range []struct{ name, line string }{
		{"plain", "https://cdn.example.com/data/2024/part-000123.tar.gz?token=abc123"},
		{"tab", "https://cdn.example.com/data/2024/part-000123.tar.gz\tparts/000123.tar.gz"},
		{"json", `{"url": "https://cdn.example.com/data/part-000123.tar.gz", "output": "parts/000123.tar.gz", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}`},
		{"json without output", `{"url": "https://cdn.example.com/data/part-000123.tar.gz", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "size": 1234}`},
		{"local", "./data/2024/part-000123.tar.gz"},
		{"unusual URL", "https://user@cdn.example.com/données/part-000123.tar.gz"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if it, ok := ParseLine(bm.line); !ok || it.Err != nil {
					b.Fatal(it.Err)
				}
			}
		})
	}
}

func BenchmarkReader(b *testing.B) {
	const n = 100000
	var sb strings.Builder
	for i := range n {
		sb.WriteString("https://cdn.example.com/data/part-" + strconv.Itoa(i) + ".bin\n")
	}
	input := sb.String()
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(nil, []Source{{Name: "f", R: strings.NewReader(input)}})
		count := 0
		for {
			if _, err := r.Next(); err != nil {
				break
			}
			count++
		}
		if count != n {
			b.Fatalf("read %d items, want %d", count, n)
		}
	}
}

func BenchmarkSeenAdd(b *testing.B) {
	urls := make([]string, 1<<16)
	for i := range urls {
		urls[i] = "https://cdn.example.com/data/part-" + strconv.Itoa(i) + ".bin"
	}
	s := NewSeen()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Add(urls[i&(len(urls)-1)], "")
		i++
	}
}

func BenchmarkShardContains(b *testing.B) {
	sh := Shard{K: 3, N: 7}
	b.ReportAllocs()
	for b.Loop() {
		sh.Contains("https://cdn.example.com/data/part-000123.bin")
	}
}
