package telegram

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/internal/redistest"
)

// The global lanes' shares add up to the limit, and however their places fall, no one second holds more
// than the limit, with 30 ms to spare for a place used late.
func TestGlobalLanesKeepEverySecondWithinTheLimit(t *testing.T) {
	for perSecond := 1; perSecond <= 100; perSecond++ {
		rates, most := 0, 0
		for lane := range lanes(perSecond) {
			l := GlobalLimit(perSecond, lane)
			if l.Burst != 1 || l.Rate < 1 {
				t.Fatalf("%d/s, lane %d: %+v, want a rate and no burst", perSecond, lane, l)
			}
			rates += l.Rate
			// Places at least e apart (redis_rate's emission interval, in float seconds): a window of one
			// second, stretched by the time its first place may be late, holds those k*e into it, k < window/e.
			e := l.Period.Seconds() / float64(l.Rate)
			window := (time.Second + 30*time.Millisecond).Seconds()
			most += int(math.Ceil(window/e - 1e-9))
		}
		if rates != perSecond {
			t.Errorf("%d/s: the lanes' rates add up to %d", perSecond, rates)
		}
		if most > perSecond {
			t.Errorf("%d/s: one second can hold %d places", perSecond, most)
		}
	}
	if lanes(30) != Lanes || lanes(1) != 1 {
		t.Errorf("lanes(30) = %d, lanes(1) = %d; want %d and 1", lanes(30), lanes(1), Lanes)
	}
}

// A commit tried again asks for its first places again, and the turn goes by the last answers: places
// from an earlier attempt are some round trips old and could crowd a second. Here the first attempt takes
// both lanes' places (1 a second each), so the second attempt's asks are refused and the turn must wait.
func TestRetriedCommitAsksForItsPlacesAgain(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	ctx := context.Background()
	a := &Adapter{o: Options{RDB: rdb, Prefix: "pl:", PerChatRate: 1000, GlobalRate: 2, Hash: func(s string) string { return s }},
		limiter: redis_rate.NewLimiter(rdb)}
	// redis_rate's scripts are loaded first, so that both attempts' asks run in their pipelines.
	if _, err := a.limiter.Allow(ctx, "pl:warm", GlobalLimit(2, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.limiter.AllowAtMost(ctx, "pl:warm", ChatLimit(1000), 1); err != nil {
		t.Fatal(err)
	}
	f := a.firstPlaces("42", Lanes)
	for range 2 { // two attempts of the turn's commit
		if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error { f.Ride(ctx, p); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if !f.rode() {
		t.Fatal("the places did not ride")
	}
	chat, globals, err := f.answers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if chat.Allowed != 2 || len(globals) != Lanes {
		t.Fatalf("chat allowed %d, %d global answers; want 2 and one per lane", chat.Allowed, len(globals))
	}
	for lane, g := range globals {
		if g.Allowed != 0 || g.RetryAfter <= 0 {
			t.Errorf("lane %d: %d allowed (retry after %v); want the last attempt's answer, refused until the first attempt's place has passed", lane, g.Allowed, g.RetryAfter)
		}
	}
}
