package telegram

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Telegram's limits, shared by every replica through Redis: about PerChatRate messages a second to one chat
// (redis_rate, GCRA with a burst), and GlobalRate a second overall, evenly spaced (GCRA with no burst, by
// reservation; see reserveScript). A turn of n messages asks Redis once when the chat is under its limit
// and its sends keep to their places: the chat's limit for all n and n global places, in one pipeline.
// A turn that falls behind its places asks for new ones (see takeGlobal).

// ChatLimit is about perSecond messages a second to one chat, with a burst of four seconds' worth (a
// question and its notices come together).
func ChatLimit(perSecond int) redis_rate.Limit {
	return redis_rate.Limit{Rate: perSecond, Burst: perSecond * 4, Period: time.Second}
}

// GlobalInterval is the spacing of messages under the global limit: perSecond a second, less 4 %. Telegram
// counts any one second and there is no burst; at 4 % under, a second holds one message fewer than the
// limit, so a message sent late by the scheduler or the network (and the next on time) still does not
// make one too many. (At 2 % under, a second holds exactly the limit: a burst of 10 000 got two 429s.)
func GlobalInterval(perSecond int) time.Duration {
	return time.Second * 104 / 100 / time.Duration(max(perSecond, 1))
}

// ChatKey is the key of one chat's limit (redis_rate adds its own "rate:" in front); hashedChat is the chat
// id through Options.Hash.
func ChatKey(prefix, hashedChat string) string { return prefix + "{rl:c:" + hashedChat + "}" }

// GlobalKey is the key of the limit shared by every chat and replica: the time (µs, Redis's clock) from
// which the next place is free.
func GlobalKey(prefix string) string { return prefix + "{rl:all}" }

// reserveHorizon is how far ahead a turn may take global places. Beyond it (Telegram's limit is far
// behind demand) a turn waits without taking any: places it could not use before its deadline would be
// lost to everybody.
const reserveHorizon = 20 * time.Second

// reserveScript takes ARGV[2] places in the global limit, ARGV[1] µs apart, from the first free one (GCRA
// with no burst: the same places as that many calls of redis_rate with Burst 1, in one round trip), when
// that one is at most ARGV[3] µs away. It returns {places taken, µs until the first} or, taking none,
// {0, µs until the first is within reach}. Places are never given back: one taken and not used is lost.
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, n, horizon = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local free = tonumber(redis.call('GET', KEYS[1]) or now)
if free < now then free = now end
local wait = free - now
if wait > horizon then return {0, wait - horizon} end
local after = free + n * interval
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', math.floor((after - now) / 1000) + 1000)
return {n, wait}
`)

// reserveArgs are reserveScript's arguments for n places.
func reserveArgs(perSecond, n int) []any {
	return []any{GlobalInterval(perSecond).Microseconds(), n, reserveHorizon.Microseconds()}
}

// ReserveGlobal takes n places in the global limit as the adapter does (the load tool records the command).
func ReserveGlobal(ctx context.Context, rdb redis.Scripter, prefix string, perSecond, n int) error {
	return reserveScript.Run(ctx, rdb, []string{GlobalKey(prefix)}, reserveArgs(perSecond, n)...).Err()
}

// reservation reads reserveScript's answer.
func reservation(v any) (taken int, wait time.Duration, err error) {
	r, ok := v.([]any)
	if !ok || len(r) != 2 {
		return 0, 0, fmt.Errorf("telegram: global limit answered %v", v)
	}
	n, _ := r[0].(int64)
	us, _ := r[1].(int64)
	return int(n), time.Duration(us) * time.Microsecond, nil
}

// chatBudget hands out a turn's places: in the chat's limit, asked for all the turn's messages at once (when
// only some are allowed, those go at once and it asks again, after redis_rate's retry_after, for the rest),
// and in the global limit, reserved for all the messages still to go and used in order.
type chatBudget struct {
	chat    string
	granted int             // chat places allowed, not yet used
	want    int             // chat places not yet allowed
	asked   bool            // the chat's limit has been asked (the first time with the global places)
	slots   int             // global places reserved, not yet used
	next    time.Time       // when the next of them comes
	cb      *callbackAnswer // the turn's answer to a button press (see Adapter.answerIfLate)
	open    bool            // Redis failed this turn: its further messages go without asking (fail open)
}

func (a *Adapter) chatBudget(chat string, n int) *chatBudget { return &chatBudget{chat: chat, want: n} }

// grant records that n of the wanted messages are allowed.
func (b *chatBudget) grant(n int) {
	n = min(n, b.want)
	b.granted, b.want = b.granted+n, b.want-n
}

// reserved records n global places, the first after wait.
func (b *chatBudget) reserved(n int, wait time.Duration) {
	b.slots, b.next = n, time.Now().Add(wait)
}

// allow waits until one more message may go: its place in the chat's limit (first: its first attempt)
// and in the global limit. It is false only when ctx ended. When Redis fails, the message goes (fail open:
// Telegram's own 429s are still honoured, and the person still gets the engine's "try again").
func (a *Adapter) allow(ctx context.Context, b *chatBudget, first bool) bool {
	if first && !a.takeChat(ctx, b) {
		return false
	}
	return a.takeGlobal(ctx, b)
}

// takeChat takes the message's place in the chat's limit, asking Redis when the turn has none left: the
// first time together with the global places of all the turn's messages.
func (a *Adapter) takeChat(ctx context.Context, b *chatBudget) bool {
	for b.granted == 0 && b.want > 0 {
		chatKey := ChatKey(a.o.Prefix, a.o.Hash(b.chat))
		var res *redis_rate.Result
		var err error
		if !b.asked {
			b.asked = true
			res, err = a.allowBoth(ctx, b, chatKey)
		} else {
			res, err = a.limiter.AllowAtMost(ctx, chatKey, ChatLimit(a.o.PerChatRate), b.want)
		}
		switch {
		case err != nil && ctx.Err() != nil:
			return false
		case err != nil:
			b.grant(b.want)
			b.open = true
		case res.Allowed > 0:
			b.grant(res.Allowed)
		default:
			// The chat is over its limit. The global places taken with the ask will be past when its turn
			// comes (see takeGlobal): they are lost, as they would be to anyone who did not send.
			if !a.pause(ctx, b, res.RetryAfter) {
				return false
			}
		}
	}
	if b.granted > 0 {
		b.granted--
	}
	return true
}

// lateness is how late a reserved place may still be used. Places are 4 % under the limit: a second of
// them is 40 ms shorter than a second, so sends each up to 40 ms late still make no second hold too many.
// Half of that is left to the network between the replicas and Telegram.
const lateness = 20 * time.Millisecond

// takeGlobal waits for the message's place in the global limit, reserving places for it and the turn's
// further messages when the turn has none left. A place is only good at its time: used much later, it
// would go on top of the places of that later time and make a burst, so a turn that has fallen behind its
// places by more than lateness (a chat's limit or a 429 held it up, or the Bot API was slow) drops them
// and takes new ones.
func (a *Adapter) takeGlobal(ctx context.Context, b *chatBudget) bool {
	if b.open {
		return true
	}
	if b.slots > 0 && time.Since(b.next) > lateness {
		b.slots = 0
	}
	for b.slots == 0 {
		n := 1 + b.granted + b.want // this message and the turn's others not yet sent
		v, err := reserveScript.Run(ctx, a.o.RDB, []string{GlobalKey(a.o.Prefix)}, reserveArgs(a.o.GlobalRate, n)...).Result()
		taken, wait := 0, time.Duration(0)
		if err == nil {
			taken, wait, err = reservation(v)
		}
		if err != nil {
			b.open = true
			return ctx.Err() == nil // Redis unavailable: fail open
		}
		if taken > 0 {
			b.reserved(taken, wait)
			break
		}
		if !a.pause(ctx, b, wait) {
			return false
		}
	}
	if d := time.Until(b.next); d > 0 && !a.pause(ctx, b, d) {
		return false
	}
	b.slots--
	b.next = b.next.Add(GlobalInterval(a.o.GlobalRate))
	return true
}

// allowBoth asks, in one pipelined round trip, redis_rate for up to b.want messages to the chat and
// reserveScript for the global places of all of them, which it records in b.
func (a *Adapter) allowBoth(ctx context.Context, b *chatBudget, chatKey string) (*redis_rate.Result, error) {
	q := &queued{rdb: a.o.RDB}
	lim := redis_rate.NewLimiter(q)
	chatLimit := ChatLimit(a.o.PerChatRate)
	// First pass: the call queues its command and stops with errQueued.
	if _, err := lim.AllowAtMost(ctx, chatKey, chatLimit, b.want); !errors.Is(err, errQueued) {
		return nil, err
	}
	keys, args := []string{GlobalKey(a.o.Prefix)}, reserveArgs(a.o.GlobalRate, b.want)
	global := reserveScript.EvalSha(ctx, q.pipeline(), keys, args...)
	if err := q.exec(ctx); err != nil {
		return nil, err
	}
	if isNoScript(global.Err()) { // Redis lost its scripts (a restart): once more, loading it
		global = reserveScript.Eval(ctx, a.o.RDB, keys, args...)
	}
	if v, err := global.Result(); err == nil {
		if taken, wait, err := reservation(v); err == nil && taken > 0 {
			b.reserved(taken, wait)
		}
	} // else takeGlobal asks again, and fails open if Redis still fails
	// Second pass: the same call reads its answer.
	return lim.AllowAtMost(ctx, chatKey, chatLimit, b.want)
}

var errQueued = errors.New("queued for a pipeline")

// queued lets redis_rate's calls share one pipeline with other commands. redis_rate sends one EVALSHA per
// call and reads its answer at once; through queued, a first pass of calls only collects their commands
// (each call ends with errQueued), exec sends them and whatever else was added to pipeline() in one round
// trip, and a second pass of the same calls, in the same order, reads the answers. A script Redis no
// longer has (NOSCRIPT, after a restart) is sent again with EVAL by redis_rate itself, straight to Redis.
type queued struct {
	rdb  redis.UniversalClient
	pipe redis.Pipeliner
	cmds []*redis.Cmd
	done bool
	next int
}

// pipeline is the round trip's pipeline: redis_rate's queued commands go first, when exec runs.
func (q *queued) pipeline() redis.Pipeliner {
	if q.pipe == nil {
		q.pipe = q.rdb.Pipeline()
	}
	return q.pipe
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

// exec sends the queued commands, then the pipeline's others, in one round trip. Errors of single commands
// (NOSCRIPT) stay with them.
func (q *queued) exec(ctx context.Context) error {
	others := q.pipeline()
	pipe := q.rdb.Pipeline()
	for _, c := range q.cmds {
		_ = pipe.Process(ctx, c)
	}
	for _, c := range others.Cmds() {
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
