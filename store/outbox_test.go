package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/store"
)

func texts(es []store.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Msg.Text)
	}
	return out
}

// The outbox suite runs against miniredis and a real redis-server.
func TestOutbox(t *testing.T) {
	for _, b := range redistest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

			t.Run("batch once per key, in order", func(t *testing.T) {
				ob := store.NewOutbox(b.New(t), "pl:")
				parts := []store.Msg{{Key: "s:0", Channel: "#a", Text: "1"}, {Key: "s:1", Channel: "#a", Text: "2"}, {Key: "s:2", Channel: "#a", Text: "3"}}
				if done, _ := ob.Enqueued(ctx, "s"); done {
					t.Fatal("enqueued before enqueueing")
				}
				if err := ob.EnqueueBatch(ctx, "s", parts...); err != nil {
					t.Fatal(err)
				}
				if done, err := ob.Enqueued(ctx, "s"); !done || err != nil {
					t.Fatalf("Enqueued = %v, %v", done, err)
				}
				// Built again (more data, more parts): nothing is added, not even the new part.
				more := append(parts, store.Msg{Key: "s:3", Channel: "#a", Text: "4"})
				if err := ob.EnqueueBatch(ctx, "s", more...); !errors.Is(err, store.ErrDuplicate) {
					t.Fatalf("second batch: %v", err)
				}
				es, err := ob.Claim(ctx, "c", 10, time.Minute, now)
				if err != nil {
					t.Fatal(err)
				}
				if got := texts(es); len(got) != 3 || got[0] != "1" || got[2] != "3" {
					t.Fatalf("claimed %q", got)
				}
			})

			t.Run("bad messages change nothing", func(t *testing.T) {
				ob := store.NewOutbox(b.New(t), "pl:")
				if err := ob.EnqueueBatch(ctx, "x", store.Msg{Key: "x:0", Channel: "#a"}, store.Msg{Key: "x:1"}); err == nil {
					t.Fatal("a message without a channel accepted")
				}
				if done, _ := ob.Enqueued(ctx, "x"); done {
					t.Fatal("a refused batch marked its key")
				}
				if d, _ := ob.Depth(ctx); d != 0 {
					t.Fatalf("depth %d", d)
				}
			})

			t.Run("postpone keeps order and counts no attempt", func(t *testing.T) {
				ob := store.NewOutbox(b.New(t), "pl:")
				ob.EnqueueBatch(ctx, "s", store.Msg{Key: "s:0", Channel: "#a", Text: "1"}, store.Msg{Key: "s:1", Channel: "#a", Text: "2"})
				es, _ := ob.Claim(ctx, "c", 10, time.Minute, now)
				at := now.Add(time.Minute)
				if _, err := ob.Retry(ctx, es[0], at); err != nil {
					t.Fatal(err)
				}
				if err := ob.Postpone(ctx, es[1], at.Add(time.Millisecond)); err != nil {
					t.Fatal(err)
				}
				if es, _ := ob.Claim(ctx, "c", 10, time.Minute, now.Add(59*time.Second)); len(es) != 0 {
					t.Fatalf("claimed before due: %q", texts(es))
				}
				es, _ = ob.Claim(ctx, "c", 10, time.Minute, at.Add(time.Second))
				if got := texts(es); len(got) != 2 || got[0] != "1" || got[1] != "2" {
					t.Fatalf("after the wait: %q", got)
				}
				if es[0].Msg.Attempts != 1 || es[1].Msg.Attempts != 0 {
					t.Errorf("attempts %d and %d, want 1 and 0", es[0].Msg.Attempts, es[1].Msg.Attempts)
				}
			})

			t.Run("retry until dead, bury at once", func(t *testing.T) {
				ob := store.NewOutbox(b.New(t), "pl:")
				ob.MaxAttempts = 3
				ob.Enqueue(ctx, store.Msg{Key: "r", Channel: "#a", Text: "r"})
				ob.Enqueue(ctx, store.Msg{Key: "b", Channel: "#b", Text: "b"})
				es, _ := ob.Claim(ctx, "c", 10, time.Minute, now)
				if err := ob.Bury(ctx, es[1]); err != nil {
					t.Fatal(err)
				}
				e := es[0]
				for i := 1; ; i++ {
					dead, err := ob.Retry(ctx, e, now)
					if err != nil {
						t.Fatal(err)
					}
					if dead {
						if i != 3 {
							t.Fatalf("dead after %d attempts, want 3", i)
						}
						break
					}
					es, _ := ob.Claim(ctx, "c", 10, time.Minute, now)
					if len(es) != 1 {
						t.Fatalf("retry %d: claimed %d", i, len(es))
					}
					e = es[0]
				}
				if n, _ := ob.Dead(ctx); n != 2 {
					t.Errorf("dead letters %d, want 2", n)
				}
				if d, _ := ob.Depth(ctx); d != 0 {
					t.Errorf("depth %d", d)
				}
			})

			t.Run("done marks posted and enqueues a follow-up once", func(t *testing.T) {
				ob := store.NewOutbox(b.New(t), "pl:")
				ob.Enqueue(ctx, store.Msg{Key: "m", Channel: "#a", Text: "m", File: []byte("png")})
				es, _ := ob.Claim(ctx, "c", 10, time.Minute, now)
				next := store.Msg{Key: "m:chart", Channel: "CA", File: []byte("png"), NotBefore: now.Add(3 * time.Second)}
				if err := ob.Done(ctx, es[0], next); err != nil {
					t.Fatal(err)
				}
				if posted, _ := ob.Posted(ctx, "m"); !posted {
					t.Fatal("not marked posted")
				}
				if err := ob.Enqueue(ctx, next); !errors.Is(err, store.ErrDuplicate) {
					t.Fatalf("follow-up enqueued twice: %v", err)
				}
				if es, _ := ob.Claim(ctx, "c", 10, time.Minute, now); len(es) != 0 {
					t.Fatalf("follow-up claimed before due: %v", texts(es))
				}
				es, _ = ob.Claim(ctx, "c", 10, time.Minute, now.Add(4*time.Second))
				if len(es) != 1 || es[0].Msg.Key != "m:chart" || string(es[0].Msg.File) != "png" || es[0].Msg.Channel != "CA" {
					t.Fatalf("follow-up: %+v", es)
				}
			})

			t.Run("lock has one holder", func(t *testing.T) {
				rdb := b.New(t)
				a, c := store.NewLock(rdb, "pl:", "scheduler", "a"), store.NewLock(rdb, "pl:", "scheduler", "c")
				var wg sync.WaitGroup
				var mu sync.Mutex
				held := 0
				for _, l := range []*store.Lock{a, c, a, c, a, c} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if ok, err := l.Acquire(ctx, time.Minute); err == nil && ok {
							mu.Lock()
							held++
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				if held != 3 { // the same holder three times, the other never
					t.Fatalf("held %d times, want 3 (one replica)", held)
				}
				okA, _ := a.Acquire(ctx, time.Minute)
				okC, _ := c.Acquire(ctx, time.Minute)
				if okA == okC {
					t.Fatalf("a=%v c=%v", okA, okC)
				}
				holder, other := a, c
				if okC {
					holder, other = c, a
				}
				other.Release(ctx) // not its lock: nothing happens
				if ok, _ := other.Acquire(ctx, time.Minute); ok {
					t.Fatal("released by the wrong replica")
				}
				holder.Release(ctx)
				if ok, _ := other.Acquire(ctx, time.Minute); !ok {
					t.Fatal("not free after its holder released it")
				}
			})
		})
	}
}
