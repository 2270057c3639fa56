package coding

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxWords is the most words a phrase of the rules may have.
const maxWords = 8

// maxGap is how many other words may stand between two neighbouring words of a phrase; farGap is the
// limit where the rule writes "..." between them ("miks ... aina": anywhere later in the sentence).
const (
	maxGap = 2
	farGap = 8
)

// token is one word (or emoji) of a message, normalised.
type token struct {
	text     string // lower case, accents other than å ä ö removed, apostrophes dropped
	alt      string // text with every run of 3+ equal letters squeezed to one ("kiitoooos" -> "kiitos"), or ""
	sentence int    // index of the sentence (. ! ? and new lines end one)
	clause   int    // index of the clause (commas and ; end one too)
}

// fold lower-cases s and removes accents other than the letters å, ä and ö of Finnish and Swedish
// ("Café" -> "cafe", "Äiti" -> "äiti"). It is used on rules and messages alike.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFC.String(s) {
		r = unicode.ToLower(r)
		switch {
		case r < utf8.RuneSelf || r == 'ä' || r == 'ö' || r == 'å':
			b.WriteRune(r)
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r):
			d, _ := utf8.DecodeRuneInString(norm.NFD.String(string(r)))
			b.WriteRune(d)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isWordRune reports whether r belongs inside a word.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// ignorable runes inside emoji sequences: variation selectors, zero-width joiner, skin tones.
func ignorable(r rune) bool {
	return r == 0xFE0F || r == 0xFE0E || r == 0x200D || (r >= 0x1F3FB && r <= 0x1F3FF)
}

// isEmoji reports whether r is a pictograph or symbol that stands as a word of its own (❤, 👍, 😡).
func isEmoji(r rune) bool {
	return unicode.Is(unicode.So, r) || (r >= 0x1F000 && r <= 0x1FAFF)
}

// tokenize splits text into normalised tokens. Apostrophes are dropped ("don't" -> "dont"), "<3" is a heart.
func tokenize(text string) []token {
	text = fold(text)
	toks := make([]token, 0, len(text)/5+1)
	sentence, clause := 0, 0
	var word []rune
	flush := func() {
		if len(word) == 0 {
			return
		}
		t := token{text: string(word), alt: squeeze(word), sentence: sentence, clause: clause}
		toks = append(toks, t)
		word = word[:0]
	}
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case isWordRune(r):
			word = append(word, r)
		case (r == '\'' || r == '’' || r == '´' || r == '`') && len(word) > 0 && i+1 < len(rs) && isWordRune(rs[i+1]):
			// inside a word: don't, it's, hän's
		case r == '<' && i+1 < len(rs) && rs[i+1] == '3':
			flush()
			toks = append(toks, token{text: "❤", sentence: sentence, clause: clause})
			i++
		case isEmoji(r):
			flush()
			toks = append(toks, token{text: string(r), sentence: sentence, clause: clause})
		case ignorable(r):
		default:
			flush()
			switch r {
			case '.', '!', '?', '\n', '…':
				if len(toks) > 0 && toks[len(toks)-1].sentence == sentence {
					sentence++
					clause++
				}
			case ',', ';', ':', '(', ')', '"', '“', '”', '–', '—':
				if len(toks) > 0 && toks[len(toks)-1].clause == clause {
					clause++
				}
			}
		}
	}
	flush()
	return toks
}

