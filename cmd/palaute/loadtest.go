package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/bot/telegram"
	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/internal/fakebot"
	"github.com/palaute/palaute/store"
)

func init() { extra["loadtest"] = loadtest }

const loadSecret = "loadtest-secret-token"

// The send limits of the served process: far above what the load reaches, so that they never make it wait,
// but every send still takes them (the limiters' round trips are measured).
const (
	loadPerChat = 1000
	loadGlobal  = 1_000_000
)

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
	redisURL := fs.String("redis", "", "redis:// URL of a real Redis used for nothing else (required: REDIS_URL is not read, so that a production Redis is never loaded by mistake)")
	bench := fs.Bool("redis-benchmark", true, "also run redis-benchmark for the same number of round trips and print the ratio")
	cpuProfile := fs.String("cpuprofile", "", "write the serving process's CPU profile to this file (go tool pprof)")
	target := fs.String("target", "", "host:port of a palaute serve (webhook mode) that runs elsewhere, instead of starting one here: it must call this tool's Bot API (-listen) and share its Redis (-redis)")
	listen := fs.String("listen", ":8081", "with -target: where this tool serves the fake Bot API (the target's telegram.api_url)")
	hookPath := fs.String("webhook-path", webhookPath, "with -target: the target's telegram.webhook_path")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: palaute loadtest [flags]\n\n%s\n\nFlags:\n", loadtestHelp)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	url := *redisURL
	if url == "" {
		return errors.New("loadtest needs a real Redis used for nothing else: -redis redis://127.0.0.1:6379/0 (it adds thousands of survey answers to the first unit)")
	}
	o := loadOpts{config: *cfgPath, redisURL: url, cpuProfile: *cpuProfile, users: *users, conc: *conc,
		latUsers: *latUsers, latConc: *latConc, active: *active, bench: *bench}
	if *target != "" {
		if *cpuProfile != "" {
			return errors.New("loadtest: -cpuprofile profiles a palaute serve started here; with -target, use the target's own -cpuprofile")
		}
		o.target, o.listen, o.webhookPath, o.secret = *target, *listen, *hookPath, env("TELEGRAM_WEBHOOK_SECRET")
		if o.secret == "" {
			return errors.New("loadtest: with -target, set TELEGRAM_WEBHOOK_SECRET to the target's webhook secret")
		}
	}
	_, err := runLoad(ctx, o, stdout)
	return err
}

// loadtestHelp says what the load tool does, and how to run it against a palaute serve on another machine.
const loadtestHelp = `Drives simulated people through the youth survey of the first unit in -config, by webhook, against a
palaute serve and a fake Bot API, with a real Redis, and prints messages per second, reply latency, Redis
round trips and memory per session, the process's CPU and RSS, and the ratio to redis-benchmark.

By default it starts the palaute serve itself, on this machine. With -target it drives one that runs
elsewhere, so that the simulated people and the fake Bot API (Telegram's side) do not share its CPU.
Start that one in webhook mode with the same config file and Redis, and:
  telegram.api_url: http://<this machine>:8081    (this tool's -listen)
  telegram.per_chat_per_second: 1000               (the limits still make their round trips, but never wait)
  telegram.global_per_second: 1000000
  TELEGRAM_WEBHOOK_SECRET: the same in both environments
Then: palaute loadtest -config config.yaml -redis redis://<redis>:6379/0 -target <palaute host>:8080
Use a Redis with nothing else in it: the memory per session is measured from its used_memory.`

// loadOpts are the load tool's settings (see its flags).
type loadOpts struct {
	config, redisURL, cpuProfile           string
	users, conc, latUsers, latConc, active int
	bench                                  bool
	// A palaute serve elsewhere (-target): its host:port, where this tool serves the Bot API, the webhook's
	// path and secret.
	target, listen, webhookPath, secret string
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
	apiCallsPerMsg    float64 // Bot API requests per message
	benchRatio        float64 // all palaute's round trips per second / redis-benchmark's GET+SET
	benchRatioSame    float64 // the same / redis-benchmark's rate for the commands palaute sends
	ceilingSame       float64 // benchRatioSame's most on this machine if palaute serve took no CPU at all
}

