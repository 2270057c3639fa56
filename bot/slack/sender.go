package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/palaute/palaute/store"
)

// Outbox is what the sender needs of the outbox.
type Outbox interface {
	Claim(ctx context.Context, consumer string, n int64, minIdle time.Duration, now time.Time) ([]store.Entry, error)
	Posted(ctx context.Context, key string) (bool, error)
	Done(ctx context.Context, e store.Entry, next ...store.Msg) error
	Retry(ctx context.Context, e store.Entry, at time.Time) (dead bool, err error)
	Postpone(ctx context.Context, e store.Entry, at time.Time) error
	Bury(ctx context.Context, e store.Entry) error
}

var _ Outbox = (*store.Outbox)(nil)

// Poster is the Slack API as the sender uses it: chat.postMessage, and the file upload API
// (files.getUploadURLExternal, the upload, files.completeUploadExternal) for charts.
type Poster interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
}

var _ Poster = (*slack.Client)(nil)

// Sender posts the outbox's messages. Run one per replica: the consumer group shares the work.
//
// A post is retried after a rate limit (*slack.RateLimitedError: after its Retry-After, and the
// channel waits as long) and after other errors that may pass (5xx, network) with a backoff; Slack's
// refusals that cannot pass (unknown channel, invalid blocks, bad token) go to the dead letters at once.
// Posts to one channel keep their order: when one fails, the later ones of that channel, also those
// claimed in later rounds, wait behind it until it is tried again.
// A message that carries a chart is posted first and the chart is uploaded into the channel Slack
// answered with; a failed upload is retried on its own, never by posting the message again.
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
	MinIdle    time.Duration    // reclaim posts a dead sender left pending this long
	OnRetry    func()           // a post (or a chart on its own) will be tried again after an error or a rate limit
	OnPosted   func(key string) // a message posted (not a chart uploaded on its own)

	mu      sync.Mutex
	last    map[string]time.Time
	blocked map[string]blocked // channel -> its failed post, which the channel's later posts wait behind
}

// blocked is a channel's failed post: its key, when it is tried again, and the latest time a post
// waiting behind it was put off to.
type blocked struct {
	key      string
	at, tail time.Time
}

// blockedFor is how long a channel's posts wait behind a failed post that is due but has not come
// back to this sender (another replica may hold it); then they go on.
const blockedFor = time.Minute

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
	return time.Duration(1<<min(n, 9)) * time.Second // 2 s ... about 8.5 min
}

// Run drains the outbox every interval until ctx ends.
func (s *Sender) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Once(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("slack outbox", errAttr(err))
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
		if at, wait := s.behind(e); wait {
			if err := s.Outbox.Postpone(ctx, e, at); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		ok, at, err := s.post(ctx, e)
		if err != nil {
			errs = append(errs, err)
		}
		if !ok && !at.IsZero() {
			s.mu.Lock()
			if s.blocked == nil {
				s.blocked = map[string]blocked{}
			}
			s.blocked[e.Msg.Channel] = blocked{key: e.Msg.Key, at: at, tail: at}
			s.mu.Unlock()
		}
		if ok {
			posted++
		}
	}
	return posted, errors.Join(errs...)
}

// behind reports whether e must wait behind its channel's failed post, and until when: just after
// the failed post and the posts already waiting behind it, so that they come back in order. The
// failed post itself (back for its retry) goes, as does everything once the wait has lasted
// blockedFor past the failed post's time.
func (s *Sender) behind(e store.Entry) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.blocked[e.Msg.Channel]
	if !ok {
		return time.Time{}, false
	}
	now := s.now()
	if e.Msg.Key == b.key || !now.Before(b.at.Add(blockedFor)) {
		delete(s.blocked, e.Msg.Channel)
		return time.Time{}, false
	}
	if b.tail.Before(now) {
		b.tail = now
	}
	b.tail = b.tail.Add(time.Millisecond)
	s.blocked[e.Msg.Channel] = b
	return b.tail, true
}

// permanent are Slack error codes that a retry cannot change.
var permanent = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true, "invalid_blocks": true,
	"invalid_blocks_format": true, "msg_too_long": true, "no_text": true, "invalid_auth": true,
	"not_authed": true, "account_inactive": true, "token_revoked": true, "missing_scope": true,
	"restricted_action": true, "invalid_arguments": true, "file_upload_size_restricted": true,
}

