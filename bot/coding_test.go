package bot_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/coding"
	"github.com/palaute/palaute/internal/testenv"
)

// realCoder builds the engine with the coder of the embedded rules, as `palaute serve` does.
func realCoder(tb testing.TB) testenv.Option {
	c := coding.MustDefault(tb)
	return func(o *bot.Options) { o.Coder = c }
}

// index is the position of the first reply containing s, or -1.
func index(rs []bot.Reply, s string) int {
	return slices.IndexFunc(rs, func(r bot.Reply) bool { return strings.Contains(r.Text, s) })
}

// hasButton reports whether any reply offers a button with data prefix.
func hasButton(rs []bot.Reply, prefix string) bool {
	for _, r := range rs {
		for _, row := range r.Buttons {
			for _, b := range row {
				if strings.HasPrefix(b.Data, prefix) {
					return true
				}
			}
		}
	}
	return false
}

var feedbackFields = []string{"aud", "week", "lang", "pol", "topics", "text"}

// TestCaptureOutsideSurveyWithRealCoder: a message written outside a survey is thanked for, the writer is
// told who sees it and that it is anonymous, the unit is asked with one tap when unknown, and a survey is
// offered only after that; the message is stored coded, with no identity, and counted.
func TestCaptureOutsideSurveyWithRealCoder(t *testing.T) {
	e := newEnv(t, realCoder(t))
	c := e.Chat(t, "cap1", "fi")
	r := c.Send("Ruoka on aina kylmää ja ohjaajat ei kuuntele")
	mustHave(t, r, "Kiitos viestistäsi! Mihin paikkaan palautteesi liittyy?")
	if hasButton(r, "s.go") || !hasButton(r, "u.kotipesa") || !hasButton(r, "u.satama") {
		t.Fatalf("want the units as one-tap buttons and no survey yet:\n%s", testenv.Dump(r))
	}
	r = c.Press("Perhekoti Satama")
	thanks, offer := index(r, "Kiitos! Viestisi menee nimettömänä"), index(r, "Haluatko vastata myös lyhyeen kyselyyn?")
	if thanks < 0 || offer < thanks || !strings.Contains(r[thanks].Text, "nimettömänä") || !strings.Contains(r[thanks].Text, "Perhekoti Satama") ||
		!strings.Contains(r[thanks].Text, "työntekijöille") || !hasButton(r[offer:], "s.go") {
		t.Fatalf("want thanks naming who sees it and that it is anonymous, then the survey offer:\n%s", testenv.Dump(r))
	}
	fb := e.Feedback(t, "satama")
	if len(fb) != 1 || fb[0]["pol"] != "corrective" || !strings.Contains(fb[0]["topics"], "food") || !strings.Contains(fb[0]["topics"], "staff") {
		t.Fatalf("stored feedback = %v, want corrective with food and staff", fb)
	}
	for k := range fb[0] {
		if !slices.Contains(feedbackFields, k) {
			t.Errorf("feedback entry carries %q", k)
		}
	}
	c.Send("/palaute kiitos kivasta retkestä")
	agg := e.Agg(t, "satama", "unknown", "2026-W47")
	for k, want := range map[string]string{"fb.n": "2", "fb.pol=corrective": "1", "fb.pol=positive": "1", "fb.topic=food": "1", "fb.topic=hobbies": "1"} {
		if agg[k] != want {
			t.Errorf("counter %s = %q, want %s (%v)", k, agg[k], want, agg)
		}
	}
}

// TestCaptureInSurveyContinues: /feedback in the middle of a survey is kept and thanked for, and the
// survey goes on at the same question; no survey is offered on top of the open one.
func TestCaptureInSurveyContinues(t *testing.T) {
	e := newEnv(t, realCoder(t))
	c := e.Chat(t, "cap2", "sv")
	c.Send("/start u-kotipesa")
	c.Press("🙂")
	r := c.Send("/feedback maten är jättebra")
	if index(r, "Tack! Ditt meddelande går anonymt") < 0 || hasButton(r, "s.go") || !strings.Contains(r[len(r)-1].Text, "(2/7)") {
		t.Fatalf("want thanks and the same question (2/7) again:\n%s", testenv.Dump(r))
	}
	if fb := e.Feedback(t, "kotipesa"); len(fb) != 1 || fb[0]["pol"] != "positive" || fb[0]["topics"] != "food" || fb[0]["lang"] != "sv" {
		t.Fatalf("feedback = %v", fb)
	}
	c.Press("🙂")
	if !strings.Contains(c.Last[len(c.Last)-1].Text, "(3/7)") {
		t.Fatalf("the survey did not go on:\n%s", testenv.Dump(c.Last))
	}
}

var refCode = regexp.MustCompile(`\b[A-Z2-9]{3}-[A-Z2-9]{3}\b`)

