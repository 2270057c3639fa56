package telegram

import (
	"context"
	"errors"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/store"
)

// Telegram's limits, shared by every replica through Redis (redis_rate, GCRA): about PerChatRate messages a
// second to one chat, and GlobalRate a second overall, evenly spaced. A turn of n messages costs n-1 limiter
// round trips of its own when the chat is under its limit: the first message's places (one in the chat's
// limit, one global) ride in the round trip of the turn's commit (firstPlaces); the second asks for the
// chat's limit for the rest of the turn in one pipeline with its global place; each further message asks
// for its global place. A turn that commits nothing asks as the second message does, for all its messages.

// ChatLimit is about perSecond messages a second to one chat, with a burst of four seconds' worth (a
// question and its notices come together).
func ChatLimit(perSecond int) redis_rate.Limit {
	return redis_rate.Limit{Rate: perSecond, Burst: perSecond * 4, Period: time.Second}
}

// GlobalLimit spaces sends evenly (no burst: Telegram counts any one second) at perSecond, less 2 % so
// that network jitter between replicas and Telegram does not push a second over the limit.
func GlobalLimit(perSecond int) redis_rate.Limit {
	return redis_rate.Limit{Rate: perSecond, Burst: 1, Period: time.Second * 102 / 100}
}

// ChatKey is the key of one chat's limit (redis_rate adds its own "rate:" in front); hashedChat is the chat
// id through Options.Hash.
func ChatKey(prefix, hashedChat string) string { return prefix + "{rl:c:" + hashedChat + "}" }

// GlobalKey is the key of the limit shared by every chat and replica.
func GlobalKey(prefix string) string { return prefix + "{rl:all}" }

// chatBudget hands out a chat's limit to the messages of one turn. It is asked for all of them at once (but
// for the first, when its places rode with the turn's commit); when only some are allowed, those go at
// once and it asks again, after redis_rate's retry_after, for the rest: the timing of one message at a
// time, with fewer round trips.
type chatBudget struct {
	chat    string
	first   *firstPlaces    // the first message's places, asked with the turn's commit (nil: none)
	granted int             // allowed, not yet sent
	want    int             // not yet allowed
	cb      *callbackAnswer // the turn's answer to a button press (see Adapter.answerIfLate)
	open    bool            // Redis failed this turn: its further messages go without asking (fail open)
}

func (a *Adapter) chatBudget(chat string, n int) *chatBudget { return &chatBudget{chat: chat, want: n} }

// grant records that n of the wanted messages are allowed.
func (b *chatBudget) grant(n int) {
	n = min(n, b.want)
	b.granted, b.want = b.granted+n, b.want-n
}

// allow waits until one more message may go: its place in the chat's budget (first: its first attempt)
// and in the global limit. It is false only when ctx ended. When Redis fails, the message goes (fail open:
// Telegram's own 429s are still honoured, and the person still gets the engine's "try again").
func (a *Adapter) allow(ctx context.Context, b *chatBudget, first bool) bool {
	if b.open {
		return true
	}
	chatKey, chatLimit := "", ChatLimit(a.o.PerChatRate)
	if first && b.granted == 0 && b.want > 0 {
		// One round trip for both: usually both allow, and the message goes. The first message's were
		// asked in the round trip of the turn's commit, when it had one.
		var chat, global *redis_rate.Result
		var err error
		if f := b.first; f.rode() {
			b.first = nil
			chatKey = f.chatKey
			chat, global, err = f.answers(ctx)
		} else {
			chatKey = ChatKey(a.o.Prefix, a.o.Hash(b.chat))
			chat, global, err = a.allowBoth(ctx, chatKey, chatLimit, b.want)
		}
		switch {
		case err != nil && ctx.Err() != nil:
			return false
		case err != nil:
			b.grant(b.want)
			b.open = true
			return true
		case chat.Allowed > 0:
			b.grant(chat.Allowed)
			if global.Allowed > 0 {
				b.granted--
				return true
			}
			if !a.pause(ctx, b, global.RetryAfter) {
				return false
			}
		default:
			// The chat is over its limit: the global place taken with it is let go (redis_rate cannot give
			// it back; it is only ever lost, never added) and asked again when the chat's turn comes.
			if !a.pause(ctx, b, chat.RetryAfter) {
				return false
			}
		}
	}
	if first {
		for b.granted == 0 && b.want > 0 {
			if chatKey == "" {
				chatKey = ChatKey(a.o.Prefix, a.o.Hash(b.chat))
			}
			res, err := a.limiter.AllowAtMost(ctx, chatKey, chatLimit, b.want)
			if err != nil {
				if ctx.Err() != nil {
					return false
				}
				b.grant(b.want)
				b.open = true
				break
			}
			if res.Allowed > 0 {
				b.grant(res.Allowed)
				break
			}
			if !a.pause(ctx, b, res.RetryAfter) {
				return false
			}
		}
		if b.granted > 0 {
			b.granted--
		}
	}
	if b.open {
		return true
	}
	if err := a.wait(ctx, b, GlobalKey(a.o.Prefix), GlobalLimit(a.o.GlobalRate)); err != nil {
		b.open = ctx.Err() == nil
		return b.open
	}
	return true
}

