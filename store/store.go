// Package store keeps palaute's state in Redis: sessions, "counted once" marks, responses, aggregates,
// invitations and the outbox. Keys touched together share a hash tag ({r:<pid>} per respondent,
// {u:<unit>} per unit) so the same code runs on a single node, Sentinel and Cluster.
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

	"github.com/palaute/palaute/bot"
)

// Store is the engine's session store on Redis.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ bot.Store = (*Store)(nil)

// New returns a store using keys that start with prefix (e.g. "pl:").
func New(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix}
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

// Load reads the session and marks in one round trip.
func (s *Store) Load(ctx context.Context, pid string) (*bot.Session, bot.Marks, error) {
	var sess, marks *redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		sess = p.Get(ctx, s.SessionKey(pid))
		marks = p.Get(ctx, s.MarksKey(pid))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, fmt.Errorf("load session: %w", err)
	}
	var out *bot.Session
	if raw, err := sess.Result(); err == nil {
		out, err = decodeSession(raw)
		if err != nil {
			return nil, nil, err
		}
	}
	m := bot.Marks{}
	if raw, err := marks.Result(); err == nil {
		for _, f := range strings.Fields(raw) {
			m[f] = true
		}
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
		// Written before anchors: the first message id of the window /forget deletes, and its time.
		var old struct {
			First   int64 `json:"m"`
			FirstAt int64 `json:"mt"`
		}
		if json.Unmarshal([]byte(body), &old) == nil && old.First > 0 {
			s.Anchors = [][2]int64{{old.First, old.FirstAt}}
		}
	}
	s.Version = ver
	return &s, nil
}

// commitScript writes a session only if its version is still the one loaded (compare-and-set),
// and adds a "counted once" mark. KEYS: session, marks. ARGV: prev version, new value, ttl ms, mark,
// mark ttl ms. Returns 1, or 0 on a version conflict.
var commitScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local ver = 0
if cur then ver = tonumber(string.match(cur, '^(%d+) ')) or -1 end
if ver ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], (ver + 1) .. ' ' .. ARGV[2], 'PX', ARGV[3])
if ARGV[4] ~= '' then
  local m = redis.call('GET', KEYS[2]) or ''
  local ttl = tonumber(ARGV[5])
  local old = redis.call('PTTL', KEYS[2])
  if old > ttl then ttl = old end
  redis.call('SET', KEYS[2], m .. ' ' .. ARGV[4], 'PX', ttl)
end
return 1
`)

// publishScript appends an entry to a unit's stream and bumps its counters, once per marker.
// The entry id is the start of the ISO week (never a finer time) with a sequence.
// KEYS: marker, stream, aggregate hash. ARGV: marker ttl ms, week start ms, number of field args, fields..., counters...
var publishScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
local ms = tonumber(ARGV[2])
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #last > 0 then
  local lms = tonumber(string.match(last[1][1], '^(%d+)-'))
  if lms > ms then ms = lms end
end
local n = tonumber(ARGV[3])
local args = {'XADD', KEYS[2], ms .. '-*'}
for i = 4, 3 + n do args[#args + 1] = ARGV[i] end
redis.call(unpack(args))
for i = 4 + n, #ARGV do redis.call('HINCRBY', KEYS[3], ARGV[i], 1) end
return 1
`)

// markerTTL is how long a publication's idempotency marker is kept (longer than any redelivery).
const markerTTL = 72 * time.Hour

// Commit writes one handled message in one round trip: the unit publications (idempotent by marker)
// and the session compare-and-set are pipelined.
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
		args := []any{markerTTL.Milliseconds(), p.Week.Start().UnixMilli(), len(p.Fields)}
		for _, f := range p.Fields {
			args = append(args, f)
		}
		for _, f := range p.Counts {
			args = append(args, f)
		}
		calls = append(calls, call{publishScript, []string{
			s.UnitKey(p.Unit, "m:"+p.Marker), s.UnitKey(p.Unit, p.Stream), s.AggKey(p.Unit, p.Audience, p.Week.String()),
		}, args})
	}
	calls = append(calls, call{commitScript, []string{s.SessionKey(c.PID), s.MarksKey(c.PID)},
		[]any{c.Prev, val, c.TTL.Milliseconds(), c.Mark, c.MarkTTL.Milliseconds()}})

	cmds := make([]*redis.Cmd, len(calls))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, cl := range calls {
			cmds[i] = cl.script.EvalSha(ctx, p, cl.keys, cl.args...)
		}
		return nil
	})
	if err != nil && !isNoScript(err) {
		return fmt.Errorf("commit: %w", err)
	}
	// After a Redis restart the scripts are gone: run the ones that did not run (publishing is idempotent).
	for i, cl := range calls {
		if isNoScript(cmds[i].Err()) {
			cmds[i] = cl.script.Run(ctx, s.rdb, cl.keys, cl.args...)
		}
	}
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	if n, _ := cmds[len(cmds)-1].Int(); n != 1 {
		return bot.ErrConflict
	}
	return nil
}

func isNoScript(err error) bool { return redis.HasErrorPrefix(err, "NOSCRIPT") }

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
