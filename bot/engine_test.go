package bot_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/store"
)

func mini(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	m := miniredis.RunT(tb)
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	tb.Cleanup(func() { c.Close() })
	return c
}

func newEnv(tb testing.TB, opts ...testenv.Option) *testenv.Env {
	tb.Helper()
	return testenv.New(tb, mini(tb), opts...)
}

// withKaikki replaces the youth flow with one that has every question type and branch.
func withKaikki(tb testing.TB) testenv.Option {
	tb.Helper()
	set := kaikkiSet(tb)
	return func(o *bot.Options) { o.Flows = set }
}

func kaikkiSet(tb testing.TB) *flows.Set {
	tb.Helper()
	data, err := os.ReadFile("testdata/kaikki.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	k, err := flows.Parse("testdata/kaikki.yaml", data)
	if err != nil {
		tb.Fatal(err)
	}
	def, _ := flows.Default()
	rel, _ := def.Get("laheiset")
	sw, _ := def.Get("sosiaalityo")
	set, err := flows.NewSet(k, rel, sw)
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

func has(rs []bot.Reply, s string) bool { return strings.Contains(testenv.Text(rs), s) }

func mustHave(tb testing.TB, rs []bot.Reply, parts ...string) {
	tb.Helper()
	for _, p := range parts {
		if !has(rs, p) {
			tb.Fatalf("replies lack %q:\n%s", p, testenv.Dump(rs))
		}
	}
}

func TestYouthSurveyEndToEnd(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "1001", "fi-FI")
	r := c.Send("/start u-kotipesa")
	mustHave(t, r, "Nuorisokoti Kotipesä", "nimettömästi", "(1/7) Sain apua silloin, kun tarvitsin.", "😞 = ei yhtään totta … 😄 = täysin totta")
	q := r[len(r)-1]
	if len(q.Buttons) != 2 || len(q.Buttons[0]) != 5 || q.Buttons[0][0].Label != "😞" || q.Buttons[1][0].Label != "En halua vastata" {
		t.Fatalf("scale keyboard: %+v", q.Buttons)
	}
	for _, b := range q.Buttons[0] {
		if len(b.Data) > 64 {
			t.Fatalf("callback data over 64 bytes: %q", b.Data)
		}
	}
	r = c.Press("🙂") // help=4
	if r[0].Kind != bot.EditAsked || !strings.Contains(r[0].Text, "→ 🙂") {
		t.Fatalf("answered question not edited to show the answer: %+v", r[0])
	}
	mustHave(t, r, "(2/7) Tulin kuulluksi.")
	c.Press("😄")                  // heard=5
	c.Press("😐")                  // together=3
	r = c.Press("🙁")              // safe=2 → follow-up asked
	mustHave(t, r, "(5/8) Uskon") // the conditional question now counts
	c.Press("🙂")                  // hope=4
	r = c.Press("9")              // nps
	mustHave(t, r, "Haluatko kertoa, mikä saa olosi turvattomaksi?")
	r = c.Press("En halua vastata") // skip the follow-up
	mustHave(t, r, "(8/8) Mikä on ollut hyvää?")
	r = c.Send("Ohjaajat on kivoja mut ruoka on pahaa")
	mustHave(t, r, "Kiitos! Vastauksesi on tallennettu nimettömänä.", "Haluaisitko, että joku sinulle tärkeä", "voit poistaa tämän keskustelun")

	resp := e.Responses(t, "kotipesa")
	if len(resp) != 1 {
		t.Fatalf("%d responses, want 1", len(resp))
	}
	want := map[string]string{"aud": "youth", "flow": "nuoret", "ver": "1", "week": "2026-W47", "lang": "fi",
		"a.help": "4", "a.heard": "5", "a.together": "3", "a.safe": "2", "a.hope": "4", "a.nps": "9", "a.unsafe_more": "",
		"a.words": "Ohjaajat on kivoja mut ruoka on pahaa"}
	if !reflect.DeepEqual(resp[0], want) {
		t.Fatalf("response =\n%v\nwant\n%v", resp[0], want)
	}
	agg := e.Agg(t, "kotipesa", "youth", "2026-W47")
	for k, v := range map[string]string{"n": "1", "n.nuoret": "1", "nuoret.help=4": "1", "nuoret.nps=9": "1", "nuoret.unsafe_more=_skip": "1", "nuoret.words=_text": "1"} {
		if agg[k] != v {
			t.Errorf("agg[%s] = %q, want %q (agg %v)", k, agg[k], v, agg)
		}
	}
	// Invariant 2: nothing that identifies the chat is in what the unit keeps.
	pid := e.Engine.PID("test", "1001")
	for k, v := range e.Snapshot(t) {
		if !strings.Contains(k, "{u:") {
			continue
		}
		for _, id := range []string{"1001", pid} {
			if strings.Contains(k, id) || strings.Contains(v, id) {
				t.Errorf("unit key %s holds an identity (%s)", k, id)
			}
		}
	}
}

func TestEveryQuestionTypeAndBranch(t *testing.T) {
	e := newEnv(t, withKaikki(t))
	c := e.Chat(t, "u1", "en")
	r := c.Send("/start u-satama")
	mustHave(t, r, "Info first.", "(1/5) Mood") // info shown, not counted; low not yet asked
	if _, ok := c.Button("I'd rather not answer"); ok {
		t.Fatal("required question offers skip")
	}
	r = c.Send("/skip")
	mustHave(t, r, "This question needs an answer.", "Mood")
	r = c.Press("😞")
	mustHave(t, r, "(2/6) What weighs", "at most 20 characters")
	r = c.Send(strings.Repeat("x", 21))
	mustHave(t, r, "Your answer is too long (21 characters, at most 20)")
	r = c.Send("school")
	mustHave(t, r, "Recommend")
	if q := r[len(r)-1]; len(q.Buttons[0]) != 6 || len(q.Buttons[1]) != 5 {
		t.Fatalf("NPS not in two rows 0-5 / 6-10: %+v", q.Buttons)
	}
	r = c.Send("7") // a typed number answers a 0-10 question
	mustHave(t, r, "Safe")
	r = c.Send("maybe") // free text to a choice question
	mustHave(t, r, "Please choose an answer by pressing one of the buttons.", "Safe")
	r = c.Press("No")
	mustHave(t, r, "Where")
	r = c.Press("At home")
	mustHave(t, r, "Hobbies", "You can choose several")
	r = c.Press("Sport")
	if r[0].Kind != bot.EditAsked || r[0].Buttons[0][0].Label != "✓ Sport" {
		t.Fatalf("multi pick not shown with ✓: %s", testenv.Dump(r))
	}
	c.Last = r
	r = c.Press("Games")
	c.Last = r
	r = c.Press("✓ Sport") // unpick
	c.Last = r
	r = c.Press("Done ✓")
	mustHave(t, r, "Any words")
	r = c.Send("/skip")
	mustHave(t, r, "Thanks for the test.")
	got := e.Responses(t, "satama")[0]
	for k, v := range map[string]string{"a.mood": "1", "a.low": "school", "a.nps": "7", "a.safe": "no", "a.unsafe": "home", "a.hobbies": "games", "a.words": "", "ver": "3", "lang": "en"} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["a.hello"]; ok {
		t.Error("info question stored as an answer")
	}
}

func TestBackChangesAnswerAndPrunesBranch(t *testing.T) {
	e := newEnv(t, withKaikki(t))
	c := e.Chat(t, "u2", "fi")
	c.Send("/start u-kotipesa")
	c.Press("😞")
	r := c.Send("/back")
	mustHave(t, r, "Mieliala", "Aiempi vastauksesi: 😞")
	r = c.Press("😄") // now the "low" follow-up is not asked
	mustHave(t, r, "Suosittelu")
	r = c.Send("/back")
	mustHave(t, r, "Mieliala")
	r = c.Send("/back")
	mustHave(t, r, "Tämä on ensimmäinen kysymys.", "Mieliala")
	c.Press("😄")
	c.Press("8")
	c.Press("Kyllä")
	c.Press("Valmis")
	c.Send("/skip")
	got := e.Responses(t, "kotipesa")[0]
	if got["a.mood"] != "5" || got["a.nps"] != "8" || got["a.hobbies"] != "" {
		t.Fatalf("response %v", got)
	}
	if _, ok := got["a.low"]; ok {
		t.Fatal("answer of a branch no longer taken was kept")
	}
}

// The Back button takes its question's buttons away with it: only the question asked again can be answered.
func TestBackButtonLeavesNoLiveButtonsBehind(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u-back", "en")
	c.Send("/start u-kotipesa")
	c.Press("🙂")
	r := c.Press("⬅")
	if len(r) != 2 || r[0].Kind != bot.EditAsked || r[0].Text != "I felt heard.\n⬅ Back" || len(r[0].Buttons) != 0 ||
		r[1].Kind != bot.Message || !strings.Contains(r[1].Text, "(1/7) I got help when I needed it.\n") ||
		!strings.Contains(r[1].Text, "Your earlier answer: 🙂") || len(r[1].Buttons) == 0 {
		t.Fatalf("back: %s", testenv.Dump(r))
	}
	if r := c.Send("/back"); len(r) == 0 || r[0].Kind == bot.EditAsked { // typed: nothing to edit
		t.Fatalf("typed /back: %s", testenv.Dump(r))
	}
}

func TestStopKeepsNothing(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u3", "sv")
	c.Send("/start u-kotipesa")
	c.Press("😄")
	c.Press("😄")
	r := c.Send("/stop")
	mustHave(t, r, "Enkäten avbröts. Dina svar sparades inte.")
	if n := len(e.Responses(t, "kotipesa")); n != 0 {
		t.Fatalf("%d responses after /stop", n)
	}
	r = c.Send("/back")
	mustHave(t, r, "Du har ingen enkät på gång")
	r = c.Send("/stop")
	mustHave(t, r, "Du har ingen enkät på gång.")
}

func TestLangSwitchMidSurvey(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u4", "")
	r := c.Send("/start")
	mustHave(t, r, "Valitse kieli. Välj språk. Choose a language.")
	r = c.Press("English")
	mustHave(t, r, "We'll talk in English", "Which place")
	r = c.Press("Satama family home")
	mustHave(t, r, "Tell us – Satama family home", "(1/7) I got help when I needed it.")
	c.Press("🙂")
	r = c.Send("/lang sv")
	mustHave(t, r, "Vi talar svenska", "(2/7) Jag blev hörd.")
	r = c.Send("/lang")
	if _, ok := c.Button("Suomi"); !ok {
		t.Fatalf("/lang offers no languages: %s", testenv.Dump(r))
	}
}

func TestResumeWithNewEngineInstance(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	e1 := testenv.New(t, rdb)
	c := e1.Chat(t, "u5", "fi")
	c.Send("/start u-kotipesa")
	c.Press("🙂")
	c.Press("🙂")
	e2 := testenv.New(t, rdb) // a restarted process
	c.Env = e2
	r := c.Send("/start")
	mustHave(t, r, "Jatketaan siitä, mihin jäit.", "(3/7) Asioistani päätettiin")
	r = c.Press("😄")
	mustHave(t, r, "(4/7)")
}

func TestDuplicateEventChangesNothing(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u6", "fi")
	c.Send("/start u-kotipesa")
	d, _ := c.Button("🙂")
	in := bot.Input{Kind: bot.KindChoice, Data: d, EventID: "dup-1"}
	c.Input(in)
	before := e.Snapshot(t)
	r := c.Input(in)
	if len(r) != 0 {
		t.Fatalf("redelivered event answered: %s", testenv.Dump(r))
	}
	if after := e.Snapshot(t); !reflect.DeepEqual(before, after) {
		t.Fatalf("redelivered event changed Redis")
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u7", "en")
	c.Send("/start u-kotipesa")
	before := e.Snapshot(t)
	tests := []struct {
		name string
		in   bot.Input
		want string
	}{
		{"10 000 characters", bot.Input{Kind: bot.KindText, Text: strings.Repeat("ä", 10000)}, "Your message is too long (10000 characters, at most 4000)"},
		{"invalid UTF-8", bot.Input{Kind: bot.KindText, Text: "hei \xff\xfe"}, "I couldn't read your message"},
		{"sticker", bot.Input{Kind: bot.KindUnsupported}, "I can only read text and buttons"},
		{"edited", bot.Input{Kind: bot.KindEdited, Text: "edit"}, "I can't see edited messages"},
		{"group", bot.Input{Kind: bot.KindGroup, Text: "hi"}, "I only talk in private chats"},
		{"stale button", bot.Input{Kind: bot.KindChoice, Data: "ZZZZZZ.0.4"}, "That question has already been answered."},
		{"garbage button", bot.Input{Kind: bot.KindChoice, Data: "\xff..."}, "That question has already been answered."},
		{"free text at a choice question", bot.Input{Kind: bot.KindText, Text: "hmm"}, "Please choose an answer"},
		{"empty", bot.Input{Kind: bot.KindText, Text: "   "}, "I got help"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Input(tt.in)
			mustHave(t, r, tt.want)
			if after := e.Snapshot(t); !reflect.DeepEqual(before, after) {
				t.Fatalf("%s changed stored state", tt.name)
			}
		})
	}
}

func TestStaleButtonFromAnsweredQuestion(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u8", "fi")
	c.Send("/start u-kotipesa")
	old, _ := c.Button("😞")
	c.Press("😄")
	before := e.Snapshot(t)
	r := c.Input(bot.Input{Kind: bot.KindChoice, Data: old})
	if len(r) != 1 || r[0].Kind != bot.Answer || r[0].Text != "Tähän kysymykseen on jo vastattu." {
		t.Fatalf("stale press: %s", testenv.Dump(r))
	}
	if !reflect.DeepEqual(before, e.Snapshot(t)) {
		t.Fatal("stale press changed state")
	}
}

// A turn whose answer was saved but whose replies were lost (it ran out of time after the commit, so the
// person read "try again") leaves its question's buttons in place. Pressing one again later shows the saved
// answer on that message and asks the next question; a second tap racing the first turn only gets the notice.
func TestPressAgainAfterLostRepliesAsksTheNextQuestion(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u-lost", "en")
	c.Send("/start u-kotipesa")
	c.Press("😄")
	press, _ := c.Button("😄")
	c.Press("😄") // (2/7) answered: its replies are taken as lost
	before := e.Snapshot(t)

	race := c.Input(bot.Input{Kind: bot.KindChoice, Data: press})
	if len(race) != 1 || race[0].Kind != bot.Answer || race[0].Text != "That question has already been answered." {
		t.Fatalf("a second tap at once: %s", testenv.Dump(race))
	}

	e.Clock.Add(3 * time.Second)
	r := c.Input(bot.Input{Kind: bot.KindChoice, Data: press})
	if len(r) != 3 || r[0].Kind != bot.Answer || r[0].Text != "That question has already been answered." ||
		r[1].Kind != bot.EditAsked || r[1].Text != "I felt heard.\n→ 😄" || len(r[1].Buttons) != 0 ||
		r[2].Kind != bot.Message || !strings.HasPrefix(r[2].Text, "(3/7) Decisions about me were made together with me.") ||
		len(r[2].Buttons) == 0 {
		t.Fatalf("pressed again after lost replies: %s", testenv.Dump(r))
	}
	if !reflect.DeepEqual(before, e.Snapshot(t)) {
		t.Fatal("pressing an answered question changed stored state")
	}
	// The question asked again takes its answer as usual.
	mustHave(t, c.Press("🙂"), "(4/7) I feel safe where I live.")

	// Buttons of another survey run, or of a question not yet reached, are only stale.
	for _, data := range []string{"ZZZZZZ.1.5", strings.Replace(press, ".1.", ".5.", 1)} {
		e.Clock.Add(time.Minute)
		if r := c.Input(bot.Input{Kind: bot.KindChoice, Data: data}); len(r) != 1 || r[0].Kind != bot.Answer {
			t.Fatalf("press of %s: %s", data, testenv.Dump(r))
		}
	}
}

// The same for the survey's last question: pressing its button again after the turn that completed the survey
// lost its replies gives the survey's last messages, and counts nothing again.
func TestPressAgainOnTheLastQuestionSaysThanks(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u-lost-end", "en")
	c.Send("/start u-kotipesa")
	for _, b := range []string{"😄", "😄", "😄", "😄", "😄", "10"} {
		c.Press(b)
	}
	skip, ok := c.Button("I'd rather not answer")
	if !ok {
		t.Fatalf("no skip on the last question:\n%s", testenv.Dump(c.Last))
	}
	c.Input(bot.Input{Kind: bot.KindChoice, Data: skip}) // completes the survey; its replies are taken as lost
	before := e.Snapshot(t)
	if r := c.Input(bot.Input{Kind: bot.KindChoice, Data: skip}); len(r) != 1 || r[0].Kind != bot.Answer {
		t.Fatalf("a second tap at once: %s", testenv.Dump(r))
	}
	e.Clock.Add(3 * time.Second)
	r := c.Input(bot.Input{Kind: bot.KindChoice, Data: skip})
	if len(r) < 4 || r[0].Text != "That question has already been answered." ||
		r[1].Kind != bot.EditAsked || r[1].Text != "What has been good? What bothers you? What do you wish for? Write in your own words." ||
		!strings.HasPrefix(r[2].Text, "Thank you! Your answer has been saved anonymously.") ||
		r[len(r)-1].Buttons[0][0].Data != "f.go" {
		t.Fatalf("pressed again: %s", testenv.Dump(r))
	}
	if !reflect.DeepEqual(before, e.Snapshot(t)) || len(e.Responses(t, "kotipesa")) != 1 {
		t.Fatal("pressing the last question again changed stored state")
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u9", "fi")
	c.Send("/start u-kotipesa")
	c.Press("🙂")
	e.Clock.Add(73 * time.Hour)
	r := c.Send("/survey")
	mustHave(t, r, "Edellisestä viestistä on jo aikaa", "(1/7) Sain apua")
}

func TestCountedOncePerPeriod(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u10", "fi")
	answer := func() []bot.Reply {
		for i := 0; i < 5; i++ {
			c.Press("😄")
		}
		c.Press("10")
		return c.Send("/skip")
	}
	c.Send("/start u-kotipesa")
	answer()
	r := c.Send("/start u-kotipesa")
	mustHave(t, r, "Olet jo vastannut tähän kyselyyn tässä kuussa")
	r = answer()
	mustHave(t, r, "Kiitos!", "joten näitä ei laskettu uudelleen")
	if n := len(e.Responses(t, "kotipesa")); n != 1 {
		t.Fatalf("%d responses, want 1", n)
	}
	e.Clock.Add(14 * 24 * time.Hour) // December
	c.Send("/start u-kotipesa")
	answer()
	if n := len(e.Responses(t, "kotipesa")); n != 2 {
		t.Fatalf("next month: %d responses, want 2", n)
	}
	if a := e.Agg(t, "kotipesa", "youth", "2026-W47"); a["n"] != "1" {
		t.Fatalf("W47 n = %s", a["n"])
	}
}

func TestForget(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u11", "fi")
	c.Send("/start u-kotipesa")
	c.Press("🙂")
	r := c.Send("/forget")
	if r[0].Kind != bot.Delete || r[0].From != 1 || r[0].To <= 3 {
		t.Fatalf("forget does not delete from the first message: %+v", r[0])
	}
	mustHave(t, r, "Poistin tämän keskustelun viestit")
	s, _, _ := e.Store.Load(context.Background(), e.Engine.PID("test", "u11"))
	if s == nil || len(s.Events) != 3 {
		t.Fatalf("forgotten session should keep only its event ids: %+v", s)
	}
	s.Events, s.Version, s.Cached = nil, 0, false
	if !reflect.DeepEqual(*s, bot.Session{}) {
		t.Fatalf("session kept more than event ids after /forget: %+v", s)
	}
	if ttl := e.RDB.PTTL(context.Background(), e.Store.SessionKey(e.Engine.PID("test", "u11"))).Val(); ttl > 24*time.Hour || ttl <= 0 {
		t.Fatalf("forgotten session lives %v, want at most 24 h", ttl)
	}
	// The redelivered /forget is recognised; a new /start begins from the language choice.
	if r := c.Input(bot.Input{Kind: bot.KindText, Text: "/forget", EventID: fmt.Sprint(lastEvent(t, e, "u11"))}); len(r) != 0 {
		t.Fatalf("redelivered /forget answered: %s", testenv.Dump(r))
	}
	mustHave(t, c.Send("/start"), "Hei")
}

func lastEvent(t *testing.T, e *testenv.Env, user string) string {
	t.Helper()
	s, _, err := e.Store.Load(context.Background(), e.Engine.PID("test", user))
	if err != nil || s == nil || len(s.Events) == 0 {
		t.Fatalf("no session events: %v", err)
	}
	return s.Events[len(s.Events)-1]
}

// A conversation that spans days: /forget deletes every message of the last 48 hours, and sends the span
// that may be partly older on its own.
func TestForgetAcrossDays(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u12", "fi")
	send := func(id int, text string) []bot.Reply {
		t.Helper()
		return c.Input(bot.Input{Kind: bot.KindText, Text: text, MsgID: id})
	}
	send(10, "/start u-kotipesa") // day 0, 12:00
	e.Clock.Add(30 * time.Hour)
	send(40, "/survey") // day 1, 18:00
	e.Clock.Add(20 * time.Hour)
	send(70, "/survey") // day 2, 14:00: the day 0 messages are now 50 h old
	e.Clock.Add(time.Hour)
	r := send(90, "/forget")
	var del []bot.Reply
	for _, x := range r {
		if x.Kind == bot.Delete {
			del = append(del, x)
		}
	}
	if len(del) != 2 {
		t.Fatalf("deletes %+v, want the sure range and the older span", del)
	}
	if del[0].From != 40 || del[0].To < 90 {
		t.Fatalf("first delete %d-%d, want from 40 (21 h old) through 90", del[0].From, del[0].To)
	}
	if del[1].From != 10 || del[1].To != 40 {
		t.Fatalf("second delete %d-%d, want the span 10-40 that may be partly within 48 h", del[1].From, del[1].To)
	}
	if r[len(r)-1].Kind != bot.Message || !strings.Contains(r[len(r)-1].Text, "Poistin") {
		t.Fatalf("confirmation not last: %s", testenv.Dump(r))
	}
}

func TestCommandsAndHelp(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u12", "sv")
	mustHave(t, c.Send("/help"), "/forget", "/privacy")
	mustHave(t, c.Send("/privacy"), "minst 5", "400 dagar")
	r := c.Send("/nosuch")
	mustHave(t, r, "Jag känner inte till kommandot /nosuch", "/start")
	mustHave(t, c.Send("/start x-123"), "Den här länken fungerar inte")
	mustHave(t, c.Send("/start u-nosuch"), "Jag känner inte igen den här länken")
	mustHave(t, c.Send("/start u-"+strings.Repeat("a", 70)), "Den här länken fungerar inte")
}

// fakeCoder marks texts with "HÄTÄ" as a crisis and "kiitos" as positive.
type fakeCoder struct{}

func (fakeCoder) Code(lang, text string) (string, []string) {
	if strings.Contains(strings.ToLower(text), "kiitos") {
		return "positive", []string{"staff"}
	}
	return "corrective", []string{"food"}
}
func (fakeCoder) Crisis(text string) (string, bool) {
	return "self_harm", strings.Contains(text, "HÄTÄ")
}

func TestCrisisHelpFirstAndSurveyContinues(t *testing.T) {
	e := newEnv(t, func(o *bot.Options) { o.Coder = fakeCoder{} })
	c := e.Chat(t, "u13", "fi")
	c.Send("/start u-kotipesa")
	for i := 0; i < 5; i++ {
		c.Press("🙂")
	}
	c.Press("8")
	r := c.Send("HÄTÄ en jaksa enää")
	if r[0].Kind != bot.Help || !strings.Contains(r[0].Text, "112") || !strings.Contains(r[0].Text, "116 111") {
		t.Fatalf("help contacts not first: %s", testenv.Dump(r))
	}
	mustHave(t, r, "Haluatko jutella jonkun työntekijän kanssa?", "Kiitos! Vastauksesi on tallennettu")
	if hasButton(r, "s.inv") {
		t.Fatalf("an invitation for someone else was offered right after help contacts: %s", testenv.Dump(r))
	}
	fb := e.Feedback(t, "kotipesa")
	if len(fb) != 1 || fb[0]["crisis"] != "self_harm" || fb[0]["text"] != "" || fb[0]["ref"] != "" {
		t.Fatalf("urgent alert entry = %v", fb)
	}
	r = c.Press("Kyllä")
	code := refCode.FindString(r[0].Text)
	if len(code) != 7 || code[3] != '-' {
		t.Fatalf("reference code %q in %q", code, r[0].Text)
	}
	fb = e.Feedback(t, "kotipesa")
	if len(fb) != 2 || fb[1]["ref"] != code {
		t.Fatalf("contact request alert = %v, want ref %s", fb, code)
	}
	for _, x := range fb {
		for k := range x {
			if !slices.Contains([]string{"aud", "week", "lang", "crisis", "ref"}, k) {
				t.Errorf("alert carries %s", k)
			}
		}
	}
}

// After the help contacts the survey is not pushed on: it waits behind a button, and goes on where it was.
func TestCrisisAtAChoiceQuestionThenQuestionAgain(t *testing.T) {
	e := newEnv(t, func(o *bot.Options) { o.Coder = fakeCoder{} })
	c := e.Chat(t, "u15", "en")
	c.Send("/start u-kotipesa")
	c.Press("🙂")
	r := c.Send("HÄTÄ")
	if r[0].Kind != bot.Help {
		t.Fatalf("help not first: %s", testenv.Dump(r))
	}
	last := r[len(r)-1]
	if has(r, "(2/7)") || last.Text != e.T("en", "survey_paused") || last.Buttons[0][0].Data != "s.go" {
		t.Fatalf("the survey did not wait behind a button: %s", testenv.Dump(r))
	}
	if has(r, "Please choose an answer") {
		t.Fatal("a cry for help was answered with 'pick a button'")
	}
	if r := c.Press(e.T("en", "btn_continue")); !has(r, "(2/7) I felt heard.") {
		t.Fatalf("continue: %s", testenv.Dump(r))
	}
	r = c.Send("/feedback the food is cold")
	mustHave(t, r, "Thanks! Your message goes to the staff", "(2/7) I felt heard.")
}

func TestSpontaneousFeedbackAsksUnitOnce(t *testing.T) {
	e := newEnv(t, func(o *bot.Options) { o.Coder = fakeCoder{} })
	c := e.Chat(t, "u14", "fi")
	r := c.Send("Ruoka on ollut ihan kamalaa")
	mustHave(t, r, "Kiitos viestistäsi! Mihin paikkaan palautteesi liittyy?")
	if fb := e.Feedback(t, "satama"); len(fb) != 0 {
		t.Fatal("published before the unit was known")
	}
	r = c.Press("Perhekoti Satama")
	mustHave(t, r, "Kiitos! Viestisi menee nimettömänä", "Perhekoti Satama", "Haluatko vastata myös lyhyeen kyselyyn?")
	fb := e.Feedback(t, "satama")
	if len(fb) != 1 || fb[0]["text"] != "Ruoka on ollut ihan kamalaa" || fb[0]["pol"] != "corrective" || fb[0]["topics"] != "food" || fb[0]["aud"] != "unknown" {
		t.Fatalf("feedback = %v", fb)
	}
	r = c.Send("/feedback kiitos ohjaajille")
	mustHave(t, r, "Kiitos! Viestisi menee nimettömänä")
	agg := e.Agg(t, "satama", "unknown", "2026-W47")
	if agg["fb.n"] != "2" || agg["fb.pol=positive"] != "1" || agg["fb.topic=food"] != "1" {
		t.Fatalf("agg = %v", agg)
	}
}

// FuzzHandle sends random inputs: no panic, and the session stays valid.
func FuzzHandle(f *testing.F) {
	set := kaikkiSet(f)
	e := newEnv(f, func(o *bot.Options) { o.Flows = set })
	f.Add(0, "/start u-kotipesa", "")
	f.Add(1, "", "AAAAAA.1.3")
	f.Add(0, "/back", "")
	f.Add(1, "", "l.sv")
	f.Add(1, "", "u.satama")
	f.Add(0, "\xff\xfe", "")
	f.Add(2, "", "")
	f.Fuzz(func(t *testing.T, kind int, text, data string) {
		c := e.Chat(t, "fuzz", "fi")
		c.Send("/start u-kotipesa")
		k := bot.Kind(((kind % 5) + 5) % 5)
		c.Input(bot.Input{Kind: k, Text: text, Data: data})
		s, _, err := e.Store.Load(context.Background(), e.Engine.PID("test", "fuzz"))
		if err != nil {
			t.Fatal(err)
		}
		if s == nil {
			return
		}
		switch s.State {
		case bot.Asking:
			fl, ok := set.Get(s.Flow)
			if !ok || s.Step < 0 || s.Step >= len(fl.Questions) || s.Run == "" {
				t.Fatalf("asking with flow %q step %d run %q", s.Flow, s.Step, s.Run)
			}
			for q, v := range s.Answers {
				i := fl.Index(q)
				if i < 0 || i >= s.Step && s.Answers[q] != v {
					t.Fatalf("answer to unknown question %q", q)
				}
			}
		case bot.Idle, bot.Done, bot.ChooseLang, bot.ChooseUnit:
		default:
			t.Fatalf("unknown state %q", s.State)
		}
		if len(s.Events) > 8 {
			t.Fatalf("%d event ids kept", len(s.Events))
		}
	})
}

// Two replicas on one Redis, each remembering sessions: a turn that writes nothing (free text at a choice
// question) on the replica whose memory is out of date answers from the session in Redis, and one that
// writes (a button press) never overwrites the other replica's answer.
func TestReplicasRememberingSessions(t *testing.T) {
	rdb := mini(t)
	a, b := testenv.New(t, rdb), testenv.New(t, rdb)
	c := a.Chat(t, "u-replicas", "en")
	c.Send("/start u-kotipesa")
	first := c.Last
	c.Env = b
	c.Press("🙂") // b: the first question answered, the second asked
	var second string
	for _, r := range c.Last {
		if r.Kind == bot.Message && len(r.Buttons) > 0 {
			second = r.Text
		}
	}
	if second == "" {
		t.Fatalf("no second question after the first answer:\n%s", testenv.Dump(c.Last))
	}
	c.Env = a // a still remembers the first question open
	before := a.Snapshot(t)
	r := c.Send("hmm")
	mustHave(t, r, "Please choose an answer")
	mustHave(t, r, second)
	if after := a.Snapshot(t); !reflect.DeepEqual(before, after) {
		t.Fatal("free text at a choice question changed stored state")
	}
	// The first question's button, pressed again on a: already answered, whatever a remembered.
	c.Last = first
	mustHave(t, c.Press("😄"), "That question has already been answered.")
	if got := a.Responses(t, "kotipesa"); len(got) != 0 {
		t.Fatalf("responses %v before the survey ended", got)
	}
}

// What a turn publishes to its unit cannot be held back by the session's compare-and-set (another slot), so
// a turn on a remembered session that publishes checks the session in Redis first. Two replicas: a press of
// "yes, contact me" repeated on the replica that remembers the question still open gives one alert, and a
// last answer typed on the replica that remembers a run the person has since started over publishes nothing.
//
// The store checks the version itself on a single Redis; on a Cluster it cannot, and the engine reads the
// session first: both are run.
func TestReplicasPublishOnlyFromTheStoredSession(t *testing.T) {
	t.Run("single Redis", func(t *testing.T) { testReplicasPublish(t, mini(t)) })
	t.Run("Cluster", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts a 3-node cluster")
		}
		testReplicasPublish(t, redistest.StartCluster(t).Client(t))
	})
}