// wait blocks until the limiter allows one more of b's messages under key.
func (a *Adapter) wait(ctx context.Context, b *chatBudget, key string, l redis_rate.Limit) error {
	for {
		res, err := a.limiter.Allow(ctx, key, l)
		if err != nil {
			return err // Redis unavailable: the caller decides (the adapter fails open)
		}
		if res.Allowed > 0 {
			return nil
		}
		if !a.pause(ctx, b, res.RetryAfter) {
			return ctx.Err()
		}
	}
}

// allowBoth asks redis_rate, in one pipelined round trip, for up to n messages to a chat and for one global
// place.
func (a *Adapter) allowBoth(ctx context.Context, chatKey string, chatLimit redis_rate.Limit, n int) (chat, global *redis_rate.Result, err error) {
	q := &queued{rdb: a.o.RDB}
	lim := redis_rate.NewLimiter(q)
	globalKey, globalLimit := GlobalKey(a.o.Prefix), GlobalLimit(a.o.GlobalRate)
	// First pass: each call queues its command and stops with errQueued.
	if _, err := lim.AllowAtMost(ctx, chatKey, chatLimit, n); !errors.Is(err, errQueued) {
		return nil, nil, err
	}
	if _, err := lim.Allow(ctx, globalKey, globalLimit); !errors.Is(err, errQueued) {
		return nil, nil, err
	}
	if err := q.exec(ctx); err != nil {
		return nil, nil, err
	}
	// Second pass: the same calls read their answers.
	if chat, err = lim.AllowAtMost(ctx, chatKey, chatLimit, n); err != nil {
		return nil, nil, err
	}
	if global, err = lim.Allow(ctx, globalKey, globalLimit); err != nil {
		return nil, nil, err
	}
	return chat, global, nil
}

// firstPlaces is a store.Rider: in the round trip of the turn's commit it asks for the turn's first
// message's places, one in the chat's limit and one global, just as allowBoth would a moment later. The
// rest of the turn's messages ask as they go. A turn that ends up sending nothing leaves its places unused:
// that can only slow sends, never push them over a limit.
type firstPlaces struct {
	a       *Adapter
	chatKey string
	q       *queued
	lim     *redis_rate.Limiter
}

var _ store.Rider = (*firstPlaces)(nil)

func (a *Adapter) firstPlaces(chat string) *firstPlaces {
	return &firstPlaces{a: a, chatKey: ChatKey(a.o.Prefix, a.o.Hash(chat))}
}

