package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/router"
	"github.com/palaute/palaute/store"
)

// TestStoreOutboxPostsAKeyOnce: a post the router makes again (a retried run) is no error and is not
// queued twice for Slack.
func TestStoreOutboxPostsAKeyOnce(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { rdb.Close() })
	ob := store.NewOutbox(rdb, "pl:")
	o := router.StoreOutbox{Outbox: ob}
	ctx := context.Background()
	p := router.Post{Key: "urgent:kotipesa:1-0", Channel: "#kotipesa", Text: "hälytys", NotBefore: time.Unix(0, 0)}
	for range 2 {
		if err := o.Post(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := ob.Depth(ctx); err != nil || n != 1 {
		t.Fatalf("outbox depth %d, %v; want the post once", n, err)
	}
	if err := o.Post(ctx, router.Post{Key: "urgent:kotipesa:2-0", Channel: "#kotipesa", Text: "toinen"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := ob.Depth(ctx); n != 2 {
		t.Fatalf("outbox depth %d after another key, want 2", n)
	}
}
