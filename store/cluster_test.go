package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/store"
)

// The same store code runs on a real 3-master Redis Cluster: every key one operation touches shares a hash tag.
func TestOnRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	cl := redistest.StartCluster(t)
	rdb := cl.Client(t)
	b := redistest.Backend{Name: "cluster", New: func(tb testing.TB) redis.UniversalClient {
		err := rdb.(*redis.ClusterClient).ForEachMaster(context.Background(), func(ctx context.Context, c *redis.Client) error {
			return c.FlushAll(ctx).Err()
		})
		if err != nil {
			tb.Fatal(err)
		}
		return rdb
	}}
	t.Run("session", func(t *testing.T) { testSession(t, b) })
	t.Run("publish", func(t *testing.T) { testPublish(t, b) })
	t.Run("marks", func(t *testing.T) { testMarks(t, b) })

	t.Run("full survey and invitation", func(t *testing.T) {
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
	})
}
