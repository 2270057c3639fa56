package pii

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// firstNamesFile is the built-in list of first names; see its header.
//
//go:embed firstnames.txt
var firstNamesFile string

// nameWordsFile lists the names and name forms that are also ordinary words; see its header.
//
//go:embed namewords.txt
var nameWordsFile string

// formFlags describe a lowercase word that is a form of a built-in first name.
type formFlags uint8

const (
	// formBase: the name itself, uninflected ("aino", not "ainolle"); "olen X" needs it.
	formBase formFlags = 1 << iota
	// formWord: also an ordinary word ("onni", "ainoa", "grace"): removed only where the text shows a name.
	formWord
	// formFunction: also a common function word ("anna" give, "kai" probably, "will", "hans" his):
	// lowercase only after a naming word ("nimeltä", "named", "heter").
	formFunction
	// formWordSv: an ordinary word in Swedish text only ("ville" wanted); a name in Finnish or English.
	formWordSv
)

// flagsIn returns f as it counts in text of lang ("fi", "sv", "en").
func (f formFlags) flagsIn(lang string) formFlags {
	if f&formWordSv != 0 && lang == "sv" {
		f |= formWord
	}
	return f
}

// firstNames is the parsed built-in list: every lowercase form of every name.
type firstNames struct {
	forms    map[string]formFlags
	maxBytes int // the longest form
}

// builtinNames is parsed on first use and shared by every Scrubber.
var builtinNames = sync.OnceValue(func() *firstNames { return parseFirstNames(firstNamesFile, nameWordsFile) })

// listLines returns the entries of an embedded list: lowercase NFC, comments and blank lines left out.
func listLines(file string) []string {
	var out []string
	for line := range strings.Lines(file) {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, strings.ToLower(norm.NFC.String(line)))
		}
	}
	return out
}

func parseFirstNames(namesFile, wordsFile string) *firstNames {
	fn := &firstNames{forms: make(map[string]formFlags, 40000)}
	add := func(form string, f formFlags) {
		fn.forms[form] |= f
		fn.maxBytes = max(fn.maxBytes, len(form))
	}
	words := map[string]formFlags{}
	for _, line := range listLines(wordsFile) {
		switch f := strings.Fields(line); {
		case len(f) == 2 && f[1] == "sv":
			words[f[0]] = formWordSv
		case len(f) == 1 && strings.HasPrefix(f[0], "!"):
			words[f[0][1:]] = formFunction
		case len(f) == 1:
			words[f[0]] = formWord
		default:
			panic("pii: namewords.txt: bad line " + strconv.Quote(line))
		}
	}
	var parts []string
	isName := map[string]bool{}
	for _, name := range listLines(namesFile) {
		for _, part := range strings.FieldsFunc(name, func(r rune) bool { return !isLetter(r) }) {
			if utf8.RuneCountInString(part) >= minNameRunes {
				parts = append(parts, part)
				isName[part] = true
			}
		}
	}
	for _, part := range parts {
		// A name that is a word is a word in every form ("toivon", "onnea"), except the forms that
		// are names and no words themselves (Eli's essive "elina" is Elina); a form that is a word
		// ("ainoa" of Aino) is a word on its own.
		whole := words[part]
		for _, form := range firstNameForms(part) {
			if isName[form] {
				add(form, words[form])
			} else {
				add(form, whole|words[form])
			}
		}
		add(part, formBase)
	}
	// A listed word that is no form of a name is a form with a clitic ("jonkin": Jon + kin); listing
	// it keeps lookup from taking it for the name.
	for w, f := range words {
		if _, ok := fn.forms[w]; !ok {
			add(w, f|formWord)
		}
	}
	return fn
}

// Finnish case endings, written with back vowels; front-vowel names get ä for a.
var (
	// fiStrongEndings follow the strong grade of a name that ends in a vowel (Pekka: Pekkaa, Pekkana).
	// The illative (Pekkaan, Mikkoon) and the spoken long vowel are added per name.
	fiStrongEndings = []string{"", "a", "na", "ni", "si", "nsa", "mme", "ine"}
	// fiWeakEndings follow the weak grade (Pekan, Pekalle, spoken Pekal, Pekalt, Pekast, Pekaks).
	fiWeakEndings = []string{"n", "lla", "lle", "lta", "ssa", "sta", "ksi", "ks", "t", "l", "lt", "st", "ll", "lleen"}
)

