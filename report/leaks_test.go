package report_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/report"
)

// Weekly minus monthly: W47 hidden (n = 3), W48 shown (12), November shown (15) would give W47's 3 answers.
// The month is hidden too, with its questions and distributions, for the unit and for the all-units
// total, and says why without the hidden count.
func TestMonthMinusWeeksHidesTheMonth(t *testing.T) {
	f := newFake()
	f.respond(3, "a", "nuoret", "2026-W47", "help=1", "nps=0", "words=vain kolme kirjoitti")
	f.respond(12, "a", "nuoret", "2026-W48", "help=5", "nps=10", "words=moni kirjoitti")
	f.respond(40, "b", "nuoret", month, "help=4", "nps=9")
	o := opts(units("a", "b")...)
	w47 := group(t, &MustBuild(t, f, o, "a", "2026-W47").Units[0], "youth")
	w48 := group(t, &MustBuild(t, f, o, "a", "2026-W48").Units[0], "youth")
	if w47.Responses.Shown() || !w48.Responses.Shown() || w48.Responses.N != 12 {
		t.Fatalf("weeks: W47 %+v, W48 %+v", w47.Responses, w48.Responses)
	}
	s := MustBuild(t, f, o, report.All, month)
	a := group(t, &s.Units[0], "youth")
	if a.Responses.Hidden != report.ProtectedPeriod {
		t.Errorf("November of a = %+v, want protected_period (15 - 12 gives W47's 3)", a.Responses)
	}
	for _, q := range a.Questions {
		if q.Shown() || q.Dist != nil || q.Mean != nil || q.NPS != nil {
			t.Errorf("question %s shown in a hidden month: %+v", q.ID, q)
		}
	}
	if a.Comments.Shown() {
		t.Errorf("November comments of a shown: W48's are shown in its weekly summary, so the rest would be W47's 3: %+v", a.Comments)
	}
	// The total of a month adds up the shown units only: a's hidden 15 is not in it.
	if tg := group(t, s.Total, "youth"); !tg.Responses.Shown() || tg.Responses.N != 40 {
		t.Errorf("November total = %+v, want b's 40", tg.Responses)
	}
	b := group(t, &s.Units[1], "youth")
	if !b.Responses.Shown() || b.Responses.N != 40 {
		t.Errorf("b (nothing hidden) = %+v", b.Responses)
	}
	text := s.Text("en")
	if !strings.Contains(text, "== Unit a ==\n\nYoung people\n  Responses: hidden so that answers hidden in the summaries of shorter periods (weeks, months) cannot be worked out by subtraction\n") {
		t.Errorf("no reason given:\n%s", text)
	}
	if strings.Contains(text, "vain kolme") || regexp.MustCompile(`\b15\b|n = 3\b|: 3\b`).MatchString(text) {
		t.Errorf("the month's figures or W47's comments in:\n%s", text)
	}
}

// A month of a unit whose hidden weeks hold k or more answers together is shown, as is one with no
// hidden week, or whose hidden weeks hold none (a unit whose answers came in one week keeps its month).
func TestMonthTimeRule(t *testing.T) {
	for _, tc := range []struct {
		name  string
		weeks map[string]int // week -> responses of unit a
		want  report.Hidden
	}{
		{"hidden weeks hold 3", map[string]int{"2026-W45": 12, "2026-W46": 3}, report.ProtectedPeriod},
		{"hidden weeks hold 0", map[string]int{"2026-W45": 12}, ""},
		{"hidden weeks hold 4", map[string]int{"2026-W45": 12, "2026-W46": 2, "2026-W48": 2}, report.ProtectedPeriod},
		{"hidden weeks hold 6", map[string]int{"2026-W45": 12, "2026-W46": 3, "2026-W47": 3}, ""},
		{"all weeks shown", map[string]int{"2026-W45": 5, "2026-W46": 5, "2026-W47": 5, "2026-W48": 5}, ""},
		{"all weeks hidden, 8 together", map[string]int{"2026-W45": 4, "2026-W46": 4}, ""},
		{"too few", map[string]int{"2026-W45": 4}, report.TooFew},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			for w, n := range tc.weeks {
				f.respond(n, "a", "nuoret", w, "help=4")
			}
			s := MustBuild(t, f, opts(units("a")...), "a", month)
			if h := group(t, &s.Units[0], "youth").Responses.Hidden; h != tc.want {
				t.Errorf("November = %q, want %q", h, tc.want)
			}
		})
	}
}

