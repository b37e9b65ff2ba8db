package input

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Format writes an item back in input syntax, for lists such as --failed
// that are read again with -i. It writes the plain URL when the item has no
// Name or SHA256, "URL<TAB>NAME" when it has only a Name, and a JSON object
// otherwise, or whenever the plain forms would read back differently (a URL
// starting with '#' or '{', text with a TAB, a line break or surrounding
// spaces). An item that ParseLine returned without Err reads back the same.
func Format(it Item) string {
	if it.SHA256 == "" && plain(it.URL) && it.URL[0] != '#' && it.URL[0] != '{' {
		if it.Name == "" {
			return it.URL
		}
		if plain(it.Name) {
			return it.URL + "\t" + it.Name
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	// Encoding three strings cannot fail.
	_ = enc.Encode(struct {
		URL    string `json:"url"`
		Output string `json:"output,omitempty"`
		SHA256 string `json:"sha256,omitempty"`
	}{it.URL, it.Name, it.SHA256})
	return strings.TrimSuffix(b.String(), "\n")
}

// plain reports whether s reads back as itself in a TAB-separated field.
func plain(s string) bool {
	return s != "" && strings.TrimSpace(s) == s && isText(s, false)
}
