package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/metrics"
)

// The Redis hook counts round trips (a pipeline is one) and failures, not answers such as a missing key,
// an uncached script or an existing consumer group.
func TestRedisHookCountsRoundTripsAndFaults(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 1, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	m := metrics.New("urgent", "corrective", "digest")
	rdb.AddHook(m.RedisHook("store"))
	ctx := context.Background()
	// Connect first: a new connection's handshake (HELLO, CLIENT ...) is round trips too.
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	rdb.Pipelined(ctx, func(p redis.Pipeliner) error { p.Ping(ctx); return nil })
	trips0 := value(t, m, `palaute_redis_round_trips_total{client="store"}`)
	rdb.Set(ctx, "k", "v", 0)
	rdb.Get(ctx, "missing") // redis.Nil: an answer
	rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "n")
		p.Incr(ctx, "n")
		return nil
	})
	if got := value(t, m, `palaute_redis_round_trips_total{client="store"}`) - trips0; got != 3 {
		t.Errorf("round trips = %v, want 3 (two commands and one pipeline)", got)
	}
	rdb.EvalSha(ctx, strings.Repeat("0", 40), nil) // NOSCRIPT: an answer
	rdb.XGroupCreateMkStream(ctx, "s", "g", "0")
	rdb.XGroupCreateMkStream(ctx, "s", "g", "0") // BUSYGROUP: an answer (go-redis then connects again: an old server's CLIENT SETINFO fails)
	if got := value(t, m, `palaute_redis_errors_total{client="store"}`); got != 0 {
		t.Errorf("errors = %v after answers only", got)
	}
	rdb.Incr(ctx, "k") // "v" is not a number: a failure
	rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "k")
		p.Incr(ctx, "k") // one failed command fails the round trip
		return nil
	})
	srv.Stop()
	rdb.Get(ctx, "k") // Redis gone
	if got := value(t, m, `palaute_redis_errors_total{client="store"}`); got != 3 {
		t.Errorf("errors = %v, want 3", got)
	}

	// The alert kinds are on /metrics at 0 from the start.
	for _, k := range []string{"urgent", "corrective", "digest"} {
		if v := value(t, m, `palaute_alerts_posted_total{kind="`+k+`"}`); v != 0 {
			t.Errorf("alerts posted of kind %s = %v", k, v)
		}
	}
	// So are the missed crisis alerts of the classes named, and they count from there.
	m.CrisisClasses("suicide", "abuse")
	if v := value(t, m, `palaute_crisis_alerts_missed_total{class="abuse"}`); v != 0 {
		t.Errorf("missed alerts of class abuse = %v", v)
	}
	m.AlertMissed("abuse")
	if v := value(t, m, `palaute_crisis_alerts_missed_total{class="abuse"}`); v != 1 {
		t.Errorf("missed alerts of class abuse = %v after one", v)
	}
}

// value reads one sample from /metrics; the test fails when it is not there.
func value(t *testing.T, m *metrics.Metrics, series string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", series)
	return 0
}
