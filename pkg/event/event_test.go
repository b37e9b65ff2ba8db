package event

import "testing"

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Queued: "queued", Finished: "finished", Planned: "planned", InputEnd: "input end", 0: "kind(0)", 200: "kind(200)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}