// squeeze returns word with every run of 3 or more equal letters made one letter, or "" when it has
// no such run (without allocating).
func squeeze(word []rune) string {
	if !hasRun3(word) {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(word); {
		j := i
		for j < len(word) && word[j] == word[i] {
			j++
		}
		n := j - i
		if n >= 3 {
			n = 1
		}
		for k := 0; k < n; k++ {
			b.WriteRune(word[i])
		}
		i = j
	}
	return b.String()
}

// hasRun3 reports whether the same letter stands 3 or more times in a row in word.
func hasRun3(word []rune) bool {
	for i := 2; i < len(word); i++ {
		if word[i] == word[i-1] && word[i] == word[i-2] {
			return true
		}
	}
	return false
}

// wordPat is one word of a rule: text, text* (starts with), *text (ends with) or *text* (contains).
type wordPat struct {
	text   string
	prefix bool // text*
	suffix bool // *text
	fuzzy  bool // one typo allowed (long words only)
	runes  int  // length of text in runes
}

func (w wordPat) key() string {
	k := w.text
	if w.suffix {
		k = "*" + k
	}
	if w.prefix {
		k += "*"
	}
	if w.fuzzy {
		k += "~"
	}
	return k
}

// specificity ranks how narrowly a word matches: exact words beat prefixes, longer beats shorter.
func (w wordPat) specificity() int {
	s := 4 * w.runes
	switch {
	case !w.prefix && !w.suffix:
		s += 3
	case w.prefix != w.suffix:
		s += 1
	}
	return s
}

// phrase is one rule entry: words in order (each a set of alternatives), with at most maxGap others between
// (farGap after a "...").
type phrase struct {
	words [][]int32 // word ids per position
	far   []bool    // per position: a "..." stands before it
	rule  int       // index of the rule this phrase belongs to (in its rule set)
	group int       // phrases of different groups (topics) may share words; of one group they may not
}

// words is the table of every word pattern of all rules, and the index that finds a token's words fast.
type words struct {
	pats     []wordPat
	ids      map[string]int32
	exact    map[string][]int32
	prefix   map[string][]int32
	suffix   map[string][]int32
	contains []int32
	fuzzy    map[[2]rune][]int32 // by first and second letter, and by first and third, shortest first
	maxPre   int                 // longest prefix text, in bytes
	maxSuf   int                 // longest suffix text, in bytes

	// intensifiers are word beginnings that only strengthen the rest of the word ("sikahyvää",
	// "asgod", "jättebra", "superkiva"): a token that starts with one is also looked up without it.
	intensifiers []string
	// colloquial: a Finnish spoken past participle is also looked up in its written form
	// ("nähny" as "nähnyt", "saanu" as "saanut", "ollu" as "ollut").
	colloquial bool
}

func newWords() *words {
	return &words{ids: map[string]int32{}, exact: map[string][]int32{}, prefix: map[string][]int32{},
		suffix: map[string][]int32{}, fuzzy: map[[2]rune][]int32{}}
}

func (ws *words) add(w wordPat) int32 {
	k := w.key()
	if id, ok := ws.ids[k]; ok {
		return id
	}
	id := int32(len(ws.pats))
	w.runes = utf8.RuneCountInString(w.text)
	ws.pats = append(ws.pats, w)
	ws.ids[k] = id
	switch {
	case w.prefix && w.suffix:
		ws.contains = append(ws.contains, id)
	case w.prefix:
		ws.prefix[w.text] = append(ws.prefix[w.text], id)
	case w.suffix:
		ws.suffix[w.text] = append(ws.suffix[w.text], id)
	default:
		ws.exact[w.text] = append(ws.exact[w.text], id)
	}
	switch {
	case w.prefix && !w.suffix:
		ws.maxPre = max(ws.maxPre, len(w.text))
	case w.suffix && !w.prefix:
		ws.maxSuf = max(ws.maxSuf, len(w.text))
	}
	if w.fuzzy {
		// One typo after the first letter leaves either the second or the third letter of the word
		// second or third in the token: a word is filed under both, a token looks under both of its own.
		r0, r1, r2 := first3(w.text)
		for _, k := range [][2]rune{{r0, r1}, {r0, r2}} {
			b := ws.fuzzy[k]
			if slices.Contains(b, id) {
				continue
			}
			at, _ := slices.BinarySearchFunc(b, w.runes, func(id int32, n int) int { return cmp.Compare(ws.pats[id].runes, n+1) })
			ws.fuzzy[k] = slices.Insert(b, at, id)
		}
	}
	return id
}

// lookupExact appends to dst the ids of the words that match s as written (exactly, as a prefix, suffix
// or part).
func (ws *words) lookupExact(dst []int32, s string) []int32 {
	dst = append(dst, ws.exact[s]...)
	for i := 1; i <= len(s) && i <= ws.maxPre; i++ {
		if ids, ok := ws.prefix[s[:i]]; ok {
			dst = append(dst, ids...)
		}
	}
	for i := 1; i <= len(s) && i <= ws.maxSuf; i++ {
		if ids, ok := ws.suffix[s[len(s)-i:]]; ok {
			dst = append(dst, ids...)
		}
	}
	for _, id := range ws.contains {
		if strings.Contains(s, ws.pats[id].text) {
			dst = append(dst, id)
		}
	}
	return dst
}

// lookupTypos appends to dst the ids of the long words that match s with one typo.
func (ws *words) lookupTypos(dst []int32, s string) []int32 {
	n := utf8.RuneCountInString(s)
	r0, r1, r2 := first3(s)
	seen := len(dst)
	for _, k := range [2][2]rune{{r0, r1}, {r0, r2}} {
		for _, id := range ws.fuzzy[k] {
			w := &ws.pats[id]
			if n < w.runes-1 {
				break // the rest are longer still
			}
			if (!w.prefix && n > w.runes+1) || slices.Contains(dst[seen:], id) {
				continue
			}
			if fuzzyMatch(*w, s, n) {
				dst = append(dst, id)
			}
		}
	}
	return dst
}

// first3 returns the first three letters of s, 0 for each that is missing.
func first3(s string) (r0, r1, r2 rune) {
	var rs [3]rune
	i := 0
	for _, r := range s {
		if i == 3 {
			break
		}
		rs[i] = r
		i++
	}
	return rs[0], rs[1], rs[2]
}

// lookupStem appends the ids of the exact words and prefixes that match s: the rest of a word after an
// intensifier, which must stand for a word of its own (no compound endings, no typos).
func (ws *words) lookupStem(dst []int32, s string) []int32 {
	dst = append(dst, ws.exact[s]...)
	for i := 1; i <= len(s) && i <= ws.maxPre; i++ {
		if ids, ok := ws.prefix[s[:i]]; ok {
			dst = append(dst, ids...)
		}
	}
	return dst
}

// spoken returns the written form of a Finnish spoken past participle, or "": "nähny" -> "nähnyt",
// "saanu" -> "saanut", "ollu" -> "ollut", "noussu" -> "noussut" (a word of 4 or more letters ending in
// nu or ny, or in llu, rru, ssu and their y forms; not "kysy", which is a past tense of its own).
func spoken(s string) string {
	n := len(s)
	if n < 4 || (s[n-1] != 'u' && s[n-1] != 'y') {
		return ""
	}
	switch c := s[n-2]; {
	case c == 'n', (c == 'l' || c == 'r' || c == 's') && s[n-3] == c:
		return s + "t"
	}
	return ""
}

// fuzzyMatch allows one typo (a letter wrong, missing, extra, or two letters swapped) in a long word;
// n is the rune count of s. For a prefix the token's matching part must end in the prefix's last letter,
// so that "ohjaaj*" takes "ohjajat" but a missing last letter does not make the prefix shorter.
func fuzzyMatch(w wordPat, s string, n int) bool {
	if !w.prefix {
		return n >= w.runes-1 && n <= w.runes+1 && within1(w.text, s)
	}
	if n < w.runes-1 {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(w.text)
	// byte ends of s's prefixes of w.runes-1, w.runes and w.runes+1 runes
	i, count := 0, 0
	for i < len(s) && count < w.runes+1 {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
		if count >= w.runes-1 && r == last && within1(w.text, s[:i]) {
			return true
		}
	}
	return false
}

// within1 reports whether a and b differ by at most one edit (substitution, insertion, deletion or
// swap of two neighbouring letters). It does not allocate.
func within1(a, b string) bool {
	if a == b {
		return true
	}
	d := len(a) - len(b)
	if d > 4 || d < -4 { // one rune is at most 4 bytes
		return false
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	for i > 0 && ((i < len(a) && !utf8.RuneStart(a[i])) || (i < len(b) && !utf8.RuneStart(b[i]))) {
		i--
	}
	a, b = a[i:], b[i:]
	ra, na := utf8.DecodeRuneInString(a)
	rb, nb := utf8.DecodeRuneInString(b)
	switch {
	case len(a) > 0 && len(b) > 0 && a[na:] == b[nb:]: // substitution
		return true
	case len(a) > 0 && a[na:] == b, len(b) > 0 && b[nb:] == a: // one extra letter
		return true
	case len(a) > 0 && len(b) > 0:
		ra2, na2 := utf8.DecodeRuneInString(a[na:])
		rb2, nb2 := utf8.DecodeRuneInString(b[nb:])
		return na2 > 0 && nb2 > 0 && ra == rb2 && rb == ra2 && a[na+na2:] == b[nb+nb2:]
	}
	return false
}

// matcher finds the phrases of one rule set in a message.
type matcher struct {
	phrases []phrase
	starts  map[int32][]int32 // word id -> phrases whose first position holds it
}

func newMatcher() *matcher { return &matcher{starts: map[int32][]int32{}} }

func (m *matcher) add(p phrase) {
	id := int32(len(m.phrases))
	m.phrases = append(m.phrases, p)
	for _, w := range p.words[0] {
		if !slices.Contains(m.starts[w], id) {
			m.starts[w] = append(m.starts[w], id)
		}
	}
}

// hit is a phrase found in a message at token positions pos.
type hit struct {
	phrase int32
	group  int
	rule   int
	pos    []int
	score  int
}

// analysed is a message with the words found at each token.
type analysed struct {
	toks  []token
	ids   [][]int32 // word ids per token
	typos [][]int32 // of those, the ones found only by a typo (sorted)
}

func (ws *words) analyse(text string) *analysed {
	a := &analysed{toks: tokenize(text)}
	a.ids = make([][]int32, len(a.toks))
	var buf, typo []int32
	for i, t := range a.toks {
		buf = ws.lookupExact(buf[:0], t.text)
		typo = ws.lookupTypos(typo[:0], t.text)
		if t.alt != "" {
			buf = ws.lookupExact(buf, t.alt)
			typo = ws.lookupTypos(typo, t.alt)
		}
		if ws.colloquial {
			if w := spoken(t.text); w != "" {
				buf = ws.lookupExact(buf, w)
				typo = ws.lookupTypos(typo, w)
			}
		}
		for _, p := range ws.intensifiers {
			if rest, ok := strings.CutPrefix(t.text, p); ok && utf8.RuneCountInString(rest) >= 3 {
				buf = ws.lookupStem(buf, rest)
			}
		}
		if len(buf)+len(typo) == 0 {
			continue
		}
		exact := slices.Compact(sorted(slices.Clone(buf)))
		var only []int32
		for _, id := range typo {
			if _, found := slices.BinarySearch(exact, id); !found {
				only = append(only, id)
			}
		}
		if len(only) > 0 {
			if a.typos == nil {
				a.typos = make([][]int32, len(a.toks))
			}
			a.typos[i] = slices.Compact(sorted(only))
		}
		a.ids[i] = slices.Compact(sorted(append(exact, only...)))
	}
	return a
}

// typo reports whether word w was found at token j only by a typo.
func (a *analysed) typo(j int, w int32) bool {
	if a.typos == nil {
		return false
	}
	_, found := slices.BinarySearch(a.typos[j], w)
	return found
}

func sorted(s []int32) []int32 { slices.Sort(s); return s }

// find returns the hits of m in a, longest and most specific first, no two of a group sharing a token.
func (m *matcher) find(ws *words, a *analysed) []hit {
	var cands []hit
	for i, ids := range a.ids {
		for _, w := range ids {
			for _, pid := range m.starts[w] {
				if h, ok := m.matchAt(ws, a, pid, i); ok {
					cands = append(cands, h)
				}
			}
		}
	}
	if len(cands) == 0 {
		return nil
	}
	slices.SortStableFunc(cands, func(x, y hit) int {
		return cmp.Or(cmp.Compare(len(y.pos), len(x.pos)), cmp.Compare(y.score, x.score), cmp.Compare(x.pos[0], y.pos[0]))
	})
	usedBy := map[int][]bool{}
	out := cands[:0] // filtered in place: a hit is written at or before where it was read
	seen := map[[2]int]bool{}
next:
	for _, h := range cands {
		k := [2]int{int(h.phrase), h.pos[0]}
		if seen[k] {
			continue
		}
		seen[k] = true
		used := usedBy[h.group]
		if used == nil {
			used = make([]bool, len(a.toks))
			usedBy[h.group] = used
		}
		for _, p := range h.pos {
			if used[p] {
				continue next
			}
		}
		for _, p := range h.pos {
			used[p] = true
		}
		out = append(out, h)
	}
	slices.SortFunc(out, func(x, y hit) int { return cmp.Compare(x.pos[0], y.pos[0]) })
	return out
}

// matchAt tries phrase pid with its first word at token i: each next word within maxGap tokens of the
// previous one, in the same sentence. The earliest placement wins.
func (m *matcher) matchAt(ws *words, a *analysed, pid int32, i int) (hit, bool) {
	p := &m.phrases[pid]
	var buf [maxWords]int
	at := buf[:len(p.words)]
	at[0] = i // find starts a phrase only at a token that holds one of its first words
	if !p.place(a, at, 1, i+1) {
		return hit{}, false
	}
	pos := slices.Clone(at)
	score := 0
	for k, j := range pos {
		best := 0
		for _, w := range p.words[k] {
			if slices.Contains(a.ids[j], w) {
				sp := ws.pats[w].specificity()
				if a.typo(j, w) {
					sp = 1 // a word as written beats any word read through a typo ("please" is not "pleased")
				}
				best = max(best, sp)
			}
		}
		score += best
	}
	return hit{phrase: pid, group: p.group, rule: p.rule, pos: pos, score: score}, true
}

// place finds tokens for the words of p from the k-th on, the k-th at from or within its gap after it,
// all in the sentence of the first; pos[:k] are placed already. The earliest placement wins.
func (p *phrase) place(a *analysed, pos []int, k, from int) bool {
	if k == len(p.words) {
		return true
	}
	gap := maxGap
	if p.far[k] {
		gap = farGap
	}
	sentence := a.toks[pos[0]].sentence
	for j := from; j < len(a.toks) && j <= from+gap && a.toks[j].sentence == sentence; j++ {
		if hasAny(a.ids[j], p.words[k]) {
			pos[k] = j
			if p.place(a, pos, k+1, j+1) {
				return true
			}
		}
	}
	return false
}

func hasAny(have, want []int32) bool {
	for _, w := range want {
		if _, ok := slices.BinarySearch(have, w); ok {
			return true
		}
	}
	return false
}

// overlaps reports whether two hits share a token or touch.
func overlaps(a, b hit) bool {
	return a.pos[0] <= b.pos[len(b.pos)-1]+1 && b.pos[0] <= a.pos[len(a.pos)-1]+1
}
