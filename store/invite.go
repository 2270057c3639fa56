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
// stored, with unit, audience, uses left and expiry; nothing links a token to the answers it leads to.
type Invitations struct {
	s *Store
	// MaxFailures per FailureWindow stop guessing.
	MaxFailures   int
	FailureWindow time.Duration
	Now           func() time.Time
}

var _ bot.Invites = (*Invitations)(nil)

// NewInvitations returns the invitation store.
func NewInvitations(s *Store) *Invitations {
	return &Invitations{s: s, MaxFailures: 5, FailureWindow: time.Hour, Now: time.Now}
}

// TokenBytes is the randomness of a token: 128 bits, 22 characters of base64url.
const TokenBytes = 16

var tokenRe = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

// graceTTL keeps an expired invitation's record a while so its holder is told "expired", not "unknown".
const graceTTL = 30 * 24 * time.Hour

func (iv *Invitations) key(token string) string {
	h := sha256.Sum256([]byte(token))
	return iv.s.prefix + "{i:" + hex.EncodeToString(h[:]) + "}"
}

// Create makes an invitation usable uses times until ttl has passed (0: 30 days).
func (iv *Invitations) Create(ctx context.Context, unit string, aud flows.Audience, uses int, ttl time.Duration) (string, error) {
	if !aud.Valid() {
		return "", fmt.Errorf("create invitation: unknown audience %q", aud)
	}
	if uses < 1 {
		uses = 1
	}
	if ttl <= 0 {
		ttl = 30 * 24 * time.Hour
	}
	b := make([]byte, TokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("create invitation: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	exp := iv.Now().Add(ttl)
	k := iv.key(tok)
	_, err := iv.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k, "unit", unit, "aud", string(aud), "uses", uses, "exp", exp.Unix())
		p.PExpire(ctx, k, ttl+graceTTL)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("create invitation: %w", err)
	}
	return tok, nil
}

// redeemScript takes one use. KEYS: invitation. ARGV: now (unix). Returns {status, unit, audience}.
var redeemScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'unit', 'aud', 'uses', 'exp')
if not h[1] then return {'unknown'} end
if tonumber(h[4]) <= tonumber(ARGV[1]) then return {'expired'} end
if tonumber(h[3]) <= 0 then return {'used'} end
redis.call('HINCRBY', KEYS[1], 'uses', -1)
return {'ok', h[1], h[2]}
`)

// Redeem takes one use of the invitation. who names the person only for the guessing limit
// (a pseudonym of its own); failed tries are counted per who.
func (iv *Invitations) Redeem(ctx context.Context, token, who string) (string, flows.Audience, error) {
	fk := iv.s.prefix + "{w:" + who + "}:fail"
	n, err := iv.s.rdb.Get(ctx, fk).Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", "", fmt.Errorf("redeem: %w", err)
	}
	if n >= iv.MaxFailures {
		return "", "", bot.ErrTooManyTries
	}
	fail := func(e error) (string, flows.Audience, error) {
		_, err := iv.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Incr(ctx, fk)
			p.PExpire(ctx, fk, iv.FailureWindow)
			return nil
		})
		if err != nil {
			return "", "", fmt.Errorf("redeem: %w", err)
		}
		return "", "", e
	}
	if !tokenRe.MatchString(token) {
		return fail(bot.ErrInviteMalformed)
	}
	res, err := redeemScript.Run(ctx, iv.s.rdb, []string{iv.key(token)}, strconv.FormatInt(iv.Now().Unix(), 10)).StringSlice()
	if err != nil {
		return "", "", fmt.Errorf("redeem: %w", err)
	}
	switch res[0] {
	case "ok":
		return res[1], flows.Audience(res[2]), nil
	case "expired":
		return fail(bot.ErrInviteExpired)
	case "used":
		return fail(bot.ErrInviteUsedUp)
	}
	return fail(bot.ErrInviteUnknown)
}
