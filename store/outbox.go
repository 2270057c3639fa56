package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Msg is one Slack post waiting in the outbox. Key makes it idempotent: a Key is enqueued once.
type Msg struct {
	Key       string          `json:"k"`
	Channel   string          `json:"c"`
	Text      string          `json:"t"`
	Blocks    json.RawMessage `json:"b,omitempty"`
	File      []byte          `json:"f,omitempty"` // a PNG to upload with the post (summary charts)
	FileName  string          `json:"fn,omitempty"`
	FileTitle string          `json:"ft,omitempty"` // the file's title and alt text
	NotBefore time.Time       `json:"nb,omitzero"`
	Attempts  int             `json:"a,omitempty"`
}

// encode is the message as the outbox stores it, and when it is due in Unix ms (0: now).
func (m Msg) encode() (string, int64, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", 0, err
	}
	nb := int64(0)
	if !m.NotBefore.IsZero() {
		nb = m.NotBefore.UnixMilli()
	}
	return string(b), nb, nil
}

// Outbox is a durable queue of Slack posts: a Redis stream read by a consumer group (entries left by a
// dead sender are reclaimed), a sorted set for posts that are not due yet (delayed alerts, retries), and
// per-key markers so every post is enqueued once and posted once. All keys share the hash tag {outbox}.
type Outbox struct {
	rdb         redis.UniversalClient
	prefix      string
	MaxAttempts int
	MarkerTTL   time.Duration
}

// NewOutbox returns the outbox under prefix.
func NewOutbox(rdb redis.UniversalClient, prefix string) *Outbox {
	return &Outbox{rdb: rdb, prefix: prefix, MaxAttempts: 12, MarkerTTL: 400 * 24 * time.Hour}
}

const outboxGroup = "senders"

func (o *Outbox) k(s string) string { return o.prefix + "{outbox}:" + s }

// ErrDuplicate is returned by Enqueue for a Key that was enqueued before.
var ErrDuplicate = errors.New("already enqueued")

// enqueueScript enqueues a batch once per key. KEYS marker, stream, delayed. ARGV marker ttl ms, then
// a payload and its not-before ms (0 = now) per message. The messages of a batch are added in order.
var enqueueScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
for i = 2, #ARGV, 2 do
  if tonumber(ARGV[i + 1]) > 0 then
    redis.call('ZADD', KEYS[3], ARGV[i + 1], ARGV[i])
  else
    redis.call('XADD', KEYS[2], '*', 'm', ARGV[i])
  end
end
return 1
`)

// Enqueue adds a post once per Key (ErrDuplicate after that), due at m.NotBefore.
func (o *Outbox) Enqueue(ctx context.Context, m Msg) error { return o.EnqueueBatch(ctx, m.Key, m) }

// EnqueueBatch adds the posts ms together and in order, once per key (ErrDuplicate after that): a
// summary of several messages and a chart is enqueued whole or not at all, under one idempotency key
// (unit + period + kind). Each post keeps its own Key for the "posted" marker.
func (o *Outbox) EnqueueBatch(ctx context.Context, key string, ms ...Msg) error {
	if key == "" || len(ms) == 0 {
		return errors.New("outbox: a batch needs a key and a message")
	}
	args := []any{o.MarkerTTL.Milliseconds()}
	for _, m := range ms {
		if m.Key == "" || m.Channel == "" {
			return errors.New("outbox: a message needs a key and a channel")
		}
		payload, nb, err := m.encode()
		if err != nil {
			return fmt.Errorf("outbox enqueue: %w", err)
		}
		args = append(args, payload, nb)
	}
	n, err := enqueueScript.Run(ctx, o.rdb, []string{o.k("key:" + key), o.k("s"), o.k("delayed")}, args...).Int()
	if err != nil {
		return fmt.Errorf("outbox enqueue: %w", err)
	}
	if n == 0 {
		return ErrDuplicate
	}
	return nil
}

// Enqueued reports whether key was enqueued (and so will not be again): a caller can skip building
// what it would enqueue.
func (o *Outbox) Enqueued(ctx context.Context, key string) (bool, error) {
	n, err := o.rdb.Exists(ctx, o.k("key:"+key)).Result()
	if err != nil {
		return false, fmt.Errorf("outbox: %w", err)
	}
	return n == 1, nil
}

// promoteScript moves due delayed posts to the stream. KEYS delayed, stream. ARGV now ms.
var promoteScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, m in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'm', m)
  redis.call('ZREM', KEYS[1], m)
end
return #due
`)

