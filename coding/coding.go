// Package coding codes spontaneous feedback and spots messages that suggest danger. It reads its rules
// (polarity words, topic keywords, crisis phrases, in fi, sv and en) from YAML files a staff member can
// edit: the defaults are embedded from rules/, and a directory (config coding.rules_dir) may replace any
// of them. The rule language is small: words, word* / *word / *word* for inflected forms and compounds,
// a|b alternatives, @group references, and phrases of several words in order with at most two other
// words between neighbours (eight after a "..."); a crisis phrase listed under alone: counts only when the
// message is nothing else ("apua", "help"). Finnish spoken past participles match their written
// form, words that begin with an intensifier ("sikahyvää", "asgod") are read without it too, and a
// message that compares the past with now is coded by what it says of now. See rules/polarity.yaml for
// the full description.
//
// It does no I/O but reading its rule files, and a Coder is safe for concurrent use.
package coding

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/palaute/palaute/internal/yamlpos"
	"github.com/palaute/palaute/locales"
)

//go:embed rules/*.yaml
var embedded embed.FS

// Polarities a message may get.
const (
	Positive   = "positive"
	Corrective = "corrective"
	Neutral    = "neutral"
)

// Topic is one configurable topic.
type Topic struct {
	ID    string
	Names map[string]string // fi, sv, en
}

// Name is the topic's name in lang (fi when missing).
func (t Topic) Name(lang string) string {
	if n := t.Names[lang]; n != "" {
		return n
	}
	return t.Names["fi"]
}

// source is where a rule was written, for explanations: `file:line "the entry as written"`. It is made
// once, when the rules are read.
func source(file string, x entry) string { return fmt.Sprintf("%s:%d %q", file, x.line, x.text) }

type polarityRules struct {
	m      *matcher
	kind   []int8 // per rule: +1 positive, -1 corrective, -2 mild corrective, 0 neutral
	src    []string
	neg    *matcher
	before int      // a negator this many words before a polarity word (same clause) turns it round
	after  int      // ... or this many words after it
	then   *matcher // words that speak of the past ("ennen", "förut", "used to")
	now    *matcher // words that speak of now ("nyt", "nu", "now")
}

type topicRules struct {
	m     *matcher
	topic []int // per rule: index into Coder.topics
	src   []string
}

// Coder codes messages by its rules.
type Coder struct {
	ws     *words // words of the polarity and topic rules
	cws    *words // words of the crisis rules
	weight int    // corrective wins unless positive hits outnumber corrective ones more than weight to 1
	pol    map[string]*polarityRules
	topics []Topic
	top    map[string]*topicRules

	crisis   *matcher
	class    []int  // per crisis rule: index into Classes
	alone    []bool // per crisis rule: it counts only when the message is nothing else (alone:)
	csrc     []string
	not      *matcher
	notClass []int
	nsrc     []string
}

// Default returns the coder of the embedded rules.
func Default() (*Coder, error) { return Load("") }

// Load reads the embedded rules, each replaced by the file of the same name in dir when dir is not empty
// and holds one. Any problem is reported as `file:line: what is wrong`, all of them at once.
func Load(dir string) (*Coder, error) {
	srcs := map[string][]byte{}
	names := map[string]string{}
	for _, f := range Files {
		data, err := embedded.ReadFile("rules/" + f)
		if err != nil {
			return nil, fmt.Errorf("embedded rules: %w", err)
		}
		srcs[f], names[f] = data, "coding/rules/"+f
	}
	if dir != "" {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("coding.rules_dir: %w", err)
		}
		var bad []error
		for _, de := range ents {
			n := de.Name()
			ext := path.Ext(n)
			if de.IsDir() || (ext != ".yaml" && ext != ".yml") {
				continue
			}
			p := filepath.Join(dir, n)
			if !slices.Contains(Files, n) {
				bad = append(bad, fmt.Errorf("%s:1: unknown rules file (known: %s): %w", p, strings.Join(Files, ", "), ErrInvalid))
				continue
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("coding rules: %w", err)
			}
			srcs[n], names[n] = data, p
		}
		if err := errors.Join(bad...); err != nil {
			return nil, err
		}
	}
	return Parse(names, srcs)
}

