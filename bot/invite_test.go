package bot_test

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
)

var inviteLinkRe = regexp.MustCompile(`https://t\.me/palaute_bot\?start=(i-[A-Za-z0-9_-]+)`)

// youthSurvey answers the whole youth survey of unit (via its poster link) and returns the last replies.
func youthSurvey(c *testenv.Chat, code string) []bot.Reply {
	c.Send("/start u-" + code)
	for range 5 {
		c.Press("🙂")
	}
	c.Press("9")
	return c.Send("Ohjaajat kuuntelee")
}

// The seed of the issue: the young person names who matters. The bot offers an invitation at the end of
// the youth survey, hands over a ready-to-forward message with a fresh single-use relative link, and that
// link gives the relatives' survey of the same unit to the first person who opens it, and to nobody else.
func TestYouthInvitesRelativeEndToEnd(t *testing.T) {
	for _, b := range redistest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := testenv.New(t, b.New(t))
			youth := e.Chat(t, "y-100", "fi")
			r := youthSurvey(youth, "satama")
			mustHave(t, r, e.T("fi", "invite_offer"))

			r = youth.Press(e.T("fi", "invite_yes"))
			mustHave(t, r, e.T("fi", "invite_forward_hint"))
			for _, rep := range r {
				if len(rep.Buttons) > 0 {
					t.Fatalf("the bot asks something when making the invitation (it must not ask who it is for):\n%s", testenv.Dump(r))
				}
			}
			// The forwardable message is one reply of its own: the unit's name, the link, how long it works.
			var msg string
			for _, rep := range r {
				if inviteLinkRe.MatchString(rep.Text) {
					msg = rep.Text
				}
			}
			if msg == "" || !strings.Contains(msg, "Perhekoti Satama") || !strings.Contains(msg, "30 päivän") || strings.Contains(msg, e.T("fi", "invite_forward_hint")) {
				t.Fatalf("no ready-to-forward message with the unit, the link and its lifetime:\n%s", testenv.Dump(r))
			}
			payload := inviteLinkRe.FindStringSubmatch(msg)[1]
			if len(payload) > 64 {
				t.Fatalf("start payload %q is over Telegram's 64 characters", payload)
			}

			// A second person opens it (in Swedish): the relatives' survey of the same unit.
			rel := e.Chat(t, "r-200", "sv")
			r = rel.Send("/start " + payload)
			mustHave(t, r, "Tack för att du hjälper oss", "Vilken är din relation till barnet")
			// A double tap (another update with the same link) is not "used up" for the one who has it.
			r = rel.Send("/start " + payload)
			mustHave(t, r, "Vilken är din relation till barnet")
			rel.Press("Förälder")
			rel.Press("😄")
			rel.Press("🙂")
			rel.Press("😐")
			rel.Press("8")
			r = rel.Send("Bra kontakt")
			mustHave(t, r, "Tack för ditt svar!")
			if has(r, e.T("sv", "invite_offer")) {
				t.Error("a relative is offered to invite someone: only young people name who matters")
			}

			// A third person opening the same link is told it is used up, and can still give feedback.
			third := e.Chat(t, "r-300", "en")
			r = third.Send("/start " + payload)
			mustHave(t, r, e.T("en", "invite_used"))
			r = third.Send("The staff were kind to my grandson")
			mustHave(t, r, e.T("en", "feedback_which_unit"))
			r = third.Press("Satama family home")
			mustHave(t, r, "Thanks! Your message goes to the staff")
			if fb := e.Feedback(t, "satama"); len(fb) != 1 || fb[0]["text"] != "The staff were kind to my grandson" {
				t.Fatalf("spontaneous feedback after a used-up link = %v", fb)
			}

			resp := e.Responses(t, "satama")
			if len(resp) != 2 {
				t.Fatalf("%d responses for satama, want the youth's and the relative's", len(resp))
			}
			if resp[0]["aud"] != "youth" || resp[0]["flow"] != "nuoret" || resp[1]["aud"] != "relative" || resp[1]["flow"] != "laheiset" ||
				resp[1]["a.role"] != "parent" || resp[1]["a.words"] != "Bra kontakt" || resp[1]["lang"] != "sv" {
				t.Fatalf("responses = %v", resp)
			}
			if n := len(e.Responses(t, "kotipesa")); n != 0 {
				t.Fatalf("%d responses landed in another unit", n)
			}
			// Nothing links the token, or the people it passed between, to the answers: the raw token is
			// nowhere in Redis, and no response holds a token, a pseudonym or a chat id.
			tok := strings.TrimPrefix(payload, "i-")
			for k, v := range e.Snapshot(t) {
				if strings.Contains(k, tok) || strings.Contains(v, tok) {
					t.Errorf("the raw token is stored in %s", k)
				}
			}
			for _, rs := range resp {
				for _, v := range rs {
					for _, id := range []string{tok, "y-100", "r-200", e.Engine.PID("test", "y-100"), e.Engine.PID("test", "r-200")} {
						if strings.Contains(v, id) {
							t.Errorf("response %v holds %q", rs, id)
						}
					}
				}
			}
		})
	}
}

