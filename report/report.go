// Package report makes the anonymised summaries staff read: it reads summed counters and free text
// through a Source, applies the anonymity rules (suppress.go) and renders the result as plain text,
// JSON, Slack Block Kit, a PNG chart and CSV.
//
// A Summary holds only what may be shown: a hidden figure is absent from it (with the reason it is
// hidden), so no renderer can leak it. Anonymity rules, all applied before any rendering (suppress.go;
// README, "Anonymity in summaries"):
//
//   - No figure from fewer than MinResponses (k) answers. A hidden count is never shown, not even when it
//     is zero: the cell says "n < k" (zero included, so "nobody answered" cannot be told from "one
//     answered"). Each question has its own n (answers minus skips).
//   - Breakdowns (a question's answers per value, NPS shares, feedback polarities and topics) and free
//     text only from MinComments answers; a value of fewer than MinCell (3) answers, none included, says
//     "< 3", and a breakdown in which such a cell could be worked out (one alone, or m of them holding
//     more than 2(m-1) together) is not shown. NPS shares are shown only with no share of 1 or 2
//     answers (the score would pin one down). A topic of fewer than 3 messages is left out: that is
//     its "< 3", and each topic is a cell of the feedback breakdown in the rules below.
//   - A breakdown shown exactly where shorter periods or units show "< 3" (or are hidden) is hidden when
//     a value minus the exact parts leaves 1 or 2, or more than h + 2(m-1) over m "< 3" cells and
//     hidden parts of h answers: as within one breakdown, those cells would be pinned down.
//   - Audiences (youth, relative, social_worker, and unknown for feedback) are never merged.
//   - Across time: months are made of ISO weeks (a week in the month of its Thursday), half-years of
//     months, and a longer period's pattern is decided from its parts' (their summaries come first). A
//     unit's month or half-year whose hidden parts hold 1 to k-1 answers together (a hidden month's
//     shown weeks are known and do not count) is hidden (protected_period), and its breakdowns and
//     comments likewise with MinComments, per value too. Hidden parts holding none do not hide it.
//   - Across units: a week's or a month's all-units total adds up the units' shown figures only, so it
//     tells nothing that cannot be added up; a half-year's counts every unit and is hidden (protected)
//     when the hidden units leave 0 to k-1 answers unknown. (True weekly or monthly totals together with
//     the units' months gave sums of a few answers of different units: TestAuditSmallTables.)
//   - A trend (change against the previous period) is computed only between two shown figures.
//   - Targets are evaluated only on a shown figure (a "not met" would otherwise bound a hidden one).
//     Rate targets (nps, a scale question's mean) hold in every summary; the count target
//     "responses" is a number of responses in a half-year and is evaluated in half-year summaries
//     only (a weekly summary would always miss it). Each unit's targets are also listed together
//     (Unit.Targets), first in its part: the half-year review against targets reads them there.
//   - Free text: survey text answers and spontaneous feedback of a unit's audience are shown only
//     following the breakdown rules of that group (its responses, or its feedback messages); they pass
//     the PII scrubber, are shuffled, carry no time, and text answers of all text questions are pooled
//     so that a comment cannot be tied to the ratings that made a follow-up question appear. The
//     all-units total shows no free text.
//   - A summary of a period that has not ended is refused (CheckEnded): two summaries of a running
//     period a response apart would show that person's answers.
//
// Not covered: a scale question's mean, shown from k answers, narrows the "< 3" cells of its breakdown;
// a month's shown breakdown cell minus its weeks' "< 3" cells is a range, not a number, but is not
// checked further; and "none" in hidden weeks or months can be told by subtraction (see revealing).
package report

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/period"
)

// Source reads what the engine stored. store.Counters implements it.
type Source interface {
	// Weekly reads the counters of unit for each of weeks (in their order) and audience (the aggregate hashes store.Counters reads).
	Weekly(ctx context.Context, unit string, audiences []string, weeks []period.Period) ([]map[string]map[string]int64, error)
	// Texts returns the response and feedback stream entries of unit in weeks as field maps,
	// at most perWeek per stream and week (<= 0: all).
	Texts(ctx context.Context, unit string, weeks []period.Period, perWeek int) (resp, fb []map[string]string, err error)
}