// runLoad runs the load, printing the figures to stdout as they come.
func runLoad(ctx context.Context, o loadOpts, stdout io.Writer) (loadResult, error) {
	var res loadResult
	url := o.redisURL
	cfg, err := config.Load(o.config, func(string) string { return "" })
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
	if err := refuseRealAnswers(ctx, rdb, cfg, url); err != nil {
		return res, err
	}
	defer func() {
		if err := recordStreams(context.WithoutCancel(ctx), rdb, cfg); err != nil {
			fmt.Fprintln(stdout, err)
		}
	}()

	fake := fakebot.New()
	tgt, err := startLoadTarget(ctx, o, fake, url)
	if err != nil {
		return res, err
	}
	defer tgt.close()
	d := &webhookDriver{Hooks: []string{tgt.hook}, Secret: tgt.secret, Fake: fake,
		Client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: max(o.conc, o.latConc) * 2}, Timeout: 70 * time.Second}}
	// People are base..base+people-1; their updates are numbered from base+people (a survey ends in under
	// 64 updates).
	people := int64(o.users + o.latUsers + o.active + 1)
	base, err := reserveIDs(ctx, rdb, cfg.Redis.Prefix, people*65)
	if err != nil {
		return res, err
	}
	d.update.Store(base + people - 1)
	if tgt.child == nil {
		if err := probeTarget(ctx, d, tgt, o.listen, base+people-1, unit); err != nil {
			return res, err
		}
	}
	roundTrips := func(client string) float64 {
		v, _ := scrapeMetric(tgt.addr, "palaute_redis_round_trips_total", `client="`+client+`"`)
		return v
	}
	sessionLoads := func(result string) float64 {
		v, _ := scrapeMetric(tgt.addr, "palaute_session_cache_loads_total", `result="`+result+`"`)
		return v
	}
	survey := answers{choose: func(int, []string) string { return "4" }, text: "Hyvä paikka, kiitos ohjaajille."}
	var nextUID atomic.Int64
	nextUID.Store(base - 1)
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
	store0, limit0, acked0, api0 := roundTrips("store"), roundTrips("ratelimit"), d.Acked.Load(), fake.Counts()
	hits0, loads0 := sessionLoads("hit"), sessionLoads("miss")
	cpu0, rcpu0, tcpu0 := tgt.cpu(), redisCPU(ctx, rdb), procCPU(os.Getpid())
	elapsed, failed, ferr := run(o.users, o.conc)
	cpu, rcpu, tcpu := tgt.cpu()-cpu0, redisCPU(ctx, rdb)-rcpu0, procCPU(os.Getpid())-tcpu0
	msgs := d.Acked.Load() - acked0
	trips, limTrips := roundTrips("store")-store0, roundTrips("ratelimit")-limit0
	hits, loads := sessionLoads("hit")-hits0, sessionLoads("miss")-loads0
	calls := fake.Counts()
	for k := range calls {
		calls[k] -= api0[k]
	}
	lat := d.Latencies()
	fmt.Fprintf(stdout, "users %d, concurrency %d, failed %d\n", o.users, o.conc, failed)
	if ferr != nil {
		fmt.Fprintf(stdout, "first failure: %v\n", ferr)
	}
	if msgs == 0 {
		return res, errors.New("loadtest: no message was answered")
	}
	fmt.Fprintf(stdout, "messages: %d in %.2fs = %.0f msgs/s\n", msgs, elapsed.Seconds(), float64(msgs)/elapsed.Seconds())
	fmt.Fprintf(stdout, "reply latency at full load (webhook POST until handled and every reply sent): p50 %v  p95 %v  p99 %v\n", pct(lat, 50), pct(lat, 95), pct(lat, 99))
	fmt.Fprintf(stdout, "redis round trips per message: %.3f (message path), %.3f (send rate limits)\n", trips/float64(msgs), limTrips/float64(msgs))
	if hits+loads > 0 {
		fmt.Fprintf(stdout, "sessions loaded from the process's session cache: %.1f %% (%.0f loads from Redis: each person's first message, turns that write nothing, and on a Cluster those that publish)\n",
			100*hits/(hits+loads), loads)
	}
	var apiCalls int64
	var byMethod []string
	for _, m := range []string{"sendMessage", "editMessageText", "answerCallbackQuery", "deleteMessages"} {
		if calls[m] > 0 {
			apiCalls += calls[m]
			byMethod = append(byMethod, fmt.Sprintf("%s %.2f", m, float64(calls[m])/float64(msgs)))
		}
	}
	res.apiCallsPerMsg = float64(apiCalls) / float64(msgs)
	inAnswers := ""
	if n := calls["answerCallbackQuery"+fakebot.InAnswerSuffix]; n > 0 {
		inAnswers = fmt.Sprintf("; and answerCallbackQuery %.2f in webhook answers", float64(n)/float64(msgs))
	}
	fmt.Fprintf(stdout, "Bot API requests per message: %.2f (%s)%s\n", res.apiCallsPerMsg, strings.Join(byMethod, ", "), inAnswers)
	perMsg := func(d time.Duration) time.Duration { return (d / time.Duration(msgs)).Round(time.Microsecond) }
	fmt.Fprintf(stdout, "CPU per message: palaute serve %v, redis-server %v, load tool (people + fake Bot API) %v\n", perMsg(cpu), perMsg(rcpu), perMsg(tcpu))
	res.msgsPerSec, res.p99Full = float64(msgs)/elapsed.Seconds(), pct(lat, 99)
	res.tripsPerMsg, res.limitTripsPerMsg, res.cpuPerMsg = trips/float64(msgs), limTrips/float64(msgs), cpu/time.Duration(msgs)

	// 2. Latency at a light load.
	if o.latUsers > 0 {
		d.ResetLatencies()
		acked1 := d.Acked.Load()
		el, f, err := run(o.latUsers, o.latConc)
		if f > 0 {
			failed += f
			fmt.Fprintf(stdout, "latency phase: %d failed: %v\n", f, err)
		}
		n := d.Acked.Load() - acked1
		l := d.Latencies()
		fmt.Fprintf(stdout, "reply latency at %d people at a time (%.0f msgs/s): p50 %v  p95 %v  p99 %v\n", o.latConc, float64(n)/el.Seconds(), pct(l, 50), pct(l, 95), pct(l, 99))
		res.p99Light = pct(l, 99)
	}

	// 3. Memory: people left in the middle of the survey (after the first question).
	if o.active > 0 {
		memBefore := usedMemory(ctx, rdb)
		var wg sync.WaitGroup
		next := make(chan int64)
		var afailed atomic.Int64
		for w := 0; w < o.conc; w++ {
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
		for i := 0; i < o.active; i++ {
			next <- base + int64(o.users+o.latUsers+i)
		}
		close(next)
		wg.Wait()
		memAfter := usedMemory(ctx, rdb)
		res.bytesPerSession = float64(memAfter-memBefore) / float64(o.active)
		fmt.Fprintf(stdout, "redis memory per active session: %.0f bytes (%d sessions started, %d failed)\n",
			float64(memAfter-memBefore)/float64(o.active), o.active, afailed.Load())
	}
	res.rss = tgt.rss()
	if tgt.child != nil {
		fmt.Fprintf(stdout, "process RSS (palaute serve, pid %d): %.1f MiB now, %.1f MiB at most\n", tgt.child.Pid(),
			float64(res.rss)/(1<<20), float64(procStatus(tgt.child.Pid(), "VmHWM"))/(1<<20))
	} else {
		fmt.Fprintf(stdout, "process RSS (palaute serve at %s, from its /metrics): %.1f MiB now\n", tgt.addr, float64(res.rss)/(1<<20))
	}

	// 4. redis-benchmark for the same number of round trips and clients against the same server: GET+SET,
	// and the commands palaute sent, in palaute's proportions.
	if o.bench {
		all := trips + limTrips
		ours, oursMsg := all/elapsed.Seconds(), trips/elapsed.Seconds()
		fmt.Fprintf(stdout, "redis-benchmark, %d clients (= concurrency), %d round trips (= palaute's), on the same server after the load:\n", o.conc, int64(all))
		if rate, err := redisBenchmark(url, int64(all), o.conc); err != nil {
			fmt.Fprintf(stdout, "  redis-benchmark: %v\n", err)
		} else {
			res.benchRatio = ours / rate
			fmt.Fprintf(stdout, "  GET+SET (-t get,set): %.0f rt/s; palaute %.0f rt/s = %.2f x (message path alone %.0f rt/s = %.2f x)\n",
				rate, ours, ours/rate, oursMsg, oursMsg/rate)
		}
		// A turn's first message (a button press's edit and next question together) asks for its places in
		// its commit's pipeline; the next asks for the chat's limit for the rest of the turn with its global
		// place, in one pipeline; each further one for a global place. In the survey the turns that ask the
		// limiters themselves are those of three messages (/start and the text answer): a pair and a global
		// place each.
		pairs := limTrips / 2
		mix, err := sameCommands(ctx, url, cfg.Redis.Prefix, min(loads, trips), max(trips-loads, 0), pairs, limTrips-pairs)
		if err == nil {
			var rate float64
			rate, err = benchMix(url, o.conc, mix)
			if err == nil {
				res.benchRatioSame = ours / rate
				fmt.Fprintf(stdout, "  palaute's own commands (%s): %.0f rt/s; palaute %.0f rt/s = %.2f x\n", describeMix(mix), rate, ours, ours/rate)
				fmt.Fprintf(stdout, "  that is, Redis alone would answer the round trips of %.0f msgs/s; palaute served %.0f msgs/s\n",
					rate/(all/float64(msgs)), float64(msgs)/elapsed.Seconds())
				// The people, the fake Bot API (Telegram's side) and Redis share this machine's cores with palaute:
				// even a palaute that took no CPU could go no faster than their CPU per message allows.
				if tgt.child == nil {
					fmt.Fprintf(stdout, "  palaute serve ran elsewhere: this machine's CPU sets it no bound (redis-server took %v per message)\n", perMsg(rcpu))
				} else if other := rcpu + tcpu; other > 0 {
					most := float64(runtime.NumCPU()) * float64(time.Second) / (float64(other) / float64(msgs))
					res.ceilingSame = most * (all / float64(msgs)) / rate
					fmt.Fprintf(stdout, "  the most on this machine: Redis and the load tool take %v of CPU per message on %d cores, so even a palaute taking no CPU would serve at most %.0f msgs/s = %.2f x\n",
						perMsg(other), runtime.NumCPU(), most, res.ceilingSame)
				}
			}
		}
		if err != nil {
			fmt.Fprintf(stdout, "  palaute's own commands: %v\n", err)
		}
	}
	if c := tgt.child; c != nil {
		st, err := c.Stop()
		if err != nil || !st.Success() {
			return res, fmt.Errorf("palaute serve did not stop cleanly (%v, %v):\n%s", st, err, c.Out.String())
		}
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

// redisBenchmark runs redis-benchmark for n requests (GET and SET, c clients, no pipelining: one round
// trip each) against the same server and returns its mean requests per second.
func redisBenchmark(url string, n int64, c int) (float64, error) {
	return runRedisBenchmark(url, []string{"-n", strconv.FormatInt(max(n, 1000), 10), "-c", strconv.Itoa(c), "-t", "get,set"}, nil)
}

// runRedisBenchmark runs redis-benchmark with flags (and command, when not nil) against the server of url,
// and returns the mean of the requests per second of its tests.
func runRedisBenchmark(url string, flags, command []string) (float64, error) {
	bin, err := exec.LookPath("redis-benchmark")
	if err != nil {
		return 0, errors.New("redis-benchmark not installed")
	}
	o, err := parseHostPort(url)
	if err != nil {
		return 0, err
	}
	host, port, _ := net.SplitHostPort(o)
	args := append([]string{"-h", host, "-p", port, "--csv"}, flags...)
	out, err := exec.Command(bin, append(args, command...)...).Output()
	if err != nil {
		return 0, fmt.Errorf("redis-benchmark: %w", err)
	}
	return csvRate(string(out))
}

// csvRate is the mean "rps" of redis-benchmark --csv output: lines "test","rps","avg_latency_ms", then 5
// more latencies. The test's name (a command line) may hold commas and quotes, so fields count from the end.
func csvRate(out string) (float64, error) {
	var sum float64
	var n int
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(strings.TrimSpace(l), ",")
		if len(f) < 8 {
			continue
		}
		r, err := strconv.ParseFloat(strings.Trim(f[len(f)-7], `"`), 64)
		if err != nil {
			continue // the header
		}
		sum += r
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("redis-benchmark printed no rate: %q", out)
	}
	return sum / float64(n), nil
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

// benchCmd is one redis-benchmark run: a command line (keys with __rand_int__), how many commands each
// round trip carries, and how many round trips palaute made of that kind.
type benchCmd struct {
	what     string
	args     []string
	pipeline int
	trips    float64
	rate     float64 // measured round trips per second
}

// cmdRecorder is a go-redis hook that keeps the commands sent through it.
type cmdRecorder struct {
	mu   sync.Mutex
	cmds [][]string
}

func (r *cmdRecorder) add(c redis.Cmder) {
	args := make([]string, len(c.Args()))
	for i, a := range c.Args() {
		args[i] = fmt.Sprint(a)
	}
	r.mu.Lock()
	r.cmds = append(r.cmds, args)
	r.mu.Unlock()
}

// take returns the first recorded command named name (lower case) and forgets all of them.
func (r *cmdRecorder) take(name string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() { r.cmds = nil }()
	for _, c := range r.cmds {
		if strings.EqualFold(c[0], name) {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no %s recorded", name)
}

func (r *cmdRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *cmdRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { r.add(cmd); return next(ctx, cmd) }
}

func (r *cmdRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			r.add(c)
		}
		return next(ctx, cmds)
	}
}

// sameCommands records the commands of a message as palaute's own store and redis_rate send them, on keys
// named with redis-benchmark's __rand_int__: the load (GET of the session and GET of the marks, pipelined),
// the commit (EVALSHA of the compare-and-set script whose value is a real session left by the load), and
// the send limits (EVALSHA of redis_rate's scripts on a chat's key and on a global lane's key, with the
// load tool's limits). Palaute made loadTrips loads from Redis and commitTrips other round trips on the
// message path (commits, each with its turn's first send places in the same pipeline, and the little the
// router and outbox ask), pairTrips asking for a chat's limit and a global place in one pipeline, and
// globalTrips asking for a global place alone.
//
// redis-benchmark pipelines copies of one command only, so a pair is two of the chat's command, and a
// commit with its places three of the commit's (a press's has four). Its keys
// are fresh, so its GETs find nothing and its commits compare against no session: a little less work for
// Redis than palaute's, where the session exists. A completion's publish script, pipelined with its
// commit, is left out. All of this makes redis-benchmark's rate, if anything, higher.
func sameCommands(ctx context.Context, url, prefix string, loadTrips, commitTrips, pairTrips, globalTrips float64) ([]benchCmd, error) {
	opts, err := store.ParseURL(url)
	if err != nil {
		return nil, err
	}
	rdb := redis.NewUniversalClient(opts)
	defer rdb.Close()
	var sessKey string
	iter := rdb.Scan(ctx, 0, prefix+"{r:*}:s", 1000).Iterator()
	for sessKey == "" && iter.Next(ctx) {
		if k := iter.Val(); !strings.HasPrefix(k, prefix+"{r:loadtest:") {
			sessKey = k
		}
	}
	if sessKey == "" {
		return nil, errors.New("no session left by the load to copy")
	}
	st := store.New(rdb, prefix)
	sess, _, err := st.Load(ctx, strings.TrimSuffix(strings.TrimPrefix(sessKey, prefix+"{r:"), "}:s"))
	if err != nil || sess == nil {
		return nil, fmt.Errorf("read a session: %v", err)
	}

	rec := &cmdRecorder{}
	rdb.AddHook(rec)
	const pid = "loadtest:__rand_int__"
	defer rdb.Del(context.WithoutCancel(ctx), st.SessionKey(pid), st.MarksKey(pid),
		"rate:"+telegram.ChatKey(prefix+"loadtest:", "__rand_int__"), "rate:"+telegram.GlobalKey(prefix+"loadtest:", 0), "rate:"+telegram.GlobalKey(prefix+"loadtest:", 1))
	if _, _, err := st.Load(ctx, pid); err != nil {
		return nil, err
	}
	load, err := rec.take("get")
	if err != nil {
		return nil, err
	}
	// The benchmark's commits expire in a minute; palaute's sessions live survey.session_ttl + 48 h.
	if err := st.Commit(ctx, bot.Commit{PID: pid, Session: sess, TTL: time.Minute}); err != nil {
		return nil, err
	}
	commit, err := rec.take("evalsha")
	if err != nil {
		return nil, err
	}
	lim := redis_rate.NewLimiter(rdb)
	// A turn asks for its 3 messages at once (AllowAtMost); the global limit is asked once per message.
	if _, err := lim.AllowAtMost(ctx, telegram.ChatKey(prefix+"loadtest:", "__rand_int__"), telegram.ChatLimit(loadPerChat), 3); err != nil {
		return nil, err
	}
	chat, err := rec.take("evalsha")
	if err != nil {
		return nil, err
	}
	if _, err := lim.Allow(ctx, telegram.GlobalKey(prefix+"loadtest:", 0), telegram.GlobalLimit(loadGlobal, 0)); err != nil {
		return nil, err
	}
	global, err := rec.take("evalsha")
	if err != nil {
		return nil, err
	}
	// redis-benchmark would time error replies as happily as answers: each command must run.
	for _, c := range [][]string{load, commit, chat, global} {
		args := make([]any, len(c))
		for i, a := range c {
			args[i] = strings.ReplaceAll(a, "__rand_int__", "000000000000")
		}
		if err := rdb.Do(ctx, args...).Err(); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("%s: %w", c[0], err)
		}
		rdb.Del(ctx, st.SessionKey("loadtest:000000000000"), "rate:"+telegram.ChatKey(prefix+"loadtest:", "000000000000"))
	}
	return []benchCmd{
		{what: "GET+GET pipelined", args: load, pipeline: 2, trips: loadTrips},
		{what: "EVALSHA commit (+ 2 for the first places; a press asks 3) pipelined", args: commit, pipeline: 3, trips: commitTrips},
		{what: "EVALSHA redis_rate chat+global pipelined", args: chat, pipeline: 2, trips: pairTrips},
		{what: "EVALSHA redis_rate global", args: global, pipeline: 1, trips: globalTrips},
	}, nil
}

// benchMix runs redis-benchmark once per command of mix, each for its own number of round trips with c
// clients, and returns the rate of the whole mix: all its round trips over the sum of the runs' times.
func benchMix(url string, c int, mix []benchCmd) (float64, error) {
	var trips, secs float64
	for i := range mix {
		m := &mix[i]
		if m.trips < 1 {
			continue
		}
		n := max(int64(m.trips*float64(m.pipeline)), 1000)
		rps, err := runRedisBenchmark(url, []string{"-n", strconv.FormatInt(n, 10), "-c", strconv.Itoa(c),
			"-P", strconv.Itoa(m.pipeline), "-r", "100000000"}, m.args)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", m.what, err)
		}
		m.rate = rps / float64(m.pipeline)
		trips += m.trips
		secs += m.trips / m.rate
	}
	if secs == 0 {
		return 0, errors.New("no round trips to compare")
	}
	return trips / secs, nil
}

