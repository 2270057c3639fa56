package main

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/internal/fakebot"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
)

// Two palaute serve processes on one Redis behind one webhook URL: a person's updates go to both in turn,
// some reach both at once (Telegram sending an update again while the first delivery is still being
// handled; a person tapping a button twice). No answer is lost or counted twice, nobody is asked a question
// twice, and each scheduled summary is posted once.
func TestTwoReplicasInterleavedSameUsers(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	seedW47(t, testenv.New(t, rdb), "satama", "9")
	slack := newFakeSlack(t)
	fake := fakebot.New().Record()
	o := procOpts{redisURL: srv.URL(), slack: slack, tg: fake,
		env: map[string]string{"PALAUTE_TEST_CLOCK": "2026-11-23T07:00:00+02:00"}} // W47's summaries are due
	a, b := startServe(t, o), startServe(t, o)
	d := newDriver(fake, a.hook, b.hook)
	d.Route = func(uid int64, n int) int { return int(uid) + n }
	d.Twin = func(uid int64, n int, button bool) (bool, bool) {
		switch n % 3 {
		case 1:
			return true, true // the same update to both replicas at once
		case 2:
			return button, false // a double tap on a button: two updates
		}
		return false, false
	}
	uids := people(73_000_000, 30)
	runPeople(t, d, uids, 10)
	checkExactlyOnce(t, rdb, "kotipesa", uids)

	// Each question reached each person once.
	asked := map[string]int{}
	for _, c := range fake.Recorded("sendMessage") {
		if m := progressRe.FindString(c.Values.Get("text")); m != "" {
			asked[c.Values.Get("chat_id")+" "+m]++
		}
	}
	for _, uid := range uids {
		for k := 1; k <= 7; k++ {
			key := strconv.FormatInt(uid, 10) + " (" + strconv.Itoa(k) + "/7)"
			if asked[key] != 1 {
				t.Errorf("person %d was asked question %d %d times", uid, k, asked[key])
			}
		}
	}

	// Each scheduled summary once, though both replicas run the scheduler and the sender.
	eventually(t, 60*time.Second, "the W47 summaries of both units", func() bool {
		units := map[string]bool{}
		for _, p := range slack.Posts() {
			if strings.Contains(p.Get("text"), "47") {
				units[p.Get("channel")] = true
			}
		}
		return units["#palaute-kotipesa"] && units["#palaute-satama"] && a.metric(t, "palaute_outbox_depth") == 0
	})
	time.Sleep(3 * time.Second)
	seen := map[string]int{}
	for _, p := range slack.Posts() {
		seen[p.Get("channel")+": "+p.Get("text")]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("posted %d times: %.200q", n, k)
		}
	}
	posted := a.metric(t, "palaute_summaries_posted_total") + b.metric(t, "palaute_summaries_posted_total")
	if int(posted) != len(slack.Posts()) {
		t.Errorf("the replicas counted %v summaries posted, Slack got %d posts", posted, len(slack.Posts()))
	}
	checkTTLs(t, rdb)
}

// checkTTLs scans Redis: every key carries a TTL except the streams and the counters.
func checkTTLs(t *testing.T, rdb redis.UniversalClient) {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	n := 0
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, "*", 1000).Iterator()
		for iter.Next(ctx) {
			k := iter.Val()
			typ := c.Type(ctx, k).Val()
			mu.Lock()
			n++
			mu.Unlock()
			if typ == "stream" || (typ == "hash" && strings.Contains(k, ":agg:")) {
				continue
			}
			if ttl := c.PTTL(ctx, k).Val(); ttl <= 0 {
				t.Errorf("key %s (%s) has no TTL", k, typ)
			}
		}
		return iter.Err()
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, scan)
	} else {
		err = scan(ctx, rdb.(*redis.Client))
	}
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("only %d keys in Redis: the load did not run", n)
	}
}
