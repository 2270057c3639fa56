package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/palaute/palaute/bot/slack"
	"github.com/palaute/palaute/coding"
	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/report"
	"github.com/palaute/palaute/report/pii"
	"github.com/palaute/palaute/router"
	"github.com/palaute/palaute/schedule"
	"github.com/palaute/palaute/store"
)

func init() {
	wirers = append(wirers, wireSlack)
	postSummary = func(ctx context.Context, a *app, unit string, p period.Period, s *report.Summary) (string, error) {
		ch := a.channelOf(unit)
		if ch == "" {
			if unit == report.All {
				return "", errors.New("-post: set slack.all_channel for the all-units summary")
			}
			return "", fmt.Errorf("-post: unit %q has no slack_channel", unit)
		}
		err := a.enqueueSummary(ctx, store.NewOutbox(a.rdb, a.cfg.Redis.Prefix), ch, unit, p, s)
		if errors.Is(err, store.ErrDuplicate) {
			return "", fmt.Errorf("-post: the summary of %s for %s is queued or posted to %s already (each summary is posted once)", unit, p, ch)
		}
		return ch, err
	}
}

// channelOf is where a unit's (or "all") summaries go: the unit's own channel, the organisation-wide
// channel for "all"; "" for a unit without a channel (its figures are in the all-units summary).
func (a *app) channelOf(unit string) string {
	if unit == report.All {
		return a.cfg.Slack.AllChannel
	}
	if u, ok := a.cfg.Unit(unit); ok {
		return u.SlackChannel
	}
	return ""
}

func (a *app) summary(ctx context.Context, unit string, p period.Period) (*report.Summary, error) {
	return report.Build(ctx, store.NewCounters(a.rdb, a.cfg.Redis.Prefix), a.reportOptions(), unit, p)
}

var _ report.TopicNamer = (*coding.Coder)(nil)

// reportOptions are the summaries' options from the configuration, with the coder's topic names.
func (a *app) reportOptions() report.Options {
	o := report.OptionsFrom(a.cfg, a.flows)
	if tn, ok := a.opts.Coder.(report.TopicNamer); ok {
		o.Topics = tn
	}
	return o
}

// summaryKey is the idempotency key of a summary: unit + period (the period names its kind: 2026-W47,
// 2026-11, 2026-H2).
func summaryKey(unit string, p period.Period) string { return "summary:" + unit + ":" + p.String() }

// enqueueSummary puts a summary's messages and then its chart in the outbox for channel ch (the unit's,
// channelOf), all at once and once per unit and period (store.ErrDuplicate when it was enqueued before).
func (a *app) enqueueSummary(ctx context.Context, ob *store.Outbox, ch, unit string, p period.Period, s *report.Summary) error {
	lang := a.cfg.Summaries.Lang
	key := summaryKey(unit, p)
	var msgs []store.Msg
	ms := s.Messages(lang)
	for i, m := range ms {
		blocks, err := json.Marshal(slackapi.Blocks{BlockSet: m.Blocks})
		if err != nil {
			return fmt.Errorf("summary %s: %w", key, err)
		}
		msgs = append(msgs, store.Msg{Key: fmt.Sprintf("%s:%d", key, i), Channel: ch, Text: m.Text, Blocks: blocks})
	}
	var chart bytes.Buffer
	if err := s.Chart(&chart, lang); err != nil {
		a.log.Warn("summary chart", "key", key, "err", err.Error())
	} else if len(msgs) > 0 {
		// The chart goes with the first message: the sender uploads it into the channel id Slack answers with.
		msgs[0].File, msgs[0].FileName, msgs[0].FileTitle = chart.Bytes(), fmt.Sprintf("palaute-%s-%s.png", unit, p), s.ChartTitle(lang)
	}
	return ob.EnqueueBatch(ctx, key, msgs...)
}

type summaryEnqueuer struct {
	a  *app
	ob *store.Outbox
}

// EnqueueSummary builds and enqueues a summary unless it was enqueued before (the scheduler asks at
// every tick while the period is due: a summary is built once, not every 20 seconds).
func (e summaryEnqueuer) EnqueueSummary(ctx context.Context, unit string, p period.Period) error {
	ch := e.a.channelOf(unit)
	if ch == "" {
		return nil // nowhere to post
	}
	if done, err := e.ob.Enqueued(ctx, summaryKey(unit, p)); err != nil || done {
		return err
	}
	s, err := e.a.summary(ctx, unit, p)
	if err != nil {
		return err
	}
	return e.a.enqueueSummary(ctx, e.ob, ch, unit, p, s)
}

// slashBackend answers /palaute summary and invite.
type slashBackend struct{ a *app }

func (b slashBackend) Summary(ctx context.Context, unit string, p period.Period, lang string) ([]report.Message, error) {
	s, err := b.a.summary(ctx, unit, p)
	if err != nil {
		return nil, err
	}
	return s.Messages(lang), nil
}

// InviteLinks makes n single-use invitations in one Redis round trip; they live store.DefaultTTL (30 days,
// as the answer says).
func (b slashBackend) InviteLinks(ctx context.Context, unit, audience string, n int) ([]string, error) {
	return b.a.invites.Links(ctx, inviteLinkPrefix(b.a.cfg), unit, flows.Audience(audience), n, 1, store.DefaultTTL)
}

