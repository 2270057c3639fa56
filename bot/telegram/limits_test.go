package telegram

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
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

// keyRecorder records the first key of each command sent.
type keyRecorder struct {
	mu   sync.Mutex
	keys []string
}

func (r *keyRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *keyRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.add(cmd)
		return next(ctx, cmd)
	}
}
func (r *keyRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			r.add(c)
		}
		return next(ctx, cmds)
	}
}

// add keeps the key of an EVALSHA (its fourth argument: name, script, number of keys, key).
func (r *keyRecorder) add(cmd redis.Cmder) {
	if a := cmd.Args(); cmd.Name() == "evalsha" && len(a) > 3 {
		r.mu.Lock()
		r.keys = append(r.keys, fmt.Sprint(a[3]))
		r.mu.Unlock()
	}
}

func (r *keyRecorder) taken() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.keys)
}

// limitRig is an adapter whose limits are on a fresh Redis, 2 messages a second overall (a lane of one a
// second each), with the keys of its asks recorded.
func limitRig(t *testing.T) (*Adapter, *keyRecorder) {
	rdb := redistest.Start(t).Client(t)
	a := &Adapter{o: Options{RDB: rdb, Prefix: "pl:", PerChatRate: 1000, GlobalRate: 2, Hash: func(s string) string { return s }},
		limiter: redis_rate.NewLimiter(rdb)}
	if _, err := a.limiter.Allow(context.Background(), "pl:warm", GlobalLimit(2, 0)); err != nil { // loads the script
		t.Fatal(err)
	}
	rec := &keyRecorder{}
	rdb.AddHook(rec)
	return a, rec
}

// A spare global place is used only within spareFor of its answer; an older one is asked for again.
func TestSpareGlobalPlaceAgesOut(t *testing.T) {
	a, rec := limitRig(t)
	ctx := context.Background()
	fresh := &chatBudget{chat: "1", granted: 1, spare: 1, spareAt: time.Now()}
	if !a.allow(ctx, fresh, false) || len(rec.taken()) != 0 {
		t.Fatalf("a fresh spare place: asked %v, want it used with no ask", rec.taken())
	}
	old := &chatBudget{chat: "1", granted: 1, spare: 1, spareAt: time.Now().Add(-time.Second)}
	if !a.allow(ctx, old, false) || len(rec.taken()) != 1 || old.spare != 0 {
		t.Fatalf("a spare place a second old: asked %v (spare %d), want one new ask", rec.taken(), old.spare)
	}
}

// After a refusal among several asks, the lane that frees first is asked next, whichever lane's turn it is.
func TestSoonestLaneAskedNext(t *testing.T) {
	for _, soonest := range []int{0, 1} {
		a, rec := limitRig(t)
		a.lanes.Store(uint32(soonest)) // the round robin would ask the other lane
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		b := &chatBudget{chat: "1", granted: 1, soonest: soonest + 1}
		if !a.allow(ctx, b, false) {
			t.Fatalf("lane %d: not allowed", soonest)
		}
		cancel()
		if got, want := rec.taken(), "rate:"+GlobalKey("pl:", soonest); len(got) == 0 || got[0] != want {
			t.Errorf("asked %v first, want %s (the soonest lane)", got, want)
		}
	}
}
