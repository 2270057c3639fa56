// Package metrics holds palaute's Prometheus metrics. Labels never carry text, chat ids or usernames.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

// Metrics are the process's collectors on their own registry.
type Metrics struct {
	Registry        *prometheus.Registry
	MessagesIn      *prometheus.CounterVec // channel, kind
	RepliesOut      *prometheus.CounterVec // channel
	SendErrors      *prometheus.CounterVec // channel, reason
	HandleSeconds   *prometheus.HistogramVec
	RedisRoundTrips *prometheus.CounterVec // client: store, ratelimit
	RedisErrors     *prometheus.CounterVec // client
	OutboxRetries   prometheus.Counter
	SummariesPosted prometheus.Counter
	AlertsPosted    *prometheus.CounterVec // kind: corrective, urgent, digest
	Surveys         *prometheus.CounterVec // flow, event: started, completed, abandoned
	AlertsMissed    *prometheus.CounterVec // class: crisis messages answered with help contacts but no stored alert
}

// New registers the collectors (and the Go and process collectors) on a fresh registry. postKinds are the
// kinds of feedback posts (the router's PostKinds), whose series are there from the start.
func New(postKinds ...string) *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		MessagesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "palaute_messages_in_total",
			Help: "Inputs received, by channel and kind."}, []string{"channel", "kind"}),
		RepliesOut: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "palaute_replies_out_total",
			Help: "Replies sent, by channel."}, []string{"channel"}),
		SendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "palaute_send_errors_total",
			Help: "Failed sends, by channel and reason."}, []string{"channel", "reason"}),
		HandleSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "palaute_handle_seconds",
			Help:    "Time to handle one input, including Redis.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1}}, []string{"channel"}),
		RedisRoundTrips: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "palaute_redis_round_trips_total",
			Help: "Redis round trips (a command, or a pipeline or transaction), by client: store or ratelimit."}, []string{"client"}),
		RedisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "palaute_redis_errors_total",
			Help: "Redis round trips that failed (unreachable, timeout, server error), by client."}, []string{"client"}),
		OutboxRetries: prometheus.NewCounter(prometheus.CounterOpts{Name: "palaute_outbox_retries_total",
			Help: "Slack posts retried after an error or a rate limit."}),
		SummariesPosted: prometheus.NewCounter(prometheus.CounterOpts{Name: "palaute_summaries_posted_total",
			Help: "Summaries posted to Slack."}),
		AlertsPosted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "palaute_alerts_posted_total",
			Help: "Feedback alerts and digests posted to Slack, by kind."}, []string{"kind"}),
		Surveys: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "palaute_surveys_total",
			Help: "Surveys started, completed and abandoned, by flow."}, []string{"flow", "event"}),
		AlertsMissed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "palaute_crisis_alerts_missed_total",
			Help: "Messages suggesting danger that got the help contacts while Redis was unavailable, so no staff alert was stored, by class."}, []string{"class"}),
	}
	r.MustRegister(m.MessagesIn, m.RepliesOut, m.SendErrors, m.HandleSeconds, m.RedisRoundTrips, m.RedisErrors, m.OutboxRetries,
		m.SummariesPosted, m.AlertsPosted, m.Surveys, m.AlertsMissed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, k := range postKinds { // present at 0 from the start, so an alert rule sees the series
		m.AlertsPosted.WithLabelValues(k)
	}
	return m
}

// SessionCache exports the session cache's hits and misses (loads answered from memory, and loads that
// went to Redis) as palaute_session_cache_loads_total{result}.
func (m *Metrics) SessionCache(stats func() (hits, misses int64)) {
	for _, r := range []struct {
		label string
		pick  func() float64
	}{
		{"hit", func() float64 { h, _ := stats(); return float64(h) }},
		{"miss", func() float64 { _, n := stats(); return float64(n) }},
	} {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "palaute_session_cache_loads_total",
			Help:        "Session loads answered by the process's session cache (hit) or by Redis (miss).",
			ConstLabels: prometheus.Labels{"result": r.label}}, r.pick))
	}
}

// RedisHook counts the round trips and failures of one Redis client under the label client. Add it with
// rdb.AddHook(m.RedisHook("store")).
func (m *Metrics) RedisHook(client string) redis.Hook {
	// Both series exist from the start, so a dashboard sees 0 rather than nothing.
	return redisHook{trips: m.RedisRoundTrips.WithLabelValues(client), errs: m.RedisErrors.WithLabelValues(client)}
}

type redisHook struct{ trips, errs prometheus.Counter }

var _ redis.Hook = redisHook{}

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.trips.Inc()
		if fault(cmd, err) {
			h.errs.Inc()
		}
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.trips.Inc()
		failed := false
		for _, c := range cmds {
			failed = failed || fault(c, c.Err())
		}
		if failed || (err != nil && len(cmds) == 0) {
			h.errs.Inc()
		}
		return err
	}
}

// fault tells a failure from an error that is an answer: a missing key, a script not yet cached (go-redis
// sends it again at once), a failed optimistic transaction, a context ended by shutdown, or a server too
// old for a CLIENT subcommand go-redis tries when it connects (SETINFO, MAINT_NOTIFICATIONS).
func fault(cmd redis.Cmder, err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, redis.TxFailedErr) || errors.Is(err, context.Canceled) {
		return false
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "NOSCRIPT") || strings.HasPrefix(msg, "BUSYGROUP") {
		return false
	}
	if cmd != nil && cmd.Name() == "client" && strings.Contains(msg, "unknown subcommand") {
		return false
	}
	return true
}

// Survey counts a survey event; it satisfies the engine's observer.
func (m *Metrics) Survey(flow, event string) { m.Surveys.WithLabelValues(flow, event).Inc() }

// AlertMissed counts a crisis message whose staff alert could not be stored.
func (m *Metrics) AlertMissed(class string) { m.AlertsMissed.WithLabelValues(class).Inc() }

// CrisisClasses puts palaute_crisis_alerts_missed_total of each class on /metrics at 0, so that an alert
// rule on its increase sees the first missed alert too.
func (m *Metrics) CrisisClasses(classes ...string) {
	for _, c := range classes {
		m.AlertsMissed.WithLabelValues(c)
	}
}

// Gauge registers a gauge read at scrape time (e.g. the outbox depth).
func (m *Metrics) Gauge(name, help string, f func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}
