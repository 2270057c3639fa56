package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// nameFinder finds configured names and built-in first names in one pass, so that adjacent names of
// either kind ("Aino Virtanen", "Anna-Liisa") become one span.
type nameFinder struct {
	conf nameMatcher
	fn   *firstNames
}

// Token states.
const (
	notName   = iota
	isName    // a configured name, a built-in name that is no ordinary word, or one the context shows
	candidate // a built-in name that is also an ordinary word, its context not (yet) telling
	byNeighbour
)

type nameToken struct {
	start, end int // the word
	stop       int // where a match ends: past "Tom:lle", "Mikko's"
	flags      formFlags
	state      uint8
}

// maxCliticBytes is the longest clitic a built-in name form may carry ("kään").
const maxCliticBytes = len("kään")

// find returns the names in text[a:b] of a text in lang; offsets are absolute. The text before the
// segment is read only to tell whether a word starts a sentence.
func (f nameFinder) find(lang, text string, a, b int) []span {
	seg := text[:b]
	var arr [64]nameToken
	toks := arr[:0]
	var buf [64]byte
	names := 0
	for i := a; i < b; {
		r, n := utf8.DecodeRuneInString(seg[i:])
		if !isLetter(r) {
			i += n
			continue
		}
		j := i + n
		for j < b {
			r2, n2 := utf8.DecodeRuneInString(seg[j:])
			if !isLetter(r2) {
				break
			}
			j += n2
		}
		t := nameToken{start: i, end: j}
		if end, ok := f.conf.match(seg, i, j); ok {
			t.stop, t.state = end, isName
		} else if f.fn != nil && j-i <= f.fn.maxBytes+maxCliticBytes && j-i >= minNameRunes {
			if lower, ok := lowerInto(buf[:], seg[i:j]); ok {
				if fl, ok := f.fn.lookup(string(lower)); ok {
					fl = fl.flagsIn(lang)
					t.flags, t.stop, t.state = fl, nameEnd(seg, j), isName
					if fl&(formWord|formFunction) != 0 {
						t.state = candidate
					}
				}
			}
		}
		if t.state != notName {
			names++
		}
		toks = append(toks, t)
		i = j
	}
	if names == 0 {
		return nil
	}
	for k := range toks {
		if toks[k].state == candidate && nameByContext(text, seg, toks, k) {
			toks[k].state = isName
		}
	}
	// "Onni, Helmi ja Jonna": to a fixed point, sweeping forwards and backwards in turn so that a
	// chain takes two sweeps whichever end its name is at.
	for sweep, changed := 0, true; changed; sweep++ {
		changed = false
		for i := range toks {
			k := i
			if sweep%2 == 1 {
				k = len(toks) - 1 - i
			}
			if toks[k].state == candidate && nameByNeighbour(seg, toks, k) {
				toks[k].state, changed = byNeighbour, true
			}
		}
	}
	var out []span
	for _, t := range toks {
		if t.state != isName && t.state != byNeighbour {
			continue
		}
		k := len(out) - 1
		switch {
		case k >= 0 && t.start < out[k].end: // inside "Tom:lle"
		case k >= 0 && joinable(seg[out[k].end:t.start]):
			out[k].end = t.stop
		default:
			out = append(out, span{start: t.start, end: t.stop})
		}
	}
	return out
}

func joinable(gap string) bool {
	return gap == " " || gap == "-" || gap == "\u00a0"
}

