package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/palaute/palaute/bot/slack"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/report"
)

type stubBackend struct {
	mu      sync.Mutex
	invited []string
	asked   []string      // unit/period of the summaries asked for
	delay   time.Duration // a slow summary
	parts   int           // messages in a summary (default 1)
	empty   bool          // a summary of no messages
	raw     string        // the summary's text, when set
}

func (s *stubBackend) Summary(ctx context.Context, unit string, p period.Period, lang string) ([]report.Message, error) {
	s.mu.Lock()
	s.asked = append(s.asked, unit+"/"+p.String())
	delay, parts := s.delay, max(s.parts, 1)
	s.mu.Unlock()
	if unit != "kotipesa" && unit != "satama" && unit != report.All {
		return nil, fmt.Errorf("%w %q", report.ErrUnknownUnit, unit)
	}
	time.Sleep(delay)
	if s.empty {
		return nil, nil
	}
	if s.raw != "" {
		return []report.Message{{Text: s.raw}}, nil
	}
	var out []report.Message
	for i := range parts {
		text := fmt.Sprintf("YHTEENVETO %s %s osa %d", unit, p, i+1)
		out = append(out, report.Message{Text: text, Blocks: []slackapi.Block{slackapi.NewSectionBlock(
			slackapi.NewTextBlockObject(slackapi.MarkdownType, "*"+text+"*", false, false), nil, nil)}})
	}
	return out, nil
}

func (s *stubBackend) InviteLinks(ctx context.Context, unit, aud string, n int) ([]string, error) {
	var l []string
	for i := 0; i < n; i++ {
		l = append(l, fmt.Sprintf("https://t.me/palaute_bot?start=i-%s%d", aud, i))
	}
	s.invited = append(s.invited, unit+"/"+aud)
	return l, nil
}

// november is "now" for the slash commands: the default period is the month before, 2026-10.
var november = time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)

func slashServer(t *testing.T) (*httptest.Server, *stubBackend, *slack.Slash) {
	cat := locales.Must()
	b := &stubBackend{}
	h := &slack.Slash{Channels: map[string]string{"palaute-kotipesa": "kotipesa", "johto": "all"}, Units: []string{"kotipesa", "satama"}, Summaries: b, Invites: b, Lang: "fi",
		Log: slog.New(slog.DiscardHandler), T: func(l, id string, d map[string]any) string { return cat.T(l, id, d) },
		MinResponses: 5, MinComments: 10, Now: func() time.Time { return november }, AnswerWithin: 500 * time.Millisecond}
	srv := httptest.NewServer(slack.Verify("signing-secret", 64<<10, nil, nil, h))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { h.Wait(context.Background()) })
	return srv, b, h
}

type slashAnswer struct {
	Type   string            `json:"response_type"`
	Text   string            `json:"text"`
	Blocks []json.RawMessage `json:"blocks"`
}

func call(t *testing.T, srv *httptest.Server, h http.Header, body string) (int, slashAnswer) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a slashAnswer
	json.Unmarshal(b, &a)
	if resp.StatusCode == 200 && a.Type != "ephemeral" {
		t.Errorf("answer is not ephemeral: %s", b)
	}
	return resp.StatusCode, a
}

func form(channel, text string) string {
	return formURL(channel, text, "")
}

func formURL(channel, text, responseURL string) string {
	v := url.Values{"command": {"/palaute"}, "channel_name": {channel}, "channel_id": {"C1"}, "text": {text}, "user_id": {"U1"}, "team_id": {"T1"}}
	if responseURL != "" {
		v.Set("response_url", responseURL)
	}
	return v.Encode()
}

func slash(t *testing.T, srv *httptest.Server, channel, text, responseURL string) slashAnswer {
	t.Helper()
	body := formURL(channel, text, responseURL)
	code, a := call(t, srv, sign("signing-secret", time.Now().Unix(), body), body)
	if code != 200 {
		t.Fatalf("%q: status %d", text, code)
	}
	return a
}