// Months minus the half-year: a hidden month of a few answers protects the half-year, counting the
// hidden weeks inside hidden months (a hidden month's shown weeks are known and do not protect it).
func TestHalfYearTimeRule(t *testing.T) {
	f := newFake()
	// July..November shown each with every week shown; December hidden (2 answers).
	for _, w := range []string{"2026-W27", "2026-W28", "2026-W29", "2026-W30", "2026-W31", "2026-W32", "2026-W33", "2026-W34", "2026-W35",
		"2026-W36", "2026-W37", "2026-W38", "2026-W39", "2026-W40", "2026-W41", "2026-W42", "2026-W43", "2026-W44",
		"2026-W45", "2026-W46", "2026-W47", "2026-W48"} {
		f.respond(5, "a", "nuoret", w, "help=4")
	}
	f.respond(2, "a", "nuoret", "2026-W50", "help=1")
	s := MustBuild(t, f, opts(units("a")...), "a", "2026-H2")
	if h := group(t, &s.Units[0], "youth").Responses.Hidden; h != report.ProtectedPeriod {
		t.Errorf("H2 = %q, want protected_period", h)
	}
	// A month hidden only because of a hidden week, whose shown week is known from the weekly summary: the
	// half-year minus the shown months and that shown week would still give the hidden week.
	g := newFake()
	g.respond(10, "a", "nuoret", "2026-W27", "help=4") // July: weeks 27-31
	g.respond(2, "a", "nuoret", "2026-W28", "help=4")  // July protected (hidden weeks hold 2)
	g.respond(20, "a", "nuoret", "2026-W32", "help=4") // August shown
	july := MustBuild(t, g, opts(units("a")...), "a", "2026-07")
	if h := group(t, &july.Units[0], "youth").Responses.Hidden; h != report.ProtectedPeriod {
		t.Fatalf("July = %q", h)
	}
	h2 := MustBuild(t, g, opts(units("a")...), "a", "2026-H2")
	if h := group(t, &h2.Units[0], "youth").Responses.Hidden; h != report.ProtectedPeriod {
		t.Errorf("H2 = %q, want protected_period (32 - 20 - 10 gives W28's 2)", h)
	}
}

// The all-units total is hidden the same way whether the hidden units hold no answers or a few: whether
// it is shown never tells "nobody" from "one". A week's or a month's total adds up the shown units only,
// so it is the same whatever the hidden unit holds; a half-year's includes every unit and is hidden
// (protected) while the hidden ones hold 0 to k-1 answers.
func TestTotalSameForZeroAndFew(t *testing.T) {
	build := func(hiddenN int, per string) *report.Summary {
		f := newFake()
		f.respond(hiddenN, "a", "nuoret", "2026-W46", "help=4")
		f.respond(20, "b", "nuoret", "2026-W46", "help=4")
		f.respond(9, "c", "nuoret", "2026-W46", "help=4")
		return MustBuild(t, f, opts(units("a", "b", "c")...), report.All, per)
	}
	week := build(0, "2026-W46").Text("en")
	for n := range 5 {
		if got := build(n, "2026-W46").Text("en"); got != week {
			t.Errorf("a with %d answers: the weekly summary differs from a with none:\n%s", n, got)
		}
		tot := group(t, build(n, "2026-H2").Total, "youth")
		if tot.Responses.Hidden != report.Protected || question(t, tot, "help").Shown() {
			t.Errorf("a with %d answers: half-year total = %+v, help %+v; want protected", n, tot.Responses, question(t, tot, "help").Cell)
		}
	}
	if !strings.Contains(week, "Responses: 29") {
		t.Errorf("weekly total:\n%s", week)
	}
	if tot := group(t, build(5, "2026-H2").Total, "youth"); !tot.Responses.Shown() || tot.Responses.N != 34 {
		t.Errorf("a with 5 answers: total %+v, want 34 shown", tot.Responses)
	}
}

