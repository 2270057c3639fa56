package router_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/report/pii"
	"github.com/palaute/palaute/router"
)

// outbox is the Outbox as the store's: posts given together are taken whole, once per the first key.
type outbox struct {
	mu    sync.Mutex
	posts map[string]router.Post
	order []string
	fail  bool
}

func (o *outbox) Post(_ context.Context, ps ...router.Post) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail {
		return errors.New("redis down")
	}
	if o.posts == nil {
		o.posts = map[string]router.Post{}
	}
	if _, dup := o.posts[ps[0].Key]; dup {
		return nil
	}
	for _, p := range ps {
		o.order = append(o.order, p.Key)
		o.posts[p.Key] = p
	}
	return nil
}

// texts are the texts of the posts, in order.
func (o *outbox) texts() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, k := range o.order {
		out = append(out, o.posts[k].Text)
	}
	return out
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

// coder: "HÄTÄ" is a crisis (self-harm), "LYÖ" one too (violence), "kiitos" positive, a question neutral,
// everything else corrective.
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
func (coder) Crisis(text string) (string, bool) {
	if strings.Contains(text, "LYÖ") {
		return "violence", true
	}
	return "self_harm", strings.Contains(text, "HÄTÄ")
}

func setup(t *testing.T) (*testenv.Env, *router.Router, *outbox) {
	e, r, ob, _ := setupRedis(t)
	return e, r, ob
}

func setupRedis(t *testing.T) (*testenv.Env, *router.Router, *outbox, *miniredis.Miniredis) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { rdb.Close() })
	e, r, ob := setupOn(t, rdb)
	return e, r, ob, m
}

// setupOn is setup on the Redis rdb.
func setupOn(t *testing.T, rdb redis.UniversalClient) (*testenv.Env, *router.Router, *outbox) {
	e := testenv.New(t, rdb, func(o *bot.Options) { o.Coder = coder{} })
	ob := &outbox{}
	units := slices.Clone(testenv.Units) // shared by every test: not to be changed
	units[0].SlackChannel = "#kotipesa"
	r := &router.Router{RDB: rdb, Prefix: "pl:", Units: units, All: "#johto", Lang: "fi", Outbox: ob, Scrub: upper{},
		Catalog: locales.Must(), Log: nil, Now: e.Clock.Now, Consumer: "test", Shuffle: func(int, func(int, int)) {},
		Routing: config.DefaultRouting(), Help: config.DefaultContacts()}
	return e, r, ob
}

// wed is the test clock's Wednesday of 2026-W47 (the clock starts at 12:00 UTC; the router's time zone
// is UTC) at hh:mm:20.
func wed(days, hh, mm int) time.Time { return time.Date(2026, 11, 18+days, hh, mm, 20, 0, time.UTC) }

// write sends text as spontaneous feedback of unit from a new person.
func write(t *testing.T, e *testenv.Env, who, unit, text string) {
	t.Helper()
	c := e.Chat(t, who, "fi")
	c.Send("/start u-" + unit)
	c.Send("/stop")
	c.Send(text)
}

// batchAt sets the clock to at and makes the batch.
func batchAt(t *testing.T, e *testenv.Env, r *router.Router, at time.Time) {
	t.Helper()
	e.Clock.Set(at)
	if err := r.Batch(context.Background()); err != nil {
		t.Fatalf("batch at %v: %v", at, err)
	}
}

