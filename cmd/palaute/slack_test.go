package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/palaute/palaute/bot/slack"
	"github.com/palaute/palaute/bot/slack/fakeslack"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/schedule"
	"github.com/palaute/palaute/store"
)

// Two replicas' schedulers tick at the same time, again and again, with the real summary enqueuer;
// a sender drains the outbox into a fake Slack: every due summary (each unit, and all units) is posted
// exactly once, in Block Kit with its plain-text fallback, with its chart uploaded once through the
// file upload API into the channel's id; and nothing is posted again later.
func TestScheduledSummariesPostedOnceWithCharts(t *testing.T) {
	srv := redistest.Start(t)
	seedW47(t, testenv.New(t, srv.Client(t)), "kotipesa", "10")
	ctx := context.Background()
	a, err := build(ctx, "../../config.yaml", env(map[string]string{"REDIS_URL": "redis://" + srv.Addr,
		"PALAUTE_PSEUDONYM_SECRET": "0123456789abcdef0123"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	a.cfg.Slack.AllChannel = "#johto"
	a.cfg.Summaries.Lang = "fi"
	ob := store.NewOutbox(a.rdb, a.cfg.Redis.Prefix)
	hel, _ := time.LoadLocation("Europe/Helsinki")
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, hel) // Monday after 2026-W47
	mk := func(token string) *schedule.Scheduler {
		return &schedule.Scheduler{Lock: store.NewLock(a.rdb, a.cfg.Redis.Prefix, "scheduler", token), Enqueue: summaryEnqueuer{a, ob},
			Units: []string{"kotipesa", "satama"}, Kinds: []period.Kind{period.Week, period.Month, period.Half}, Location: hel,
			Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }, Window: 3 * 24 * time.Hour}
	}
	var wg sync.WaitGroup
	for _, s := range []*schedule.Scheduler{mk("a"), mk("b")} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if _, err := s.Tick(ctx); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()

	f := fakeslack.New(t)
	sender := &slack.Sender{Outbox: ob, API: f.API(), Consumer: "a", Log: slog.New(slog.DiscardHandler)}
	drain := func() {
		for range 5 {
			if _, err := sender.Once(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	drain()
	posts, files, _ := f.Snapshot()
	want := map[string]string{ // channel -> the title of its summary of week 47
		"#palaute-kotipesa": "Nuorisokoti Kotipesä: palautteen yhteenveto, viikko 47/2026",
		"#palaute-satama":   "Perhekoti Satama: palautteen yhteenveto, viikko 47/2026",
		"#johto":            "Palautteen yhteenveto, viikko 47/2026",
	}
	if len(posts) != len(want) || len(files) != len(want) {
		t.Fatalf("%d posts and %d charts, want %d of each: %v", len(posts), len(files), len(want), posts)
	}
	for _, p := range posts {
		ch := p.Get("channel")
		// The text is the plain-text fallback: the title first, then the figures (escaped for Slack).
		if !strings.HasPrefix(p.Get("text"), want[ch]+"\n") || !strings.Contains(p.Get("text"), "(n &lt; 5)") ||
			!strings.Contains(p.Get("blocks"), `"type":"header"`) {
			t.Errorf("%s got %q, blocks %.80s", ch, p.Get("text"), p.Get("blocks"))
		}
		delete(want, ch)
	}
	if len(want) != 0 {
		t.Errorf("no summary in %v", want)
	}
	seen := map[string]bool{}
	for _, up := range files {
		if _, err := png.Decode(bytes.NewReader(up.Bytes)); err != nil || seen[up.Channel] || !strings.HasPrefix(up.Channel, "C") ||
			!strings.HasPrefix(up.Title, "Kaavio: ") {
			t.Errorf("chart %q in %s (%d bytes, decode %v)", up.Title, up.Channel, len(up.Bytes), err)
		}
		seen[up.Channel] = true
	}
	// Later ticks and sends post nothing again; the CLI's -post says so instead of posting twice.
	for _, s := range []*schedule.Scheduler{mk("a"), mk("b")} {
		s.Tick(ctx)
	}
	drain()
	if p, fl, _ := f.Snapshot(); len(p) != len(posts) || len(fl) != len(files) {
		t.Fatalf("posted again: %d posts, %d charts", len(p), len(fl))
	}
	s, err := a.summary(ctx, "kotipesa", period.Period{Kind: period.Week, Year: 2026, N: 47})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.enqueueSummary(ctx, ob, a.channelOf("kotipesa"), "kotipesa", period.Period{Kind: period.Week, Year: 2026, N: 47}, s); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("enqueued a posted summary again: %v", err)
	}
}

// A summary on its way through a Slack response_url when serve is told to stop still arrives whole
// before serve returns (within shutdown_timeout).
func TestShutdownWaitsForSlashSummaries(t *testing.T) {
	// An organisation-wide channel and enough units that the all-units summary takes several messages:
	// the first is the command's answer, the rest go through the response_url.
	base, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var units strings.Builder
	for i := range 30 {
		fmt.Fprintf(&units, "  - id: yksikko%02d\n    code: yksikko%02d\n    names: {fi: Yksikkö %02d}\n    slack_channel: \"#y%02d\"\n", i, i, i, i)
	}
	cfg := strings.Replace(strings.Replace(string(base), "all_channel: \"\"", "all_channel: \"#johto\"", 1), "units:\n", "units:\n"+units.String(), 1)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const secret = "slack-signing-secret"
	srv := redistest.Start(t)
	_, addr, stop := mustServeConfig(t, path, redisEnv(srv, "PALAUTE_HTTP_LISTEN", "127.0.0.1:0", "SLACK_SIGNING_SECRET", secret))

	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond) // Slack is slow to take it
		var m slackapi.WebhookMessage
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		got = append(got, m.Text)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	// A month that has surely ended: a running period's summary is refused.
	now := time.Now()
	month := time.Date(now.Year(), now.Month()-2, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
	resp, err := postSlash(addr, secret, "johto", "CJOHTO", "summary "+month, hook.URL+"/actions/T1/1/x")
	if err != nil {
		t.Fatal(err)
	}
	var ans struct{ Text string }
	json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if !strings.Contains(ans.Text, "Yksikkö 00") {
		t.Fatalf("answer %q", ans.Text)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	mu.Lock()
	n := len(got)
	mu.Unlock()
	if n < 1 {
		t.Fatalf("serve returned before the rest of the summary went out (%d follow-ups)", n)
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Fatalf("follow-ups went on after serve returned: %d, then %d", n, len(got))
	}
}
