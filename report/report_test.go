package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/report"
)

const month = "2026-11" // weeks 45-48 of 2026
const prevMonth = "2026-10"

func TestResponseCountThreshold(t *testing.T) {
	for _, tc := range []struct {
		n     int
		shown bool
	}{{0, false}, {1, false}, {4, false}, {5, true}, {6, true}} {
		t.Run(itoa(tc.n), func(t *testing.T) {
			f := newFake()
			f.respond(tc.n, "a", "nuoret", "2026-W45", "help=4", "nps=9")
			s := MustBuild(t, f, opts(units("a")...), "a", month)
			g := group(t, &s.Units[0], "youth")
			if g.Responses.Shown() != tc.shown {
				t.Fatalf("n=%d: responses shown = %v, want %v", tc.n, g.Responses.Shown(), tc.shown)
			}
			text := s.Text("en")
			for _, q := range []*report.Question{question(t, g, "help"), g.NPS()} {
				if q.Shown() != tc.shown || (q.Mean != nil || q.NPS != nil || q.Dist != nil) != tc.shown {
					t.Errorf("n=%d: question %s shown=%v mean=%v nps=%v dist=%v", tc.n, q.ID, q.Shown(), q.Mean, q.NPS, q.Dist)
				}
			}
			if tc.shown {
				if g.Responses.N != tc.n || !strings.Contains(text, "Responses: "+itoa(tc.n)) {
					t.Errorf("n=%d: text does not show the count:\n%s", tc.n, text)
				}
				return
			}
			if g.Responses.N != 0 || g.Responses.Hidden != report.TooFew {
				t.Errorf("hidden cell carries n=%d hidden=%q", g.Responses.N, g.Responses.Hidden)
			}
			if !strings.Contains(text, "Young people: too few answers to show (n < 5)") {
				t.Errorf("n=%d: no 'too few' note:\n%s", tc.n, text)
			}
			// The exact small n appears nowhere: not in the text, the JSON or the CSV.
			js, _ := s.JSON()
			var csv strings.Builder
			if err := s.CSV(&csv); err != nil {
				t.Fatal(err)
			}
			if tc.n > 0 {
				for name, out := range map[string]string{"text": text, "json": string(js), "csv": csv.String()} {
					if !onlyInPeriods(out, itoa(tc.n)) {
						t.Errorf("n=%d appears in the %s:\n%s", tc.n, name, out)
					}
				}
			}
		})
	}
}

// onlyInPeriods reports whether every occurrence of the digit d in out is part of a period or week
// name such as 2026-11 or the min_responses/min_comments settings.
func onlyInPeriods(out, d string) bool {
	clean := regexp.MustCompile(`20\d\d-(W?\d\d|H\d)|"min_(responses|comments)": \d+|n < 5|< 3|at least \d+`).ReplaceAllString(out, "")
	return !regexp.MustCompile(`\b` + d + `\b`).MatchString(clean)
}

func TestQuestionHasItsOwnN(t *testing.T) {
	f := newFake()
	f.respond(4, "a", "nuoret", "2026-W45", "help=4", "together=2", "nps=9")
	f.respond(4, "a", "nuoret", "2026-W46", "help=5", "together=", "nps=10") // 4 skipped "together"
	s := MustBuild(t, f, opts(units("a")...), "a", month)
	g := group(t, &s.Units[0], "youth")
	if !g.Responses.Shown() || g.Responses.N != 8 {
		t.Fatalf("responses = %+v, want 8 shown", g.Responses)
	}
	if q := question(t, g, "help"); !q.Shown() || q.N != 8 || *q.Mean != 4.5 {
		t.Errorf("help = %+v, want n=8 mean 4.5", q)
	}
	if q := question(t, g, "together"); q.Shown() || q.Dist != nil || q.Mean != nil {
		t.Errorf("together answered by 4 is shown: %+v", q)
	}
	// A question nobody was asked is hidden too, not shown as empty.
	if q := question(t, g, "hope"); q.Shown() {
		t.Errorf("hope (no answers) shown: %+v", q)
	}
	if text := s.Text("en"); !strings.Contains(text, "Decisions about me were made together with me: too few answers to show (n < 5)") {
		t.Errorf("text:\n%s", text)
	}
}

