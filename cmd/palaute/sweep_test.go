package main

import (
	"context"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/store"
)

// Two replicas on one Redis: the first to tick sweeps, the other skips its sweep for the hour (a sweep
// scans the whole keyspace); once the hold has passed, a replica sweeps again.
func TestRetentionSweepOneReplicaAnHour(t *testing.T) {
	m := miniredis.RunT(t) // its clock can be moved past the hold
	ctx := context.Background()
	var apps [2]*app
	var locks [2]*store.Lock
	for i := range apps {
		a, err := build(ctx, "../../config.yaml", env(map[string]string{"REDIS_URL": "redis://" + m.Addr(), "PALAUTE_PSEUDONYM_SECRET": "0123456789abcdef0123"}), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.close)
		apps[i] = a
		locks[i] = store.NewLock(a.rdb, a.cfg.Redis.Prefix, "sweep", "replica"+strconv.Itoa(i))
	}
	rdb := apps[0].rdb
	now := time.Now()
	old := func() {
		id := strconv.FormatInt(now.AddDate(0, 0, -500).UnixMilli(), 10) + "-0"
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: apps[0].store.UnitKey("kotipesa", "fb"), ID: id, Values: []any{"text", "old feedback"}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	old()
	if swept, n, err := apps[0].sweepOnce(ctx, locks[0], now); !swept || n != 1 || err != nil {
		t.Fatalf("first replica: swept %v, %d deleted, %v", swept, n, err)
	}
	old()
	if swept, n, err := apps[1].sweepOnce(ctx, locks[1], now); swept || n != 0 || err != nil {
		t.Fatalf("second replica in the same hour: swept %v, %d deleted, %v", swept, n, err)
	}
	if l := rdb.XLen(ctx, apps[0].store.UnitKey("kotipesa", "fb")).Val(); l != 1 {
		t.Fatalf("%d entries, want the one added after the sweep", l)
	}
	m.FastForward(sweepHold) // the hold has passed: the next tick of either replica sweeps
	if swept, n, err := apps[1].sweepOnce(ctx, locks[1], now); !swept || n != 1 || err != nil {
		t.Fatalf("second replica an hour later: swept %v, %d deleted, %v", swept, n, err)
	}
}
