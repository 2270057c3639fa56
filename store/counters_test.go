package store_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/store"
)

// source is report.Source (asserted in report's tests, so that store's tests do not build report).
type source interface {
	Weekly(ctx context.Context, unit string, audiences []string, weeks []period.Period) ([]map[string]map[string]int64, error)
	Texts(ctx context.Context, unit string, weeks []period.Period, perWeek int) (resp, fb []map[string]string, err error)
}

var _ source = (*store.Counters)(nil)

// The counters suite runs against miniredis, a real redis-server and (not with -short) a Redis Cluster.
func TestCountersSuite(t *testing.T) {
	backends := redistest.Backends()
	if !testing.Short() {
		backends = append(backends, redistest.Backend{Name: "cluster", New: func(tb testing.TB) redis.UniversalClient {
			return redistest.StartCluster(tb).Client(tb)
		}})
	}
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			rdb := b.New(t)
			t.Run("sum", func(t *testing.T) { testSum(t, rdb) })
			t.Run("bad counter", func(t *testing.T) { testBadCounter(t, rdb) })
			t.Run("texts", func(t *testing.T) { testTexts(t, rdb) })
		})
	}
}

func mustPeriod(tb testing.TB, s string) period.Period {
	tb.Helper()
	p, err := period.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// hincr writes counters as the engine does: HINCRBY on P{u:<unit>}:agg:<audience>:<week>.
func hincr(tb testing.TB, rdb redis.UniversalClient, unit, aud, week string, fields map[string]int64) {
	tb.Helper()
	key := "pl:{u:" + unit + "}:agg:" + aud + ":" + week
	for f, n := range fields {
		if err := rdb.HIncrBy(context.Background(), key, f, n).Err(); err != nil {
			tb.Fatal(err)
		}
	}
}

func testSum(t *testing.T, rdb redis.UniversalClient) {
	ctx := context.Background()
	c := store.NewCounters(rdb, "pl:")
	// November 2026 is weeks 45-48; W44 and W49 are October and December.
	for _, w := range []string{"2026-W44", "2026-W45", "2026-W46", "2026-W48", "2026-W49"} {
		hincr(t, rdb, "sum", "youth", w, map[string]int64{"n": 2, "n.nuoret": 2, "nuoret.help=4": 1, "nuoret.help=_skip": 1})
	}
	hincr(t, rdb, "sum", "relative", "2026-W47", map[string]int64{"n": 3, "laheiset.nps=9": 3})
	hincr(t, rdb, "sum", "unknown", "2026-W45", map[string]int64{"fb.n": 1, "fb.pol=positive": 1})
	hincr(t, rdb, "other", "youth", "2026-W45", map[string]int64{"n": 100})

	rt := redistest.Count(rdb)
	_, _ = c.Sum(ctx, "sum", []string{"youth"}, mustPeriod(t, "2026-W45").Weeks()) // a new connection says HELLO first: not counted
	before := rt.N()
	got, err := c.Sum(ctx, "sum", []string{"youth", "relative", "social_worker", "unknown"}, mustPeriod(t, "2026-11").Weeks())
	if err != nil {
		t.Fatal(err)
	}
	if n := rt.N() - before; n != 1 {
		t.Errorf("Sum took %d round trips, want 1", n)
	}
	want := map[string]map[string]int64{
		"youth":    {"n": 6, "n.nuoret": 6, "nuoret.help=4": 3, "nuoret.help=_skip": 3},
		"relative": {"n": 3, "laheiset.nps=9": 3},
		"unknown":  {"fb.n": 1, "fb.pol=positive": 1},
	}
	if len(got) != len(want) {
		t.Errorf("audiences = %v, want %v", got, want)
	}
	for a, fs := range want {
		for f, n := range fs {
			if got[a][f] != n {
				t.Errorf("%s %s = %d, want %d (all: %v)", a, f, got[a][f], n, got[a])
			}
		}
	}
	// A week alone.
	got, _ = c.Sum(ctx, "sum", []string{"youth"}, mustPeriod(t, "2026-W44").Weeks())
	if got["youth"]["n"] != 2 {
		t.Errorf("W44 n = %d, want 2", got["youth"]["n"])
	}
	// Nothing stored: empty, not an error.
	got, err = c.Sum(ctx, "none", []string{"youth"}, mustPeriod(t, "2026-H2").Weeks())
	if err != nil || len(got) != 0 {
		t.Errorf("empty unit: %v %v", got, err)
	}
}

func testBadCounter(t *testing.T, rdb redis.UniversalClient) {
	ctx := context.Background()
	rdb.HSet(ctx, "pl:{u:bad}:agg:youth:2026-W45", "n", "many")
	_, err := store.NewCounters(rdb, "pl:").Sum(ctx, "bad", []string{"youth"}, mustPeriod(t, "2026-W45").Weeks())
	if !errors.Is(err, store.ErrBadCounter) {
		t.Errorf("err = %v, want ErrBadCounter", err)
	}
}

// xadd appends a stream entry with an id in the given week, as the engine does.
func xadd(tb testing.TB, rdb redis.UniversalClient, unit, stream, idWeek string, seq int, fields ...string) {
	tb.Helper()
	ms := mustPeriod(tb, idWeek).Start().UnixMilli()
	err := rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: "pl:{u:" + unit + "}:" + stream,
		ID: strconv.FormatInt(ms, 10) + "-" + strconv.Itoa(seq), Values: fields}).Err()
	if err != nil {
		tb.Fatal(err)
	}
}

