package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/store"
)

func TestReplaysRemember(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	r := store.NewReplays(rdb, "pl:")
	ctx := context.Background()
	if ok, err := r.First(ctx, "v0=abc", time.Minute); !ok || err != nil {
		t.Fatalf("first: %v %v", ok, err)
	}
	if ok, _ := r.First(ctx, "v0=abc", time.Minute); ok {
		t.Fatal("second sighting reported as first")
	}
	m.FastForward(2 * time.Minute)
	if ok, _ := r.First(ctx, "v0=abc", time.Minute); !ok {
		t.Fatal("not forgotten after its ttl")
	}
	m.Close()
	if _, err := r.First(ctx, "v0=def", time.Minute); err == nil {
		t.Fatal("no error with Redis down")
	}
}