// A distribution is shown only with its figure, and only from min_comments answers.
func TestDistributionNeedsK(t *testing.T) {
	f := newFake()
	f.respond(10, "a", "nuoret", "2026-W45", "help=1")
	f.respond(7, "a", "nuoret", "2026-W45", "help=", "heard=3")
	s := MustBuild(t, f, opts(units("a")...), "a", "2026-W45")
	g := group(t, &s.Units[0], "youth")
	help := question(t, g, "help")
	if len(help.Dist) != 5 || help.Dist[0].Count != 10 || help.Dist[0].Pct != 100 {
		t.Errorf("help distribution = %+v", help.Dist)
	}
	if heard := question(t, g, "heard"); heard.Dist != nil || heard.Mean == nil || heard.Breakdown != report.TooFew {
		t.Errorf("heard (n=7) has a distribution: %+v", heard)
	}
	text := s.Text("en")
	if !strings.Contains(text, "😞 1 ▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇ 100 %") {
		t.Errorf("no 100 %% bar in:\n%s", text)
	}
}

// The all-units total of a half-year is the sum of the units: when the hidden units hold 0 to k-1 answers
// together, the total is hidden too; every unit with enough answers keeps its figures, in the total's
// summary and its own.
func TestSecondarySuppression(t *testing.T) {
	const per = "2026-H2"
	type want map[string]report.Hidden // unit -> hidden reason of its youth response count
	for _, tc := range []struct {
		name   string
		counts map[string]int
		want   want
		total  report.Hidden
	}{
		{"one hidden: the total is protected", map[string]int{"a": 3, "b": 6, "c": 20},
			want{"a": report.TooFew, "b": "", "c": ""}, report.Protected},
		{"two hidden: enough", map[string]int{"a": 3, "b": 6, "c": 20, "d": 2},
			want{"a": report.TooFew, "b": "", "c": "", "d": report.TooFew}, ""},
		{"an empty hidden unit does not count", map[string]int{"a": 0, "b": 3, "c": 20, "d": 9},
			want{"a": report.TooFew, "b": report.TooFew, "c": "", "d": ""}, report.Protected},
		{"two hidden, 4 answers together: the total is protected", map[string]int{"a": 1, "b": 3, "c": 20, "d": 9},
			want{"a": report.TooFew, "b": report.TooFew, "c": "", "d": ""}, report.Protected},
		{"two hidden, 6 answers together: the total stays", map[string]int{"a": 2, "b": 4, "c": 20, "d": 9},
			want{"a": report.TooFew, "b": report.TooFew, "c": "", "d": ""}, ""},
		{"nothing hidden", map[string]int{"a": 5, "b": 6},
			want{"a": "", "b": ""}, ""},
		{"hidden total: nothing to subtract from", map[string]int{"a": 3, "b": 0},
			want{"a": report.TooFew, "b": report.TooFew}, report.TooFew},
		{"only unit hidden, the rest empty", map[string]int{"a": 4, "b": 0, "c": 0},
			want{"a": report.TooFew, "b": report.TooFew, "c": report.TooFew}, report.TooFew},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			var ids []string
			for u, n := range tc.counts {
				ids = append(ids, u)
				f.respond(n, u, "nuoret", "2026-W46", "help=4", "nps=9")
			}
			slices.Sort(ids)
			o := opts(units(ids...)...)
			s := MustBuild(t, f, o, report.All, per)
			if h := group(t, s.Total, "youth").Responses.Hidden; h != tc.total {
				t.Errorf("total hidden = %q, want %q", h, tc.total)
			}
			for i := range s.Units {
				u := &s.Units[i]
				g := group(t, u, "youth")
				if g.Responses.Hidden != tc.want[u.ID] {
					t.Errorf("unit %s (n=%d): hidden = %q, want %q", u.ID, tc.counts[u.ID], g.Responses.Hidden, tc.want[u.ID])
				}
				// Every question of a hidden group is hidden with it.
				for _, q := range g.Questions {
					if !g.Responses.Shown() && q.Shown() {
						t.Errorf("unit %s: question %s shown in a hidden group", u.ID, q.ID)
					}
				}
				// The unit's own summary hides the same cells.
				own := MustBuild(t, f, o, u.ID, per)
				if h := group(t, &own.Units[0], "youth").Responses.Hidden; h != tc.want[u.ID] {
					t.Errorf("unit %s own summary: hidden = %q, want %q", u.ID, h, tc.want[u.ID])
				}
			}
			// Nothing can be recovered: a shown total minus the shown units is never 1 to k-1 answers.
			if tc.total == "" {
				shown, total := 0, group(t, s.Total, "youth").Responses.N
				for i := range s.Units {
					if g := group(t, &s.Units[i], "youth"); g.Responses.Shown() {
						shown += g.Responses.N
					}
				}
				if d := total - shown; d > 0 && d < 5 {
					t.Errorf("total %d - shown %d gives a figure of %d answers", total, shown, d)
				}
			}
		})
	}
}

