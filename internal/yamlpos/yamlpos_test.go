package yamlpos

import (
	"errors"
	"strings"
	"testing"
)

var errBad = errors.New("bad file")

func TestProblemsNameFileAndLine(t *testing.T) {
	for _, x := range []struct {
		name, data string
		known      []string
		want       []string
	}{
		{"not utf-8", "a: \xff", nil, []string{"f.yaml:1: file is not valid UTF-8: bad file"}},
		{"not yaml", "a: 1\nb: [\n", nil, []string{"f.yaml:2: not valid YAML: did not find expected node content: bad file"}},
		{"empty", "", nil, []string{"f.yaml:1: nothing here: bad file"}},
		{"no mapping", "- a\n- b\n", nil, []string{"f.yaml:1: the top must be a mapping of keys to values: bad file"}},
		{"unknown and twice", "a: 1\nc: 2\na: 3\n", []string{"a", "b"}, []string{
			`f.yaml:2: unknown key "c" in the top (known: a, b): bad file`,
			`f.yaml:3: key "a" given twice in the top: bad file`}},
		{"any key", "x: 1\ny: 2\n", nil, nil},
	} {
		t.Run(x.name, func(t *testing.T) {
			e := &Errors{File: "f.yaml", Kind: errBad}
			if n := ParseDoc(e, []byte(x.data), "nothing here"); n != nil {
				Mapping(e, n, "the top", x.known...)
			}
			err := e.Err()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if strings.Join(got, "\n") != strings.Join(x.want, "\n") || (err != nil && !errors.Is(err, errBad)) {
				t.Fatalf("problems:\n%v\nwant:\n%s", err, strings.Join(x.want, "\n"))
			}
		})
	}
}

func TestMappingKeepsKeyOrder(t *testing.T) {
	e := &Errors{File: "f.yaml", Kind: errBad}
	m, keys := Mapping(e, ParseDoc(e, []byte("b: 1\na: 2\nc: 3\n"), "empty"), "top")
	var order []string
	for _, k := range keys {
		order = append(order, k.Value+"="+m[k.Value].Value)
	}
	if strings.Join(order, " ") != "b=1 a=2 c=3" || e.Err() != nil {
		t.Fatalf("keys %v, %v", order, e.Err())
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{"food": true, "a1_b": true, "x": true, strings.Repeat("a", 32): true,
		strings.Repeat("a", 33): false, "Food": false, "1a": false, "_a": false, "a-b": false, "": false, "ruoka ": false} {
		if ValidID(id) != want {
			t.Errorf("ValidID(%q) = %v", id, !want)
		}
	}
}
