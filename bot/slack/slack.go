// Package slack is the Slack side (github.com/slack-go/slack): the sender that drains the outbox into
// chat.postMessage and the file upload API honouring rate limits (sender.go), the request-signature
// and replay check (verify.go), and the /palaute slash command (this file).
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackutilsx"

	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/report"
)

// Summaries makes a summary for the slash command.
type Summaries interface {
	// Summary returns the summary of unit (or report.All) for p as Slack messages in lang;
	// report.ErrUnknownUnit for a unit that is not configured.
	Summary(ctx context.Context, unit string, p period.Period, lang string) ([]report.Message, error)
}

// Inviter makes invitation links for a unit.
type Inviter interface {
	InviteLinks(ctx context.Context, unit, audience string, n int) ([]string, error)
}

// T translates for the slash command.
type T func(lang, id string, data map[string]any) string

// Slash is the /palaute command handler. It answers within Slack's 3 seconds, always ephemerally
// (only the person who asked sees the answer): a summary that takes longer is announced at once and
// delivered through the command's response_url when ready, as are the parts of a summary too long
// for one message.
type Slash struct {
	// Channels maps a channel (id or name, without #) to its unit id; the all-units channel maps to report.All.
	Channels map[string]string
	// Units are the configured unit ids (a word that is none of them is answered as unknown).
	Units     []string
	Summaries Summaries
	Invites   Inviter
	T         T
	Lang      string
	Log       *slog.Logger
	// MinResponses and MinComments are quoted in the help (default 5 and 10).
	MinResponses, MinComments int
	Now                       func() time.Time // default time.Now
	AnswerWithin              time.Duration    // default 2 s (Slack gives up after 3 s)
	HTTP                      *http.Client     // posts to response_url; default a client with a 10 s timeout

	wg sync.WaitGroup
}

// Wait waits for the summaries still being made or delivered through response_url, until ctx ends
// (a stopping server waits within its shutdown deadline).
func (s *Slash) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("slack summaries still being delivered: %w", context.Cause(ctx))
	}
}