// A question skipped by many in one unit is suppressed on its own margin too.
func TestSecondarySuppressionPerQuestion(t *testing.T) {
	f := newFake()
	f.respond(6, "a", "nuoret", "2026-W45", "help=4", "safe=2") // safe n=6
	f.respond(6, "b", "nuoret", "2026-W45", "help=4", "safe=")
	f.respond(2, "b", "nuoret", "2026-W45", "help=4", "safe=5") // safe n=2: hidden
	f.respond(9, "c", "nuoret", "2026-W45", "help=4", "safe=3") // safe n=9
	s := MustBuild(t, f, opts(units("a", "b", "c")...), report.All, "2026-H2")
	safe := func(u *report.Unit) *report.Question { return question(t, group(t, u, "youth"), "safe") }
	if q := safe(&s.Units[1]); q.Hidden != report.TooFew {
		t.Errorf("b safe = %+v, want too_few", q.Cell)
	}
	if q := safe(&s.Units[0]); !q.Shown() || q.N != 6 {
		t.Errorf("a safe = %+v, want shown n=6", q.Cell)
	}
	if q := safe(&s.Units[2]); !q.Shown() || q.N != 9 {
		t.Errorf("c safe = %+v, want shown n=9", q.Cell)
	}
	if q := safe(s.Total); q.Hidden != report.Protected {
		t.Errorf("total safe = %+v, want protected (17 - 6 - 9 would give b's 2)", q.Cell)
	}
	// help is shown everywhere: nothing hidden on its margin.
	for i := range s.Units {
		if q := question(t, group(t, &s.Units[i], "youth"), "help"); !q.Shown() {
			t.Errorf("%s help hidden", s.Units[i].ID)
		}
	}
}

// Youth and relatives are never merged: two small audiences stay hidden, and no figure is their sum.
func TestAudiencesNeverMerged(t *testing.T) {
	f := newFake()
	f.respond(3, "a", "nuoret", "2026-W45", "help=4", "nps=9")
	f.respond(4, "a", "laheiset", "2026-W45", "respect=4", "nps=9")
	f.respond(4, "a", "sosiaalityo", "2026-W46", "respect=4", "nps=9")
	s := MustBuild(t, f, opts(units("a", "b")...), report.All, month)
	for _, u := range []*report.Unit{&s.Units[0], s.Total} {
		for _, g := range u.Groups {
			if g.Responses != nil && g.Responses.Shown() {
				t.Errorf("%s/%s shown with n=%d", u.ID, g.Audience, g.Responses.N)
			}
		}
	}
	js, _ := s.JSON()
	for _, sum := range []string{"7", "8", "11"} {
		if strings.Contains(string(js), `"n": `+sum) {
			t.Errorf("a sum over audiences (%s) appears:\n%s", sum, js)
		}
	}
}

func TestNPSArithmetic(t *testing.T) {
	type shares = report.NPSShares
	for _, tc := range []struct {
		name    string
		answers map[string]int // nps value -> count
		score   int
		want    shares
	}{
		{"all promoters", map[string]int{"9": 3, "10": 2}, 100, shares{Promoters: 100}},
		{"all detractors", map[string]int{"0": 1, "6": 4}, -100, shares{Detractors: 100}},
		{"all passives", map[string]int{"7": 2, "8": 3}, 0, shares{Passives: 100}},
		{"edges 6 7 8 9", map[string]int{"6": 2, "7": 2, "8": 2, "9": 2, "10": 2}, 20, shares{Promoters: 40, Passives: 40, Detractors: 20}},
		{"thirds", map[string]int{"10": 2, "8": 2, "3": 2}, 0, shares{Promoters: 33, Passives: 33, Detractors: 33}},
		{"half rounds away from zero (+12.5)", map[string]int{"9": 3, "7": 3, "0": 2}, 13, shares{Promoters: 38, Passives: 38, Detractors: 25}},
		{"half rounds away from zero (-12.5)", map[string]int{"9": 2, "7": 3, "0": 3}, -13, shares{Promoters: 25, Passives: 38, Detractors: 38}},
		{"score from exact shares", map[string]int{"10": 4, "8": 1, "2": 2}, 29, shares{Promoters: 57, Passives: 14, Detractors: 29}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			var counts [11]int64
			for v, n := range tc.answers {
				f.respond(n, "a", "nuoret", "2026-W45", "nps="+v)
				i, _ := strconv.Atoi(v)
				counts[i] += int64(n)
			}
			s := MustBuild(t, f, opts(units("a")...), "a", "2026-W45")
			q := group(t, &s.Units[0], "youth").NPS()
			if q == nil || q.NPS == nil || q.NPS.Score != tc.score {
				t.Fatalf("NPS = %+v, want score %d", q, tc.score)
			}
			if got, _ := report.NPSOf(counts); got.Score != tc.score || got.Shares == nil || *got.Shares != tc.want {
				t.Errorf("shares = %+v, want %+v", got.Shares, tc.want)
			}
		})
	}
}

