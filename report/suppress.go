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
	key    string
	f      *flows.Flow
	q      *flows.Question
	topics *[]string // "fb.n": the feedback topics of the summary's counters, in order (model.topics)
}

// model knows the metrics of each audience from the flows.
type model struct {
	metrics map[string][]metric // audience -> metrics; "n" first (questions depend on it), "fb.n" last
	topics  []string            // every feedback topic in the counters being summarised (see setTopics)
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
		m.metrics[string(a)] = append(ms, metric{key: "fb.n", topics: &m.topics})
	}
	m.metrics[Unknown] = []metric{{key: "fb.n", topics: &m.topics}}
	return m
}

// setTopics gives the feedback breakdown one cell per topic found in the nodes' counters (every unit,
// audience and week), in a fixed order, so that the cells of every grid line up. Topics with no message
// anywhere add only cells of zero, which change no decision.
func (m *model) setTopics(nodes []*node) {
	seen := map[string]bool{}
	for _, n := range nodes {
		for _, w := range n.leaves() {
			for _, auds := range w.g.raw {
				for _, c := range auds {
					for f := range c {
						if t, ok := strings.CutPrefix(f, "fb.topic="); ok {
							seen[t] = true
						}
					}
				}
			}
		}
	}
	m.topics = m.topics[:0]
	for t := range seen {
		m.topics = append(m.topics, t)
	}
	slices.Sort(m.topics)
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

// cells are the answers per cell of the metric's breakdown: a question's answers per value (an NPS
// question's detractors, passives and promoters), feedback per polarity and then per topic (a topic of
// fewer than MinCell messages is left out, which is its "< 3"); nil for the response count (its
// "breakdown" is the comments).
func (mt metric) cells(c map[string]int64) []int64 {
	switch {
	case mt.key == "fb.n":
		out := make([]int64, len(polarities))
		for i, p := range polarities {
			out[i] = c["fb.pol="+p]
		}
		if mt.topics != nil {
			for _, t := range *mt.topics {
				out = append(out, c["fb.topic="+t])
			}
		}
		return out
	case mt.q == nil:
		return nil
	case mt.q.Type == flows.NPS:
		out := make([]int64, 3)
		for v := 0; v <= 10; v++ {
			out[npsClass(v)] += c[mt.counter(strconv.Itoa(v))]
		}
		return out
	}
	values := mt.q.Values()
	out := make([]int64, len(values))
	for i, v := range values {
		out[i] = c[mt.counter(v)]
	}
	return out
}

// strict: the breakdown is an NPS question's shares (see safeCells).
func (mt metric) strict() bool { return mt.q != nil && mt.q.Type == flows.NPS }

// partition is the cells of a breakdown that add up to its n, which safeCells checks: all but the
// feedback topics (a message may have several topics or none, so n minus the others gives no topic).
func (mt metric) partition(vec []int64) []int64 {
	if mt.key == "fb.n" && len(vec) > len(polarities) {
		return vec[:len(polarities)]
	}
	return vec
}

// npsClass is 0 for a detractor (0-6), 1 for a passive (7-8), 2 for a promoter (9-10).
func npsClass(v int) int {
	switch {
	case v >= 9:
		return 2
	case v >= 7:
		return 1
	}
	return 0
}

// total is the unit id of the all-units total inside a grid.
const total = "\x00all"

type cellKey struct{ unit, aud, metric string }

// MinCell is the smallest number of answers a cell of a breakdown is shown with: a smaller cell says
// "< 3", so that no share stands for one or two people.
const MinCell = 3

// part is what a hidden cell leaves unknown: the hidden cells of the finest level (a unit's week) it is
// made of that no shown cell of the same row covers ("atoms": a hidden week with no answers is one
// too), their answers, and per value (breakdowns) their answers together with those of the "< 3" cells
// of shown breakdowns it is made of (small: how many such cells per value, zeros included). For a shown
// cell it is what its hidden parts hold together, which subtracting its shown parts from it would give.
type part struct {
	atoms int
	mass  int64
	vec   []int64
	small []int64
}

func (p *part) add(q part) {
	p.atoms += q.atoms
	p.mass += q.mass
	addVec(&p.vec, q.vec)
	addVec(&p.small, q.small)
}

// revealing reports whether subtraction would give this part as a figure of 1 to thr-1 answers. With
// zeroToo, hidden cells with no answers at all count as a few (across units: whether the all-units
// total is shown must not tell "nobody in the small units answered" from "one did"). Across time they do
// not: a month is shown when its hidden weeks hold no answers (it then tells that they held none), as
// otherwise any unit whose answers came in some weeks only, or that started mid-year, would lose its
// month and half-year.
func (p part) revealing(thr int, zeroToo bool) bool {
	if p.atoms == 0 || (p.mass == 0 && !zeroToo) {
		return false
	}
	return p.mass < int64(thr)
}

// cellsRevealing reports whether a breakdown x, shown, would tell something exact of what is unknown
// (u.vec: per value, the answers of hidden parts and of the "< 3" cells of shown ones): a cell of x shown
// exactly minus the shown parts' exact cells is u.vec's. It does when that leftover is 1 or 2 answers, or
// when, spread over m "< 3" cells (and hidden parts holding u.mass answers, which could take at most that
// much of it), it is more than u.mass + 2(m-1): as in safeCells, each of those cells then holds at least
// one, and with u.mass + 2m exactly two.
func cellsRevealing(x []int64, u part) bool {
	for i, v := range x {
		if v < MinCell || i >= len(u.vec) {
			continue
		}
		left := u.vec[i]
		if left > 0 && left < MinCell {
			return true
		}
		if i < len(u.small) && u.small[i] > 0 && left-u.mass > 2*(u.small[i]-1) {
			return true
		}
	}
	return false
}

// masked is what a shown breakdown's cells that it shows as "< 3" leave unknown: their answers and
// their number per value (strict: none; its zeros are shown as they are and it has no cell of 1 or 2).
func masked(vec []int64, strict bool) part {
	p := part{vec: make([]int64, len(vec)), small: make([]int64, len(vec))}
	if !strict {
		for i, v := range vec {
			if v < MinCell {
				p.vec[i] = v
				p.small[i] = 1
			}
		}
	}
	return p
}

func addVec(dst *[]int64, v []int64) {
	if v == nil {
		return
	}
	if *dst == nil {
		*dst = make([]int64, len(v))
	}
	for i, x := range v {
		(*dst)[i] += x
	}
}

// safeCells reports whether a breakdown may be shown with its cells of fewer than MinCell answers (none
// included) written "< 3": then none of them can be had from the group's n minus the others. With one
// such cell it could; with m of them holding more than 2(m-1) answers together each is known to hold at
// least one (and with 2m, exactly two). strict (NPS shares, which the score pins down: promoters minus
// detractors) allows no cell of 1 or 2 at all; its cells are then shown as they are, 0 % included.
func safeCells(vec []int64, strict bool) bool { // vec: metric.partition
	m, sum := 0, int64(0)
	for _, v := range vec {
		if v < MinCell {
			if strict && v > 0 {
				return false
			}
			m++
			sum += v
		}
	}
	switch {
	case m == 0 || strict:
		return true
	case m == 1:
		return false
	}
	return sum <= 2*int64(m-1)
}

// state is a cell's place in the pattern: why it is hidden ("" shown) and its unknown part.
type state struct {
	hidden Hidden
	part
}

// grid is the counters of every unit in one period, and which cells are hidden: figures from k answers
// (fig), and breakdowns, comments and feedback texts from MinComments (bd).
type grid struct {
	p   period.Period
	raw map[string]map[string]map[string]int64 // unit -> audience -> counters
	fig map[cellKey]*state
	bd  map[cellKey]*state

	units     []string // the configured units
	shownOnly bool     // the total is the sum of the units' shown cells (a week or a month; see total)
}

func (g *grid) counters(unit, aud string) map[string]int64 { return g.raw[unit][aud] }

func newGrid(p period.Period) *grid {
	return &grid{p: p, raw: map[string]map[string]map[string]int64{}}
}

// node is a period of a summary with the periods it is made of: a month of its ISO weeks, a half-year
// of its months (a week belongs to the month of its Thursday). Weeks are leaves.
type node struct {
	g    *grid
	kids []*node
}

func newNode(p period.Period) *node {
	n := &node{g: newGrid(p)}
	switch p.Kind {
	case period.Month:
		for _, w := range p.Weeks() {
			n.kids = append(n.kids, newNode(w))
		}
	case period.Half:
		for mo := 6*p.N - 5; mo <= 6*p.N; mo++ {
			n.kids = append(n.kids, newNode(period.Period{Kind: period.Month, Year: p.Year, N: mo}))
		}
	}
	return n
}

// leaves are the node's weeks in order.
func (n *node) leaves() []*node {
	if len(n.kids) == 0 {
		return []*node{n}
	}
	var out []*node
	for _, k := range n.kids {
		out = append(out, k.leaves()...)
	}
	return out
}

// sum fills the counters of the node's months and half-years from its weeks'.
func (n *node) sum(units []string) {
	if len(n.kids) == 0 {
		return
	}
	for _, k := range n.kids {
		k.sum(units)
		for _, u := range units {
			for a, c := range k.g.raw[u] {
				addCounters(n.g.raw, u, a, c)
			}
		}
	}
}

func addCounters(raw map[string]map[string]map[string]int64, u, a string, c map[string]int64) {
	if raw[u] == nil {
		raw[u] = map[string]map[string]int64{}
	}
	if raw[u][a] == nil {
		raw[u][a] = map[string]int64{}
	}
	for f, v := range c {
		raw[u][a][f] += v
	}
}

// suppress decides the pattern of the node's weeks first, then of the node: a longer period is decided
// from its parts' patterns, as its summary comes after theirs (weekly summaries are posted before the
// month ends). units are all configured units: the pattern must not depend on which report is made.
func (n *node) suppress(m *model, units []string, k, c int) {
	kids := make([]*grid, len(n.kids))
	for i, x := range n.kids {
		x.suppress(m, units, k, c)
		kids[i] = x.g
	}
	n.g.decide(m, units, k, c, kids)
}

// decide makes the grid's pattern, given its parts' (kids, none for a week).
//
// Figures (threshold k) and then breakdowns (threshold MinComments, only of a shown figure) go through
// the same rules, each cell on its own answer count:
//   - fewer answers than the threshold: hidden (too_few), zero included;
//   - a breakdown whose small cells could be told (safeCells): hidden (small_cells);
//   - time: a unit's month or half-year whose hidden parts (weeks; months, counting the hidden weeks of
//     hidden months) hold 1 to threshold-1 answers together is hidden (protected_period): it minus its
//     shown parts would be a figure of those few;
//   - units: see total.
func (g *grid) decide(m *model, units []string, k, c int, kids []*grid) {
	g.units = units
	g.shownOnly = g.p.Kind != period.Half
	tot := map[string]map[string]map[string]int64{}
	for _, u := range units {
		for a, cs := range g.raw[u] {
			addCounters(tot, total, a, cs)
		}
	}
	g.raw[total] = tot[total]
	g.fig, g.bd = map[cellKey]*state{}, map[cellKey]*state{}
	fig := func(x *grid) map[cellKey]*state { return x.fig }
	bd := func(x *grid) map[cellKey]*state { return x.bd }
	for _, a := range audiences() {
		for _, mt := range m.metrics[a] {
			g.pass(fig, kids, units, a, mt, k, false, func(u string) Hidden {
				if mt.q != nil { // a question of a hidden group is hidden with it
					return g.fig[cellKey{u, a, "n"}].hidden
				}
				return ""
			})
		}
		for _, mt := range m.metrics[a] {
			g.pass(bd, kids, units, a, mt, c, true, func(u string) Hidden { return g.fig[cellKey{u, a, mt.key}].hidden })
		}
	}
}

// pass decides one metric's cells of one audience in the map sel gives (figures or breakdowns): the
// units' cells, then the all-units total's (total).
func (g *grid) pass(sel func(*grid) map[cellKey]*state, kids []*grid, units []string, a string, mt metric, thr int, breakdown bool, forced func(string) Hidden) {
	st := sel(g)
	strict := mt.strict()
	var hid part // what the units' hidden cells leave unknown
	for _, u := range units {
		key := cellKey{u, a, mt.key}
		c := g.counters(u, a)
		var vec []int64
		if breakdown {
			vec = mt.cells(c)
		}
		var p part
		for _, kg := range kids {
			if ks := sel(kg)[key]; ks.hidden != "" {
				p.add(ks.part)
			} else if breakdown {
				p.add(masked(mt.cells(kg.counters(u, a)), strict))
			}
		}
		s := &state{}
		n := mt.count(c)
		switch {
		case forced(u) != "":
			s.hidden = forced(u)
		case n < int64(thr):
			s.hidden = TooFew
		case vec != nil && !safeCells(mt.partition(vec), strict):
			s.hidden = SmallCells
		case p.revealing(thr, false), vec != nil && cellsRevealing(vec, p):
			s.hidden = ProtectedPeriod
		}
		if len(kids) == 0 {
			p = part{}
			if s.hidden != "" {
				p = part{atoms: 1, mass: n, vec: vec}
			}
		}
		s.part = p
		st[key] = s
		if s.hidden != "" {
			hid.add(p)
		}
	}
	st[cellKey{total, a, mt.key}] = g.total(a, mt, thr, breakdown, hid)
}

// total decides the all-units total of a metric.
//
// In a week or a month it is the sum of the units' shown cells (shownOnly): it tells nothing a reader
// could not add up, so it needs no rule of its own, and zero or a few answers of a hidden unit change
// nothing in it. A figure of it is shown from the threshold; its breakdown only when every unit whose
// figure it adds up shows its breakdown too (else the total's minus theirs would give the others').
//
// In a half-year it is the sum of all units, hidden units included: there, small units add up to a
// figure. When the units' hidden cells leave 1 to k-1 answers unknown, or none (so that whether it is
// shown never tells "nobody answered in the small units" from "one did"), it is hidden (protected).
// Only the half-year's: a true weekly or monthly total would cross the units' months and half-years
// (the weekly totals with a unit's month whose hidden weeks are several give sums of a few answers of
// different units), while the half-year's contains every part of every unit, so that subtraction can
// only give what the units' hidden cells leave unknown (see TestAuditSmallTables).
func (g *grid) total(a string, mt metric, thr int, breakdown bool, hid part) *state {
	s := &state{}
	strict := mt.strict()
	// the units' "< 3" cells of their shown breakdowns, and whether one whose figure is added up hides
	// its breakdown
	var small part
	hides := false
	for _, u := range g.units {
		if breakdown && g.fig[cellKey{u, a, mt.key}].hidden == "" {
			if g.bd[cellKey{u, a, mt.key}].hidden != "" {
				hides = true
			} else {
				small.add(masked(mt.cells(g.counters(u, a)), strict))
			}
		}
	}
	c := g.countersFor(total, a, mt)
	n := mt.count(c)
	var vec []int64
	if breakdown {
		vec = mt.cells(c)
	}
	switch {
	case breakdown && g.fig[cellKey{total, a, mt.key}].hidden != "":
		s.hidden = g.fig[cellKey{total, a, mt.key}].hidden
	case breakdown && mt.key == "n":
		s.hidden = TooFew // the total shows no comments
	case n < int64(thr):
		s.hidden = TooFew
	case vec != nil && !safeCells(mt.partition(vec), strict):
		s.hidden = SmallCells
	case g.shownOnly && hides:
		s.hidden = Protected
	case g.shownOnly:
		if vec != nil && cellsRevealing(vec, small) {
			s.hidden = Protected
		}
	case hid.revealing(thr, true):
		s.hidden = Protected
	case vec != nil:
		hid.add(small)
		if cellsRevealing(vec, hid) {
			s.hidden = Protected
		}
	}
	return s
}

// countersFor are the counters behind a cell's figure: a unit's, or the total's (in a week or a month
// the sum of the units whose figure of the metric is shown).
func (g *grid) countersFor(unit, aud string, mt metric) map[string]int64 {
	if unit != total || !g.shownOnly {
		return g.counters(unit, aud)
	}
	sum := map[string]int64{}
	for _, u := range g.units {
		if g.fig[cellKey{u, aud, mt.key}].hidden == "" {
			for f, v := range g.counters(u, aud) {
				sum[f] += v
			}
		}
	}
	return sum
}

func (g *grid) cell(unit, aud string, mt metric) Cell {
	if s := g.fig[cellKey{unit, aud, mt.key}]; s.hidden != "" {
		return Cell{Hidden: s.hidden}
	}
	return Cell{N: int(mt.count(g.countersFor(unit, aud, mt)))}
}

// bdOf is why the breakdown of the metric with this key is not shown ("" when it is).
func (g *grid) bdOf(unit, aud, key string) Hidden {
	if s := g.bd[cellKey{unit, aud, key}]; s != nil {
		return s.hidden
	}
	return TooFew
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
		Score: int(roundDiv(100*(p-d), n)),
		Shares: &NPSShares{
			Promoters:  int(roundDiv(100*p, n)),
			Passives:   int(roundDiv(100*pa, n)),
			Detractors: int(roundDiv(100*d, n)),
		},
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

// dist is a question's answers per value; a value of fewer than MinCell answers (none included) has
// neither count nor share.
func dist(c map[string]int64, mt metric, n int64) []Bar {
	values := mt.q.Values()
	out := make([]Bar, 0, len(values))
	for _, v := range values {
		out = append(out, share(v, c[mt.counter(v)], n))
	}
	return out
}

func share(v string, x, n int64) Bar {
	if x < MinCell {
		return Bar{Value: v, Hidden: Small}
	}
	return Bar{Value: v, Count: int(x), Pct: int(roundDiv(100*x, max(n, 1)))}
}

// group builds what may be shown of one audience of a unit (or of the total).
func (m *model) group(unit, aud string, cur, prev *grid, hist []*grid, targets map[string]float64) Group {
	g := Group{Audience: aud}
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
			if g.Feedback.Breakdown = cur.bdOf(unit, aud, mt.key); g.Feedback.Breakdown == "" {
				g.Feedback.Polarity, g.Feedback.Topics = feedbackBars(cur.countersFor(unit, aud, mt), int64(cell.N))
			}
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
				if f := mt.figure(h.countersFor(unit, aud, mt)); f.ok {
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
	c := cur.countersFor(unit, aud, mt)
	q.Breakdown = cur.bdOf(unit, aud, mt.key)
	if q.Breakdown == "" && mt.q.Type != flows.NPS {
		q.Dist = dist(c, mt, int64(cell.N))
	}
	f := mt.figure(c)
	if !f.ok {
		return q
	}
	if f.nps != nil && q.Breakdown != "" {
		f.nps = &NPS{Score: f.nps.Score}
	}
	switch mt.q.Type {
	case flows.Scale:
		v := f.value()
		q.Mean = &v
	case flows.NPS:
		q.NPS = f.nps
	}
	if pc.Shown() {
		if pf := mt.figure(prev.countersFor(unit, aud, mt)); pf.ok {
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

// feedbackBars are the feedback's polarities (each shown or "< 3") and its topics of at least MinCell
// messages (a topic of fewer is left out: a topic is listed only where it was written about).
func feedbackBars(c map[string]int64, n int64) (pol, topics []Bar) {
	for _, p := range polarities {
		pol = append(pol, share(p, c["fb.pol="+p], n))
	}
	for f, x := range c {
		if v, ok := strings.CutPrefix(f, "fb.topic="); ok && x >= MinCell {
			topics = append(topics, share(v, x, n))
		}
	}
	slices.SortFunc(topics, func(a, b Bar) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
	})
	return pol, topics
}
