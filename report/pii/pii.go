// Package pii removes personal data from free text before staff see it.
//
// A Scrubber replaces what could identify a person with a bracketed placeholder in the language of
// the text ("[puhelin]", "[telefon]", "[phone]"). It is built once with New and is safe for concurrent
// use. What is caught, in the order the detectors run (an earlier detector wins an overlap):
//
//   - URL: http(s)://, ftp:// and www. addresses; later also bare domains on a list of common top-level
//     domains (example.fi/path, blocket.se, t.me/x). Top-level domains that are also short words
//     (se, no, me, to, it, is, at, de, nu, tv, ai, ...) count only with a path ("t.me/x") or a
//     sub-domain ("a.b.se"), so "kotona.se oli kivaa" is left alone.
//   - Email: local@domain.tld, also obfuscated as "local(at)domain.tld", "[at]", "(a)" and "mailto:".
//   - IBAN: any country in the IBAN registry, with or without single spaces, of the country's exact
//     length and valid mod 97; lower case accepted.
//   - PersonalID: Finnish henkilötunnus DDMMYY[-+A-FU-Y]NNNC with a valid date and mod-31 check
//     character. A code with a wrong check character is not a PersonalID (another detector may still
//     take part of it).
//   - Phone: Finnish forms starting with 0 (040 123 4567, 040-1234567, (09) 123 456, 7 to 11 digits)
//     and international forms starting with + or 00 (+358 (0)40 ..., +46 70 123 45 67, 8 to 15
//     digits). Numbers that start with another digit (116 111, 112, 2026, 15) are never phones.
//   - Handle: @name (Telegram, Instagram, TikTok style), at least two characters, one of them a letter.
//   - Address: Finnish street words ending in -katu, -tie, -kuja, -polku, -väylä, -rinne, -kaari,
//     -tanhua, -piha, -ranta, -aukio, -puistikko, -kierto, -mäki, -raitti, -tori, -bulevardi,
//     -esplanadi, also inflected (Kotikadulla, Kuusitiellä, Rantapolulle), and Swedish -gatan, -vägen,
//     -gränd, -stigen, -allén, -torget, -backen, -kajen (and their short forms), followed by a house
//     number with an optional staircase/flat (12 A 5, 3 B, 12a, as. 4) and an optional postcode and
//     town; English "12 Baker Street", "221B Baker St", "5 Elm Road/Rd/Avenue/Ave/Lane/Way/Drive/...".
//     The street word must be a compound ("Kuusitie", not "tie"). A number followed by a quantity
//     ("kauppatorilla 3 kertaa", "metsäpolulla 2 tuntia", "motorvägen 5 km") or a time/decimal/score
//     ("torilla 12.30", "7/10") is not an address.
//   - Name: each word of three or more letters of the configured names, case-insensitively, with
//     Finnish inflection: the word itself, its weak grade (Mikko -> Miko-, Matti -> Mati-, Satu ->
//     Sadu-, Pekka -> Peka-), -nen surnames (Virtanen -> Virtase-, Virtas-), names ending in a
//     consonant (Kristian -> Kristiani-) or in vowel+s (Markus -> Markukse-), each followed by a case
//     ending of at most four letters (n, a, ta, lla, lle, lta, ssa, sta, ksi, illative on/an/..., spoken
//     l/lt/st, possessives) and an optional clitic (kin, kaan, han, ko, pa, s). So "Mikko" also catches
//     Mikon, Mikolle, Mikkoa, Mikkoon, Mikolt, Mikkokin, Mikko's, Mikkos, but not Mikkonen or miksi.
//     Foreign names take colon endings (Tom:n, Tom:lle). Adjacent name words ("Mikko Virtanen",
//     "Anna-Liisa") become one placeholder. A name that is also an ordinary word (Anna, Satu, Onni,
//     Koivu) is removed wherever that word appears: configure only words that should never be shown.
//   - Name, built in, with nothing configured: about 1,050 common first names of Finland (Finnish and
//     Finland-Swedish), English ones, and those common among young people in Finland whose
//     families speak Arabic, Somali, Kurdish, Persian, Russian, Estonian or Albanian (firstnames.txt), as whole words in any case ("jonna
//     kiusaa"), with their Finnish case forms (Ainolle, Jonnaa, Pekan, Pekalle, Villeä, Tuomaksen,
//     Kristianille, spoken Mikolt, Jonnal), clitics (Pekallekin), the Swedish and English genitive
//     (Ebbas, Jack's) and colon endings (Liam:lle). Names that are also ordinary words, and forms
//     that are (namewords.txt: onni, toivo, satu, helmi, ainoa of Aino, pian of Pia, will, grace,
//     in Swedish text ville, saga), are removed only where the text shows a name: capitalised in
//     the middle of a sentence, after a word for a person ("ohjaaja onni", "min syster saga", "my
//     friend grace"), after a naming word ("nimeltä", "heter", "named", "called", "mun nimi on"),
//     as the bare name in "olen X" / "jag är X" / "I'm X" ending a clause, signing the text off
//     ("terveisin onni", "t. Onni", "mvh Saga", "regards, Will", "-Onni 15v"), before an age
//     ("helmi 16v"), capitalised right before a verb only people do ("Onni kiusaa mua", "Helmi
//     muutti pois"; not "Ilo oli suuri"), or next to another name ("Onni ja Jonna", "Anna-Liisa"). Function words among them (anna, kai, eli, will, hans,
//     inga, per, toivo/usko 'hoped/believed') need a capital or a naming word. Surnames, nicknames
//     and names not on the list are caught only when configured.
//
// Ordinary numbers ("olen 15-vuotias", "3 kertaa viikossa", "klo 18", 2026, "7/10") and words are
// kept. Input that is not valid UTF-8 is repaired (U+FFFD) and text is normalised to NFC before
// matching. Scrub is idempotent: placeholders are never matched again.
package pii

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Kind is a category of personal data.
type Kind int

