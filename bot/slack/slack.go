// Package slack is the Slack side (github.com/slack-go/slack): the sender that drains the outbox into
// chat.postMessage (and chart uploads) honouring rate limits, the request-signature check, and the
// /palaute slash command.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/palaute/palaute/store"
)

// Outbox is what the sender needs of the outbox.
type Outbox interface {
	Claim(ctx context.Context, consumer string, n int64, minIdle time.Duration, now time.Time) ([]store.Entry, error)
	Posted(ctx context.Context, key string) (bool, error)
	Done(ctx context.Context, e store.Entry) error
	Retry(ctx context.Context, e store.Entry, at time.Time) (dead bool, err error)
}

var _ Outbox = (*store.Outbox)(nil)

// Poster is the Slack API as the sender uses it.
type Poster interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
}

var _ Poster = (*slack.Client)(nil)

// Sender posts the outbox's messages. Run one per replica: the consumer group shares the work.
type Sender struct {
	Outbox   Outbox
	API      Poster
	Consumer string
	Log      *slog.Logger
	Now      func() time.Time
	// Backoff gives the wait before attempt n (1, 2, ...) after an error that is not a rate limit.
	Backoff func(n int) time.Duration
	// PerChannel is the least time between two posts to one channel (Slack: about 1 per second).
	PerChannel time.Duration
	MinIdle    time.Duration // reclaim posts a dead sender left pending this long
	OnRetry    func()
	OnPosted   func(key string)

	mu   sync.Mutex
	last map[string]time.Time
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) backoff(n int) time.Duration {
	if s.Backoff != nil {
		return s.Backoff(n)
	}
	d := time.Duration(1<<min(n, 9)) * time.Second // 2 s ... about 8.5 min
	return d
}

// Run drains the outbox every interval until ctx ends.
func (s *Sender) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Once(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("slack outbox", slog.String("err", err.Error()))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Once claims and posts what is due; it returns how many posts were made.
func (s *Sender) Once(ctx context.Context) (int, error) {
	minIdle := s.MinIdle
	if minIdle <= 0 {
		minIdle = time.Minute
	}
	es, err := s.Outbox.Claim(ctx, s.Consumer, 20, minIdle, s.now())
	if err != nil {
		return 0, err
	}
	posted := 0
	var errs []error
	for _, e := range es {
		ok, err := s.post(ctx, e)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			posted++
		}
	}
	return posted, errors.Join(errs...)
}

func (s *Sender) post(ctx context.Context, e store.Entry) (bool, error) {
	if done, err := s.Outbox.Posted(ctx, e.Msg.Key); err != nil {
		return false, err
	} else if done { // posted by a sender that died before acknowledging
		return false, s.Outbox.Done(ctx, e)
	}
	s.pace(ctx, e.Msg.Channel)
	opts := []slack.MsgOption{slack.MsgOptionText(e.Msg.Text, false)}
	if len(e.Msg.Blocks) > 0 {
		var bl slack.Blocks
		if err := json.Unmarshal(e.Msg.Blocks, &bl); err == nil && len(bl.BlockSet) > 0 {
			opts = append(opts, slack.MsgOptionBlocks(bl.BlockSet...))
		}
	}
	_, _, err := s.API.PostMessageContext(ctx, e.Msg.Channel, opts...)
	if err == nil && len(e.Msg.File) > 0 {
		_, err = s.API.UploadFileContext(ctx, slack.UploadFileParameters{Channel: e.Msg.Channel, Filename: e.Msg.FileName,
			Title: e.Msg.FileName, Reader: bytes.NewReader(e.Msg.File), FileSize: len(e.Msg.File)})
		if err != nil { // the text is out: do not post it again for a chart
			s.Log.Warn("slack chart upload failed", slog.String("key", e.Msg.Key), slog.String("err", err.Error()))
			err = nil
		}
	}
	if err == nil {
		if s.OnPosted != nil {
			s.OnPosted(e.Msg.Key)
		}
		return true, s.Outbox.Done(ctx, e)
	}
	var rl *slack.RateLimitedError
	at := s.now().Add(s.backoff(e.Msg.Attempts + 1))
	if errors.As(err, &rl) {
		at = s.now().Add(rl.RetryAfter)
		s.block(e.Msg.Channel, rl.RetryAfter)
	}
	if s.OnRetry != nil {
		s.OnRetry()
	}
	dead, rerr := s.Outbox.Retry(ctx, e, at)
	if dead {
		s.Log.Error("slack post given up", slog.String("key", e.Msg.Key), slog.String("err", err.Error()))
	}
	return false, errors.Join(fmt.Errorf("post %s: %w", e.Msg.Key, err), rerr)
}