func TestUrgentAlertWithReferenceCode(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	c := e.Chat(t, "youth-42", "fi")
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	c.Send("HÄTÄ en jaksa enää")
	reply := c.Press("Kyllä")
	code := regexp.MustCompile(`[A-Z2-9]{3}-[A-Z2-9]{3}`).FindString(reply[0].Text)
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

// TestAlertSaysWhatToDo: a crisis alert lists the help contacts the writer was shown (from the
// configuration), says a staff contact was offered and what to do now, and for violence suggests a
// child-welfare notification; the contact request names the crisis class and says plainly what a staff
// member shown the code is to do.
func TestAlertSaysWhatToDo(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	r.Lang = "en"
	r.Help = append(config.DefaultContacts(), config.Contact{Name: flows.Texts{"fi": "Oma päivystys", "en": "Our on-call line"}, Phone: "040 000 0000"})
	c := e.Chat(t, "y", "fi")
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	c.Send("isä LYÖ mua")
	code := regexp.MustCompile(`[A-Z2-9]{3}-[A-Z2-9]{3}`).FindString(c.Press("Kyllä")[0].Text)
	write(t, e, "z", "kotipesa", "HÄTÄ")
	if err := r.Urgent(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 3 {
		t.Fatalf("posts %v, want two alerts and a contact request", ob.order)
	}
	violence, contact, selfHarm := ob.posts[ob.order[0]].Text, ob.posts[ob.order[1]].Text, ob.posts[ob.order[2]].Text
	wantViolence := "🚨 Urgent: Kotipesä youth home – a message suggesting violence (young person). Who wrote it is not known and cannot be found from this message.\n" +
		"The writer was shown these help lines at once: Emergency number 112, MLL Child and Youth Helpline 116 111, Sekasin chat (ages 12-29) sekasin247.fi, " +
		"MIELI crisis helpline 09 2525 0111, Our on-call line 040 000 0000. They were asked whether they want to talk to a staff member: if they say yes, " +
		"a contact request with a code follows here.\n" +
		"What to do now: follow the unit's safety plan, and do not try to work out who wrote.\n" +
		"Violence or abuse at home may be involved: consider a child-welfare notification (lastensuojeluilmoitus)."
	if violence != wantViolence {
		t.Errorf("violence alert:\n%s\nwant\n%s", violence, wantViolence)
	}
	wantContact := "🚨 Contact request: Kotipesä youth home – the writer of a message suggesting violence would like to talk to a staff member. " +
		"If a young person shows you the code " + code + ", they asked to talk: make time for them now, somewhere private, and listen. " +
		"Do not ask what they wrote; follow the unit's safety plan.\n" +
		"Violence or abuse at home may be involved: consider a child-welfare notification (lastensuojeluilmoitus)."
	if code == "" || contact != wantContact {
		t.Errorf("contact request:\n%s\nwant\n%s", contact, wantContact)
	}
	if !strings.Contains(selfHarm, "self-harm") || !strings.Contains(selfHarm, "What to do now") || strings.Contains(selfHarm, "child-welfare") {
		t.Errorf("self-harm alert (want what to do, no child-welfare notification):\n%s", selfHarm)
	}
	for _, lang := range []string{"fi", "sv"} {
		ob.posts, ob.order = nil, nil
		r.Lang = lang
		e.Clock.Add(time.Minute)
		write(t, e, "v-"+lang, "kotipesa", "LYÖ")
		if err := r.Urgent(ctx); err != nil || len(ob.order) != 1 {
			t.Fatalf("%s: %v %v", lang, ob.order, err)
		}
		want := map[string]string{"fi": "lastensuojeluilmoitus", "sv": "barnskyddsanmälan"}[lang]
		if text := ob.posts[ob.order[0]].Text; !strings.Contains(text, want) || !strings.Contains(text, "116 111") {
			t.Errorf("%s alert lacks %q or the help lines:\n%s", lang, want, text)
		}
	}
}

// With slack.safeguarding_channel set, alerts that may be about violence or abuse at home, and their
// contact requests, go there and not to the unit's own channel; other alerts stay with the unit.
func TestSafeguardingChannelTakesAlertsAboutHome(t *testing.T) {
	e, r, ob := setup(t)
	r.Safeguarding = "#lastensuojelu"
	c := e.Chat(t, "y-home", "fi")
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	c.Send("isä LYÖ mua")
	c.Press("Kyllä")
	write(t, e, "y-self", "kotipesa", "HÄTÄ")
	if err := r.Urgent(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range ob.order {
		got = append(got, ob.posts[k].Channel)
	}
	if want := []string{"#lastensuojelu", "#lastensuojelu", "#kotipesa"}; !slices.Equal(got, want) {
		t.Fatalf("channels %v, want %v (violence alert, its contact request, self-harm alert)", got, want)
	}
}

// A unit with no channel of its own and no slack.all_channel still has its alerts about home posted to the
// safeguarding channel; its other alerts wait for a channel.
func TestSafeguardingChannelWithoutUnitChannel(t *testing.T) {
	e, r, ob := setup(t)
	r.Safeguarding, r.All = "#lastensuojelu", ""
	r.Units[0].SlackChannel = ""
	write(t, e, "y-home", "kotipesa", "isä LYÖ mua")
	write(t, e, "y-self", "kotipesa", "HÄTÄ")
	if err := r.Urgent(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 1 || ob.posts[ob.order[0]].Channel != "#lastensuojelu" || r.Waiting(router.KindUrgent) != 1 {
		t.Fatalf("posts %v, %d waiting; want the violence alert posted and the self-harm alert waiting", ob.order, r.Waiting(router.KindUrgent))
	}
	write(t, e, "y-home2", "kotipesa", "äiti LYÖ mua") // a kept alert does not hold up the next one about home
	if err := r.Urgent(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 2 || ob.posts[ob.order[1]].Channel != "#lastensuojelu" || r.Waiting(router.KindUrgent) != 1 {
		t.Fatalf("posts %v, %d waiting; want the second violence alert posted too", ob.order, r.Waiting(router.KindUrgent))
	}
	// A failed post leaves the count as it was: it is not every entry left unacknowledged.
	write(t, e, "y-a", "kotipesa", "ruoka on hyvää")
	write(t, e, "y-home3", "kotipesa", "veli LYÖ mua")
	ob.fail = true
	if err := r.Urgent(context.Background()); err == nil || r.Waiting(router.KindUrgent) != 1 {
		t.Fatalf("failed post: %v, %d waiting; want an error and still 1", err, r.Waiting(router.KindUrgent))
	}
	ob.fail = false
	if err := r.Urgent(context.Background()); err != nil || len(ob.order) != 3 || r.Waiting(router.KindUrgent) != 1 {
		t.Fatalf("after the failure: %v, posts %v, %d waiting", err, ob.order, r.Waiting(router.KindUrgent))
	}
	ob.posts, ob.order = nil, nil
	r.Units[0].SlackChannel = "#kotipesa" // a channel is set, and the router restarted
	if err := r.Urgent(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 1 || ob.posts[ob.order[0]].Channel != "#kotipesa" || r.Waiting(router.KindUrgent) != 0 {
		t.Fatalf("after a channel was set: %v, %d waiting; want the self-harm alert posted to the unit", ob.order, r.Waiting(router.KindUrgent))
	}
}

// Thanks written to "none of these" (bot.NoUnit) reach slack.all_channel in the weekly digest.
func TestThanksOfNoPlaceInTheDigest(t *testing.T) {
	e, r, ob := setup(t)
	for i, text := range []string{"kiitos kaikille", "kiitos hyvästä ruoasta", "kiitos retkestä"} {
		c := e.Chat(t, fmt.Sprint("none-", i), "fi")
		c.Send(text)
		c.Press(e.T("fi", "btn_unit_none"))
	}
	if err := r.Digest(context.Background(), period.WeekOf(e.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 1 || ob.posts[ob.order[0]].Channel != "#johto" || !strings.Contains(ob.posts[ob.order[0]].Text, "hyvästä ruoasta") {
		t.Fatalf("digest posts %v", ob.texts())
	}
}

// TestBatchCarriesAllButPraise: the batch holds the corrective feedback and, under its own heading after
// it, the rest that is not praise (so a message the coder got wrong still reaches staff); praise waits
// for the weekly digest. Texts are scrubbed; the post is made at the batch hour; a second run posts
// nothing again.
func TestBatchCarriesAllButPraise(t *testing.T) {
	e, r, ob := setup(t)
	for i, text := range []string{"Mikko huusi mulle taas", "ruoka on pahaa", "kiitos ohjaajille", "milloin Mikko on töissä?"} {
		write(t, e, "p"+string(rune('a'+i)), "kotipesa", text)
	}
	batchAt(t, e, r, wed(0, 15, 59))
	if len(ob.order) != 0 {
		t.Fatalf("posted before the batch hour: %v", ob.order)
	}
	batchAt(t, e, r, wed(0, 16, 0))
	if len(ob.order) != 1 {
		t.Fatalf("posts %v, want one batch", ob.order)
	}
	p := ob.posts[ob.order[0]]
	if p.Channel != "#kotipesa" || !p.NotBefore.IsZero() {
		t.Errorf("batch not posted now in the unit's channel: %v %s", p.NotBefore, p.Channel)
	}
	corrective, other := strings.Index(p.Text, "korjattavaa palautetta (2 viestiä"), strings.Index(p.Text, "Muuta palautetta (1 viesti)")
	question := strings.Index(p.Text, "• milloin [nimi] on töissä?")
	if corrective < 0 || corrective > other || !strings.HasPrefix(p.Text, "📝 ") || question < other || strings.Index(p.Text, "[nimi] huusi mulle taas") > other ||
		strings.Contains(p.Text, "Mikko") || strings.Contains(p.Text, "kiitos ohjaajille") {
		t.Fatalf("batch text (want corrective first, then the question under its own heading, no praise, no names):\n%s", p.Text)
	}
	batchAt(t, e, r, wed(0, 16, 30))
	batchAt(t, e, r, wed(1, 16, 0))
	if len(ob.order) != 1 {
		t.Fatalf("the same feedback posted again: %v", ob.order)
	}
}

// TestBatchOfOtherFeedbackOnly: feedback the coder calls neither praise nor corrective still goes
// out, with the unit's name in its heading, what the scrubber removed and why the time does not show.
func TestBatchOfOtherFeedbackOnly(t *testing.T) {
	for _, lang := range []string{"fi", "sv", "en"} {
		t.Run(lang, func(t *testing.T) {
			e, r, ob := setup(t)
			r.Lang = lang
			r.Routing.MinBatch = 1
			write(t, e, "o", "kotipesa", "koska on seuraava palaveri?")
			batchAt(t, e, r, wed(0, 16, 0))
			if len(ob.order) != 1 {
				t.Fatalf("posts %v, want the batch", ob.order)
			}
			lines := strings.Split(ob.posts[ob.order[0]].Text, "\n")
			want := []string{e.T(lang, "alert_other", locales.Data{"Unit": testenv.Units[0].Name(lang), "N": 1}),
				e.T(lang, "batch_note", locales.Data{"N": 1}), e.T(lang, "scrubbed_note"), "• koska on seuraava palaveri?"}
			if !slices.Equal(lines, want) {
				t.Fatalf("batch:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestScrubbedNoteSaysWhatIsRemoved: the note on every feedback post names each kind of data report/pii
// removes, and claims nothing it does not (no "names, numbers and addresses removed" when only the
// configured names are). A kind added to report/pii fails here until the note says it.
func TestScrubbedNoteSaysWhatIsRemoved(t *testing.T) {
	note := locales.Must().T("en", "scrubbed_note")
	says := map[string]string{"email": "email addresses", "phone": "phone numbers", "personal-id": "personal identity codes",
		"iban": "bank account numbers (IBAN)", "url": "links", "handle": "@usernames", "address": "street addresses",
		"name": "the names on palaute's name list (privacy.names)"}
	for k := pii.Kind(0); k.String() != "unknown"; k++ {
		w, ok := says[k.String()]
		if !ok {
			t.Errorf("report/pii removes %q: scrubbed_note (router.*.yaml) must say so, and this test know how", k)
			continue
		}
		if !strings.Contains(note, w) {
			t.Errorf("scrubbed_note does not say %q is removed: %s", w, note)
		}
	}
	const plain = "Mikko ja Aino sanoi niin"
	if builtin := pii.New(nil).Scrub("fi", plain) != plain; builtin != strings.Contains(note, "common first names") {
		t.Errorf("report/pii removes common first names without a name list: %v; scrubbed_note says it does: %v", builtin, !builtin)
	}
	for _, lang := range locales.Languages {
		for _, id := range []string{"alert_corrective", "alert_other", "digest_thanks"} {
			head := locales.Must().T(lang, id, locales.Data{"Unit": "U", "N": 2, "Week": "2026-W47"})
			if strings.Contains(head, "osoitteet") || strings.Contains(head, "adresser") || strings.Contains(head, "addresses") {
				t.Errorf("%s/%s still claims what was removed: %s", lang, id, head)
			}
		}
	}
}

func TestBatchRetriedAfterFailureIsTheSameBatch(t *testing.T) {
	e, r, ob := setup(t)
	r.Routing.MinBatch = 1
	write(t, e, "q", "kotipesa", "ruoka on pahaa")
	ob.fail = true
	e.Clock.Set(wed(0, 16, 0))
	if err := r.Batch(context.Background()); err == nil {
		t.Fatal("outbox failure not reported")
	}
	ob.fail = false
	write(t, e, "q2", "kotipesa", "sängyt on huonoja") // arrives before the retry
	batchAt(t, e, r, wed(0, 16, 1))
	batchAt(t, e, r, wed(0, 16, 2))
	batchAt(t, e, r, wed(1, 16, 0))
	if len(ob.order) != 2 {
		t.Fatalf("posts %v: want the failed batch once and the new message in the next day's", ob.order)
	}
	if texts := ob.texts(); !strings.Contains(texts[0], "ruoka") || strings.Contains(texts[0], "sängyt") || !strings.Contains(texts[1], "sängyt") {
		t.Fatalf("batches:\n%s", strings.Join(texts, "\n---\n"))
	}
}

// TestFewMessagesWait: the review's case: one message in a family home, written at night, is not posted
// in the next hour (who was on their phone then is known): feedback goes out at the batch hour only, once a
// day, and only when min_batch messages wait; the third message makes the post, at the next batch hour.
func TestFewMessagesWait(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	r.Units = slices.Clone(r.Units)
	r.Units[1].SlackChannel = "#satama"
	e.Clock.Set(wed(1, 1, 30)) // Thursday, 01:30
	write(t, e, "night", "satama", "Tylsää")
	posted := map[string]time.Time{}
	tick := func(from, to time.Time) {
		for at := from; at.Before(to); at = at.Add(10 * time.Minute) {
			e.Clock.Set(at)
			if err := r.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			for _, k := range ob.order {
				if _, seen := posted[k]; !seen {
					posted[k] = at
				}
			}
		}
	}
	tick(wed(1, 1, 40), wed(2, 12, 0)) // through Thursday's batch hour to Friday noon
	if len(ob.order) != 0 {
		t.Fatalf("a lone message was posted: %v at %v", ob.order, posted)
	}
	write(t, e, "b", "satama", "ruoka on pahaa")
	tick(wed(2, 12, 0), wed(3, 12, 0))
	if len(ob.order) != 0 {
		t.Fatalf("two messages were posted, want %d: %v", r.Routing.MinBatch, ob.order)
	}
	write(t, e, "c", "satama", "miksi ei saa olla puhelinta?")
	tick(wed(3, 12, 0), wed(5, 0, 0))
	if len(ob.order) != 1 || !posted[ob.order[0]].Equal(wed(3, 16, 0)) {
		t.Fatalf("posts %v at %v, want one at Saturday 16:00", ob.order, posted)
	}
	text := ob.posts[ob.order[0]].Text
	for _, m := range []string{"Tylsää", "ruoka on pahaa", "miksi ei saa olla puhelinta?", "korjattavaa palautetta (2 viestiä"} {
		if !strings.Contains(text, m) {
			t.Errorf("batch lacks %q:\n%s", m, text)
		}
	}
}

// TestLoneMessagePostedInTheWeekAfter: a message that never gets company is posted, alone, at the first
// batch hour max_wait (7 days) after the start of the ISO week it was written in, with whatever came
// since: so its post tells only its week. One written the week after waits for its own week's turn.
func TestLoneMessagePostedInTheWeekAfter(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	write(t, e, "a", "kotipesa", "ruoka on pahaa") // Wednesday of 2026-W47
	for d := 0; d <= 4; d++ {                      // to Sunday
		batchAt(t, e, r, wed(d, 16, 0))
	}
	if len(ob.order) != 0 {
		t.Fatalf("posted within its week: %v", ob.order)
	}
	e.Clock.Set(wed(5, 9, 0)) // Monday of W48, morning
	write(t, e, "b", "kotipesa", "sängyt on huonoja")
	batchAt(t, e, r, wed(5, 15, 0))
	if len(ob.order) != 0 {
		t.Fatalf("posted before the batch hour: %v", ob.order)
	}
	batchAt(t, e, r, wed(5, 16, 0))
	if len(ob.order) != 1 || !strings.Contains(ob.texts()[0], "ruoka on pahaa") || !strings.Contains(ob.texts()[0], "sängyt") {
		t.Fatalf("Monday of the next week: %v %v", ob.order, ob.texts())
	}
	e.Clock.Set(wed(6, 9, 0)) // Tuesday of W48
	write(t, e, "c", "kotipesa", "wifi ei toimi")
	for d := 6; d <= 11; d++ { // to Sunday of W48
		batchAt(t, e, r, wed(d, 16, 0))
	}
	if len(ob.order) != 1 {
		t.Fatalf("a message of W48 posted in W48: %v", ob.order)
	}
	if err := r.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	batchAt(t, e, r, wed(12, 16, 0))
	if len(ob.order) != 2 || !strings.Contains(ob.texts()[1], "wifi ei toimi") {
		t.Fatalf("Monday of W49: %v", ob.texts())
	}
}

// TestBatchMadeOnceADay: a replica that takes over in the batch hour after another made the batch does
// not make a second one that day (it would be posted at another time, holding what was written since);
// what came meanwhile waits for the next day.
func TestBatchMadeOnceADay(t *testing.T) {
	e, a, ob := setup(t)
	for i, text := range []string{"ruoka on pahaa", "sängyt on huonoja", "wifi ei toimi"} {
		write(t, e, "a"+string(rune('a'+i)), "kotipesa", text)
	}
	batchAt(t, e, a, wed(0, 16, 0))
	e.Clock.Set(wed(0, 16, 10))
	for i, text := range []string{"liian vähän rahaa", "kotiintuloajat on liian aikaisin", "ei saa nähdä kavereita"} {
		write(t, e, "b"+string(rune('a'+i)), "kotipesa", text)
	}
	b := &router.Router{RDB: a.RDB, Prefix: a.Prefix, Units: a.Units, All: a.All, Lang: a.Lang, Outbox: a.Outbox, Scrub: a.Scrub,
		Catalog: a.Catalog, Now: a.Now, Consumer: "other-replica", Shuffle: a.Shuffle, Routing: a.Routing}
	batchAt(t, e, b, wed(0, 16, 20))
	if err := b.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 1 {
		t.Fatalf("posts %v, want one batch a day", ob.order)
	}
	batchAt(t, e, b, wed(1, 16, 0))
	if len(ob.order) != 2 || !strings.Contains(ob.texts()[1], "rahaa") || strings.Contains(ob.texts()[1], "wifi") {
		t.Fatalf("next day: %v", ob.texts())
	}
}

// TestBatchSplitIntoPosts: a large batch is several numbered posts, each well under Slack's limit as the
// sender sends it (& < > escaped), every message in exactly one of them and whole, but one too long to
// show, which is cut and says so.
func TestBatchSplitIntoPosts(t *testing.T) {
	e, r, ob := setup(t)
	var want []string
	for i := range 30 {
		text := fmt.Sprintf("viesti %d: %s", i, strings.Repeat("ruoka <on> pahaa & kylmää ", 10+i%7))
		write(t, e, fmt.Sprint("w", i), "kotipesa", text)
		want = append(want, strings.TrimSpace(text))
	}
	long := "pitkä: " + strings.Repeat("abcdefghij ", 350) // the engine takes up to 4 000 characters
	write(t, e, "long", "kotipesa", long)
	batchAt(t, e, r, wed(0, 16, 0))
	texts := ob.texts()
	if len(texts) < 3 {
		t.Fatalf("%d posts, want the batch split", len(texts))
	}
	all := strings.Join(texts, "\n")
	for i, text := range texts {
		escaped := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
		if n := utf8.RuneCountInString(escaped); n > 4000 {
			t.Errorf("post %d is %d characters as sent", i+1, n)
		}
		first := strings.SplitN(text, "\n", 2)[0]
		if suffix := fmt.Sprintf(" (%d/%d)", i+1, len(texts)); !strings.HasSuffix(first, suffix) {
			t.Errorf("post %d begins %q, want it numbered %q", i+1, first, suffix)
		}
		if i > 0 && !strings.HasPrefix(first, "📝 Nuorisokoti Kotipesä: palaute jatkuu") {
			t.Errorf("post %d begins %q", i+1, first)
		}
	}
	lines := map[string]int{}
	for _, l := range strings.Split(all, "\n") {
		lines[l]++
	}
	for _, w := range want {
		if n := lines["• "+w]; n != 1 {
			t.Errorf("message %.20q… is in the posts %d times", w, n)
		}
	}
	if !strings.Contains(all, "• pitkä: abcdefghij") || !strings.Contains(all, "abcdefghij (lyhennetty)") || strings.Contains(all, "…") {
		i := strings.Index(all, "pitkä")
		t.Errorf("the long message is not cut with (lyhennetty): %q", all[max(0, i-10):min(len(all), i+80)])
	}
	for i, k := range ob.order[1:] {
		if k != fmt.Sprintf("%s:%d", ob.order[0], i+2) {
			t.Errorf("part keys %v: want the batch's key, then key:2, key:3, ...", ob.order)
		}
	}
}

func TestWeeklyThanksDigest(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	for i, text := range []string{"kiitos Mikko kun autoit", "kiitos kivasta retkestä", "kiitos hyvästä ruoasta", "ruoka on pahaa"} {
		write(t, e, "d"+string(rune('a'+i)), "kotipesa", text)
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
	if !strings.Contains(text, "3 myönteistä viestiä") || !strings.Contains(text, "kiitos [nimi] kun autoit") || strings.Contains(text, "ruoka") ||
		!strings.Contains(text, e.T("fi", "scrubbed_note")) {
		t.Fatalf("digest:\n%s", text)
	}
	if err := r.Digest(ctx, w.Prev()); err != nil || len(ob.order) != 1 {
		t.Fatalf("an empty week posted: %v", ob.order)
	}
}

// TestDigestCarriesFewThanks: a week with fewer than min_batch thanks is not posted; its thanks go into
// the next week's digest, which is posted then whatever its number (max_wait 7 days: one week more),
// headed with both weeks. A week decided is not decided again.
func TestDigestCarriesFewThanks(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	write(t, e, "a", "kotipesa", "kiitos kivasta illasta")
	w47 := period.WeekOf(e.Clock.Now())
	for range 2 {
		if err := r.Digest(ctx, w47); err != nil {
			t.Fatal(err)
		}
	}
	if len(ob.order) != 0 {
		t.Fatalf("a lone thanks posted: %v", ob.order)
	}
	e.Clock.Add(7 * 24 * time.Hour)
	write(t, e, "b", "kotipesa", "kiitos retkestä")
	w48 := period.WeekOf(e.Clock.Now())
	for _, w := range []period.Period{w48, w48, w47} {
		if err := r.Digest(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if len(ob.order) != 1 || ob.order[0] != "digest:kotipesa:2026-W47..2026-W48" {
		t.Fatalf("posts %v, want the two weeks' thanks once", ob.order)
	}
	text := ob.posts[ob.order[0]].Text
	if !strings.HasPrefix(text, "💚 Kiitokset, Nuorisokoti Kotipesä, viikot 2026-W47–2026-W48: 2 myönteistä viestiä.") ||
		!strings.Contains(text, "kiitos kivasta illasta") || !strings.Contains(text, "kiitos retkestä") {
		t.Fatalf("digest:\n%s", text)
	}
	e.Clock.Add(7 * 24 * time.Hour)
	write(t, e, "c", "kotipesa", "kiitos kaikille")
	if err := r.Digest(ctx, period.WeekOf(e.Clock.Now())); err != nil || len(ob.order) != 1 {
		t.Fatalf("W49's lone thanks: %v %v", ob.order, err)
	}
}

// TestTickMakesTheBatchAtTheBatchHour: ticking through two days, the batch is made at the first tick of
// the batch hour in the router's time zone, and only then.
func TestTickMakesTheBatchAtTheBatchHour(t *testing.T) {
	e, r, ob := setup(t)
	ctx := context.Background()
	hel, _ := time.LoadLocation("Europe/Helsinki")
	r.Location = hel
	for i, text := range []string{"ruoka on pahaa", "sängyt on huonoja", "wifi ei toimi"} {
		write(t, e, "h"+string(rune('a'+i)), "kotipesa", text)
	}
	var at []time.Time
	for t0 := wed(0, 12, 0); t0.Before(wed(2, 0, 0)); t0 = t0.Add(20 * time.Second) {
		e.Clock.Set(t0)
		n := len(ob.order)
		if err := r.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if len(ob.order) > n {
			at = append(at, t0)
		}
		if t0.Equal(wed(1, 3, 0)) {
			write(t, e, "hd", "kotipesa", "ei kiva")
		}
	}
	if want := time.Date(2026, 11, 18, 16, 0, 0, 0, hel); len(at) != 1 || at[0].Sub(want) > 20*time.Second || at[0].Before(want) {
		t.Fatalf("posts at %v, want one in the first 20 s of %v (the lone message of Thursday waits)", at, want)
	}
}

// TestDigestAfterAMissedMondayMorning: a replica that starts (or gets the lock) after 8:00 on Monday
// still posts last week's thanks, once.
func TestDigestAfterAMissedMondayMorning(t *testing.T) {
	e, r, ob := setup(t)
	r.Routing.MinBatch = 1
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
	r.Routing.MinBatch = 1
	c := e.Chat(t, "n", "fi")
	c.Send("/start u-satama")
	c.Send("/stop")
	c.Send("HÄTÄ")
	c.Send("ruoka on pahaa")
	c.Send("kiitos kivasta illasta")  // praise: not in the batch, kept for the digest
	e.Chat(t, "x", "fi").Send("HÄTÄ") // no unit chosen: would go to slack.all_channel
	start := wed(0, 16, 0)            // the batch hour
	for _, at := range []time.Duration{0, time.Minute, 20 * time.Minute, 59 * time.Minute} {
		e.Clock.Set(start.Add(at))
		if err := r.Urgent(ctx); err != nil {
			t.Fatalf("Urgent without a channel at +%v: %v", at, err)
		}
		if err := r.Batch(ctx); err != nil {
			t.Fatalf("Batch without a channel at +%v: %v", at, err)
		}
	}
	if len(ob.order) != 0 {
		t.Fatalf("posted nowhere: %v", ob.order)
	}
	if u, h := r.Waiting(router.KindUrgent), r.Waiting(router.KindBatch); u != 2 || h != 1 {
		t.Fatalf("waiting: %d urgent, %d batch; want 2 (satama and no unit) and 1", u, h)
	}
	lines := logs.lines()
	if len(lines) != 3 {
		t.Fatalf("want one line per unit and kind in the hour (urgent satama, urgent no unit, batch satama), got:\n%s", strings.Join(lines, "\n"))
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
	batchAt(t, e, r, wed(1, 16, 0)) // the next batch hour
	if len(ob.order) != 3 {
		t.Fatalf("after setting slack.all_channel: %v, want both alerts and the batch", ob.order)
	}
	for _, k := range ob.order {
		if p := ob.posts[k]; p.Channel != "#johto" || strings.Contains(p.Text, "kiitos kivasta") {
			t.Errorf("post %s: %+v", k, p)
		}
	}
	if u, h := r.Waiting(router.KindUrgent), r.Waiting(router.KindBatch); u != 0 || h != 0 {
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
	r.Routing.MinBatch = 1
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
		Scrub: r.Scrub, Catalog: r.Catalog, Now: r.Now, Consumer: "restarted", Shuffle: r.Shuffle, Routing: r.Routing}
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
// not left pending forever under a consumer name that no longer runs; a batch chosen but not handed to
// the outbox is posted by the next router at once (under the same key: twice is still once).
func TestTakesOverWhatADeadReplicaRead(t *testing.T) {
	e, a, ob, m := setupRedis(t)
	ctx := context.Background()
	a.Routing.MinBatch = 1
	t0 := wed(0, 16, 0)
	m.SetTime(t0)
	e.Clock.Set(t0)
	c := e.Chat(t, "d", "fi")
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	c.Send("ruoka on pahaa")
	c.Send("HÄTÄ")
	ob.fail = true // a reads both and dies before posting
	if err := a.Batch(ctx); err == nil {
		t.Fatal("outbox failure not reported")
	}
	if err := a.Urgent(ctx); err == nil {
		t.Fatal("outbox failure not reported")
	}
	ob.fail = false
	b := &router.Router{RDB: a.RDB, Prefix: a.Prefix, Units: a.Units, All: a.All, Lang: a.Lang, Outbox: a.Outbox, Scrub: a.Scrub,
		Catalog: a.Catalog, Now: a.Now, Consumer: "other-replica", Shuffle: a.Shuffle, Routing: a.Routing}
	m.SetTime(t0.Add(time.Minute)) // too soon to take over a's alert: a may still be at work
	e.Clock.Add(time.Minute)
	if err := b.Batch(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Urgent(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 1 || !strings.Contains(ob.posts[ob.order[0]].Text, "ruoka on pahaa") {
		t.Fatalf("took over the alert read a minute ago, or not the chosen batch: %v", ob.order)
	}
	if err := a.Batch(ctx); err != nil || len(ob.order) != 1 { // a was at work after all
		t.Fatalf("the chosen batch posted twice: %v %v", ob.order, err)
	}
	m.SetTime(t0.Add(6 * time.Minute))
	e.Clock.Add(5 * time.Minute)
	if err := b.Urgent(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ob.order) != 2 || !strings.HasPrefix(ob.order[1], "urgent:kotipesa:") {
		t.Fatalf("posts after taking over: %v", ob.order)
	}
}

// TestBatchTakesOverWhatAStoppedReplicaKept: feedback a replica read for the batch and kept (its unit had
// no channel there) is taken over and posted by a router with the channel at its next batch hour.
func TestBatchTakesOverWhatAStoppedReplicaKept(t *testing.T) {
	e, a, ob, m := setupRedis(t)
	m.SetTime(wed(0, 16, 0))
	units := slices.Clone(a.Units)
	units[0].SlackChannel = ""
	a.Units, a.All = units, ""
	for i, text := range []string{"ruoka on pahaa", "sängyt on huonoja", "wifi ei toimi"} {
		write(t, e, "k"+string(rune('a'+i)), "kotipesa", text)
	}
	batchAt(t, e, a, wed(0, 16, 0))
	if a.Waiting(router.KindBatch) != 3 || len(ob.order) != 0 {
		t.Fatalf("kept %d, posts %v", a.Waiting(router.KindBatch), ob.order)
	}
	b := &router.Router{RDB: a.RDB, Prefix: a.Prefix, Units: testenv.Units, All: "#johto", Lang: a.Lang, Outbox: a.Outbox, Scrub: a.Scrub,
		Catalog: a.Catalog, Now: a.Now, Consumer: "restarted", Shuffle: a.Shuffle, Routing: a.Routing}
	m.SetTime(wed(1, 16, 0))
	batchAt(t, e, b, wed(1, 16, 0))
	if len(ob.order) != 1 || !strings.Contains(ob.texts()[0], "3 viestiä") || ob.posts[ob.order[0]].Channel != "#johto" {
		t.Fatalf("posts %v", ob.texts())
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

// TestBatchOnRealRedis: the batch's scripts and keys on a real redis-server and on a Cluster (the carried
// and sending sets share the stream's hash slot): two messages wait, the third makes the post, a post the
// outbox refused is made once on the retry, and the digest decides its week once.
func TestBatchOnRealRedis(t *testing.T) {
	backends := []redistest.Backend{redistest.Backends()[1]}
	if !testing.Short() {
		backends = append(backends, redistest.StartCluster(t).Backend(t))
	}
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			e, r, ob := setupOn(t, b.New(t))
			write(t, e, "a", "kotipesa", "ruoka on pahaa")
			write(t, e, "b", "kotipesa", "milloin on palaveri?")
			write(t, e, "k", "kotipesa", "kiitos retkestä")
			batchAt(t, e, r, wed(0, 16, 0))
			if len(ob.order) != 0 {
				t.Fatalf("two posted: %v", ob.order)
			}
			write(t, e, "c", "kotipesa", "sängyt on huonoja")
			ob.fail = true
			e.Clock.Set(wed(1, 16, 0))
			if err := r.Batch(ctx); err == nil {
				t.Fatal("outbox failure not reported")
			}
			ob.fail = false
			batchAt(t, e, r, wed(1, 16, 5))
			batchAt(t, e, r, wed(1, 16, 10))
			if len(ob.order) != 1 || !strings.Contains(ob.texts()[0], "korjattavaa palautetta (2 viestiä") ||
				!strings.Contains(ob.texts()[0], "milloin on palaveri?") || strings.Contains(ob.texts()[0], "kiitos retkestä") {
				t.Fatalf("posts %v", ob.texts())
			}
			w := period.WeekOf(e.Clock.Now())
			for _, week := range []period.Period{w, w} {
				if err := r.Digest(ctx, week); err != nil {
					t.Fatal(err)
				}
			}
			if len(ob.order) != 1 {
				t.Fatalf("a lone thanks posted: %v", ob.order)
			}
			if err := r.Digest(ctx, period.WeekOf(w.End())); err != nil {
				t.Fatal(err)
			}
			if len(ob.order) != 2 || !strings.Contains(ob.texts()[1], "kiitos retkestä") {
				t.Fatalf("digest of the next week: %v", ob.texts())
			}
		})
	}
}
