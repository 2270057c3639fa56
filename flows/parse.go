package flows

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/palaute/palaute/internal/yamlpos"
)

// Parse parses and validates one flow file. The error lists every problem found,
// one `file:line: what is wrong` per line.
func Parse(file string, data []byte) (*Flow, error) {
	e := &yamlpos.Errors{File: file, Kind: ErrInvalid}
	root := yamlpos.ParseDoc(e, data, "empty flow file")
	if root == nil {
		return nil, e.Err()
	}
	f := &Flow{File: file}
	m, _ := yamlpos.Mapping(e, root, "flow", "id", "version", "audience", "title", "intro", "outro", "questions")
	if m == nil {
		return nil, e.Err()
	}
	if n := m["id"]; n == nil {
		e.Add(root.Line, "missing id")
	} else if f.ID = n.Value; !yamlpos.ValidID(f.ID) {
		e.Add(n.Line, "id %q must be lower-case letters, digits and _ (max 32)", f.ID)
	}
	if n := m["version"]; n == nil {
		f.Version = 1
	} else if v, err := strconv.Atoi(n.Value); err != nil || v < 1 {
		e.Add(n.Line, "version must be a positive whole number, not %q", n.Value)
	} else {
		f.Version = v
	}
	if n := m["audience"]; n == nil {
		e.Add(root.Line, "missing audience (one of %s)", audienceList())
	} else if f.Audience = Audience(n.Value); !f.Audience.Valid() {
		e.Add(n.Line, "unknown audience %q (one of %s)", n.Value, audienceList())
	}
	f.Title = texts(e, m["title"], root, "title", true)
	f.Intro = texts(e, m["intro"], root, "intro", false)
	f.Outro = texts(e, m["outro"], root, "outro", false)
	qs := m["questions"]
	switch {
	case qs == nil:
		e.Add(root.Line, "missing questions")
	case qs.Kind != yaml.SequenceNode:
		e.Add(qs.Line, "questions must be a list")
	case len(qs.Content) == 0:
		e.Add(qs.Line, "questions is empty")
	default:
		seen := map[string]int{}
		for _, qn := range qs.Content {
			q := question(e, qn)
			if q == nil {
				continue
			}
			if first, dup := seen[q.ID]; dup && q.ID != "" {
				e.Add(q.Line, "duplicate question id %q (first at line %d)", q.ID, first)
			} else {
				seen[q.ID] = q.Line
			}
			f.Questions = append(f.Questions, *q)
		}
		for i := range f.Questions {
			checkCond(e, f, i)
		}
		if !slices.ContainsFunc(f.Questions, func(q Question) bool { return q.Type.Answerable() }) {
			e.Add(qs.Line, "flow has no question that takes an answer")
		}
	}
	if err := e.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

func audienceList() string {
	s := make([]string, len(Audiences))
	for i, a := range Audiences {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

func texts(e *yamlpos.Errors, n, parent *yaml.Node, what string, required bool) Texts {
	if n == nil {
		if required {
			e.Add(parent.Line, "missing %s", what)
		}
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		e.Add(n.Line, "%s must give a text per language, like {fi: ..., sv: ..., en: ...}", what)
		return nil
	}
	m, _ := yamlpos.Mapping(e, n, what, Languages...)
	if m == nil {
		return nil
	}
	t := Texts{}
	for lang, v := range m {
		if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
			e.Add(v.Line, "%s.%s must be a non-empty text", what, lang)
			continue
		}
		t[lang] = strings.TrimSpace(v.Value)
	}
	if _, ok := m[DefaultLang]; !ok {
		e.Add(n.Line, "%s has no text in the default language %q", what, DefaultLang)
	}
	return t
}

func question(e *yamlpos.Errors, n *yaml.Node) *Question {
	m, _ := yamlpos.Mapping(e, n, "question", "id", "type", "text", "options", "required", "when", "max_length")
	if m == nil {
		return nil
	}
	q := &Question{Line: n.Line}
	if v := m["id"]; v == nil {
		e.Add(n.Line, "question has no id")
	} else if q.ID = v.Value; !yamlpos.ValidID(q.ID) {
		e.Add(v.Line, "question id %q must be lower-case letters, digits and _ (max 32)", q.ID)
	}
	if v := m["type"]; v == nil {
		e.Add(n.Line, "question %q has no type (one of %s)", q.ID, typeList())
	} else if q.Type = Type(v.Value); !slices.Contains(types, q.Type) {
		e.Add(v.Line, "unknown question type %q (one of %s)", v.Value, typeList())
	}
	q.Text = texts(e, m["text"], n, "text", true)
	if v := m["required"]; v != nil {
		b, err := strconv.ParseBool(v.Value)
		if err != nil {
			e.Add(v.Line, "required must be true or false, not %q", v.Value)
		}
		q.Required = b
		if b && q.Type == Info {
			e.Add(v.Line, "an info question cannot be required")
		}
	}
	if v := m["max_length"]; v != nil {
		l, err := strconv.Atoi(v.Value)
		switch {
		case err != nil || l < 1 || l > 4000:
			e.Add(v.Line, "max_length must be a whole number from 1 to 4000, not %q", v.Value)
		case q.Type != Text:
			e.Add(v.Line, "max_length is only for text questions")
		default:
			q.MaxLen = l
		}
	}
	if q.Type == Text && q.MaxLen == 0 {
		q.MaxLen = DefaultMaxLen
	}
	opts := m["options"]
	switch {
	case (q.Type == Choice || q.Type == Multi) && opts == nil:
		e.Add(n.Line, "%s question %q needs options", q.Type, q.ID)
	case opts != nil && q.Type != Choice && q.Type != Multi:
		e.Add(opts.Line, "options are only for choice and multi questions")
	case opts != nil && opts.Kind != yaml.SequenceNode:
		e.Add(opts.Line, "options must be a list")
	case opts != nil:
		if len(opts.Content) < 2 || len(opts.Content) > 12 {
			e.Add(opts.Line, "give 2 to 12 options, not %d", len(opts.Content))
		}
		seen := map[string]bool{}
		for _, on := range opts.Content {
			om, _ := yamlpos.Mapping(e, on, "option", "id", "text")
			if om == nil {
				continue
			}
			o := Option{}
			if v := om["id"]; v == nil {
				e.Add(on.Line, "option has no id")
			} else if o.ID = v.Value; !yamlpos.ValidID(o.ID) || len(o.ID) > 16 {
				e.Add(v.Line, "option id %q must be lower-case letters, digits and _ (max 16)", o.ID)
			} else if seen[o.ID] {
				e.Add(v.Line, "duplicate option id %q", o.ID)
			}
			seen[o.ID] = true
			o.Text = texts(e, om["text"], on, "option text", true)
			q.Options = append(q.Options, o)
		}
	}
	if v := m["when"]; v != nil {
		c, err := ParseCond(v.Value)
		if err != nil {
			e.Add(v.Line, "bad when %q: %v", v.Value, err)
		} else {
			q.When = c
			q.When.line = v.Line
		}
	}
	return q
}

func typeList() string {
	s := make([]string, len(types))
	for i, t := range types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// checkCond checks that question i's condition names earlier answerable questions with values they can take.
func checkCond(e *yamlpos.Errors, f *Flow, i int) {
	c := f.Questions[i].When
	if c == nil {
		return
	}
	for _, all := range c.Any {
		for _, cmp := range all {
			j := f.Index(cmp.Q)
			switch {
			case j < 0:
				e.Add(c.line, "when names unknown question %q", cmp.Q)
				continue
			case j >= i:
				e.Add(c.line, "when names question %q, which is not asked before this one", cmp.Q)
				continue
			}
			ref := &f.Questions[j]
			if !ref.Type.Answerable() || ref.Type == Text {
				e.Add(c.line, "when cannot test %s question %q", ref.Type, cmp.Q)
				continue
			}
			ordered := cmp.Op != "==" && cmp.Op != "!=" && cmp.Op != "in"
			if ordered && ref.Type != Scale && ref.Type != NPS {
				e.Add(c.line, "%s needs a scale or nps question, %q is %s", cmp.Op, cmp.Q, ref.Type)
				continue
			}
			for _, v := range cmp.Values {
				if !ref.Valid(v) {
					e.Add(c.line, "%q is not an answer of %q (answers: %s)", v, cmp.Q, strings.Join(ref.Values(), ", "))
				}
			}
		}
	}
}

var condTok = regexp.MustCompile(`\s*(<=|>=|==|!=|<|>|\[|\]|,|[A-Za-z0-9_]+)`)

// ParseCond parses `nps <= 6`, `help in [1,2]`, `safe == no`, joined with `and` / `or`.
func ParseCond(src string) (*Cond, error) {
	var toks []string
	rest := src
	for strings.TrimSpace(rest) != "" {
		m := condTok.FindStringSubmatchIndex(rest)
		if m == nil || m[0] != 0 {
			return nil, fmt.Errorf("unexpected %q", strings.TrimSpace(rest))
		}
		toks = append(toks, rest[m[2]:m[3]])
		rest = rest[m[1]:]
	}
	if len(toks) == 0 {
		return nil, errors.New("empty condition")
	}
	c := &Cond{Src: src}
	var and []Cmp
	for len(toks) > 0 {
		if len(toks) < 3 {
			return nil, errors.New("expected `question op value`")
		}
		cmp := Cmp{Q: toks[0], Op: toks[1]}
		if !yamlpos.ValidID(cmp.Q) {
			return nil, fmt.Errorf("%q is not a question id", cmp.Q)
		}
		toks = toks[2:]
		switch cmp.Op {
		case "==", "!=", "<", "<=", ">", ">=":
			if !yamlpos.ValidID(toks[0]) && !isNum(toks[0]) {
				return nil, fmt.Errorf("%q is not a value", toks[0])
			}
			cmp.Values = []string{toks[0]}
			toks = toks[1:]
		case "in":
			if toks[0] != "[" {
				return nil, errors.New("in needs a list like [1,2]")
			}
			toks = toks[1:]
			for {
				if len(toks) == 0 {
					return nil, errors.New("list is not closed with ]")
				}
				cmp.Values = append(cmp.Values, toks[0])
				if len(toks) < 2 {
					return nil, errors.New("list is not closed with ]")
				}
				sep := toks[1]
				toks = toks[2:]
				if sep == "]" {
					break
				}
				if sep != "," {
					return nil, fmt.Errorf("expected , or ] in list, got %q", sep)
				}
			}
		default:
			return nil, fmt.Errorf("unknown operator %q (use == != < <= > >= in)", cmp.Op)
		}
		and = append(and, cmp)
		if len(toks) == 0 {
			break
		}
		switch toks[0] {
		case "and":
		case "or":
			c.Any = append(c.Any, and)
			and = nil
		default:
			return nil, fmt.Errorf("expected and / or, got %q", toks[0])
		}
		toks = toks[1:]
		if len(toks) == 0 {
			return nil, errors.New("condition ends with and / or")
		}
	}
	c.Any = append(c.Any, and)
	return c, nil
}

func isNum(s string) bool { _, err := strconv.Atoi(s); return err == nil }

// Load parses every *.yaml file of dir in fsys and validates them as one set.
func Load(fsys fs.FS, dir string) (*Set, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("list flows in %s: %w", dir, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no *.yaml flow files: %w", dir, ErrInvalid)
	}
	sort.Strings(names)
	return parseAll(fsys, names, func(name string) string { return name })
}

// parseAll parses the files names of fsys and validates them as one set; shown is the name a file goes by
// in errors.
func parseAll(fsys fs.FS, names []string, shown func(string) string) (*Set, error) {
	var list []error
	var fl []*Flow
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			list = append(list, fmt.Errorf("read %s: %w", shown(name), err))
			continue
		}
		f, err := Parse(shown(name), data)
		if err != nil {
			list = append(list, err)
			continue
		}
		fl = append(fl, f)
	}
	if len(list) > 0 {
		return nil, errors.Join(list...)
	}
	return NewSet(fl...)
}