func TestSlashCommands(t *testing.T) {
	srv, b, _ := slashServer(t)
	help := "/palaute summary [yksikkö] [jakso]"
	tests := []struct{ channel, text, want, alsoWant string }{
		{"palaute-kotipesa", "", help, "vähintään 5"},
		{"palaute-kotipesa", "help", help, "vähintään 10 vastaajan"},
		{"palaute-kotipesa", "summary", "YHTEENVETO kotipesa 2026-10 osa 1", ""},
		{"palaute-kotipesa", "yhteenveto 2026-10", "YHTEENVETO kotipesa 2026-10", ""},
		{"palaute-kotipesa", "summary 2026-w46", "YHTEENVETO kotipesa 2026-W46", ""},
		{"palaute-kotipesa", "summary kotipesa 2026-H1", "YHTEENVETO kotipesa 2026-H1", ""},
		{"palaute-kotipesa", "summary 2026-13", "En tunnista jaksoa ”2026-13”", help},
		{"palaute-kotipesa", "summary marraskuu", "Yksikköä ”marraskuu” ei löydy", help},
		{"palaute-kotipesa", "summary 2027-01", "ei ole vielä alkanut", "maanantaista 1.2.2027 klo "},
		{"palaute-kotipesa", "summary 2026-11", "Jakson marraskuu 2026 yhteenveto ei ole vielä saatavilla: jakso on kesken", "maanantaista 30.11.2026 klo "},
		{"palaute-kotipesa", "summary 2026-w47", "Jakson viikko 47/2026 yhteenveto ei ole vielä saatavilla", "maanantaista 23.11.2026 klo "},
		{"johto", "summary 2026-H2", "ei ole vielä saatavilla", "maanantaista 4.1.2027 klo "},
		{"palaute-kotipesa", "summary 2026-10 2026-11", "enintään yksi yksikkö ja yksi jakso", help},
		{"palaute-kotipesa", "summary satama", "vain oman yksikkösi", ""},
		{"johto", "summary satama 2026-10", "YHTEENVETO satama 2026-10", ""},
		{"johto", "summary", "YHTEENVETO all 2026-10", ""},
		{"johto", "summary nosuch 2026-11", "Yksikköä ”nosuch” ei löydy", help},
		{"random", "summary", "vain yksikön palautekanavalla", ""},
		{"random", "help", "vain yksikön palautekanavalla", ""},
		{"palaute-kotipesa", "dance", "En tunne komentoa ”dance”", help},
		{"palaute-kotipesa", "invite relative 3", "3 kutsulinkkiä", ""},
		{"palaute-kotipesa", "invite relative 99", "Anna määrä 1–50", ""},
		{"johto", "invite relative", "vain yksikön omalla kanavalla", ""},
	}
	for _, tt := range tests {
		a := slash(t, srv, tt.channel, tt.text, "")
		if !strings.Contains(a.Text, tt.want) || !strings.Contains(a.Text, tt.alsoWant) {
			t.Errorf("%s %q: %q, want %q and %q", tt.channel, tt.text, a.Text, tt.want, tt.alsoWant)
		}
		if strings.HasPrefix(tt.want, "YHTEENVETO") && len(a.Blocks) != 1 {
			t.Errorf("%s %q: the summary comes without its blocks: %+v", tt.channel, tt.text, a)
		}
		if strings.Contains(a.Text, "{{") || strings.Contains(a.Text, "<no value>") || strings.Contains(a.Text, "slack_") {
			t.Errorf("%q: untranslated text %q", tt.text, a.Text)
		}
	}
	if len(b.invited) != 1 || b.invited[0] != "kotipesa/relative" {
		t.Fatalf("invitations made: %v", b.invited)
	}
	// Only valid requests reached the summaries: no unit's summary was made for another unit's channel.
	// None of a period that has not ended.
	want := "[kotipesa/2026-10 kotipesa/2026-10 kotipesa/2026-W46 kotipesa/2026-H1 satama/2026-10 all/2026-10]"
	if got := fmt.Sprint(b.asked); got != want {
		t.Errorf("summaries asked %s, want %s", got, want)
	}
}