// Parse builds a coder from the contents of the three rules files (by file name; names gives the name
// to use in errors).
func Parse(names map[string]string, data map[string][]byte) (*Coder, error) {
	c := &Coder{ws: newWords(), cws: newWords(), pol: map[string]*polarityRules{}, top: map[string]*topicRules{}}
	c.ws.colloquial = true // crisis rules spell their spoken forms out themselves
	var all []error
	for _, f := range Files {
		name := names[f]
		if name == "" {
			name = f
		}
		e := &yamlpos.Errors{File: name, Kind: ErrInvalid}
		switch f {
		case PolarityFile:
			c.parsePolarity(e, data[f])
		case TopicsFile:
			c.parseTopics(e, data[f])
		case CrisisFile:
			c.parseCrisis(e, data[f])
		}
		all = append(all, e.List...)
	}
	if err := errors.Join(all...); err != nil {
		return nil, err
	}
	return c, nil
}

// MustDefault returns the embedded coder or fails the test or benchmark.
func MustDefault(tb interface {
	Helper()
	Fatal(...any)
}) *Coder {
	tb.Helper()
	c, err := Default()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// rulesDoc reads a rules file: its top mapping, which may hold only keys, or nil after recording why not.
func rulesDoc(e *yamlpos.Errors, data []byte, what string, keys ...string) (root *yaml.Node, m map[string]*yaml.Node) {
	root = yamlpos.ParseDoc(e, data, "the file is empty")
	if root == nil {
		return nil, nil
	}
	m, _ = yamlpos.Mapping(e, root, what, keys...)
	return root, m
}

// newCompiler is a compiler over ws for a rules file's top mapping m: words of typo_min_length letters
// (default 7) match with one typo, and the file's groups are read.
func newCompiler(e *yamlpos.Errors, ws *words, m map[string]*yaml.Node) *compiler {
	cp := &compiler{ws: ws, typoMin: intValue(e, m["typo_min_length"], "typo_min_length", 7, 0, 40)}
	cp.readGroups(e, m["groups"])
	return cp
}

var polarityKinds = map[string]int8{"positive": 1, "corrective": -1, "mild_corrective": -2, "neutral": 0}

// polaritySections are the lists of a language's (and common) polarity rules.
var polaritySections = []string{"positive", "corrective", "mild_corrective", "neutral"}

func (c *Coder) parsePolarity(e *yamlpos.Errors, data []byte) {
	root, m := rulesDoc(e, data, "the polarity rules", "corrective_weight", "typo_min_length", "intensifiers", "groups", "common", "fi", "sv", "en")
	if m == nil {
		return
	}
	c.weight = intValue(e, m["corrective_weight"], "corrective_weight", 3, 1, 100)
	for _, x := range list(e, m["intensifiers"], "intensifiers") {
		w, err := (&compiler{}).wordOf(x.text)
		switch {
		case err == nil && (w.prefix || w.suffix):
			err = fmt.Errorf("no * here: an intensifier is the beginning of a word")
		case err == nil && utf8.RuneCountInString(w.text) < 2:
			err = fmt.Errorf("%q is too short: an intensifier needs at least 2 letters", w.text)
		}
		if err != nil {
			e.Add(x.line, "intensifiers: %v", err)
			continue
		}
		c.ws.intensifiers = append(c.ws.intensifiers, w.text)
	}
	cp := newCompiler(e, c.ws, m)
	var common map[string]*yaml.Node
	if n := m["common"]; n != nil {
		common, _ = yamlpos.Mapping(e, n, "common", polaritySections...)
	}
	for _, lang := range locales.Languages {
		n := m[lang]
		if n == nil {
			e.Add(root.Line, "missing %s: every language needs its polarity words", lang)
			continue
		}
		lm, _ := yamlpos.Mapping(e, n, lang, append([]string{"negators", "negation_before", "negation_after", "then", "now"}, polaritySections...)...)
		if lm == nil {
			continue
		}
		pr := &polarityRules{m: newMatcher(), neg: newMatcher(), then: newMatcher(), now: newMatcher(),
			before: intValue(e, lm["negation_before"], lang+".negation_before", 3, 0, 6),
			after:  intValue(e, lm["negation_after"], lang+".negation_after", 0, 0, 6)}
		for _, sec := range []map[string]*yaml.Node{lm, common} {
			for _, kind := range polaritySections {
				cp.add(e, pr.m, 0, list(e, sec[kind], lang+"."+kind), func(x entry) int {
					pr.kind = append(pr.kind, polarityKinds[kind])
					pr.src = append(pr.src, source(e.File, x))
					return len(pr.kind) - 1
				})
			}
		}
		negs := list(e, lm["negators"], lang+".negators")
		if len(negs) == 0 {
			e.Add(n.Line, "%s needs negators (words like ei, inte, not)", lang)
		}
		cp.add(e, pr.neg, 0, negs, func(entry) int { return 0 })
		cp.add(e, pr.then, 0, list(e, lm["then"], lang+".then"), func(entry) int { return 0 })
		cp.add(e, pr.now, 0, list(e, lm["now"], lang+".now"), func(entry) int { return 0 })
		if len(pr.kind) == 0 {
			e.Add(n.Line, "%s has no positive or corrective words", lang)
		}
		c.pol[lang] = pr
	}
}

func (c *Coder) parseTopics(e *yamlpos.Errors, data []byte) {
	root, m := rulesDoc(e, data, "the topic rules", "typo_min_length", "groups", "topics")
	if m == nil {
		return
	}
	cp := newCompiler(e, c.ws, m)
	for _, lang := range locales.Languages {
		c.top[lang] = &topicRules{m: newMatcher()}
	}
	ts := m["topics"]
	if ts == nil || ts.Kind != yaml.SequenceNode || len(ts.Content) == 0 {
		e.Add(root.Line, "topics must be a list of topics with id, names, fi, sv and en")
		return
	}
	seen := map[string]int{}
	for _, tn := range ts.Content {
		tm, _ := yamlpos.Mapping(e, tn, "a topic", "id", "names", "fi", "sv", "en")
		if tm == nil {
			continue
		}
		id := ""
		if n := tm["id"]; n == nil {
			e.Add(tn.Line, "a topic needs an id")
			continue
		} else if id = n.Value; !yamlpos.ValidID(id) {
			e.Add(n.Line, "topic id %q must be lower-case letters, digits and _ (max 32)", id)
			continue
		} else if first, dup := seen[id]; dup {
			e.Add(n.Line, "topic %q given twice (first at line %d)", id, first)
			continue
		}
		seen[id] = tn.Line
		t := Topic{ID: id, Names: map[string]string{}}
		if n := tm["names"]; n == nil {
			e.Add(tn.Line, "topic %s needs names: {fi: ..., sv: ..., en: ...}", id)
		} else if nm, keys := yamlpos.Mapping(e, n, "names of "+id, locales.Languages...); nm != nil {
			for _, k := range keys {
				t.Names[k.Value] = strings.TrimSpace(nm[k.Value].Value)
			}
			if t.Names["fi"] == "" {
				e.Add(n.Line, "topic %s needs a name in fi", id)
			}
		}
		idx := len(c.topics)
		c.topics = append(c.topics, t)
		words := 0
		for _, lang := range locales.Languages {
			tr := c.top[lang]
			es := list(e, tm[lang], id+"."+lang)
			words += len(es)
			cp.add(e, tr.m, idx, es, func(x entry) int {
				tr.topic = append(tr.topic, idx)
				tr.src = append(tr.src, source(e.File, x))
				return len(tr.topic) - 1
			})
		}
		if words == 0 {
			e.Add(tn.Line, "topic %s has no words", id)
		}
	}
}

func (c *Coder) parseCrisis(e *yamlpos.Errors, data []byte) {
	root, m := rulesDoc(e, data, "the crisis rules", "typo_min_length", "groups", "classes")
	if m == nil {
		return
	}
	cp := newCompiler(e, c.cws, m)
	c.crisis, c.not = newMatcher(), newMatcher()
	cn := m["classes"]
	if cn == nil {
		e.Add(root.Line, "missing classes (%s)", strings.Join(Classes, ", "))
		return
	}
	cm, keys := yamlpos.Mapping(e, cn, "classes")
	for _, k := range keys {
		ci := slices.Index(Classes, k.Value)
		if ci < 0 {
			e.Add(k.Line, "unknown crisis class %q (known: %s)", k.Value, strings.Join(Classes, ", "))
			continue
		}
		lm, _ := yamlpos.Mapping(e, cm[k.Value], k.Value, "fi", "sv", "en", "alone", "not")
		if lm == nil {
			continue
		}
		for _, lang := range append(slices.Clone(locales.Languages), "alone") {
			// alone: phrases are a group of their own, so that one that turns out not to be the whole
			// message takes no word from a phrase that counts anywhere.
			group := 0
			if lang == "alone" {
				group = 1
			}
			cp.add(e, c.crisis, group, list(e, lm[lang], k.Value+"."+lang), func(x entry) int {
				c.class = append(c.class, ci)
				c.alone = append(c.alone, lang == "alone")
				c.csrc = append(c.csrc, source(e.File, x))
				return len(c.class) - 1
			})
		}
		cp.add(e, c.not, 0, list(e, lm["not"], k.Value+".not"), func(x entry) int {
			c.notClass = append(c.notClass, ci)
			c.nsrc = append(c.nsrc, source(e.File, x))
			return len(c.notClass) - 1
		})
	}
	if len(c.class) == 0 {
		e.Add(cn.Line, "no crisis phrases: crisis detection would be off")
	}
}

// Topics are the configured topics, in file order.
func (c *Coder) Topics() []Topic { return slices.Clone(c.topics) }

// TopicName is the name of topic id in lang, or id when there is no such topic.
func (c *Coder) TopicName(lang, id string) string {
	for _, t := range c.topics {
		if t.ID == id {
			return t.Name(lang)
		}
	}
	return id
}

// Match is one rule that matched a message, for explanations.
type Match struct {
	Rule    string // file:line "the entry as written"
	Meaning string // positive, corrective, neutral, topic <id>, crisis <class>, not <class>, negator
	Lang    string
	Negated bool // a negator turned a polarity word round
	Words   string
}

// Result is the coding of one message.
type Result struct {
	Polarity string
	Topics   []string
	Lang     string // the language whose rules gave the polarity
	Matches  []Match
}

// Code codes a message: its polarity and topics. lang is the writer's language; when its rules find
// nothing, the other languages' rules are tried (people switch languages).
func (c *Coder) Code(lang, text string) (string, []string) {
	r := c.analyze(lang, text, false)
	return r.Polarity, r.Topics
}

type polScore struct {
	pos, neg, mild, any int
	matches             []Match
}

// polarity scores a message by the polarity rules of lang; with explain, it says which rules matched.
func (c *Coder) polarity(lang string, a *analysed, explain bool) polScore {
	pr := c.pol[lang]
	var s polScore
	if pr == nil {
		return s
	}
	hits := pr.m.find(c.ws, a)
	if len(hits) == 0 {
		return s
	}
	used := make([]bool, len(a.toks))
	for _, h := range hits {
		for _, p := range h.pos {
			used[p] = true
		}
	}
	var negs []hit
	for _, n := range pr.neg.find(c.ws, a) {
		if !slices.ContainsFunc(n.pos, func(p int) bool { return used[p] }) {
			negs = append(negs, n)
		}
	}
	past := pr.past(c.ws, a)
	for _, h := range hits {
		k := pr.kind[h.rule]
		if past != nil && past[h.pos[0]] {
			if explain {
				s.matches = append(s.matches, Match{Rule: pr.src[h.rule], Meaning: "before now (not counted)", Lang: lang, Words: matchedWords(a, h)})
			}
			continue
		}
		negated := false
		if k != 0 {
			first, last := h.pos[0], h.pos[len(h.pos)-1]
			far := slices.Contains(pr.m.phrases[h.phrase].far, true)
			for _, n := range negs {
				nl, nf := n.pos[len(n.pos)-1], n.pos[0]
				if (nl < first && first-nl <= pr.before && a.toks[nl].clause == a.toks[first].clause) ||
					(nf > last && nf-last <= pr.after && a.toks[nf].clause == a.toks[last].clause) ||
					(!far && nf > first && nl < last) { // in a gap of the phrase: "i don't like"
					negated = !negated
				}
			}
		}
		switch {
		case negated && k == -2:
			k = 0 // "en oo surullinen" says nothing to put right, nor praise
		case negated:
			k = -k
		}
		meaning := Neutral
		switch k {
		case 1:
			s.pos++
			meaning = Positive
		case -1:
			s.neg++
			meaning = Corrective
		case -2:
			s.mild++
			meaning = Corrective + " (mild)"
		}
		s.any++
		if explain {
			s.matches = append(s.matches, Match{Rule: pr.src[h.rule], Meaning: meaning, Lang: lang, Negated: negated, Words: matchedWords(a, h)})
		}
	}
	return s
}

// past marks the words that speak of how things were, in a message that also says how they are now
// ("ennen oli tylsää mut nyt on kivaa"): from a then-word to the next now-word or the end of its sentence.
// It is nil when the message does not compare the past with now.
func (pr *polarityRules) past(ws *words, a *analysed) []bool {
	if len(pr.then.phrases) == 0 || len(pr.now.phrases) == 0 {
		return nil
	}
	nows := pr.now.find(ws, a)
	if len(nows) == 0 {
		return nil
	}
	thens := pr.then.find(ws, a)
	if len(thens) == 0 {
		return nil
	}
	isNow := make([]bool, len(a.toks))
	for _, h := range nows {
		for _, p := range h.pos {
			isNow[p] = true
		}
	}
	past := make([]bool, len(a.toks))
	for _, h := range thens {
		for p := h.pos[0]; p < len(a.toks) && !isNow[p] && a.toks[p].sentence == a.toks[h.pos[0]].sentence; p++ {
			past[p] = true
		}
	}
	return past
}

func matchedWords(a *analysed, h hit) string {
	ws := make([]string, len(h.pos))
	for i, p := range h.pos {
		ws[i] = a.toks[p].text
	}
	return strings.Join(ws, " ")
}

// topicHits finds the topics of a message by the topic rules of lang; with explain, it says which rules
// matched.
func (c *Coder) topicHits(lang string, a *analysed, explain bool) ([]int, []Match) {
	tr := c.top[lang]
	if tr == nil {
		return nil, nil
	}
	var idx []int
	var ms []Match
	hits := tr.m.find(c.ws, a)
	for _, h := range hits {
		if slices.ContainsFunc(hits, func(o hit) bool { return covers(o, h) }) {
			continue // "worker" of "social worker", "bed" of "go to bed": the longer entry tells the topic
		}
		t := tr.topic[h.rule]
		if !slices.Contains(idx, t) {
			idx = append(idx, t)
		}
		if explain {
			ms = append(ms, Match{Rule: tr.src[h.rule], Meaning: "topic " + c.topics[t].ID, Lang: lang, Words: matchedWords(a, h)})
		}
	}
	return idx, ms
}

// covers reports whether hit o, words side by side, takes in every word of the shorter hit h: a name of
// several words of one topic over a word of another ("social worker" over "worker").
func covers(o, h hit) bool {
	if len(o.pos) <= len(h.pos) || o.pos[len(o.pos)-1]-o.pos[0] != len(o.pos)-1 {
		return false
	}
	for _, p := range h.pos {
		if !slices.Contains(o.pos, p) {
			return false
		}
	}
	return true
}

// langOrder is, for each language, the order in which the rules of the languages are tried: the writer's
// own first, then the others.
var langOrder = func() map[string][]string {
	m := map[string][]string{}
	for _, l := range locales.Languages {
		m[l] = append([]string{l}, slices.DeleteFunc(slices.Clone(locales.Languages), func(o string) bool { return o == l })...)
	}
	return m
}()

// Analyze codes a message and says which rules matched.
func (c *Coder) Analyze(lang, text string) Result { return c.analyze(lang, text, true) }

// analyze codes a message; with explain, the result says which rules matched (Matches).
func (c *Coder) analyze(lang, text string, explain bool) Result {
	lang = locales.Lang(lang)
	a := c.ws.analyse(text)
	order := langOrder[lang]
	r := Result{Polarity: Neutral, Lang: lang}
	var best polScore
	bestLang := ""
	for _, l := range order {
		s := c.polarity(l, a, explain)
		if s.any > best.any || (bestLang == "" && l == lang) {
			best, bestLang = s, l
		}
		if l == lang && s.any > 0 {
			break // the writer's own language found something: keep it
		}
	}
	r.Lang = bestLang
	r.Matches = append(r.Matches, best.matches...)
	switch {
	case best.neg > 0 && best.neg*c.weight >= best.pos:
		r.Polarity = Corrective
	case best.pos > 0:
		r.Polarity = Positive
	case best.mild > 0:
		r.Polarity = Corrective // a worry alone: "mulla on paha olo"
	}
	var topics []int
	for _, l := range order {
		idx, ms := c.topicHits(l, a, explain)
		if len(idx) > 0 {
			topics = idx
			r.Matches = append(r.Matches, ms...)
			break
		}
	}
	slices.Sort(topics) // file order
	for _, t := range topics {
		r.Topics = append(r.Topics, c.topics[t].ID)
	}
	return r
}

// Crisis reports whether a message suggests danger, and its most urgent class. The rules of every
// language are used, whatever the writer's language.
func (c *Coder) Crisis(text string) (string, bool) {
	class, _, ok := c.crisisCheck(text, false)
	return class, ok
}

// ExplainCrisis is Crisis with the rules that decided.
func (c *Coder) ExplainCrisis(text string) (string, []Match, bool) { return c.crisisCheck(text, true) }

// crisisCheck is Crisis; with explain it also says which rules decided. A hit of an alone: phrase counts
// only when the hits of alone: phrases (of any class) take in every word of the message, emoji aside, and
// the message is not a bot command: "apua" and "apua! tarvitsen apua 😭" are pleas for help, "apua
// läksyissä olis kiva" and "/help" are not.
func (c *Coder) crisisCheck(text string, explain bool) (string, []Match, bool) {
	a := c.cws.analyse(text)
	hits := c.crisis.find(c.cws, a)
	if len(hits) == 0 {
		return "", nil, false
	}
	nots := c.not.find(c.cws, a)
	var ms []Match
	live := hits[:0] // filtered in place
	var covered []bool
	for _, h := range hits {
		ci := c.class[h.rule]
		cancelled := false
		for _, n := range nots {
			if c.notClass[n.rule] == ci && overlaps(h, n) {
				cancelled = true
				if explain {
					ms = append(ms, Match{Rule: c.nsrc[n.rule], Meaning: "not " + Classes[ci], Words: matchedWords(a, n)})
				}
			}
		}
		if cancelled {
			continue
		}
		if c.alone[h.rule] {
			if covered == nil {
				covered = make([]bool, len(a.toks))
			}
			for _, p := range h.pos {
				covered[p] = true
			}
		}
		live = append(live, h)
	}
	// A bot command ("/help", "/apua") is not a plea, whatever its words.
	whole := covered != nil && !strings.HasPrefix(strings.TrimSpace(text), "/")
	for i, t := range a.toks {
		if whole && !covered[i] && !isEmojiToken(t.text) {
			whole = false
		}
	}
	best := -1
	for _, h := range live {
		ci := c.class[h.rule]
		if c.alone[h.rule] && !whole {
			if explain {
				ms = append(ms, Match{Rule: c.csrc[h.rule], Meaning: "not " + Classes[ci] + " (alone: not the whole message)", Words: matchedWords(a, h)})
			}
			continue
		}
		if explain {
			ms = append(ms, Match{Rule: c.csrc[h.rule], Meaning: "crisis " + Classes[ci], Words: matchedWords(a, h)})
		}
		if best < 0 || ci < best {
			best = ci
		}
	}
	if best < 0 {
		return "", ms, false
	}
	return Classes[best], ms, true
}

// isEmojiToken reports whether a token is an emoji (or a <3 heart): the tokenizer gives each its own token.
func isEmojiToken(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n == len(s) && isEmoji(r)
}