// nameByContext reports whether the text shows that candidate toks[k], a name that is also an
// ordinary word, is a name here:
//
//   - capitalised (Onni, not ONNI) and not at the start of a sentence: "ja Onni sano";
//   - after a naming word, in any case: "nimeltä onni", "jag heter saga", "a girl called hope";
//   - unless it is also a function word (anna, kai, will, hans): after a word for a person, in any
//     case: "ohjaaja onni", "mun kaveri helmi", "min syster saga", "my friend grace";
//   - unless it is also a function word: the name itself after "olen", "oon", "jag är", "I'm",
//     "I am", with nothing but the end of the clause after it: "olen onni, 15v", "I'm grace and";
//   - signing the text off, in any case: after a sign-off word ("terveisin onni", "t. Onni", "mvh
//     Saga", "regards, Will") or a dash or slash opening a line or following punctuation ("-Onni",
//     "- Grace", "Ring mig, /Elsa"), with nothing but an age and punctuation after it on its line;
//   - followed by an age: "Onni 15v", "helmi 16 vuotta" (a function word only capitalised: "Kai
//     15v"), or capitalised with a bare age of 11 to 29 ending the line: "Onni, 15";
//   - capitalised, uninflected and right before a verb that only people do ("Onni kiusaa mua",
//     "Helmi muutti pois", "Grace said"): the word at the start of a sentence ("Onni on sitä et",
//     "Ilo oli suuri", "Lumi sataa") stays. Kai, Eli and Inga are left out: "Kai sano et" is
//     'probably said that', "Inga sa något" 'nobody said anything'.
func nameByContext(text, seg string, toks []nameToken, k int) bool {
	t := toks[k]
	word := seg[t.start:t.end]
	title := isTitle(word)
	if title && !sentenceStart(text, t.start) {
		return true
	}
	if namingCue(seg, toks, k) || signOff(text, seg, toks, k) {
		return true
	}
	if title && t.stop == t.end && t.flags&formBase != 0 && subjectVerbFollows(seg, toks, k) {
		return true
	}
	if end, unit := ageAfter(seg, t.stop); end > t.stop {
		if unit && (title || t.flags&formFunction == 0) {
			return true
		}
		if !unit && title && lineEnds(seg, end) {
			return true
		}
	}
	if t.flags&formFunction != 0 {
		return false
	}
	if personCues[prevWord(seg, toks, k, true)] {
		return true
	}
	return t.flags&formBase != 0 && t.stop == t.end && introCue(seg, toks, k) && clauseEnds(text, seg, toks, k)
}

// nameByNeighbour reports whether candidate toks[k] is joined to a name by a hyphen ("Anna-Liisa",
// "veli-matti"), stands capitalised right before or after one ("Helmi Virtanen"), or is coordinated
// with one ("Onni ja Jonna", "Jonna, onni", "Saga och Elsa"; lowercase only if no function word).
func nameByNeighbour(seg string, toks []nameToken, k int) bool {
	t := toks[k]
	title := isTitle(seg[t.start:t.end])
	named := func(i int) bool {
		return i >= 0 && i < len(toks) && (toks[i].state == isName || toks[i].state == byNeighbour)
	}
	for _, i := range []int{k - 1, k + 1} {
		if !named(i) {
			continue
		}
		a, b := toks[min(i, k)], toks[max(i, k)]
		if a.stop > b.start {
			continue
		}
		switch gap := seg[a.stop:b.start]; {
		case gap == "-":
			return true
		case joinable(gap) && title:
			return true
		case (gap == ", " || gap == " & " || gap == "&") && (title || t.flags&formFunction == 0):
			return true
		}
	}
	if title || t.flags&formFunction == 0 {
		for _, i := range []int{k - 2, k + 2} {
			if !named(i) {
				continue
			}
			a, c, b := toks[min(i, k)], toks[(i+k)/2], toks[max(i, k)]
			if a.stop <= c.start && joinable(seg[a.stop:c.start]) && joinable(seg[c.end:b.start]) &&
				conjunctions[strings.ToLower(seg[c.start:c.end])] {
				return true
			}
		}
	}
	return false
}

var conjunctions = map[string]bool{"ja": true, "sekä": true, "tai": true, "och": true, "eller": true, "and": true, "or": true}

// isTitle reports whether word is capitalised: an upper-case letter and then a lower-case one.
func isTitle(word string) bool {
	r, n := utf8.DecodeRuneInString(word)
	if !unicode.IsUpper(r) {
		return false
	}
	r2, _ := utf8.DecodeRuneInString(word[n:])
	return unicode.IsLower(r2)
}

