package report_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/report"
)

// fakeSource keeps counters and stream entries in maps, in the layout store.Counters reads.
type fakeSource struct {
	agg  map[string]map[string]int64 // "<unit>|<aud>|<week>" -> counters
	resp map[string][]map[string]string
	fb   map[string][]map[string]string

	perWeek []int // what Texts was asked for
}

var _ report.Source = (*fakeSource)(nil)

func newFake() *fakeSource {
	return &fakeSource{agg: map[string]map[string]int64{}, resp: map[string][]map[string]string{}, fb: map[string][]map[string]string{}}
}

func (f *fakeSource) Sum(_ context.Context, unit string, auds []string, weeks []period.Period) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	for _, a := range auds {
		for _, w := range weeks {
			for k, v := range f.agg[unit+"|"+a+"|"+w.String()] {
				if out[a] == nil {
					out[a] = map[string]int64{}
				}
				out[a][k] += v
			}
		}
	}
	return out, nil
}

func (f *fakeSource) Weekly(ctx context.Context, unit string, auds []string, weeks []period.Period) ([]map[string]map[string]int64, error) {
	out := make([]map[string]map[string]int64, len(weeks))
	for i, w := range weeks {
		out[i], _ = f.Sum(ctx, unit, auds, []period.Period{w})
	}
	return out, nil
}

// Texts returns the entries of the weeks, at most perWeek per stream and week (the first), as
// store.Counters does; it records the perWeek asked for.
func (f *fakeSource) Texts(_ context.Context, unit string, weeks []period.Period, perWeek int) (resp, fb []map[string]string, _ error) {
	f.perWeek = append(f.perWeek, perWeek)
	in := map[string]bool{}
	for _, w := range weeks {
		in[w.String()] = true
	}
	take := func(es []map[string]string) (out []map[string]string) {
		seen := map[string]int{}
		for _, e := range es {
			if in[e["week"]] && (perWeek <= 0 || seen[e["week"]] < perWeek) {
				seen[e["week"]]++
				out = append(out, e)
			}
		}
		return out
	}
	return take(f.resp[unit]), take(f.fb[unit]), nil
}

func (f *fakeSource) incr(unit, aud, week, field string, by int64) {
	k := unit + "|" + aud + "|" + week
	if f.agg[k] == nil {
		f.agg[k] = map[string]int64{}
	}
	f.agg[k][field] += by
}

var defaultFlows = func() *flows.Set {
	s, err := flows.Default()
	if err != nil {
		panic(err)
	}
	return s
}()

// respond records n completed responses of flow in unit and week as the engine does, each with the
// answers given as "qid=value" ("qid=" is a skip). A month or half-year for week spreads them over its
// weeks, one at a time from the first (so a month of up to 16 has no week of 5 or more).
func (f *fakeSource) respond(n int, unit, flowID, week string, answers ...string) {
	if p, err := period.Parse(week); err == nil && p.Kind != period.Week {
		ws := p.Weeks()
		for i := range n {
			f.respond(1, unit, flowID, ws[i%len(ws)].String(), answers...)
		}
		return
	}
	fl, ok := defaultFlows.Get(flowID)
	if !ok {
		panic("no flow " + flowID)
	}
	aud := string(fl.Audience)
	entry := map[string]string{"aud": aud, "flow": flowID, "ver": "1", "week": week, "lang": "fi"}
	for range n {
		f.incr(unit, aud, week, "n", 1)
		f.incr(unit, aud, week, "n."+flowID, 1)
		for _, a := range answers {
			q, v, _ := strings.Cut(a, "=")
			entry["a."+q] = v
			qq := &fl.Questions[fl.Index(q)]
			switch {
			case v == "":
				f.incr(unit, aud, week, qq.CounterKey(flowID, flows.SkipValue), 1)
			case qq.Type == flows.Text:
				f.incr(unit, aud, week, qq.CounterKey(flowID, flows.TextValue), 1)
			default:
				f.incr(unit, aud, week, qq.CounterKey(flowID, v), 1)
			}
		}
		e := map[string]string{}
		for k, v := range entry {
			e[k] = v
		}
		f.resp[unit] = append(f.resp[unit], e)
	}
}

// feedback records a spontaneous feedback message.
func (f *fakeSource) feedback(unit, aud, week, pol, text string, topics ...string) {
	f.incr(unit, aud, week, "fb.n", 1)
	f.incr(unit, aud, week, "fb.pol="+pol, 1)
	for _, t := range topics {
		f.incr(unit, aud, week, "fb.topic="+t, 1)
	}
	f.fb[unit] = append(f.fb[unit], map[string]string{"aud": aud, "week": week, "lang": "fi", "pol": pol,
		"topics": strings.Join(topics, ","), "text": text})
}

func units(ids ...string) []config.Unit {
	var out []config.Unit
	for _, id := range ids {
		out = append(out, config.Unit{ID: id, Names: flows.Texts{"fi": "Yksikkö " + id, "sv": "Enhet " + id, "en": "Unit " + id}})
	}
	return out
}

// fakeScrub stands for the PII scrubber: it replaces "Matti" and e-mail-like words.
type fakeScrub struct{}

func (fakeScrub) Scrub(_, text string) string {
	var out []string
	for _, w := range strings.Fields(text) {
		if strings.Contains(w, "Matti") || strings.Contains(w, "@") {
			w = "[poistettu]"
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

func opts(us ...config.Unit) report.Options {
	return report.Options{Units: us, Flows: defaultFlows, MinResponses: 5, MinComments: 10,
		Scrubber: fakeScrub{}, Rand: report.NewRand(1)}
}

func mustPeriod(tb testing.TB, s string) period.Period {
	tb.Helper()
	p, err := period.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// MustBuild builds a summary or fails the test.
func MustBuild(tb testing.TB, src report.Source, o report.Options, unit, p string) *report.Summary {
	tb.Helper()
	s, err := report.Build(context.Background(), src, o, unit, mustPeriod(tb, p))
	if err != nil {
		tb.Fatalf("Build(%s, %s): %v", unit, p, err)
	}
	return s
}

func group(tb testing.TB, u *report.Unit, aud string) *report.Group {
	tb.Helper()
	for i := range u.Groups {
		if u.Groups[i].Audience == aud {
			return &u.Groups[i]
		}
	}
	tb.Fatalf("no group %s in %s", aud, u.ID)
	return nil
}

func question(tb testing.TB, g *report.Group, id string) *report.Question {
	tb.Helper()
	for i := range g.Questions {
		if g.Questions[i].ID == id {
			return &g.Questions[i]
		}
	}
	tb.Fatalf("no question %s in %s", id, g.Audience)
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }
