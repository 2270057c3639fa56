package telegram

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/store"
)

// Telegram's limits, shared by every replica through Redis (redis_rate, GCRA): about PerChatRate messages a
// second to one chat, and GlobalRate a second overall. The global limit is two lanes, each half the rate
// with its places evenly spaced, so that two messages can take their places together and still no second
// holds more than GlobalRate: an edit that echoes a button press goes alongside the next question. A turn
// of n messages costs n-1 limiter round trips of its own (n-2 when it begins with a button press's edit and
// question) when the chat is under its limit: the first
// messages' places (in the chat's limit, and one global place, or one in each lane for a button press's
// edit and question) ride in the round trip of the turn's commit (firstPlaces); the next message asks for
// the chat's limit for the rest of the turn in one pipeline with its global place; each further message
// asks for its global place. A turn that commits nothing asks as that next message does.

// Lanes is how many global limits the overall rate is split into (see GlobalLimit).
const Lanes = 2

// ChatLimit is about perSecond messages a second to one chat, with a burst of four seconds' worth (a
// question and its notices come together).
func ChatLimit(perSecond int) redis_rate.Limit {
	return redis_rate.Limit{Rate: perSecond, Burst: perSecond * 4, Period: time.Second}
}

// GlobalLimit is lane's share of an overall limit of perSecond: its places evenly spaced (no burst: Telegram
// counts any one second), 3 % under its share so that the sender's delays and network jitter between
// replicas and Telegram (up to 30 ms) do not push a second over the limit. The shares add up to perSecond,
// and any one second holds at most a lane's share of its places, so at most perSecond in all.
func GlobalLimit(perSecond, lane int) redis_rate.Limit {
	n := lanes(perSecond)
	rate := perSecond / n
	if lane < perSecond%n {
		rate++
	}
	return redis_rate.Limit{Rate: rate, Burst: 1, Period: time.Second * 103 / 100}
}

// lanes is how many lanes an overall limit of perSecond has: Lanes, or fewer for a limit under Lanes a
// second.
func lanes(perSecond int) int { return min(Lanes, max(perSecond, 1)) }

// ChatKey is the key of one chat's limit (redis_rate adds its own "rate:" in front); hashedChat is the chat
// id through Options.Hash.
func ChatKey(prefix, hashedChat string) string { return prefix + "{rl:c:" + hashedChat + "}" }

// GlobalKey is the key of one lane (0 to Lanes-1) of the limit shared by every chat and replica.
func GlobalKey(prefix string, lane int) string { return prefix + "{rl:all:" + strconv.Itoa(lane) + "}" }

// spareFor is how long a global place taken for a message that goes alongside another may wait for it,
// once its answer has come: normally microseconds. A place used later than it was given could crowd a
// second (see GlobalLimit): the message asks again instead.
const spareFor = 10 * time.Millisecond

// chatBudget hands out a chat's limit to the messages of one turn. It is asked for all of them at once (but
// for the first, when its places rode with the turn's commit); when only some are allowed, those go at
// once and it asks again, after redis_rate's retry_after, for the rest: the timing of one message at a
// time, with fewer round trips.
type chatBudget struct {
	chat    string
	key     string          // the chat's limit's key, once worked out (see chatKey)
	first   *firstPlaces    // the first messages' places, asked with the turn's commit (nil: none)
	pair    bool            // the first two messages go together: they take a global place in each lane
	granted int             // allowed, not yet sent
	want    int             // not yet allowed
	spare   int             // global places taken with the last ask and not yet used
	spareAt time.Time       // when their answers were read (see spareFor)
	soonest int             // 1 + the lane that refused the last ask and frees first (0: none): asked next
	cb      *callbackAnswer // the turn's answer to a button press (see Adapter.answerIfLate)
	open    bool            // Redis failed this turn: its further messages go without asking (fail open)
	taken   bool            // its one message's places were taken already (a pair's edit): its first attempt asks none
}

func (a *Adapter) chatBudget(chat string, n int) *chatBudget { return &chatBudget{chat: chat, want: n} }

// chatKey is the key of b's chat's limit, worked out (an HMAC of the chat id) once a turn.
func (a *Adapter) chatKey(b *chatBudget) string {
	switch {
	case b.key != "":
	case b.first != nil:
		b.key = b.first.chatKey
	default:
		b.key = ChatKey(a.o.Prefix, a.o.Hash(b.chat))
	}
	return b.key
}

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
	chatLimit := ChatLimit(a.o.PerChatRate)
	places := 1 // global places to ask together (a pair's first message asks for both)
	if first && b.granted == 0 && b.want > 0 {
		// One round trip for both: usually both allow, and the message goes. The first messages' were
		// asked in the round trip of the turn's commit, when it had one.
		if b.pair {
			places = Lanes
		}
		var chat *redis_rate.Result
		var globals []*redis_rate.Result
		var asked []int
		var err error
		if f := b.first; f.rode() {
			b.first = nil
			b.key, asked = f.chatKey, f.lanes
			chat, globals, err = f.answers(ctx)
		} else {
			chat, asked, globals, err = a.allowBoth(ctx, a.chatKey(b), chatLimit, b.want, places)
		}
		b.pair, b.spare = false, 0
		switch {
		case err != nil && ctx.Err() != nil:
			return false
		case err != nil:
			b.grant(b.want)
			b.open = true
			return true
		case chat.Allowed > 0:
			b.grant(chat.Allowed)
			if allowed, retry := b.keep(asked, globals); allowed > 0 {
				b.granted--
				return true
			} else if !a.pause(ctx, b, retry) {
				return false
			}
		default:
			// The chat is over its limit: the global places taken with it are let go (redis_rate cannot
			// give them back; they are only ever lost, never added) and asked again when the chat's turn
			// comes.
			if !a.pause(ctx, b, chat.RetryAfter) {
				return false
			}
		}
	}
	if first {
		for b.granted == 0 && b.want > 0 {
			rctx, cancel := context.WithTimeout(ctx, limitWait)
			res, err := a.limiter.AllowAtMost(rctx, a.chatKey(b), chatLimit, b.want)
			cancel()
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
	if b.spare > 0 {
		b.spare--
		if time.Since(b.spareAt) < spareFor {
			return true
		}
		b.spare = 0 // too old to use: asked again
	}
	if err := a.wait(ctx, b, places); err != nil {
		b.open = ctx.Err() == nil
		return b.open
	}
	return true
}

// lane is the global lane for the next ask of a single place: each in turn.
func (a *Adapter) lane() int { return int(a.lanes.Add(1) % uint32(lanes(a.o.GlobalRate))) }

// wait blocks until a lane of the global limit allows one more of b's messages. With places over one it
// asks every lane at once, and keeps the places it gets beyond the first for the messages that go along.
func (a *Adapter) wait(ctx context.Context, b *chatBudget, places int) error {
	for {
		// Each ask goes to the next lane in turn, so that the messages waiting spread over the lanes
		// however many each lane had; but after a refusal among several asks (a turn's first, or a pair's)
		// the lane that frees first is asked first.
		var allowed int
		var retry time.Duration
		if places == 1 {
			lane := a.lane()
			if b.soonest > 0 {
				lane, b.soonest = b.soonest-1, 0
			}
			rctx, cancel := context.WithTimeout(ctx, limitWait)
			res, err := a.limiter.Allow(rctx, GlobalKey(a.o.Prefix, lane), GlobalLimit(a.o.GlobalRate, lane))
			cancel()
			if err != nil {
				return err // Redis unavailable: the caller decides (the adapter fails open)
			}
			allowed, retry = res.Allowed, res.RetryAfter
		} else {
			_, asked, globals, err := a.allowBoth(ctx, "", redis_rate.Limit{}, 0, places)
			if err != nil {
				return err
			}
			allowed, retry = b.keep(asked, globals)
		}
		if allowed > 0 {
			return nil
		}
		if !a.pause(ctx, b, retry) {
			return ctx.Err()
		}
	}
}

// keep counts the global places allowed of globals (the answers of lanes asked, just read), keeps all but
// one as spares (for the messages going along, see spareFor), remembers the lane that refused and frees first, and
// returns the count and, when none was allowed, how long until one may be.
func (b *chatBudget) keep(asked []int, globals []*redis_rate.Result) (allowed int, retry time.Duration) {
	b.soonest = 0
	for i, g := range globals {
		if g.Allowed > 0 {
			allowed++
		} else if retry == 0 || g.RetryAfter < retry {
			retry, b.soonest = g.RetryAfter, asked[i]+1
		}
	}
	b.spare, b.spareAt = max(allowed-1, 0), time.Now()
	return allowed, retry
}

// askGlobal queues, through lim, the asks for one global place in each of n lanes (one: the next in turn;
// more: one in each lane, as many as there are) and returns the lanes asked.
func (a *Adapter) askGlobal(ctx context.Context, lim *redis_rate.Limiter, n int) (asked []int) {
	if n == 1 {
		asked = []int{a.lane()}
	} else {
		for i := range min(n, lanes(a.o.GlobalRate)) {
			asked = append(asked, i)
		}
	}
	for _, lane := range asked {
		_, _ = lim.Allow(ctx, GlobalKey(a.o.Prefix, lane), GlobalLimit(a.o.GlobalRate, lane))
	}
	return asked
}

// globalAnswers reads the answers to the asks of askGlobal in lanes asked.
func (a *Adapter) globalAnswers(ctx context.Context, lim *redis_rate.Limiter, asked []int) ([]*redis_rate.Result, error) {
	out := make([]*redis_rate.Result, 0, len(asked))
	for _, lane := range asked {
		res, err := lim.Allow(ctx, GlobalKey(a.o.Prefix, lane), GlobalLimit(a.o.GlobalRate, lane))
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

// allowBoth asks redis_rate, in one pipelined round trip, for up to n messages to a chat (none with chatKey
// empty: chat is nil) and for a global place in each of places lanes (see askGlobal).
func (a *Adapter) allowBoth(ctx context.Context, chatKey string, chatLimit redis_rate.Limit, n, places int) (chat *redis_rate.Result, asked []int, globals []*redis_rate.Result, err error) {
	q := &queued{rdb: a.o.RDB}
	lim := redis_rate.NewLimiter(q)
	// First pass: each call queues its command and stops with errQueued.
	if chatKey != "" {
		if _, err := lim.AllowAtMost(ctx, chatKey, chatLimit, n); !errors.Is(err, errQueued) {
			return nil, nil, nil, err
		}
	}
	asked = a.askGlobal(ctx, lim, places)
	rctx, cancel := context.WithTimeout(ctx, limitWait)
	defer cancel()
	if err := q.exec(rctx); err != nil {
		return nil, nil, nil, err
	}
	// Second pass: the same calls read their answers (a script Redis no longer had is sent again, within
	// the same deadline).
	if chatKey != "" {
		if chat, err = lim.AllowAtMost(rctx, chatKey, chatLimit, n); err != nil {
			return nil, nil, nil, err
		}
	}
	if globals, err = a.globalAnswers(rctx, lim, asked); err != nil {
		return nil, nil, nil, err
	}
	return chat, asked, globals, nil
}

// firstPlaces is a store.Rider: in the round trip of the turn's commit it asks for the turn's first
// messages' places, just as allowBoth would a moment later: n in the chat's limit, and one global place, or
// one in each lane when the turn is expected to begin with two messages that go together (a button press's
// edit and the next question). The rest of the turn's messages ask as they go. A turn that ends up sending
// fewer leaves places unused: that can only slow sends, never push them over a limit.
type firstPlaces struct {
	a       *Adapter
	chatKey string
	n       int
	q       *queued
	lim     *redis_rate.Limiter
	lanes   []int // the global lanes asked
}

var _ store.Rider = (*firstPlaces)(nil)

// firstPlaces rides with the commit of a turn that will begin with n (1 or Lanes) messages going together.
func (a *Adapter) firstPlaces(chat string, n int) *firstPlaces {
	return &firstPlaces{a: a, chatKey: ChatKey(a.o.Prefix, a.o.Hash(chat)), n: n}
}

// Ride queues the asks in the commit's pipeline. A commit tried again asks again: places asked with an
// earlier attempt would be used a few round trips late (see spareFor), and are let go. (After a lost race
// whose next attempt has nothing to commit, the last attempt's answers are used, a load later.)
func (f *firstPlaces) Ride(ctx context.Context, p redis.Pipeliner) {
	f.q = &queued{rdb: f.a.o.RDB}
	f.lim = redis_rate.NewLimiter(f.q)
	if _, err := f.lim.AllowAtMost(ctx, f.chatKey, ChatLimit(f.a.o.PerChatRate), f.n); !errors.Is(err, errQueued) {
		f.q = &queued{done: true} // cannot happen: redis_rate queues before anything else
		return
	}
	f.lanes = f.a.askGlobal(ctx, f.lim, f.n)
	for _, c := range f.q.cmds {
		_ = p.Process(ctx, c)
	}
	f.q.done = true
}

// rode says whether the asks went with a commit (f may be nil).
func (f *firstPlaces) rode() bool { return f != nil && f.q != nil && len(f.q.cmds) == 1+len(f.lanes) }

// answers reads what the asks got (redis_rate runs a script Redis no longer had again, at once, within
// limitWait).
func (f *firstPlaces) answers(ctx context.Context) (chat *redis_rate.Result, globals []*redis_rate.Result, err error) {
	ctx, cancel := context.WithTimeout(ctx, limitWait)
	defer cancel()
	if chat, err = f.lim.AllowAtMost(ctx, f.chatKey, ChatLimit(f.a.o.PerChatRate), f.n); err != nil {
		return nil, nil, err
	}
	if globals, err = f.a.globalAnswers(ctx, f.lim, f.lanes); err != nil {
		return nil, nil, err
	}
	return chat, globals, nil
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
