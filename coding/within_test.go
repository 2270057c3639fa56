package coding

import (
	"slices"
	"testing"
)

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

// TestFuzzyIndex: the index that finds typo candidates by their first letters keeps every one-typo
// form, wherever the typo is after the first letter, for whole words and prefixes, long and short.
func TestFuzzyIndex(t *testing.T) {
	ws := newWords()
	whole := ws.add(wordPat{text: "ohjaaja", fuzzy: true})
	pre := ws.add(wordPat{text: "itsemurh", prefix: true, fuzzy: true})
	short := ws.add(wordPat{text: "ab", fuzzy: true})
	for s, want := range map[string]int32{
		"ohjaaja": whole, "okjaaja": whole, "ojhaaja": whole, "ohaaja": whole, "oxhjaaja": whole, "ohjaja": whole,
		"ohjaajx": whole, "itsemurha": pre, "isemurhaa": pre, "ixtsemurha": pre, "tisemurha": -1,
		"ab": short, "a": short, "axb": short, "ba": -1, "xb": -1, // the first letter is never the typo
	} {
		got := ws.lookup(nil, s)
		if want < 0 && len(got) > 0 || want >= 0 && !slices.Contains(got, want) {
			t.Errorf("lookup(%q) = %v, want %d", s, got, want)
		}
	}
}

// lookup returns the ids of every word that matches s, with or without a typo.
func (ws *words) lookup(dst []int32, s string) []int32 {
	return ws.lookupTypos(ws.lookupExact(dst, s), s)
}
