// Package store keeps palaute's state in Redis: sessions, "counted once" marks, responses, aggregates,
// invitations and the outbox. Keys touched together share a hash tag ({r:<pid>} per respondent,
// {u:<unit>} per unit) so the same code runs on a single node, Sentinel and Cluster.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
)

// Store is the engine's session store on Redis.
//
// With a session cache (WithSessionCache), Store remembers the session and marks each person's last load
// or commit left in Redis, so the next message of a conversation this process handles needs no load: its
// commit is the only round trip. The cache is never trusted: the commit is a compare-and-set on the
// version, every version is unique (the Redis server's time in 10 µs units, or a little more than the last),
// and a commit that finds another version gets it back in the same round trip, for the engine's retry.
type Store struct {
	rdb          redis.UniversalClient
	prefix       string
	cache        *expirable.LRU[string, cached] // nil: every Load reads Redis
	hits, misses atomic.Int64
}

// cached is what Redis held for a person: the session's stored value ("<version> <json>") and the marks.
type cached struct{ raw, marks string }

// cacheAge is how long a cached session is kept. It is gone after that even on a process that handles
// nothing more (an LRU with expiry: its own goroutine drops old entries), so a copy of a session the
// person has since erased with /forget on another replica does not stay in memory.
const cacheAge = 10 * time.Minute

var _ bot.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithSessionCache keeps the sessions of the n people who wrote last in memory, for at most cacheAge
// (n <= 0: none). The cache has a goroutine that lives as long as the process.
func WithSessionCache(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.cache = expirable.NewLRU[string, cached](n, nil, cacheAge)
		}
	}
}

// New returns a store using keys that start with prefix (e.g. "pl:").
func New(rdb redis.UniversalClient, prefix string, opts ...Option) *Store {
	s := &Store{rdb: rdb, prefix: prefix}
	for _, o := range opts {
		o(s)
	}
	return s
}

// CacheStats counts the loads the session cache answered (hits) and those that went to Redis (misses,
// LoadFresh included).
func (s *Store) CacheStats() (hits, misses int64) { return s.hits.Load(), s.misses.Load() }

// cacheMax is the largest session the cache keeps: a typical one is under 500 bytes, one holding long
// free-text answers may be many KiB. The cache's memory stays under cacheMax times its entries.
const cacheMax = 2 << 10

// remember keeps what Redis holds for pid (raw: the session's stored value, "" for none). No session is
// not kept (a person the engine has never seen is looked up in Redis), nor one larger than cacheMax.
func (s *Store) remember(pid, raw, marks string) {
	switch {
	case s.cache == nil:
	case raw == "" || len(raw)+len(marks) > cacheMax:
		s.cache.Remove(pid)
	default:
		s.cache.Add(pid, cached{raw: raw, marks: marks})
	}
}

// Client is the Redis client the store uses.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Prefix is the key prefix.
func (s *Store) Prefix() string { return s.prefix }

// SessionKey is the key of a respondent's session.
func (s *Store) SessionKey(pid string) string { return s.prefix + "{r:" + pid + "}:s" }

// MarksKey is the key of a respondent's "counted once" marks.
func (s *Store) MarksKey(pid string) string { return s.prefix + "{r:" + pid + "}:c" }

// UnitKey is a per-unit key: P{u:<unit>}:<rest>.
func (s *Store) UnitKey(unit, rest string) string { return unitKey(s.prefix, unit, rest) }

// ParseUnitKey reads a key made by UnitKey back into its unit and rest; ok is false for any other key.
func (s *Store) ParseUnitKey(key string) (unit, rest string, ok bool) {
	after, ok := strings.CutPrefix(key, s.prefix+"{u:")
	if !ok {
		return "", "", false
	}
	return strings.Cut(after, "}:")
}

// unitKeyMatch is a SCAN MATCH pattern of every per-unit key.
func (s *Store) unitKeyMatch() string { return globEscape(s.prefix+"{u:") + "*}:*" }