type answer struct {
	ResponseType string        `json:"response_type"`
	Text         string        `json:"text"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

func reply(w http.ResponseWriter, a answer) {
	a.ResponseType = "ephemeral"
	a.Text = slackutilsx.EscapeMessage(a.Text) // Slack reads it as mrkdwn: free text in it stays text
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(a)
}

func (s *Slash) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cmd, err := slack.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	args := strings.Fields(cmd.Text)
	if unit, ok := s.unitOf(cmd); ok && len(args) > 0 && isSummary(args[0]) {
		s.summary(w, r, cmd, unit, args[1:])
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.answerWithin())
	defer cancel()
	reply(w, answer{Text: s.run(ctx, cmd)})
}

func (s *Slash) answerWithin() time.Duration {
	if s.AnswerWithin > 0 {
		return s.AnswerWithin
	}
	return 2 * time.Second
}

func (s *Slash) t(id string, data map[string]any) string {
	d := map[string]any{"K": cmpOr(s.MinResponses, 5), "C": cmpOr(s.MinComments, 10)}
	for k, v := range data {
		d[k] = v
	}
	return s.T(s.Lang, id, d)
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// help is the answer to a command that was not understood: what was wrong, then the help.
func (s *Slash) help(what string) string {
	if what == "" {
		return s.t("slack_help", nil)
	}
	return what + "\n\n" + s.t("slack_help", nil)
}

func (s *Slash) unitOf(cmd slack.SlashCommand) (string, bool) {
	unit, ok := s.Channels[cmd.ChannelID]
	if !ok {
		unit, ok = s.Channels[strings.TrimPrefix(cmd.ChannelName, "#")]
	}
	return unit, ok
}

func isSummary(word string) bool {
	switch strings.ToLower(word) {
	case "summary", "yhteenveto", "sammanfattning":
		return true
	}
	return false
}

// summary answers /palaute summary [unit] [period].
func (s *Slash) summary(w http.ResponseWriter, r *http.Request, cmd slack.SlashCommand, unit string, args []string) {
	target, per := unit, ""
	for _, a := range args {
		switch {
		case a[0] >= '0' && a[0] <= '9' && per == "":
			per = a
		case target == unit && !(a[0] >= '0' && a[0] <= '9'):
			target = strings.ToLower(strings.TrimPrefix(a, "#"))
		default: // two periods or two units
			reply(w, answer{Text: s.help(s.t("slack_summary_args", nil))})
			return
		}
	}
	if target != report.All && s.Units != nil && !slices.Contains(s.Units, target) {
		reply(w, answer{Text: s.help(s.t("slack_unknown_unit", map[string]any{"Unit": target}))})
		return
	}
	if unit != report.All && target != unit {
		reply(w, answer{Text: s.t("slack_other_unit", nil)})
		return
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	p := period.LastComplete(period.Month, now())
	if per != "" {
		var err error
		if p, err = period.Parse(per); err != nil {
			reply(w, answer{Text: s.help(s.t("slack_bad_period", map[string]any{"Period": per}))})
			return
		}
	}
	// Only a period that has ended: two summaries of a running one, a response apart, would show that
	// person's answers (the responses go 6 -> 7 and every answer column moves by theirs).
	var ne *report.NotEndedError
	if err := report.CheckEnded(p, now()); errors.As(err, &ne) {
		reply(w, answer{Text: ne.Text(s.Lang)})
		return
	}
	type result struct {
		msgs []report.Message
		err  error
	}
	done := make(chan result, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
		defer cancel()
		msgs, err := s.Summaries.Summary(ctx, target, p, s.Lang)
		done <- result{msgs, err}
	}()
	timer := time.NewTimer(s.answerWithin())
	defer timer.Stop()
	// shown is what the person sees of a summary: its messages, or why there are none.
	shown := func(res result) []report.Message {
		switch {
		case errors.Is(res.err, report.ErrUnknownUnit):
			return []report.Message{{Text: s.help(s.t("slack_unknown_unit", map[string]any{"Unit": target}))}}
		case res.err != nil:
			s.Log.Warn("slack summary", slog.String("unit", target), slog.String("period", p.String()), errAttr(res.err))
			return []report.Message{{Text: s.t("slack_try_again", nil)}}
		case len(res.msgs) == 0:
			return []report.Message{{Text: s.t("slack_try_again", nil)}}
		}
		return res.msgs
	}
	select {
	case res := <-done:
		msgs := shown(res)
		reply(w, answer{Text: msgs[0].Text, Blocks: msgs[0].Blocks})
		if len(msgs) > 1 {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.later(cmd.ResponseURL, msgs[1:], false)
			}()
		}
	case <-timer.C:
		reply(w, answer{Text: s.t("slack_summary_wait", nil)})
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.later(cmd.ResponseURL, shown(<-done), true)
		}()
	}
}

// maxResponses is how many times Slack accepts a command's response_url.
const maxResponses = 5

// later posts messages to the command's response_url, ephemerally, and returns when they are posted
// (or one failed); replace replaces the "wait" answer. Slack takes at most maxResponses: a longer
// summary is cut, and its last message says so.
func (s *Slash) later(url string, msgs []report.Message, replace bool) {
	if url == "" {
		return
	}
	if len(msgs) > maxResponses {
		s.Log.Warn("slack summary too long for response_url", slog.Int("messages", len(msgs)))
		msgs = append(msgs[:maxResponses-1:maxResponses-1], report.Message{Text: s.t("slack_summary_cut", nil)})
	}
	hc := s.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, m := range msgs {
		wm := &slack.WebhookMessage{ResponseType: "ephemeral", Text: slackutilsx.EscapeMessage(m.Text), ReplaceOriginal: replace && i == 0}
		if len(m.Blocks) > 0 {
			wm.Blocks = &slack.Blocks{BlockSet: m.Blocks}
		}
		if err := slack.PostWebhookCustomHTTPContext(ctx, url, hc, wm); err != nil {
			s.Log.Warn("slack response_url", errAttr(err))
			return
		}
	}
}

func (s *Slash) run(ctx context.Context, cmd slack.SlashCommand) string {
	unit, ok := s.unitOf(cmd)
	if !ok {
		return s.t("slack_not_here", nil)
	}
	args := strings.Fields(cmd.Text)
	if len(args) == 0 {
		return s.t("slack_help", nil)
	}
	switch strings.ToLower(args[0]) {
	case "help", "apua", "ohje", "hjälp":
		return s.t("slack_help", nil)
	case "invite", "kutsu", "inbjudan":
		if unit == report.All || s.Invites == nil {
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
			s.Log.Warn("slack invite", errAttr(err))
			return s.t("slack_try_again", nil)
		}
		return s.t("slack_invites", map[string]any{"N": len(links)}) + "\n" + strings.Join(links, "\n")
	}
	return s.help(s.t("slack_unknown", map[string]any{"Command": args[0]}))
}

// errAttr is err for a log line, without the URLs that *url.Error quotes: a response_url
// (https://hooks.slack.com/...) is a credential, as is a file upload URL.
func errAttr(err error) slog.Attr {
	text := err.Error()
	var walk func(error)
	walk = func(e error) {
		switch x := e.(type) {
		case nil:
		case *url.Error:
			text = strings.ReplaceAll(text, x.Error(), x.Op+": "+x.Err.Error())
			text = strings.ReplaceAll(text, x.URL, "[url]")
			walk(x.Err)
		case interface{ Unwrap() []error }:
			for _, y := range x.Unwrap() {
				walk(y)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return slog.String("err", text)
}
