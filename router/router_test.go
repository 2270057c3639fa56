package router_test

import (
	"context"
	"errors"
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

// coder: "HÄTÄ" is a crisis, "kiitos" positive, everything else corrective.
type coder struct{}

func (coder) Code(lang, text string) (string, []string) {
	if strings.Contains(strings.ToLower(text), "kiitos") {
		return "positive", nil
	}
	return "corrective", []string{"food"}
}
func (coder) Crisis(text string) (string, bool) { return "self_harm", strings.Contains(text, "HÄTÄ") }

func setup(t *testing.T) (*testenv.Env, *router.Router, *outbox) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { rdb.Close() })
	e := testenv.New(t, rdb, func(o *bot.Options) { o.Coder = coder{} })
	ob := &outbox{}
	units := testenv.Units
	units[0].SlackChannel = "#kotipesa"
	r := &router.Router{RDB: rdb, Prefix: "pl:", Units: units, All: "#johto", Lang: "fi", Outbox: ob, Scrub: upper{},
		Catalog: locales.Must(), Log: nil, Now: e.Clock.Now, Consumer: "test", Shuffle: func(int, func(int, int)) {}}
	return e, r, ob
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

func TestCorrectiveBatchedHourlyScrubbed(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	e.Clock.Add(20 * time.Minute) // a batch made in the middle of an hour waits for the next full hour
	for i, text := range []string{"Mikko huusi mulle taas", "ruoka on pahaa", "kiitos ohjaajille"} {
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
	if !p.NotBefore.Equal(want) {
		t.Errorf("batch not delayed to the next full hour: %v, want %v", p.NotBefore, want)
	}
	if !strings.Contains(p.Text, "2 viestiä") || !strings.Contains(p.Text, "[nimi] huusi mulle taas") || strings.Contains(p.Text, "Mikko") || strings.Contains(p.Text, "kiitos") {
		t.Fatalf("batch text:\n%s", p.Text)
	}
	if err := r.Hourly(ctx); err != nil || len(ob.order) != 1 {
		t.Fatalf("second batch posted the same feedback again: %v", ob.order)
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

// TestNoChannelKeepsFeedback: feedback of a unit without a Slack channel (and no all_channel) is not
// lost: the router says why, and posts it once a channel is configured.
func TestNoChannelKeepsFeedback(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	r.All = ""
	c := e.Chat(t, "n", "fi")
	c.Send("/start u-satama")
	c.Send("/stop")
	c.Send("HÄTÄ")
	c.Send("ruoka on pahaa")
	if err := r.Urgent(ctx); !errors.Is(err, router.ErrNoChannel) {
		t.Fatalf("Urgent without a channel: %v", err)
	}
	if err := r.Hourly(ctx); !errors.Is(err, router.ErrNoChannel) {
		t.Fatalf("Hourly without a channel: %v", err)
	}
	if len(ob.order) != 0 {
		t.Fatalf("posted nowhere: %v", ob.order)
	}
	r.All = "#johto"
	if err := r.Urgent(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Hourly(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 2 || ob.posts[ob.order[0]].Channel != "#johto" {
		t.Fatalf("after setting slack.all_channel: %v", ob.order)
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