func testReplicasPublish(t *testing.T, rdb redis.UniversalClient) {
	opt := func(o *bot.Options) { o.Coder = fakeCoder{} }
	a, b := testenv.New(t, rdb, opt), testenv.New(t, rdb, opt)
	c := a.Chat(t, "u-pub1", "en")
	c.Send("/start u-kotipesa")
	c.Press("🙂")
	c.Send("HÄTÄ")
	yes, ok := c.Button(a.T("en", "yes"))
	if !ok {
		t.Fatalf("no yes button: %s", testenv.Dump(c.Last))
	}
	c.Env = b
	if r := c.Input(bot.Input{Kind: bot.KindChoice, Data: yes}); refCode.FindString(testenv.Text(r)) == "" {
		t.Fatalf("no reference code: %s", testenv.Dump(r))
	}
	c.Env = a
	c.Input(bot.Input{Kind: bot.KindChoice, Data: yes})
	refs := 0
	for _, f := range a.Feedback(t, "kotipesa") {
		if f["ref"] != "" {
			refs++
		}
	}
	if refs != 1 {
		t.Fatalf("%d alerts with a reference code, want 1: %v", refs, a.Feedback(t, "kotipesa"))
	}

	d := a.Chat(t, "u-pub2", "en")
	d.Send("/start u-kotipesa")
	for range 5 {
		d.Press("🙂")
	}
	d.Press("8") // a remembers the free-text question of this run
	d.Env = b
	d.Send("/start u-kotipesa") // the run is abandoned, a new one starts
	d.Env = a
	d.Send("Hyvä paikka")
	if got := a.Responses(t, "kotipesa"); len(got) != 0 {
		t.Fatalf("an abandoned run was published from a remembered session: %v", got)
	}
}

