package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/internal/fakebot"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/store"
)

func init() { extra["loadtest"] = loadtest }

// telegramWebhook is set by the Telegram wiring: the webhook handler of an adapter talking to apiURL.
var telegramWebhook func(ctx context.Context, a *app, apiURL, secret string) (http.Handler, func(), error)

const loadSecret = "loadtest-secret-token"

func loadtest(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stdout)
	cfgPath := configFlag(fs)
	users := fs.Int("users", 1000, "simulated people, each answering the whole youth survey")
	conc := fs.Int("concurrency", 32, "people answering at the same time")
	redisURL := fs.String("redis", "", "redis:// URL of a real Redis (default: REDIS_URL)")
	bench := fs.Bool("redis-benchmark", true, "also run redis-benchmark for the same number of round trips and print the ratio")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if telegramWebhook == nil {
		return errors.New("loadtest: the Telegram adapter is not built in")
	}
	url := *redisURL
	if url == "" {
		url = env("REDIS_URL")
	}
	if url == "" {
		return errors.New("loadtest needs a real Redis: -redis redis://127.0.0.1:6379/0 or REDIS_URL")
	}
	fake := fakebot.New()
	api := httptest.NewServer(fake)
	defer api.Close()
	lenv := func(k string) string {
		switch k {
		case "REDIS_URL":
			return url
		case "PALAUTE_PSEUDONYM_SECRET":
			return "loadtest-pseudonym-secret-0123456789"
		case "TELEGRAM_TOKEN":
			return "123:LOAD"
		case "TELEGRAM_WEBHOOK_SECRET":
			return loadSecret
		}
		return env(k)
	}
	a, err := build(ctx, *cfgPath, lenv, io.Discard)
	if err != nil {
		return err
	}
	defer a.close()
	if len(a.cfg.Units) == 0 {
		return errors.New("loadtest: the configuration has no units")
	}
	if err := a.store.LoadScripts(ctx); err != nil {
		return err
	}
	rt := &redistest.RoundTrips{}
	a.rdb.AddHook(rt) // the message path: sessions, responses, invitations
	if opts, err := store.ParseURL(url); err == nil {
		lim := redis.NewUniversalClient(opts) // the send rate limiters, counted apart
		defer lim.Close()
		a.limiterRDB = lim
	}
	h, stop, err := telegramWebhook(ctx, a, api.URL, loadSecret)
	if err != nil {
		return err
	}
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	hook := "http://" + ln.Addr().String() + a.cfg.Telegram.WebhookPath
	memBefore := usedMemory(ctx, a)

	d := &driver{hook: hook, fake: fake, unit: a.cfg.Units[0].PublicCode(), client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc * 2}}}
	rtBefore := rt.N()
	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Int64
	next := make(chan int)
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range next {
				if err := d.survey(ctx, 5_000_000+int64(u)); err != nil {
					if failed.Add(1) <= 3 {
						fmt.Fprintf(os.Stderr, "user %d: %v\n", u, err)
					}
				}
			}
		}()
	}
	for u := 0; u < *users; u++ {
		next <- u
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	msgs := d.msgs.Load()
	trips := rt.N() - rtBefore
	lat := d.latencies()
	fmt.Fprintf(stdout, "users %d, concurrency %d, failed %d\n", *users, *conc, failed.Load())
	fmt.Fprintf(stdout, "messages: %d in %.2fs = %.0f msgs/s\n", msgs, elapsed.Seconds(), float64(msgs)/elapsed.Seconds())
	fmt.Fprintf(stdout, "reply latency (webhook POST until handled and answered): p50 %v  p95 %v  p99 %v\n", pct(lat, 50), pct(lat, 95), pct(lat, 99))
	fmt.Fprintf(stdout, "redis round trips per message: %.3f\n", float64(trips)/float64(msgs))

	// Memory per active session: people left in the middle of the survey.
	active := min(*users, 10000)
	memMid := usedMemory(ctx, a)
	for u := 0; u < active; u++ {
		d.step(ctx, 9_000_000+int64(u), "/start u-"+d.unit, "")
	}
	memAfter := usedMemory(ctx, a)
	fmt.Fprintf(stdout, "redis memory per active session: %.0f bytes (%d sessions; before the run %d bytes used)\n", float64(memAfter-memMid)/float64(active), active, memBefore)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(stdout, "process RSS: %.1f MiB (Go heap in use %.1f MiB)\n", float64(rss())/(1<<20), float64(ms.HeapInuse)/(1<<20))
	if *bench {
		if rate, err := redisBenchmark(url, trips); err != nil {
			fmt.Fprintf(stdout, "redis-benchmark: %v\n", err)
		} else {
			ours := float64(trips) / elapsed.Seconds()
			fmt.Fprintf(stdout, "redis-benchmark (GET+SET, same %d round trips, 32 clients): %.0f rt/s; palaute %.0f rt/s = %.2f x\n", trips, rate, ours, ours/rate)
		}
	}
	if failed.Load() > 0 {
		return fmt.Errorf("%d simulated people did not finish", failed.Load())
	}
	return nil
}