func TestMeanRounding(t *testing.T) {
	f := newFake()
	f.respond(2, "a", "nuoret", "2026-W45", "help=4")
	f.respond(1, "a", "nuoret", "2026-W45", "help=5")
	f.respond(3, "a", "nuoret", "2026-W45", "help=3") // 25/6 = 4.1666 -> ... (8+5+9)/6 = 3.666 -> 3.7
	s := MustBuild(t, f, opts(units("a")...), "a", month)
	q := question(t, group(t, &s.Units[0], "youth"), "help")
	if *q.Mean != 3.7 {
		t.Errorf("mean = %v, want 3.7", *q.Mean)
	}
	if fi := s.Text("fi"); !strings.Contains(fi, "3,7") {
		t.Errorf("fi text has no decimal comma:\n%s", fi)
	}
}

func TestTrend(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prev, cur []string // respondents' answers "help,nps"
		wantHelp  string   // en text fragment, "" = no trend marker
		wantResp  string
		wantTrend bool
	}{
		{"up", rep(6, "3,5"), rep(6, "4,10"), "4.0 ▲ 1.0", "Responses: 6 ± 0", true},
		{"down", rep(10, "5,10"), rep(5, "4,9"), "4.0 ▼ 1.0", "Responses: 5 ▼ 5", true},
		{"same", rep(5, "4,9"), rep(7, "4,9"), "4.0 ± 0", "Responses: 7 ▲ 2", true},
		{"previous hidden", rep(4, "1,0"), rep(6, "4,10"), "4.0 (n = 6)", "Responses: 6\n", false},
		{"current hidden", rep(6, "1,0"), rep(4, "4,10"), "", "Young people: too few answers", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			for _, a := range tc.prev {
				h, n, _ := strings.Cut(a, ",")
				f.respond(1, "a", "nuoret", "2026-W41", "help="+h, "nps="+n)
			}
			for _, a := range tc.cur {
				h, n, _ := strings.Cut(a, ",")
				f.respond(1, "a", "nuoret", "2026-W46", "help="+h, "nps="+n)
			}
			s := MustBuild(t, f, opts(units("a")...), "a", month)
			g := group(t, &s.Units[0], "youth")
			if (g.Trend != nil) != tc.wantTrend || (question(t, g, "help").Trend != nil) != tc.wantTrend ||
				(g.NPS().Trend != nil) != tc.wantTrend {
				t.Errorf("trends present = %v/%v/%v, want %v", g.Trend != nil, question(t, g, "help").Trend != nil, g.NPS().Trend != nil, tc.wantTrend)
			}
			text := s.Text("en")
			if tc.wantHelp != "" && !strings.Contains(text, "I got help when I needed it: "+tc.wantHelp) {
				t.Errorf("help line: want %q in\n%s", tc.wantHelp, text)
			}
			if !strings.Contains(text, tc.wantResp) {
				t.Errorf("want %q in\n%s", tc.wantResp, text)
			}
		})
	}
}

func rep(n int, s string) []string { return slices.Repeat([]string{s}, n) }

// A trend is never drawn from a previous period whose cell was hidden by secondary suppression.
func TestTrendFromProtectedPrevious(t *testing.T) {
	f := newFake()
	f.respond(3, "a", "nuoret", "2026-W20", "help=1") // H1: a hidden, so the total is protected
	f.respond(6, "b", "nuoret", "2026-W20", "help=2")
	f.respond(20, "c", "nuoret", "2026-W20", "help=4")
	f.respond(6, "a", "nuoret", "2026-W46", "help=5")
	f.respond(6, "b", "nuoret", "2026-W46", "help=5")
	f.respond(6, "c", "nuoret", "2026-W46", "help=5")
	o := opts(units("a", "b", "c")...)
	prev := MustBuild(t, f, o, report.All, "2026-H1")
	if h := group(t, prev.Total, "youth").Responses.Hidden; h != report.Protected {
		t.Fatalf("H1 total = %q, want protected", h)
	}
	s := MustBuild(t, f, o, report.All, "2026-H2")
	g := group(t, s.Total, "youth")
	if !g.Responses.Shown() || g.Trend != nil || question(t, g, "help").Trend != nil {
		t.Errorf("H2 total: shown=%v trend=%+v help trend=%+v, want shown with no trend", g.Responses.Shown(), g.Trend, question(t, g, "help").Trend)
	}
	// b's trend is computed: both its periods are shown.
	if tr := group(t, &s.Units[1], "youth").Trend; tr == nil || tr.Prev != 6 || tr.Delta != 0 {
		t.Errorf("b trend = %+v, want 6 -> 6", tr)
	}
	if tr := question(t, group(t, &s.Units[1], "youth"), "help").Trend; tr == nil {
		t.Errorf("b help trend missing")
	}
}

