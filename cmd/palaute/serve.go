package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/coding"
	"github.com/palaute/palaute/metrics"
	"github.com/palaute/palaute/router"
	"github.com/palaute/palaute/store"
)

// clock is the time the scheduler goes by. Only the test binary's serve mode (cmd/palaute tests) moves it.
var clock = time.Now

// errShutdownDeadline is returned by serve when the updates in hand did not finish within shutdown_timeout.
// They were not acknowledged, so Telegram sends them again (to this or another replica).
var errShutdownDeadline = errors.New("shutdown deadline passed")

// component is one part of `palaute serve` run under the errgroup until ctx ends.
type component struct {
	name string
	run  func(ctx context.Context) error
}

// wiring lets other files add HTTP routes and components to serve (Telegram, Slack, scheduler, router).
type wiring struct {
	app        *app
	mux        *http.ServeMux
	metrics    *metrics.Metrics
	components []component
	ready      []func(ctx context.Context) error // extra readiness checks
	// drain are waited for on shutdown, after the HTTP server stopped taking requests and within the
	// same deadline: work a request started that goes on after its answer (a summary on its way
	// through a Slack response_url).
	drain []func(ctx context.Context) error
}

// wirers are registered by init() in the adapter files.
var wirers []func(ctx context.Context, w *wiring) error

func serve(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stdout)
	cfgPath := configFlag(fs)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := build(ctx, *cfgPath, env, stdout)
	if err != nil {
		return err
	}
	defer a.close() // Redis is closed last, after every component has stopped
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return serveApp(ctx, a, nil)
}

// serveApp runs every configured part of a until ctx ends, then shuts down within the configured deadline.
// started, when not nil, receives the HTTP listener's address once it listens.
func serveApp(ctx context.Context, a *app, started chan<- string) error {
	log := a.log
	redis.SetLogger(&redisLog{log: log}) // go-redis logs to stderr in plain text otherwise
	m := metrics.New(router.PostKinds...)
	m.CrisisClasses(coding.Classes...)
	a.rdb.AddHook(m.RedisHook("store"))
	m.SessionCache(a.store.CacheStats)
	if a.limiterRDB == a.rdb && a.cfg.Redis.URL != "" {
		// The send rate limiters get their own client: their round trips and errors show apart from the
		// message path's, and a burst of sends cannot starve the sessions of pooled connections.
		opts, err := store.ParseURL(a.cfg.Redis.URL)
		if err != nil {
			return err
		}
		// Its pipelines hold two small scripts (a chat's limit and a global place): go-redis's default
		// 128 KiB pipeline buffers would add ~3 MiB of RSS for nothing.
		opts.PipelineReadBufferSize, opts.PipelineWriteBufferSize = 32<<10, 32<<10
		lim := redis.NewUniversalClient(opts)
		defer lim.Close()
		a.limiterRDB = lim
		defer func() { a.limiterRDB = a.rdb }()
	}
	if a.limiterRDB != a.rdb {
		a.limiterRDB.AddHook(m.RedisHook("ratelimit"))
	}
	a.engineMetrics(m)
	w := &wiring{app: a, mux: http.NewServeMux(), metrics: m}
	w.mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(rw, "ok")
	})
	w.mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, r *http.Request) {
		cctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		status, msg := http.StatusOK, "ready: redis ok, flows loaded\n"
		if err := a.store.Ping(cctx); err != nil {
			status, msg = http.StatusServiceUnavailable, "not ready: redis unreachable\n"
		} else if len(a.flows.All()) == 0 {
			status, msg = http.StatusServiceUnavailable, "not ready: no flows\n"
		} else {
			for _, f := range w.ready {
				if err := f(cctx); err != nil {
					status, msg = http.StatusServiceUnavailable, "not ready: "+err.Error()+"\n"
					break
				}
			}
		}
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.WriteHeader(status)
		fmt.Fprint(rw, msg)
	})
	w.mux.Handle("GET /metrics", m.Handler())
	if err := a.store.LoadScripts(ctx); err != nil {
		log.Warn("could not preload Redis scripts; they load on first use", slog.String("err", err.Error()))
	}
	for _, wire := range wirers {
		if err := wire(ctx, w); err != nil {
			return err
		}
	}
	w.components = append(w.components, component{"retention sweeper", a.sweeper})

	ln, err := net.Listen("tcp", a.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	srv := &http.Server{Handler: w.mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("palaute serving", slog.String("addr", ln.Addr().String()), slog.Int("components", len(w.components)))
	if started != nil {
		started <- ln.Addr().String()
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	for _, c := range w.components {
		g.Go(func() error {
			err := c.run(gctx)
			if err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			return nil
		})
	}
	deadline := a.cfg.Shutdown.D()
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down: finishing the updates in hand", slog.String("deadline", deadline.String()))
		sctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil { // stops taking requests, waits for webhook handlers in progress
			return fmt.Errorf("http shutdown: %w", err)
		}
		for _, d := range w.drain {
			if err := d(sctx); err != nil {
				return fmt.Errorf("%w (%v): %w", errShutdownDeadline, deadline, err)
			}
		}
		return nil
	})
	waited := make(chan error, 1)
	go func() { waited <- g.Wait() }()
	select {
	case err = <-waited:
	case <-gctx.Done():
		// Every component finishes what it holds, but all of it within the one deadline: a Bot API that
		// hangs must not keep the process past what the orchestrator allows (it would SIGKILL it).
		t := time.NewTimer(deadline + 500*time.Millisecond)
		defer t.Stop()
		select {
		case err = <-waited:
		case <-t.C:
			err = fmt.Errorf("%w (%v): updates still in hand were not acknowledged and will be sent again", errShutdownDeadline, deadline)
		}
	}
	if err != nil {
		log.Error("palaute stopped", slog.String("err", err.Error()))
		return err
	}
	log.Info("palaute stopped")
	return nil
}

