package report

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/period"
)

// metric is one figure of a group: the response count "n", the feedback count "fb.n", or a question
// "<flow>.<qid>". Each has its own answer count and so its own cell in the suppression pattern.
type metric struct {
	key string
	f   *flows.Flow
	q   *flows.Question
}

// model knows the metrics of each audience from the flows.
type model struct {
	metrics map[string][]metric // audience -> metrics; "n" first (questions depend on it), "fb.n" last
}

// shown question types: multi is left out (its answer count cannot be had from per-option counters),
// text is shown as comments, info has no answer.
var figureTypes = []flows.Type{flows.Scale, flows.NPS, flows.YesNo, flows.Choice}

func newModel(set *flows.Set) *model {
	m := &model{metrics: map[string][]metric{}}
	for _, a := range flows.Audiences {
		ms := []metric{{key: "n"}}
		for _, f := range set.All() {
			if f.Audience != a {
				continue
			}
			for i := range f.Questions {
				q := &f.Questions[i]
				if slices.Contains(figureTypes, q.Type) {
					ms = append(ms, metric{key: f.ID + "." + q.ID, f: f, q: q})
				}
			}
		}
		m.metrics[string(a)] = append(ms, metric{key: "fb.n"})
	}
	m.metrics[Unknown] = []metric{{key: "fb.n"}}
	return m
}

// counter is the name of the counter of a question metric's answer value (see flows.Question.CounterKey).
func (mt metric) counter(value string) string { return mt.q.CounterKey(mt.f.ID, value) }

// count is the number of answers behind a metric: for a question, its answers without skips.
func (mt metric) count(c map[string]int64) int64 {
	if mt.q == nil {
		return c[mt.key]
	}
	var n int64
	for _, v := range mt.q.Values() {
		n += c[mt.counter(v)]
	}
	return n
}

// total is the unit id of the all-units total inside a grid.
const total = "\x00all"

type cellKey struct{ unit, aud, metric string }

// grid is the counters of every unit in one period, and which cells are hidden.
type grid struct {
	p      period.Period
	raw    map[string]map[string]map[string]int64 // unit -> audience -> counters
	hidden map[cellKey]Hidden
}

func (g *grid) counters(unit, aud string) map[string]int64 { return g.raw[unit][aud] }

// suppress decides the hidden cells of the period for every unit and for the total. units are all
// configured units: the pattern must not depend on which report is being made.
func (g *grid) suppress(m *model, units []string, k int) {
	g.hidden = map[cellKey]Hidden{}
	tot := map[string]map[string]int64{}
	for _, u := range units {
		for a, c := range g.raw[u] {
			if tot[a] == nil {
				tot[a] = map[string]int64{}
			}
			for f, v := range c {
				tot[a][f] += v
			}
		}
	}
	g.raw[total] = tot
	for _, a := range audiences() {
		for _, mt := range m.metrics[a] {
			for _, u := range units {
				key := cellKey{u, a, mt.key}
				if mt.q != nil { // a question of a hidden group is hidden with it
					if h := g.hidden[cellKey{u, a, "n"}]; h != "" {
						g.hidden[key] = h
						continue
					}
				}
				if mt.count(g.counters(u, a)) < int64(k) {
					g.hidden[key] = TooFew
				}
			}
			if mt.count(g.counters(total, a)) < int64(k) {
				g.hidden[cellKey{total, a, mt.key}] = TooFew
				continue // a hidden total gives nothing to subtract from
			}
			g.secondary(units, a, mt, k)
		}
	}
}

// secondary hides the total when the units' hidden cells hold between 1 and k-1 answers together: the
// total minus the shown units would be a figure of fewer than k answers (one unit's, or a few small ones'
// pooled). The total is hidden rather than the smallest shown unit: every unit with enough answers keeps
// its own figures (and its half-year review against its targets), and management still reads each of them.
func (g *grid) secondary(units []string, a string, mt metric, k int) {
	var hidden int64
	for _, u := range units {
		if g.hidden[cellKey{u, a, mt.key}] != "" {
			hidden += mt.count(g.counters(u, a))
		}
	}
	if hidden > 0 && hidden < int64(k) {
		g.hidden[cellKey{total, a, mt.key}] = Protected
	}
}

func (g *grid) cell(unit, aud string, mt metric) Cell {
	if h := g.hidden[cellKey{unit, aud, mt.key}]; h != "" {
		return Cell{Hidden: h}
	}
	return Cell{N: int(mt.count(g.counters(unit, aud)))}
}

// roundDiv is a/b rounded half away from zero (b > 0), in integers so that 12.5 is 13 exactly.
func roundDiv(a, b int64) int64 {
	if a >= 0 {
		return (2*a + b) / (2 * b)
	}
	return -((-2*a + b) / (2 * b))
}

// npsOf computes the NPS of counts of 0..10 answers: promoters 9-10, passives 7-8, detractors 0-6;
// score = %promoters - %detractors from the exact shares, each figure rounded half away from zero.
func npsOf(counts [11]int64) (NPS, bool) {
	var p, pa, d, n int64
	for v, c := range counts {
		switch {
		case v >= 9:
			p += c
		case v >= 7:
			pa += c
		default:
			d += c
		}
		n += c
	}
	if n == 0 {
		return NPS{}, false
	}
	return NPS{
		Score:      int(roundDiv(100*(p-d), n)),
		Promoters:  int(roundDiv(100*p, n)),
		Passives:   int(roundDiv(100*pa, n)),
		Detractors: int(roundDiv(100*d, n)),
	}, true
}

