package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/flows"
)

// Invitations are deep-link tokens for relatives and social workers. Only the SHA-256 of a token is
// stored, with unit, audience, flow, uses left and expiry; nothing links a token to the answers it leads to.
type Invitations struct {
	s *Store
	// FlowFor names the flow an invitation of an audience leads to, kept with the invitation ("": none
	// kept, and the survey is the audience's flow when the invitation is opened).
	FlowFor func(flows.Audience) string
	// MaxFailures per FailureWindow stop guessing.
	MaxFailures   int
	FailureWindow time.Duration
	Now           func() time.Time
}

var _ bot.Invites = (*Invitations)(nil)

// NewInvitations returns the invitation store; an invitation keeps the flow set gives its audience (set nil:
// none kept).
func NewInvitations(s *Store, set *flows.Set) *Invitations {
	iv := &Invitations{s: s, MaxFailures: 5, FailureWindow: time.Hour, Now: time.Now}
	if set != nil {
		iv.FlowFor = set.FlowID
	}
	return iv
}

// TokenBytes is the randomness of a token: 128 bits, 22 characters of base64url.
const TokenBytes = 16

var tokenRe = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

// graceTTL keeps an expired invitation's record a while so its holder is told "expired", not "unknown".
const graceTTL = 30 * 24 * time.Hour

// redeemedTTL is how long a person who redeemed an invitation can open it again without using another use:
// a redelivered /start, a retried turn or a second tap on the same link is not "used up" for its holder.
const redeemedTTL = 24 * time.Hour

// MaxBatch is the most invitations one CreateMany makes.
const MaxBatch = 500

// DefaultTTL is the lifetime of an invitation made with ttl 0.
const DefaultTTL = 30 * 24 * time.Hour

// Errors of CreateMany, classified with errors.Is.
var (
	ErrCount    = fmt.Errorf("invitation count must be 1-%d", MaxBatch)
	ErrAudience = errors.New("unknown audience")
	ErrNoUnit   = errors.New("no unit")
)

func (iv *Invitations) key(token string) string {
	h := sha256.Sum256([]byte(token))
	return iv.s.prefix + "{i:" + hex.EncodeToString(h[:]) + "}"
}

// Create makes an invitation usable uses times until ttl has passed (0: 30 days).
func (iv *Invitations) Create(ctx context.Context, unit string, aud flows.Audience, uses int, ttl time.Duration) (string, error) {
	toks, err := iv.CreateMany(ctx, unit, aud, 1, uses, ttl)
	if err != nil {
		return "", err
	}
	return toks[0], nil
}

// createScript writes one invitation with its TTL atomically. KEYS: invitation. ARGV: unit, audience, uses,
// expiry (unix), key TTL (ms), flow.
var createScript = redis.NewScript(`
redis.call('HSET', KEYS[1], 'unit', ARGV[1], 'aud', ARGV[2], 'uses', ARGV[3], 'exp', ARGV[4], 'flow', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`)

// CreateMany makes n (1-MaxBatch) alike invitations in one round trip and returns their tokens. uses below 1
// is 1; ttl 0 is DefaultTTL. Each invitation is its own key, written with its TTL by one script, so a batch
// spreads over a Redis Cluster (a MULTI over several keys could not) and no key is ever left without a TTL.
func (iv *Invitations) CreateMany(ctx context.Context, unit string, aud flows.Audience, n, uses int, ttl time.Duration) ([]string, error) {
	switch {
	case !aud.Valid():
		return nil, fmt.Errorf("create invitation: %w %q", ErrAudience, aud)
	case unit == "":
		return nil, fmt.Errorf("create invitation: %w", ErrNoUnit)
	case n < 1 || n > MaxBatch:
		return nil, fmt.Errorf("create invitation: %w, not %d", ErrCount, n)
	}
	if uses < 1 {
		uses = 1
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	toks := make([]string, n)
	b := make([]byte, TokenBytes)
	for i := range toks {
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("create invitation: %w", err)
		}
		toks[i] = base64.RawURLEncoding.EncodeToString(b)
	}
	exp := strconv.FormatInt(iv.Now().Add(ttl).Unix(), 10)
	flow := ""
	if iv.FlowFor != nil {
		flow = iv.FlowFor(aud)
	}
	keyTTL := strconv.FormatInt((ttl + graceTTL).Milliseconds(), 10)
	// EVAL with the script's text, not EVALSHA: a pipeline cannot fall back on NOSCRIPT (a restarted or
	// failed-over node), and the text is 150 bytes an invitation.
	_, err := iv.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, tok := range toks {
			createScript.Eval(ctx, p, []string{iv.key(tok)}, unit, string(aud), uses, exp, keyTTL, flow)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create invitation: %w", err)
	}
	return toks, nil
}