func testTexts(t *testing.T, rdb redis.UniversalClient) {
	ctx := context.Background()
	c := store.NewCounters(rdb, "pl:")
	xadd(t, rdb, "tx", "resp", "2026-W44", 1, "aud", "youth", "flow", "nuoret", "week", "2026-W44", "a.words", "lokakuu")
	xadd(t, rdb, "tx", "resp", "2026-W45", 1, "aud", "youth", "flow", "nuoret", "week", "2026-W45", "a.words", "yksi")
	xadd(t, rdb, "tx", "resp", "2026-W45", 2, "aud", "youth", "flow", "nuoret", "week", "2026-W45", "a.words", "kaksi")
	xadd(t, rdb, "tx", "resp", "2026-W45", 3, "aud", "youth", "flow", "nuoret", "week", "2026-W45", "a.words", "kolme")
	// A late entry of W45 that got a W46 id (ids only increase) is still part of November.
	xadd(t, rdb, "tx", "resp", "2026-W46", 1, "aud", "youth", "flow", "nuoret", "week", "2026-W45", "a.words", "myöhässä")
	xadd(t, rdb, "tx", "resp", "2026-W49", 1, "aud", "youth", "flow", "nuoret", "week", "2026-W49", "a.words", "joulukuu")
	xadd(t, rdb, "tx", "fb", "2026-W48", 1, "aud", "unknown", "week", "2026-W48", "pol", "positive", "text", "kiitos")
	xadd(t, rdb, "tx", "fb", "2026-W49", 1, "aud", "unknown", "week", "2026-W49", "pol", "positive", "text", "joulu")

	rt := redistest.Count(rdb)
	_, _, _ = c.Texts(ctx, "tx", mustPeriod(t, "2026-W45").Weeks(), 0) // a new connection says HELLO first: not counted
	before := rt.N()
	resp, fb, err := c.Texts(ctx, "tx", mustPeriod(t, "2026-11").Weeks(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := rt.N() - before; n != 1 {
		t.Errorf("Texts took %d round trips, want 1", n)
	}
	words := func(es []map[string]string, f string) []string {
		var out []string
		for _, e := range es {
			out = append(out, e[f])
		}
		slices.Sort(out)
		return out
	}
	if got := words(resp, "a.words"); !slices.Equal(got, []string{"kaksi", "kolme", "myöhässä", "yksi"}) {
		t.Errorf("November answers = %q", got)
	}
	if got := words(fb, "text"); !slices.Equal(got, []string{"kiitos"}) {
		t.Errorf("November feedback = %q", got)
	}
	// At most perWeek entries per stream and week.
	resp, _, _ = c.Texts(ctx, "tx", mustPeriod(t, "2026-11").Weeks(), 2)
	if got := words(resp, "a.words"); !slices.Equal(got, []string{"kaksi", "myöhässä", "yksi"}) {
		t.Errorf("November answers, 2 a week = %q", got)
	}
	// No stream: nothing, not an error.
	resp, fb, err = c.Texts(ctx, "none", mustPeriod(t, "2026-11").Weeks(), 0)
	if err != nil || len(resp)+len(fb) != 0 {
		t.Errorf("empty unit: %v %v %v", resp, fb, err)
	}
}
