package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/store"
)

func TestSweepDeletesOldTextKeepsCounters(t *testing.T) {
	for _, b := range redistest.Backends() {
		t.Run(b.Name, func(t *testing.T) { testSweep(t, b) })
	}
}

// testSweep: free text older than the retention goes (responses, feedback, dead Slack posts), also of a unit
// no longer configured; counters stay, and so does everything newer.
func testSweep(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	rdb := b.New(t)
	st := store.New(rdb, "pl:")
	now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
	old := period.WeekOf(now.AddDate(0, 0, -410))
	recent := period.WeekOf(now.AddDate(0, 0, -30))
	for _, unit := range []string{"u1", "gone"} { // "gone" is not in the configuration any more
		for _, w := range []period.Period{old, recent} {
			pubs := []bot.Publication{
				{Unit: unit, Audience: "youth", Week: w, Marker: "r" + w.String(), Stream: "resp", Fields: []string{"a.words", "secret text"}, Counts: []string{"n"}},
				{Unit: unit, Audience: "youth", Week: w, Marker: "f" + w.String(), Stream: "fb", Fields: []string{"text", "old feedback", "pol", "positive"}, Counts: []string{"fb.n", "fb.pol=positive"}},
			}
			prev := version(t, st, "p")
			if err := st.Commit(ctx, bot.Commit{PID: "p", Prev: prev, Session: &bot.Session{}, TTL: time.Hour, Publish: pubs}); err != nil {
				t.Fatal(err)
			}
		}
	}
	deadKey := "pl:{outbox}:dead"
	for _, at := range []time.Time{now.AddDate(0, 0, -401), now.AddDate(0, 0, -2)} {
		id := strconv.FormatInt(at.UnixMilli(), 10) + "-0"
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: deadKey, ID: id, Values: []any{"m", `{"t":"quoted feedback"}`}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	units, err := st.StreamUnits(ctx)
	if err != nil || len(units) != 2 || units[0] != "gone" || units[1] != "u1" {
		t.Fatalf("StreamUnits = %v, %v", units, err)
	}

	n, err := st.Sweep(ctx, []string{"u1"}, 400*24*time.Hour, now)
	if err != nil || n != 5 {
		t.Fatalf("Sweep = %d, %v; want 5 old entries deleted (2 units x 2 streams, 1 dead letter)", n, err)
	}
	for _, unit := range []string{"u1", "gone"} {
		for _, s := range []string{"resp", "fb"} {
			xs := rdb.XRange(ctx, st.UnitKey(unit, s), "-", "+").Val()
			if len(xs) != 1 || !strings.HasPrefix(xs[0].ID, strconv.FormatInt(recent.Start().UnixMilli(), 10)+"-") {
				t.Errorf("%s/%s keeps %v, want the recent entry only", unit, s, xs)
			}
		}
		if agg := rdb.HGetAll(ctx, st.AggKey(unit, "youth", old.String())).Val(); agg["n"] != "1" || agg["fb.pol=positive"] != "1" {
			t.Errorf("%s: old counters lost: %v", unit, agg)
		}
	}
	if l := rdb.XLen(ctx, deadKey).Val(); l != 1 {
		t.Errorf("%d dead letters left, want the recent one", l)
	}
	if n, err := st.Sweep(ctx, []string{"u1"}, 400*24*time.Hour, now); n != 0 || err != nil {
		t.Errorf("second sweep = %d, %v; want nothing more", n, err)
	}
}