// TestCrisisWithRealCoder: in every language, in and out of a survey and through /feedback, a message
// that suggests danger gets the help contacts before any other reply, in the writer's language; the
// survey continues where it was; the alert carries no identity and no text, and the reference code the
// writer gets is the one in the alert; the text is not passed on as feedback.
func TestCrisisWithRealCoder(t *testing.T) {
	for _, x := range []struct {
		lang, text, class, help, yes string
		survey                       bool
	}{
		{"fi", "mä haluun kuolla", "suicide", "Hätänumero", "Kyllä", true},
		{"sv", "pappa slår mig", "violence", "Nödnummer", "Ja", false},
		{"en", "i cut myself again", "self_harm", "Emergency number", "Yes", true},
		{"fi", "/palaute en uskalla mennä kotiin", "unsafe_home", "Hätänumero", "Kyllä", true},
		{"en", "/feedback im going to run away tonight", "running_away", "Emergency number", "Yes", false},
	} {
		t.Run(x.lang+"/"+x.class, func(t *testing.T) {
			e := newEnv(t, realCoder(t))
			c := e.Chat(t, "cr-"+x.class, x.lang)
			c.Send("/start u-kotipesa")
			if x.survey {
				c.Press("🙂")
			} else {
				c.Send("/stop")
			}
			r := c.Send(x.text)
			if len(r) < 2 || r[0].Kind != bot.Help || !strings.Contains(r[0].Text, x.help) || !strings.Contains(r[0].Text, "116 111") {
				t.Fatalf("help contacts not first, or not in %s:\n%s", x.lang, testenv.Dump(r))
			}
			if !hasButton(r, "x.y") {
				t.Fatalf("not asked whether a worker may get in touch:\n%s", testenv.Dump(r))
			}
			if x.survey && (strings.Contains(testenv.Text(r), "(2/7)") || !hasButton(r, "s.go")) {
				t.Fatalf("the survey did not wait behind a button:\n%s", testenv.Dump(r))
			}
			if !x.survey && hasButton(r, "s.go") {
				t.Fatalf("a survey was offered to someone in danger:\n%s", testenv.Dump(r))
			}
			r = c.Press(x.yes)
			code := refCode.FindString(testenv.Text(r))
			if x.survey {
				if next := c.Input(bot.Input{Kind: bot.KindChoice, Data: "s.go"}); !strings.Contains(testenv.Text(next), "(2/7)") {
					t.Fatalf("the survey did not go on at the same question when asked to:\n%s", testenv.Dump(next))
				}
			}
			fb := e.Feedback(t, "kotipesa")
			if code == "" || len(fb) != 2 || fb[0]["crisis"] != x.class || fb[1]["ref"] != code {
				t.Fatalf("code %q, alerts %v", code, fb)
			}
			for _, a := range fb {
				for k, v := range a {
					if !slices.Contains([]string{"aud", "week", "lang", "crisis", "ref"}, k) || strings.Contains(v, "cr-") {
						t.Errorf("alert carries %s=%q", k, v)
					}
				}
			}
			if agg := e.Agg(t, "kotipesa", "youth", "2026-W47"); agg["fb.n"] != "" {
				t.Errorf("the crisis text was counted as feedback: %v", agg)
			}
		})
	}
}

// TestCrisisBeforeUnitChosen: someone who has chosen no unit gets help first; the alert goes to the
// all-units stream; the text is not kept waiting for a unit.
func TestCrisisBeforeUnitChosen(t *testing.T) {
	e := newEnv(t, realCoder(t))
	c := e.Chat(t, "cr-nounit", "fi")
	r := c.Send("isä lyö mua")
	if r[0].Kind != bot.Help || index(r, "Mihin paikkaan") >= 0 {
		t.Fatalf("want help first and no unit question:\n%s", testenv.Dump(r))
	}
	if fb := e.Feedback(t, bot.NoUnit); len(fb) != 1 || fb[0]["crisis"] != "violence" {
		t.Fatalf("alert = %v", fb)
	}
	c.Send("ruoka on hyvää")
	r = c.Press("Nuorisokoti Kotipesä")
	if !strings.Contains(testenv.Text(r), "Kiitos! Viestisi menee nimettömänä") {
		t.Fatalf("no thanks after choosing the unit:\n%s", testenv.Dump(r))
	}
	if fb := e.Feedback(t, "kotipesa"); len(fb) != 1 || strings.Contains(fb[0]["text"], "lyö") {
		t.Fatalf("feedback after choosing the unit = %v, want only the later message", fb)
	}
}

// TestNoFalseAlarmWithRealCoder: ordinary sentences that look alike are plain feedback.
func TestNoFalseAlarmWithRealCoder(t *testing.T) {
	e := newEnv(t, realCoder(t))
	for i, text := range []string{"koulu on tappava tylsää", "kuolen nauruun teidän vitseille", "this homework is killing me", "dödtråkigt på helgerna"} {
		c := e.Chat(t, "fa"+string(rune('a'+i)), "fi")
		c.Send("/start u-kotipesa")
		c.Send("/stop")
		r := c.Send(text)
		if slices.ContainsFunc(r, func(x bot.Reply) bool { return x.Kind == bot.Help }) || index(r, "Kiitos! Viestisi menee nimettömänä") < 0 {
			t.Errorf("%q:\n%s", text, testenv.Dump(r))
		}
	}
}
