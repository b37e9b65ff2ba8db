package fetch

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		values []string
		want   http.Header
		err    string // a part of the error; "" for none
	}{
		{nil, http.Header{}, ""},
		{[]string{"X-A: 1", "x-a:2", "Host:  h.test "}, http.Header{"X-A": {"1", "2"}, "Host": {"h.test"}}, ""},
		{[]string{"X-Empty:"}, http.Header{"X-Empty": {""}}, ""},
		{[]string{"X-Tab: a\tb"}, http.Header{"X-Tab": {"a\tb"}}, ""},
		{[]string{"no colon"}, nil, `invalid --header "no colon": want "Name: value"`},
		{[]string{": value"}, nil, `want "Name: value"`},
		{[]string{"X A: 1"}, nil, `want "Name: value"`},
		{[]string{"X-A: a\r\nX-B: b"}, nil, `want "Name: value"`},
		{[]string{"Fo@o: bar"}, nil, `a header name cannot contain "@"`},
		{[]string{"X-Ümlaut: bar"}, nil, `a header name cannot contain "Ü"`},
		{[]string{"X-A: a\x01b"}, nil, "the value contains a control character"},
		{[]string{"X-A: a\x7fb"}, nil, "the value contains a control character"},
	}
	for _, tt := range tests {
		got, err := ParseHeader(tt.values)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("ParseHeader(%q): %v", tt.values, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseHeader(%q) error = %v, want one saying %q", tt.values, err, tt.err)
		case tt.err == "" && !reflect.DeepEqual(got, tt.want):
			t.Errorf("ParseHeader(%q) = %v, want %v", tt.values, got, tt.want)
		}
	}
}
