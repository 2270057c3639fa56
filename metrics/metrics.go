// Package metrics holds palaute's Prometheus metrics. Labels never carry text, chat ids or usernames.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the process's collectors on their own registry.
type Metrics struct {
	Registry        *prometheus.Registry
	MessagesIn      *prometheus.CounterVec // channel, kind
	RepliesOut      *prometheus.CounterVec // channel
	SendErrors      *prometheus.CounterVec // channel, reason
	HandleSeconds   *prometheus.HistogramVec
	RedisErrors     prometheus.Counter
	OutboxRetries   prometheus.Counter
	SummariesPosted prometheus.Counter
	AlertsPosted    *prometheus.CounterVec // kind: corrective, urgent, digest
	Surveys         *prometheus.CounterVec // flow, event: started, completed, abandoned
}

// New registers the collectors (and the Go and process collectors) on a fresh registry.
func New() *Metrics {
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
		RedisErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "palaute_redis_errors_total",
			Help: "Inputs that failed because Redis was unavailable."}),
		OutboxRetries: prometheus.NewCounter(prometheus.CounterOpts{Name: "palaute_outbox_retries_total",
			Help: "Slack posts retried after an error or a rate limit."}),
		SummariesPosted: prometheus.NewCounter(prometheus.CounterOpts{Name: "palaute_summaries_posted_total",
			Help: "Summaries posted to Slack."}),
		AlertsPosted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "palaute_alerts_posted_total",
			Help: "Feedback alerts and digests posted to Slack, by kind."}, []string{"kind"}),
		Surveys: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "palaute_surveys_total",
			Help: "Surveys started, completed and abandoned, by flow."}, []string{"flow", "event"}),
	}
	r.MustRegister(m.MessagesIn, m.RepliesOut, m.SendErrors, m.HandleSeconds, m.RedisErrors, m.OutboxRetries,
		m.SummariesPosted, m.AlertsPosted, m.Surveys,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Survey counts a survey event; it satisfies the engine's observer.
func (m *Metrics) Survey(flow, event string) { m.Surveys.WithLabelValues(flow, event).Inc() }

// Gauge registers a gauge read at scrape time (e.g. the outbox depth).
func (m *Metrics) Gauge(name, help string, f func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}