func describeMix(mix []benchCmd) string {
	var parts []string
	for _, m := range mix {
		if m.trips >= 1 {
			parts = append(parts, fmt.Sprintf("%s %.0f rt at %.0f rt/s", m.what, m.trips, m.rate))
		}
	}
	return strings.Join(parts, ", ")
}

// loadTarget is the palaute serve under load: the load tool's own child process, or one that runs
// elsewhere (-target) and is measured through its /metrics.
type loadTarget struct {
	addr   string      // its http.listen: /metrics, /readyz
	hook   string      // its webhook's URL
	secret string      // the webhook's secret token
	child  *serveChild // nil when it runs elsewhere
	close  func()      // stops the fake Bot API (and the child)
}

// startLoadTarget starts the palaute serve under load as a child, calling fake as its Bot API; with
// o.target, it serves fake on o.listen instead and checks that the target is ready.
func startLoadTarget(ctx context.Context, o loadOpts, fake *fakebot.Server, url string) (*loadTarget, error) {
	if o.target != "" {
		l, err := net.Listen("tcp", o.listen)
		if err != nil {
			return nil, fmt.Errorf("loadtest: the fake Bot API cannot listen on %s: %w", o.listen, err)
		}
		srv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(l) }()
		t := &loadTarget{addr: o.target, hook: "http://" + o.target + o.webhookPath, secret: o.secret, close: func() { _ = srv.Close() }}
		resp, err := http.Get("http://" + o.target + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("/readyz answered %d", resp.StatusCode)
			}
		}
		if err != nil {
			t.close()
			return nil, fmt.Errorf("loadtest: palaute serve at %s is not ready: %w", o.target, err)
		}
		return t, nil
	}
	dir, err := os.MkdirTemp("", "palaute-loadtest")
	if err != nil {
		return nil, err
	}
	var childArgs []string
	if o.cpuProfile != "" {
		p, _ := filepath.Abs(o.cpuProfile)
		childArgs = []string{"-cpuprofile", p}
	}
	child, api, err := newWebhookChild(fake, webhookServe{base: o.config, dir: dir, redisURL: url,
		pidSecret: "loadtest-pseudonym-secret-0123456789", token: "123:LOAD", hookSecret: loadSecret,
		set: map[string]any{
			// The load tool measures palaute, not Telegram's limits: the limiters still make their round trips.
			"telegram.per_chat_per_second": loadPerChat, "telegram.global_per_second": loadGlobal,
			"log.level": "warn",
		},
		args: childArgs})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	t := &loadTarget{addr: child.Addr, hook: "http://" + child.Addr + webhookPath, secret: loadSecret, child: child,
		close: func() { child.Kill(); api.Close(); os.RemoveAll(dir) }}
	if err := child.Start(ctx); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// cpu is the CPU time the target has used.
