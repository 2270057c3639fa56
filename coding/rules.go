package coding

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/palaute/palaute/internal/yamlpos"
)

// ErrInvalid is wrapped by every error in a rules file.
var ErrInvalid = errors.New("invalid coding rules")

// Classes are the crisis classes a crisis rules file may use, in the order of their urgency. Staff alerts
// have a localized name for each (locales/router.*.yaml crisis_class_<class>).
var Classes = []string{"suicide", "self_harm", "abuse", "violence", "unsafe_home", "running_away", "distress"}

// File names of the rules (embedded under rules/, replaceable one by one from coding.rules_dir).
const (
	PolarityFile = "polarity.yaml"
	TopicsFile   = "topics.yaml"
	CrisisFile   = "crisis.yaml"
)

// Files are the rules files, in the order they are read.
var Files = []string{PolarityFile, TopicsFile, CrisisFile}

// entry is one string of a list with its line.
type entry struct {
	text string
	line int
}

// list reads a list of strings.
func list(e *yamlpos.Errors, n *yaml.Node, what string) []entry {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		e.Add(n.Line, "%s must be a list, like [word, other*]", what)
		return nil
	}
	var out []entry
	for _, x := range n.Content {
		if x.Kind != yaml.ScalarNode || x.Tag == "!!null" || strings.TrimSpace(x.Value) == "" {
			e.Add(x.Line, "%s: every entry must be a word or words, not empty or a list", what)
			continue
		}
		out = append(out, entry{x.Value, x.Line})
	}
	return out
}

func intValue(e *yamlpos.Errors, n *yaml.Node, what string, def, lo, hi int) int {
	if n == nil {
		return def
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < lo || v > hi {
		e.Add(n.Line, "%s must be a whole number from %d to %d, not %q", what, lo, hi, n.Value)
		return def
	}
	return v
}

// compiler turns the words of the rules into patterns over one shared word table.
type compiler struct {
	ws      *words
	typoMin int                  // words of at least this many letters match with one typo (0: never)
	groups  map[string][]wordPat // @name -> words
}

// wordOf parses one alternative: text, text*, *text, *text*.
func (c *compiler) wordOf(s string) (wordPat, error) {
	w := wordPat{}
	if strings.HasSuffix(s, "*") {
		w.prefix, s = true, strings.TrimSuffix(s, "*")
	}
	if strings.HasPrefix(s, "*") {
		w.suffix, s = true, strings.TrimPrefix(s, "*")
	}
	if strings.Contains(s, "*") {
		return w, fmt.Errorf("a * can stand only at the start or the end of a word")
	}
	toks := tokenize(s)
	switch {
	case len(toks) == 0:
		return w, fmt.Errorf("%q has no letters", s)
	case len(toks) > 1:
		return w, fmt.Errorf("%q is more than one word here: separate words with spaces, and give only single words as | alternatives or in groups", s)
	}
	w.text = toks[0].text
	digits := strings.Trim(w.text, "0123456789") == ""
	if (w.prefix || w.suffix) && utf8.RuneCountInString(w.text) < 2 && !digits {
		return w, fmt.Errorf("%q* is too short: a * needs at least 2 letters before it", w.text)
	}
	letters := true
	for _, r := range w.text {
		letters = letters && unicode.IsLetter(r)
	}
	w.fuzzy = c.typoMin > 0 && letters && !w.suffix && utf8.RuneCountInString(w.text) >= c.typoMin
	return w, nil
}

// alternatives parses one position: a|b*|@group.
func (c *compiler) alternatives(s string) ([]wordPat, error) {
	var out []wordPat
	for _, alt := range strings.Split(s, "|") {
		if alt == "" {
			return nil, fmt.Errorf("empty alternative in %q", s)
		}
		if name, ok := strings.CutPrefix(alt, "@"); ok {
			g, ok := c.groups[name]
			if !ok {
				return nil, fmt.Errorf("unknown group @%s (define it under groups:)", name)
			}
			out = append(out, g...)
			continue
		}
		w, err := c.wordOf(alt)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// phrase parses a rule entry into a phrase.
func (c *compiler) phrase(s string) (phrase, error) {
	fs := strings.Fields(s)
	if len(fs) > maxWords {
		return phrase{}, fmt.Errorf("%q has more than %d words", s, maxWords)
	}
	var p phrase
	far := false
	for i, f := range fs {
		if f == "..." || f == "…" {
			if i == 0 || i == len(fs)-1 || far {
				return phrase{}, fmt.Errorf("%q: write ... only between two words, as in \"miks ... aina\"", s)
			}
			far = true
			continue
		}
		p.far = append(p.far, far)
		far = false
		alts, err := c.alternatives(f)
		if err != nil {
			return phrase{}, err
		}
		var ids []int32
		for _, w := range alts {
			if id := c.ws.add(w); !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		p.words = append(p.words, ids)
	}
	return p, nil
}

// readGroups reads groups: {name: [word, word*, ...]}.
func (c *compiler) readGroups(e *yamlpos.Errors, n *yaml.Node) {
	c.groups = map[string][]wordPat{}
	if n == nil {
		return
	}
	m, keys := yamlpos.Mapping(e, n, "groups")
	for _, k := range keys {
		if !groupRe.MatchString(k.Value) {
			e.Add(k.Line, "group name %q must be letters, digits and _", k.Value)
			continue
		}
		var ws []wordPat
		for _, x := range list(e, m[k.Value], "group "+k.Value) {
			if strings.ContainsAny(x.text, " @") {
				e.Add(x.line, "group %s: %q: a group holds single words (no spaces, no @groups)", k.Value, x.text)
				continue
			}
			alts, err := c.alternatives(strings.ReplaceAll(x.text, ",", "|"))
			if err != nil {
				e.Add(x.line, "group %s: %v", k.Value, err)
				continue
			}
			ws = append(ws, alts...)
		}
		c.groups[k.Value] = ws
	}
}

var groupRe = regexp.MustCompile(`^[\p{L}0-9_]+$`)

// add compiles entries into m, each as a rule made by mk (which returns the rule's index). An entry
// may hold several phrases separated by commas: "ei kiitos, ei kiitti". Phrases of one group compete for
// a word (the longer or more specific one takes it); of different groups they do not (topics: a word may
// tell two topics at once). Matchers without groups use group 0.
func (c *compiler) add(e *yamlpos.Errors, m *matcher, group int, es []entry, mk func(x entry) int) {
	for _, x := range es {
		for _, alt := range strings.Split(x.text, ",") {
			alt = strings.TrimSpace(alt)
			if alt == "" {
				e.Add(x.line, "empty phrase in %q (two commas, or a comma at the end)", x.text)
				continue
			}
			p, err := c.phrase(alt)
			if err != nil {
				e.Add(x.line, "%v", err)
				continue
			}
			p.rule, p.group = mk(entry{alt, x.line}), group
			m.add(p)
		}
	}
}