// sentenceStart reports whether a word at i starts a sentence: the text before it, past spaces,
// quotes, dashes and brackets, is empty or ends a sentence (. ! ? … : ; a line break or an emoji).
func sentenceStart(text string, i int) bool {
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(text[:i])
		switch {
		case r == '\n' || r == '\r':
			return true
		case unicode.IsSpace(r) || strings.ContainsRune("\"'“”‘’«»([{-–—*•>\u200d\ufe0f", r) || unicode.Is(unicode.Mn, r):
			i -= n
			continue
		case strings.ContainsRune(".!?…:;", r), unicode.Is(unicode.So, r), unicode.Is(unicode.Sk, r) && r > 0x7f,
			r >= 0x1f000: // emoji, including the ones that are not So (skin tones)
			return true
		}
		return false
	}
	return true
}

// prevWord returns the lowercase word before toks[k] when only spaces (and, if abbrev, a full stop
// as in "Mr. ", "Dr. ") stand between them.
func prevWord(seg string, toks []nameToken, k int, abbrev bool) string {
	if k == 0 {
		return ""
	}
	p := toks[k-1]
	gap := seg[p.end:toks[k].start]
	if !joinable(gap) && (!abbrev || gap != ". ") {
		return ""
	}
	w := strings.ToLower(seg[p.start:p.end])
	if gap == ". " && !titleAbbrevs[w] {
		return ""
	}
	return w
}

// prevWords returns the two lowercase words before toks[k] ("nimi on", "jag är"), with the gap
// between them, when only spaces stand between the second and toks[k].
func prevWords(seg string, toks []nameToken, k int) (string, string, string) {
	w2 := prevWord(seg, toks, k, false)
	if w2 == "" || k < 2 {
		return "", "", w2
	}
	a, b := toks[k-2], toks[k-1]
	return strings.ToLower(seg[a.start:a.end]), seg[a.end:b.start], w2
}

func namingCue(seg string, toks []nameToken, k int) bool {
	w1, gap, w2 := prevWords(seg, toks, k)
	if namingWords[w2] {
		return true
	}
	if !joinable(gap) && !(w2 == "s" && (gap == "'" || gap == "’")) {
		return false
	}
	switch w2 {
	case "on", "oli": // mun nimi on, nimeni on
		return fiNameNouns[w1]
	case "är", "var": // mitt namn är
		return w1 == "namn" || w1 == "namnet"
	case "is", "was", "s": // my name is, name's
		return w1 == "name"
	}
	return false
}

func introCue(seg string, toks []nameToken, k int) bool {
	w1, gap, w2 := prevWords(seg, toks, k)
	switch w2 {
	case "olen", "oon", "im":
		return true
	case "m": // I'm
		return w1 == "i" && (gap == "'" || gap == "’")
	case "am":
		return w1 == "i" && joinable(gap)
	case "är":
		return w1 == "jag" && joinable(gap)
	}
	return false
}

// clauseEnds reports whether toks[k] ends its clause: nothing, punctuation, an emoji or a
// conjunction follows ("olen Aino, huone 4", "I'm Grace and ...", not "olen kai väsynyt").
func clauseEnds(text, seg string, toks []nameToken, k int) bool {
	i := toks[k].end
	for i < len(seg) {
		r, n := utf8.DecodeRuneInString(seg[i:])
		if !unicode.IsSpace(r) || r == '\n' {
			break
		}
		i += n
	}
	if i >= len(seg) {
		// The end of the text; the end of a segment is something another finder took, and
		// will be a placeholder: like a name after this one, it does not end the clause.
		return i == len(text)
	}
	r, _ := utf8.DecodeRuneInString(seg[i:])
	if !isWord(r) {
		return r != '-' && r != '\'' && r != '’' && r != '['
	}
	if k+1 < len(toks) && toks[k+1].start == i {
		w := strings.ToLower(seg[i:toks[k+1].end])
		return conjunctions[w] || clauseWords[w]
	}
	return false
}