// Kinds of personal data, in the order Found reports them.
const (
	Email Kind = iota
	Phone
	PersonalID
	IBAN
	URL
	Handle
	Address
	Name
	numKinds
)

// protected marks a placeholder that is already in the text; it is kept and never reported.
const protected Kind = -1

var kindNames = [numKinds]string{"email", "phone", "personal-id", "iban", "url", "handle", "address", "name"}

// String returns a stable lowercase name for metrics and logs.
func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "unknown"
	}
	return kindNames[k]
}

// placeholders is the one table of placeholder words (this package is the exception to the
// locales rule: placeholders must not depend on a translation file being present).
var placeholders = map[string][numKinds]string{
	"fi": {"[sähköposti]", "[puhelin]", "[hetu]", "[tilinumero]", "[linkki]", "[käyttäjä]", "[osoite]", "[nimi]"},
	"sv": {"[e-post]", "[telefon]", "[personnummer]", "[kontonummer]", "[länk]", "[användare]", "[adress]", "[namn]"},
	"en": {"[email]", "[phone]", "[id-code]", "[iban]", "[link]", "[handle]", "[address]", "[name]"},
}

// defaultLang is used for a language that has no placeholder table.
const defaultLang = "fi"

// isPlaceholder holds every placeholder of every language, so that scrubbed text is never scrubbed again.
var isPlaceholder = func() map[string]bool {
	m := make(map[string]bool)
	for _, row := range placeholders {
		for _, p := range row {
			m[p] = true
		}
	}
	return m
}()

// maxPlaceholderLen bounds the search for a closing bracket.
var maxPlaceholderLen = func() int {
	n := 0
	for p := range isPlaceholder {
		n = max(n, len(p))
	}
	return n
}()

// maxPasses bounds re-scanning: a pass can only reveal something new when a replacement changed the
// context of a neighbour, which takes one more pass at most in practice.
const maxPasses = 4

// Scrubber removes personal data from text. The zero value catches everything except configured
// names (built-in first names included). It is safe for concurrent use.
type Scrubber struct {
	finders []finder // baseFinders, then names
}

// New returns a Scrubber that also removes the given names (staff, units, people), besides the
// built-in first names. Each word of three or more letters in an entry is matched on its own,
// case-insensitively, with Finnish inflection, wherever it appears; see the package documentation
// for what is caught.
func New(names []string) *Scrubber {
	nf := nameFinder{conf: newNameMatcher(names), fn: builtinNames()}
	return &Scrubber{finders: append(slices.Clip(baseFinders), finder{kind: Name, findIn: nf.find})}
}

// defaultFinders are the zero Scrubber's: the base finders and the built-in first names.
var defaultFinders = append(slices.Clip(baseFinders), finder{kind: Name, findIn: func(lang, text string, a, b int) []span {
	return nameFinder{fn: builtinNames()}.find(lang, text, a, b)
}})

// Scrub returns text with personal data replaced by placeholders in lang ("fi", "sv" or "en"; a
// region such as "sv-FI" is accepted; anything else gets Finnish placeholders). The result is valid
// UTF-8 in NFC, and Scrub(lang, Scrub(lang, x)) == Scrub(lang, x).
func (s *Scrubber) Scrub(lang, text string) string {
	out, _ := s.run(lang, text)
	return out
}