// A session erased from Redis while a replica remembers it: what the replica does next is what it would do
// for someone it has never seen. Free text is taken as feedback (the unit is asked for), not as a wrong
// answer to the remembered question, and a worrying message's alert carries no remembered unit.
func TestRememberedSessionGoneFromRedis(t *testing.T) {
	rdb := mini(t)
	e := testenv.New(t, rdb, func(o *bot.Options) { o.Coder = fakeCoder{} })
	c := e.Chat(t, "u-gone", "en")
	c.Send("/start u-kotipesa")
	c.Press("🙂")
	pid := e.Engine.PID("test", "u-gone")
	rdb.Del(context.Background(), e.Store.SessionKey(pid))
	r := c.Send("hmm")
	mustHave(t, r, e.T("en", "feedback_which_unit"))
	rdb.Del(context.Background(), e.Store.SessionKey(pid))
	c.Send("HÄTÄ")
	if fb := e.Feedback(t, "kotipesa"); len(fb) != 0 {
		t.Fatalf("an alert with the unit of an erased session: %v", fb)
	}
	if fb := e.Feedback(t, bot.NoUnit); len(fb) != 1 || fb[0]["crisis"] != "self_harm" {
		t.Fatalf("alerts of someone with no unit: %v", fb)
	}
}

// A replica whose memory is out of date and gets an update another replica has handled (a redelivery that
// raced the first delivery) makes one round trip: its commit loses, the store gives back the session in
// Redis with the refusal, and the retry recognises the update from it, without reading Redis again.
func TestLostCommitRetriesOnWhatTheStoreGaveBack(t *testing.T) {
	srv := redistest.Start(t)
	rdbA := srv.Client(t)
	trips := redistest.Count(rdbA)
	a, b := testenv.New(t, rdbA), testenv.New(t, srv.Client(t))
	c := a.Chat(t, "u-redelivered", "en")
	c.Send("/start u-kotipesa") // a remembers the first question open
	data, ok := c.Button("🙂")
	if !ok {
		t.Fatalf("no first question:\n%s", testenv.Dump(c.Last))
	}
	press := bot.Input{Kind: bot.KindChoice, Data: data, EventID: "press-1", MsgID: 40}
	c.Env = b
	c.Input(press) // b answers it first
	c.Env = a
	n0 := trips.N()
	if r := c.Input(press); len(r) != 0 {
		t.Fatalf("the redelivered press answered again:\n%s", testenv.Dump(r))
	}
	if n := trips.N() - n0; n != 1 {
		t.Fatalf("the redelivered press took %d round trips on the replica that remembered the old session, want 1 (the lost commit)", n)
	}
}

// staleStore is a store whose memory never learns: Load answers with old, the session as it was.
type staleStore struct {
	*store.Store
	old *bot.Session
}

func (s *staleStore) Load(ctx context.Context, pid string) (*bot.Session, bot.Marks, error) {
	_, marks, err := s.Store.Load(ctx, pid)
	cp := *s.old
	cp.Cached = true
	return &cp, marks, err
}

// A process whose memory keeps answering with an old session loses every commit; its last try reads the
// store's own copy and goes by it, so the person gets an answer, not "try again".
func TestLastTryReadsTheStoredSession(t *testing.T) {
	rdb := mini(t)
	a := testenv.New(t, rdb)
	c := a.Chat(t, "u-stale", "en")
	c.Send("/start u-kotipesa")
	first := c.Last
	old, _, err := a.Store.Load(context.Background(), a.Engine.PID("test", "u-stale"))
	if err != nil || old == nil {
		t.Fatalf("no session: %v", err)
	}
	c.Press("🙂") // stored: the first question answered
	c.Env = testenv.New(t, rdb, func(o *bot.Options) { o.Store = &staleStore{Store: o.Store.(*store.Store), old: old} })
	c.Last = first
	mustHave(t, c.Press("😄"), "That question has already been answered.")
}
