package bot_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
)

// BenchmarkHandleYouthSurvey runs whole youth surveys (8 messages each, new person each time) against a
// real redis-server and reports messages/s, ns per message and Redis round trips per message.
//
//	go test -run '^$' -bench HandleYouthSurvey -benchtime 2000x ./bot/
func BenchmarkHandleYouthSurvey(b *testing.B) {
	srv := redistest.Start(b)
	rdb := srv.Client(b)
	rt := redistest.Count(rdb)
	e := testenv.New(b, rdb)
	b.ReportAllocs()
	b.ResetTimer()
	msgs := 0
	for i := 0; i < b.N; i++ {
		c := e.Chat(b, "bench"+strconv.Itoa(i), "fi")
		c.Send("/start u-kotipesa")
		for j := 0; j < 5; j++ {
			c.Press("🙂")
		}
		c.Press("9")
		c.Send("Hyvä paikka, kiitos ohjaajille.")
		msgs += 8
	}
	b.StopTimer()
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(msgs)/sec, "msgs/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(msgs), "ns/msg")
	b.ReportMetric(float64(rt.N())/float64(msgs), "roundtrips/msg")
	if got := len(e.Responses(b, "kotipesa")); got < 1 {
		b.Fatalf("no responses stored")
	}
}

// BenchmarkRedisMemoryPerSession leaves 10 000 people in the middle of the youth survey and reports
// Redis memory per active session (INFO used_memory, before and after).
//
//	go test -run '^$' -bench RedisMemoryPerSession -benchtime 1x ./bot/
func BenchmarkRedisMemoryPerSession(b *testing.B) {
	for i := 0; i < b.N; i++ {
		srv := redistest.Start(b)
		rdb := srv.Client(b)
		e := testenv.New(b, rdb)
		before := usedMemory(b, rdb)
		const n = 10000
		for u := 0; u < n; u++ {
			c := e.Chat(b, "mem"+strconv.Itoa(u), "fi")
			c.Send("/start u-kotipesa")
			c.Press("🙂")
			c.Press("😄")
			c.Press("😐")
		}
		after := usedMemory(b, rdb)
		b.ReportMetric(float64(after-before)/n, "bytes/session")
	}
}

func usedMemory(tb testing.TB, rdb redis.UniversalClient) int64 {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	tb.Fatal("no used_memory in INFO")
	return 0
}