// TopicNamer names feedback topics (the coder's topics file); *coding.Coder is one.
type TopicNamer interface {
	TopicName(lang, id string) string
}

// Scrubber removes personal details from free text. pii.New(names) is one.
type Scrubber interface {
	Scrub(lang, text string) string
}

// All is the unit argument of Build that asks for every unit and their total.
const All = "all"

// Unknown is the audience of spontaneous feedback from someone who has not answered a survey.
const Unknown = "unknown"

// Errors of Build.
var (
	ErrUnknownUnit = errors.New("unknown unit")
	ErrNoUnits     = errors.New("no units configured")
)

// Options are the settings of a summary. OptionsFrom fills them from the configuration.
type Options struct {
	Units        []config.Unit
	Flows        *flows.Set
	MinResponses int        // k: no figure from fewer answers
	MinComments  int        // no free text from a smaller group
	Names        []string   // names the default scrubber removes
	Scrubber     Scrubber   // nil: pii.New(Names)
	Topics       TopicNamer // names of feedback topics; nil: the id
	History      int        // periods in the NPS trend, this one included; default 6
	MaxComments  int        // comments shown per group and kind; default 20
	// ReadBudget is how many stream entries a summary reads per stream (responses, feedback) to pick
	// its comments from, spread evenly over the period's weeks; default 10 × MaxComments. It bounds
	// the cost of a summary whatever the number of stored responses.
	ReadBudget int
	// Rand shuffles comments; nil: seeded from crypto/rand for each Build. A *rand.Rand is not safe
	// for concurrent use: do not share one between concurrent Builds.
	Rand *rand.Rand
}

// OptionsFrom takes the options from the configuration.
func OptionsFrom(cfg config.Config, fs *flows.Set) Options {
	return Options{
		Units:        cfg.Units,
		Flows:        fs,
		MinResponses: cfg.Anonymity.MinResponses,
		MinComments:  cfg.Anonymity.MinComments,
		Names:        cfg.Privacy.Names,
	}
}

func (o *Options) defaults() {
	if o.MinResponses < 1 {
		o.MinResponses = config.Default().Anonymity.MinResponses
	}
	if o.MinComments < o.MinResponses {
		o.MinComments = max(o.MinResponses, config.Default().Anonymity.MinComments)
	}
	if o.History < 2 {
		o.History = 6
	}
	if o.MaxComments <= 0 {
		o.MaxComments = 20
	}
	if o.ReadBudget <= 0 {
		o.ReadBudget = 10 * o.MaxComments
	}
	if o.Scrubber == nil {
		o.Scrubber = defaultScrubber(o.Names)
	}
	if o.Rand == nil {
		var seed [32]byte
		_, _ = crand.Read(seed[:])
		o.Rand = rand.New(rand.NewChaCha8(seed))
	}
}

// Hidden says why a figure is not shown; "" means it is shown.
type Hidden string

const (
	TooFew          Hidden = "too_few"          // fewer answers than the threshold (k; MinComments for breakdowns and free text)
	Protected       Hidden = "protected"        // secondary suppression across units: a smaller cell could be had from the total
	ProtectedPeriod Hidden = "protected_period" // secondary suppression across time: a hidden week or month could be had by subtraction
	SmallCells      Hidden = "small_cells"      // a breakdown whose cells of fewer than MinCell answers could be told
	Small           Hidden = "small"            // a breakdown cell of fewer than MinCell answers (shown as "< 3")
)

// Cell is the answer count behind a figure and whether the figure is shown.
type Cell struct {
	N      int    `json:"n,omitempty"` // answers behind the figure; 0 when hidden
	Hidden Hidden `json:"hidden,omitempty"`
}

// Shown reports whether the figure may be shown.
func (c Cell) Shown() bool { return c.Hidden == "" }

// Trend is the change against the previous period, of two shown figures as displayed (rounded).
type Trend struct {
	Prev  float64 `json:"prev"`
	Delta float64 `json:"delta"`
}

