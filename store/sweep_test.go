package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/store"
)

func TestSweepDeletesOldTextKeepsCounters(t *testing.T) {
	for _, b := range redistest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st := store.New(b.New(t), "pl:")
			now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
			old := period.WeekOf(now.AddDate(0, 0, -410))
			recent := period.WeekOf(now.AddDate(0, 0, -30))
			for i, w := range []period.Period{old, recent} {
				pubs := []bot.Publication{
					{Unit: "u1", Audience: "youth", Week: w, Marker: "r" + w.String(), Stream: "resp", Fields: []string{"a.words", "secret text"}, Counts: []string{"n"}},
					{Unit: "u1", Audience: "youth", Week: w, Marker: "f" + w.String(), Stream: "fb", Fields: []string{"text", "old feedback", "pol", "positive"}, Counts: []string{"fb.n", "fb.pol=positive"}},
				}
				if err := st.Commit(ctx, bot.Commit{PID: "p", Prev: int64(i), Session: &bot.Session{}, TTL: time.Hour, Publish: pubs}); err != nil {
					t.Fatal(err)
				}
			}
			n, err := st.Sweep(ctx, []string{"u1"}, 400*24*time.Hour, now)
			if err != nil || n != 2 {
				t.Fatalf("Sweep = %d, %v; want 2 old entries deleted", n, err)
			}
			rdb := st.Client()
			for _, s := range []string{"resp", "fb"} {
				if l := rdb.XLen(ctx, st.UnitKey("u1", s)).Val(); l != 1 {
					t.Errorf("%s has %d entries, want the recent 1", s, l)
				}
			}
			if agg := rdb.HGetAll(ctx, st.AggKey("u1", "youth", old.String())).Val(); agg["n"] != "1" || agg["fb.pol=positive"] != "1" {
				t.Errorf("old counters lost: %v", agg)
			}
		})
	}
}