var clauseWords = map[string]bool{
	"mut": true, "mutta": true, "ni": true, "nii": true, "enkä": true, "men": true, "but": true,
	"from": true, "here": true, "här": true, "från": true, "täältä": true, "täält": true,
}

// namingWords come right before a name in any language: "nimeltä Onni", "jag heter Saga", "named Hope".
var namingWords = map[string]bool{
	"nimeltä": true, "nimeltään": true, "nimeltäni": true, "nimeltänsä": true,
	"heter": true, "hette": true, "kallas": true, "kallad": true, "kallades": true,
	"named": true, "called": true, "nicknamed": true,
}

var fiNameNouns = map[string]bool{"nimi": true, "nimeni": true, "nimes": true, "nimesi": true, "nimee": true, "nimensä": true}

var titleAbbrevs = map[string]bool{"mr": true, "mrs": true, "ms": true, "dr": true, "miss": true}

// personCues are words for people that a name often follows: "ohjaaja Toivo", "min bror Stig",
// "my sister Grace" (Finnish ones also with a possessive suffix: "siskoni Helmi").
var personCues = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`ohjaaja omaohjaaja hoitaja omahoitaja kaveri kamu frendi ystävä poikaystävä
		tyttöystävä poikkis tyttis isä iskä isi faija äiti äiskä äitee mutsi sisko pikkusisko isosisko sisar veli
		pikkuveli isoveli broidi velipoika opettaja ope rehtori sossu sosiaalityöntekijä työntekijä lääkäri
		terapeutti psykologi kuraattori mummo mummi mumma ukki pappa vaari täti eno setä serkku naapuri
		luokkakaveri huonekaveri`) {
		m[w] = true
		for _, p := range []string{"ni", "si", "mme", "nne"} {
			m[w+p] = true
		}
	}
	for _, w := range strings.Fields(`kompis kompisen vän vännen pojkvän flickvän mamma mamman mor far mormor
		morfar farmor farfar pappan syster systern lillasyster storasyster bror brorsan lillebror storebror
		syrran lärare läraren handledare handledaren kurator kuratorn socialarbetare socialsekreterare moster
		faster morbror farbror kusin granne
		friend mate bestie bf gf boyfriend girlfriend mum mom mother mummy mommy dad daddy father sister sis
		brother bro teacher worker carer keyworker counsellor counselor therapist nurse doctor nan nana gran
		granny grandma grandpa grandad aunt auntie uncle cousin neighbour neighbor mr mrs ms miss dr`) {
		m[w] = true
	}
	return m
}()

// signOff reports whether toks[k] signs the text off: after a sign-off word ("terveisin onni", "t.
// Onni", "hälsn. Ebba", "regards, Will"; the short or everyday ones, such as t, best and love, only
// opening a sentence) or after a dash or slash that opens a line or follows punctuation ("-Onni",
// "- Grace", "Ring mig, /Elsa"), and ending its line but for an age and punctuation ("-Onni 15v").
func signOff(text, seg string, toks []nameToken, k int) bool {
	t := toks[k]
	if !lineEnds(seg, ageEnd(seg, t.stop)) {
		return false
	}
	j := t.start
	for j > 0 && (seg[j-1] == ' ' || seg[j-1] == '\t' || seg[j-1] == '\n' || seg[j-1] == '\r') {
		j--
	}
	r, n := utf8.DecodeLastRuneInString(seg[:j])
	switch r {
	case '-', '–', '—', '/':
		return afterBreak(seg, j-n) && !listItem(seg, j-n)
	case '.', ',', ':':
		j -= n
	default:
		if j == t.start {
			return false
		}
	}
	if k == 0 || toks[k-1].end != j {
		return false
	}
	p := toks[k-1]
	anywhere, ok := signOffWords[strings.ToLower(seg[p.start:p.end])]
	return ok && (anywhere || sentenceStart(text, p.start))
}

