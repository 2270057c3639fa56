package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/store"
)

// palaute serve on a 3-master Redis Cluster (redis.url with several addresses): surveys through the
// webhook counted once, crisis alerts routed to Slack, the retention sweep at start, every key with a TTL
// but streams and counters, and not one warning in the log (no CROSSSLOT, no MOVED).
func TestServeOnRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	t.Parallel()
	cl := redistest.StartCluster(t)
	rdb := cl.Client(t)
	ctx := context.Background()
	e := testenv.New(t, rdb, func(o *bot.Options) { o.Coder = crisisCoder{} })
	c := e.Chat(t, "crisis", "fi")
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	c.Send("HÄTÄ en jaksa enää")
	c.Press("Kyllä")
	// Feedback of satama from 410 days ago, and its counters.
	st := store.New(rdb, "pl:")
	old := period.WeekOf(time.Now().AddDate(0, 0, -410))
	if err := st.Commit(ctx, bot.Commit{PID: "old", Session: &bot.Session{}, TTL: time.Hour, Publish: []bot.Publication{{Unit: "satama",
		Audience: "youth", Week: old, Marker: "old", Stream: "fb", Fields: []string{"text", "vanha palaute"}, Counts: []string{"fb.n"}}}}); err != nil {
		t.Fatal(err)
	}

	slack := newFakeSlack(t)
	p := startServe(t, procOpts{redisURL: cl.URL(), slack: slack, set: map[string]any{"slack.all_channel": "#palaute-johto"}})
	d := newDriver(p.fake, p.hook)
	uids := people(75_000_000, 6)
	runPeople(t, d, uids, 3)
	checkExactlyOnce(t, rdb, "kotipesa", uids)

	eventually(t, 30*time.Second, "the two crisis posts in Slack", func() bool {
		n := 0
		for _, v := range slack.Posts() {
			if strings.HasPrefix(v.Get("text"), "🚨") && v.Get("channel") == "#palaute-kotipesa" {
				n++
			}
		}
		return n == 2
	})
	eventually(t, 10*time.Second, "the old feedback swept", func() bool { return rdb.XLen(ctx, st.UnitKey("satama", "fb")).Val() == 0 })
	if a := rdb.HGetAll(ctx, st.AggKey("satama", "youth", old.String())).Val(); a["fb.n"] != "1" {
		t.Errorf("the sweep took the counters too: %v", a)
	}
	checkTTLs(t, rdb)
	for _, l := range strings.Split(p.Out.String(), "\n") {
		if strings.Contains(l, `"level":"WARN"`) || strings.Contains(l, `"level":"ERROR"`) {
			t.Errorf("warning on the cluster: %s", l)
		}
	}
}