// A breakdown (answer shares) is shown only from groups of min_comments, with cells of fewer than 3
// answers as "< 3", and not at all when such a cell could be worked out from the rest.
func TestBreakdownRules(t *testing.T) {
	t.Run("6 relatives: no breakdown", func(t *testing.T) {
		f := newFake()
		f.respond(5, "a", "laheiset", "2026-W45", "role=parent", "respect=5", "nps=9")
		f.respond(1, "a", "laheiset", "2026-W45", "role=grandparent", "respect=1", "nps=0")
		s := MustBuild(t, f, opts(units("a")...), "a", month)
		g := group(t, &s.Units[0], "relative")
		role := question(t, g, "role")
		if !role.Shown() || role.N != 6 || role.Dist != nil || role.Breakdown != report.TooFew {
			t.Errorf("role = %+v", role)
		}
		if q := question(t, g, "respect"); q.Mean == nil || q.Dist != nil {
			t.Errorf("respect: mean %v, dist %+v; want the mean only", q.Mean, q.Dist)
		}
		if q := g.NPS(); q.NPS == nil || q.NPS.Shares != nil {
			t.Errorf("nps = %+v, want the score without shares", q.NPS)
		}
		text := s.Text("en")
		if strings.Contains(text, "17 %") || strings.Contains(text, "Grandparent") || strings.Contains(text, "83 %") {
			t.Errorf("a share of 6 in:\n%s", text)
		}
	})
	t.Run("12 relatives: small cells", func(t *testing.T) {
		f := newFake()
		f.respond(10, "a", "laheiset", "2026-W45", "role=parent", "respect=5")
		f.respond(1, "a", "laheiset", "2026-W45", "role=grandparent", "respect=1")
		f.respond(1, "a", "laheiset", "2026-W45", "role=other", "respect=2")
		s := MustBuild(t, f, opts(units("a")...), "a", month)
		g := group(t, &s.Units[0], "relative")
		role := question(t, g, "role")
		if role.Dist == nil {
			t.Fatalf("role breakdown of 12 not shown: %+v", role)
		}
		for _, b := range role.Dist {
			if (b.Value == "parent") != (b.Hidden == "") || (b.Hidden != "" && (b.Count != 0 || b.Pct != 0)) {
				t.Errorf("bar %+v", b)
			}
		}
		text := s.Text("en")
		for _, want := range []string{"Parent ▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇ 83 %", "Grandparent < 3", "Sibling < 3", "Someone else close < 3", "😞 1 < 3"} {
			if !strings.Contains(text, want) {
				t.Errorf("want %q in\n%s", want, text)
			}
		}
		if regexp.MustCompile(`\b8 %`).MatchString(text) {
			t.Errorf("a share of one person in:\n%s", text)
		}
	})
	t.Run("one small cell could be worked out", func(t *testing.T) {
		f := newFake()
		f.respond(11, "a", "laheiset", "2026-W45", "respect=5")
		f.respond(1, "a", "laheiset", "2026-W45", "respect=1") // 1: 1, 2-4: 0, 5: 11 -> shown with four "< 3"
		f.respond(11, "b", "laheiset", "2026-W45", "nps=10")
		f.respond(1, "b", "laheiset", "2026-W45", "nps=0") // detractors 1, passives 0: the score gives them
		s := MustBuild(t, f, opts(units("a", "b")...), report.All, month)
		if q := question(t, group(t, &s.Units[0], "relative"), "respect"); q.Dist == nil {
			t.Errorf("respect breakdown hidden: %+v", q)
		}
		if q := group(t, &s.Units[1], "relative").NPS(); q.NPS == nil || q.NPS.Shares != nil || q.Breakdown != report.SmallCells {
			t.Errorf("nps = %+v %+v, want the score without shares", q.NPS, q.Cell)
		}
	})
}

// A summary of a period that has not ended is refused, saying from when it can be had.
// On the Monday itself the hour matters (summaries may open at 02:00 Helsinki time): the answer names the
// time and its zone.
func TestNotEndedSaysTheHour(t *testing.T) {
	from := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	ne := &report.NotEndedError{Period: mustPeriod(t, "2026-W48"), From: from, Started: true}
	local := from.In(time.Local)
	want := map[string]string{
		"en": fmt.Sprintf("at %02d:%02d (%s)", local.Hour(), local.Minute(), local.Format("MST")),
		"fi": fmt.Sprintf("klo %d.%02d (%s) alkaen", local.Hour(), local.Minute(), local.Format("MST")),
		"sv": fmt.Sprintf("kl. %d.%02d (%s)", local.Hour(), local.Minute(), local.Format("MST")),
	}
	for lang, w := range want {
		if got := ne.Text(lang); !strings.Contains(got, w) {
			t.Errorf("%s: %q lacks %q", lang, got, w)
		}
	}
}