// firstNameForms returns the lowercase forms of a lowercase name word: the word, its Swedish/English
// genitive and its Finnish case forms (see fiForms).
func firstNameForms(w string) []string {
	forms := fiForms(w)
	if !strings.ContainsRune("sxz", lastRune(w)) {
		forms = append(forms, w+"s") // sv/en genitive, also the Finnish "Mikkos"
	}
	return forms
}

// fiForms inflects a name word the way Finnish inflects first names:
//
//   - a final vowel: strong grade for the partitive, essive and illative (Pekkaa, Pekkana, Pekkaan),
//     weak grade for the other cases (Pekan, Pekalle); the only consonant gradation in first names is
//     kk/pp/tt (Mikko: Mikon, Teppo: Tepon, Matti: Matin); Inka, Arto, Unto keep their consonants;
//   - a short vowel + s (Markus, Tuomas, Elias): Markuksen, Markukselle, Markusta;
//   - any other final consonant (Kristian, Emil, Nils, Klaus): Kristianin, Kristiania, Kristianiin.
func fiForms(w string) []string {
	back := strings.ContainsAny(w, "aou")
	harmony := func(e string) string {
		if back {
			return e
		}
		return strings.NewReplacer("a", "ä", "o", "ö", "u", "y").Replace(e)
	}
	var forms []string
	withEndings := func(stem string, endings []string) {
		for _, e := range endings {
			forms = append(forms, stem+harmony(e))
		}
	}
	last, n := utf8.DecodeLastRuneInString(w)
	body := w[:len(w)-n]
	switch {
	case strings.ContainsRune(vowels, last):
		weak := w
		for _, g := range []string{"kk", "pp", "tt"} {
			if strings.HasSuffix(body, g) {
				weak = body[:len(body)-1] + string(last)
				break
			}
		}
		withEndings(w, fiStrongEndings)
		withEndings(weak, fiWeakEndings)
		if weak != w {
			withEndings(w, fiWeakEndings) // "Pekkalle", written by some
		}
		v := string(last)
		forms = append(forms, w+v, w+v+"n") // spoken partitive Mikkoo, illative Pekkaan
		if strings.ContainsRune(vowels, lastRune(body)) {
			// Leo, Mia, Sofia: Leoon, Miaan, and also Leohon, Miahan.
			forms = append(forms, w+"h"+v+"n")
		}
	default:
		if last == 's' && strings.ContainsRune(vowels, lastRune(body)) && !hasDiphthongEnd(body) {
			// Markus, Tuomas, Elias: Markuksen, Markukseen, Markusta. (Also the forms below, for the
			// English James, Charles: Jamesin.)
			kse := body + "kse"
			withEndings(kse, fiWeakEndings)
			withEndings(kse, []string{"en", "na", "e"}) // Markukseen, Markuksena, spoken Markuksee
			withEndings(w, []string{"ta"})
		}
		i := w + "i"
		withEndings(i, fiWeakEndings)
		withEndings(i, []string{"a", "in", "na", "i"}) // Kristiania, Kristianiin, Kristianina, spoken Kristianii
		forms = append(forms, w)
	}
	return forms
}

// hasDiphthongEnd reports whether s ends in a diphthong that a final s follows as a consonant (Klaus:
// Klausin, not Klauksen).
func hasDiphthongEnd(s string) bool {
	for _, d := range []string{"au", "eu", "ou", "ai", "ei", "oi", "ui"} {
		if strings.HasSuffix(s, d) {
			return true
		}
	}
	return false
}

// fiClitics may follow any form: "Pekallekin", "Ainohan", "Jonnako", spoken "Mikolleki".
var fiClitics = []string{"kin", "ki", "kaan", "kään", "han", "hän", "ko", "kö", "pa", "pä"}

// lookup returns the flags of a lowercase word that is a form of a listed name, with or without a clitic.
func (fn *firstNames) lookup(lower string) (formFlags, bool) {
	if f, ok := fn.forms[lower]; ok {
		return f, true
	}
	for _, c := range fiClitics {
		if base, ok := strings.CutSuffix(lower, c); ok && len(base) >= minNameRunes {
			if f, ok := fn.forms[base]; ok {
				return f, true
			}
		}
	}
	return 0, false
}

// lowerInto lowercases word into buf, returning false when it does not fit.
func lowerInto(buf []byte, word string) ([]byte, bool) {
	buf = buf[:0]
	for _, r := range word {
		r = unicode.ToLower(r)
		if len(buf)+utf8.RuneLen(r) > cap(buf) {
			return nil, false
		}
		buf = utf8.AppendRune(buf, r)
	}
	return buf, true
}
