package slack_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"github.com/palaute/palaute/bot/slack"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/store"
)

// fakeSlack is slacktest with our own chat.postMessage: it records posts and can refuse with 429 or 500.
type fakeSlack struct {
	mu     sync.Mutex
	posts  []url.Values
	refuse []int // statuses to answer before succeeding
	srv    *slacktest.Server
	tries  int
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			f.mu.Lock()
			defer f.mu.Unlock()
			f.tries++
			if len(f.refuse) > 0 {
				code := f.refuse[0]
				f.refuse = f.refuse[1:]
				if code == http.StatusTooManyRequests {
					w.Header().Set("Retry-After", "3")
				}
				w.WriteHeader(code)
				return
			}
			f.posts = append(f.posts, r.Form)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"%d.000100"}`, r.Form.Get("channel"), len(f.posts))
		})
	})
	f.srv.Start()
	t.Cleanup(f.srv.Stop)
	return f
}

func (f *fakeSlack) api() *slackapi.Client {
	return slackapi.New("xoxb-test", slackapi.OptionAPIURL(f.srv.GetAPIURL()))
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func outbox(t *testing.T) (*store.Outbox, redis.UniversalClient) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { rdb.Close() })
	return store.NewOutbox(rdb, "pl:"), rdb
}

func sender(ob *store.Outbox, f *fakeSlack, clk *clock, consumer string) *slack.Sender {
	return &slack.Sender{Outbox: ob, API: f.api(), Consumer: consumer, Log: slog.New(slog.DiscardHandler), Now: clk.Now,
		Backoff: func(int) time.Duration { return 5 * time.Second }, MinIdle: time.Minute}
}

func TestRetryAfter429And500PostsExactlyOnce(t *testing.T) {
	for _, b := range redistest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFakeSlack(t)
			f.refuse = []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusInternalServerError}
			ob := store.NewOutbox(b.New(t), "pl:")
			clk := &clock{t: time.Now()}
			s := sender(ob, f, clk, "a")
			ctx := context.Background()
			if err := ob.Enqueue(ctx, store.Msg{Key: "summary:kotipesa:2026-W47:0", Channel: "#kotipesa", Text: "Yhteenveto"}); err != nil {
				t.Fatal(err)
			}
			if err := ob.Enqueue(ctx, store.Msg{Key: "summary:kotipesa:2026-W47:0", Channel: "#kotipesa", Text: "again"}); !errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("second enqueue of one key: %v", err)
			}
			for i := 0; i < 10; i++ {
				s.Once(ctx)
				clk.Add(4 * time.Second) // past Retry-After 3 s and the 5 s backoff within two rounds
				s.Once(ctx)
				clk.Add(2 * time.Second)
			}
			if len(f.posts) != 1 || f.tries != 4 || f.posts[0].Get("text") != "Yhteenveto" {
				t.Fatalf("posts %d after %d tries: %v", len(f.posts), f.tries, f.posts)
			}
			if d, _ := ob.Depth(ctx); d != 0 {
				t.Fatalf("outbox depth %d after posting", d)
			}
		})
	}
}

func TestDelayedPostWaitsForItsHour(t *testing.T) {
	f := newFakeSlack(t)
	ob, _ := outbox(t)
	clk := &clock{t: time.Date(2026, 11, 18, 10, 20, 0, 0, time.UTC)}
	s := sender(ob, f, clk, "a")
	ctx := context.Background()
	ob.Enqueue(ctx, store.Msg{Key: "corrective:x", Channel: "#kotipesa", Text: "batch", NotBefore: time.Date(2026, 11, 18, 11, 0, 0, 0, time.UTC)})
	s.Once(ctx)
	if len(f.posts) != 0 {
		t.Fatal("posted before its hour")
	}
	clk.Add(40 * time.Minute)
	s.Once(ctx)
	if len(f.posts) != 1 {
		t.Fatalf("not posted at its hour: %d", len(f.posts))
	}
}

func TestDeadSendersPostIsReclaimedOnce(t *testing.T) {
	f := newFakeSlack(t)
	ob, _ := outbox(t)
	clk := &clock{t: time.Now()}
	ctx := context.Background()
	ob.Enqueue(ctx, store.Msg{Key: "urgent:1", Channel: "#kotipesa", Text: "hälytys"})
	if es, err := ob.Claim(ctx, "dead-replica", 10, time.Minute, clk.Now()); err != nil || len(es) != 1 {
		t.Fatalf("claim: %v %v", es, err)
	} // ... and the replica dies holding it
	s := sender(ob, f, clk, "alive")
	s.MinIdle = time.Millisecond
	time.Sleep(5 * time.Millisecond)
	s.Once(ctx)
	s.Once(ctx)
	if len(f.posts) != 1 {
		t.Fatalf("reclaimed post posted %d times", len(f.posts))
	}
}

func sign(secret string, ts int64, body string) http.Header {
	h := http.Header{}
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:%s", ts, body)
	h.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return h
}

type stubBackend struct{ invited []string }

func (s *stubBackend) SummaryText(ctx context.Context, unit, per, lang string) (string, error) {
	if per != "" && per != "2026-11" {
		return "", errors.New(`bad period "` + per + `"`)
	}
	return "YHTEENVETO " + unit, nil
}

func (s *stubBackend) InviteLinks(ctx context.Context, unit, aud string, n int) ([]string, error) {
	var l []string
	for i := 0; i < n; i++ {
		l = append(l, fmt.Sprintf("https://t.me/palaute_bot?start=i-%s%d", aud, i))
	}
	s.invited = append(s.invited, unit+"/"+aud)
	return l, nil
}

func slashServer(t *testing.T) (*httptest.Server, *stubBackend) {
	cat := locales.Must()
	b := &stubBackend{}
	h := &slack.Slash{Channels: map[string]string{"palaute-kotipesa": "kotipesa", "johto": "all"}, Summaries: b, Invites: b, Lang: "fi",
		Log: slog.New(slog.DiscardHandler), T: func(l, id string, d map[string]any) string { return cat.T(l, id, d) }}
	srv := httptest.NewServer(slack.Verify("signing-secret", 64<<10, h))
	t.Cleanup(srv.Close)
	return srv, b
}

func call(t *testing.T, srv *httptest.Server, h http.Header, body string) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a struct {
		Type string `json:"response_type"`
		Text string `json:"text"`
	}
	json.Unmarshal(b, &a)
	if resp.StatusCode == 200 && a.Type != "ephemeral" {
		t.Errorf("answer is not ephemeral: %s", b)
	}
	return resp.StatusCode, a.Text
}

func form(channel, text string) string {
	return url.Values{"command": {"/palaute"}, "channel_name": {channel}, "channel_id": {"C1"}, "text": {text}, "user_id": {"U1"}, "team_id": {"T1"}}.Encode()
}

func TestSignature(t *testing.T) {
	srv, _ := slashServer(t)
	body := form("palaute-kotipesa", "help")
	now := time.Now().Unix()
	if code, text := call(t, srv, sign("signing-secret", now, body), body); code != 200 || !strings.Contains(text, "/palaute summary") {
		t.Fatalf("valid: %d %q", code, text)
	}
	cases := map[string]http.Header{
		"wrong secret": sign("other", now, body),
		"missing":      {"Content-Type": {"application/x-www-form-urlencoded"}},
		"expired":      sign("signing-secret", now-6*60, body),
		"tampered":     sign("signing-secret", now, form("palaute-kotipesa", "invite relative 50")),
	}
	for name, h := range cases {
		if code, _ := call(t, srv, h, body); code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
	// A captured request replayed after the 5-minute window is refused.
	old := sign("signing-secret", now-301, body)
	if code, _ := call(t, srv, old, body); code != http.StatusUnauthorized {
		t.Errorf("replay: %d", code)
	}
}

func TestSlashCommands(t *testing.T) {
	srv, b := slashServer(t)
	do := func(channel, text string) string {
		body := form(channel, text)
		code, out := call(t, srv, sign("signing-secret", time.Now().Unix(), body), body)
		if code != 200 {
			t.Fatalf("%q: status %d", text, code)
		}
		return out
	}
	tests := []struct{ channel, text, want string }{
		{"palaute-kotipesa", "", "/palaute summary [yksikkö] [jakso]"},
		{"palaute-kotipesa", "summary", "YHTEENVETO kotipesa"},
		{"palaute-kotipesa", "summary 2026-11", "YHTEENVETO kotipesa"},
		{"palaute-kotipesa", "summary 2026-13", "Yhteenvetoa ei voitu tehdä"},
		{"palaute-kotipesa", "summary satama", "vain oman yksikkösi"},
		{"johto", "summary satama 2026-11", "YHTEENVETO satama"},
		{"random", "summary", "vain yksikön palautekanavalla"},
		{"palaute-kotipesa", "dance", "En tunne komentoa ”dance”"},
		{"palaute-kotipesa", "invite relative 3", "3 kutsulinkkiä"},
		{"palaute-kotipesa", "invite relative 99", "Anna määrä 1–50"},
		{"johto", "invite relative", "vain yksikön omalla kanavalla"},
	}
	for _, tt := range tests {
		if got := do(tt.channel, tt.text); !strings.Contains(got, tt.want) {
			t.Errorf("%s %q: %q, want %q", tt.channel, tt.text, got, tt.want)
		}
	}
	if len(b.invited) != 1 || b.invited[0] != "kotipesa/relative" {
		t.Fatalf("invitations made: %v", b.invited)
	}
	if got := do("palaute-kotipesa", "help"); strings.Count(got, "\n") < 3 {
		t.Fatalf("help: %q", got)
	}
}