// post posts one entry. It reports whether it was posted, and when it failed, when it is tried again
// (zero when it will not be).
func (s *Sender) post(ctx context.Context, e store.Entry) (bool, time.Time, error) {
	if done, err := s.Outbox.Posted(ctx, e.Msg.Key); err != nil {
		return false, time.Time{}, err
	} else if done { // posted by a sender that died before acknowledging
		return false, time.Time{}, s.Outbox.Done(ctx, e)
	}
	s.pace(ctx, e.Msg.Channel)
	m := e.Msg
	var next []store.Msg
	var err error
	chartOnly := m.Text == "" && len(m.Blocks) == 0 && len(m.File) > 0
	if chartOnly { // a chart whose message went out before
		err = s.upload(ctx, m.Channel, m)
	} else {
		// The text is escaped: free text in it (alerts, comments in the fallback) cannot ping
		// <!channel> or make a link; blocks come escaped by their renderer.
		opts := []slack.MsgOption{slack.MsgOptionText(m.Text, true)}
		if len(m.Blocks) > 0 {
			var bl slack.Blocks
			if err := json.Unmarshal(m.Blocks, &bl); err == nil && len(bl.BlockSet) > 0 {
				opts = append(opts, slack.MsgOptionBlocks(bl.BlockSet...))
			}
		}
		var channelID string
		channelID, _, err = s.API.PostMessageContext(ctx, m.Channel, opts...)
		if err == nil && len(m.File) > 0 {
			if channelID == "" {
				channelID = m.Channel
			}
			// The file upload API wants the channel id, which chat.postMessage answered with.
			if uerr := s.upload(ctx, channelID, m); uerr != nil {
				at := s.retryAt(uerr, channelID, 1)
				s.Log.Warn("slack chart upload failed, retried on its own", slog.String("key", m.Key), errAttr(uerr))
				next = append(next, store.Msg{Key: m.Key + ":chart", Channel: channelID, File: m.File, FileName: m.FileName,
					FileTitle: m.FileTitle, NotBefore: at, Attempts: 1})
				if s.OnRetry != nil {
					s.OnRetry()
				}
			}
		}
	}
	if err == nil {
		if s.OnPosted != nil && !chartOnly {
			s.OnPosted(m.Key)
		}
		return true, time.Time{}, s.Outbox.Done(ctx, e, next...)
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && permanent[se.Err] {
		s.Log.Error("slack refused a post for good", slog.String("key", m.Key), slog.String("err", se.Err))
		return false, time.Time{}, errors.Join(fmt.Errorf("post %s: %w", m.Key, err), s.Outbox.Bury(ctx, e))
	}
	at := s.retryAt(err, m.Channel, m.Attempts+1)
	dead, rerr := s.Outbox.Retry(ctx, e, at)
	if dead {
		s.Log.Error("slack post given up", slog.String("key", m.Key), errAttr(err))
		at = time.Time{}
	} else if s.OnRetry != nil { // tried again later (given-up, buried and postponed posts are not retries)
		s.OnRetry()
	}
	return false, at, errors.Join(fmt.Errorf("post %s: %w", m.Key, err), rerr)
}

// retryAt is when a post that failed with err is tried again: after Slack's Retry-After for a rate
// limit (and the channel waits as long), else after the backoff of its attempt.
func (s *Sender) retryAt(err error, channel string, attempt int) time.Time {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		s.block(channel, rl.RetryAfter)
		return s.now().Add(rl.RetryAfter)
	}
	return s.now().Add(s.backoff(attempt))
}

func (s *Sender) upload(ctx context.Context, channelID string, m store.Msg) error {
	title := m.FileTitle
	if title == "" {
		title = m.FileName
	}
	_, err := s.API.UploadFileContext(ctx, slack.UploadFileParameters{Channel: channelID, Filename: m.FileName,
		Title: title, AltTxt: clipRunes(title, 1000), Reader: bytes.NewReader(m.File), FileSize: len(m.File)})
	return err
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
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

// block makes the channel wait d (after a rate limit) before its next post.
func (s *Sender) block(channel string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[string]time.Time{}
	}
	s.last[channel] = s.now().Add(d)
}
