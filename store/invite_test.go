package store_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/store"
)

// The invitation suite runs against miniredis and a real redis-server.
func TestInvitationSuite(t *testing.T) {
	for _, b := range redistest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("round trip", func(t *testing.T) { testInviteRoundTrip(t, b) })
			t.Run("raw token never reaches redis", func(t *testing.T) { testInviteHashed(t, b) })
			t.Run("single use under 50 concurrent redemptions", func(t *testing.T) { testInviteRace(t, b, 1) })
			t.Run("three uses under 50 concurrent redemptions", func(t *testing.T) { testInviteRace(t, b, 3) })
			t.Run("expiry", func(t *testing.T) { testInviteExpiry(t, b) })
			t.Run("malformed", func(t *testing.T) { testInviteMalformed(t, b) })
			t.Run("guessing limit", func(t *testing.T) { testInviteGuessing(t, b) })
			t.Run("concurrent guesses", func(t *testing.T) { testInviteConcurrentGuesses(t, b) })
			t.Run("redeemed marker", func(t *testing.T) { testInviteRedeemedMarker(t, b) })
			t.Run("bad batch writes nothing", func(t *testing.T) { testInviteBadBatch(t, b) })
			t.Run("keys carry TTLs", func(t *testing.T) { testInviteTTLs(t, b) })
			t.Run("round trips", func(t *testing.T) { testInviteRoundTrips(t, b) })
		})
	}
}

// newInvites returns the invitation store over a fresh Redis with a settable clock.
func newInvites(t *testing.T, b redistest.Backend) (*store.Invitations, redis.UniversalClient, *testenv.Clock) {
	t.Helper()
	rdb := b.New(t)
	iv := store.NewInvitations(store.New(rdb, "pl:"), nil)
	clk := testenv.NewClock(time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC))
	iv.Now = clk.Now
	return iv, rdb, clk
}

// mustRedeem redeems tok and fails the test unless it gives unit and aud.
func mustRedeem(t *testing.T, iv *store.Invitations, tok, who, unit string, aud flows.Audience) {
	t.Helper()
	inv, err := iv.Redeem(context.Background(), tok, who)
	u, a := inv.Unit, inv.Audience
	if err != nil || u != unit || a != aud {
		t.Fatalf("Redeem(%s) by %s = %q %q %v, want %q %q", tok, who, u, a, err, unit, aud)
	}
}

func redeemErr(t *testing.T, iv *store.Invitations, tok, who string, want error) {
	t.Helper()
	inv, err := iv.Redeem(context.Background(), tok, who)
	u, a := inv.Unit, inv.Audience
	if !errors.Is(err, want) || u != "" || a != "" {
		t.Fatalf("Redeem(%q) by %s = %q %q %v, want %v", tok, who, u, a, err, want)
	}
}

