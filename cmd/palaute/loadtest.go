package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/internal/fakebot"
	"github.com/palaute/palaute/store"
)

func init() { extra["loadtest"] = loadtest }

const loadSecret = "loadtest-secret-token"

// childEnv is added to the environment of the `palaute serve` processes the load tool starts.
var childEnv []string

// serveEnv is the environment of a child `palaute serve`: this process's, without palaute's own variables,
// plus set.
func serveEnv(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "PALAUTE_"), strings.HasPrefix(k, "TELEGRAM_"), strings.HasPrefix(k, "SLACK_"), k == "REDIS_URL":
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return append(env, childEnv...)
}

// loadtest runs `palaute serve` as a child process in webhook mode against a real Redis and a fake Bot API,
// and drives simulated people through the youth survey. It measures the child: messages per second, reply
// latency, Redis round trips per message, Redis memory per active session and the child's RSS, and compares
// the round-trip rate with redis-benchmark's on the same server in the same run.
func loadtest(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stdout)
	cfgPath := configFlag(fs)
	users := fs.Int("users", 1000, "simulated people, each answering the whole youth survey as fast as it can")
	conc := fs.Int("concurrency", 32, "people answering at the same time (the throughput phase)")
	latUsers := fs.Int("latency-users", 200, "people answering one after another in the latency phase (0: skip it)")
	latConc := fs.Int("latency-concurrency", 2, "people answering at the same time in the latency phase")
	active := fs.Int("active", 10000, "people left in the middle of a survey, for the memory figures")
	redisURL := fs.String("redis", "", "redis:// URL of a real Redis (default: REDIS_URL)")
	bench := fs.Bool("redis-benchmark", true, "also run redis-benchmark for the same number of round trips and print the ratio")
	cpuProfile := fs.String("cpuprofile", "", "write the serving process's CPU profile to this file (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	url := *redisURL
	if url == "" {
		url = env("REDIS_URL")
	}
	if url == "" {
		return errors.New("loadtest needs a real Redis: -redis redis://127.0.0.1:6379/0 or REDIS_URL")
	}
	_, err := runLoad(ctx, loadOpts{config: *cfgPath, redisURL: url, cpuProfile: *cpuProfile, users: *users, conc: *conc,
		latUsers: *latUsers, latConc: *latConc, active: *active, bench: *bench}, stdout)
	return err
}

// loadOpts are the load tool's settings (see its flags).
type loadOpts struct {
	config, redisURL, cpuProfile           string
	users, conc, latUsers, latConc, active int
	bench                                  bool
}

// loadResult is what the load tool measured.
type loadResult struct {
	msgsPerSec        float64
	p99Full, p99Light time.Duration
	tripsPerMsg       float64 // message path
	limitTripsPerMsg  float64 // send rate limits
	cpuPerMsg         time.Duration
	bytesPerSession   float64
	rss               int64
	benchRatio        float64 // all palaute's round trips per second / redis-benchmark's
}

