package bot_test

import (
	"strconv"
	"testing"

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
	rt := &redistest.RoundTrips{}
	rdb.AddHook(rt)
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