// Bar is one value of a distribution. A cell of fewer than MinCell answers has Hidden "small" and no
// count or share.
type Bar struct {
	Value  string      `json:"value"`
	Names  flows.Texts `json:"names,omitempty"` // a feedback topic's name per language
	Count  int         `json:"count"`
	Pct    int         `json:"pct"`
	Hidden Hidden      `json:"hidden,omitempty"`
}

// NPS is the net promoter score, and its three shares when the breakdown may be shown.
type NPS struct {
	Score  int        `json:"score"`
	Shares *NPSShares `json:"shares,omitempty"`
}

// NPSShares are the shares of promoters (9-10), passives (7-8) and detractors (0-6), in whole percent.
type NPSShares struct {
	Promoters  int `json:"promoters_pct"`
	Passives   int `json:"passives_pct"`
	Detractors int `json:"detractors_pct"`
}

// Point is a period of a trend line; Value is nil when that period's figure is hidden.
type Point struct {
	Period string   `json:"period"`
	Value  *float64 `json:"value"`
}

// Target is a unit target on a shown figure.
type Target struct {
	Target float64 `json:"target"`
	Met    bool    `json:"met"`
}

// Question is the figure of one answerable question (scale, nps, yesno, choice).
type Question struct {
	Key  string      `json:"key"` // <flow>.<qid>
	ID   string      `json:"id"`
	Type flows.Type  `json:"type"`
	Text flows.Texts `json:"text"`
	Cell
	Mean   *float64 `json:"mean,omitempty"` // scale, 1 decimal
	NPS    *NPS     `json:"nps,omitempty"`
	Trend  *Trend   `json:"trend,omitempty"` // of the mean or the NPS score
	Target *Target  `json:"target,omitempty"`
	Dist   []Bar    `json:"distribution,omitempty"` // scale, yesno, choice: answers per value
	// Breakdown is why the distribution (or the NPS shares) is not shown though the figure is.
	Breakdown Hidden  `json:"breakdown_hidden,omitempty"`
	History   []Point `json:"history,omitempty"` // nps: the score over the history periods, oldest first

	options []flows.Option
}

// Feedback counts spontaneous feedback.
type Feedback struct {
	Cell
	Trend     *Trend `json:"trend,omitempty"`
	Polarity  []Bar  `json:"polarity,omitempty"`
	Topics    []Bar  `json:"topics,omitempty"` // topics of at least MinCell messages
	Breakdown Hidden `json:"breakdown_hidden,omitempty"`
}

// Comments are free texts of a group, scrubbed and shuffled; Hidden when the group is too small (or
// its comments could be had from other summaries'), FBHidden likewise for the feedback texts.
type Comments struct {
	Hidden   Hidden   `json:"hidden,omitempty"`
	FBHidden Hidden   `json:"feedback_hidden,omitempty"`
	Answers  []string `json:"answers,omitempty"`  // survey text answers
	More     int      `json:"more,omitempty"`     // answers not shown (over MaxComments)
	Texts    []string `json:"feedback,omitempty"` // spontaneous feedback
	MoreFB   int      `json:"more_feedback,omitempty"`
	FBShown  bool     `json:"feedback_shown"`
}

// Group is one audience of a unit (or of the total).
type Group struct {
	Audience  string     `json:"audience"`
	Responses *Cell      `json:"responses,omitempty"` // survey responses; nil for Unknown (feedback only)
	Trend     *Trend     `json:"responses_trend,omitempty"`
	Target    *Target    `json:"responses_target,omitempty"`
	Questions []Question `json:"questions,omitempty"`
	Feedback  Feedback   `json:"feedback"`
	Comments  *Comments  `json:"comments,omitempty"` // nil in the total
}

// NPS returns the group's first NPS question.
func (g *Group) NPS() *Question {
	for i := range g.Questions {
		if g.Questions[i].Type == flows.NPS {
			return &g.Questions[i]
		}
	}
	return nil
}

