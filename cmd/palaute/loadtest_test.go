package main

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/store"
)

// BenchmarkServeWebhook is `palaute loadtest` as a benchmark: b.N people through the youth survey against
// palaute serve (a child process, webhook mode, fake Bot API) on a fresh redis-server, then 10 000 people
// left mid-survey. The targets, as metrics:
//
//	go test -run '^$' -bench ServeWebhook -benchtime 1000x ./cmd/palaute/
//
// x_redis_benchmark_same ≥ 0.5 (palaute's round trips per second over redis-benchmark's for the same
// commands, clients and number of round trips; x_redis_benchmark is the same over GET+SET); rt/msg ≤ 2;
// p99_light_ms ≤ 5; B/session ≤ 1024; RSS_MiB ≤ 64. x_ceiling_same is the most x_redis_benchmark_same this
// machine allows: what it would be if palaute serve took no CPU and Redis and the load tool took what they did.
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
	b.ReportMetric(res.ceilingSame, "x_ceiling_same")
	b.ReportMetric(res.apiCallsPerMsg, "api_calls/msg")
	b.ReportMetric(0, "ns/op")
}

// redis-benchmark's --csv names a custom test by its command line, commas and quotes included.
func TestCSVRate(t *testing.T) {
	out := `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","40000.00","0.070","0.032","0.063","0.103","0.175","2.591"
"evalsha abc 2 k1 k2 0 1 {"lang":"fi","a":[1,2]} 60000  0","20000.00","0.070","0.032","0.063","0.103","0.175","2.591"
`
	got, err := csvRate(out)
	if err != nil || got != 30000 {
		t.Fatalf("csvRate = %v, %v; want the mean 30000", got, err)
	}
	if _, err := csvRate("ERR unknown command\n"); err == nil {
		t.Fatal("no rate, no error")
	}
}

