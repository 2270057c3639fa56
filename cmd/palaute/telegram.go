package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/palaute/palaute/bot/telegram"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/metrics"
)

func init() { wirers = append(wirers, wireTelegram) }

// tgMetrics counts what the Telegram adapter does.
type tgMetrics struct{ m *metrics.Metrics }

func (t tgMetrics) In(kind string)          { t.m.MessagesIn.WithLabelValues("telegram", kind).Inc() }
func (t tgMetrics) Out()                    { t.m.RepliesOut.WithLabelValues("telegram").Inc() }
func (t tgMetrics) SendError(reason string) { t.m.SendErrors.WithLabelValues("telegram", reason).Inc() }
func (t tgMetrics) Handled(d time.Duration) {
	t.m.HandleSeconds.WithLabelValues("telegram").Observe(d.Seconds())
}

// telegramHTTPClient keeps a connection open per adapter worker (the default transport keeps only 2 idle
// connections per host, so 64 workers sending at once would dial and TLS-handshake Telegram again and
// again), and sends each request body in one piece.
func telegramHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 128, 64
	return &http.Client{Transport: wholeBody{t}, Timeout: 60 * time.Second} // above the 50 s long poll
}

// wholeBody reads a request body before sending it. The Telegram library (polling, setWebhook,
// setMyCommands; the message path has its own JSON client) streams its multipart form through a pipe,
// which net/http sends chunked, a write (a syscall, a TLS record) per form field; our bodies are a few KiB
// at most, so one write with a Content-Length is much cheaper.
type wholeBody struct{ next http.RoundTripper }

var _ http.RoundTripper = wholeBody{}

// maxWholeBody is the largest body read into memory; a larger one (no message is) is streamed as it was.
const maxWholeBody = 1 << 20

func (w wholeBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength > 0 {
		return w.next.RoundTrip(r)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r.Body, maxWholeBody+1))
	if err != nil {
		r.Body.Close()
		return nil, err
	}
	r2 := r.Clone(r.Context())
	if n > maxWholeBody {
		r2.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(&buf, r.Body), r.Body}
		return w.next.RoundTrip(r2)
	}
	r.Body.Close()
	b := buf.Bytes()
	r2.ContentLength = int64(len(b))
	r2.Body = io.NopCloser(bytes.NewReader(b))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return w.next.RoundTrip(r2)
}

func (a *app) telegramOptions(m *metrics.Metrics) telegram.Options {
	o := telegram.Options{
		Token: a.cfg.Telegram.Token, APIURL: a.cfg.Telegram.APIURL, Secret: a.cfg.Telegram.SecretToken,
		MaxBodyBytes: a.cfg.Telegram.MaxBodyBytes, Engine: a.engine, Catalog: locales.Must(),
		RDB: a.limiterRDB, Prefix: a.cfg.Redis.Prefix, PerChatRate: a.cfg.Telegram.PerChatRate, GlobalRate: a.cfg.Telegram.GlobalRate,
		Hash: func(chat string) string { return a.engine.PID("chat", chat) }, Log: a.log,
		HTTPClient: telegramHTTPClient(),
	}
	if m != nil {
		o.Metrics = tgMetrics{m}
	}
	return o
}

func wireTelegram(ctx context.Context, w *wiring) error {
	a := w.app
	if a.cfg.Telegram.Token == "" {
		off(a, "Telegram is off: TELEGRAM_TOKEN is not set, so nobody can answer or write feedback")
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
		if u, err := url.Parse(a.cfg.Telegram.WebhookURL); err == nil && u.Path != a.cfg.Telegram.WebhookPath {
			// The paths are not logged: an operator may have made one secret.
			a.log.Warn("telegram.webhook_url's path is not telegram.webhook_path: updates reach palaute only if a proxy rewrites the path")
		}
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

// off logs that a part is switched off: a warning with a real Redis (in production that is a mistake that
// /readyz does not show), information with the embedded one (a try-out).
func off(a *app, msg string) {
	if a.cfg.Redis.URL != "" {
		a.log.Warn(msg)
		return
	}
	a.log.Info(msg)
}