// pace keeps posts to one channel PerChannel apart.
func (s *Sender) pace(ctx context.Context, channel string) {
	if s.PerChannel <= 0 {
		return
	}
	s.mu.Lock()
	if s.last == nil {
		s.last = map[string]time.Time{}
	}
	wait := s.last[channel].Add(s.PerChannel).Sub(s.now())
	s.last[channel] = s.now().Add(max(wait, 0))
	s.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

func (s *Sender) block(channel string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[string]time.Time{}
	}
	s.last[channel] = s.now().Add(d)
}

// Verify wraps h: requests must carry a valid Slack signature made within 5 minutes (else 401).
func Verify(secret string, maxBody int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if secret == "" {
			http.Error(w, "slack signing secret not configured", http.StatusUnauthorized)
			return
		}
		v, err := slack.NewSecretsVerifier(r.Header, secret)
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		v.Write(body)
		if err := v.Ensure(); err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}

// Summaries makes the text of a summary for a slash command.
type Summaries interface {
	SummaryText(ctx context.Context, unit, period, lang string) (string, error)
}

// Inviter makes invitation links for a unit.
type Inviter interface {
	InviteLinks(ctx context.Context, unit, audience string, n int) ([]string, error)
}

// T translates for the slash command.
type T func(lang, id string, data map[string]any) string

// Slash is the /palaute command handler.
type Slash struct {
	// Channels maps a channel (id or name, without #) to its unit id; the all-units channel maps to "all".
	Channels  map[string]string
	Summaries Summaries
	Invites   Inviter
	T         T
	Lang      string
	Log       *slog.Logger
}

type answer struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

func (s *Slash) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cmd, err := slack.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2500*time.Millisecond) // Slack waits 3 s
	defer cancel()
	text := s.run(ctx, cmd)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer{ResponseType: "ephemeral", Text: text})
}

func (s *Slash) t(id string, data map[string]any) string { return s.T(s.Lang, id, data) }

func (s *Slash) run(ctx context.Context, cmd slack.SlashCommand) string {
	unit, ok := s.Channels[cmd.ChannelID]
	if !ok {
		unit, ok = s.Channels[strings.TrimPrefix(cmd.ChannelName, "#")]
	}
	if !ok {
		return s.t("slack_not_here", nil)
	}
	args := strings.Fields(cmd.Text)
	if len(args) == 0 {
		return s.t("slack_help", nil)
	}
	switch strings.ToLower(args[0]) {
	case "help", "apua", "hjälp":
		return s.t("slack_help", nil)
	case "summary", "yhteenveto", "sammanfattning":
		target, per := unit, ""
		for _, a := range args[1:] {
			if a[0] >= '0' && a[0] <= '9' {
				per = a
			} else {
				target = a
			}
		}
		if unit != "all" && target != unit {
			return s.t("slack_other_unit", nil)
		}
		text, err := s.Summaries.SummaryText(ctx, target, per, s.Lang)
		if err != nil {
			return s.t("slack_bad_summary", map[string]any{"Err": err.Error()}) + "\n\n" + s.t("slack_help", nil)
		}
		return text
	case "invite", "kutsu", "inbjudan":
		if unit == "all" || s.Invites == nil {
			return s.t("slack_invite_in_unit", nil)
		}
		if len(args) < 2 {
			return s.t("slack_help", nil)
		}
		aud := map[string]string{"relative": "relative", "laheinen": "relative", "läheinen": "relative", "närstående": "relative",
			"social_worker": "social_worker", "sosiaalityontekija": "social_worker", "sosiaalityöntekijä": "social_worker", "socialarbetare": "social_worker"}[strings.ToLower(args[1])]
		n := 1
		if len(args) > 2 {
			v, err := strconv.Atoi(args[2])
			if err != nil || v < 1 || v > 50 {
				return s.t("slack_invite_count", nil)
			}
			n = v
		}
		if aud == "" {
			return s.t("slack_help", nil)
		}
		links, err := s.Invites.InviteLinks(ctx, unit, aud, n)
		if err != nil {
			s.Log.Warn("slack invite", slog.String("err", err.Error()))
			return s.t("slack_try_again", nil)
		}
		return s.t("slack_invites", map[string]any{"N": len(links)}) + "\n" + strings.Join(links, "\n")
	}
	return s.t("slack_unknown", map[string]any{"Command": args[0]}) + "\n\n" + s.t("slack_help", nil)
}