type driver struct {
	hook   string
	fake   *fakebot.Server
	unit   string
	client *http.Client
	update atomic.Int64
	msgs   atomic.Int64
	mu     sync.Mutex
	lat    []time.Duration
}

var questionRe = regexp.MustCompile(`^[A-Z2-7]{6}\.\d+\.`)

// survey answers the whole youth survey as one person.
func (d *driver) survey(ctx context.Context, uid int64) error {
	if _, err := d.step(ctx, uid, "/start u-"+d.unit, ""); err != nil {
		return err
	}
	for i := 0; i < 6; i++ { // five scales and the NPS
		data, err := d.question(uid)
		if err != nil {
			return fmt.Errorf("question %d: %w", i+1, err)
		}
		if _, err := d.step(ctx, uid, "", data+"4"); err != nil {
			return err
		}
	}
	if _, err := d.question(uid); err != nil {
		return fmt.Errorf("text question: %w", err)
	}
	_, err := d.step(ctx, uid, "Hyvä paikka, kiitos ohjaajille.", "")
	return err
}

// question waits for the next question with buttons and returns its callback prefix.
func (d *driver) question(uid int64) (string, error) {
	inbox := d.fake.Inbox(strconv.FormatInt(uid, 10))
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-inbox:
			if s.Method != "sendMessage" || len(s.Buttons) == 0 {
				continue
			}
			if m := questionRe.FindString(s.Buttons[0].Data); m != "" {
				return m, nil
			}
		case <-timeout:
			return "", errors.New("no question arrived in 10 s")
		}
	}
}

func (d *driver) step(ctx context.Context, uid int64, text, data string) (time.Duration, error) {
	id := d.update.Add(1)
	from := map[string]any{"id": uid, "is_bot": false, "first_name": "Load", "language_code": "fi"}
	chat := map[string]any{"id": uid, "type": "private"}
	var u map[string]any
	if data != "" {
		u = map[string]any{"update_id": id, "callback_query": map[string]any{"id": "cb" + strconv.FormatInt(id, 10), "from": from,
			"chat_instance": "1", "data": data, "message": map[string]any{"message_id": 1, "date": time.Now().Unix(), "chat": chat, "text": "q"}}}
	} else {
		u = map[string]any{"update_id": id, "message": map[string]any{"message_id": id, "from": from, "chat": chat, "date": time.Now().Unix(), "text": text}}
	}
	body, _ := json.Marshal(u)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.hook, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", loadSecret)
	t0 := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(t0)
	if resp.StatusCode/100 != 2 {
		return took, fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	d.msgs.Add(1)
	d.mu.Lock()
	d.lat = append(d.lat, took)
	d.mu.Unlock()
	return took, nil
}

func (d *driver) latencies() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := slices.Clone(d.lat)
	slices.Sort(l)
	return l
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

func usedMemory(ctx context.Context, a *app) int64 {
	info, err := a.rdb.Info(ctx, "memory").Result()
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

func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n * 1024
		}
	}
	return 0
}

// redisBenchmark runs redis-benchmark for n requests (GET and SET, 32 clients, no pipelining: one round
// trip each, like ours) against the same server and returns its mean requests per second.
func redisBenchmark(url string, n int64) (float64, error) {
	bin, err := exec.LookPath("redis-benchmark")
	if err != nil {
		return 0, errors.New("redis-benchmark not installed")
	}
	o, err := parseHostPort(url)
	if err != nil {
		return 0, err
	}
	host, port, _ := net.SplitHostPort(o)
	out, err := exec.Command(bin, "-h", host, "-p", port, "-n", strconv.FormatInt(max(n, 1000), 10), "-c", "32", "-q", "-t", "get,set").Output()
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
