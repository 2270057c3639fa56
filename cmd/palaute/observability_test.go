package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/palaute/palaute/internal/redistest"
)

// After a small load, /metrics shows what happened: messages in by channel and kind, replies out, the
// handle latency histogram, Redis round trips and errors, the outbox, surveys started, completed and
// abandoned per flow. The JSON log of the whole run (at debug level) holds no answer text, chat id,
// username or name.
func TestMetricsMoveAndLogsKeepNoIdentity(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	p := startServe(t, procOpts{redisURL: srv.URL()})
	d := newDriver(p.fake, p.hook)
	d.Profile = func(uid int64) (string, string) {
		return "salainen_nimimerkki_" + strconv.FormatInt(uid%1000, 10), "Salaisenniminen" + strconv.FormatInt(uid%1000, 10)
	}
	ctx := context.Background()
	uids := people(7_412_345_678_000, 4) // chat ids long enough to be found anywhere
	secrets := []string{}
	for _, uid := range uids {
		u, f := d.Profile(uid)
		secrets = append(secrets, strconv.FormatInt(uid, 10), u, f, scaleAnswer(uid).text)
		a := scaleAnswer(uid)
		a.text = "SALAINENVASTAUS " + strconv.FormatInt(uid%1000, 10)
		secrets = append(secrets, a.text)
		if err := d.Survey(ctx, uid, "fi", "kotipesa", a); err != nil {
			t.Fatal(err)
		}
	}
	// Spontaneous feedback after the survey (its reply refused by the Bot API, so that the send failure is
	// logged), an abandoned survey, an edited message.
	p.fake.Fail(1)
	if _, err := d.Send(ctx, uids[0], "fi", "SALAINENPALAUTE ruoka oli kylmää"); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, "SALAINENPALAUTE")
	quitter := int64(7_412_345_679_999)
	secrets = append(secrets, strconv.FormatInt(quitter, 10))
	for _, text := range []string{"/start u-kotipesa", "/stop"} {
		if _, err := d.Send(ctx, quitter, "sv", text); err != nil {
			t.Fatal(err)
		}
	}
	edited, _ := json.Marshal(map[string]any{"update_id": 99_000_001, "edited_message": map[string]any{"message_id": 5, "date": 1,
		"from": map[string]any{"id": quitter, "is_bot": false, "first_name": "Muokkaaja", "username": "salainen_muokkaaja"},
		"chat": map[string]any{"id": quitter, "type": "private"}, "text": "SALAINENMUOKKAUS"}})
	secrets = append(secrets, "Muokkaaja", "salainen_muokkaaja", "SALAINENMUOKKAUS")
	if err := d.post(ctx, 0, edited); err != nil {
		t.Fatal(err)
	}

	texts := 4*2 + 1 + 2 // /start and the free text of each survey, the feedback, the quitter's two
	choices := 4 * 6     // six buttons in each survey
	for _, c := range []struct {
		name   string
		labels []string
		want   func(float64) bool
		says   string
	}{
		{"palaute_messages_in_total", []string{`channel="telegram"`, `kind="text"`}, eq(texts), "text messages in"},
		{"palaute_messages_in_total", []string{`channel="telegram"`, `kind="choice"`}, eq(choices), "button presses in"},
		{"palaute_messages_in_total", []string{`channel="telegram"`, `kind="edited"`}, eq(1), "edited messages in"},
		{"palaute_handle_seconds_count", []string{`channel="telegram"`}, eq(texts + choices + 1), "handled inputs in the latency histogram"},
		{"palaute_handle_seconds_bucket", []string{`channel="telegram"`, `le="+Inf"`}, eq(texts + choices + 1), "the histogram's +Inf bucket"},
		{"palaute_replies_out_total", []string{`channel="telegram"`}, gt(texts + choices), "replies out"},
		{"palaute_surveys_total", []string{`flow="nuoret"`, `event="started"`}, eq(5), "surveys started"},
		{"palaute_surveys_total", []string{`flow="nuoret"`, `event="completed"`}, eq(4), "surveys completed"},
		{"palaute_surveys_total", []string{`flow="nuoret"`, `event="abandoned"`}, eq(1), "surveys abandoned"},
		{"palaute_redis_round_trips_total", []string{`client="store"`}, gt(texts + choices), "Redis round trips of the message path"},
		// Each person's first message loads from Redis, and so does the edited message, which writes nothing;
		// the rest of each conversation is remembered (on a single Redis a publication checks the session
		// itself).
		{"palaute_session_cache_loads_total", []string{`result="miss"`}, eq(5 + 1), "session loads from Redis"},
		{"palaute_session_cache_loads_total", []string{`result="hit"`}, eq(texts + choices + 1 - 5), "session loads from the cache"},
		{"palaute_redis_round_trips_total", []string{`client="ratelimit"`}, gt(0), "Redis round trips of the rate limits"},
		{"palaute_redis_errors_total", []string{`client="store"`}, eq(0), "Redis errors"},
		{"palaute_outbox_depth", nil, eq(0), "outbox depth"},
		{"palaute_outbox_retries_total", nil, eq(0), "outbox retries"},
		{"palaute_summaries_posted_total", nil, eq(0), "summaries posted"},
		{"palaute_crisis_alerts_missed_total", []string{`class="suicide"`}, eq(0), "missed crisis alerts, at 0 from the start"},
	} {
		if v := p.metric(t, c.name, c.labels...); !c.want(v) {
			t.Errorf("%s %v = %v: %s is wrong", c.name, c.labels, v, c.says)
		}
	}
	body := scrape(t, p.Addr)
	for _, name := range []string{"palaute_outbox_depth", "palaute_outbox_retries_total", "palaute_summaries_posted_total",
		"palaute_alerts_posted_total", "palaute_redis_errors_total", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(body, "# TYPE "+name+" ") {
			t.Errorf("/metrics has no %s", name)
		}
	}

	// Stop it, so the whole log is written, then look through it.
	if st, err := p.Stop(); err != nil || !st.Success() {
		t.Fatalf("stop: %v %v", st, err)
	}
	logs := p.Out.String()
	if !strings.Contains(logs, `"msg":"telegram send failed"`) {
		t.Fatalf("the refused send was not logged:\n%s", logs)
	}
	if strings.Contains(logs, "webhook_url's path") {
		t.Errorf("a warning about the webhook's path, which matches:\n%s", tail(logs, 20))
	}
	// Slack is not set up: with a real Redis that is a warning, since nobody sees the alerts.
	if !strings.Contains(logs, `"level":"WARN","msg":"Slack posting is off: SLACK_BOT_TOKEN is not set, so summaries and feedback alerts, crisis alerts included, wait in Redis`) {
		t.Errorf("no warning that Slack posting is off:\n%s", tail(logs, 20))
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds %q:\n%s", s, tail(logs, 20))
		}
	}
}

// A webhook URL whose path is not the one served works only behind a proxy that rewrites it: serve says so
// at start, without logging either path.
func TestWebhookPathMismatchWarns(t *testing.T) {
	t.Parallel()
	p := startServe(t, procOpts{redisURL: redistest.Start(t).URL(), set: map[string]any{"telegram.webhook_url": "https://palaute.invalid/s3cr3t/tg"}})
	if st, err := p.Stop(); err != nil || !st.Success() {
		t.Fatalf("stop: %v %v", st, err)
	}
	logs := p.Out.String()
	if !strings.Contains(logs, `"level":"WARN","msg":"telegram.webhook_url's path is not telegram.webhook_path`) || strings.Contains(logs, "s3cr3t") {
		t.Errorf("want one warning, naming no path:\n%s", tail(logs, 20))
	}
}

func eq(n int) func(float64) bool { return func(v float64) bool { return v == float64(n) } }
func gt(n int) func(float64) bool { return func(v float64) bool { return v > float64(n) } }

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := httpGet("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