// Rate targets (NPS, means) are evaluated in every summary, only on shown figures; the count target
// "responses" is a half-year target, evaluated in the half-year summary only.
func TestTargets(t *testing.T) {
	f := newFake()
	f.respond(6, "a", "nuoret", "2026-W45", "help=4", "safe=3", "nps=10")
	f.respond(2, "a", "nuoret", "2026-W45", "help=4", "safe=3", "nps=0")
	f.respond(7, "a", "laheiset", "2026-W45", "respect=5", "nps=6")
	f.respond(3, "a", "sosiaalityo", "2026-W45", "respect=5", "nps=10")
	us := units("a")
	us[0].Targets = map[string]float64{"nps": 30, "help": 4.0, "safe": 3.5, "respect": 4.5, "responses": 8}
	check := func(name string, tg *report.Target, want *bool) {
		t.Helper()
		switch {
		case want == nil && tg != nil:
			t.Errorf("%s: target evaluated: %+v", name, tg)
		case want != nil && (tg == nil || tg.Met != *want):
			t.Errorf("%s: target = %+v, want met=%v", name, tg, *want)
		}
	}
	yes, no := true, false
	for _, per := range []string{month, "2026-H2"} {
		t.Run(per, func(t *testing.T) {
			s := MustBuild(t, f, opts(us...), "a", per)
			half := per == "2026-H2"
			y := group(t, &s.Units[0], "youth")
			r := group(t, &s.Units[0], "relative")
			if half {
				check("youth responses 8 >= 8", y.Target, &yes)
				check("relative responses 7 < 8", r.Target, &no)
			} else {
				check("youth responses in a month", y.Target, nil)
				check("relative responses in a month", r.Target, nil)
			}
			check("youth nps 50 >= 30", y.NPS().Target, &yes)
			check("youth help 4.0 >= 4.0", question(t, y, "help").Target, &yes)
			check("youth safe 3.0 < 3.5", question(t, y, "safe").Target, &no)
			check("relative nps -100 < 30", r.NPS().Target, &no)
			check("relative respect 5.0", question(t, r, "respect").Target, &yes)
			sw := group(t, &s.Units[0], "social_worker")
			check("social workers hidden", sw.Target, nil)
			check("social workers nps hidden", sw.NPS().Target, nil)

			// The unit's targets together: met, not met, and those a hidden figure leaves open.
			met, evaluated := s.Units[0].TargetsMet()
			wantMet, wantEval := 3, 5
			if half {
				wantMet, wantEval = 4, 7
			}
			if met != wantMet || evaluated != wantEval {
				t.Errorf("targets met %d of %d, want %d of %d: %+v", met, evaluated, wantMet, wantEval, s.Units[0].Targets)
			}
			text := s.Text("en")
			want := []string{"NPS: 50 · target 30: ✓ met", "I feel safe where I live: 3.0 · target 3.5: ✗ not met yet",
				"Targets: 3 of 5 met\n", "  ✗ Relatives · NPS: −100 (target 30, not met yet)\n",
				"  – Social workers · NPS: cannot be assessed, too few answers to show (n < 5)\n"}
			if half {
				want = []string{"Responses: 8 · target 8: ✓ met", "Responses: 7 · target 8: ✗ not met yet",
					"Half-year targets: 4 of 7 met\n", "  ✓ Young people · Responses: 8 (target 8, met)\n",
					"  ✗ Relatives · Responses: 7 (target 8, not met yet)\n",
					"  – Social workers · Responses: cannot be assessed, too few answers to show (n < 5)\n"}
			} else if strings.Contains(text, "Responses: 8 · target") {
				t.Errorf("a responses target in a monthly summary:\n%s", text)
			}
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("want %q in\n%s", w, text)
				}
			}
		})
	}
}