func unitKey(prefix, unit, rest string) string { return prefix + "{u:" + unit + "}:" + rest }

// AggKey is the counters hash of a unit, audience and ISO week.
func (s *Store) AggKey(unit, audience, week string) string {
	return aggKey(s.prefix, unit, audience, week)
}

// aggKey is the counters hash of a unit, audience and ISO week ("2026-W47") under prefix.
func aggKey(prefix, unit, audience, week string) string {
	return unitKey(prefix, unit, "agg:"+audience+":"+week)
}

// Load reads the session and marks in one round trip, or none when the session cache has them (the
// session is then marked Cached).
func (s *Store) Load(ctx context.Context, pid string) (*bot.Session, bot.Marks, error) {
	if s.cache != nil {
		if c, ok := s.cache.Get(pid); ok {
			s.hits.Add(1)
			sess, marks, err := decode(c.raw, c.marks)
			if sess != nil {
				sess.Cached = true
			}
			return sess, marks, err
		}
	}
	return s.LoadFresh(ctx, pid)
}

var _ bot.FreshLoader = (*Store)(nil)

// PublishesChecked says whether Commit publishes nothing for a session that is no longer at the version
// the turn started from. It does on a single Redis and with Sentinel; on a Cluster the session and the unit
// are on different slots, which one script cannot touch, so the engine reads the session first.
func (s *Store) PublishesChecked() bool {
	_, single := s.rdb.(*redis.Client) // one node, or Sentinel's failover client; not a Cluster or a Ring
	return single
}

// LoadFresh reads the session and marks from Redis in one round trip.
func (s *Store) LoadFresh(ctx context.Context, pid string) (*bot.Session, bot.Marks, error) {
	s.misses.Add(1)
	var sess, marks *redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		sess = p.Get(ctx, s.SessionKey(pid))
		marks = p.Get(ctx, s.MarksKey(pid))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, fmt.Errorf("load session: %w", err)
	}
	raw, m := sess.Val(), marks.Val() // "" for a missing key
	out, ms, err := decode(raw, m)
	if err == nil {
		s.remember(pid, raw, m)
	}
	return out, ms, err
}

// decode reads a stored session ("" for none) and marks.
func decode(raw, marks string) (*bot.Session, bot.Marks, error) {
	var out *bot.Session
	if raw != "" {
		var err error
		if out, err = decodeSession(raw); err != nil {
			return nil, nil, err
		}
	}
	m := bot.Marks{}
	for _, f := range strings.Fields(marks) {
		m[f] = true
	}
	return out, m, nil
}

// ErrCorrupt is returned for a stored session that cannot be read.
var ErrCorrupt = errors.New("corrupt session")

func decodeSession(raw string) (*bot.Session, error) {
	v, body, ok := strings.Cut(raw, " ")
	ver, err := strconv.ParseInt(v, 10, 64)
	if !ok || err != nil {
		return nil, fmt.Errorf("%w: no version", ErrCorrupt)
	}
	var s bot.Session
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if s.Anchors == nil && strings.Contains(body, `"m":`) {
		// Written by an older version (sessions live session_ttl + 48 h, so this can go a few days after
		// every replica runs the new one): "m" held the anchors themselves, and before that the first
		// message id of the window /forget deletes, with its time in "mt".
		var old struct {
			M       json.RawMessage `json:"m"`
			FirstAt int64           `json:"mt"`
		}
		if json.Unmarshal([]byte(body), &old) == nil {
			var first int64
			if json.Unmarshal(old.M, &s.Anchors) != nil && json.Unmarshal(old.M, &first) == nil && first > 0 {
				s.Anchors = [][2]int64{{first, old.FirstAt}}
			}
		}
	}
	s.Version = ver
	return &s, nil
}

// luaVersion defines version(key): the version of the session stored at key (0: none, -1: unreadable) and
// its stored value. Both scripts that compare versions read them with it.
const luaVersion = `
local function version(key)
  local cur = redis.call('GET', key)
  if not cur then return 0, cur end
  return tonumber(string.match(cur, '^(%d+) ')) or -1, cur
end
`

