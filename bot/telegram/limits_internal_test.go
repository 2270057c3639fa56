package telegram

import (
	"context"
	"testing"
	"time"

	"github.com/palaute/palaute/internal/redistest"
)

// The global limit's reservation gives places evenly spaced from the first free one, and takes none when
// that one is beyond the horizon.
func TestReserveGlobal(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	key := []string{GlobalKey("t:")}
	reserve := func(perSecond, n int) (int, time.Duration) {
		t.Helper()
		v, err := reserveScript.Run(ctx, rdb, key, reserveArgs(perSecond, n)...).Result()
		if err != nil {
			t.Fatal(err)
		}
		taken, wait, err := reservation(v)
		if err != nil {
			t.Fatal(err)
		}
		return taken, wait
	}
	if taken, wait := reserve(10, 3); taken != 3 || wait != 0 {
		t.Fatalf("fresh limit: %d places after %v, want 3 at once", taken, wait)
	}
	// Three places of 104 ms are taken: the next is about 312 ms away.
	if taken, wait := reserve(10, 2); taken != 2 || wait < 250*time.Millisecond || wait > 312*time.Millisecond {
		t.Fatalf("%d places after %v, want 2 after about 312 ms", taken, wait)
	}
	ttl := rdb.PTTL(ctx, key[0]).Val()
	if ttl <= 0 || ttl > 1600*time.Millisecond {
		t.Fatalf("the limit's key expires in %v, want a little after its last place", ttl)
	}
	// At 1 a second, 25 places reach 26 s ahead: beyond the 20 s horizon nothing more is taken, and the
	// answer says when the first free place will be within reach.
	rdb.Del(ctx, key[0])
	if taken, _ := reserve(1, 25); taken != 25 {
		t.Fatalf("took %d of 25 places within the horizon", taken)
	}
	before, _ := rdb.Get(ctx, key[0]).Result()
	taken, wait := reserve(1, 1)
	if taken != 0 || wait < 5500*time.Millisecond || wait > 6*time.Second {
		t.Fatalf("beyond the horizon: %d places, wait %v; want none, about 6 s", taken, wait)
	}
	if after, _ := rdb.Get(ctx, key[0]).Result(); after != before {
		t.Fatal("a refused reservation moved the limit")
	}
	if _, _, err := reservation("OK"); err == nil {
		t.Fatal("an answer of the wrong shape was read")
	}
}
