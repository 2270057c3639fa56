package coding

import "testing"

func TestWithin1(t *testing.T) {
	for _, x := range []struct {
		a, b string
		want bool
	}{
		{"ohjaaja", "ohjaaja", true}, {"ohjaaja", "ohjaja", true}, {"ohjaaja", "ohjaajaa", true},
		{"ohjaaja", "ohjaaka", true}, {"ohjaaja", "ohjaaaj", true}, {"kiitos", "kiitso", true},
		{"tyhmä", "tyhma", true}, {"äiti", "aiti", true}, {"säännöt", "saannot", false},
		{"ohjaaja", "ohjain", false}, {"abc", "abcde", false}, {"", "a", true}, {"", "ab", false},
		{"självmord", "självmrod", true}, {"ääni", "äni", true},
	} {
		if got := within1(x.a, x.b); got != x.want {
			t.Errorf("within1(%q, %q) = %v", x.a, x.b, got)
		}
		if got := within1(x.b, x.a); got != x.want {
			t.Errorf("within1(%q, %q) = %v", x.b, x.a, got)
		}
	}
}

func TestFuzzyPrefix(t *testing.T) {
	w := wordPat{text: "itsemurh", prefix: true, fuzzy: true, runes: 8}
	for s, want := range map[string]bool{"itsemurha": true, "itsemurah": true, "itsmurha": true, "itsemurhaa": true, "itsemur": false, "itsenäinen": false} {
		if got := fuzzyMatch(w, s, len([]rune(s))); got != want {
			t.Errorf("fuzzyMatch(itsemurh*, %q) = %v", s, got)
		}
	}
}