// commitScript writes a session only if its version is still the one loaded (compare-and-set),
// and adds a "counted once" mark. The new version is the server's time in units of 10 µs since 2020, or,
// when that is not later than the last (a clock behind the version, after a failover), the last plus a
// random step from the client: two writes share a version only if they were made in the same 10 µs (or
// drew the same step) from the same one, even across a session that expired or a Redis that lost its last
// second, so a version someone remembers names one value. The number has 14 digits until 2051, which Lua
// 5.1's %.14g, used by the compare-and-set of earlier palaute versions, still writes exactly: old and new
// replicas can run side by side during an upgrade.
// KEYS: session, marks. ARGV: prev version, new value, ttl ms, mark, mark ttl ms, step (1..65536).
// Returns {1, new version, marks}, or on a version conflict {0, stored value, marks} (false for none).
var commitScript = redis.NewScript(luaVersion + `
local ver, cur = version(KEYS[1])
local m = redis.call('GET', KEYS[2])
if ver ~= tonumber(ARGV[1]) then return {0, cur, m} end
local t = redis.call('TIME')
local nv = (tonumber(t[1]) - 1577836800) * 100000 + math.floor(tonumber(t[2]) / 10)
if nv <= ver then nv = ver + tonumber(ARGV[6]) end
nv = string.format('%.0f', nv)
redis.call('SET', KEYS[1], nv .. ' ' .. ARGV[2], 'PX', ARGV[3])
if ARGV[4] ~= '' then
  local ttl = tonumber(ARGV[5])
  local old = redis.call('PTTL', KEYS[2])
  if old > ttl then ttl = old end
  m = (m or '') .. ' ' .. ARGV[4]
  redis.call('SET', KEYS[2], m, 'PX', ttl)
end
return {1, nv, m}
`)

// publishScript appends an entry to a unit's stream and bumps its counters, once per marker. With a fourth
// key (the person's session: not on a Cluster, where it is in another slot) it publishes only if the
// session is still at the version the turn started from, as the commit's compare-and-set will check.
// The entry id is the start of the ISO week (never a finer time) with a sequence.
// KEYS: marker, stream, aggregate hash[, session]. ARGV: marker ttl ms, week start ms, number of field
// args, the session's version, fields..., counters...
var publishScript = redis.NewScript(luaVersion + `
if KEYS[4] and version(KEYS[4]) ~= tonumber(ARGV[4]) then return 0 end
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
local ms = tonumber(ARGV[2])
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #last > 0 then
  local lms = tonumber(string.match(last[1][1], '^(%d+)-'))
  if lms > ms then ms = lms end
end
local n = tonumber(ARGV[3])
local args = {'XADD', KEYS[2], ms .. '-*'}
for i = 5, 4 + n do args[#args + 1] = ARGV[i] end
redis.call(unpack(args))
for i = 5 + n, #ARGV do redis.call('HINCRBY', KEYS[3], ARGV[i], 1) end
return 1
`)

// markerTTL is how long a publication's idempotency marker is kept (longer than any redelivery).
const markerTTL = 72 * time.Hour

