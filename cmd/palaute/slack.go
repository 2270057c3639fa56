package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/palaute/palaute/bot/slack"
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
	postSummary = func(ctx context.Context, a *app, unit string, p period.Period, s *report.Summary) error {
		return a.enqueueSummary(ctx, store.NewOutbox(a.rdb, a.cfg.Redis.Prefix), unit, p, s)
	}
}

// channelOf is where a unit's (or "all") posts go.
func (a *app) channelOf(unit string) string {
	if u, ok := a.cfg.Unit(unit); ok && u.SlackChannel != "" {
		return u.SlackChannel
	}
	return a.cfg.Slack.AllChannel
}

func (a *app) summary(ctx context.Context, unit string, p period.Period) (*report.Summary, error) {
	return report.Build(ctx, store.NewCounters(a.rdb, a.cfg.Redis.Prefix), report.OptionsFrom(a.cfg, a.flows), unit, p)
}

// enqueueSummary puts a summary's messages (and its chart with the first) in the outbox, once per unit and period.
func (a *app) enqueueSummary(ctx context.Context, ob *store.Outbox, unit string, p period.Period, s *report.Summary) error {
	ch := a.channelOf(unit)
	if ch == "" {
		return nil // nowhere to post
	}
	lang := a.cfg.Summaries.Lang
	var chart bytes.Buffer
	if err := s.Chart(&chart, lang); err != nil {
		a.log.Warn("summary chart", "err", err.Error())
	}
	var errs []error
	for i, m := range s.Messages(lang) {
		blocks, err := json.Marshal(slackapi.Blocks{BlockSet: m.Blocks})
		if err != nil {
			return err
		}
		msg := store.Msg{Key: fmt.Sprintf("summary:%s:%s:%d", unit, p, i), Channel: ch, Text: m.Text, Blocks: blocks}
		if i == 0 && chart.Len() > 0 {
			msg.File, msg.FileName = chart.Bytes(), fmt.Sprintf("palaute-%s-%s.png", unit, p)
		}
		if err := ob.Enqueue(ctx, msg); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

type summaryEnqueuer struct {
	a  *app
	ob *store.Outbox
}

func (e summaryEnqueuer) EnqueueSummary(ctx context.Context, unit string, p period.Period) error {
	if unit == "all" && e.a.cfg.Slack.AllChannel == "" {
		return nil
	}
	s, err := e.a.summary(ctx, unit, p)
	if err != nil {
		return err
	}
	return e.a.enqueueSummary(ctx, e.ob, unit, p, s)
}

// slashBackend answers /palaute summary and invite.
type slashBackend struct{ a *app }

func (b slashBackend) SummaryText(ctx context.Context, unit, per, lang string) (string, error) {
	p := period.Of(period.Month, time.Now()).Prev()
	if per != "" {
		var err error
		if p, err = period.Parse(per); err != nil {
			return "", err
		}
	}
	if unit != report.All {
		if _, ok := b.a.cfg.Unit(unit); !ok {
			return "", fmt.Errorf("%w %q", report.ErrUnknownUnit, unit)
		}
	}
	s, err := b.a.summary(ctx, unit, p)
	if err != nil {
		return "", err
	}
	return s.Text(lang), nil
}

// InviteLinks makes n single-use invitations in one Redis round trip; they live store.DefaultTTL (30 days,
// as the answer says).
func (b slashBackend) InviteLinks(ctx context.Context, unit, audience string, n int) ([]string, error) {
	return b.a.invites.Links(ctx, inviteLinkPrefix(b.a.cfg), unit, flows.Audience(audience), n, 1, store.DefaultTTL)
}

// routerOutbox posts router messages through the outbox.
type routerOutbox struct{ ob *store.Outbox }

func (r routerOutbox) Post(ctx context.Context, p router.Post) error {
	err := r.ob.Enqueue(ctx, store.Msg{Key: p.Key, Channel: p.Channel, Text: p.Text, NotBefore: p.NotBefore})
	if errors.Is(err, store.ErrDuplicate) {
		return nil
	}
	return err
}

func wireSlack(ctx context.Context, w *wiring) error {
	a := w.app
	cfg := a.cfg
	ob := store.NewOutbox(a.rdb, cfg.Redis.Prefix)
	w.metrics.Gauge("palaute_outbox_depth", "Slack posts waiting in the outbox.", func() float64 {
		n, _ := ob.Depth(context.Background())
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
	slash := &slack.Slash{Channels: channels, Summaries: slashBackend{a}, Invites: slashBackend{a}, Lang: cfg.Summaries.Lang, Log: a.log,
		T: func(lang, id string, data map[string]any) string { return cat.T(lang, id, data) }}
	w.mux.Handle("POST /slack/commands", slack.Verify(cfg.Slack.SigningSecret, 64<<10, slash))

	if cfg.Slack.BotToken == "" {
		a.log.Info("Slack posting is off: SLACK_BOT_TOKEN is not set")
		return nil
	}
	opts := []slackapi.Option{}
	if cfg.Slack.APIURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(strings.TrimSuffix(cfg.Slack.APIURL, "/")+"/"))
	}
	api := slackapi.New(cfg.Slack.BotToken, opts...)
	host, _ := os.Hostname()
	token := store.Token(host, os.Getpid())
	sender := &slack.Sender{Outbox: ob, API: api, Consumer: token, Log: a.log, PerChannel: time.Second,
		OnRetry: w.metrics.OutboxRetries.Inc,
		OnPosted: func(key string) {
			switch {
			case strings.HasPrefix(key, "summary:"):
				w.metrics.SummariesPosted.Inc()
			default:
				w.metrics.AlertsPosted.WithLabelValues(strings.SplitN(key, ":", 2)[0]).Inc()
			}
		}}
	loc, _ := time.LoadLocation(cfg.Summaries.Timezone)
	rt := &router.Router{RDB: a.rdb, Prefix: cfg.Redis.Prefix, Units: cfg.Units, All: cfg.Slack.AllChannel, Lang: cfg.Summaries.Lang,
		Outbox: routerOutbox{ob}, Scrub: pii.New(cfg.Privacy.Names), Catalog: cat, Log: a.log, Consumer: token, Location: loc}
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
	units := make([]string, len(cfg.Units))
	for i, u := range cfg.Units {
		units[i] = u.ID
	}
	sched := &schedule.Scheduler{Lock: store.NewLock(a.rdb, cfg.Redis.Prefix, "scheduler", token), Enqueue: summaryEnqueuer{a, ob},
		Units: units, Kinds: kinds, Location: loc, Log: a.log, Now: time.Now, Window: 3 * 24 * time.Hour, Extra: rt.Tick}
	w.components = append(w.components,
		component{"slack sender", func(ctx context.Context) error { return sender.Run(ctx, time.Second) }},
		component{"scheduler", func(ctx context.Context) error { return sched.Run(ctx, 20*time.Second) }},
	)
	return nil
}
