package fetch

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// Meta is the sidecar of a .part file (PATH.part.meta, JSON): what the part
// holds, so that a resume asks for the rest of the same resource.
type Meta struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Length is the full size of the resource, -1 if unknown.
	Length int64 `json:"length"`
	// Spans are the ranges of a split transfer and how far each got; empty
	// for a single stream, whose progress is the part's size.
	Spans []Span `json:"spans,omitempty"`
}

// Span is one range of a split transfer: bytes [Start, End) of which
// [Start, Next) are in the part.
type Span struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Next  int64 `json:"next"`
}

// metaSuffix names the sidecar of a part.
const metaSuffix = ".meta"

// ReadMeta reads the sidecar of the part at partPath (the sidecar is
// partPath+".meta"). It fails with an error wrapping fs.ErrNotExist when
// there is none.
func ReadMeta(partPath string) (Meta, error) {
	data, err := os.ReadFile(partPath + metaSuffix)
	if err != nil {
		return Meta{}, err
	}
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil {
		return Meta{}, fmt.Errorf("reading %s: %w", partPath+metaSuffix, err)
	}
	return m, nil
}

// writeMeta replaces the sidecar of partPath atomically.
func writeMeta(partPath string, m Meta) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := partPath + metaSuffix + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return classifyWrite(tmp, err)
	}
	if err := os.Rename(tmp, partPath+metaSuffix); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("saving %s: %w", partPath+metaSuffix, err)
	}
	return nil
}

// metaOf is the validator of a response to u.
func metaOf(u string, resp *http.Response, length int64) Meta {
	return Meta{
		URL:          u,
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		Length:       length,
	}
}

// ifRange is the If-Range value of m: its ETag when strong (a weak ETag
// never matches in If-Range), else its Last-Modified.
func (m Meta) ifRange() string {
	if m.ETag != "" && !strings.HasPrefix(m.ETag, "W/") {
		return m.ETag
	}
	return m.LastModified
}

// removePart removes a part and its sidecar; a missing file is fine.
func removePart(part string) {
	_ = os.Remove(part)
	_ = os.Remove(part + metaSuffix)
}
