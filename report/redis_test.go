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
			if q := g.NPS(); q.NPS == nil || q.NPS.Score != 70 || q.NPS.Passives != 30 {
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

// writeCounters stores the counters of n youth responses of unit spread over the weeks of the
// periods, directly with HINCRBY (what the engine's completions add up to), and a few text entries.
func writeCounters(tb testing.TB, rdb redis.UniversalClient, unit string, n int64, periods ...string) {
	tb.Helper()
	ctx := context.Background()
	for _, ps := range periods {
		weeks := mustPeriod(tb, ps).Weeks()
		per := n / int64(len(weeks))
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, w := range weeks {
				key := "pl:{u:" + unit + "}:agg:youth:" + w.String()
				m := per
				if i == 0 {
					m += n - per*int64(len(weeks))
				}
				p.HIncrBy(ctx, key, "n", m)
				p.HIncrBy(ctx, key, "n.nuoret", m)
				for _, q := range []string{"help", "heard", "together", "safe", "hope"} {
					for v := int64(1); v <= 5; v++ {
						p.HIncrBy(ctx, key, "nuoret."+q+"="+strconv.FormatInt(v, 10), m/5)
					}
				}
				for v := int64(0); v <= 10; v++ {
					p.HIncrBy(ctx, key, "nuoret.nps="+strconv.FormatInt(v, 10), m/11)
				}
				p.HIncrBy(ctx, key, "fb.n", m/20)
				p.HIncrBy(ctx, key, "fb.pol=positive", m/20)
				for j := range 20 {
					p.XAdd(ctx, &redis.XAddArgs{Stream: "pl:{u:" + unit + "}:resp",
						ID:     fmt.Sprintf("%d-%d", w.Start().UnixMilli(), j+1),
						Values: []string{"aud", "youth", "flow", "nuoret", "week", w.String(), "lang", "fi", "a.words", "Kommentti numero " + strconv.Itoa(j)}})
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkSummary builds a unit's monthly summary (six months of NPS trend, comments included)
// from a real redis-server holding 100 or 1 000 000 responses of the unit. The counters are summed
// per week, so the cost must not grow with the responses.
//
//	go test -run '^$' -bench Summary -benchtime 2000x ./report/
func BenchmarkSummary(b *testing.B) {
	periods := []string{"2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"}
	for _, n := range []int64{100, 1_000_000} {
		b.Run("responses="+strconv.FormatInt(n, 10), func(b *testing.B) {
			rdb := redistest.Start(b).Client(b)
			writeCounters(b, rdb, "kotipesa", n, periods...)
			src := store.NewCounters(rdb, "pl:")
			rt := &redistest.RoundTrips{}
			rdb.AddHook(rt)
			o := opts(testenv.Units...)
			p := mustPeriod(b, month)
			s, err := report.Build(context.Background(), src, o, "kotipesa", p)
			if err != nil {
				b.Fatal(err)
			}
			if g := group(b, &s.Units[0], "youth"); !g.Responses.Shown() || int64(g.Responses.N) != n {
				b.Fatalf("responses = %+v, want %d", g.Responses, n)
			}
			before := rt.N()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := report.Build(context.Background(), src, o, "kotipesa", p); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(rt.N()-before)/float64(b.N), "roundtrips/op")
		})
	}
}