// Found reports which kinds of personal data Scrub(lang, text) removes, in Kind order, without
// their values.
func (s *Scrubber) Found(lang, text string) []Kind {
	_, seen := s.run(lang, text)
	var kinds []Kind
	for k, ok := range seen {
		if ok {
			kinds = append(kinds, Kind(k))
		}
	}
	return kinds
}

// baseLang returns the language of lang ("sv" of "sv-FI"), or defaultLang when it has no placeholders.
func baseLang(lang string) string {
	lang = strings.ToLower(lang)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	if _, ok := placeholders[lang]; !ok {
		return defaultLang
	}
	return lang
}

func (s *Scrubber) run(lang, text string) (string, [numKinds]bool) {
	lang = baseLang(lang)
	row := placeholders[lang]
	var seen [numKinds]bool
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	text = norm.NFC.String(text)
	for range maxPasses {
		spans := s.detect(lang, text)
		found, onlyNames := false, true
		for _, sp := range spans {
			if sp.kind != protected {
				seen[sp.kind] = true
				found = true
				onlyNames = onlyNames && sp.kind == Name && isolated(text, sp)
			}
		}
		if !found {
			break
		}
		text = replace(text, spans, &row)
		if onlyNames {
			// Names run last, on what the others left, and decide in one pass: replacing names
			// that stand between spaces and punctuation reveals nothing new, so the pass that
			// would show it is saved. (A name touching a digit or a symbol may: "Kotikatu 1Aki".)
			break
		}
	}
	return text, seen
}

// isolated reports whether sp stands between spaces, punctuation or the ends of text.
func isolated(text string, sp span) bool {
	safe := func(r rune) bool {
		return r < 0 || unicode.IsSpace(r) || strings.ContainsRune(",.!?;:()\"'’“”«»…-–—", r)
	}
	return safe(before(text, sp.start)) && safe(at(text, sp.end))
}

// span is a half-open byte range [start, end) of the text.
type span struct {
	start, end int
	kind       Kind
}

// finder returns the spans of one kind in seg, a stretch of text no earlier detector claimed.
// Offsets are relative to seg; the edges of seg count as word boundaries.
type finder struct {
	kind Kind
	// need is a cheap test on the whole text; the finder is skipped when it fails.
	need func(text string) bool
	find func(seg string) []span
	// findIn, when set, is used instead of find: it gets the language, the whole text and the
	// segment text[start:end], and returns absolute offsets within the segment.
	findIn func(lang, text string, start, end int) []span
}

func (s *Scrubber) detect(lang, text string) []span {
	claimed := protectedSpans(text)
	fs := defaultFinders
	if s != nil && s.finders != nil {
		fs = s.finders
	}
	for _, f := range fs {
		if f.need != nil && !f.need(text) {
			continue
		}
		var added []span
		prev := 0
		for i := 0; i <= len(claimed); i++ {
			end := len(text)
			if i < len(claimed) {
				end = claimed[i].start
			}
			switch {
			case end <= prev:
			case f.findIn != nil:
				for _, sp := range f.findIn(lang, text, prev, end) {
					added = append(added, span{sp.start, sp.end, f.kind})
				}
			default:
				for _, sp := range f.find(text[prev:end]) {
					added = append(added, span{sp.start + prev, sp.end + prev, f.kind})
				}
			}
			if i < len(claimed) {
				prev = claimed[i].end
			}
		}
		if len(added) > 0 {
			claimed = append(claimed, added...)
			slices.SortFunc(claimed, func(a, b span) int { return a.start - b.start })
		}
	}
	return claimed
}

// protectedSpans finds the placeholders already in text.
func protectedSpans(text string) []span {
	var out []span
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], '[')
		if j < 0 {
			break
		}
		start := i + j
		limit := min(len(text), start+maxPlaceholderLen)
		k := strings.IndexByte(text[start+1:limit], ']')
		if k >= 0 && isPlaceholder[text[start:start+1+k+1]] {
			end := start + 1 + k + 1
			out = append(out, span{start, end, protected})
			i = end
			continue
		}
		i = start + 1
	}
	return out
}

func replace(text string, spans []span, row *[numKinds]string) string {
	var b strings.Builder
	b.Grow(len(text))
	prev := 0
	for _, sp := range spans {
		if sp.kind == protected {
			continue
		}
		b.WriteString(text[prev:sp.start])
		b.WriteString(row[sp.kind])
		prev = sp.end
	}
	b.WriteString(text[prev:])
	return b.String()
}