// signOffWords close a message before the writer's name; true: anywhere, false: only opening a
// sentence (t., best, love, from are too common otherwise).
var signOffWords = map[string]bool{
	"terveisin": true, "terkuin": true, "terv": true, "mvh": true, "hälsningar": true, "hälsn": true,
	"regards": true, "sincerely": true,
	"t": false, "tv": false, "terveiset": false, "hälsning": false, "best": false, "cheers": false,
	"from": false, "love": false, "thanks": false, "kiitos": false, "tack": false,
}

// listItem reports whether the dash at i opens an item of an introduced list: the lines from it up to
// a line ending in ":" all open with a dash or bullet ("Mitä toivon:\n- rauha\n- ilo\n- onni" is a wish
// list, not three signatures). Dashed lines after anything else ("Terveisin\n- onni\n- helmi") still
// sign off: a lost word, never a kept name.
func listItem(seg string, i int) bool {
	start := strings.LastIndexByte(seg[:i], '\n') + 1
	if strings.TrimSpace(seg[start:i]) != "" {
		return false // the dash does not open its line
	}
	for start > 0 {
		prev := strings.TrimRight(seg[:start-1], "\r")
		lineStart := strings.LastIndexByte(prev, '\n') + 1
		line := strings.TrimSpace(prev[lineStart:])
		switch {
		case strings.HasSuffix(line, ":"):
			return true
		case !bulleted(line):
			return false
		}
		start = lineStart
	}
	return false
}

// bulleted reports whether a line opens with a dash or a bullet.
func bulleted(line string) bool {
	for _, b := range []string{"-", "–", "—", "•", "* "} {
		if strings.HasPrefix(line, b) {
			return true
		}
	}
	return false
}

// afterBreak reports whether the text before i, past spaces, is empty or ends in a line break,
// punctuation or an emoji: where a signing dash or slash stands ("-Onni", "kiitos! - Helmi",
// "Ring mig, /Elsa"), not inside a phrase ("ruoka - onni").
func afterBreak(seg string, i int) bool {
	for i > 0 && (seg[i-1] == ' ' || seg[i-1] == '\t') {
		i--
	}
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(seg[:i])
	return strings.ContainsRune("\n\r.,!?…;:)", r) || unicode.Is(unicode.So, r) || r >= 0x1f000
}

// lineEnds reports whether nothing but spaces, punctuation and emoji stand between i and the end
// of the line or of the segment (where another finder's placeholder follows: "terveisin onni
// 040...").
func lineEnds(seg string, i int) bool {
	for i < len(seg) {
		r, n := utf8.DecodeRuneInString(seg[i:])
		switch {
		case r == '\n' || r == '\r':
			return true
		case r == ' ' || r == '\t' || strings.ContainsRune(".,!?…;:)*~", r) || unicode.Is(unicode.So, r) ||
			unicode.Is(unicode.Sk, r) || unicode.Is(unicode.Mn, r) || r == '\u200d' || r >= 0x1f000:
			i += n
		default:
			return false
		}
	}
	return true
}

// ageEnd returns where an age after a name ends ("Onni 15v", "Grace, 15", "Ebba (14 år)"), or i.
func ageEnd(seg string, i int) int {
	end, _ := ageAfter(seg, i)
	return end
}

