package pii

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestNameWordsListed: every entry of namewords.txt is a listed name, one of its forms, or one of
// its forms with a clitic (a typo would silently do nothing).
func TestNameWordsListed(t *testing.T) {
	forms := map[string]bool{}
	for _, name := range listLines(firstNamesFile) {
		if utf8.RuneCountInString(name) >= minNameRunes {
			for _, f := range append(firstNameForms(name), name) {
				forms[f] = true
			}
		}
	}
	for _, line := range listLines(nameWordsFile) {
		w := strings.TrimPrefix(strings.Fields(line)[0], "!")
		ok := forms[w]
		for _, c := range fiClitics {
			if base, cut := strings.CutSuffix(w, c); cut && forms[base] {
				ok = true
			}
		}
		if !ok {
			t.Errorf("namewords.txt: %q is no form of a name in firstnames.txt", w)
		}
	}
}

// TestFirstNamesList: the list is about the size promised, and every name is parsed.
func TestFirstNamesList(t *testing.T) {
	names := listLines(firstNamesFile)
	if n := len(names); n < 1000 || n > 1300 {
		t.Errorf("firstnames.txt has %d names, want 1000 to 1300", n)
	}
	fn := builtinNames()
	for _, name := range names {
		if utf8.RuneCountInString(name) < minNameRunes {
			continue
		}
		if f, ok := fn.lookup(name); !ok || f&formBase == 0 {
			t.Errorf("%q: lookup = %v, %v", name, f, ok)
		}
	}
}