// runLoad runs the load, printing the figures to stdout as they come.
func runLoad(ctx context.Context, o loadOpts, stdout io.Writer) (loadResult, error) {
	var res loadResult
	url, cfgPath, cpuProfile := o.redisURL, &o.config, &o.cpuProfile
	users, conc, latUsers, latConc, active, bench := &o.users, &o.conc, &o.latUsers, &o.latConc, &o.active, &o.bench
	cfg, err := config.Load(*cfgPath, func(string) string { return "" })
	if err != nil {
		return res, err
	}
	if len(cfg.Units) == 0 {
		return res, errors.New("loadtest: the configuration has no units")
	}
	unit := cfg.Units[0].PublicCode()
	opts, err := store.ParseURL(url)
	if err != nil {
		return res, err
	}
	rdb := redis.NewUniversalClient(opts)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return res, fmt.Errorf("redis %s: %w", url, err)
	}

	fake := fakebot.New()
	api := httptest.NewServer(fake)
	defer api.Close()
	dir, err := os.MkdirTemp("", "palaute-loadtest")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	cfgFile := filepath.Join(dir, "config.yaml")
	if err := writeServeConfig(*cfgPath, cfgFile, map[string]any{
		"telegram.mode": "webhook", "telegram.api_url": api.URL, "telegram.webhook_path": "/telegram",
		"telegram.webhook_url": "https://palaute.invalid/telegram",
		// The load tool measures palaute, not Telegram's limits: the limiters still make their round trips.
		"telegram.per_chat_per_second": 1000, "telegram.global_per_second": 1_000_000,
		"http.listen": addr, "log.level": "warn", "log.format": "json",
	}); err != nil {
		return res, err
	}
	exe, err := os.Executable()
	if err != nil {
		return res, err
	}
	childArgs := []string{"serve", "-config", cfgFile}
	if *cpuProfile != "" {
		p, _ := filepath.Abs(*cpuProfile)
		childArgs = append(childArgs, "-cpuprofile", p)
	}
	child := &serveChild{Exe: exe, Args: childArgs, Addr: addr, Env: serveEnv(map[string]string{
		"REDIS_URL": url, "PALAUTE_PSEUDONYM_SECRET": "loadtest-pseudonym-secret-0123456789",
		"TELEGRAM_TOKEN": "123:LOAD", "TELEGRAM_WEBHOOK_SECRET": loadSecret, "PALAUTE_HTTP_LISTEN": addr,
	})}
	if err := child.Start(ctx); err != nil {
		return res, err
	}
	defer child.Kill()

	d := &webhookDriver{Hooks: []string{"http://" + addr + "/telegram"}, Secret: loadSecret, Fake: fake,
		Client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: max(*conc, *latConc) * 2}, Timeout: 70 * time.Second}}
	roundTrips := func(client string) float64 {
		v, _ := scrapeMetric(addr, "palaute_redis_round_trips_total", `client="`+client+`"`)
		return v
	}
	survey := answers{choose: func(int, []string) string { return "4" }, text: "Hyvä paikka, kiitos ohjaajille."}
	var nextUID atomic.Int64
	nextUID.Store(5_000_000)
	// run takes n people through the survey, c at a time.
	run := func(n, c int) (time.Duration, int64, error) {
		start := time.Now()
		var failed atomic.Int64
		var first error
		var once sync.Once
		var wg sync.WaitGroup
		next := make(chan int64)
		for w := 0; w < c; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for uid := range next {
					if err := d.Survey(ctx, uid, "fi", unit, survey); err != nil {
						failed.Add(1)
						once.Do(func() { first = err })
					}
				}
			}()
		}
		for i := 0; i < n; i++ {
			next <- nextUID.Add(1)
		}
		close(next)
		wg.Wait()
		return time.Since(start), failed.Load(), first
	}

	// 1. Throughput: as many messages as `concurrency` people can send.
	store0, limit0, acked0 := roundTrips("store"), roundTrips("ratelimit"), d.Acked.Load()
	cpu0, rcpu0 := procCPU(child.Pid()), redisCPU(ctx, rdb)
	elapsed, failed, ferr := run(*users, *conc)
	cpu, rcpu := procCPU(child.Pid())-cpu0, redisCPU(ctx, rdb)-rcpu0
	msgs := d.Acked.Load() - acked0
	trips, limTrips := roundTrips("store")-store0, roundTrips("ratelimit")-limit0
	lat := d.Latencies()
	fmt.Fprintf(stdout, "users %d, concurrency %d, failed %d\n", *users, *conc, failed)
	if ferr != nil {
		fmt.Fprintf(stdout, "first failure: %v\n", ferr)
	}
	if msgs == 0 {
		return res, errors.New("loadtest: no message was answered")
	}
	fmt.Fprintf(stdout, "messages: %d in %.2fs = %.0f msgs/s\n", msgs, elapsed.Seconds(), float64(msgs)/elapsed.Seconds())
	fmt.Fprintf(stdout, "reply latency at full load (webhook POST until handled and every reply sent): p50 %v  p95 %v  p99 %v\n", pct(lat, 50), pct(lat, 95), pct(lat, 99))
	fmt.Fprintf(stdout, "redis round trips per message: %.3f (message path), %.3f (send rate limits)\n", trips/float64(msgs), limTrips/float64(msgs))
	fmt.Fprintf(stdout, "CPU per message: palaute serve %v, redis-server %v\n", (cpu / time.Duration(msgs)).Round(time.Microsecond), (rcpu / time.Duration(msgs)).Round(time.Microsecond))
	res.msgsPerSec, res.p99Full = float64(msgs)/elapsed.Seconds(), pct(lat, 99)
	res.tripsPerMsg, res.limitTripsPerMsg, res.cpuPerMsg = trips/float64(msgs), limTrips/float64(msgs), cpu/time.Duration(msgs)

	// 2. Latency at a light load.
	if *latUsers > 0 {
		d.ResetLatencies()
		acked1 := d.Acked.Load()
		el, f, err := run(*latUsers, *latConc)
		if f > 0 {
			failed += f
			fmt.Fprintf(stdout, "latency phase: %d failed: %v\n", f, err)
		}
		n := d.Acked.Load() - acked1
		l := d.Latencies()
		fmt.Fprintf(stdout, "reply latency at %d people at a time (%.0f msgs/s): p50 %v  p95 %v  p99 %v\n", *latConc, float64(n)/el.Seconds(), pct(l, 50), pct(l, 95), pct(l, 99))
		res.p99Light = pct(l, 99)
	}

	// 3. Memory: people left in the middle of the survey (after the first question).
	if *active > 0 {
		memBefore := usedMemory(ctx, rdb)
		var wg sync.WaitGroup
		next := make(chan int64)
		var afailed atomic.Int64
		for w := 0; w < *conc; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for uid := range next {
					if _, err := d.Send(ctx, uid, "fi", "/start u-"+unit); err != nil {
						afailed.Add(1)
					}
				}
			}()
		}
		for i := 0; i < *active; i++ {
			next <- 9_000_000 + int64(i)
		}
		close(next)
		wg.Wait()
		memAfter := usedMemory(ctx, rdb)
		res.bytesPerSession = float64(memAfter-memBefore) / float64(*active)
		fmt.Fprintf(stdout, "redis memory per active session: %.0f bytes (%d sessions started, %d failed)\n",
			float64(memAfter-memBefore)/float64(*active), *active, afailed.Load())
	}
	res.rss = child.RSS()
	fmt.Fprintf(stdout, "process RSS (palaute serve, pid %d): %.1f MiB now, %.1f MiB at most\n", child.Pid(),
		float64(child.RSS())/(1<<20), float64(procHWM(child.Pid()))/(1<<20))

	// 4. redis-benchmark for the same number of round trips against the same server.
	if *bench {
		all := trips + limTrips
		if rate, err := redisBenchmark(url, int64(all), *conc); err != nil {
			fmt.Fprintf(stdout, "redis-benchmark: %v\n", err)
		} else {
			ours, oursMsg := all/elapsed.Seconds(), trips/elapsed.Seconds()
			res.benchRatio = ours / rate
			fmt.Fprintf(stdout, "redis-benchmark (GET+SET, %d requests, %d clients): %.0f rt/s; palaute %.0f rt/s = %.2f x (message path alone %.0f rt/s = %.2f x)\n",
				int64(all), *conc, rate, ours, ours/rate, oursMsg, oursMsg/rate)
		}
	}
	st, err := child.Stop()
	if err != nil || !st.Success() {
		return res, fmt.Errorf("palaute serve did not stop cleanly (%v, %v):\n%s", st, err, child.Out.String())
	}
	if failed > 0 {
		return res, fmt.Errorf("%d simulated people did not finish", failed)
	}
	return res, nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	if i > 0 {
		i--
	}
	return sorted[i].Round(10 * time.Microsecond)
}