// ageAfter reads an age at i: an optional comma and spaces, an optional bracket, one or two digits
// and a unit (v, vee, vuotta, vuotias, år, yo, y/o, years), or no unit (then unit is false). It
// returns where the age ends, or i when there is none.
func ageAfter(seg string, i int) (end int, unit bool) {
	j := i
	if j < len(seg) && seg[j] == ',' {
		j++
	}
	for j < len(seg) && seg[j] == ' ' {
		j++
	}
	if j == i { // "Onni15"
		return i, false
	}
	paren := j < len(seg) && seg[j] == '('
	if paren {
		j++
	}
	d := j
	for j < len(seg) && j-d < 3 && seg[j] >= '0' && seg[j] <= '9' {
		j++
	}
	if j == d || j-d > 2 || (j < len(seg) && seg[j] >= '0' && seg[j] <= '9') {
		return i, false
	}
	age := int(seg[d] - '0')
	if j-d == 2 {
		age = age*10 + int(seg[d+1]-'0')
	}
	num := j
	u := j
	if u < len(seg) && (seg[u] == ' ' || seg[u] == '-') {
		u++
	}
	w := u
	for w < len(seg) {
		r, n := utf8.DecodeRuneInString(seg[w:])
		if !isLetter(r) && r != '/' {
			break
		}
		w += n
	}
	if ageUnits[strings.ToLower(seg[u:w])] {
		j, unit = w, true
		if j < len(seg) && seg[j] == '.' {
			j++
		}
	} else {
		// a bare number: no fraction, score or unit after it ("arvo 8/10", "lumi 20cm")
		if num < len(seg) && strings.ContainsRune("/.,:%-", rune(seg[num])) && num+1 < len(seg) && seg[num+1] != ' ' && seg[num+1] != '\n' {
			return i, false
		}
		if age < 11 || age > 29 || (w > u && u == num) {
			return i, false
		}
		j = num
	}
	if paren {
		if j >= len(seg) || seg[j] != ')' {
			return i, false
		}
		j++
	}
	return j, unit
}

var ageUnits = map[string]bool{
	"v": true, "vee": true, "vuotta": true, "vuotias": true, "vuotiaana": true, "år": true, "åring": true,
	"yo": true, "y/o": true, "y": true, "years": true, "yrs": true,
}

// subjectVerbFollows reports whether the word after toks[k], past one space, is a verb that only
// people do, in the third person: "Onni kiusaa", "Helmi muutti", "Saga sa", "Grace said".
func subjectVerbFollows(seg string, toks []nameToken, k int) bool {
	t := toks[k]
	if k+1 >= len(toks) || seg[t.end:toks[k+1].start] != " " || notSubjects[strings.ToLower(seg[t.start:t.end])] {
		return false
	}
	n := toks[k+1]
	return subjectVerbs[strings.ToLower(seg[n.start:n.end])]
}

// notSubjects are function words that start sentences before such verbs: "Kai sano et" 'probably
// said that', "Eli sano" 'so (he) said', "Inga sa något" 'nobody said anything'.
var notSubjects = map[string]bool{"kai": true, "eli": true, "inga": true}

// subjectVerbs are verbs, third person singular, that people do and that the things the name-words
// mean (luck, joy, snow, wind, hope, a fairy tale) do not: kept short so that "Satu kertoo" (a
// fairy tale tells), "Tuuli puhaltaa", "Onni on" and "Hope lies" are not among them.
var subjectVerbs = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`kiusaa kiusas kiusasi kiusaili kiusailee haukkuu haukku haukkui haukkus
		lyö löi potkii potki potkas potkasi potkaisi tönii tönäs tönäsi tönäisi hakkaa hakkas hakkasi
		uhkailee uhkaili uhkas uhkasi huutaa huus huusi huutelee huuteli sanoo sano sanoi sanos kysyy kysy
		kysyi kysys puhuu puhu puhui nauraa nauro nauroi pilkkaa pilkkas pilkkasi itkee itki soittaa
		soitti varastaa varasti valehtelee valehteli muutti kiroilee kiroili lupas lupasi ahdistelee
		ahdisteli tykkää tykkäs tykkäsi
		sa sade säger slog slår sparkade sparkar mobbar mobbade skrek skriker ringde ringer flyttade
		ljög ljuger stal knuffade knuffar hotade hotar retar retade skrattade skrattar grät gråter
		said says told tells hit hits kicked kicks punched punches pushed pushes bullies bullied yelled
		yells shouted shouts screamed laughed laughs lied stole texted called calls threatened cried`) {
		m[w] = true
	}
	return m
}()
