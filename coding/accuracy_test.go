package coding_test

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/coding"
	"github.com/palaute/palaute/locales"
)

var _ bot.Coder = (*coding.Coder)(nil)

type labelled struct {
	line      int
	section   string // the last "## name" line before it, or ""
	lang, pol string
	topics    []string
	text      string
}

func readLabelled(tb testing.TB, file string) []labelled {
	tb.Helper()
	f, err := os.Open(file)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if name, ok := strings.CutPrefix(l, "## "); ok {
			section = strings.TrimSpace(name)
			continue
		}
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		p := strings.Split(l, "\t")
		if len(p) != 4 {
			tb.Fatalf("%s:%d: want 4 tab-separated fields, got %d", file, n, len(p))
		}
		x := labelled{line: n, section: section, lang: p[0], pol: p[1], text: p[3]}
		if p[2] != "" {
			x.topics = strings.Split(p[2], ",")
		}
		out = append(out, x)
	}
	return out
}

// accuracySets are the sets TestLabelledAccuracy reports, each with the polarity accuracy it must keep.
// labelled.tsv is what the rules were tuned on: its first section was written with the rules, its
// second was held out until the rules were broadened and is tuned on since. heldout2.tsv was written
// blind by a separate agent and evaluated once after the rules were committed: the honest figure for
// messages the rules have not seen. Its floor sits a few points under what it measured, so a regression
// fails; when rules change because of a message there, move it to labelled.tsv.
var accuracySets = []struct {
	file, section string // section "" is the whole file
	floor         float64
}{
	{"testdata/labelled.tsv", "", 85},
	{"testdata/labelled.tsv", "labelled", 85},
	{"testdata/labelled.tsv", "former held-out", 95}, // measured 100 % once tuned on
	{"testdata/heldout2.tsv", "", 82},                // 86.0 % at its one evaluation (e852a2b); 85.3 % after b5e0deb (matcher fix, rules unchanged)
}

// TestLabelledAccuracy codes the labelled messages and reports polarity accuracy and topic precision
// and recall, per language and overall, for each of accuracySets; it fails when polarity accuracy falls
// under a set's floor (85 % on the labelled set as a whole, which must hold at least 150 messages).
func TestLabelledAccuracy(t *testing.T) {
	c := coding.MustDefault(t)
	for _, s := range accuracySets {
		name := strings.TrimSuffix(strings.TrimPrefix(s.file, "testdata/"), ".tsv")
		if s.section != "" {
			name += "/" + s.section
		}
		t.Run(name, func(t *testing.T) {
			set := readLabelled(t, s.file)
			if s.section != "" {
				set = slices.DeleteFunc(set, func(x labelled) bool { return x.section != s.section })
			}
			if len(set) == 0 || (s.section == "" && s.file == "testdata/labelled.tsv" && len(set) < 150) {
				t.Fatalf("%s has %d messages, want at least 150 (and every set some)", name, len(set))
			}
			if acc := score(t, c, s.file, name, set); acc < s.floor {
				t.Errorf("%s: polarity accuracy %.1f%% < %.0f%%", name, acc, s.floor)
			}
		})
	}
}

// score logs the accuracy report of set and returns the polarity accuracy in percent.
func score(t *testing.T, c *coding.Coder, file, name string, set []labelled) float64 {
	known := map[string]bool{}
	for _, tp := range c.Topics() {
		known[tp.ID] = true
	}
	type tally struct{ n, polOK, tp, fp, fn int }
	by := map[string]*tally{"all": {}}
	var misses []string
	for _, x := range set {
		if !slices.Contains(locales.Languages, x.lang) || !slices.Contains([]string{"positive", "corrective", "neutral"}, x.pol) {
			t.Fatalf("%s:%d: bad language or polarity", file, x.line)
		}
		for _, tp := range x.topics {
			if !known[tp] {
				t.Fatalf("%s:%d: unknown topic %q", file, x.line, tp)
			}
		}
		if by[x.lang] == nil {
			by[x.lang] = &tally{}
		}
		r := c.Analyze(x.lang, x.text)
		for _, k := range []string{"all", x.lang} {
			s := by[k]
			s.n++
			if r.Polarity == x.pol {
				s.polOK++
			}
			for _, tp := range r.Topics {
				if slices.Contains(x.topics, tp) {
					s.tp++
				} else {
					s.fp++
				}
			}
			for _, tp := range x.topics {
				if !slices.Contains(r.Topics, tp) {
					s.fn++
				}
			}
		}
		if r.Polarity != x.pol || !sameSet(r.Topics, x.topics) {
			var why []string
			for _, m := range r.Matches {
				neg := ""
				if m.Negated {
					neg = " (negated)"
				}
				why = append(why, fmt.Sprintf("%s %q%s", m.Meaning, m.Words, neg))
			}
			misses = append(misses, fmt.Sprintf("  %s:%d %s %q: got %s %v, want %s %v  [%s]", file, x.line, x.lang, x.text,
				r.Polarity, r.Topics, x.pol, x.topics, strings.Join(why, "; ")))
		}
	}
	pct := func(a, b int) float64 {
		if b == 0 {
			return 100
		}
		return 100 * float64(a) / float64(b)
	}
	var report strings.Builder
	fmt.Fprintf(&report, "%-4s %5s %9s %15s %12s\n", "lang", "n", "polarity", "topic precision", "topic recall")
	for _, k := range []string{"fi", "sv", "en", "all"} {
		if s := by[k]; s != nil {
			fmt.Fprintf(&report, "%-4s %5d %8.1f%% %14.1f%% %11.1f%%\n", k, s.n, pct(s.polOK, s.n), pct(s.tp, s.tp+s.fp), pct(s.tp, s.tp+s.fn))
		}
	}
	acc := pct(by["all"].polOK, by["all"].n)
	t.Logf("coding accuracy on %s (%s):\n%s", name, file, report.String())
	if testing.Verbose() {
		t.Logf("messages coded differently from their labels:\n%s", strings.Join(misses, "\n"))
	}
	return acc
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