// The organisation-wide half-year summary lists each unit's targets met first.
func TestTargetsByUnit(t *testing.T) {
	f := newFake()
	f.respond(8, "a", "nuoret", "2026-W30", "help=4", "nps=10")
	f.respond(9, "b", "nuoret", "2026-W40", "help=2", "nps=0")
	f.respond(2, "c", "nuoret", "2026-W40", "help=2", "nps=0")
	us := units("a", "b", "c")
	for i := range us {
		us[i].Targets = map[string]float64{"nps": 30, "help": 4.0}
	}
	s := MustBuild(t, f, opts(us...), report.All, "2026-H2")
	if s.Kind != "half" {
		t.Errorf("kind = %q", s.Kind)
	}
	text := s.Text("fi")
	// c has 2 answers (hidden) and cannot be assessed; a and b keep their figures (the total is hidden).
	if !strings.Contains(text, "Tavoitteet yksiköittäin (saavutettu/arvioitu): Yksikkö a 2/2 · Yksikkö b 0/2 · Yksikkö c –") {
		t.Errorf("no overview of targets by unit:\n%s", text)
	}
	if !strings.Contains(text, "heinä–joulukuu 2026") || !strings.Contains(text, "Viikot 27–53") {
		t.Errorf("half-year not named with its weeks:\n%s", text)
	}
}

// Spontaneous feedback: its count from k messages; its polarities and topics (a breakdown) from
// min_comments, a polarity of fewer than 3 as "< 3" and a topic of fewer than 3 left out.
func TestFeedbackCounts(t *testing.T) {
	f := newFake()
	for i := range 13 {
		pol := "positive"
		switch i {
		case 3:
			pol = "corrective"
		case 5:
			pol = "neutral"
		}
		topics := []string{"food"}
		if i == 0 {
			topics = append(topics, "school")
		}
		f.feedback("a", "youth", "2026-W45", pol, "viesti", topics...)
	}
	for range 8 {
		f.feedback("a", "relative", "2026-W45", "positive", "viesti", "food")
	}
	for range 4 {
		f.feedback("a", "unknown", "2026-W46", "positive", "viesti")
	}
	s := MustBuild(t, f, opts(units("a")...), "a", month)
	y := group(t, &s.Units[0], "youth").Feedback
	if !y.Shown() || y.N != 13 {
		t.Fatalf("youth feedback = %+v", y)
	}
	if got := bars(y.Polarity); got != "positive 11 85%, corrective 0 0%, neutral 0 0%" || y.Polarity[2].Hidden != report.Small {
		t.Errorf("polarity = %s", got)
	}
	if got := bars(y.Topics); got != "food 13 100%" {
		t.Errorf("topics = %s", got)
	}
	if r := group(t, &s.Units[0], "relative").Feedback; !r.Shown() || r.N != 8 || r.Polarity != nil || r.Topics != nil || r.Breakdown != report.TooFew {
		t.Errorf("relatives' feedback (8) = %+v, want the count only", r)
	}
	if u := group(t, &s.Units[0], "unknown").Feedback; u.Shown() {
		t.Errorf("4 feedback messages from unknown shown: %+v", u)
	}
	o := opts(units("a")...)
	o.Topics = topicNames{"food": {"fi": "ruoka", "sv": "mat", "en": "meals"}}
	if text := MustBuild(t, f, o, "a", month).Text("sv"); !strings.Contains(text, "ämnen: mat 13") || strings.Contains(text, "school") {
		t.Errorf("topics not named in Swedish:\n%s", text)
	}
	text := s.Text("en")
	for _, want := range []string{"Spontaneous feedback: 13", "positive 11 · corrective < 3 · neutral < 3", "topics: food 13",
		"Spontaneous feedback: 8\n", "Feedback from people who have not answered a survey: too few answers to show (n < 5)"} {
		if !strings.Contains(text, want) {
			t.Errorf("want %q in\n%s", want, text)
		}
	}
}

func bars(bs []report.Bar) string {
	var out []string
	for _, b := range bs {
		out = append(out, fmt.Sprintf("%s %d %d%%", b.Value, b.Count, b.Pct))
	}
	return strings.Join(out, ", ")
}

// topicNames names topics as the coder does: the id when it does not know it.
type topicNames map[string]map[string]string

func (tn topicNames) TopicName(lang, id string) string {
	if n := tn[id][lang]; n != "" {
		return n
	}
	return id
}

