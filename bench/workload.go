package main

import (
	"fmt"
	"strconv"
	"time"
)

// workload is one scenario: a set of synthetic files and how the server
// serves them.
type workload struct {
	Key      string        `json:"key"`
	Title    string        `json:"title"`
	Models   string        `json:"models"`
	Count    int           `json:"count"`
	Size     int64         `json:"size"`
	Latency  time.Duration `json:"latency_ns"`
	ConnRate int64         `json:"conn_rate"`
	Conc     int           `json:"concurrency"`
	// Split is the number of connections per file for segmenting tools (0: none).
	Split int `json:"split,omitempty"`
	// Stdin pipes the URLs on standard input and measures start-up and memory.
	Stdin bool `json:"stdin,omitempty"`
	// Window stops each tool after this long (0: let it finish); Stdin only.
	Window time.Duration `json:"window_ns,omitempty"`
}

// totalBytes is what a complete run downloads.
func (w *workload) totalBytes() int64 { return int64(w.Count) * w.Size }

// ideal is the shortest possible wall time when every request waits the
// latency and C requests run at once: ceil(N/C) × latency.
func (w *workload) ideal() time.Duration {
	if w.Latency == 0 {
		return 0
	}
	return time.Duration((w.Count+w.Conc-1)/w.Conc) * w.Latency
}

func (w *workload) heading() string {
	s := fmt.Sprintf("(%s) %s: %s × %s", w.Key, w.Title, thousands(w.Count), sizeText(w.Size))
	if w.Latency > 0 {
		s += fmt.Sprintf(", %v latency", w.Latency)
	}
	if w.ConnRate > 0 {
		s += fmt.Sprintf(", %s/s per connection", sizeText(w.ConnRate))
	}
	s += fmt.Sprintf(", C=%d", w.Conc)
	if w.Split > 0 {
		s += fmt.Sprintf(", %d connections per file where the tool can", w.Split)
	}
	if w.Stdin && w.Window > 0 {
		s += fmt.Sprintf(", each tool stopped after %v", w.Window)
	}
	return s
}

func workloads(cfg config) []*workload {
	pick := func(full, quick int) int {
		if cfg.quick {
			return quick
		}
		return full
	}
	conc := func(def int) int {
		if cfg.conc > 0 {
			return cfg.conc
		}
		return def
	}
	all := map[string]*workload{
		"a": {
			Title:  "many small files",
			Models: "a mirror job or a dataset of many small objects on a nearby server: per-file overhead dominates",
			Count:  pick(20_000, 2_000), Size: 16 << 10, Conc: conc(16),
		},
		"b": {
			Title:  "small files behind latency",
			Models: "small files from a distant server: each request waits a round trip, so only concurrency helps",
			Count:  pick(1_000, 200), Size: 16 << 10, Latency: 50 * time.Millisecond, Conc: conc(16),
		},
		"c": {
			Title:  "large files, throughput",
			Models: "big artifacts over a fast link: copy efficiency and CPU per byte",
			Count:  4, Size: int64(pick(512, 32)) << 20, Conc: conc(4),
		},
		"d": {
			Title:  "large files from a throttling CDN",
			Models: "a CDN that caps each connection: segmented download (N range requests per file) beats single streams",
			Count:  4, Size: int64(pick(256, 32)) << 20, ConnRate: 20 << 20, Conc: conc(4), Split: cfg.split,
		},
		"e": {
			Title:  "a huge URL list on stdin",
			Models: "`producer | tool`: does the tool stream its input (first request at once, flat memory) or load it all first",
			Count:  cfg.stdinURLs, Size: 16, Conc: conc(16), Stdin: true, Window: cfg.window,
		},
	}
	var ws []*workload
	for _, k := range cfg.workloads {
		w := all[k]
		w.Key = k
		ws = append(ws, w)
	}
	return ws
}

// sizeText prints a byte count in binary units: 16 KiB, 512 MiB, 20 MiB.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// thousands prints n with comma separators: 20,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
