package router_test

import (
	"context"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/bot/slack"
	"github.com/palaute/palaute/bot/slack/fakeslack"
	"github.com/palaute/palaute/coding"
	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/report/pii"
	"github.com/palaute/palaute/router"
	"github.com/palaute/palaute/store"
)

var clockTime = regexp.MustCompile(`\b\d{1,2}[:.]\d{2}\b`)

// TestRoutingThroughSlack follows feedback written to the real engine with the real coder through the
// router, the Redis outbox and the Slack sender to a Slack fake: the urgent alert at once; the corrective
// feedback and, under its own heading, the neutral feedback in the batch at 16:00 of the day the third
// message came; the lone thanks in the next week's digest on Monday morning; each once, every post
// without anything that identifies the writer, and every message counted by polarity and topic.
func TestRoutingThroughSlack(t *testing.T) {
	ctx := context.Background()
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { rdb.Close() })
	coder := coding.MustDefault(t)
	e := testenv.New(t, rdb, func(o *bot.Options) { o.Coder = coder })
	fake := fakeslack.New(t)
	ob := store.NewOutbox(rdb, "pl:")
	units := append(testenv.Units[:0:0], testenv.Units...)
	units[0].SlackChannel = "#kotipesa"
	hel, _ := time.LoadLocation("Europe/Helsinki")
	r := &router.Router{RDB: rdb, Prefix: "pl:", Units: units, All: "#johto", Lang: "fi", Outbox: router.StoreOutbox{Outbox: ob},
		Scrub: pii.New([]string{"Mikko"}), Catalog: locales.Must(), Now: e.Clock.Now, Consumer: "r1", Location: hel,
		Routing: config.DefaultRouting(), Help: config.DefaultContacts()}
	sender := &slack.Sender{Outbox: ob, API: fake.API(), Consumer: "s1", Log: slog.New(slog.DiscardHandler), Now: e.Clock.Now}
	seen := 0 // posts the fake had at the last tick
	// tick runs the router and the sender once and returns what the fake got posted since the last tick.
	tick := func() []url.Values {
		t.Helper()
		if err := r.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := sender.Once(ctx); err != nil {
			t.Fatal(err)
		}
		posts, _, _ := fake.Snapshot()
		posts, seen = posts[seen:], len(posts)
		return posts
	}

	e.Clock.Set(time.Date(2026, 11, 18, 12, 20, 0, 0, time.UTC)) // Wednesday of 2026-W47
	if p := tick(); len(p) != 0 {
		t.Fatalf("posts before any feedback: %v", p)
	}
	writers := map[string]string{
		"youth-a": "Ruoka on ihan kamalaa ja aina kylmää, Mikko sanoi ettei voi mitään",
		"youth-b": "kiitos ohjaajille, ootte parhaita",
		"youth-c": "isä lyö mua, tosi pelottavaa",
		"youth-d": "Mikko lupas viedä meidät kalaan",
	}
	var code string
	for _, u := range []string{"youth-a", "youth-b", "youth-c", "youth-d"} {
		c := e.Chat(t, u, "fi")
		c.Send("/start u-kotipesa")
		c.Send("/stop")
		rs := c.Send(writers[u])
		if u == "youth-c" {
			if rs[0].Kind != bot.Help || !strings.Contains(rs[0].Text, "116 111") {
				t.Fatalf("a message about violence at home was not answered with help first:\n%s", testenv.Dump(rs))
			}
			rs = c.Press("Kyllä")
			code = regexp.MustCompile(`[A-Z2-9]{3}-[A-Z2-9]{3}`).FindString(rs[0].Text)
		}
	}
	e.Clock.Add(time.Minute)
	urgent := tick()
	if len(urgent) != 2 || urgent[0].Get("channel") != "#kotipesa" || !strings.Contains(urgent[0].Get("text"), "väkivalta") ||
		!strings.Contains(urgent[0].Get("text"), "lastensuojeluilmoitus") || !strings.Contains(urgent[0].Get("text"), "116 111") ||
		code == "" || !strings.Contains(urgent[1].Get("text"), code) {
		t.Fatalf("urgent posts (want the alert and the contact request with code %q at once): %v", code, urgent)
	}

	// The corrective and the neutral message wait: two are fewer than min_batch (3), at 16:00 Helsinki
	// (14:00 UTC) as at any other hour.
	for _, at := range []time.Time{time.Date(2026, 11, 18, 13, 0, 10, 0, time.UTC), time.Date(2026, 11, 18, 14, 0, 10, 0, time.UTC),
		time.Date(2026, 11, 18, 15, 0, 10, 0, time.UTC), time.Date(2026, 11, 19, 10, 0, 10, 0, time.UTC)} {
		e.Clock.Set(at)
		if p := tick(); len(p) != 0 {
			t.Fatalf("posted at %v with two messages waiting: %v", at, p)
		}
	}
	c := e.Chat(t, "youth-e", "fi") // Thursday morning: the third
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	c.Send("wifi ei toimi taaskaan")
	e.Clock.Set(time.Date(2026, 11, 19, 13, 59, 50, 0, time.UTC))
	if p := tick(); len(p) != 0 {
		t.Fatalf("posted before the batch hour: %v", p)
	}
	e.Clock.Set(time.Date(2026, 11, 19, 14, 0, 10, 0, time.UTC))
	batch := tick()
	if len(batch) != 1 {
		t.Fatalf("batch at 16:00 Helsinki: %v", batch)
	}
	text := batch[0].Get("text")
	other := strings.Index(text, "Muuta palautetta (1 viesti)")
	if !strings.Contains(text, "Ruoka on ihan kamalaa") || strings.Index(text, "Ruoka on ihan kamalaa") > other ||
		strings.Index(text, "lupas viedä meidät kalaan") < other || !strings.Contains(text, "wifi ei toimi") || strings.Contains(text, "Mikko") ||
		strings.Contains(text, "kiitos ohjaajille") || strings.Contains(text, "isä lyö") {
		t.Fatalf("batch: want the corrective messages, then the neutral one under its own heading, scrubbed, no praise, never the crisis text:\n%s", text)
	}
	e.Clock.Set(time.Date(2026, 11, 19, 14, 30, 10, 0, time.UTC))
	if p := tick(); len(p) != 0 {
		t.Fatalf("a batch posted twice: %v", p)
	}

	// Monday 2026-11-23 8:00 in Helsinki is 6:00 UTC: week 47 has one thanks, fewer than min_batch; it
	// waits for week 48's digest, which posts it whatever the number (max_wait 7 days: one week more).
	e.Clock.Set(time.Date(2026, 11, 23, 6, 0, 10, 0, time.UTC))
	if p := tick(); len(p) != 0 {
		t.Fatalf("a lone thanks posted: %v", p)
	}
	e.Clock.Set(time.Date(2026, 11, 30, 5, 0, 10, 0, time.UTC))
	if p := tick(); len(p) != 0 {
		t.Fatalf("digest before Monday 8:00: %v", p)
	}
	e.Clock.Set(time.Date(2026, 11, 30, 6, 0, 10, 0, time.UTC))
	digest := tick()
	if len(digest) != 1 || !strings.Contains(digest[0].Get("text"), "kiitos ohjaajille") || !strings.Contains(digest[0].Get("text"), "2026-W47–2026-W48") {
		t.Fatalf("digest of weeks 47-48: %v", digest)
	}
	e.Clock.Set(time.Date(2026, 11, 30, 7, 0, 10, 0, time.UTC))
	if p := tick(); len(p) != 0 {
		t.Fatalf("digest posted twice: %v", p)
	}

	for _, p := range append(append(urgent, batch...), digest...) {
		text := p.Get("text")
		for u := range writers {
			for _, id := range []string{u, e.Engine.PID("test", u)} {
				if strings.Contains(text, id) {
					t.Errorf("post reveals %q: %s", id, text)
				}
			}
		}
		if clockTime.MatchString(text) || strings.Contains(text, "2026-11-") {
			t.Errorf("post carries a time finer than a week: %s", text)
		}
	}
	agg := e.Agg(t, "kotipesa", "youth", "2026-W47")
	for k, want := range map[string]string{"fb.n": "4", "fb.pol=corrective": "2", "fb.pol=positive": "1", "fb.pol=neutral": "1", "fb.topic=food": "1", "fb.topic=staff": "1", "fb.topic=hobbies": "1", "fb.topic=housing": "1"} {
		if agg[k] != want {
			t.Errorf("summary counter %s = %q, want %s (all: %v)", k, agg[k], want, agg)
		}
	}
}