func TestNotEnded(t *testing.T) {
	w48 := mustPeriod(t, "2026-W48")
	nov := mustPeriod(t, month)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var ne *report.NotEndedError
	if err := report.CheckEnded(w48, at); !errors.As(err, &ne) || !ne.From.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("W48 on 25 Nov: %v", err)
	}
	if err := report.CheckEnded(nov, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("November on 30 Nov 00:00: %v", err)
	}
	if err := report.CheckEnded(mustPeriod(t, "2026-W47"), at); err != nil {
		t.Errorf("W47 on 25 Nov: %v", err)
	}
	for lang, want := range map[string]string{"en": "available from Monday 30 November 2026 at ", "fi": "maanantaista 30.11.2026 klo ", "sv": "från och med måndag 30.11.2026 kl. "} {
		if got := ne.Text(lang); !strings.Contains(got, want) || !strings.Contains(got, "2026") {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	var future *report.NotEndedError
	if err := report.CheckEnded(mustPeriod(t, "2027-01"), at); !errors.As(err, &future) || !strings.Contains(future.Text("en"), "has not started") {
		t.Errorf("January 2027: %v", err)
	}
	_ = context.Background
	_ = period.Week
}

func topicCount(g *report.Group, id string) int {
	for _, b := range g.Feedback.Topics {
		if b.Value == id {
			return b.Count
		}
	}
	return -1
}

func polarityBar(g *report.Group, v string) (int, bool) {
	for _, b := range g.Feedback.Polarity {
		if b.Value == v {
			return b.Count, b.Hidden == ""
		}
	}
	return -1, false
}

// feedbackMix adds n feedback messages of unit a's week, polarities in turn, the first topic ones on
// topic "food" and the rest on "staff".
func feedbackMix(f *fakeSource, unit, week string, n, topic int) {
	for i := range n {
		pol := []string{"positive", "corrective", "neutral"}[i%3]
		t := "staff"
		if i < topic {
			t = "food"
		}
		f.feedback(unit, "unknown", week, pol, "x", t)
	}
}

// A feedback topic of fewer than 3 messages is left out, which is its "< 3": a total or a longer period
// may not show it exactly when that would pin down the left-out ones. Units a and b leave out "food"
// (2 messages each); a weekly total of food 4, or a half-year total of 4, would give 2 each.
func TestTopicsTotalVersusUnits(t *testing.T) {
	for _, per := range []string{"2026-W47", "2026-H2"} {
		t.Run(per, func(t *testing.T) {
			f := newFake()
			feedbackMix(f, "a", "2026-W47", 10, 2)
			feedbackMix(f, "b", "2026-W47", 10, 2)
			s := MustBuild(t, f, opts(units("a", "b")...), report.All, per)
			for i := range s.Units {
				if g := group(t, &s.Units[i], "unknown"); g.Feedback.Breakdown != "" || topicCount(g, "food") != -1 || topicCount(g, "staff") != 8 {
					t.Fatalf("unit %s: %+v", s.Units[i].ID, g.Feedback)
				}
			}
			tg := group(t, s.Total, "unknown")
			if topicCount(tg, "food") == 4 || tg.Feedback.Breakdown != report.Protected {
				t.Errorf("total: %+v breakdown %q; want protected (food 4 = a's 2 + b's 2)", tg.Feedback, tg.Feedback.Breakdown)
			}
		})
	}
}

// Across time: W45 shows food 5, W46 leaves it out (1 message); November's food 6 would give W46's 1.
func TestTopicsMonthVersusWeeks(t *testing.T) {
	f := newFake()
	feedbackMix(f, "a", "2026-W45", 12, 5)
	feedbackMix(f, "a", "2026-W46", 12, 1)
	o := opts(units("a")...)
	w45 := group(t, &MustBuild(t, f, o, "a", "2026-W45").Units[0], "unknown")
	w46 := group(t, &MustBuild(t, f, o, "a", "2026-W46").Units[0], "unknown")
	if topicCount(w45, "food") != 5 || w46.Feedback.Breakdown != "" || topicCount(w46, "food") != -1 {
		t.Fatalf("weeks: W45 %+v, W46 %+v", w45.Feedback, w46.Feedback)
	}
	m := group(t, &MustBuild(t, f, o, "a", month).Units[0], "unknown")
	if topicCount(m, "food") == 6 || m.Feedback.Breakdown != report.ProtectedPeriod {
		t.Errorf("November: %+v breakdown %q; want protected_period (6 - 5 gives W46's 1)", m.Feedback, m.Feedback.Breakdown)
	}
	if !m.Feedback.Shown() || m.Feedback.N != 24 {
		t.Errorf("November's feedback count: %+v", m.Feedback.Cell)
	}
}

// Several "< 3" cells holding 2 each are pinned down by an exact sum just as one of 1 or 2 is: a and b
// show positive and corrective as "< 3" (2 and 0); a total of positive 9 minus c's 5 gives 4, so 2 each.
func TestSmallCellsSumTotal(t *testing.T) {
	f := newFake()
	add := func(u, week string, pos, cor, neu int) {
		for pol, n := range map[string]int{"positive": pos, "corrective": cor, "neutral": neu} {
			for range n {
				f.feedback(u, "unknown", week, pol, "x")
			}
		}
	}
	add("a", "2026-W47", 2, 0, 8)
	add("b", "2026-W47", 2, 0, 8)
	add("c", "2026-W47", 5, 5, 5)
	s := MustBuild(t, f, opts(units("a", "b", "c")...), report.All, "2026-W47")
	for i := range s.Units {
		if g := group(t, &s.Units[i], "unknown"); g.Feedback.Breakdown != "" {
			t.Fatalf("unit %s: %+v", s.Units[i].ID, g.Feedback)
		}
	}
	tg := group(t, s.Total, "unknown")
	if n, ok := polarityBar(tg, "positive"); (ok && n == 9) || tg.Feedback.Breakdown != report.Protected {
		t.Errorf("total: %+v breakdown %q; want protected", tg.Feedback, tg.Feedback.Breakdown)
	}

	// Across time: W45 and W46 of a each show positive "< 3" (2), W47 shows 5; November's 9 gives 2 each.
	f = newFake()
	g := f
	add("a", "2026-W45", 2, 0, 8)
	add("a", "2026-W46", 2, 0, 8)
	add("a", "2026-W47", 5, 5, 5)
	o := opts(units("a")...)
	for _, w := range []string{"2026-W45", "2026-W46", "2026-W47"} {
		if wg := group(t, &MustBuild(t, g, o, "a", w).Units[0], "unknown"); wg.Feedback.Breakdown != "" {
			t.Fatalf("%s: %+v", w, wg.Feedback)
		}
	}
	m := group(t, &MustBuild(t, g, o, "a", month).Units[0], "unknown")
	if n, ok := polarityBar(m, "positive"); (ok && n == 9) || m.Feedback.Breakdown != report.ProtectedPeriod {
		t.Errorf("November: %+v breakdown %q; want protected_period", m.Feedback, m.Feedback.Breakdown)
	}
}

// Spread thinly enough, "< 3" cells stay unknown: a, b and c show positive and corrective as "< 3" (2, 1
// and 1 positives); the total's positive 9 minus d's 5 leaves 4 over three such cells (at most 2(m-1)),
// which each may hold none: shown.
func TestSmallCellsSumKeptWhenAmbiguous(t *testing.T) {
	f := newFake()
	add := func(u, pol string, n int) {
		for range n {
			f.feedback(u, "unknown", "2026-W47", pol, "x")
		}
	}
	for u, pos := range map[string]int{"a": 2, "b": 1, "c": 1} {
		add(u, "positive", pos)
		add(u, "neutral", 10)
	}
	for _, pol := range []string{"positive", "corrective", "neutral"} {
		add("d", pol, 5)
	}
	s := MustBuild(t, f, opts(units("a", "b", "c", "d")...), report.All, "2026-W47")
	for i := range s.Units {
		if g := group(t, &s.Units[i], "unknown"); g.Feedback.Breakdown != "" {
			t.Fatalf("unit %s: %+v", s.Units[i].ID, g.Feedback)
		}
	}
	tg := group(t, s.Total, "unknown")
	if n, ok := polarityBar(tg, "positive"); !ok || n != 9 || tg.Feedback.Breakdown != "" {
		t.Errorf("total: %+v breakdown %q; want positive 9 shown", tg.Feedback, tg.Feedback.Breakdown)
	}
}