func usedMemory(ctx context.Context, rdb redis.UniversalClient) int64 {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// procCPU is the CPU time a process has used (Linux /proc/<pid>/stat utime + stime, in clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // after "pid (comm)": state is field 3
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// redisCPU is the CPU time the Redis server has used (INFO cpu).
func redisCPU(ctx context.Context, rdb redis.UniversalClient) time.Duration {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0
	}
	var sum float64
	for _, l := range strings.Split(info, "\r\n") {
		for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
			if v, ok := strings.CutPrefix(l, k); ok {
				f, _ := strconv.ParseFloat(v, 64)
				sum += f
			}
		}
	}
	return time.Duration(sum * float64(time.Second))
}

// procHWM is a process's peak resident memory in bytes (Linux VmHWM).
func procHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n * 1024
		}
	}
	return 0
}

// redisBenchmark runs redis-benchmark for n requests (GET and SET, c clients, no pipelining: one round
// trip each, like ours) against the same server and returns its mean requests per second.
func redisBenchmark(url string, n int64, c int) (float64, error) {
	bin, err := exec.LookPath("redis-benchmark")
	if err != nil {
		return 0, errors.New("redis-benchmark not installed")
	}
	o, err := parseHostPort(url)
	if err != nil {
		return 0, err
	}
	host, port, _ := net.SplitHostPort(o)
	out, err := exec.Command(bin, "-h", host, "-p", port, "-n", strconv.FormatInt(max(n, 1000), 10), "-c", strconv.Itoa(c), "-q", "-t", "get,set").Output()
	if err != nil {
		return 0, fmt.Errorf("redis-benchmark: %w", err)
	}
	// "SET: 85000.00 requests per second, p50=..." lines
	var rates []float64
	for _, l := range strings.Split(string(out), "\n") {
		if i := strings.LastIndex(l, "\r"); i >= 0 {
			l = l[i+1:] // -q still prints progress lines ending in \r
		}
		if i := strings.Index(l, ": "); i > 0 && strings.Contains(l, "requests per second") {
			f := strings.Fields(l[i+2:])
			if len(f) > 0 {
				if r, err := strconv.ParseFloat(f[0], 64); err == nil {
					rates = append(rates, r)
				}
			}
		}
	}
	if len(rates) == 0 {
		return 0, fmt.Errorf("redis-benchmark printed no rate: %q", out)
	}
	var sum float64
	for _, r := range rates {
		sum += r
	}
	return sum / float64(len(rates)), nil
}

func parseHostPort(url string) (string, error) {
	u := strings.TrimPrefix(strings.TrimPrefix(url, "redis://"), "rediss://")
	if i := strings.Index(u, "@"); i >= 0 {
		u = u[i+1:]
	}
	if i := strings.Index(u, "/"); i >= 0 {
		u = u[:i]
	}
	if !strings.Contains(u, ":") {
		return "", fmt.Errorf("cannot find host:port in %q", url)
	}
	return u, nil
}