func TestComments(t *testing.T) {
	build := func(n int) *report.Summary {
		f := newFake()
		for i := range n {
			f.respond(1, "a", "nuoret", "2026-W45", "help=4", fmt.Sprintf("words=kommentti %d, terveisin Matti matti@example.fi", i))
		}
		for i := range n {
			f.feedback("a", "youth", "2026-W46", "positive", fmt.Sprintf("palaute %d Matti", i))
		}
		f.respond(12, "b", "nuoret", "2026-W45", "help=4", "words=toisen yksikön kommentti")
		o := opts(units("a", "b")...)
		o.MaxComments = 6
		return MustBuild(t, f, o, report.All, month)
	}
	t.Run("under min_comments", func(t *testing.T) {
		s := build(9)
		g := group(t, &s.Units[0], "youth")
		if g.Comments.Shown() || g.Comments.FBShown || len(g.Comments.Answers)+len(g.Comments.Texts) > 0 {
			t.Errorf("comments of a group of 9 shown: %+v", g.Comments)
		}
		text := s.Text("en")
		if regexp.MustCompile(`(kommentti|palaute) \d`).MatchString(text) {
			t.Errorf("free text of a group of 9 in the text:\n%s", text)
		}
		if !strings.Contains(text, "Comments: shown only from groups of at least 10") {
			t.Errorf("no note on hidden comments:\n%s", text)
		}
		var csv strings.Builder
		_ = s.CSV(&csv)
		if strings.Contains(csv.String(), "kommentti 1") {
			t.Errorf("free text of a group of 9 in the CSV")
		}
	})
	t.Run("at min_comments", func(t *testing.T) {
		s := build(10)
		g := group(t, &s.Units[0], "youth")
		if !g.Comments.Shown() || len(g.Comments.Answers) != 6 || g.Comments.More != 4 {
			t.Fatalf("comments = %+v, want 6 shown and 4 more", g.Comments)
		}
		if !g.Comments.FBShown || len(g.Comments.Texts) != 6 || g.Comments.MoreFB != 4 {
			t.Fatalf("feedback texts = %+v", g.Comments)
		}
		for _, c := range append(g.Comments.Answers, g.Comments.Texts...) {
			if strings.Contains(c, "Matti") || strings.Contains(c, "@") || !strings.Contains(c, "[poistettu]") {
				t.Errorf("not scrubbed: %q", c)
			}
		}
		// Shuffled: not in the order written, and each once.
		if slices.IsSortedFunc(g.Comments.Answers, strings.Compare) {
			t.Errorf("comments in stored order: %q", g.Comments.Answers)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(g.Comments.Answers)))) != 6 {
			t.Errorf("a comment repeated: %q", g.Comments.Answers)
		}
		text := s.Text("en")
		if !strings.Contains(text, "(and 4 more comments not shown)") {
			t.Errorf("no 'more' note:\n%s", text)
		}
		// Comments carry no time, and the total shows none (it would show those of small units).
		if group(t, s.Total, "youth").Comments != nil || strings.Count(text, "toisen yksikön kommentti") != 6 {
			t.Errorf("total comments = %+v; b comments in text = %d", group(t, s.Total, "youth").Comments, strings.Count(text, "toisen yksikön kommentti"))
		}
		if regexp.MustCompile(`2026-W\d\d|\d\d:\d\d`).MatchString(text) {
			t.Errorf("a time in the text:\n%s", text)
		}
	})
	t.Run("seeded shuffle is reproducible", func(t *testing.T) {
		a, b := build(10), build(10)
		ga, gb := group(t, &a.Units[0], "youth"), group(t, &b.Units[0], "youth")
		if !slices.Equal(ga.Comments.Answers, gb.Comments.Answers) {
			t.Errorf("same seed, different order")
		}
	})
}

// Reading free text is bounded by ReadBudget, spread over the weeks, however many wrote; the note on
// comments not shown counts them all (from the counters), not only those read.
func TestCommentsReadIsBounded(t *testing.T) {
	f := newFake()
	for _, w := range []string{"2026-W45", "2026-W46", "2026-W47", "2026-W48"} {
		for i := range 125 {
			f.respond(1, "a", "nuoret", w, "help=4", fmt.Sprintf("words=kommentti %s %d", w, i))
		}
		for i := range 30 {
			f.feedback("a", "youth", w, "positive", fmt.Sprintf("palaute %s %d", w, i))
		}
	}
	o := opts(units("a")...)
	o.MaxComments, o.ReadBudget = 6, 40
	s := MustBuild(t, f, o, "a", month)
	if fmt.Sprint(f.perWeek) != "[10]" {
		t.Errorf("read per week: %v, want [10] (40 over 4 weeks)", f.perWeek)
	}
	g := group(t, &s.Units[0], "youth")
	if len(g.Comments.Answers) != 6 || g.Comments.More != 494 {
		t.Errorf("comments shown %d, more %d; want 6 and 494", len(g.Comments.Answers), g.Comments.More)
	}
	if len(g.Comments.Texts) != 6 || g.Comments.MoreFB != 114 {
		t.Errorf("feedback shown %d, more %d; want 6 and 114", len(g.Comments.Texts), g.Comments.MoreFB)
	}
	if text := s.Text("en"); !strings.Contains(text, "(and 494 more comments not shown)") {
		t.Errorf("text:\n%s", text)
	}
}

