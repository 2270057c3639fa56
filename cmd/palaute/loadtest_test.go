package main

import (
	"context"
	"io"
	"testing"

	"github.com/palaute/palaute/internal/redistest"
)

// BenchmarkServeWebhook is `palaute loadtest` as a benchmark: b.N people through the youth survey against
// palaute serve (a child process, webhook mode, fake Bot API) on a fresh redis-server, then 10 000 people
// left mid-survey. The targets, as metrics:
//
//	go test -run '^$' -bench ServeWebhook -benchtime 1000x ./cmd/palaute/
//
// x_redis_benchmark_same ≥ 0.5 (palaute's round trips per second over redis-benchmark's for the same
// commands, clients and number of round trips; x_redis_benchmark is the same over GET+SET); rt/msg ≤ 2;
// p99_light_ms ≤ 5; B/session ≤ 1024; RSS_MiB ≤ 64.
func BenchmarkServeWebhook(b *testing.B) {
	srv := redistest.Start(b)
	b.ResetTimer()
	res, err := runLoad(context.Background(), loadOpts{config: "../../config.yaml", redisURL: srv.URL(), users: b.N, conc: 32,
		latUsers: 200, latConc: 2, active: 10000, bench: true}, io.Discard)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.msgsPerSec, "msgs/s")
	b.ReportMetric(res.tripsPerMsg, "rt/msg")
	b.ReportMetric(res.limitTripsPerMsg, "ratelimit_rt/msg")
	b.ReportMetric(float64(res.p99Full.Microseconds())/1000, "p99_full_ms")
	b.ReportMetric(float64(res.p99Light.Microseconds())/1000, "p99_light_ms")
	b.ReportMetric(float64(res.cpuPerMsg.Microseconds()), "cpu_µs/msg")
	b.ReportMetric(res.bytesPerSession, "B/session")
	b.ReportMetric(float64(res.rss)/(1<<20), "RSS_MiB")
	b.ReportMetric(res.benchRatio, "x_redis_benchmark")
	b.ReportMetric(res.benchRatioSame, "x_redis_benchmark_same")
	b.ReportMetric(res.apiCallsPerMsg, "api_calls/msg")
	b.ReportMetric(0, "ns/op")
}