// replicaToken names this process among the replicas: its locks' holder and its consumer name.
func replicaToken() string {
	host, _ := os.Hostname()
	return store.Token(host, os.Getpid())
}

// sweeper deletes free text older than privacy.retention_days, hourly, on one replica at a time.
func (a *app) sweeper(ctx context.Context) error {
	lock := store.NewLock(a.rdb, a.cfg.Redis.Prefix, "sweep", replicaToken())
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if swept, n, err := a.sweepOnce(ctx, lock, time.Now()); err != nil && ctx.Err() == nil {
			a.log.Warn("retention sweep failed", slog.String("err", err.Error()))
		} else if swept && n > 0 {
			a.log.Info("retention sweep", slog.Int64("deleted", n))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// sweepHold is how long the replica that swept keeps the sweep lock: the others skip their sweeps
// until then, so one replica sweeps an hour (a sweep scans every master's keyspace).
const sweepHold = 50 * time.Minute

// sweepOnce runs the retention sweep unless another replica swept within sweepHold; it reports
// whether it swept and how many entries it deleted.
func (a *app) sweepOnce(ctx context.Context, lock *store.Lock, now time.Time) (bool, int64, error) {
	ok, err := lock.Acquire(ctx, sweepHold)
	if err != nil || !ok {
		return false, 0, err
	}
	units := make([]string, 0, len(a.cfg.Units)+1)
	for _, u := range a.cfg.Units {
		units = append(units, u.ID)
	}
	units = append(units, bot.NoUnit)
	retention := time.Duration(a.cfg.Privacy.RetentionDays) * 24 * time.Hour
	n, err := a.store.Sweep(ctx, units, retention, now)
	return true, n, err
}

// redisLog writes go-redis's own messages (failed dials, mostly) as JSON log lines, at most one per 5 s:
// during an outage it would write one per connection attempt; palaute's warnings and the
// palaute_redis_errors_total counter already tell what failed.
type redisLog struct {
	log        *slog.Logger
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (r *redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.mu.Lock()
	now := time.Now()
	if now.Sub(r.last) < 5*time.Second {
		r.suppressed++
		r.mu.Unlock()
		return
	}
	n := r.suppressed
	r.last, r.suppressed = now, 0
	r.mu.Unlock()
	msg := fmt.Sprintf(format, v...)
	lvl := slog.LevelInfo // e.g. "sentinel: new master"
	if l := strings.ToLower(msg); strings.Contains(l, "fail") || strings.Contains(l, "error") || strings.Contains(l, "refused") {
		lvl = slog.LevelWarn
	}
	r.log.Log(ctx, lvl, "redis client", slog.String("detail", msg), slog.Int("suppressed", n))
}
