package schedule_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/schedule"
	"github.com/palaute/palaute/store"
)

// enq enqueues into a real outbox and counts what got in.
type enq struct {
	ob *store.Outbox
	mu sync.Mutex
	n  map[string]int
}

func (e *enq) EnqueueSummary(ctx context.Context, unit string, p period.Period) error {
	err := e.ob.Enqueue(ctx, store.Msg{Key: "summary:" + unit + ":" + p.String(), Channel: "#" + unit, Text: "s"})
	if err == nil {
		e.mu.Lock()
		e.n[unit+" "+p.String()]++
		e.mu.Unlock()
	}
	return err
}

func TestTwoSchedulersPostEachSummaryOnce(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	e := &enq{ob: store.NewOutbox(rdb, "pl:"), n: map[string]int{}}
	hel, _ := time.LoadLocation("Europe/Helsinki")
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, hel) // Tuesday: W48 and November have ended
	mk := func(token string) *schedule.Scheduler {
		return &schedule.Scheduler{Lock: store.NewLock(rdb, "pl:", "scheduler", token), Enqueue: e, Units: []string{"kotipesa", "satama"},
			Kinds: []period.Kind{period.Week, period.Month, period.Half}, Location: hel, Log: slog.New(slog.DiscardHandler),
			Now: func() time.Time { return now }, Window: 3 * 24 * time.Hour}
	}
	a, b := mk("replica-a"), mk("replica-b")
	ctx := context.Background()
	// Both replicas tick at the same time, again and again: one holds the lock, the other never does.
	var wg sync.WaitGroup
	var mu sync.Mutex
	held := map[string]int{}
	for name, s := range map[string]*schedule.Scheduler{"a": a, "b": b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				ok, err := s.Tick(ctx)
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
				if ok {
					mu.Lock()
					held[name]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(held) != 1 {
		t.Fatalf("ticks holding the lock: %v, want one replica only", held)
	}
	want := map[string]int{}
	for _, u := range []string{"kotipesa", "satama", "all"} {
		want[u+" 2026-W48"] = 1
		want[u+" 2026-11"] = 1
	}
	if fmt.Sprint(e.n) != fmt.Sprint(want) {
		t.Fatalf("enqueued %v, want %v", e.n, want)
	}
	// The holder goes away: the other takes over and still posts nothing twice.
	holder, other := a, b
	if held["b"] > 0 {
		holder, other = b, a
	}
	holder.Lock.Release(ctx)
	if ok, _ := other.Tick(ctx); !ok {
		t.Fatal("the other replica did not take over")
	}
	if fmt.Sprint(e.n) != fmt.Sprint(want) {
		t.Fatalf("after take-over: %v", e.n)
	}
	if d, _ := e.ob.Depth(ctx); d != int64(len(want)) {
		t.Fatalf("outbox holds %d posts, want %d", d, len(want))
	}
}

func TestDue(t *testing.T) {
	hel, _ := time.LoadLocation("Europe/Helsinki")
	kinds := []period.Kind{period.Week, period.Month, period.Half}
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 23, 5, 59, 0, 0, hel), "[]"},                // Monday before 6
		{time.Date(2026, 11, 23, 6, 0, 0, 0, hel), "[2026-W47]"},         // Monday 6:00
		{time.Date(2026, 11, 27, 6, 0, 0, 0, hel), "[]"},                 // Friday: past the window
		{time.Date(2026, 11, 30, 7, 0, 0, 0, hel), "[2026-W48 2026-11]"}, // November's last week ended
		{time.Date(2027, 1, 4, 7, 0, 0, 0, hel), "[2026-W53 2026-12 2026-H2]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(schedule.Due(tt.at, kinds, 3*24*time.Hour)); got != tt.want {
			t.Errorf("Due(%v) = %s, want %s", tt.at, got, tt.want)
		}
	}
}