// responseURL is Slack's response_url: it records what is posted to it.
type responseURL struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []slackapi.WebhookMessage
}

func newResponseURL(t *testing.T) *responseURL {
	r := &responseURL{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var m slackapi.WebhookMessage
		if err := json.NewDecoder(req.Body).Decode(&m); err != nil {
			t.Errorf("response_url body: %v", err)
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()
		w.Write([]byte("ok"))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *responseURL) got() []slackapi.WebhookMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]slackapi.WebhookMessage(nil), r.msgs...)
}

// Slack waits 3 seconds for the answer: a slow summary is announced at once and delivered through
// response_url, replacing the announcement, still only to the person who asked.
func TestSlashSlowSummaryAnswersInTime(t *testing.T) {
	srv, b, h := slashServer(t)
	b.delay = 1500 * time.Millisecond
	ru := newResponseURL(t)
	start := time.Now()
	a := slash(t, srv, "palaute-kotipesa", "summary 2026-10", ru.srv.URL)
	if d := time.Since(start); d > 3*time.Second || d >= b.delay {
		t.Fatalf("answered after %v", d)
	}
	if !strings.Contains(a.Text, "Kokoan yhteenvetoa") {
		t.Fatalf("answer %q", a.Text)
	}
	h.Wait(context.Background())
	got := ru.got()
	if len(got) != 1 || got[0].ResponseType != "ephemeral" || !got[0].ReplaceOriginal ||
		!strings.Contains(got[0].Text, "YHTEENVETO kotipesa 2026-10") || got[0].Blocks == nil || len(got[0].Blocks.BlockSet) != 1 {
		t.Fatalf("response_url got %+v", got)
	}
}

// A slow summary that comes back with nothing replaces the announcement with "try again", not silence.
func TestSlashSlowEmptySummaryTriesAgain(t *testing.T) {
	srv, b, h := slashServer(t)
	b.delay, b.empty = 700*time.Millisecond, true
	ru := newResponseURL(t)
	slash(t, srv, "palaute-kotipesa", "summary 2026-10", ru.srv.URL)
	h.Wait(context.Background())
	got := ru.got()
	if len(got) != 1 || !got[0].ReplaceOriginal || got[0].Text != locales.Must().T("fi", "slack_try_again") {
		t.Fatalf("response_url got %+v", got)
	}
}

// A summary of several messages: the first is the answer, the rest follow through response_url in order.
func TestSlashLongSummaryFollowsUp(t *testing.T) {
	srv, b, h := slashServer(t)
	b.parts = 3
	ru := newResponseURL(t)
	a := slash(t, srv, "johto", "summary 2026-10", ru.srv.URL)
	if !strings.Contains(a.Text, "osa 1") {
		t.Fatalf("answer %q", a.Text)
	}
	h.Wait(context.Background())
	got := ru.got()
	if len(got) != 2 || !strings.Contains(got[0].Text, "osa 2") || !strings.Contains(got[1].Text, "osa 3") || got[0].ReplaceOriginal {
		t.Fatalf("follow-ups %+v", got)
	}
}

// The answer's text is mrkdwn to Slack: free text in it is escaped, it cannot ping or link.
func TestSlashAnswerEscaped(t *testing.T) {
	srv, b, _ := slashServer(t)
	b.raw = "• kiitos <!here> & <https://x.invalid|tästä>"
	if a := slash(t, srv, "palaute-kotipesa", "summary", ""); a.Text != "• kiitos &lt;!here&gt; &amp; &lt;https://x.invalid|tästä&gt;" {
		t.Fatalf("answer %q", a.Text)
	}
}

