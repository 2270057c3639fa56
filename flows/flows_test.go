package flows

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

func TestDefaultFlows(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range Audiences {
		f, ok := s.ForAudience(a)
		if !ok {
			t.Fatalf("no flow for %s", a)
		}
		answerable, nps, text := 0, 0, 0
		for _, q := range f.Questions {
			if q.Type.Answerable() {
				answerable++
			}
			if q.Type == NPS {
				nps++
			}
			if q.Type == Text {
				text++
			}
			for _, l := range Languages {
				if q.Text[l] == "" {
					t.Errorf("%s/%s: no %s text", f.ID, q.ID, l)
				}
			}
		}
		if answerable < 5 || answerable > 8 || nps != 1 || text < 1 {
			t.Errorf("%s: %d questions, %d nps, %d text; want 5-7 (+ a conditional one), one NPS, free text", f.ID, answerable, nps, text)
		}
		for _, l := range Languages {
			if f.Intro[l] == "" || f.Outro[l] == "" || f.Title[l] == "" {
				t.Errorf("%s: intro/outro/title missing in %s", f.ID, l)
			}
		}
	}
}

func TestBrokenFlowErrorLines(t *testing.T) {
	data, err := os.ReadFile("testdata/broken.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("testdata/broken.yaml", data)
	if err == nil {
		t.Fatal("broken flow accepted")
	}
	want := []string{
		`testdata/broken.yaml:9: duplicate question id "help" (first at line 6)`,
		`testdata/broken.yaml:13: unknown question type "smiley"`,
		`testdata/broken.yaml:17: when names question "later", which is not asked before this one`,
		`testdata/broken.yaml:21: text has no text in the default language "fi"`,
		`testdata/broken.yaml:24: bad when "help in [1,": list is not closed with ]`,
		`testdata/broken.yaml:34: "horse" is not an answer of "pet" (answers: cat, dog)`,
		`testdata/broken.yaml:34: when names unknown question "nosuch"`,
		`testdata/broken.yaml:36: multi question "multi_bad" needs options`,
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing error line\n  %s\nin\n%s", w, got)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != len(want) {
		t.Errorf("got %d errors, want %d:\n%s", n, len(want), got)
	}
}

func TestParseErrors(t *testing.T) {
	head := "id: x\naudience: youth\ntitle: {fi: X}\n"
	tests := []struct{ name, src, want string }{
		{"not yaml", "id: [", "f.yaml:1: not valid YAML"},
		{"empty", "", "f.yaml:1: empty flow file"},
		{"unknown audience", "id: x\naudience: kids\ntitle: {fi: X}\nquestions:\n  - {id: a, type: scale, text: {fi: A}}\n", `f.yaml:2: unknown audience "kids"`},
		{"missing audience", "id: x\ntitle: {fi: X}\nquestions:\n  - {id: a, type: scale, text: {fi: A}}\n", "f.yaml:1: missing audience"},
		{"unknown key", head + "questions:\n  - {id: a, type: scale, txt: {fi: A}}\n", `f.yaml:5: unknown key "txt" in question`},
		{"bad operator", head + "questions:\n  - {id: a, type: scale, text: {fi: A}}\n  - {id: b, type: text, when: a ~ 3, text: {fi: B}}\n", `f.yaml:6: bad when "a ~ 3"`},
		{"order on yesno", head + "questions:\n  - {id: a, type: yesno, text: {fi: A}}\n  - {id: b, type: text, when: a < 3, text: {fi: B}}\n", `f.yaml:6: < needs a scale or nps question`},
		{"scale out of range", head + "questions:\n  - {id: a, type: scale, text: {fi: A}}\n  - {id: b, type: text, when: a == 7, text: {fi: B}}\n", `"7" is not an answer of "a"`},
		{"when on text", head + "questions:\n  - {id: a, type: text, text: {fi: A}}\n  - {id: b, type: text, when: a == x, text: {fi: B}}\n", `when cannot test text question "a"`},
		{"self reference", head + "questions:\n  - {id: a, type: scale, when: a == 1, text: {fi: A}}\n", `not asked before this one`},
		{"options on scale", head + "questions:\n  - id: a\n    type: scale\n    text: {fi: A}\n    options: []\n", "f.yaml:8: options are only for choice and multi"},
		{"max_length", head + "questions:\n  - {id: a, type: text, max_length: 0, text: {fi: A}}\n", "max_length must be a whole number from 1 to 4000"},
		{"bad id", head + "questions:\n  - {id: Bad-Id, type: scale, text: {fi: A}}\n", `question id "Bad-Id" must be lower-case`},
		{"only info", head + "questions:\n  - {id: a, type: info, text: {fi: A}}\n", "flow has no question that takes an answer"},
		{"scalar text", head + "questions:\n  - {id: a, type: scale, text: just text}\n", "text must give a text per language"},
		{"invalid utf8", "id: x\xff", "f.yaml:1: file is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	tests := []struct {
		cond    string
		answers map[string]string
		want    bool
	}{
		{"nps <= 6", map[string]string{"nps": "6"}, true},
		{"nps <= 6", map[string]string{"nps": "7"}, false},
		{"nps <= 6", map[string]string{"nps": ""}, false}, // skipped
		{"nps <= 6", map[string]string{}, false},          // not asked
		{"help in [1,2]", map[string]string{"help": "2"}, true},
		{"help in [1, 2]", map[string]string{"help": "3"}, false},
		{"safe == no", map[string]string{"safe": "no"}, true},
		{"safe != no", map[string]string{"safe": "yes"}, true},
		{"pets == cat", map[string]string{"pets": "dog,cat"}, true}, // multi contains
		{"pets in [fish, bird]", map[string]string{"pets": "dog,cat"}, false},
		{"a > 3 and b < 2", map[string]string{"a": "4", "b": "1"}, true},
		{"a > 3 and b < 2", map[string]string{"a": "4", "b": "2"}, false},
		{"a > 3 or b < 2", map[string]string{"a": "1", "b": "1"}, true},
		{"a >= 4 or b == 1 and c == 1", map[string]string{"b": "1", "c": "2"}, false},
	}
	for _, tt := range tests {
		c, err := ParseCond(tt.cond)
		if err != nil {
			t.Fatalf("ParseCond(%q): %v", tt.cond, err)
		}
		if got := c.Eval(tt.answers); got != tt.want {
			t.Errorf("%q with %v = %v, want %v", tt.cond, tt.answers, got, tt.want)
		}
	}
}

func TestBranching(t *testing.T) {
	s, _ := Default()
	f, _ := s.Get("nuoret")
	safe, more := f.Index("safe"), f.Index("unsafe_more")
	if got := f.Next(safe+1, map[string]string{"safe": "1"}); got != safe+1 {
		t.Errorf("safe=1 skips the unsafe follow-up")
	}
	// Feeling safe skips the follow-up question.
	nps := f.Index("nps")
	if got := f.Next(nps+1, map[string]string{"safe": "5"}); got == more {
		t.Errorf("safe=5 asks the unsafe follow-up")
	}
	if got := f.Prev(more+1, map[string]string{"safe": "5"}); got != nps {
		t.Errorf("Prev skips questions that were not asked: got %d, want %d", got, nps)
	}
}

func TestLoadDuplicateFlowID(t *testing.T) {
	src := "id: x\naudience: youth\ntitle: {fi: X}\nquestions:\n  - {id: a, type: scale, text: {fi: A}}\n"
	_, err := Load(fstest.MapFS{"a.yaml": {Data: []byte(src)}, "b.yaml": {Data: []byte(src)}}, ".")
	if err == nil || !strings.Contains(err.Error(), `b.yaml:1: flow id "x" already defined in a.yaml`) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"defaults/nuoret.yaml", "defaults/laheiset.yaml", "testdata/broken.yaml"} {
		b, _ := os.ReadFile(name)
		f.Add(b)
	}
	f.Add([]byte("questions:\n  - {when: a in [}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml:") {
				t.Fatalf("error without file:line: %v", err)
			}
			return
		}
		if fl.ID == "" || !fl.Audience.Valid() || len(fl.Questions) == 0 {
			t.Fatalf("accepted an invalid flow: %+v", fl)
		}
	})
}

func FuzzCond(f *testing.F) {
	for _, s := range []string{"nps <= 6", "help in [1,2]", "safe == no and x > 1 or y in [a]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCond(s)
		if err == nil {
			c.Eval(map[string]string{"nps": "3", "help": "1"})
		}
	})
}

// The default language is the first of the languages the UI strings exist in.
func TestDefaultLangIsTheFirstLanguage(t *testing.T) {
	if DefaultLang != Languages[0] {
		t.Fatalf("DefaultLang %q, but the first language is %q", DefaultLang, Languages[0])
	}
}