// Links makes n invitations like CreateMany and returns their deep links: prefix + "i-" + token, where
// prefix is like https://t.me/palaute_bot?start= (for the Slack command and the CLI).
func (iv *Invitations) Links(ctx context.Context, prefix, unit string, aud flows.Audience, n, uses int, ttl time.Duration) ([]string, error) {
	toks, err := iv.CreateMany(ctx, unit, aud, n, uses, ttl)
	if err != nil {
		return nil, err
	}
	for i, t := range toks {
		toks[i] = prefix + "i-" + t
	}
	return toks, nil
}

// chargeScript counts one redemption try of a person before it is made, so that concurrent guesses cannot
// slip past the limit. KEYS: the person's failure counter. ARGV: limit, window (ms).
// Returns 1 when the try may go ahead, 0 when the limit is reached (the window is then not extended).
var chargeScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// refundScript gives back the try of a successful redemption.
var refundScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('DECR', KEYS[1]) <= 0 then redis.call('DEL', KEYS[1]) end
return 1
`)

// redeemScript takes one use. KEYS: invitation, the person's "redeemed" marker (same hash tag).
// ARGV: now (unix), marker TTL (ms). Returns {status, unit, audience, flow}.
var redeemScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'unit', 'aud', 'uses', 'exp', 'flow')
if not h[1] then return {'unknown'} end
if tonumber(h[4]) <= tonumber(ARGV[1]) then return {'expired'} end
local flow = h[5] or ''
if redis.call('EXISTS', KEYS[2]) == 1 then return {'ok', h[1], h[2], flow} end
if tonumber(h[3]) <= 0 then return {'used'} end
redis.call('HINCRBY', KEYS[1], 'uses', -1)
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
return {'ok', h[1], h[2], flow}
`)

// Redeem takes one use of the invitation. who names the person only for the guessing limit and the
// "already redeemed" marker (a pseudonym of its own, never the one of the answers): at most MaxFailures
// failed tries per FailureWindow, after which every try, a valid token included, gets ErrTooManyTries until
// the window has passed. A malformed token (not 22 characters of base64url) cannot be a guess of a real one:
// it is ErrInviteMalformed at once, without touching Redis. The same who opening the same invitation again
// within a day (a redelivered or retried /start, a second tap) gets it again without using another use.
//
// Round trips: one for a malformed token, two for a failure, three for a success.
func (iv *Invitations) Redeem(ctx context.Context, token, who string) (bot.Invitation, error) {
	var none bot.Invitation
	if !tokenRe.MatchString(token) {
		return none, bot.ErrInviteMalformed
	}
	if who == "" {
		return none, errors.New("redeem: no rate-limit key for the person")
	}
	fk := iv.s.prefix + "{w:" + who + "}:fail"
	ok, err := chargeScript.Run(ctx, iv.s.rdb, []string{fk}, iv.MaxFailures, iv.FailureWindow.Milliseconds()).Int()
	if err != nil {
		return none, fmt.Errorf("redeem: %w", err)
	}
	if ok == 0 {
		return none, bot.ErrTooManyTries
	}
	k := iv.key(token)
	wh := sha256.Sum256([]byte(who))
	res, err := redeemScript.Run(ctx, iv.s.rdb, []string{k, k + ":by:" + hex.EncodeToString(wh[:8])},
		iv.Now().Unix(), redeemedTTL.Milliseconds()).StringSlice()
	if err != nil {
		return none, fmt.Errorf("redeem: %w", err)
	}
	switch res[0] {
	case "ok":
		// The use is taken; a refund that fails only leaves one try counted against the person, which
		// must not turn a successful redemption into an error.
		_ = refundScript.Run(ctx, iv.s.rdb, []string{fk}).Err()
		inv := bot.Invitation{Unit: res[1], Audience: flows.Audience(res[2])}
		if len(res) > 3 {
			inv.Flow = res[3]
		}
		return inv, nil
	case "expired":
		return none, bot.ErrInviteExpired
	case "used":
		return none, bot.ErrInviteUsedUp
	}
	return none, bot.ErrInviteUnknown
}