// Unit is a unit's summary, or the total of all units (ID All).
type Unit struct {
	ID    string      `json:"id"`
	Names flows.Texts `json:"names"`
	// SumOfShown: this total of a week or a month adds up only the units' figures that are shown (a
	// half-year's total counts every unit).
	SumOfShown bool        `json:"sum_of_shown,omitempty"`
	Targets    []TargetRow `json:"targets,omitempty"` // the unit's targets of this period, met or not
	Groups     []Group     `json:"groups"`
}

// TargetRow is one target of a unit for one audience: met or not on a shown figure, or why it cannot
// be evaluated (the figure is hidden).
type TargetRow struct {
	Audience string      `json:"audience"`
	Key      string      `json:"key"` // "responses", "nps" or a scale question id
	Text     flows.Texts `json:"text,omitempty"`
	Target   float64     `json:"target"`
	Value    *float64    `json:"value,omitempty"`
	Met      *bool       `json:"met,omitempty"`
	Hidden   Hidden      `json:"hidden,omitempty"`
}

// TargetsMet counts the targets met and those that could be evaluated.
func (u *Unit) TargetsMet() (met, evaluated int) {
	for _, t := range u.Targets {
		if t.Met != nil {
			evaluated++
			if *t.Met {
				met++
			}
		}
	}
	return met, evaluated
}

// Name is the unit's name in lang.
func (u *Unit) Name(lang string) string {
	if n := u.Names.In(lang); n != "" {
		return n
	}
	return u.ID
}

// Summary is what staff may see of a period.
type Summary struct {
	Period       string   `json:"period"`
	Kind         string   `json:"kind"` // week, month or half
	Previous     string   `json:"previous"`
	History      []string `json:"history"` // periods of the trend lines, oldest first, ending with Period
	MinResponses int      `json:"min_responses"`
	MinComments  int      `json:"min_comments"`
	Units        []Unit   `json:"units"`
	Total        *Unit    `json:"total,omitempty"`

	p period.Period
}

// JSON is the summary as indented JSON (hidden figures are absent, with the reason).
func (s *Summary) JSON() ([]byte, error) { return json.MarshalIndent(s, "", "  ") }

// audiences are the groups of a summary in order: the survey audiences, then unknown (feedback only).
func audiences() []string {
	out := make([]string, 0, len(flows.Audiences)+1)
	for _, a := range flows.Audiences {
		out = append(out, string(a))
	}
	return append(out, Unknown)
}

// Build makes the summary of unit (or All) for period p.
func Build(ctx context.Context, src Source, o Options, unit string, p period.Period) (*Summary, error) {
	o.defaults()
	if len(o.Units) == 0 {
		return nil, ErrNoUnits
	}
	if o.Flows == nil {
		fs, err := flows.Default()
		if err != nil {
			return nil, fmt.Errorf("flows: %w", err)
		}
		o.Flows = fs
	}
	var want []config.Unit
	if unit == All {
		want = o.Units
	} else {
		u, ok := (&config.Config{Units: o.Units}).Unit(unit)
		if !ok {
			return nil, fmt.Errorf("%w %q", ErrUnknownUnit, unit)
		}
		want = []config.Unit{u}
	}
	// Periods of the trend, oldest first; the last is p, the one before it the previous period.
	ps := make([]period.Period, o.History)
	ps[len(ps)-1] = p
	for i := len(ps) - 2; i >= 0; i-- {
		ps[i] = ps[i+1].Prev()
	}
	m := newModel(o.Flows)
	ids := make([]string, len(o.Units))
	for i, u := range o.Units {
		ids[i] = u.ID
	}
	// Each period of the trend with its weeks (and months): a month's pattern is decided from its
	// weeks', a half-year's from its months', as their summaries come in that order.
	nodes := make([]*node, len(ps))
	for i, x := range ps {
		nodes[i] = newNode(x)
	}
	if err := readWeeks(ctx, src, ids, nodes); err != nil {
		return nil, err
	}
	m.setTopics(nodes)
	grids := make([]*grid, len(nodes))
	for i, n := range nodes {
		n.sum(ids)
		n.suppress(m, ids, o.MinResponses, o.MinComments)
		grids[i] = n.g
	}
	cur, prev := grids[len(grids)-1], grids[len(grids)-2]

	s := &Summary{Period: p.String(), Kind: string(p.Kind), Previous: p.Prev().String(), MinResponses: o.MinResponses,
		MinComments: o.MinComments, p: p}
	for _, x := range ps {
		s.History = append(s.History, x.String())
	}
	for _, u := range want {
		su := Unit{ID: u.ID, Names: u.Names}
		targets := u.Targets
		if _, ok := targets["responses"]; ok && p.Kind != period.Half {
			targets = maps.Clone(targets)
			delete(targets, "responses")
		}
		for _, a := range audiences() {
			su.Groups = append(su.Groups, m.group(u.ID, a, cur, prev, grids, targets))
		}
		su.Targets = targetRows(&su, targets)
		nameTopics(&su, o.Topics)
		if err := addComments(ctx, src, &o, m, &su, p, cur); err != nil {
			return nil, err
		}
		s.Units = append(s.Units, su)
	}
	if unit == All {
		t := Unit{ID: All, SumOfShown: cur.shownOnly}
		for _, a := range audiences() {
			t.Groups = append(t.Groups, m.group(total, a, cur, prev, grids, nil))
		}
		nameTopics(&t, o.Topics)
		s.Total = &t
	}
	return s, nil
}