// The commands given to redis-benchmark are the store's and redis_rate's own, and they run: the commit
// writes the session it copies, the limits answer, on keys redis-benchmark draws at random.
func TestSameCommandsRun(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	st := store.New(rdb, "pl:")
	sess := &bot.Session{Lang: "sv", Unit: "kotipesa", Flow: "nuoret", Step: 3, Answers: map[string]string{"help": "4"}}
	if err := st.Commit(ctx, bot.Commit{PID: "someone", Session: sess, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	mix, err := sameCommands(ctx, srv.URL(), "pl:", 30, 100, 80, 20)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"GET+GET pipelined": 30, "EVALSHA commit (+ 2 for the first places; a press asks 3) pipelined": 100, "EVALSHA redis_rate chat+global pipelined": 80, "EVALSHA redis_rate global": 20}
	for _, m := range mix {
		if m.trips != want[m.what] || !strings.Contains(strings.Join(m.args, " "), "__rand_int__") && m.what != "EVALSHA redis_rate global" {
			t.Errorf("%s: %v round trips, args %q", m.what, m.trips, m.args)
		}
		args := make([]any, len(m.args))
		for i, a := range m.args {
			args[i] = strings.ReplaceAll(a, "__rand_int__", "000000000042")
		}
		v, err := rdb.Do(ctx, args...).Result()
		if err != nil && err != redis.Nil {
			t.Fatalf("%s: %v", m.what, err)
		}
		if r, _ := v.([]any); strings.HasPrefix(m.what, "EVALSHA commit") && (len(r) == 0 || r[0] != int64(1)) {
			t.Fatalf("the commit answered %v, want 1 (written) first", v)
		}
	}
	got, _, err := st.Load(ctx, "loadtest:000000000042")
	if err != nil || got == nil || got.Unit != "kotipesa" || got.Answers["help"] != "4" {
		t.Fatalf("the benchmark's commit wrote %+v (%v), want a copy of the session", got, err)
	}
}

// The load tool drives a palaute serve that runs elsewhere (-target) the same way as its own child: the
// people finish their surveys, the figures come from the target's /metrics, and a second run on the same
// Redis takes new people and update ids. A target that calls another Bot API, or has another webhook secret,
// is refused before the load with what to set.
func TestLoadtestAgainstATargetElsewhere(t *testing.T) {
	srv := redistest.Start(t)
	api, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	p := startServe(t, procOpts{redisURL: srv.URL(), set: map[string]any{"telegram.api_url": "http://" + api, "log.level": "warn"}})
	ctx := context.Background()
	args := func(listen string) []string {
		return []string{"loadtest", "-config", "../../config.yaml", "-redis", srv.URL(), "-target", p.Addr, "-listen", listen,
			"-users", "20", "-concurrency", "4", "-latency-users", "4", "-active", "20", "-redis-benchmark=false"}
	}
	for i := range 2 {
		var out bytes.Buffer
		if err := run(ctx, args(api), env(map[string]string{"TELEGRAM_WEBHOOK_SECRET": testHookSecret}), nil, &out); err != nil {
			t.Fatalf("run %d: %v\n%s", i, err, out.String())
		}
		t.Logf("run %d:\n%s", i, out.String())
		for _, want := range []string{"users 20, concurrency 4, failed 0", "messages: 160 in", "redis round trips per message: 1.",
			"process RSS (palaute serve at " + p.Addr + ", from its /metrics): "} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("run %d: output lacks %q:\n%s", i, want, out.String())
			}
		}
		if m := regexp.MustCompile(`CPU per message: palaute serve (\S+),`).FindStringSubmatch(out.String()); m == nil || m[1] == "0s" {
			t.Errorf("run %d: no CPU figure from the target's /metrics:\n%s", i, out.String())
		}
		if m := regexp.MustCompile(`from its /metrics\): ([0-9.]+) MiB`).FindStringSubmatch(out.String()); m == nil || m[1] == "0.0" {
			t.Errorf("run %d: no RSS figure from the target's /metrics:\n%s", i, out.String())
		}
	}

	elsewhere, err := freeAddr() // the target's telegram.api_url is not where this tool listens
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		listen, secret, want string
	}{
		"another Bot API": {elsewhere, testHookSecret, "sent nothing to this tool's Bot API on " + elsewhere + " (its telegram.api_url?)"},
		"another secret":  {api, "not-the-secret", "webhook answered 401"},
	} {
		var out bytes.Buffer
		err := run(ctx, args(c.listen), env(map[string]string{"TELEGRAM_WEBHOOK_SECRET": c.secret}), nil, &out)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "telegram.api_url: http://<this machine>") {
			t.Errorf("%s: %v, want an error with %q and the target's settings", name, err, c.want)
		}
	}
	if err := run(ctx, args(api), env(nil), nil, io.Discard); err == nil || !strings.Contains(err.Error(), "TELEGRAM_WEBHOOK_SECRET") {
		t.Errorf("no secret: %v", err)
	}
}

// The load tool never loads a Redis by mistake: it reads no REDIS_URL, and refuses a Redis whose units' streams
// hold entries no load of this tool made, even one loaded before, leaving it as it was.
func TestLoadtestRefusesARedisWithRealAnswers(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	err := run(ctx, []string{"loadtest", "-config", "../../config.yaml"}, env(map[string]string{"REDIS_URL": srv.URL()}), nil, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-redis redis://") {
		t.Fatalf("without -redis: %v", err)
	}
	args := []string{"loadtest", "-config", "../../config.yaml", "-redis", srv.URL(), "-users", "2", "-concurrency", "1",
		"-latency-users", "0", "-active", "0", "-redis-benchmark=false"}
	var out bytes.Buffer
	if err := run(ctx, args, env(nil), nil, &out); err != nil { // an empty Redis: loaded
		t.Fatalf("first load: %v\n%s", err, out.String())
	}
	if err := run(ctx, args, env(nil), nil, &out); err != nil { // what a load wrote: loaded again
		t.Fatalf("second load: %v\n%s", err, out.String())
	}
	// Then real feedback arrives (the Redis went into use after a load test before go-live).
	rdb.XAdd(ctx, &redis.XAddArgs{Stream: "pl:{u:kotipesa}:fb", Values: []string{"text", "real feedback"}})
	before := rdb.Keys(ctx, "*").Val()
	err = run(ctx, args, env(nil), nil, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `holds answers of unit "kotipesa" that no load of this tool made`) {
		t.Fatalf("a Redis with real feedback: %v", err)
	}
	if after := rdb.Keys(ctx, "*").Val(); !reflect.DeepEqual(before, after) {
		t.Fatalf("the refused load changed the keys: %v, then %v", before, after)
	}
}