// logBuffer collects log lines written from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// A response_url (https://hooks.slack.com/actions/...) is a credential: when posting to it fails,
// the log says so without the URL.
func TestSlashResponseURLNotLogged(t *testing.T) {
	srv, b, h := slashServer(t)
	var logs logBuffer
	h.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	b.parts = 2
	gone := httptest.NewServer(http.NotFoundHandler())
	hook := gone.URL + "/actions/T1/1234/s3cr3tHookToken"
	gone.Close() // posting to it fails: connection refused
	if a := slash(t, srv, "johto", "summary 2026-10", hook); !strings.Contains(a.Text, "osa 1") {
		t.Fatalf("answer %q", a.Text)
	}
	h.Wait(context.Background())
	if l := logs.String(); !strings.Contains(l, "slack response_url") || strings.Contains(l, "s3cr3tHookToken") || strings.Contains(l, "/actions/") {
		t.Fatalf("log %s", l)
	}
}

// Slack takes at most 5 messages through a response_url: a longer summary is cut after the fifth,
// whose text says so and how to get the rest.
func TestSlashSummaryCutAfterFiveFollowUps(t *testing.T) {
	srv, b, h := slashServer(t)
	b.parts = 8
	ru := newResponseURL(t)
	if a := slash(t, srv, "johto", "summary 2026-10", ru.srv.URL); !strings.Contains(a.Text, "osa 1") {
		t.Fatalf("answer %q", a.Text)
	}
	h.Wait(context.Background())
	got := ru.got()
	if len(got) != 5 {
		t.Fatalf("%d follow-ups, want 5: %+v", len(got), got)
	}
	for i, m := range got[:4] {
		if !strings.Contains(m.Text, fmt.Sprintf("osa %d", i+2)) || m.ResponseType != "ephemeral" {
			t.Errorf("follow-up %d: %+v", i+1, m)
		}
	}
	cut := locales.Must().T("fi", "slack_summary_cut", nil)
	if got[4].Text != cut || got[4].Blocks != nil || !strings.Contains(cut, "/palaute summary") {
		t.Errorf("last follow-up %q, want %q", got[4].Text, cut)
	}
}

// Wait returns when the summaries in delivery are delivered, or when its context ends first.
func TestSlashWaitKeepsItsDeadline(t *testing.T) {
	srv, b, h := slashServer(t)
	b.parts = 2
	release := make(chan struct{})
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		var m slackapi.WebhookMessage
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		got = append(got, m.Text)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	slash(t, srv, "johto", "summary 2026-10", hook.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := h.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with a delivery held: %v", err)
	}
	close(release)
	if err := h.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.Contains(got[0], "osa 2") {
		t.Fatalf("delivered %q", got)
	}
}

// A running period is refused until it has ended: its summary now and again after one more response
// would differ by that person's answers. The answer says from when it can be asked for, in the
// channel's language; no summary is made.
func TestSlashRefusesRunningPeriod(t *testing.T) {
	srv, b, h := slashServer(t)
	h.Lang = "en"
	h.Now = func() time.Time { return time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC) } // Wednesday of W48
	for text, want := range map[string]string{
		"summary 2026-W48": "The summary of week 48/2026 is not available yet: the period is still running, and comparing its summaries as answers come in would show single people's answers. It is available from Monday 30 November 2026 at ",
		"summary 2026-11":  "The summary of November 2026 is not available yet",
		"summary 2026-H2":  "It is available from Monday 4 January 2027 at ",
		"summary 2026-W49": "The period week 49/2026 has not started yet, so there is no feedback from it. Its summary is available from Monday 7 December 2026 at ",
	} {
		if a := slash(t, srv, "palaute-kotipesa", text, ""); !strings.Contains(a.Text, want) || len(a.Blocks) != 0 {
			t.Errorf("%q: %q, want %q", text, a.Text, want)
		}
	}
	if a := slash(t, srv, "palaute-kotipesa", "summary 2026-W47", ""); !strings.Contains(a.Text, "YHTEENVETO kotipesa 2026-W47") {
		t.Errorf("W47 (ended): %q", a.Text)
	}
	if fmt.Sprint(b.asked) != "[kotipesa/2026-W47]" {
		t.Errorf("summaries made: %v", b.asked)
	}
}
