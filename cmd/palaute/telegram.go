package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/palaute/palaute/bot/telegram"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/metrics"
)

func init() {
	wirers = append(wirers, wireTelegram)
	telegramWebhook = func(ctx context.Context, a *app, apiURL, secret string) (http.Handler, func(), error) {
		o := a.telegramOptions(nil)
		o.APIURL, o.Secret = apiURL, secret
		o.PerChatRate, o.GlobalRate = 1000, 1_000_000 // the load tool measures palaute, not Telegram's limits
		o.RDB = a.limiterRDB
		ad, err := telegram.New(o)
		if err != nil {
			return nil, nil, err
		}
		return ad.WebhookHandler(), ad.Close, nil
	}
}

// tgMetrics counts what the Telegram adapter does.
type tgMetrics struct{ m *metrics.Metrics }

func (t tgMetrics) In(kind string)          { t.m.MessagesIn.WithLabelValues("telegram", kind).Inc() }
func (t tgMetrics) Out()                    { t.m.RepliesOut.WithLabelValues("telegram").Inc() }
func (t tgMetrics) SendError(reason string) { t.m.SendErrors.WithLabelValues("telegram", reason).Inc() }
func (t tgMetrics) Handled(d time.Duration) {
	t.m.HandleSeconds.WithLabelValues("telegram").Observe(d.Seconds())
}

func (a *app) telegramOptions(m *metrics.Metrics) telegram.Options {
	o := telegram.Options{
		Token: a.cfg.Telegram.Token, APIURL: a.cfg.Telegram.APIURL, Secret: a.cfg.Telegram.SecretToken,
		MaxBodyBytes: a.cfg.Telegram.MaxBodyBytes, Engine: a.engine, Catalog: locales.Must(),
		RDB: a.rdb, Prefix: a.cfg.Redis.Prefix, PerChatRate: a.cfg.Telegram.PerChatRate, GlobalRate: a.cfg.Telegram.GlobalRate,
		Hash: func(chat string) string { return a.engine.PID("chat", chat) }, Log: a.log,
	}
	if m != nil {
		o.Metrics = tgMetrics{m}
	}
	return o
}

func wireTelegram(ctx context.Context, w *wiring) error {
	a := w.app
	if a.cfg.Telegram.Token == "" {
		a.log.Info("Telegram is off: TELEGRAM_TOKEN is not set")
		return nil
	}
	ad, err := telegram.New(a.telegramOptions(w.metrics))
	if err != nil {
		return err
	}
	if err := ad.RegisterCommands(ctx); err != nil {
		a.log.Warn("could not register bot commands", slog.String("err", err.Error()))
	}
	if a.cfg.Telegram.Mode == "webhook" {
		w.mux.Handle("POST "+a.cfg.Telegram.WebhookPath, ad.WebhookHandler())
		if err := ad.SetWebhook(ctx, a.cfg.Telegram.WebhookURL); err != nil {
			a.log.Warn("could not set the webhook; Telegram will not send updates until it is set", slog.String("err", err.Error()))
		}
		w.components = append(w.components, component{"telegram webhook", func(ctx context.Context) error {
			<-ctx.Done()
			ad.Close() // after the HTTP server stopped taking requests, finish the ones in hand
			return nil
		}})
		return nil
	}
	w.components = append(w.components, component{"telegram polling", ad.Run})
	return nil
}
