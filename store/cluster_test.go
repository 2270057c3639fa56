package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/store"
)

// The same store code runs on a real 3-master Redis Cluster: every key one operation touches shares a hash
// tag. The whole store suite, the retention sweep, the outbox and a full survey run against it.
func TestOnRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	cl := redistest.StartCluster(t)
	b := cl.Backend(t)
	t.Run("session", func(t *testing.T) { testSession(t, b) })
	t.Run("publish", func(t *testing.T) { testPublish(t, b) })
	t.Run("marks", func(t *testing.T) { testMarks(t, b) })
	t.Run("ttl", func(t *testing.T) { testTTL(t, b) })
	t.Run("sweep", func(t *testing.T) { testSweep(t, b) })
	t.Run("publish checked", func(t *testing.T) { testPublishChecked(t, b) })
	t.Run("publish without scripts", func(t *testing.T) { testPublishWithoutScripts(t, b) })

	t.Run("outbox", func(t *testing.T) {
		ctx := context.Background()
		ob := store.NewOutbox(b.New(t), "pl:")
		now := time.Now()
		if err := ob.EnqueueBatch(ctx, "s", store.Msg{Key: "s:0", Channel: "#a", Text: "1"}, store.Msg{Key: "s:1", Channel: "#a", Text: "2"}); err != nil {
			t.Fatal(err)
		}
		if err := ob.Enqueue(ctx, store.Msg{Key: "later", Channel: "#a", Text: "3", NotBefore: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		es, err := ob.Claim(ctx, "c", 10, time.Minute, now)
		if err != nil || len(es) != 2 {
			t.Fatalf("claimed %v, %v", es, err)
		}
		if err := ob.Done(ctx, es[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := ob.Retry(ctx, es[1], now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if posted, err := ob.Posted(ctx, "s:0"); !posted || err != nil {
			t.Fatalf("Posted = %v, %v", posted, err)
		}
		if d, err := ob.Depth(ctx); d != 2 || err != nil {
			t.Fatalf("Depth = %d, %v; want the retried and the later post", d, err)
		}
		es, err = ob.Claim(ctx, "c", 10, time.Minute, now.Add(2*time.Hour))
		if err != nil || len(es) != 2 {
			t.Fatalf("claimed after they were due: %v, %v", es, err)
		}
	})

	t.Run("full survey and invitation", func(t *testing.T) {
		rdb := b.New(t)
		e := testenv.New(t, rdb)
		c := e.Chat(t, "cluster-youth", "fi")
		c.Send("/start u-kotipesa")
		for i := 0; i < 5; i++ {
			c.Press("🙂")
		}
		c.Press("9")
		r := c.Send("Kaikki hyvin")
		if !strings.Contains(testenv.Text(r), "Kiitos!") {
			t.Fatalf("survey did not complete on the cluster:\n%s", testenv.Dump(r))
		}
		tok, err := e.Invites.Create(context.Background(), "satama", "relative", 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		rel := e.Chat(t, "cluster-relative", "en")
		r = rel.Send("/start i-" + tok)
		if !strings.Contains(testenv.Text(r), "What is your relation") {
			t.Fatalf("invitation on the cluster:\n%s", testenv.Dump(r))
		}
		st := store.New(rdb, "pl:")
		resp, err := st.LastResponse(context.Background(), "kotipesa")
		if err != nil || resp["a.nps"] != "9" || resp["a.words"] != "Kaikki hyvin" {
			t.Fatalf("response on cluster = %v, %v", resp, err)
		}
		if a := e.Agg(t, "kotipesa", "youth", "2026-W47"); a["n"] != "1" || a["nuoret.nps=9"] != "1" {
			t.Fatalf("counters on cluster = %v", a)
		}
	})
}
