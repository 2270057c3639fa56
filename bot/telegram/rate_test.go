package telegram_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/bot/telegram"
)

// burst sends one reply to each of n chats at once through the webhook, against a fake Bot API that answers
// 429 beyond limit sends per second, and returns how many sends were delivered and refused.
func burst(tb testing.TB, r *rig, n int) (delivered, refused int, took time.Duration) {
	tb.Helper()
	r.fake.Limit(30)
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		up := r.message(int64(500000+i), "hei")
		go func() {
			defer func() { <-sem; wg.Done() }()
			r.post(up, secret)
		}()
	}
	wg.Wait()
	took = time.Since(start)
	for _, c := range r.fake.Recorded("sendMessage") {
		if c.Status == 429 {
			refused++
		} else {
			delivered++
		}
	}
	return delivered, refused, took
}

func oneReply(ctx context.Context, in bot.Input) ([]bot.Reply, error) {
	return []bot.Reply{{Text: "kiitos"}}, nil
}

// Messages to many chats at once are spaced by the shared limiter so that Telegram never answers 429.
func TestGlobalRateHasNo429s(t *testing.T) {
	if testing.Short() {
		t.Skip("sends at 30 msg/s for a few seconds")
	}
	r := newRig(t, newEnv(t), func(o *telegram.Options) {
		o.Engine, o.GlobalRate, o.PerChatRate = handlerFunc(oneReply), 30, 1
	})
	delivered, refused, _ := burst(t, r, 75)
	if refused != 0 || delivered != 75 {
		t.Fatalf("%d delivered, %d answered 429; want 75 and none", delivered, refused)
	}
}

// BenchmarkSendBurst is the outbound send rate under a burst of b.N messages to b.N chats against a fake Bot
// API that enforces 30 msg/s with 429s (go test -run '^$' -bench SendBurst -benchtime 10000x ./bot/telegram/).
func BenchmarkSendBurst(b *testing.B) {
	r := newRig(b, newEnv(b), func(o *telegram.Options) {
		o.Engine, o.GlobalRate, o.PerChatRate = handlerFunc(oneReply), 30, 1
	})
	b.ResetTimer()
	delivered, refused, took := burst(b, r, b.N)
	b.ReportMetric(float64(delivered)/took.Seconds(), "msgs/s")
	b.ReportMetric(float64(refused), "429s")
}