func (t *loadTarget) cpu() time.Duration {
	if t.child != nil {
		return procCPU(t.child.Pid())
	}
	v, _ := scrapeMetric(t.addr, "process_cpu_seconds_total")
	return time.Duration(v * float64(time.Second))
}

// rss is the target's resident memory in bytes.
func (t *loadTarget) rss() int64 {
	if t.child != nil {
		return t.child.RSS()
	}
	v, _ := scrapeMetric(t.addr, "process_resident_memory_bytes")
	return int64(v)
}

// probeTarget starts the survey for one person on a target that runs elsewhere and checks that its reply
// came to this tool's Bot API: a target that calls another Bot API, or has another webhook secret, is told
// apart from a slow one before the load begins.
func probeTarget(ctx context.Context, d *webhookDriver, t *loadTarget, listen string, uid int64, unit string) error {
	sent, err := d.Send(ctx, uid, "fi", "/start u-"+unit)
	if err == nil && len(sent) == 0 {
		err = fmt.Errorf("it took the update but sent nothing to this tool's Bot API on %s (its telegram.api_url?)", listen)
	}
	if err != nil {
		return fmt.Errorf("loadtest: palaute serve at %s: %w\n\n%s", t.addr, err, loadtestHelp)
	}
	return nil
}

// refuseRealAnswers refuses a Redis whose streams of cfg's units hold entries no load of this tool made (it
// records how long each stream was after its load: recordStreams): the load would mix thousands of made-up
// answers into real ones.
func refuseRealAnswers(ctx context.Context, rdb redis.UniversalClient, cfg config.Config, url string) error {
	for _, u := range cfg.Units {
		for _, key := range unitStreams(cfg, u.ID) {
			n, err := rdb.XLen(ctx, key).Result()
			if err != nil {
				return fmt.Errorf("loadtest: redis %s: %w", url, err)
			}
			made, err := rdb.HGet(ctx, cfg.Redis.Prefix+streamsKey, key).Int64()
			if err != nil && !errors.Is(err, redis.Nil) {
				return fmt.Errorf("loadtest: redis %s: %w", url, err)
			}
			if n > made {
				return fmt.Errorf("loadtest: redis %s holds answers of unit %q that no load of this tool made: "+
					"the load would add thousands of made-up survey answers to them; give -redis a Redis used for nothing else", url, u.ID)
			}
		}
	}
	return nil
}