// Entry is a claimed post.
type Entry struct {
	ID  string
	Msg Msg
}

// Claim returns up to n posts for consumer: posts left pending by a dead consumer for longer than
// minIdle first, then new ones. Due delayed posts are moved in first.
func (o *Outbox) Claim(ctx context.Context, consumer string, n int64, minIdle time.Duration, now time.Time) ([]Entry, error) {
	if err := o.rdb.XGroupCreateMkStream(ctx, o.k("s"), outboxGroup, "0").Err(); err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return nil, fmt.Errorf("outbox group: %w", err)
	}
	if err := promoteScript.Run(ctx, o.rdb, []string{o.k("delayed"), o.k("s")}, now.UnixMilli()).Err(); err != nil {
		return nil, fmt.Errorf("outbox promote: %w", err)
	}
	var msgs []redis.XMessage
	claimed, _, err := o.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: o.k("s"), Group: outboxGroup, Consumer: consumer,
		MinIdle: minIdle, Start: "0-0", Count: n}).Result()
	if err != nil {
		return nil, fmt.Errorf("outbox reclaim: %w", err)
	}
	msgs = append(msgs, claimed...)
	if int64(len(msgs)) < n {
		res, err := o.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: outboxGroup, Consumer: consumer,
			Streams: []string{o.k("s"), ">"}, Count: n - int64(len(msgs)), Block: -1}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("outbox read: %w", err)
		}
		for _, s := range res {
			msgs = append(msgs, s.Messages...)
		}
	}
	out := make([]Entry, 0, len(msgs))
	for _, x := range msgs {
		raw, _ := x.Values["m"].(string)
		var m Msg
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			// Not ours to post: drop it rather than retry it forever.
			o.rdb.XAck(ctx, o.k("s"), outboxGroup, x.ID)
			o.rdb.XDel(ctx, o.k("s"), x.ID)
			continue
		}
		out = append(out, Entry{ID: x.ID, Msg: m})
	}
	return out, nil
}

// Posted reports whether the post with key was already posted (a sender died before acknowledging).
func (o *Outbox) Posted(ctx context.Context, key string) (bool, error) {
	n, err := o.rdb.Exists(ctx, o.k("posted:"+key)).Result()
	return n == 1, err
}

// Done marks the post as posted and removes it from the stream, in one transaction. A follow-up
// post (next) is enqueued in the same transaction, once per its Key: a chart whose upload failed after
// its message went out is retried on its own, and the message is never posted again for it.
func (o *Outbox) Done(ctx context.Context, e Entry, next ...Msg) error {
	payloads := make([]string, len(next))
	nbs := make([]int64, len(next))
	for i, m := range next {
		var err error
		if payloads[i], nbs[i], err = m.encode(); err != nil {
			return fmt.Errorf("outbox done: %w", err)
		}
	}
	_, err := o.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, o.k("posted:"+e.Msg.Key), 1, o.MarkerTTL)
		p.XAck(ctx, o.k("s"), outboxGroup, e.ID)
		p.XDel(ctx, o.k("s"), e.ID)
		for i, m := range next {
			enqueueScript.Eval(ctx, p, []string{o.k("key:" + m.Key), o.k("s"), o.k("delayed")}, o.MarkerTTL.Milliseconds(), payloads[i], nbs[i])
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox done: %w", err)
	}
	return nil
}

// Retry puts the post back to be tried at `at` (one more attempt), or into the dead letters after
// MaxAttempts. It reports whether the post was given up.
func (o *Outbox) Retry(ctx context.Context, e Entry, at time.Time) (dead bool, err error) {
	m := e.Msg
	m.Attempts++
	return o.requeue(ctx, "retry", e, m, at, m.Attempts >= o.MaxAttempts)
}

