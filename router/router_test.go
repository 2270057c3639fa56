package router_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/router"
)

type outbox struct {
	mu    sync.Mutex
	posts map[string]router.Post
	order []string
	fail  bool
}

func (o *outbox) Post(_ context.Context, p router.Post) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail {
		return errors.New("redis down")
	}
	if o.posts == nil {
		o.posts = map[string]router.Post{}
	}
	if _, dup := o.posts[p.Key]; !dup {
		o.order = append(o.order, p.Key)
	}
	o.posts[p.Key] = p
	return nil
}

type upper struct{}

func (upper) Scrub(lang, text string) string { return strings.ReplaceAll(text, "Mikko", "[nimi]") }

// countingScrub is upper that counts the texts it was given.
type countingScrub struct {
	upper
	mu sync.Mutex
	n  int
}

func (c *countingScrub) Scrub(lang, text string) string {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.upper.Scrub(lang, text)
}

// coder: "HÄTÄ" is a crisis, "kiitos" positive, a question neutral, everything else corrective.
type coder struct{}

func (coder) Code(lang, text string) (string, []string) {
	switch {
	case strings.Contains(strings.ToLower(text), "kiitos"):
		return "positive", nil
	case strings.HasSuffix(text, "?"):
		return "neutral", nil
	}
	return "corrective", []string{"food"}
}
func (coder) Crisis(text string) (string, bool) { return "self_harm", strings.Contains(text, "HÄTÄ") }

func setup(t *testing.T) (*testenv.Env, *router.Router, *outbox) {
	e, r, ob, _ := setupRedis(t)
	return e, r, ob
}

func setupRedis(t *testing.T) (*testenv.Env, *router.Router, *outbox, *miniredis.Miniredis) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { rdb.Close() })
	e := testenv.New(t, rdb, func(o *bot.Options) { o.Coder = coder{} })
	ob := &outbox{}
	units := slices.Clone(testenv.Units) // shared by every test: not to be changed
	units[0].SlackChannel = "#kotipesa"
	r := &router.Router{RDB: rdb, Prefix: "pl:", Units: units, All: "#johto", Lang: "fi", Outbox: ob, Scrub: upper{},
		Catalog: locales.Must(), Log: nil, Now: e.Clock.Now, Consumer: "test", Shuffle: func(int, func(int, int)) {}}
	return e, r, ob, m
}