var tokenChars = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func testInviteRoundTrip(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	iv, _, _ := newInvites(t, b)
	tok, err := iv.Create(ctx, "kotipesa", flows.Relative, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	mustRedeem(t, iv, tok, "w1", "kotipesa", flows.Relative)

	// The flow named at creation is kept with the invitation and given back.
	iv.FlowFor = func(a flows.Audience) string { return "flow-of-" + string(a) }
	tok, err = iv.Create(ctx, "kotipesa", flows.Relative, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	iv.FlowFor = nil
	if inv, err := iv.Redeem(ctx, tok, "w2"); err != nil || inv.Flow != "flow-of-relative" {
		t.Fatalf("Redeem = %+v, %v; want the flow kept", inv, err)
	}

	toks, err := iv.CreateMany(ctx, "satama", flows.SocialWorker, 20, 1, time.Hour)
	if err != nil || len(toks) != 20 {
		t.Fatalf("CreateMany = %d tokens, %v", len(toks), err)
	}
	for i, tok := range toks {
		mustRedeem(t, iv, tok, fmt.Sprint("sw", i), "satama", flows.SocialWorker)
	}

	links, err := iv.Links(ctx, "https://t.me/palaute_bot?start=", "kotipesa", flows.Relative, 3, 1, 0)
	if err != nil || len(links) != 3 {
		t.Fatalf("Links = %v, %v", links, err)
	}
	for i, l := range links {
		tok, ok := strings.CutPrefix(l, "https://t.me/palaute_bot?start=i-")
		if !ok {
			t.Fatalf("link %q does not start with the bot's deep link and i-", l)
		}
		mustRedeem(t, iv, tok, fmt.Sprint("l", i), "kotipesa", flows.Relative)
	}

	// Tokens: 128 random bits as base64url, and "i-" + token fits Telegram's 64-character start payload.
	const n = 2000
	all, err := iv.CreateMany(ctx, "kotipesa", flows.Relative, store.MaxBatch, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for len(all) < n {
		more, err := iv.CreateMany(ctx, "kotipesa", flows.Relative, store.MaxBatch, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, more...)
	}
	seen := map[string]bool{}
	var ones [128]int
	for _, tok := range all {
		if p := "i-" + tok; len(p) > 64 || !tokenChars.MatchString(p) {
			t.Fatalf("payload %q is not within 64 characters of A-Za-z0-9_-", p)
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) < 16 {
			t.Fatalf("token %q is not base64url of at least 16 bytes: %d bytes, %v", tok, len(raw), err)
		}
		if seen[tok] {
			t.Fatalf("token %q made twice", tok)
		}
		seen[tok] = true
		for i := range 128 {
			ones[i] += int(raw[i/8]>>(i%8)) & 1
		}
	}
	// Every one of the 128 bits varies like a coin (±6 standard deviations): no fixed or counter bits.
	for i, c := range ones {
		if c < n*40/100 || c > n*60/100 {
			t.Errorf("bit %d is set in %d of %d tokens: not random", i, c, n)
		}
	}
}

func testInviteHashed(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	iv, rdb, _ := newInvites(t, b)
	iv.MaxFailures = 100
	toks, err := iv.CreateMany(ctx, "kotipesa", flows.Relative, 5, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	mustRedeem(t, iv, toks[0], "w1", "kotipesa", flows.Relative)
	mustRedeem(t, iv, toks[0], "w2", "kotipesa", flows.Relative)
	redeemErr(t, iv, toks[0], "w3", bot.ErrInviteUsedUp)
	redeemErr(t, iv, strings.Repeat("A", 22), "w3", bot.ErrInviteUnknown)

	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 5 {
		t.Fatalf("only %d keys", len(keys))
	}
	var dump strings.Builder
	for _, k := range keys {
		dump.WriteString(k + "\n")
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "string":
			dump.WriteString(rdb.Get(ctx, k).Val() + "\n")
		case "hash":
			for f, v := range rdb.HGetAll(ctx, k).Val() {
				dump.WriteString(f + "=" + v + "\n")
			}
		default:
			t.Errorf("unexpected %s key %s", typ, k)
		}
	}
	for _, tok := range toks {
		raw, _ := base64.RawURLEncoding.DecodeString(tok)
		for _, form := range []string{tok, fmt.Sprintf("%x", raw), string(raw)} {
			if strings.Contains(dump.String(), form) {
				t.Errorf("token %s is stored in Redis (as %q):\n%s", tok, form, dump.String())
			}
		}
	}
	// And the invitation holds exactly what the issue allows: unit, audience, flow, uses left, expiry.
	for _, k := range keys {
		if rdb.Type(ctx, k).Val() != "hash" {
			continue
		}
		fields := rdb.HKeys(ctx, k).Val()
		if strings.Join(sorted(fields), ",") != "aud,exp,flow,unit,uses" {
			t.Errorf("invitation %s holds %v", k, fields)
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func testInviteRace(t *testing.T, b redistest.Backend, uses int) {
	ctx := context.Background()
	iv, _, _ := newInvites(t, b)
	tok, err := iv.Create(ctx, "kotipesa", flows.Relative, uses, 0)
	if err != nil {
		t.Fatal(err)
	}
	const people = 50
	var wg sync.WaitGroup
	errs := make([]error, people)
	start := make(chan struct{})
	for i := range people {
		wg.Go(func() {
			<-start
			_, errs[i] = iv.Redeem(ctx, tok, fmt.Sprint("racer", i))
		})
	}
	close(start)
	wg.Wait()
	won, lost := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, bot.ErrInviteUsedUp):
			lost++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if won != uses || lost != people-uses {
		t.Fatalf("%d won and %d were told used up, want %d and %d", won, lost, uses, people-uses)
	}
}

func testInviteExpiry(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	iv, rdb, clk := newInvites(t, b)
	tok, err := iv.Create(ctx, "satama", flows.Relative, 5, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(47 * time.Hour)
	mustRedeem(t, iv, tok, "early", "satama", flows.Relative)
	clk.Add(time.Hour)
	redeemErr(t, iv, tok, "late", bot.ErrInviteExpired)
	// Even the person who redeemed it before is told it expired.
	redeemErr(t, iv, tok, "early", bot.ErrInviteExpired)
	// The record is kept 30 days for that answer, then it is gone: unknown.
	b.FastForward(t, rdb, 29*24*time.Hour)
	clk.Add(29 * 24 * time.Hour)
	redeemErr(t, iv, tok, "later", bot.ErrInviteExpired)
	b.FastForward(t, rdb, 33*24*time.Hour) // past creation + 48 h + 30 days on either backend
	clk.Add(2 * 24 * time.Hour)
	redeemErr(t, iv, tok, "latest", bot.ErrInviteUnknown)
	if n := rdb.DBSize(ctx).Val(); n > 1 { // at most the last failure counter
		t.Errorf("%d keys left after the grace period", n)
	}
}

func testInviteMalformed(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	iv, rdb, _ := newInvites(t, b)
	good, err := iv.Create(ctx, "kotipesa", flows.Relative, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	before := dumpAll(t, rdb)
	for name, tok := range map[string]string{
		"empty":            "",
		"one short":        good[:21],
		"one long":         good + "A",
		"too long":         strings.Repeat("A", 200),
		"dollar":           good[:21] + "$",
		"space":            good[:10] + " " + good[11:],
		"plus and slash":   "+/" + good[2:],
		"padding":          good[:20] + "==",
		"non-ASCII":        "ääää" + good[8:],
		"newline":          good[:21] + "\n",
		"redis glob":       good[:21] + "*",
		"hash tag breaker": good[:20] + "}{",
	} {
		for i := 0; i < 10; i++ { // more than the guessing limit: malformed input is not a guess
			redeemErr(t, iv, tok, "fumbler", bot.ErrInviteMalformed)
		}
		if after := dumpAll(t, rdb); after != before {
			t.Fatalf("%s: a malformed token changed Redis:\n%s\nwas\n%s", name, after, before)
		}
	}
	// The fumbler was not rate-limited by malformed input and the invitation is untouched.
	mustRedeem(t, iv, good, "fumbler", "kotipesa", flows.Relative)
}

// dumpAll renders every key with its value and TTL rounded to the hour.
func dumpAll(t *testing.T, rdb redis.UniversalClient) string {
	t.Helper()
	ctx := context.Background()
	var s strings.Builder
	for _, k := range sorted(rdb.Keys(ctx, "*").Val()) {
		v := rdb.Get(ctx, k).Val()
		if rdb.Type(ctx, k).Val() == "hash" {
			h := rdb.HGetAll(ctx, k).Val()
			v = fmt.Sprint(h["unit"], h["aud"], h["uses"], h["exp"])
		}
		fmt.Fprintf(&s, "%s %s %v\n", k, v, rdb.PTTL(ctx, k).Val().Round(time.Hour))
	}
	return s.String()
}

func testInviteGuessing(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	iv, rdb, clk := newInvites(t, b)
	toks, err := iv.CreateMany(ctx, "kotipesa", flows.SocialWorker, 3, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Successful redemptions do not count: a worker with many invitations is never blocked.
	many, err := iv.CreateMany(ctx, "kotipesa", flows.Relative, 12, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range many {
		mustRedeem(t, iv, tok, "busy", "kotipesa", flows.Relative)
	}
	// Five wrong tokens (unknown, used up or expired all count) in an hour...
	used, _ := iv.Create(ctx, "kotipesa", flows.Relative, 1, 0)
	mustRedeem(t, iv, used, "someone", "kotipesa", flows.Relative)
	for i := range 4 {
		redeemErr(t, iv, fmt.Sprintf("guess%017d", i), "guesser", bot.ErrInviteUnknown)
	}
	redeemErr(t, iv, used, "guesser", bot.ErrInviteUsedUp)
	// ...and even a valid token is refused, without using it up.
	redeemErr(t, iv, toks[0], "guesser", bot.ErrTooManyTries)
	// Other people are not affected, and the refused token still works for them.
	mustRedeem(t, iv, toks[0], "honest", "kotipesa", flows.SocialWorker)
	// Tries while blocked do not extend the block: it lifts an hour after the fifth failure.
	clk.Add(30 * time.Minute)
	b.FastForward(t, rdb, 30*time.Minute)
	fk := "pl:{w:guesser}:fail"
	left := rdb.PTTL(ctx, fk).Val()
	redeemErr(t, iv, toks[1], "guesser", bot.ErrTooManyTries)
	if now := rdb.PTTL(ctx, fk).Val(); left <= 0 || now > left {
		t.Fatalf("a refused try moved the end of the block from %v to %v away", left, now)
	}
	clk.Add(time.Hour)
	b.FastForward(t, rdb, time.Hour)
	mustRedeem(t, iv, toks[1], "guesser", "kotipesa", flows.SocialWorker)
	// A fresh window: five more failures are allowed, the sixth try is refused.
	for i := range 5 {
		redeemErr(t, iv, fmt.Sprintf("again%017d", i), "guesser", bot.ErrInviteUnknown)
	}
	redeemErr(t, iv, toks[2], "guesser", bot.ErrTooManyTries)
}

// One person's concurrent guesses (several replicas, or a scripted client) cannot slip past the limit.
func testInviteConcurrentGuesses(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	iv, _, _ := newInvites(t, b)
	const tries = 40
	var wg sync.WaitGroup
	errs := make([]error, tries)
	start := make(chan struct{})
	for i := range tries {
		wg.Go(func() {
			<-start
			_, errs[i] = iv.Redeem(ctx, fmt.Sprintf("guess%017d", i), "swarm")
		})
	}
	close(start)
	wg.Wait()
	unknown, blocked := 0, 0
	for _, err := range errs {
		switch {
		case errors.Is(err, bot.ErrInviteUnknown):
			unknown++
		case errors.Is(err, bot.ErrTooManyTries):
			blocked++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if unknown != iv.MaxFailures || blocked != tries-iv.MaxFailures {
		t.Fatalf("%d guesses were looked up and %d refused, want %d and %d", unknown, blocked, iv.MaxFailures, tries-iv.MaxFailures)
	}
}

func testInviteRedeemedMarker(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	iv, rdb, clk := newInvites(t, b)
	tok, _ := iv.Create(ctx, "satama", flows.Relative, 1, 0)
	mustRedeem(t, iv, tok, "holder", "satama", flows.Relative)
	// A redelivered /start or a second tap by the holder is not "used up"...
	for range 3 {
		mustRedeem(t, iv, tok, "holder", "satama", flows.Relative)
	}
	// ...and takes no use: the single use is gone for anyone else.
	redeemErr(t, iv, tok, "other", bot.ErrInviteUsedUp)
	// A day later the holder too is told it is used.
	clk.Add(24*time.Hour + time.Minute)
	b.FastForward(t, rdb, 24*time.Hour+time.Minute)
	redeemErr(t, iv, tok, "holder", bot.ErrInviteUsedUp)

	// With two uses, the same person opening it twice takes one; a second person gets the other.
	two, _ := iv.Create(ctx, "satama", flows.Relative, 2, 0)
	mustRedeem(t, iv, two, "a", "satama", flows.Relative)
	mustRedeem(t, iv, two, "a", "satama", flows.Relative)
	mustRedeem(t, iv, two, "b", "satama", flows.Relative)
	redeemErr(t, iv, two, "c", bot.ErrInviteUsedUp)
	// The marker names the person only by a hash: the rate-limit key's name is not in it.
	for _, k := range rdb.Keys(ctx, "*:by:*").Val() {
		if strings.Contains(k, "holder") || strings.Contains(k, ":by:a") {
			t.Errorf("marker %s names the person", k)
		}
	}
}

func testInviteBadBatch(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	iv, rdb, _ := newInvites(t, b)
	tests := []struct {
		name string
		unit string
		aud  flows.Audience
		n    int
		want error
	}{
		{"zero", "kotipesa", flows.Relative, 0, store.ErrCount},
		{"negative", "kotipesa", flows.Relative, -3, store.ErrCount},
		{"over the batch", "kotipesa", flows.Relative, store.MaxBatch + 1, store.ErrCount},
		{"audience", "kotipesa", "parent", 1, store.ErrAudience},
		{"empty audience", "kotipesa", "", 1, store.ErrAudience},
		{"no unit", "", flows.Relative, 1, store.ErrNoUnit},
	}
	for _, tt := range tests {
		toks, err := iv.CreateMany(ctx, tt.unit, tt.aud, tt.n, 1, 0)
		if !errors.Is(err, tt.want) || toks != nil {
			t.Errorf("%s: CreateMany = %v, %v, want %v", tt.name, toks, err, tt.want)
		}
		if tt.want == store.ErrCount && !strings.Contains(err.Error(), fmt.Sprintf("1-%d", store.MaxBatch)) {
			t.Errorf("%s: %v does not name the most, %d", tt.name, err, store.MaxBatch)
		}
		if _, err := iv.Links(ctx, "https://t.me/x?start=", tt.unit, tt.aud, tt.n, 1, 0); !errors.Is(err, tt.want) {
			t.Errorf("%s: Links err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if n := rdb.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("refused batches wrote %d keys", n)
	}
}

func testInviteTTLs(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	iv, rdb, _ := newInvites(t, b)
	toks, err := iv.CreateMany(ctx, "kotipesa", flows.Relative, 10, 1, 72*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iv.Create(ctx, "kotipesa", flows.Relative, 1, 0); err != nil {
		t.Fatal(err)
	}
	mustRedeem(t, iv, toks[0], "p", "kotipesa", flows.Relative)
	redeemErr(t, iv, toks[0], "q", bot.ErrInviteUsedUp)
	keys := rdb.Keys(ctx, "*").Val()
	if len(keys) != 13 { // 11 invitations, a marker, a failure counter
		t.Fatalf("%d keys: %v", len(keys), keys)
	}
	const grace = 30 * 24 * time.Hour
	for _, k := range keys {
		ttl := rdb.PTTL(ctx, k).Val()
		var lo, hi time.Duration
		switch {
		case strings.Contains(k, ":by:"):
			lo, hi = 24*time.Hour-time.Minute, 24*time.Hour
		case strings.HasSuffix(k, ":fail"):
			lo, hi = 59*time.Minute, time.Hour
		case rdb.HGet(ctx, k, "exp").Val() == strconv.FormatInt(iv.Now().Add(store.DefaultTTL).Unix(), 10):
			lo, hi = store.DefaultTTL+grace-time.Minute, store.DefaultTTL+grace
		default:
			lo, hi = 72*time.Hour+grace-time.Minute, 72*time.Hour+grace
		}
		if ttl < lo || ttl > hi {
			t.Errorf("%s TTL %v, want %v..%v", k, ttl, lo, hi)
		}
	}
	if _, err := iv.Create(ctx, "kotipesa", flows.Relative, 1, 0); err != nil || rdb.DBSize(ctx).Val() != 14 {
		t.Fatal("default-lifetime invitation not made")
	}
}

// CreateMany is one round trip for a whole batch; a redemption is two, three when it succeeds; a malformed
// token costs none.
func testInviteRoundTrips(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	iv, rdb, _ := newInvites(t, b)
	var rt redistest.RoundTrips
	rdb.AddHook(&rt)
	warm, _ := iv.CreateMany(ctx, "kotipesa", flows.Relative, 2, 1, 0) // load the redeem scripts
	mustRedeem(t, iv, warm[0], "warm", "kotipesa", flows.Relative)
	count := func(f func()) int64 {
		n := rt.N()
		f()
		return rt.N() - n
	}
	var toks []string
	if n := count(func() { toks, _ = iv.CreateMany(ctx, "kotipesa", flows.Relative, store.MaxBatch, 1, 0) }); n != 1 || len(toks) != store.MaxBatch {
		t.Errorf("CreateMany(%d): %d round trips, %d tokens; want 1", store.MaxBatch, n, len(toks))
	}
	if n := count(func() { mustRedeem(t, iv, toks[0], "rt", "kotipesa", flows.Relative) }); n != 3 {
		t.Errorf("successful Redeem: %d round trips, want 3", n)
	}
	if n := count(func() { redeemErr(t, iv, toks[0], "rt2", bot.ErrInviteUsedUp) }); n != 2 {
		t.Errorf("failed Redeem: %d round trips, want 2", n)
	}
	if n := count(func() { redeemErr(t, iv, "short", "rt2", bot.ErrInviteMalformed) }); n != 0 {
		t.Errorf("malformed Redeem: %d round trips, want 0", n)
	}
}

// The invitations spread over a real 3-master Redis Cluster: a batch touches many slots in one call.
func TestInvitationsOnRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	rdb := redistest.StartCluster(t).Client(t)
	ctx := context.Background()
	iv := store.NewInvitations(store.New(rdb, "pl:"), nil)
	toks, err := iv.CreateMany(ctx, "kotipesa", flows.Relative, 100, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, tok := range toks {
		mustRedeem(t, iv, tok, fmt.Sprint("c", i), "kotipesa", flows.Relative)
		mustRedeem(t, iv, tok, fmt.Sprint("c", i), "kotipesa", flows.Relative) // the marker, same slot
	}
	redeemErr(t, iv, toks[0], "late", bot.ErrInviteUsedUp)
	var mu sync.Mutex
	var masters []int64
	err = rdb.(*redis.ClusterClient).ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		n, err := c.DBSize(ctx).Result()
		mu.Lock()
		masters = append(masters, n)
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range masters {
		if n == 0 {
			t.Errorf("keys per master %v: a batch did not spread over the cluster", masters)
		}
	}
}

// Making the 50 links of one Slack command: one CreateMany against 50 Creates, on a real redis-server.
//
//	go test -run '^$' -bench Invitations -benchtime 200x ./store/
func BenchmarkInvitations(b *testing.B) {
	rdb := redistest.Start(b).Client(b)
	iv := store.NewInvitations(store.New(rdb, "pl:"), nil)
	ctx := context.Background()
	const n = 50
	b.Run("CreateMany", func(b *testing.B) {
		for b.Loop() {
			if _, err := iv.CreateMany(ctx, "kotipesa", flows.Relative, n, 1, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/link")
	})
	b.Run("Create", func(b *testing.B) {
		for b.Loop() {
			for range n {
				if _, err := iv.Create(ctx, "kotipesa", flows.Relative, 1, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/link")
	})
	b.Run("Redeem", func(b *testing.B) {
		toks, err := iv.CreateMany(ctx, "kotipesa", flows.Relative, store.MaxBatch, 1<<30, 0)
		if err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			if _, err := iv.Redeem(ctx, toks[i%len(toks)], strconv.Itoa(i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