// Commit writes one handled message in one round trip: the unit publications (idempotent by marker)
// and the session compare-and-set are pipelined. Except on a Cluster or a Ring, a publication is made only
// if the session is at c.Prev (see PublishesChecked).
func (s *Store) Commit(ctx context.Context, c bot.Commit) error {
	if c.Session == nil {
		return errors.New("commit: no session")
	}
	b, err := json.Marshal(c.Session)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	val := string(b)
	type call struct {
		script *redis.Script
		keys   []string
		args   []any
	}
	calls := make([]call, 0, len(c.Publish)+1)
	for _, p := range c.Publish {
		args := []any{markerTTL.Milliseconds(), p.Week.Start().UnixMilli(), len(p.Fields), c.Prev}
		for _, f := range p.Fields {
			args = append(args, f)
		}
		for _, f := range p.Counts {
			args = append(args, f)
		}
		keys := []string{s.UnitKey(p.Unit, "m:"+p.Marker), s.UnitKey(p.Unit, p.Stream), s.AggKey(p.Unit, p.Audience, p.Week.String())}
		if s.PublishesChecked() {
			keys = append(keys, s.SessionKey(c.PID))
		}
		calls = append(calls, call{publishScript, keys, args})
	}
	calls = append(calls, call{commitScript, []string{s.SessionKey(c.PID), s.MarksKey(c.PID)},
		[]any{c.Prev, val, c.TTL.Milliseconds(), c.Mark, c.MarkTTL.Milliseconds(), 1 + rand.IntN(1<<16)}})

	cmds := make([]*redis.Cmd, len(calls))
	rider, _ := ctx.Value(riderKey{}).(Rider)
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, cl := range calls {
			cmds[i] = cl.script.EvalSha(ctx, p, cl.keys, cl.args...)
		}
		if rider != nil {
			rider.Ride(ctx, p)
		}
		return nil
	})
	// The pipeline's error is its first failed command's, perhaps a rider's: each command is checked.
	// After a Redis restart the scripts are gone (NOSCRIPT): the ones that did not run are run now with
	// EVAL. If the compare-and-set did not run, all of them run in their order, publications first.
	last := len(calls) - 1
	if isNoScript(cmds[last].Err()) {
		for i, cl := range calls {
			if isNoScript(cmds[i].Err()) {
				cmds[i] = cl.script.Run(ctx, s.rdb, cl.keys, cl.args...)
			}
		}
	}
	if err := cmds[last].Err(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	ok, v, marks, err := commitAnswer(cmds[last])
	if err != nil {
		return err
	}
	if !ok {
		s.remember(c.PID, v, marks) // what the retry will load; nothing more is published
		return bot.ErrConflict
	}
	// A publication whose script was missing while the compare-and-set ran, and won, is the turn's own: it
	// runs now without the version check, which the compare-and-set has just moved on.
	for i, cl := range calls[:last] {
		if isNoScript(cmds[i].Err()) {
			cmds[i] = cl.script.Run(ctx, s.rdb, cl.keys[:3], cl.args...)
		}
		if err := cmds[i].Err(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	s.remember(c.PID, v+" "+val, marks)
	return nil
}

// commitAnswer reads commitScript's answer: written, and the new version and marks; or not, and the
// stored value and marks.
func commitAnswer(cmd *redis.Cmd) (ok bool, v, marks string, err error) {
	r, err := cmd.Slice()
	if err != nil {
		return false, "", "", fmt.Errorf("commit: %w", err)
	}
	if len(r) != 3 {
		// r is not formatted: on a conflict it holds a session.
		return false, "", "", fmt.Errorf("commit: unexpected answer of %d values", len(r))
	}
	n, _ := r[0].(int64)
	v, _ = r[1].(string)
	marks, _ = r[2].(string)
	return n == 1, v, marks, nil
}

func isNoScript(err error) bool { return redis.HasErrorPrefix(err, "NOSCRIPT") }

// Rider is another part's work that rides in the round trip of a turn's commit: Ride adds its commands
// to the commit's pipeline (again on every attempt, when the commit is retried), and the answers of the
// last are in them when Commit returns. Whether the commit succeeds does not depend on them.
// The Telegram adapter asks for its send limits this way.
type Rider interface {
	Ride(ctx context.Context, p redis.Pipeliner)
}

type riderKey struct{}

// WithRider returns a context whose commits carry r.
func WithRider(ctx context.Context, r Rider) context.Context {
	return context.WithValue(ctx, riderKey{}, r)
}

// LoadScripts loads the Lua scripts so the first commits need no fallback.
func (s *Store) LoadScripts(ctx context.Context) error {
	for _, sc := range []*redis.Script{commitScript, publishScript} {
		if err := sc.Load(ctx, s.rdb).Err(); err != nil {
			return fmt.Errorf("load script: %w", err)
		}
	}
	return nil
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }
