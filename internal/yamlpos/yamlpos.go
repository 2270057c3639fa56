// Package yamlpos reads the YAML files staff edit (flows, coding rules) so that every problem is told as
// `file:line: what is wrong`, all of them at once.
package yamlpos

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Errors collects the problems of one file.
type Errors struct {
	File string
	Kind error // wrapped by every problem: the reading package's sentinel (flows.ErrInvalid, ...)
	List []error
}

// Add records a problem at line.
func (e *Errors) Add(line int, format string, args ...any) {
	e.List = append(e.List, fmt.Errorf("%s:%d: %s: %w", e.File, line, fmt.Sprintf(format, args...), e.Kind))
}

// Err is every problem recorded, one per line, or nil.
func (e *Errors) Err() error { return errors.Join(e.List...) }

var lineRe = regexp.MustCompile(`^yaml: line (\d+): `)

// ParseDoc reads data as YAML and returns its top node, or nil after recording why not (not UTF-8, not
// YAML, or empty: then the problem is the text empty).
func ParseDoc(e *Errors, data []byte, empty string) *yaml.Node {
	if !utf8.Valid(data) {
		e.Add(1, "file is not valid UTF-8")
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 1
		if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		e.Add(line, "not valid YAML: %s", lineRe.ReplaceAllString(err.Error(), ""))
		return nil
	}
	if len(doc.Content) == 0 {
		e.Add(1, "%s", empty)
		return nil
	}
	return doc.Content[0]
}

// Mapping checks that n (what, in problems) is a mapping with only known keys (any key when known is
// empty), each once, and returns its values by key and its keys in order; nil when n is no mapping.
func Mapping(e *Errors, n *yaml.Node, what string, known ...string) (map[string]*yaml.Node, []*yaml.Node) {
	if n.Kind != yaml.MappingNode {
		e.Add(n.Line, "%s must be a mapping of keys to values", what)
		return nil, nil
	}
	m := map[string]*yaml.Node{}
	var keys []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if len(known) > 0 && !slices.Contains(known, k.Value) {
			e.Add(k.Line, "unknown key %q in %s (known: %s)", k.Value, what, strings.Join(known, ", "))
			continue
		}
		if _, dup := m[k.Value]; dup {
			e.Add(k.Line, "key %q given twice in %s", k.Value, what)
			continue
		}
		m[k.Value] = v
		keys = append(keys, k)
	}
	return m, keys
}

var idRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// ValidID reports whether id is an id staff may give (a flow, question, option or topic): a lower-case
// letter, then lower-case letters, digits and _, at most 32 in all.
func ValidID(id string) bool { return idRe.MatchString(id) }