// readWeeks reads the counters of every unit for every week of the nodes: one pipelined round trip per
// unit, a few units at a time.
func readWeeks(ctx context.Context, src Source, units []string, nodes []*node) error {
	var leaves []*node
	var weeks []period.Period
	for _, n := range nodes {
		for _, w := range n.leaves() {
			leaves, weeks = append(leaves, w), append(weeks, w.g.p)
		}
	}
	outs := make([][]map[string]map[string]int64, len(units))
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(16)
	auds := audiences()
	for i, u := range units {
		eg.Go(func() error {
			out, err := src.Weekly(ctx, u, auds, weeks)
			outs[i] = out
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for i, u := range units {
		for k, w := range outs[i] {
			for a, c := range w {
				addCounters(leaves[k].g.raw, u, a, c)
			}
		}
	}
	return nil
}

// addComments reads and places the free text of the unit's groups that are large enough.
func addComments(ctx context.Context, src Source, o *Options, m *model, su *Unit, p period.Period, cur *grid) error {
	need := false
	for i := range su.Groups {
		g := &su.Groups[i]
		// Comments follow the breakdown pattern of the group's counts: from MinComments members, and
		// not when they could be had from other summaries' (a month's minus its weeks').
		c := &Comments{Hidden: TooFew, FBHidden: TooFew}
		if g.Responses != nil && g.Responses.Shown() {
			if c.Hidden = cur.bdOf(su.ID, g.Audience, "n"); c.Hidden == "" {
				need = true
			}
		}
		if g.Feedback.Shown() {
			if c.FBHidden = cur.bdOf(su.ID, g.Audience, "fb.n"); c.FBHidden == "" {
				c.FBShown = true
				need = true
			}
		}
		g.Comments = c
	}
	if !need {
		return nil
	}
	weeks := p.Weeks()
	perWeek := (o.ReadBudget + len(weeks) - 1) / len(weeks)
	resp, fb, err := src.Texts(ctx, su.ID, weeks, perWeek)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	// Free text is shuffled first and only what is shown is scrubbed: reading and scrubbing stay
	// bounded by ReadBudget and MaxComments, however much was written. (The entries read are the
	// first of each week; they carry no time finer than the week, and are shown shuffled.)
	answers := map[string][]freeText{}
	for _, e := range resp {
		f, ok := o.Flows.Get(e["flow"])
		if !ok || string(f.Audience) != e["aud"] {
			continue
		}
		for _, q := range f.Questions {
			if q.Type != flows.Text {
				continue
			}
			if t := strings.TrimSpace(e["a."+q.ID]); t != "" {
				answers[e["aud"]] = append(answers[e["aud"]], freeText{e["lang"], t})
			}
		}
	}
	feedback := map[string][]freeText{}
	for _, e := range fb {
		if t := strings.TrimSpace(e["text"]); t != "" {
			a := e["aud"]
			if a == "" {
				a = Unknown
			}
			feedback[a] = append(feedback[a], freeText{e["lang"], t})
		}
	}
	// pick shuffles and keeps MaxComments; "more" counts the rest of the period's texts from the
	// counters (total), not only of those read (and never fewer than were read).
	pick := func(xs []freeText, total int) ([]string, int) {
		total = max(total, len(xs))
		xs = slices.Clone(xs)
		o.Rand.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
		if len(xs) > o.MaxComments {
			xs = xs[:o.MaxComments]
		}
		out := make([]string, len(xs))
		for i, x := range xs {
			out[i] = o.Scrubber.Scrub(x.lang, x.text)
		}
		return out, total - len(out)
	}
	for i := range su.Groups {
		g := &su.Groups[i]
		if g.Comments.Shown() {
			c := cur.counters(su.ID, g.Audience)
			total := int64(0)
			for _, f := range o.Flows.All() {
				if string(f.Audience) != g.Audience {
					continue
				}
				for _, q := range f.Questions {
					if q.Type == flows.Text {
						total += c[q.CounterKey(f.ID, flows.TextValue)]
					}
				}
			}
			g.Comments.Answers, g.Comments.More = pick(answers[g.Audience], int(total))
		}
		if g.Comments.FBShown {
			g.Comments.Texts, g.Comments.MoreFB = pick(feedback[g.Audience], g.Feedback.N)
		}
	}
	return nil
}

// freeText is a free text as stored, with the language it was written in.
type freeText struct{ lang, text string }

// nameTopics gives the unit's feedback topics their names in every language.
func nameTopics(u *Unit, tn TopicNamer) {
	if tn == nil {
		return
	}
	for i := range u.Groups {
		for j := range u.Groups[i].Feedback.Topics {
			b := &u.Groups[i].Feedback.Topics[j]
			b.Names = flows.Texts{}
			for _, l := range locales.Languages {
				b.Names[l] = tn.TopicName(l, b.Value)
			}
		}
	}
}

// targetRows lists the unit's targets per audience, in the order of the groups: responses, NPS, then
// the scale questions in flow order. A target on a question the audience is not asked is left out.
func targetRows(u *Unit, targets map[string]float64) []TargetRow {
	if len(targets) == 0 {
		return nil
	}
	var out []TargetRow
	row := func(g *Group, key string, text flows.Texts, c Cell, tg *Target, value *float64) {
		r := TargetRow{Audience: g.Audience, Key: key, Text: text, Target: targets[key], Hidden: c.Hidden}
		if tg != nil {
			met := tg.Met
			r.Met, r.Value = &met, value
		} else if c.Shown() {
			r.Hidden = TooFew // shown, but no figure (no answers to average)
		}
		out = append(out, r)
	}
	for i := range u.Groups {
		g := &u.Groups[i]
		if g.Responses == nil {
			continue
		}
		if _, ok := targets["responses"]; ok {
			var v *float64
			if g.Responses.Shown() {
				n := float64(g.Responses.N)
				v = &n
			}
			row(g, "responses", nil, *g.Responses, g.Target, v)
		}
		if q := g.NPS(); q != nil {
			if _, ok := targets["nps"]; ok {
				var v *float64
				if q.NPS != nil {
					x := float64(q.NPS.Score)
					v = &x
				}
				row(g, "nps", nil, q.Cell, q.Target, v)
			}
		}
		for j := range g.Questions {
			q := &g.Questions[j]
			if _, ok := targets[q.ID]; ok && q.Type == flows.Scale {
				row(g, q.ID, q.Text, q.Cell, q.Target, q.Mean)
			}
		}
	}
	return out
}

// Shown reports whether the survey text answers of the group may be shown.
func (c *Comments) Shown() bool { return c != nil && c.Hidden == "" }

// seedFrom makes a deterministic source for tests and reproducible exports.
func seedFrom(n uint64) *rand.Rand {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], n)
	return rand.New(rand.NewChaCha8(seed))
}

// NewRand returns a shuffling source seeded with n (tests, reproducible exports); Options.Rand takes it.
func NewRand(n uint64) *rand.Rand { return seedFrom(n) }
