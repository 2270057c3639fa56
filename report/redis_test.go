package report_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/report"
	"github.com/palaute/palaute/store"
)

var _ report.Source = (*store.Counters)(nil)

// What the engine writes is what the summary reads: ten young people answer through the engine,
// and the summary of their unit shows their figures and their scrubbed comments.
func TestEngineToSummary(t *testing.T) {
	for _, b := range redistest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			rdb := b.New(t)
			e := testenv.New(t, rdb)
			for i := range 10 {
				c := e.Chat(t, "youth"+strconv.Itoa(i), "fi")
				c.Send("/start u-kotipesa")
				for _, face := range []string{"🙂", "😄", "🙂", "🙂", "🙂"} {
					c.Press(face)
				}
				c.Press(strconv.Itoa(10 - i%3)) // 10, 9, 8: 7 promoters, 3 passives
				c.Send(fmt.Sprintf("Täällä on hyvä olla %d, Matti soita 040 123 4567", i))
			}
			o := opts(testenv.Units...)
			o.Scrubber = nil // the default: pii.New(o.Names)
			o.Names = []string{"Matti Virtanen"}
			s := MustBuild(t, store.NewCounters(rdb, "pl:"), o, "kotipesa", month)
			g := group(t, &s.Units[0], "youth")
			if !g.Responses.Shown() || g.Responses.N != 10 {
				t.Fatalf("responses = %+v, want 10", g.Responses)
			}
			if q := question(t, g, "heard"); q.Mean == nil || *q.Mean != 5.0 {
				t.Errorf("heard = %+v, want mean 5.0", q)
			}
			if q := g.NPS(); q.NPS == nil || q.NPS.Score != 70 || q.NPS.Shares == nil || q.NPS.Shares.Passives != 30 {
				t.Errorf("NPS = %+v, want 70 with 30 %% passives", q.NPS)
			}
			if len(g.Comments.Answers) != 10 {
				t.Errorf("comments = %q, want 10", g.Comments.Answers)
			}
			text := s.Text("fi")
			if !strings.Contains(text, "• Täällä on hyvä olla") {
				t.Errorf("no comments in:\n%s", text)
			}
			if strings.Contains(text, "040 123 4567") || strings.Contains(text, "Matti") {
				t.Errorf("comments not scrubbed by the default scrubber:\n%s", text)
			}
		})
	}
}

// history are the months of a monthly summary's NPS trend, oldest first; the summary is of the last.
var history = []string{"2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"}