// The note on comments not shown never counts fewer than were read, even when the counters are
// behind the stored texts.
func TestCommentsMoreNeverFewerThanRead(t *testing.T) {
	f := newFake()
	for i := range 12 {
		f.respond(1, "a", "nuoret", "2026-W45", "help=4", fmt.Sprintf("words=kommentti %d", i))
	}
	f.incr("a", "youth", "2026-W45", "nuoret.words=_text", -2) // 10 counted, 12 stored
	o := opts(units("a")...)
	o.MaxComments = 6
	g := group(t, &MustBuild(t, f, o, "a", month).Units[0], "youth")
	if !g.Comments.Shown() || len(g.Comments.Answers) != 6 || g.Comments.More != 6 {
		t.Fatalf("comments = %+v, want 6 shown and 6 more", g.Comments)
	}
}

// Months and half-years are made of whole ISO weeks, a week in the month of its Thursday.
func TestMonthsAndHalfYearsAreISOWeeks(t *testing.T) {
	f := newFake()
	f.respond(5, "a", "nuoret", "2026-W44", "help=4") // Mon 26 Oct - Sun 1 Nov, Thursday 29 Oct: October
	f.respond(6, "a", "nuoret", "2026-W45", "help=4") // Thursday 5 Nov: November
	f.respond(7, "a", "nuoret", "2026-W49", "help=4") // Mon 30 Nov - Sun 6 Dec, Thursday 3 Dec: December
	f.respond(8, "a", "nuoret", "2026-W53", "help=4") // Mon 28 Dec - Sun 3 Jan 2027, Thursday 31 Dec: December, H2 2026
	f.respond(9, "a", "nuoret", "2027-W01", "help=4") // Thursday 7 Jan 2027: January, H1 2027
	for per, want := range map[string]int{"2026-10": 5, "2026-11": 6, "2026-12": 15, "2026-H2": 26, "2026-W53": 8, "2027-01": 9, "2027-H1": 9} {
		s := MustBuild(t, f, opts(units("a")...), "a", per)
		if g := group(t, &s.Units[0], "youth"); !g.Responses.Shown() || g.Responses.N != want {
			t.Errorf("%s: responses %+v, want %d", per, g.Responses, want)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	f := newFake()
	if _, err := report.Build(context.Background(), f, opts(units("a")...), "nope", mustPeriod(t, month)); !errors.Is(err, report.ErrUnknownUnit) {
		t.Errorf("unknown unit: %v", err)
	}
	if _, err := report.Build(context.Background(), f, opts(), report.All, mustPeriod(t, month)); !errors.Is(err, report.ErrNoUnits) {
		t.Errorf("no units: %v", err)
	}
	bad := errSource{errors.New("redis down")}
	if _, err := report.Build(context.Background(), bad, opts(units("a")...), "a", mustPeriod(t, month)); !errors.Is(err, bad.err) {
		t.Errorf("source error not wrapped: %v", err)
	}
}

type errSource struct{ err error }

func (e errSource) Weekly(context.Context, string, []string, []period.Period) ([]map[string]map[string]int64, error) {
	return nil, e.err
}

func (e errSource) Texts(context.Context, string, []period.Period, int) (_, _ []map[string]string, _ error) {
	return nil, nil, e.err
}

func TestJSONHasNoHiddenFigures(t *testing.T) {
	f := newFake()
	f.respond(3, "a", "nuoret", "2026-W45", "help=2", "nps=3")
	f.respond(12, "b", "nuoret", "2026-W45", "help=4", "nps=9")
	f.respond(2, "c", "nuoret", "2026-W45", "help=4", "nps=9")
	s := MustBuild(t, f, opts(units("a", "b", "c")...), report.All, month)
	js, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Units []struct {
			Groups []map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	a := back.Units[0].Groups[0]
	var compact bytes.Buffer
	_ = json.Compact(&compact, a["responses"])
	if compact.String() != `{"hidden":"too_few"}` {
		t.Errorf("hidden responses in JSON: %s", a["responses"])
	}
	if strings.Contains(string(a["questions"]), `"mean"`) || strings.Contains(string(a["questions"]), `"distribution"`) {
		t.Errorf("hidden figures in JSON: %s", a["questions"])
	}
}