// recordStreams records how long the streams of cfg's units are after a load (see refuseRealAnswers).
func recordStreams(ctx context.Context, rdb redis.UniversalClient, cfg config.Config) error {
	key := cfg.Redis.Prefix + streamsKey
	for _, u := range cfg.Units {
		for _, s := range unitStreams(cfg, u.ID) {
			n, err := rdb.XLen(ctx, s).Result()
			if err == nil {
				err = rdb.HSet(ctx, key, s, n).Err()
			}
			if err != nil {
				return fmt.Errorf("loadtest: recording what the load wrote: %w", err)
			}
		}
	}
	return rdb.Expire(ctx, key, 30*24*time.Hour).Err()
}

// unitStreams are the keys of a unit's answer and feedback streams.
func unitStreams(cfg config.Config, unit string) []string {
	st := store.New(nil, cfg.Redis.Prefix)
	return []string{st.UnitKey(unit, "resp"), st.UnitKey(unit, "fb")}
}

// streamsKey (after the prefix) holds the stream lengths a load left (refuseRealAnswers).
const streamsKey = "loadtest:streams"

// idsKey (after the prefix) is where the load tool reserves its ids: it marks a Redis as a load test's.
const idsKey = "loadtest:ids"

// reserveIDs reserves n ids on the Redis under load and returns the first: update ids and people of earlier
// runs on the same Redis are remembered there (dedupe, sessions), so each run takes new ones.
func reserveIDs(ctx context.Context, rdb redis.UniversalClient, prefix string, n int64) (int64, error) {
	key := prefix + idsKey
	var last *redis.IntCmd
	_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		last = p.IncrBy(ctx, key, n)
		p.Expire(ctx, key, 30*24*time.Hour)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("loadtest: reserving ids: %w", err)
	}
	return 5_000_000 + last.Val() - n + 1, nil
}