// MustStore stores n completed youth responses of unit under prefix, spread evenly over the weeks of
// history, as the engine leaves them: the counters (HINCRBY per audience and week, what the
// completions add up to) and a response stream entry per response in the summarised month (a third
// with a free-text answer), plus a feedback entry per 20 responses. Entries of earlier months are
// left out: no summary of November reads them (a range read of a stream costs O(log N) to find its
// start), and writing them would only make the benchmark slow to set up.
func MustStore(tb testing.TB, rdb redis.UniversalClient, prefix, unit string, n int64) {
	tb.Helper()
	ctx := context.Background()
	var weeks []period.Period
	for _, m := range history {
		weeks = append(weeks, mustPeriod(tb, m).Weeks()...)
	}
	last := mustPeriod(tb, history[len(history)-1])
	written := int64(0)
	p := rdb.Pipeline()
	flush := func() {
		if _, err := p.Exec(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	for i, w := range weeks {
		m := n*int64(i+1)/int64(len(weeks)) - written // this week's responses
		written += m
		key := prefix + "{u:" + unit + "}:agg:youth:" + w.String()
		p.HIncrBy(ctx, key, "n", m)
		p.HIncrBy(ctx, key, "n.nuoret", m)
		for j, q := range []string{"help", "heard", "together", "safe", "hope"} {
			for v := int64(1); v <= 5; v++ { // spread the m answers over the values
				p.HIncrBy(ctx, key, "nuoret."+q+"="+strconv.FormatInt(v, 10), m*v/15+int64(j)%2*(m/50))
			}
		}
		for v := int64(0); v <= 10; v++ {
			p.HIncrBy(ctx, key, "nuoret.nps="+strconv.FormatInt(v, 10), m/11)
		}
		p.HIncrBy(ctx, key, "nuoret.words=_text", (m+2)/3)
		p.HIncrBy(ctx, key, "fb.n", m/20)
		p.HIncrBy(ctx, key, "fb.pol=positive", m/20)
		flush()
		if !last.Contains(w) {
			continue
		}
		ms := strconv.FormatInt(w.Start().UnixMilli(), 10)
		for j := range m {
			vals := []any{"aud", "youth", "flow", "nuoret", "v", "1", "week", w.String(), "lang", "fi",
				"a.help", "4", "a.heard", "5", "a.together", "3", "a.safe", "4", "a.hope", "4", "a.nps", "9"}
			if j%3 == 0 {
				vals = append(vals, "a.words", "Täällä on hyvä olla, ohjaajat kuuntelevat. Kiitos "+strconv.FormatInt(j, 10))
			}
			p.XAdd(ctx, &redis.XAddArgs{Stream: prefix + "{u:" + unit + "}:resp", ID: ms + "-" + strconv.FormatInt(j+1, 10), Values: vals})
			if j%20 == 0 {
				p.XAdd(ctx, &redis.XAddArgs{Stream: prefix + "{u:" + unit + "}:fb", ID: ms + "-" + strconv.FormatInt(j/20+1, 10),
					Values: []any{"aud", "youth", "week", w.String(), "lang", "fi", "pol", "positive", "text", "Hyvä ruoka tänään"}})
			}
			if j%5000 == 4999 {
				flush()
			}
		}
		flush()
	}
}

// BenchmarkSummary builds a unit's monthly summary (six months of NPS trend, the secondary
// suppression over every unit, comments read, shuffled and scrubbed by the real PII scrubber) from
// one real redis-server holding a unit with 100 and a unit with 1 000 000 stored responses (153 847
// of them in November's stream, 51 284 with a comment). Counters are summed per audience and week
// and free text is read at most ReadBudget entries per stream, so the cost must not grow with the
// responses: a unit of 10 000 shows where the comment read levels off, and figures-only (no comments)
// shows the counters alone.
//
//	go test -run '^$' -bench Summary -benchtime 300x ./report/
func BenchmarkSummary(b *testing.B) {
	rdb := redistest.Start(b).Client(b)
	sizes := []int64{100, 10_000, 1_000_000}
	for _, n := range sizes {
		MustStore(b, rdb, "n"+strconv.FormatInt(n, 10)+":", "kotipesa", n)
	}
	p := mustPeriod(b, history[len(history)-1])
	for _, figuresOnly := range []bool{false, true} {
		for _, n := range sizes {
			name := "responses=" + strconv.FormatInt(n, 10)
			if figuresOnly {
				name = "figures-only/" + name
			}
			b.Run(name, func(b *testing.B) { benchSummary(b, rdb, n, p, figuresOnly) })
		}
	}
}

// benchSummary builds the summary of the unit stored with n responses; figuresOnly leaves the
// comments out (MinComments out of reach), so that only counters are read.
func benchSummary(b *testing.B, rdb redis.UniversalClient, n int64, p period.Period, figuresOnly bool) {
	src := store.NewCounters(rdb, "n"+strconv.FormatInt(n, 10)+":")
	o := opts(testenv.Units...)
	o.Scrubber, o.Names = nil, []string{"Matti Virtanen"} // the real scrubber
	if figuresOnly {
		o.MinComments = 1 << 30
	}
	s, err := report.Build(context.Background(), src, o, "kotipesa", p)
	if err != nil {
		b.Fatal(err)
	}
	g := group(b, &s.Units[0], "youth")
	var total int64
	for _, per := range history {
		t := MustBuild(b, src, o, "kotipesa", per)
		total += int64(group(b, &t.Units[0], "youth").Responses.N)
	}
	if total != n || !g.Responses.Shown() || (len(g.Comments.Answers) == 0) != figuresOnly {
		b.Fatalf("stored %d responses, want %d; November: %+v, %d comments", total, n, g.Responses, len(g.Comments.Answers))
	}
	if l := rdb.XLen(context.Background(), "n"+strconv.FormatInt(n, 10)+":{u:kotipesa}:resp").Val(); l != int64(g.Responses.N) {
		b.Fatalf("response stream holds %d entries, November has %d responses", l, g.Responses.N)
	}
	rt := redistest.Count(rdb)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := report.Build(context.Background(), src, o, "kotipesa", p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(rt.N())/float64(b.N), "roundtrips/op")
}
