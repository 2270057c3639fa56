package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// minNameRunes is the shortest name word matched; shorter ones (Bo, Li) are ordinary words too often.
const minNameRunes = 3

// nameEndings may follow a name stem: Finnish case endings (also spoken forms such as "Mikolt",
// "Mikol", "Mikkoo"), possessive suffixes and the Swedish/English genitive s.
var nameEndings = []string{
	"", "n", "a", "ä", "ta", "tä", "na", "nä", "ksi", "ssa", "ssä", "sta", "stä", "lla", "llä", "lta", "ltä",
	"lle", "t", "ine", "tta", "ttä", "l", "ll", "lt", "st", "s", "kse", "ni", "si", "nsa", "nsä", "mme", "nne",
	"an", "en", "in", "on", "un", "yn", "än", "ön", "aa", "ee", "ii", "oo", "uu", "yy", "ää", "öö",
	"hen", "han", "hin", "hon", "hun", "seen", "ja", "jä", "ille", "illa", "iin", "ien",
}

// nameClitics may follow an ending: "Mikollekin", "Annahan", "Mikkoko".
var nameClitics = []string{"", "kin", "kaan", "kään", "han", "hän", "ko", "kö", "pa", "pä", "s"}

// nameRest holds every ending+clitic that may follow a configured name's stem, and that may follow
// a colon after any name ("Tom:lle"); maxRest is the longest, in bytes.
var nameRest, maxRest = func() (map[string]bool, int) {
	rest, longest := map[string]bool{}, 0
	for _, e := range nameEndings {
		for _, c := range nameClitics {
			rest[e+c] = true
			longest = max(longest, len(e+c))
		}
	}
	return rest, longest
}()

// nameMatcher finds configured names by word: a word matches when it is a stem followed by an ending.
type nameMatcher struct {
	stems   map[string]bool
	first   map[rune]bool // first letters of stems, a cheap filter
	maxStem int           // bytes
}

func newNameMatcher(names []string) nameMatcher {
	m := nameMatcher{stems: map[string]bool{}, first: map[rune]bool{}}
	for _, entry := range names {
		for _, w := range strings.FieldsFunc(norm.NFC.String(entry), func(r rune) bool { return !isLetter(r) }) {
			w = strings.ToLower(w)
			if utf8.RuneCountInString(w) < minNameRunes {
				continue
			}
			for _, st := range nameStems(w) {
				if utf8.RuneCountInString(st) < minNameRunes {
					continue
				}
				m.stems[st] = true
				r, _ := utf8.DecodeRuneInString(st)
				m.first[r] = true
				m.maxStem = max(m.maxStem, len(st))
			}
		}
	}
	return m
}

func (m nameMatcher) empty() bool { return len(m.stems) == 0 }

const vowels = "aeiouyäöå"

// gradations maps a strong consonant cluster before the last vowel to its weak grade.
var gradations = []struct{ strong, weak string }{
	{"kk", "k"}, {"pp", "p"}, {"tt", "t"}, {"nk", "ng"}, {"mp", "mm"}, {"nt", "nn"}, {"lt", "ll"}, {"rt", "rr"}, {"t", "d"},
}

// nameStems returns the forms of a lowercase name word that inflected forms start with.
func nameStems(w string) []string {
	stems := []string{w}
	last, n := utf8.DecodeLastRuneInString(w)
	body := w[:len(w)-n]
	switch {
	case strings.HasSuffix(w, "nen") && utf8.RuneCountInString(w) >= 6:
		// Virtanen: Virtasen, Virtaselle, Virtasta.
		base := strings.TrimSuffix(w, "nen")
		stems = append(stems, base+"se", base+"s")
	case strings.ContainsRune(vowels, last):
		// Mikko: Mikon, Mikolle; Satu: Sadun.
		for _, g := range gradations {
			if strings.HasSuffix(body, g.strong) {
				pre := strings.TrimSuffix(body, g.strong)
				if g.strong == "t" && (pre == "" || !strings.ContainsRune(vowels, lastRune(pre))) {
					break
				}
				stems = append(stems, pre+g.weak+string(last))
				break
			}
		}
	default:
		// Kristian: Kristianin, Kristianille; Markus: Markuksen.
		stems = append(stems, w+"i")
		if last == 's' && strings.ContainsRune(vowels, lastRune(body)) {
			stems = append(stems, body+"kse")
		}
	}
	return stems
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// match reports whether the word seg[i:j] is a configured name, and where the match ends
// (past a colon ending "Tom:lle" or a genitive "Mikko's").
func (m nameMatcher) match(seg string, i, j int) (int, bool) {
	if m.empty() || j-i > m.maxStem+maxRest || j-i < minNameRunes {
		return 0, false
	}
	word := seg[i:j]
	r, _ := utf8.DecodeRuneInString(word)
	if !m.first[unicode.ToLower(r)] {
		return 0, false
	}
	if !m.isName(strings.ToLower(word)) {
		return 0, false
	}
	return nameEnd(seg, j), true
}

// nameEnd returns where a name that ends at j ends with what may follow it: a colon ending
// ("Tom:lle") or a genitive ("Mikko's", "Aino’s").
func nameEnd(seg string, j int) int {
	end := j
	switch {
	case at(seg, end) == ':':
		k := end + 1
		for k < len(seg) && isLetter(at(seg, k)) {
			_, n := utf8.DecodeRuneInString(seg[k:])
			k += n
		}
		if k > end+1 && nameRest[strings.ToLower(seg[end+1:k])] {
			end = k
		}
	case strings.HasPrefix(seg[end:], "'s"), strings.HasPrefix(seg[end:], "’s"):
		k := end + len("s") + utf8.RuneLen(at(seg, end))
		if !isWord(at(seg, k)) {
			end = k
		}
	}
	return end
}

func (m nameMatcher) isName(w string) bool {
	for cut := len(w); cut >= 0 && len(w)-cut <= maxRest; cut-- {
		if cut > m.maxStem || cut < len(w) && !utf8.RuneStart(w[cut]) {
			continue
		}
		if m.stems[w[:cut]] && nameRest[w[cut:]] {
			return true
		}
	}
	return false
}
