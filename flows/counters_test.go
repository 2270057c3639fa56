package flows

import "testing"

// Counter names are stored in Redis: they may not change, or old counts are lost to summaries.
func TestCounterKeyKeepsStoredNames(t *testing.T) {
	q := &Question{ID: "help"}
	for value, want := range map[string]string{"4": "nuoret.help=4", SkipValue: "nuoret.help=_skip", TextValue: "nuoret.help=_text"} {
		if got := q.CounterKey("nuoret", value); got != want {
			t.Errorf("CounterKey(nuoret, %q) = %q, want %q", value, got, want)
		}
	}
}
