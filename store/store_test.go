package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/store"
)

// The store suite runs against miniredis and a real redis-server.
func TestStoreSuite(t *testing.T) {
	for _, b := range redistest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("session round trip and compare-and-set", func(t *testing.T) { testSession(t, b) })
			t.Run("publish once per marker", func(t *testing.T) { testPublish(t, b) })
			t.Run("marks", func(t *testing.T) { testMarks(t, b) })
			t.Run("ttl", func(t *testing.T) { testTTL(t, b) })
			t.Run("session cache", func(t *testing.T) { testSessionCache(t, b) })
			t.Run("upgrade from 75db6e5", func(t *testing.T) { testUpgrade(t, b) })
			t.Run("publish checked", func(t *testing.T) { testPublishChecked(t, b) })
			t.Run("publish without scripts", func(t *testing.T) { testPublishWithoutScripts(t, b) })
		})
	}
}

func testSession(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	st := store.New(b.New(t), "pl:")
	s, marks, err := st.Load(ctx, "pid1")
	if err != nil || s != nil || len(marks) != 0 {
		t.Fatalf("empty Load = %v %v %v", s, marks, err)
	}
	sess := &bot.Session{Lang: "sv", Unit: "u1", State: bot.Asking, Step: 3, Answers: map[string]string{"help": "4", "words": "hyvä"}, Events: []string{"7"}}
	if err := st.Commit(ctx, bot.Commit{PID: "pid1", Prev: 0, Session: sess, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	got, _, err := st.Load(ctx, "pid1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Version <= 0 || got.Lang != "sv" || got.Step != 3 || got.Answers["words"] != "hyvä" || got.Events[0] != "7" {
		t.Fatalf("loaded %+v", got)
	}
	// A second writer that loaded version 0 loses.
	if err := st.Commit(ctx, bot.Commit{PID: "pid1", Prev: 0, Session: sess, TTL: time.Hour}); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("stale commit: err = %v, want ErrConflict", err)
	}
	v1 := got.Version
	if err := st.Commit(ctx, bot.Commit{PID: "pid1", Prev: v1, Session: sess, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	got, _, _ = st.Load(ctx, "pid1")
	if got.Version <= v1 {
		t.Fatalf("version %d after %d", got.Version, v1)
	}
	// A forgotten session keeps only its event ids.
	if err := st.Commit(ctx, bot.Commit{PID: "pid1", Prev: got.Version, Session: &bot.Session{Events: []string{"7"}}, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	got, _, _ = st.Load(ctx, "pid1")
	if got == nil || got.Lang != "" || got.Answers != nil || got.Events[0] != "7" {
		t.Fatalf("forgotten session kept more than its event ids: %+v", got)
	}
	if err := st.Commit(ctx, bot.Commit{PID: "pid1", Prev: got.Version}); err == nil {
		t.Fatal("a commit without a session was accepted")
	}
	// A session written before anchors (the first message id in "m", its time in "mt") loads with that
	// message as its anchor; anchors are written as "ma", and a question named "m" is not mistaken for it.
	st.Client().Set(ctx, st.SessionKey("old"), `4 {"l":"fi","i":2,"s":"ask","q":{"m":"3"},"m":812,"mt":1700000000}`, 0)
	old, _, err := st.Load(ctx, "old")
	if err != nil || old.Version != 4 || old.Step != 2 || len(old.Anchors) != 1 || old.Anchors[0] != [2]int64{812, 1700000000} {
		t.Fatalf("session in the old format: %+v, %v", old, err)
	}
	// Written when the anchors themselves were "m": they load as they were.
	st.Client().Set(ctx, st.SessionKey("mid"), `2 {"l":"fi","i":1,"m":[[700,1700000000],[760,1700050000]]}`, 0)
	if mid, _, err := st.Load(ctx, "mid"); err != nil || len(mid.Anchors) != 2 || mid.Anchors[1] != [2]int64{760, 1700050000} {
		t.Fatalf("session with the anchors in \"m\": %+v, %v", mid, err)
	}
	st.Client().Set(ctx, st.SessionKey("q"), `1 {"l":"fi","i":1,"q":{"m":"3"}}`, 0)
	if q, _, err := st.Load(ctx, "q"); err != nil || q.Anchors != nil || q.Answers["m"] != "3" {
		t.Fatalf("a question named m: %+v, %v", q, err)
	}
	if err := st.Commit(ctx, bot.Commit{PID: "old", Prev: 4, Session: old, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if raw := st.Client().Get(ctx, st.SessionKey("old")).Val(); !strings.Contains(raw, `"ma":[[812,1700000000]]`) {
		t.Fatalf("saved as %s", raw)
	}
	// A corrupt value is an error, not a panic or a silent reset.
	st.Client().Set(ctx, st.SessionKey("bad"), "not a session", 0)
	if _, _, err := st.Load(ctx, "bad"); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("corrupt: err = %v", err)
	}
}

func testPublish(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	st := store.New(b.New(t), "pl:")
	w, _ := period.Parse("2026-W47")
	pub := bot.Publication{Unit: "u1", Audience: "youth", Week: w, Marker: "run:abc", Stream: "resp",
		Fields: []string{"aud", "youth", "a.help", "4"}, Counts: []string{"n", "nuoret.help=4"}}
	for i := 0; i < 3; i++ { // a redelivered completion publishes once
		if err := st.Commit(ctx, bot.Commit{PID: "p", Prev: version(t, st, "p"), Session: &bot.Session{}, TTL: time.Hour, Publish: []bot.Publication{pub}}); err != nil {
			t.Fatal(err)
		}
	}
	rdb := st.Client()
	xs, err := rdb.XRange(ctx, st.UnitKey("u1", "resp"), "-", "+").Result()
	if err != nil || len(xs) != 1 {
		t.Fatalf("stream has %d entries (%v), want 1", len(xs), err)
	}
	if want := w.Start().UnixMilli(); !strings.HasPrefix(xs[0].ID, itoa(want)+"-") {
		t.Errorf("entry id %s does not start with the week's start %d: time finer than a week leaks", xs[0].ID, want)
	}
	agg, _ := rdb.HGetAll(ctx, st.AggKey("u1", "youth", "2026-W47")).Result()
	if agg["n"] != "1" || agg["nuoret.help=4"] != "1" {
		t.Fatalf("aggregate = %v", agg)
	}
	// A second response in the same week gets a later id with the same week time.
	pub.Marker = "run:def"
	if err := st.Commit(ctx, bot.Commit{PID: "p", Prev: version(t, st, "p"), Session: &bot.Session{}, TTL: time.Hour, Publish: []bot.Publication{pub}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.XLen(ctx, st.UnitKey("u1", "resp")).Result(); n != 2 {
		t.Fatalf("XLEN = %d, want 2", n)
	}
	if agg, _ := rdb.HGetAll(ctx, st.AggKey("u1", "youth", "2026-W47")).Result(); agg["n"] != "2" {
		t.Fatalf("n = %s, want 2", agg["n"])
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// version is the version of pid's stored session (0: none).
func version(tb testing.TB, st *store.Store, pid string) int64 {
	tb.Helper()
	s, _, err := st.Load(context.Background(), pid)
	if err != nil {
		tb.Fatal(err)
	}
	if s == nil {
		return 0
	}
	return s.Version
}

func testMarks(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	st := store.New(b.New(t), "pl:")
	c := bot.Commit{PID: "p", Session: &bot.Session{}, TTL: time.Hour, Mark: "nuoret:2026-11", MarkTTL: 24 * time.Hour}
	if err := st.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Prev, c.Mark = version(t, st, "p"), "laheiset:2026-11"
	if err := st.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	_, marks, _ := st.Load(ctx, "p")
	if !marks["nuoret:2026-11"] || !marks["laheiset:2026-11"] || marks["nuoret:2026-12"] {
		t.Fatalf("marks = %v", marks)
	}
	// Forgetting the session keeps the marks: a retake after /forget is still counted once.
	if err := st.Commit(ctx, bot.Commit{PID: "p", Prev: version(t, st, "p"), Session: &bot.Session{}, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, marks, _ := st.Load(ctx, "p"); !marks["nuoret:2026-11"] {
		t.Fatal("marks lost with the session")
	}
}

func testTTL(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	rdb := b.New(t)
	st := store.New(rdb, "pl:")
	if err := st.Commit(ctx, bot.Commit{PID: "p", Session: &bot.Session{}, TTL: time.Hour, Mark: "f:2026-11", MarkTTL: 48 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{st.SessionKey("p"), st.MarksKey("p")} {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("%s has no TTL (%v)", k, ttl)
		}
	}
	b.FastForward(t, rdb, 2*time.Hour)
	s, marks, _ := st.Load(ctx, "p")
	if s != nil || !marks["f:2026-11"] {
		t.Fatalf("after 2h: session %v (want gone), marks %v (want kept)", s, marks)
	}
}

// ParseUnitKey reads back what UnitKey makes, and nothing else.
func TestParseUnitKey(t *testing.T) {
	st := store.New(nil, "pl:")
	for _, tt := range []struct{ unit, rest string }{{"kotipesa", "resp"}, {"a-1_b", "agg:youth:2026-W47"}, {"x", "fb"}} {
		u, r, ok := st.ParseUnitKey(st.UnitKey(tt.unit, tt.rest))
		if !ok || u != tt.unit || r != tt.rest {
			t.Errorf("ParseUnitKey(UnitKey(%q, %q)) = %q, %q, %v", tt.unit, tt.rest, u, r, ok)
		}
	}
	for _, k := range []string{"pl:{r:abc}:s", "other:{u:kotipesa}:resp", "pl:{u:kotipesa", "{u:kotipesa}:resp", "pl:{outbox}:dead"} {
		if u, r, ok := st.ParseUnitKey(k); ok {
			t.Errorf("ParseUnitKey(%q) = %q, %q", k, u, r)
		}
	}
}

// Two replicas with session caches on one Redis: a conversation handled by one replica needs only its
// commit, and a replica whose cached session is stale never overwrites a newer one: its commit fails and
// brings the newer session back in the same round trip.
func testSessionCache(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	rdbA := b.New(t) // both replicas' client: round trips are counted around the first replica's calls only
	tripsA := redistest.Count(rdbA)
	a, other := store.New(rdbA, "pl:", store.WithSessionCache(100)), store.New(rdbA, "pl:", store.WithSessionCache(100))
	load := func(st *store.Store) (*bot.Session, bot.Marks) {
		t.Helper()
		s, m, err := st.Load(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		return s, m
	}
	commit := func(st *store.Store, prev int64, step int, mark string) error {
		t.Helper()
		return st.Commit(ctx, bot.Commit{PID: "p", Prev: prev, Session: &bot.Session{Unit: "u1", Step: step}, TTL: time.Hour, Mark: mark, MarkTTL: time.Hour})
	}

	// A person's first message: one load (nothing there) and one commit. Every later message: the commit only.
	s, _ := load(a)
	if s != nil {
		t.Fatalf("fresh load = %+v", s)
	}
	if err := commit(a, 0, 1, ""); err != nil {
		t.Fatal(err)
	}
	for step := 2; step <= 4; step++ {
		before := tripsA.N()
		s, _ := load(a)
		if err := commit(a, s.Version, step, ""); err != nil {
			t.Fatal(err)
		}
		if n := tripsA.N() - before; n != 1 {
			t.Fatalf("message %d took %d round trips, want 1 (the commit)", step, n)
		}
	}
	if hits, misses := a.CacheStats(); hits != 3 || misses != 1 {
		t.Fatalf("cache hits %d, misses %d; want 3, 1", hits, misses)
	}
	// The engine is told which sessions came from memory, and can read Redis itself.
	if s, _ := load(a); !s.Cached {
		t.Fatal("a session from the cache is not marked Cached")
	}
	if s, _, err := a.LoadFresh(ctx, "p"); err != nil || s.Cached || s.Step != 4 {
		t.Fatalf("LoadFresh = %+v, %v", s, err)
	}

	// The other replica takes the next message and completes the survey (a mark).
	s, _ = load(other)
	if s.Step != 4 {
		t.Fatalf("the other replica loaded step %d, want 4", s.Step)
	}
	if err := commit(other, s.Version, 5, "youth:2026-11"); err != nil {
		t.Fatal(err)
	}
	// The first replica still remembers step 4: its commit loses, and its retry loads step 5 and the mark
	// without asking Redis again.
	stale, _ := load(a)
	if err := commit(a, stale.Version, 5, ""); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("commit on a stale cached session: err = %v, want ErrConflict", err)
	}
	before := tripsA.N()
	s, marks := load(a)
	if s.Step != 5 || !marks["youth:2026-11"] || tripsA.N() != before {
		t.Fatalf("after the conflict: step %d, marks %v, %d round trips; want step 5, the mark, 0", s.Step, marks, tripsA.N()-before)
	}
	if err := commit(a, s.Version, 6, ""); err != nil {
		t.Fatal(err)
	}

	// Redis loses the last write (a crash between AOF fsyncs): the other replica, which remembers the
	// version before it, writes from there. The version it writes is new, so the first replica, which
	// remembers the lost write, cannot take it for its own.
	lost := rdbA.Get(ctx, a.SessionKey("p")).Val()
	mine, _ := load(a)
	time.Sleep(2 * time.Millisecond) // Redis restarting takes longer
	s, _ = load(other)               // step 5, from its own commit
	if err := rdbA.Set(ctx, a.SessionKey("p"), strconv.FormatInt(s.Version, 10)+" "+`{"u":"u1","i":5}`, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := commit(other, s.Version, 7, ""); err != nil {
		t.Fatal(err)
	}
	if err := commit(a, mine.Version, 7, ""); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("a commit on the lost write (%s) overwrote the other replica's: err = %v", lost, err)
	}

	// A large session (long free-text answers) is not kept: the cache's memory stays bounded.
	big := &bot.Session{Unit: "u1", Step: 9, Answers: map[string]string{"why": strings.Repeat("pitkä vastaus ", 200)}}
	if err := a.Commit(ctx, bot.Commit{PID: "big", Session: big, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	_, missesBefore := a.CacheStats()
	if s, _, err := a.Load(ctx, "big"); err != nil || s.Cached || s.Answers["why"] != big.Answers["why"] {
		t.Fatalf("a large session: %v, cached %v", err, s != nil && s.Cached)
	}
	if _, misses := a.CacheStats(); misses != missesBefore+1 {
		t.Fatalf("a large session was loaded from the cache")
	}

	// The same when Redis's clock is behind the lost write's version (a failover to a replica whose clock is
	// behind): versions after it are not simply one more, or both replicas would write the same one.
	now, err := rdbA.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	ahead := (now.Unix()-1577836800)*100000 + int64(now.Nanosecond()/10000) + 200000 // 2 s ahead
	base := strconv.FormatInt(ahead, 10) + ` {"u":"u1","i":8}`
	rdbA.Set(ctx, a.SessionKey("p"), base, time.Hour)
	s, _, _ = a.LoadFresh(ctx, "p")
	if s.Version != ahead {
		t.Fatalf("version %d, want %d", s.Version, ahead)
	}
	if err := commit(a, ahead, 9, ""); err != nil { // then lost
		t.Fatal(err)
	}
	mine, _ = load(a)
	rdbA.Set(ctx, a.SessionKey("p"), base, time.Hour)
	if err := commit(other, ahead, 10, ""); err != nil {
		t.Fatal(err)
	}
	if err := commit(a, mine.Version, 10, ""); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("with the clock behind, a commit on the lost write (version %d) overwrote the other replica's: err = %v", mine.Version, err)
	}

	// A session gone from Redis is gone for the cache too, after one failed commit.
	rdbA.Del(ctx, a.SessionKey("p"))
	s, _ = load(a)
	if err := commit(a, s.Version, 8, ""); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("commit on a deleted session: err = %v", err)
	}
	if s, _ := load(a); s != nil {
		t.Fatalf("after the conflict the deleted session still loads: %+v", s)
	}
}

// oldCommit is the compare-and-set of palaute before unique versions (75db6e5). Lua 5.1 writes a number
// with %.14g, so it would write a version of more than 14 digits as "1.7953846100117e+15".
var oldCommit = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local ver = 0
if cur then ver = tonumber(string.match(cur, '^(%d+) ')) or -1 end
if ver ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], (ver + 1) .. ' ' .. ARGV[2], 'PX', ARGV[3])
return 1
`)

// During an upgrade old and new replicas write the same sessions: each reads what the other wrote.
func testUpgrade(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	rdb := b.New(t)
	st := store.New(rdb, "pl:")
	if err := st.Commit(ctx, bot.Commit{PID: "p", Session: &bot.Session{Step: 1}, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	v := version(t, st, "p")
	n, err := oldCommit.Run(ctx, rdb, []string{st.SessionKey("p")}, v, `{"i":2}`, time.Hour.Milliseconds()).Int()
	if err != nil || n != 1 {
		t.Fatalf("the old compare-and-set on a new version: %v, %v", n, err)
	}
	s, _, err := st.Load(ctx, "p")
	if err != nil || s.Step != 2 || s.Version != v+1 {
		t.Fatalf("a session the old code wrote: %+v, %v (stored %q)", s, err, rdb.Get(ctx, st.SessionKey("p")).Val())
	}
	if err := st.Commit(ctx, bot.Commit{PID: "p", Prev: s.Version, Session: &bot.Session{Step: 3}, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
}

// On a single Redis (and with Sentinel) a commit from a session that has moved on publishes nothing: its
// publications check the session's version as its compare-and-set does. On a Cluster they cannot (another
// slot), and the store says so, so that the engine reads the session first.
func testPublishChecked(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	rdb := b.New(t)
	st := store.New(rdb, "pl:")
	_, cluster := rdb.(*redis.ClusterClient)
	if st.PublishesChecked() == cluster {
		t.Fatalf("PublishesChecked = %v on a cluster client: %v", st.PublishesChecked(), cluster)
	}
	if err := st.LoadScripts(ctx); err != nil { // the scripts run as scripts, no fallback
		t.Fatal(err)
	}
	if err := st.Commit(ctx, bot.Commit{PID: "p", Session: &bot.Session{Step: 1}, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	v1 := version(t, st, "p")
	if err := st.Commit(ctx, bot.Commit{PID: "p", Prev: v1, Session: &bot.Session{Step: 2}, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	w, _ := period.Parse("2026-W47")
	pub := bot.Publication{Unit: "u1", Audience: "youth", Week: w, Marker: "run:stale", Stream: "resp",
		Fields: []string{"aud", "youth"}, Counts: []string{"n"}}
	err := st.Commit(ctx, bot.Commit{PID: "p", Prev: v1, Session: &bot.Session{Step: 9}, TTL: time.Hour, Publish: []bot.Publication{pub}})
	if !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("a commit from an old version: err = %v, want ErrConflict", err)
	}
	if !st.PublishesChecked() {
		return
	}
	if n, _ := rdb.XLen(ctx, st.UnitKey("u1", "resp")).Result(); n != 0 {
		t.Fatalf("a commit from an old version published %d entries", n)
	}
	// From the current version it publishes, once.
	for range 2 {
		_ = st.Commit(ctx, bot.Commit{PID: "p", Prev: version(t, st, "p"), Session: &bot.Session{Step: 9}, TTL: time.Hour, Publish: []bot.Publication{pub}})
	}
	if n, _ := rdb.XLen(ctx, st.UnitKey("u1", "resp")).Result(); n != 1 {
		t.Fatalf("%d entries after publishing from the current version twice, want 1", n)
	}
}

// Redis without the scripts (restarted, or new): a completion is still published, once, whichever script
// is missing. When the compare-and-set ran and the publication had to wait for its script, the publication
// runs after it, and belongs to the turn even if another replica has written the session in between.
func testPublishWithoutScripts(t *testing.T, b redistest.Backend) {
	ctx := context.Background()
	rdb := b.New(t)
	st := store.New(rdb, "pl:")
	w, _ := period.Parse("2026-W47")
	for i, missing := range []string{"both", "publish", "commit", "publish, then another replica writes"} {
		pid := "p" + strconv.Itoa(i)
		if err := st.Commit(ctx, bot.Commit{PID: pid, Session: &bot.Session{Step: 1}, TTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		switch missing {
		case "publish", "publish, then another replica writes": // a commit without publication loads its script
			if err := st.Commit(ctx, bot.Commit{PID: pid, Prev: version(t, st, pid), Session: &bot.Session{Step: 2}, TTL: time.Hour}); err != nil {
				t.Fatal(err)
			}
		case "commit":
			if err := store.PublishScript.Load(ctx, rdb).Err(); err != nil {
				t.Fatal(err)
			}
		}
		st := st
		if missing == "publish, then another replica writes" {
			single, ok := rdb.(*redis.Client)
			if !ok {
				break // on a Cluster publications are not checked: nothing for the other replica to change
			}
			other := store.New(rdb, "pl:")
			c2 := redis.NewClient(single.Options())
			t.Cleanup(func() { c2.Close() })
			c2.AddHook(&afterNoScript{fn: func() {
				s, _, _ := other.LoadFresh(ctx, pid)
				if err := other.Commit(ctx, bot.Commit{PID: pid, Prev: s.Version, Session: &bot.Session{Step: 10}, TTL: time.Hour}); err != nil {
					t.Errorf("the other replica: %v", err)
				}
			}})
			st = store.New(c2, "pl:")
		}
		pub := bot.Publication{Unit: "u1", Audience: "youth", Week: w, Marker: "run:" + strconv.Itoa(i), Stream: "resp",
			Fields: []string{"aud", "youth"}, Counts: []string{"n"}}
		if err := st.Commit(ctx, bot.Commit{PID: pid, Prev: version(t, st, pid), Session: &bot.Session{Step: 9}, TTL: time.Hour, Publish: []bot.Publication{pub}}); err != nil {
			t.Fatalf("%s missing: %v", missing, err)
		}
		if n, _ := rdb.XLen(ctx, st.UnitKey("u1", "resp")).Result(); n != int64(i+1) {
			t.Fatalf("%s missing: %d entries, want %d", missing, n, i+1)
		}
	}
}

// afterNoScript runs fn once, right after the first pipeline in which a command found its script missing.
type afterNoScript struct {
	fn   func()
	done bool
}

func (h *afterNoScript) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *afterNoScript) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *afterNoScript) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			if !h.done && c.Err() != nil && strings.HasPrefix(c.Err().Error(), "NOSCRIPT") {
				h.done = true
				h.fn()
			}
		}
		return err
	}
}

// A Ring spreads keys over shards by itself: the session and the unit may be on different ones, so its
// publications cannot check the session, and the store says so.
func TestRingPublishesUnchecked(t *testing.T) {
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1", "b": "127.0.0.1:2"}})
	t.Cleanup(func() { ring.Close() })
	if store.New(ring, "pl:").PublishesChecked() {
		t.Fatal("a Ring's publications are said to check the session")
	}
}