// Ride queues the two asks in the commit's pipeline, the first time only.
func (f *firstPlaces) Ride(ctx context.Context, p redis.Pipeliner) {
	if f.q != nil {
		return
	}
	f.q = &queued{rdb: f.a.o.RDB}
	f.lim = redis_rate.NewLimiter(f.q)
	if _, err := f.lim.AllowAtMost(ctx, f.chatKey, ChatLimit(f.a.o.PerChatRate), 1); !errors.Is(err, errQueued) {
		f.q = &queued{done: true} // cannot happen: redis_rate queues before anything else
		return
	}
	_, _ = f.lim.Allow(ctx, GlobalKey(f.a.o.Prefix), GlobalLimit(f.a.o.GlobalRate))
	for _, c := range f.q.cmds {
		_ = p.Process(ctx, c)
	}
	f.q.done = true
}

// rode says whether the asks went with a commit (f may be nil).
func (f *firstPlaces) rode() bool { return f != nil && f.q != nil && len(f.q.cmds) == 2 }

// answers reads what the asks got (redis_rate runs a script Redis no longer had again, at once).
func (f *firstPlaces) answers(ctx context.Context) (chat, global *redis_rate.Result, err error) {
	if chat, err = f.lim.AllowAtMost(ctx, f.chatKey, ChatLimit(f.a.o.PerChatRate), 1); err != nil {
		return nil, nil, err
	}
	if global, err = f.lim.Allow(ctx, GlobalKey(f.a.o.Prefix), GlobalLimit(f.a.o.GlobalRate)); err != nil {
		return nil, nil, err
	}
	return chat, global, nil
}

var errQueued = errors.New("queued for a pipeline")

// queued lets redis_rate's calls share one pipeline. redis_rate sends one EVALSHA per call and reads its
// answer at once; through queued, a first pass of calls only collects their commands (each call ends with
// errQueued), exec sends them all in one round trip, and a second pass of the same calls, in the same
// order, reads the answers. A script Redis no longer has (NOSCRIPT, after a restart) is sent again with
// EVAL by redis_rate itself, straight to Redis.
type queued struct {
	rdb  redis.UniversalClient
	cmds []*redis.Cmd
	done bool
	next int
}

func (q *queued) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	if q.done {
		if q.next >= len(q.cmds) {
			cmd := redis.NewCmd(ctx)
			cmd.SetErr(errors.New("telegram: more limiter calls than queued"))
			return cmd
		}
		q.next++
		return q.cmds[q.next-1]
	}
	all := make([]any, 0, 3+len(keys)+len(args))
	all = append(all, "evalsha", sha1, len(keys))
	for _, k := range keys {
		all = append(all, k)
	}
	all = append(all, args...)
	cmd := redis.NewCmd(ctx, all...)
	if len(keys) > 0 {
		cmd.SetFirstKeyPos(3)
	}
	q.cmds = append(q.cmds, cmd)
	errCmd := redis.NewCmd(ctx)
	errCmd.SetErr(errQueued)
	return errCmd
}

// exec sends the queued commands in one pipeline. Errors of single commands (NOSCRIPT) stay with them.
func (q *queued) exec(ctx context.Context) error {
	pipe := q.rdb.Pipeline()
	for _, c := range q.cmds {
		_ = pipe.Process(ctx, c)
	}
	_, err := pipe.Exec(ctx)
	q.done = true
	for _, c := range q.cmds {
		if c.Err() != nil && !isNoScript(c.Err()) {
			return err
		}
	}
	return nil
}

func isNoScript(err error) bool { return redis.HasErrorPrefix(err, "NOSCRIPT") }

func (q *queued) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return q.rdb.Eval(ctx, script, keys, args...)
}

func (q *queued) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return q.rdb.EvalRO(ctx, script, keys, args...)
}

func (q *queued) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return q.rdb.EvalShaRO(ctx, sha1, keys, args...)
}

func (q *queued) ScriptExists(ctx context.Context, hashes ...string) *redis.BoolSliceCmd {
	return q.rdb.ScriptExists(ctx, hashes...)
}

func (q *queued) ScriptLoad(ctx context.Context, script string) *redis.StringCmd {
	return q.rdb.ScriptLoad(ctx, script)
}

func (q *queued) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return q.rdb.Del(ctx, keys...)
}