// A young person can make another invitation for someone else; each is single-use and fresh.
func TestEachInvitationIsFresh(t *testing.T) {
	e := newEnv(t)
	youth := e.Chat(t, "y-fresh", "en")
	youthSurvey(youth, "kotipesa")
	r1 := testenv.Text(youth.Press(e.T("en", "invite_yes")))
	youth.Send("/survey") // a second survey run, a second offer
	for range 5 {
		youth.Press("🙂")
	}
	youth.Press("9")
	youth.Send("/skip")
	r2 := testenv.Text(youth.Press(e.T("en", "invite_yes")))
	l1, l2 := inviteLinkRe.FindStringSubmatch(r1), inviteLinkRe.FindStringSubmatch(r2)
	if l1 == nil || l2 == nil || l1[1] == l2[1] {
		t.Fatalf("two invitations: %v and %v", l1, l2)
	}
	for i, l := range []string{l1[1], l2[1]} {
		c := e.Chat(t, fmt.Sprint("gp", i), "en")
		mustHave(t, c.Send("/start "+l), "What is your relation to the child")
	}
}

// A youth link never yields a relative or social worker response, and an invitation never a youth one.
func TestAudiencesStayApart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	relTok, _ := e.Invites.Create(ctx, "kotipesa", flows.Relative, 1, 0)
	swTok, _ := e.Invites.Create(ctx, "kotipesa", flows.SocialWorker, 1, 0)

	sw := e.Chat(t, "sw-1", "fi")
	r := sw.Send("/start i-" + swTok)
	mustHave(t, r, "Nuorisokoti Kotipesä")
	for range 3 {
		sw.Press("🙂")
	}
	sw.Press("7")
	sw.Send("/skip")

	rel := e.Chat(t, "rel-1", "fi")
	rel.Send("/start i-" + relTok)
	rel.Press("Isovanhempi")
	for range 3 {
		rel.Press("🙂")
	}
	rel.Press("10")
	rel.Send("/skip")
	// Asking for the survey again keeps the person's audience: the relative gets the relatives' survey.
	r = rel.Send("/survey")
	if !has(r, "Mikä on suhteesi") && !has(r, e.T("fi", "counted_before_month")) {
		t.Fatalf("/survey after the relatives' survey:\n%s", testenv.Dump(r))
	}
	if has(r, "Sain apua silloin") {
		t.Fatal("a relative was given the youth survey")
	}

	youth := e.Chat(t, "y-1", "fi")
	youthSurvey(youth, "kotipesa")

	got := map[string]string{}
	for _, rs := range e.Responses(t, "kotipesa") {
		got[rs["flow"]] = rs["aud"]
	}
	want := map[string]string{"sosiaalityo": "social_worker", "laheiset": "relative", "nuoret": "youth"}
	if !maps.Equal(got, want) {
		t.Fatalf("flow → audience of the stored responses = %v, want %v", got, want)
	}
	for _, aud := range []string{"youth", "relative", "social_worker"} {
		if agg := e.Agg(t, "kotipesa", aud, "2026-W47"); agg["n"] != "1" {
			t.Errorf("%s counters: n = %q, want 1 (audiences merged?)", aud, agg["n"])
		}
	}
}

// askNewLink is how each language tells the person what to do: ask for a new link.
var askNewLink = map[string]*regexp.Regexp{
	"fi": regexp.MustCompile(`(?i)pyydä .*uusi`),
	"sv": regexp.MustCompile(`(?i)be .*om en ny`),
	"en": regexp.MustCompile(`(?i)ask .*(new link|new one)`),
}

