package coding_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/palaute/palaute/coding"
)

// defaults returns the default rule files' contents (the ones embedded).
func defaults(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range coding.Files {
		b, err := os.ReadFile(filepath.Join("rules", f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

// TestBrokenRulesFile: each mistake a staff member can make is reported as file:line: what is wrong.
func TestBrokenRulesFile(t *testing.T) {
	for _, x := range []struct {
		file, data, want string
	}{
		{coding.TopicsFile, "topics:\n  - id: food\n    names: {fi: ruoka}\n    fi: [ruok*]\n  - id: food\n    names: {fi: ruoka}\n    fi: [syö]\n", `topics.yaml:5: topic "food" given twice (first at line 2)`},
		{coding.TopicsFile, "topics:\n  - id: Food!\n    names: {fi: ruoka}\n    fi: [ruok*]\n", `topics.yaml:2: topic id "Food!" must be lower-case`},
		{coding.TopicsFile, "topics:\n  - id: food\n    names: {sv: mat}\n    fi: [ruok*]\n", `topics.yaml:3: topic food needs a name in fi`},
		{coding.TopicsFile, "topics:\n  - id: food\n    names: {fi: ruoka}\n    fi: [ru*ok]\n", `topics.yaml:4: a * can stand only at the start or the end of a word`},
		{coding.TopicsFile, "topics:\n  - id: food\n    names: {fi: ruoka}\n    fi:\n      - ruoka\n      - \"@herkut\"\n", `topics.yaml:6: unknown group @herkut`},
		{coding.TopicsFile, "topics:\n  - id: food\n    names: {fi: ruoka}\n    de: [essen]\n", `topics.yaml:4: unknown key "de" in a topic`},
		{coding.TopicsFile, "topics:\n  - id: food\n    names: {fi: ruoka}\n    fi: [ruoka, \"\", syö]\n", `topics.yaml:4: food.fi: every entry must be a word`},
		{coding.TopicsFile, "topics:\n  - id: food\n    names: {fi: ruoka}\n    fi: [\"ruoka,,syö\"]\n", `topics.yaml:4: empty phrase in "ruoka,,syö"`},
		{coding.TopicsFile, "topics:\n  - id: food\n    names: {fi: ruoka}\n    fi: [\"self-harm\"]\n", `topics.yaml:4: "self-harm" is more than one word here`},
		{coding.TopicsFile, "topics: [\n", `topics.yaml:1: not valid YAML`},
		{coding.PolarityFile, "corrective_weight: lots\nfi: {negators: [ei], positive: [kiva]}\nsv: {negators: [inte], positive: [bra]}\nen: {negators: [not], positive: [good]}\n", `polarity.yaml:1: corrective_weight must be a whole number from 1 to 100, not "lots"`},
		{coding.PolarityFile, "fi: {negators: [ei], positive: [kiva]}\nen: {negators: [not], positive: [good]}\n", `polarity.yaml:1: missing sv: every language needs its polarity words`},
		{coding.PolarityFile, "fi: {positive: [kiva]}\nsv: {negators: [inte], positive: [bra]}\nen: {negators: [not], positive: [good]}\n", `polarity.yaml:1: fi needs negators`},
		{coding.PolarityFile, "fi: {negators: [ei], positive: [\"kiva|\"]}\nsv: {negators: [inte], positive: [bra]}\nen: {negators: [not], positive: [good]}\n", `polarity.yaml:1: empty alternative in "kiva|"`},
		{coding.CrisisFile, "classes:\n  bullying:\n    fi: [kiusa*]\n", `crisis.yaml:2: unknown crisis class "bullying" (known: suicide, self_harm`},
		{coding.CrisisFile, "classes:\n  suicide:\n    fi: []\n", `crisis.yaml:2: no crisis phrases: crisis detection would be off`},
		{coding.CrisisFile, "groups:\n  me: [mua]\n  me: [minua]\nclasses:\n  violence:\n    fi: [\"@me lyö\"]\n", `crisis.yaml:3: key "me" given twice in groups`},
		{coding.CrisisFile, "", `crisis.yaml:1: the file is empty`},
		{coding.CrisisFile, "classes:\n  violence:\n    fi: [lyö\xff]\n", `crisis.yaml:1: file is not valid UTF-8`},
		{coding.CrisisFile, "groups:\n  me: [\"mua minua\"]\nclasses:\n  violence:\n    fi: [\"@me lyö\"]\n", `crisis.yaml:2: group me: "mua minua": a group holds single words`},
	} {
		files := defaults(t)
		files[x.file] = []byte(x.data)
		names := map[string]string{}
		for f := range files {
			names[f] = "rules/" + f
		}
		_, err := coding.Parse(names, files)
		if err == nil || !strings.Contains(err.Error(), "rules/"+x.want) || !errors.Is(err, coding.ErrInvalid) {
			t.Errorf("%s %q:\n got %v\nwant rules/%s", x.file, x.data, err, x.want)
		}
	}
}

func TestEveryErrorAtOnce(t *testing.T) {
	files := defaults(t)
	files[coding.TopicsFile] = []byte("topics:\n  - id: a\n    names: {fi: a}\n    fi: [\"*\"]\n  - id: b\n    names: {fi: b}\n    fi: [\"x*y\"]\n")
	_, err := coding.Parse(nil, files)
	if err == nil || strings.Count(err.Error(), "\n") != 1 || !strings.Contains(err.Error(), "topics.yaml:4:") || !strings.Contains(err.Error(), "topics.yaml:7:") {
		t.Fatalf("want both problems, one per line:\n%v", err)
	}
}

// TestRulesDirOverride: a file in coding.rules_dir replaces the embedded one of the same name; the others
// stay; an unknown file and a broken one stop start-up with their path.
func TestRulesDirOverride(t *testing.T) {
	dir := t.TempDir()
	topics := "topics:\n  - id: pets\n    names: {fi: lemmikit, sv: husdjur, en: pets}\n    fi: [koira*, kissa*]\n    sv: [hund*]\n    en: [dog, dogs]\n"
	if err := os.WriteFile(filepath.Join(dir, coding.TopicsFile), []byte(topics), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("notes"), 0o644)
	c, err := coding.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	pol, tp := c.Code("fi", "koiran kanssa ulkoilu on kivaa")
	if pol != "positive" || len(tp) != 1 || tp[0] != "pets" {
		t.Fatalf("with the override: %s %v, want positive [pets] (embedded polarity kept)", pol, tp)
	}
	if _, ok := c.Crisis("haluun kuolla"); !ok {
		t.Fatal("embedded crisis rules lost")
	}
	os.WriteFile(filepath.Join(dir, "crisis.yml"), []byte("x: 1\n"), 0o644)
	if _, err := coding.Load(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "crisis.yml")+":1: unknown rules file") {
		t.Fatalf("unknown file: %v", err)
	}
	os.Remove(filepath.Join(dir, "crisis.yml"))
	os.WriteFile(filepath.Join(dir, coding.CrisisFile), []byte("classes:\n  suicide:\n    fi: [\"*\"]\n"), 0o644)
	if _, err := coding.Load(dir); err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, coding.CrisisFile)+":3: ") {
		t.Fatalf("broken override: %v", err)
	}
	if _, err := coding.Load(filepath.Join(dir, "nosuch")); err == nil {
		t.Fatal("a missing rules_dir is not reported")
	}
}

func BenchmarkCode(b *testing.B) {
	c := coding.MustDefault(b)
	set := readLabelled(b, "testdata/labelled.tsv")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x := set[i%len(set)]
		c.Code(x.lang, x.text)
	}
}

