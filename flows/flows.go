// Package flows defines survey flows: the YAML format, its parser and validator,
// the branching conditions, and the default flows embedded in the binary.
package flows

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/palaute/palaute/locales"
)

// Languages are the languages every flow and UI string exists in; the first is the default.
var Languages = locales.Languages

// DefaultLang is the language used when nothing else is known: the first of Languages.
const DefaultLang = "fi"

// Audience is who a flow is for. Audiences are never merged in reports.
type Audience string

const (
	Youth        Audience = "youth"
	Relative     Audience = "relative"
	SocialWorker Audience = "social_worker"
)

// Audiences lists the known audiences in a stable order.
var Audiences = []Audience{Youth, Relative, SocialWorker}

// Valid reports whether a is a known audience.
func (a Audience) Valid() bool { return slices.Contains(Audiences, a) }

// Type is a question type.
type Type string

const (
	Scale  Type = "scale"  // 1-5 shown with emoji faces
	NPS    Type = "nps"    // 0-10
	YesNo  Type = "yesno"  // yes / no
	Choice Type = "choice" // one of options
	Multi  Type = "multi"  // several of options, then "done"
	Text   Type = "text"   // free text up to MaxLen
	Info   Type = "info"   // a message only, no answer
)

var types = []Type{Scale, NPS, YesNo, Choice, Multi, Text, Info}

// Answerable reports whether a question of this type takes an answer.
func (t Type) Answerable() bool { return t != Info }

// ScaleFaces are the labels of scale values 1..5.
var ScaleFaces = []string{"😞", "🙁", "😐", "🙂", "😄"}

// DefaultMaxLen is the longest free-text answer kept when a question sets none.
const DefaultMaxLen = 2000

// Texts holds one text per language.
type Texts map[string]string

// In returns the text in lang, falling back to the default language.
func (t Texts) In(lang string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	return t[DefaultLang]
}

// Option is one choice of a choice or multi question.
type Option struct {
	ID   string
	Text Texts
}

// Question is one step of a flow.
type Question struct {
	ID       string
	Type     Type
	Text     Texts
	Options  []Option
	Required bool
	MaxLen   int
	When     *Cond // nil: always asked
	Line     int   // line in the flow file, for messages
}

// Option returns the option with the given id.
func (q *Question) Option(id string) (Option, bool) {
	for _, o := range q.Options {
		if o.ID == id {
			return o, true
		}
	}
	return Option{}, false
}

// Values returns the answer values a choice-like question accepts, in display order.
func (q *Question) Values() []string {
	switch q.Type {
	case Scale:
		return []string{"1", "2", "3", "4", "5"}
	case NPS:
		return []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}
	case YesNo:
		return []string{"yes", "no"}
	case Choice, Multi:
		ids := make([]string, len(q.Options))
		for i, o := range q.Options {
			ids[i] = o.ID
		}
		return ids
	}
	return nil
}

// Valid reports whether v is an accepted single value of the question.
func (q *Question) Valid(v string) bool { return slices.Contains(q.Values(), v) }

// Flow is a survey.
type Flow struct {
	ID        string
	Version   int
	Audience  Audience
	Title     Texts
	Intro     Texts
	Outro     Texts
	Questions []Question
	File      string
}

// Question returns the index of the question with the given id, or -1.
func (f *Flow) Index(id string) int {
	for i := range f.Questions {
		if f.Questions[i].ID == id {
			return i
		}
	}
	return -1
}

// Next returns the index of the first question at or after i whose condition holds
// for the answers, or len(f.Questions) when the flow is over.
func (f *Flow) Next(i int, answers map[string]string) int {
	for ; i < len(f.Questions); i++ {
		if c := f.Questions[i].When; c == nil || c.Eval(answers) {
			return i
		}
	}
	return len(f.Questions)
}

// Prev returns the index of the last question before i that was asked for these answers
// and takes an answer, or -1.
func (f *Flow) Prev(i int, answers map[string]string) int {
	for i--; i >= 0; i-- {
		q := &f.Questions[i]
		if q.Type.Answerable() && (q.When == nil || q.When.Eval(answers)) {
			return i
		}
	}
	return -1
}

// Set is a validated collection of flows.
type Set struct {
	byID  map[string]*Flow
	order []*Flow
}

// NewSet builds a set; flows must already be valid. Two flows with one id is an error.
func NewSet(fs ...*Flow) (*Set, error) {
	s := &Set{byID: map[string]*Flow{}}
	for _, f := range fs {
		if prev, ok := s.byID[f.ID]; ok {
			return nil, fmt.Errorf("%s:1: flow id %q already defined in %s", f.File, f.ID, prev.File)
		}
		s.byID[f.ID] = f
		s.order = append(s.order, f)
	}
	return s, nil
}

// Get returns the flow with the given id.
func (s *Set) Get(id string) (*Flow, bool) {
	f, ok := s.byID[id]
	return f, ok
}

// ForAudience returns the first flow for an audience.
func (s *Set) ForAudience(a Audience) (*Flow, bool) {
	for _, f := range s.order {
		if f.Audience == a {
			return f, true
		}
	}
	return nil, false
}

// All returns the flows in load order.
func (s *Set) All() []*Flow { return slices.Clone(s.order) }

// FlowID is the id of the audience's flow ("" when it has none): what an invitation leads to.
func (s *Set) FlowID(a Audience) string {
	if f, ok := s.ForAudience(a); ok {
		return f.ID
	}
	return ""
}

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid flow")

// Cond is a parsed `when:` condition: an OR of ANDs of comparisons.
type Cond struct {
	line int
	Src  string
	Any  [][]Cmp // Any[i] holds when all of Any[i] hold
}

// Cmp compares one earlier answer with a value or a list.
type Cmp struct {
	Q      string
	Op     string // == != < <= > >= in
	Values []string
}

// Eval reports whether the condition holds. A skipped or missing answer makes a comparison false.
func (c *Cond) Eval(answers map[string]string) bool {
	for _, all := range c.Any {
		ok := true
		for _, cmp := range all {
			if !cmp.eval(answers) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (c Cmp) eval(answers map[string]string) bool {
	a, ok := answers[c.Q]
	if !ok || a == "" {
		return false
	}
	got := strings.Split(a, ",") // multi answers hold several ids
	switch c.Op {
	case "in":
		for _, g := range got {
			if slices.Contains(c.Values, g) {
				return true
			}
		}
		return false
	case "==":
		return slices.Contains(got, c.Values[0])
	case "!=":
		return !slices.Contains(got, c.Values[0])
	}
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(c.Values[0])
	if err1 != nil || err2 != nil {
		return false
	}
	switch c.Op {
	case "<":
		return x < y
	case "<=":
		return x <= y
	case ">":
		return x > y
	case ">=":
		return x >= y
	}
	return false
}