// Every way an invitation can fail gets its own localized answer saying to ask for a new link, changes no
// survey state, and leaves the person free to write spontaneous feedback.
func TestInviteFailuresAreExplained(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, e *testenv.Env, c *testenv.Chat) string // returns the /start payload
		want  string                                                     // message id
	}{
		{"expired", func(t *testing.T, e *testenv.Env, c *testenv.Chat) string {
			tok, _ := e.Invites.Create(ctx, "kotipesa", flows.Relative, 1, time.Hour)
			e.Clock.Add(2 * time.Hour)
			return "i-" + tok
		}, "invite_expired"},
		{"used up", func(t *testing.T, e *testenv.Env, c *testenv.Chat) string {
			tok, _ := e.Invites.Create(ctx, "kotipesa", flows.Relative, 1, 0)
			mustHave(t, e.Chat(t, "first", "fi").Send("/start i-"+tok), "Mikä on suhteesi")
			return "i-" + tok
		}, "invite_used"},
		{"unknown", func(t *testing.T, e *testenv.Env, c *testenv.Chat) string { return "i-" + strings.Repeat("Q", 22) }, "invite_unknown"},
		{"truncated", func(t *testing.T, e *testenv.Env, c *testenv.Chat) string {
			tok, _ := e.Invites.Create(ctx, "kotipesa", flows.Relative, 1, 0)
			return "i-" + tok[:15]
		}, "invite_unknown"},
		{"empty token", func(t *testing.T, e *testenv.Env, c *testenv.Chat) string { return "i-" }, "invite_unknown"},
		{"too long", func(t *testing.T, e *testenv.Env, c *testenv.Chat) string { return "i-" + strings.Repeat("A", 70) }, "link_broken"},
		{"bad characters", func(t *testing.T, e *testenv.Env, c *testenv.Chat) string { return "i-abc$def%20ghi" }, "link_broken"},
		{"too many tries", func(t *testing.T, e *testenv.Env, c *testenv.Chat) string {
			tok, _ := e.Invites.Create(ctx, "kotipesa", flows.Relative, 1, 0)
			for i := range 5 {
				c.Send(fmt.Sprintf("/start i-guess%017d", i))
			}
			return "i-" + tok
		}, "invite_too_many"},
	}
	button := map[string]string{"fi": "Suomi", "sv": "Svenska", "en": "English"}
	for _, lang := range []string{"fi", "sv", "en"} {
		for _, tt := range tests {
			t.Run(lang+"/"+tt.name, func(t *testing.T) {
				e := newEnv(t)
				c := e.Chat(t, "person", lang)
				c.Send("/start") // a known person: the failure must not touch their session
				c.Press(button[lang])
				payload := tt.setup(t, e, c)
				before := e.Snapshot(t)
				r := c.Send("/start " + payload)
				msg := e.T(lang, tt.want)
				mustHave(t, r, msg)
				if !askNewLink[lang].MatchString(msg) {
					t.Errorf("%s in %s does not tell to ask for a new link: %q", tt.want, lang, msg)
				}
				for _, q := range []string{"Mikä on suhteesi", "Vilken är din relation", "What is your relation"} {
					if has(r, q) {
						t.Fatalf("a survey started after a failed invitation:\n%s", testenv.Dump(r))
					}
				}
				// Only the guessing counter may change; the session, invitations and unit data do not.
				after := e.Snapshot(t)
				for _, m := range []map[string]string{before, after} {
					for k := range m {
						if strings.HasSuffix(k, ":fail") {
							delete(m, k)
						}
					}
				}
				if !maps.Equal(before, after) {
					t.Errorf("a failed invitation changed stored state:\nbefore %v\nafter  %v", before, after)
				}
				// The person can still leave spontaneous feedback.
				c.Send("Kiitos hyvästä hoidosta")
				c.Press(testenv.Units[1].Names[lang])
				if fb := e.Feedback(t, "satama"); len(fb) != 1 || fb[0]["text"] != "Kiitos hyvästä hoidosta" {
					t.Fatalf("feedback after a failed invitation = %v\n%s", fb, testenv.Dump(c.Last))
				}
			})
		}
	}
}

// The guessing limit is per person: one guesser blocked does not block the next person with a real link.
func TestGuessingLimitIsPerPerson(t *testing.T) {
	e := newEnv(t)
	tok, _ := e.Invites.Create(context.Background(), "satama", flows.Relative, 1, 0)
	g := e.Chat(t, "guesser", "en")
	for i := range 5 {
		mustHave(t, g.Send(fmt.Sprintf("/start i-guess%017d", i)), e.T("en", "invite_unknown"))
	}
	mustHave(t, g.Send("/start i-"+tok), e.T("en", "invite_too_many"))
	mustHave(t, e.Chat(t, "honest", "en").Send("/start i-"+tok), "What is your relation to the child")
}

// An invitation leads to the flow named in it when that flow exists for its audience; a flow of another
// audience (or one removed since) falls back to the audience's flow: audiences never mix.
func TestInvitationFlow(t *testing.T) {
	second, err := flows.Parse("toinen.yaml", []byte(`id: toinen
version: 1
audience: relative
title: {fi: Toinen, sv: Andra, en: Second}
questions:
  - id: ok
    type: yesno
    text: {fi: "Sujuuko?", sv: "Går det bra?", en: "Going well?"}
`))
	if err != nil {
		t.Fatal(err)
	}
	def, _ := flows.Default()
	set, err := flows.NewSet(append(def.All(), second)...)
	if err != nil {
		t.Fatal(err)
	}
	withSecond := func(o *bot.Options) { o.Flows = set }
	for _, tc := range []struct{ named, want string }{{"toinen", "toinen"}, {"laheiset", "laheiset"}, {"sosiaalityo", "laheiset"}, {"gone", "laheiset"}} {
		e := newEnv(t, withSecond)
		e.Invites.FlowFor = func(flows.Audience) string { return tc.named }
		tok, err := e.Invites.Create(context.Background(), "satama", flows.Relative, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		c := e.Chat(t, "flow-"+tc.named, "fi")
		c.Send("/start i-" + tok)
		s, _, _ := e.Store.Load(context.Background(), e.Engine.PID("test", "flow-"+tc.named))
		if s == nil || s.Flow != tc.want || s.Audience != flows.Relative {
			t.Errorf("named %q: session %+v, want flow %s", tc.named, s, tc.want)
		}
	}
}