// Postpone puts the post back to be tried at `at` without counting an attempt (a post waits behind an
// earlier one to the same channel that failed, so that the channel sees them in order).
func (o *Outbox) Postpone(ctx context.Context, e Entry, at time.Time) error {
	_, err := o.requeue(ctx, "postpone", e, e.Msg, at, false)
	return err
}

// Bury moves the post to the dead letters at once (Slack refused it for good: unknown channel,
// invalid blocks, revoked token).
func (o *Outbox) Bury(ctx context.Context, e Entry) error {
	m := e.Msg
	m.Attempts++
	_, err := o.requeue(ctx, "bury", e, m, time.Time{}, true)
	return err
}

// requeue takes the claimed entry e out of the stream and puts m (its message, updated) in the delayed
// set, due at `at`, or in the dead letters; op names the caller in errors.
func (o *Outbox) requeue(ctx context.Context, op string, e Entry, m Msg, at time.Time, dead bool) (bool, error) {
	m.NotBefore = at
	payload, nb, err := m.encode()
	if err != nil {
		return false, fmt.Errorf("outbox %s: %w", op, err)
	}
	_, err = o.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if dead {
			p.XAdd(ctx, &redis.XAddArgs{Stream: o.k("dead"), MaxLen: 10000, Approx: true, Values: []any{"m", payload}})
		} else {
			p.ZAdd(ctx, o.k("delayed"), redis.Z{Score: float64(nb), Member: payload})
		}
		p.XAck(ctx, o.k("s"), outboxGroup, e.ID)
		p.XDel(ctx, o.k("s"), e.ID)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("outbox %s: %w", op, err)
	}
	return dead, nil
}

// Depth is how many posts wait: in the stream (new or in hand) and delayed.
func (o *Outbox) Depth(ctx context.Context) (int64, error) {
	var x, z *redis.IntCmd
	_, err := o.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		x = p.XLen(ctx, o.k("s"))
		z = p.ZCard(ctx, o.k("delayed"))
		return nil
	})
	if err != nil {
		return 0, err
	}
	return x.Val() + z.Val(), nil
}

// TrimDead deletes the dead letters given up before `before` (they may quote feedback: they are kept
// no longer than the feedback itself) and returns how many.
func (o *Outbox) TrimDead(ctx context.Context, before time.Time) (int64, error) {
	// Dead letters have stream ids from the time they were given up.
	n, err := o.rdb.XTrimMinID(ctx, o.k("dead"), strconv.FormatInt(before.UnixMilli(), 10)+"-0").Result()
	if err != nil {
		return 0, fmt.Errorf("trim dead letters: %w", err)
	}
	return n, nil
}

// Dead returns how many posts were given up.
func (o *Outbox) Dead(ctx context.Context) (int64, error) {
	return o.rdb.XLen(ctx, o.k("dead")).Result()
}

// Lock is a Redis lock held by one replica at a time (SET NX PX with a random token; released and
// extended only by its holder).
type Lock struct {
	rdb   redis.UniversalClient
	key   string
	token string
}

// NewLock returns a lock named name, held under token (unique per replica).
func NewLock(rdb redis.UniversalClient, prefix, name, token string) *Lock {
	return &Lock{rdb: rdb, key: prefix + "{lock:" + name + "}", token: token}
}

var extendScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Acquire takes or keeps the lock for ttl and reports whether this replica holds it.
func (l *Lock) Acquire(ctx context.Context, ttl time.Duration) (bool, error) {
	ok, err := l.rdb.SetNX(ctx, l.key, l.token, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("lock: %w", err)
	}
	if ok {
		return true, nil
	}
	n, err := extendScript.Run(ctx, l.rdb, []string{l.key}, l.token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("lock: %w", err)
	}
	return n == 1, nil
}

// Release gives the lock up if this replica holds it.
func (l *Lock) Release(ctx context.Context) error {
	return releaseScript.Run(ctx, l.rdb, []string{l.key}, l.token).Err()
}

// Token is a lock token for this process.
func Token(host string, pid int) string {
	return host + ":" + strconv.Itoa(pid) + ":" + strconv.FormatInt(time.Now().UnixNano(), 36)
}