// figure is a question's headline figure in tenths (mean) or whole points (NPS), for trends and targets.
type figure struct {
	tenths int64 // scale mean ×10
	nps    *NPS
	ok     bool
}

func (mt metric) figure(c map[string]int64) figure {
	switch mt.q.Type {
	case flows.Scale:
		var sum, n int64
		for v := int64(1); v <= 5; v++ {
			x := c[mt.counter(strconv.FormatInt(v, 10))]
			sum += v * x
			n += x
		}
		if n == 0 {
			return figure{}
		}
		return figure{tenths: roundDiv(10*sum, n), ok: true}
	case flows.NPS:
		var counts [11]int64
		for v := range counts {
			counts[v] = c[mt.counter(strconv.Itoa(v))]
		}
		s, ok := npsOf(counts)
		return figure{nps: &s, ok: ok}
	}
	return figure{}
}

func (f figure) value() float64 {
	if f.nps != nil {
		return float64(f.nps.Score)
	}
	return float64(f.tenths) / 10
}

func dist(c map[string]int64, mt metric, n int64) []Bar {
	values := mt.q.Values()
	out := make([]Bar, 0, len(values))
	for _, v := range values {
		x := c[mt.counter(v)]
		out = append(out, Bar{Value: v, Count: int(x), Pct: int(roundDiv(100*x, max(n, 1)))})
	}
	return out
}

// group builds what may be shown of one audience of a unit (or of the total).
func (m *model) group(unit, aud string, cur, prev *grid, hist []*grid, targets map[string]float64) Group {
	g := Group{Audience: aud}
	c := cur.counters(unit, aud)
	for _, mt := range m.metrics[aud] {
		cell := cur.cell(unit, aud, mt)
		pc := prev.cell(unit, aud, mt)
		switch {
		case mt.key == "n":
			g.Responses = &cell
			if cell.Shown() && pc.Shown() {
				g.Trend = &Trend{Prev: float64(pc.N), Delta: float64(cell.N - pc.N)}
			}
			if t, ok := targets["responses"]; ok && cell.Shown() {
				g.Target = &Target{Target: t, Met: float64(cell.N) >= t}
			}
		case mt.key == "fb.n":
			g.Feedback.Cell = cell
			if !cell.Shown() {
				continue
			}
			if pc.Shown() {
				g.Feedback.Trend = &Trend{Prev: float64(pc.N), Delta: float64(cell.N - pc.N)}
			}
			g.Feedback.Polarity, g.Feedback.Topics = feedbackBars(c, int64(cell.N))
		default:
			g.Questions = append(g.Questions, m.question(unit, aud, mt, cell, pc, cur, prev, hist, targets))
		}
	}
	return g
}

func (m *model) question(unit, aud string, mt metric, cell, pc Cell, cur, prev *grid, hist []*grid, targets map[string]float64) Question {
	q := Question{Key: mt.key, ID: mt.q.ID, Type: mt.q.Type, Text: mt.q.Text, Cell: cell, options: mt.q.Options}
	if mt.q.Type == flows.NPS {
		for _, h := range hist {
			pt := Point{Period: h.p.String()}
			if h.cell(unit, aud, mt).Shown() {
				if f := mt.figure(h.counters(unit, aud)); f.ok {
					v := f.value()
					pt.Value = &v
				}
			}
			q.History = append(q.History, pt)
		}
	}
	if !cell.Shown() {
		return q
	}
	c := cur.counters(unit, aud)
	q.Dist = dist(c, mt, int64(cell.N))
	f := mt.figure(c)
	if !f.ok {
		return q
	}
	switch mt.q.Type {
	case flows.Scale:
		v := f.value()
		q.Mean = &v
	case flows.NPS:
		q.NPS = f.nps
	}
	if pc.Shown() {
		if pf := mt.figure(prev.counters(unit, aud)); pf.ok {
			d := float64(f.tenths-pf.tenths) / 10
			if f.nps != nil {
				d = float64(f.nps.Score - pf.nps.Score)
			}
			q.Trend = &Trend{Prev: pf.value(), Delta: d}
		}
	}
	tkey := mt.q.ID
	if mt.q.Type == flows.NPS {
		tkey = "nps"
	}
	if t, ok := targets[tkey]; ok {
		q.Target = &Target{Target: t, Met: f.value() >= t}
	}
	return q
}

var polarities = []string{"positive", "corrective", "neutral"}

func feedbackBars(c map[string]int64, n int64) (pol, topics []Bar) {
	seen := map[string]bool{}
	for _, p := range polarities {
		seen[p] = true
		x := c["fb.pol="+p]
		pol = append(pol, Bar{Value: p, Count: int(x), Pct: int(roundDiv(100*x, max(n, 1)))})
	}
	for f, x := range c {
		if v, ok := strings.CutPrefix(f, "fb.pol="); ok && !seen[v] && x > 0 {
			pol = append(pol, Bar{Value: v, Count: int(x), Pct: int(roundDiv(100*x, max(n, 1)))})
		}
		if v, ok := strings.CutPrefix(f, "fb.topic="); ok && x > 0 {
			topics = append(topics, Bar{Value: v, Count: int(x), Pct: int(roundDiv(100*x, max(n, 1)))})
		}
	}
	sortBars := func(bs []Bar) {
		slices.SortFunc(bs, func(a, b Bar) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
		})
	}
	sortBars(pol[len(polarities):])
	sortBars(topics)
	return pol, topics
}