func TestUrgentAlertWithReferenceCode(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	c := e.Chat(t, "youth-42", "fi")
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	c.Send("HÄTÄ en jaksa enää")
	reply := c.Press("Kyllä")
	code := reply[0].Text[strings.Index(reply[0].Text, ": ")+2:][:7]
	if err := r.Urgent(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 2 {
		t.Fatalf("%d posts, want the alert and the contact request: %v", len(ob.order), ob.order)
	}
	alert, contact := ob.posts[ob.order[0]], ob.posts[ob.order[1]]
	if alert.Channel != "#kotipesa" || !strings.Contains(alert.Text, "Kiireellinen") || !strings.Contains(alert.Text, "itsensä vahingoittaminen") {
		t.Fatalf("alert = %+v", alert)
	}
	if !strings.Contains(contact.Text, code) || !alert.NotBefore.IsZero() {
		t.Fatalf("contact request %q lacks the code %s the young person got", contact.Text, code)
	}
	for _, p := range ob.posts {
		for _, id := range []string{"youth-42", e.Engine.PID("test", "youth-42"), "en jaksa"} {
			if strings.Contains(p.Text, id) {
				t.Errorf("alert reveals %q: %s", id, p.Text)
			}
		}
	}
	if err := r.Urgent(ctx); err != nil || len(ob.order) != 2 {
		t.Fatalf("second run posted again: %v %v", ob.order, err)
	}
}

// TestHourlyBatchCarriesAllButPraise: the hourly batch holds the corrective feedback and, under its own
// heading after it, the rest that is not praise (so a message the coder got wrong still reaches staff
// within the hour); praise waits for the weekly digest. Texts are scrubbed; the post waits for the full
// hour; a second run posts nothing again.
func TestHourlyBatchCarriesAllButPraise(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	e.Clock.Add(20 * time.Minute) // a batch made in the middle of an hour waits for the next full hour
	for i, text := range []string{"Mikko huusi mulle taas", "ruoka on pahaa", "kiitos ohjaajille", "milloin Mikko on töissä?"} {
		c := e.Chat(t, "p"+string(rune('a'+i)), "fi")
		c.Send("/start u-kotipesa")
		c.Send("/stop")
		c.Send(text)
	}
	if err := r.Hourly(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 1 {
		t.Fatalf("posts %v, want one batch", ob.order)
	}
	p := ob.posts[ob.order[0]]
	want := e.Clock.Now().Truncate(time.Hour).Add(time.Hour)
	if !p.NotBefore.Equal(want) || p.Channel != "#kotipesa" {
		t.Errorf("batch not delayed to the next full hour in the unit's channel: %v %s, want %v", p.NotBefore, p.Channel, want)
	}
	corrective, other := strings.Index(p.Text, "korjattavaa palautetta (2 viestiä"), strings.Index(p.Text, "Muuta palautetta (1 viesti)")
	question := strings.Index(p.Text, "• milloin [nimi] on töissä?")
	if corrective < 0 || corrective > other || !strings.HasPrefix(p.Text, "📝 ") || question < other || strings.Index(p.Text, "[nimi] huusi mulle taas") > other ||
		strings.Contains(p.Text, "Mikko") || strings.Contains(p.Text, "kiitos ohjaajille") {
		t.Fatalf("batch text (want corrective first, then the question under its own heading, no praise, no names):\n%s", p.Text)
	}
	if err := r.Hourly(ctx); err != nil || len(ob.order) != 1 {
		t.Fatalf("second batch posted the same feedback again: %v", ob.order)
	}
}

// TestHourlyBatchOfOtherFeedbackOnly: feedback the coder calls neither praise nor corrective still goes
// out within the hour, with the unit's name and the anonymity note in its heading.
func TestHourlyBatchOfOtherFeedbackOnly(t *testing.T) {
	for _, lang := range []string{"fi", "sv", "en"} {
		t.Run(lang, func(t *testing.T) {
			e, r, ob := setup(t)
			r.Lang = lang
			c := e.Chat(t, "o", "fi")
			c.Send("/start u-kotipesa")
			c.Send("/stop")
			c.Send("koska on seuraava palaveri?")
			if err := r.Hourly(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(ob.order) != 1 {
				t.Fatalf("posts %v, want the batch", ob.order)
			}
			text := ob.posts[ob.order[0]].Text
			head := strings.SplitN(text, "\n", 2)[0]
			want := e.T(lang, "alert_other", locales.Data{"Unit": testenv.Units[0].Name(lang), "N": 1})
			if head != want || !strings.HasSuffix(text, "\n• koska on seuraava palaveri?") {
				t.Fatalf("batch:\n%s\nwant the heading %q", text, want)
			}
		})
	}
}

func TestBatchRetriedAfterFailureIsTheSameBatch(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	c := e.Chat(t, "q", "fi")
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	c.Send("ruoka on pahaa")
	ob.fail = true
	if err := r.Hourly(ctx); err == nil {
		t.Fatal("outbox failure not reported")
	}
	ob.fail = false
	c.Send("sängyt on huonoja") // arrives before the retry
	if err := r.Hourly(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Hourly(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 2 {
		t.Fatalf("posts %v: want the failed batch once and the new message in the next", ob.order)
	}
	if !strings.Contains(ob.posts[ob.order[0]].Text, "ruoka") || !strings.Contains(ob.posts[ob.order[1]].Text, "sängyt") {
		t.Fatalf("batches: %v", ob.posts)
	}
}

func TestWeeklyThanksDigest(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	for i, text := range []string{"kiitos Mikko kun autoit", "kiitos kivasta retkestä", "ruoka on pahaa"} {
		c := e.Chat(t, "d"+string(rune('a'+i)), "fi")
		c.Send("/start u-kotipesa")
		c.Send("/stop")
		c.Send(text)
	}
	w := period.WeekOf(e.Clock.Now())
	if err := r.Digest(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := r.Digest(ctx, w); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 1 || ob.order[0] != "digest:kotipesa:2026-W47" {
		t.Fatalf("digest posts %v", ob.order)
	}
	text := ob.posts[ob.order[0]].Text
	if !strings.Contains(text, "2 myönteistä viestiä") || !strings.Contains(text, "kiitos [nimi] kun autoit") || strings.Contains(text, "ruoka") {
		t.Fatalf("digest:\n%s", text)
	}
	if err := r.Digest(ctx, w.Prev()); err != nil || len(ob.order) != 1 {
		t.Fatalf("an empty week posted: %v", ob.order)
	}
}

// TestBatchAtTheTopOfTheHourIsDueAtOnce: Tick makes the batch when an hour begins; its post says no more
// than "during the last hour", so it is not held back another hour.
func TestBatchAtTheTopOfTheHourIsDueAtOnce(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	e.Clock.Add(30 * time.Minute)
	if err := r.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	c := e.Chat(t, "h", "fi")
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	c.Send("ruoka on pahaa")
	e.Clock.Set(time.Date(2026, 11, 18, 13, 0, 20, 0, time.UTC))
	if err := r.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 1 || !ob.posts[ob.order[0]].NotBefore.Equal(time.Date(2026, 11, 18, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("batch made at 13:00:20: %v %+v, want one due at 13:00", ob.order, ob.posts)
	}
}

// TestDigestAfterAMissedMondayMorning: a replica that starts (or gets the lock) after 8:00 on Monday
// still posts last week's thanks, once.
func TestDigestAfterAMissedMondayMorning(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	c := e.Chat(t, "k", "fi")
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	c.Send("kiitos kaikille")
	e.Clock.Set(time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)) // Monday, after 8:00
	for _, at := range []time.Duration{0, 40 * time.Minute, 100 * time.Minute, 24 * time.Hour} {
		e.Clock.Set(time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC).Add(at))
		if err := r.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(ob.order) != 1 || ob.order[0] != "digest:kotipesa:2026-W47" {
		t.Fatalf("posts %v, want last week's digest once", ob.order)
	}
}

// logRecorder keeps what the router logs.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

// lines returns each record as "LEVEL message k=v ...".
func (h *logRecorder) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		l := r.Level.String() + " " + r.Message
		r.Attrs(func(a slog.Attr) bool { l += " " + a.String(); return true })
		out = append(out, l)
	}
	return out
}

// TestNoChannelKeepsFeedback: feedback of a unit without a Slack channel (and no all_channel), and an
// alert from someone who chose no unit, are not lost and do not make every run fail: the router keeps
// them, counts them (Waiting), logs it at most once an hour per unit and kind without any text, and posts
// them once a channel is configured.
func TestNoChannelKeepsFeedback(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	logs := &logRecorder{}
	r.Log, r.All = slog.New(logs), ""
	c := e.Chat(t, "n", "fi")
	c.Send("/start u-satama")
	c.Send("/stop")
	c.Send("HÄTÄ")
	c.Send("ruoka on pahaa")
	c.Send("kiitos kivasta illasta")  // praise: not in the hourly batch, kept for the digest
	e.Chat(t, "x", "fi").Send("HÄTÄ") // no unit chosen: would go to slack.all_channel
	start := e.Clock.Now()
	for _, at := range []time.Duration{0, time.Minute, 20 * time.Minute, 59 * time.Minute} {
		e.Clock.Set(start.Add(at))
		if err := r.Urgent(ctx); err != nil {
			t.Fatalf("Urgent without a channel at +%v: %v", at, err)
		}
		if err := r.Hourly(ctx); err != nil {
			t.Fatalf("Hourly without a channel at +%v: %v", at, err)
		}
	}
	if len(ob.order) != 0 {
		t.Fatalf("posted nowhere: %v", ob.order)
	}
	if u, h := r.Waiting(router.KindUrgent), r.Waiting(router.KindHourly); u != 2 || h != 1 {
		t.Fatalf("waiting: %d urgent, %d hourly; want 2 (satama and no unit) and 1", u, h)
	}
	lines := logs.lines()
	if len(lines) != 3 {
		t.Fatalf("want one line per unit and kind in the hour (urgent satama, urgent no unit, hourly satama), got:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if strings.Contains(l, "HÄTÄ") || strings.Contains(l, "ruoka") || !strings.Contains(l, "no Slack channel") ||
			!strings.Contains(l, "slack.all_channel") || strings.Contains(l, "kind=urgent") != strings.HasPrefix(l, "ERROR") {
			t.Errorf("log line (want unit, kind, count, the setting to fix; ERROR for urgent; no text): %s", l)
		}
	}
	e.Clock.Set(start.Add(61 * time.Minute))
	if err := r.Urgent(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(logs.lines()); n != 5 {
		t.Fatalf("after an hour the two urgent waits are logged again: %d lines", n)
	}

	r.All = "#johto"
	if err := r.Urgent(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Hourly(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 3 {
		t.Fatalf("after setting slack.all_channel: %v, want both alerts and the batch", ob.order)
	}
	for _, k := range ob.order {
		if p := ob.posts[k]; p.Channel != "#johto" || strings.Contains(p.Text, "kiitos kivasta") {
			t.Errorf("post %s: %+v", k, p)
		}
	}
	if u, h := r.Waiting(router.KindUrgent), r.Waiting(router.KindHourly); u != 0 || h != 0 {
		t.Fatalf("still waiting after posting: %d %d", u, h)
	}
	if err := r.Urgent(ctx); err != nil || len(ob.order) != 3 {
		t.Fatalf("posted again: %v %v", ob.order, err)
	}
}

// TestDigestWaitsForAChannel: the thanks of a unit without a channel are not an error of every tick: the
// digest is made once (the wait logged once, without text, and counted), not again every hour, since
// channels change only with a restart; a router started with a channel set that week posts them.
func TestDigestWaitsForAChannel(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	logs := &logRecorder{}
	scrub := &countingScrub{}
	r.Log, r.All, r.Scrub = slog.New(logs), "", scrub
	c := e.Chat(t, "k", "fi")
	c.Send("/start u-satama")
	c.Send("/stop")
	c.Send("kiitos kaikille")
	monday := time.Date(2026, 11, 23, 8, 0, 10, 0, time.UTC)
	for _, at := range []time.Duration{-time.Hour, 0, 20 * time.Minute, time.Hour, 5 * time.Hour} {
		e.Clock.Set(monday.Add(at))
		if err := r.Tick(ctx); err != nil {
			t.Fatalf("tick at %v: %v", e.Clock.Now(), err)
		}
	}
	if len(ob.order) != 0 || r.Waiting(router.KindDigest) != 1 {
		t.Fatalf("posts %v, waiting %d: want none posted and one thanks waiting", ob.order, r.Waiting(router.KindDigest))
	}
	if lines := logs.lines(); len(lines) != 1 || !strings.Contains(lines[0], "kind=digest") || strings.Contains(lines[0], "kiitos") {
		t.Fatalf("want the wait logged once, at 8:00, without text; got:\n%s", strings.Join(lines, "\n"))
	}
	if scrub.n != 0 {
		t.Fatalf("%d texts scrubbed for a digest with nowhere to go", scrub.n)
	}

	restarted := &router.Router{RDB: r.RDB, Prefix: r.Prefix, Units: r.Units, All: "#johto", Lang: r.Lang, Outbox: r.Outbox,
		Scrub: r.Scrub, Catalog: r.Catalog, Now: r.Now, Consumer: "restarted", Shuffle: r.Shuffle}
	for _, at := range []time.Duration{30 * time.Hour, 31 * time.Hour, 32 * time.Hour} { // Tuesday
		e.Clock.Set(monday.Add(at))
		if err := restarted.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(ob.order) != 1 || ob.order[0] != "digest:satama:2026-W47" || restarted.Waiting(router.KindDigest) != 0 {
		t.Fatalf("after a restart with a channel: %v", ob.order)
	}
	if p := ob.posts[ob.order[0]]; p.Channel != "#johto" || !strings.Contains(p.Text, "kiitos kaikille") {
		t.Fatalf("digest %+v", p)
	}
}

// TestTakesOverWhatADeadReplicaRead: entries a router read and never acknowledged (its replica died or
// lost the scheduler's lock mid-run) are posted by the next router once they have been idle for a while,
// not left pending forever under a consumer name that no longer runs.
func TestTakesOverWhatADeadReplicaRead(t *testing.T) {
	e, a, ob, m := setupRedis(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
	m.SetTime(t0)
	c := e.Chat(t, "d", "fi")
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	c.Send("ruoka on pahaa")
	c.Send("HÄTÄ")
	ob.fail = true // a reads both and dies before posting
	if err := a.Hourly(ctx); err == nil {
		t.Fatal("outbox failure not reported")
	}
	if err := a.Urgent(ctx); err == nil {
		t.Fatal("outbox failure not reported")
	}
	ob.fail = false
	b := &router.Router{RDB: a.RDB, Prefix: a.Prefix, Units: a.Units, All: a.All, Lang: a.Lang, Outbox: a.Outbox, Scrub: a.Scrub,
		Catalog: a.Catalog, Now: a.Now, Consumer: "other-replica", Shuffle: a.Shuffle}
	m.SetTime(t0.Add(time.Minute)) // too soon: a may still be at work
	e.Clock.Add(time.Minute)
	if err := b.Hourly(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Urgent(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 0 {
		t.Fatalf("took over entries read a minute ago: %v", ob.order)
	}
	m.SetTime(t0.Add(6 * time.Minute))
	e.Clock.Add(5 * time.Minute)
	if err := b.Hourly(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Urgent(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 2 || !strings.Contains(ob.posts[ob.order[0]].Text, "ruoka on pahaa") || !strings.HasPrefix(ob.order[1], "urgent:kotipesa:") {
		t.Fatalf("posts after taking over: %v", ob.order)
	}
}

// TestNoChannelCountsWhatItTookOver: a router without a channel that takes over what a stopped replica
// read counts only what waits for its posts (the alert, not the other feedback the replica read with it).
func TestNoChannelCountsWhatItTookOver(t *testing.T) {
	e, a, ob, m := setupRedis(t)
	ctx := context.Background()
	t0 := e.Clock.Now()
	m.SetTime(t0)
	c := e.Chat(t, "d", "fi")
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	c.Send("ruoka on pahaa")
	c.Send("HÄTÄ")
	ob.fail = true // a reads both for the urgent group and stops before posting
	if err := a.Urgent(ctx); err == nil {
		t.Fatal("outbox failure not reported")
	}
	ob.fail = false
	units := slices.Clone(a.Units)
	units[0].SlackChannel = ""
	b := &router.Router{RDB: a.RDB, Prefix: a.Prefix, Units: units, Lang: a.Lang, Outbox: a.Outbox, Scrub: a.Scrub,
		Catalog: a.Catalog, Now: a.Now, Consumer: "restarted-without-channels", Shuffle: a.Shuffle}
	m.SetTime(t0.Add(6 * time.Minute))
	e.Clock.Set(t0.Add(6 * time.Minute))
	if err := b.Urgent(ctx); err != nil {
		t.Fatal(err)
	}
	if n := b.Waiting(router.KindUrgent); n != 1 || len(ob.order) != 0 {
		t.Fatalf("waiting %d urgent (posts %v), want the one alert", n, ob.order)
	}
}

// commandCounter counts the commands of one name a client sends.
type commandCounter struct {
	name string
	mu   sync.Mutex
	n    int
}

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == c.name {
			c.mu.Lock()
			c.n++
			c.mu.Unlock()
		}
		return next(ctx, cmd)
	}
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (c *commandCounter) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// TestLooksForADeadReplicasEntriesNowAndThen: the router looks for entries a stopped replica left at
// its first run and then once per five minutes, not at every tick (every 20 s, for every unit).
func TestLooksForADeadReplicasEntriesNowAndThen(t *testing.T) {
	e, r, _ := setup(t)
	claims := &commandCounter{name: "xautoclaim"}
	r.RDB.AddHook(claims)
	ctx := context.Background()
	units := len(testenv.Units) + 1 // and the alerts of people without a unit
	start := e.Clock.Now()
	for at := time.Duration(0); at < 5*time.Minute; at += 20 * time.Second {
		e.Clock.Set(start.Add(at))
		if err := r.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := claims.count(); n != units {
		t.Fatalf("%d looks in 15 ticks over 5 minutes, want %d (one per unit's urgent group, at the first)", n, units)
	}
	e.Clock.Set(start.Add(5 * time.Minute))
	if err := r.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := claims.count(); n != 2*units {
		t.Fatalf("%d looks after 5 minutes, want %d", n, 2*units)
	}
}

// TestAlertWithoutUnitNamesNoPlace: an alert from someone who chose no unit goes to the all-units
// channel and says so in words, not "?".
func TestAlertWithoutUnitNamesNoPlace(t *testing.T) {
	e, r, ob := setup(t)
	c := e.Chat(t, "x", "fi")
	c.Send("HÄTÄ")
	if err := r.Urgent(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 1 {
		t.Fatalf("posts %v", ob.order)
	}
	p := ob.posts[ob.order[0]]
	if p.Channel != "#johto" || !strings.Contains(p.Text, "paikka ei tiedossa") || strings.Contains(p.Text, "?") {
		t.Fatalf("alert without a unit: %+v", p)
	}
}