// warnMissingChannels logs once, at start, where feedback has no Slack channel of its own: units without
// units[].slack_channel (theirs goes to slack.all_channel) and an empty slack.all_channel (then that
// feedback, and the crisis alerts of people who chose no unit, wait in Redis: palaute_feedback_waiting_*).
func warnMissingChannels(log *slog.Logger, cfg config.Config) {
	var missing []string
	for _, u := range cfg.Units {
		if u.SlackChannel == "" {
			missing = append(missing, u.ID)
		}
	}
	switch {
	case cfg.Slack.AllChannel == "":
		log.Warn("slack.all_channel is empty: crisis alerts of people who chose no unit, and all feedback of units without units[].slack_channel, "+
			"wait in Redis (palaute_feedback_waiting_*) until it is set and palaute restarted",
			slog.String("units_without_channel", strings.Join(missing, ",")))
	case len(missing) > 0:
		log.Warn("units without units[].slack_channel: their alerts and feedback go to slack.all_channel",
			slog.String("units_without_channel", strings.Join(missing, ",")), slog.String("all_channel", cfg.Slack.AllChannel))
	}
}

// scrapeWait is how long /metrics waits for Redis (Prometheus's scrape timeout is 10 s by default).
const scrapeWait = time.Second

func wireSlack(ctx context.Context, w *wiring) error {
	a := w.app
	cfg := a.cfg
	ob := store.NewOutbox(a.rdb, cfg.Redis.Prefix)
	w.metrics.Gauge("palaute_outbox_depth", "Slack posts waiting in the outbox (NaN: Redis did not say).", func() float64 {
		// A scrape must answer when Redis does not, or every metric goes missing just when it matters.
		ctx, cancel := context.WithTimeout(context.Background(), scrapeWait)
		defer cancel()
		n, err := ob.Depth(ctx)
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	})
	cat := locales.Must()
	channels := map[string]string{}
	for _, u := range cfg.Units {
		if u.SlackChannel != "" {
			channels[strings.TrimPrefix(u.SlackChannel, "#")] = u.ID
		}
	}
	if cfg.Slack.AllChannel != "" {
		channels[strings.TrimPrefix(cfg.Slack.AllChannel, "#")] = report.All
	}
	units := make([]string, len(cfg.Units))
	for i, u := range cfg.Units {
		units[i] = u.ID
	}
	slash := &slack.Slash{Channels: channels, Units: units, Summaries: slashBackend{a}, Invites: slashBackend{a}, Lang: cfg.Summaries.Lang, Log: a.log,
		MinResponses: cfg.Anonymity.MinResponses, MinComments: cfg.Anonymity.MinComments,
		T: func(lang, id string, data map[string]any) string { return cat.T(lang, id, data) }}
	// Counted after the signature check: only real commands from Slack are messages in.
	counted := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.metrics.MessagesIn.WithLabelValues("slack", "command").Inc()
		slash.ServeHTTP(rw, r)
	})
	w.mux.Handle("POST /slack/commands", slack.Verify(cfg.Slack.SigningSecret, 64<<10, store.NewReplays(a.rdb, cfg.Redis.Prefix), a.log, counted))
	w.drain = append(w.drain, slash.Wait)

	if cfg.Slack.BotToken == "" {
		off(a, "Slack posting is off: SLACK_BOT_TOKEN is not set, so summaries and feedback alerts, crisis alerts included, wait in Redis and nobody is told")
		return nil
	}
	warnMissingChannels(a.log, cfg)
	opts := []slackapi.Option{slackapi.OptionHTTPClient(&http.Client{Timeout: cfg.Slack.Timeout.D()})}
	if cfg.Slack.APIURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(strings.TrimSuffix(cfg.Slack.APIURL, "/")+"/"))
	}
	api := slackapi.New(cfg.Slack.BotToken, opts...)
	token := replicaToken()
	sender := &slack.Sender{Outbox: ob, API: api, Consumer: token, Log: a.log, PerChannel: time.Second,
		OnRetry: w.metrics.OutboxRetries.Inc,
		OnPosted: func(key string) {
			switch {
			case strings.HasPrefix(key, "summary:"):
				w.metrics.SummariesPosted.Inc()
			default:
				w.metrics.AlertsPosted.WithLabelValues(router.PostKind(key)).Inc()
			}
		}}
	loc, _ := time.LoadLocation(cfg.Summaries.Timezone)
	rt := &router.Router{RDB: a.rdb, Prefix: cfg.Redis.Prefix, Units: cfg.Units, All: cfg.Slack.AllChannel, Safeguarding: cfg.Slack.SafeguardingChannel, Lang: cfg.Summaries.Lang,
		Outbox: router.StoreOutbox{Outbox: ob}, Scrub: pii.New(cfg.Privacy.Names), Catalog: cat, Log: a.log, Consumer: token, Location: loc,
		Routing: cfg.Routing, Help: cfg.Help.Contacts}
	for _, kind := range []string{router.KindUrgent, router.KindBatch, router.KindDigest} {
		w.metrics.Gauge("palaute_feedback_waiting_"+kind, "Feedback entries ("+kind+") kept because their unit has no Slack channel (units[].slack_channel, slack.all_channel).",
			func() float64 { return float64(rt.Waiting(kind)) })
	}
	var kinds []period.Kind
	if cfg.Summaries.Weekly {
		kinds = append(kinds, period.Week)
	}
	if cfg.Summaries.Monthly {
		kinds = append(kinds, period.Month)
	}
	if cfg.Summaries.HalfYear {
		kinds = append(kinds, period.Half)
	}
	sched := &schedule.Scheduler{Lock: store.NewLock(a.rdb, cfg.Redis.Prefix, "scheduler", token), Enqueue: summaryEnqueuer{a, ob},
		Units: units, Kinds: kinds, Location: loc, Log: a.log, Now: clock, Window: 3 * 24 * time.Hour, Extra: rt.Tick}
	w.components = append(w.components,
		component{"slack sender", func(ctx context.Context) error { return sender.Run(ctx, time.Second) }},
		component{"scheduler", func(ctx context.Context) error { return sched.Run(ctx, 20*time.Second) }},
	)
	return nil
}