func BenchmarkCrisis(b *testing.B) {
	c := coding.MustDefault(b)
	set := readLabelled(b, "testdata/labelled.tsv")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Crisis(set[i%len(set)].text)
	}
}

// BenchmarkCrisisLong is a message at the engine's length limit (4000 characters).
func BenchmarkCrisisLong(b *testing.B) {
	c := coding.MustDefault(b)
	text := strings.Repeat("ruoka on hyvää ja ohjaajat on kivoja mutta ", 100)[:4000]
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Crisis(text)
	}
}

func BenchmarkLoad(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := coding.Default(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCodeAgreesWithItsExplanation: Code and Crisis (which build no explanations) give what Analyze and
// ExplainCrisis give, and every rule an explanation names is the file:line and text of a rule.
func TestCodeAgreesWithItsExplanation(t *testing.T) {
	c := coding.MustDefault(t)
	for _, file := range []string{"testdata/labelled.tsv", "testdata/heldout2.tsv"} {
		for _, x := range readLabelled(t, file) {
			pol, topics := c.Code(x.lang, x.text)
			r := c.Analyze(x.lang, x.text)
			if pol != r.Polarity || strings.Join(topics, ",") != strings.Join(r.Topics, ",") {
				t.Errorf("%s:%d: Code %s %v, Analyze %s %v", file, x.line, pol, topics, r.Polarity, r.Topics)
			}
			class, ok := c.Crisis(x.text)
			eclass, ms, eok := c.ExplainCrisis(x.text)
			if class != eclass || ok != eok {
				t.Errorf("%s:%d: Crisis %q %v, ExplainCrisis %q %v", file, x.line, class, ok, eclass, eok)
			}
			for _, m := range append(r.Matches, ms...) {
				if !ruleRe.MatchString(m.Rule) {
					t.Errorf("%s:%d: match %+v does not name its rule as file:line \"text\"", file, x.line, m)
				}
			}
		}
	}
}

var ruleRe = regexp.MustCompile(`^coding/rules/(polarity|topics|crisis)\.yaml:\d+ ".+"$`)

// TestCorrectiveWeight: a complaint among praise is kept as corrective unless the praise outnumbers it by
// more than corrective_weight to 1; the weight is the staff's to set.
func TestCorrectiveWeight(t *testing.T) {
	const langs = "sv: {negators: [inte], positive: [bra], corrective: [dålig]}\nen: {negators: [not], positive: [good], corrective: [bad]}\n"
	for _, x := range []struct {
		weight int
		text   string
		want   string
	}{
		{2, "kiva. kiva. kiva. huono.", coding.Positive},   // 3 praise > 2 × 1 complaint
		{2, "kiva. kiva. huono.", coding.Corrective},       // 2 praise, not more than 2 × 1
		{3, "kiva. kiva. kiva. huono.", coding.Corrective}, // 3, not more than 3 × 1
		{3, "kiva. kiva. kiva. kiva. huono.", coding.Positive},
		{3, "kiva. kiva. kiva. kiva. kiva. kiva. huono. huono.", coding.Corrective}, // 6, not more than 3 × 2
		{1, "kiva. kiva. huono.", coding.Positive},
		{1, "kiva. huono.", coding.Corrective},
	} {
		files := defaults(t)
		files[coding.PolarityFile] = []byte(fmt.Sprintf("corrective_weight: %d\nfi: {negators: [ei], positive: [kiva], corrective: [huono]}\n%s", x.weight, langs))
		c, err := coding.Parse(nil, files)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := c.Code("fi", x.text); got != x.want {
			t.Errorf("corrective_weight %d, %q: %s, want %s", x.weight, x.text, got, x.want)
		}
	}
}
