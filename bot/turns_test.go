package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/internal/testenv"
)

// The question "may a worker contact you?" after a worrying message takes a typed answer too, in any of the
// three languages: the answer is given as a message, the survey goes on, and the typed word is not taken as
// an answer to the survey or as feedback.
func TestTypedYesOrNoAnswersTheContactQuestion(t *testing.T) {
	for _, c := range []struct {
		lang, typed string
		yes         bool
	}{
		{"fi", "joo", true}, {"fi", "Ei.", false}, {"sv", "ja", true}, {"sv", "nej", false}, {"en", "Yes!", true}, {"en", "no", false},
	} {
		t.Run(c.lang+" "+c.typed, func(t *testing.T) {
			e := newEnv(t, func(o *bot.Options) { o.Coder = fakeCoder{} })
			chat := e.Chat(t, "u-typed-"+c.lang+c.typed, c.lang)
			chat.Send("/start u-kotipesa")
			chat.Press("🙂")
			chat.Send("HÄTÄ")
			r := chat.Send(c.typed)
			want := e.T(c.lang, "crisis_no")
			if c.yes {
				want = strings.SplitN(e.T(c.lang, "crisis_yes", map[string]any{"Code": "@"}), "@", 2)[0]
			}
			if len(r) != 2 || r[0].Kind != bot.Message || !strings.HasPrefix(r[0].Text, want) || r[1].Text != e.T(c.lang, "survey_paused") {
				t.Fatalf("typed %q: %s", c.typed, testenv.Dump(r))
			}
			fb := e.Feedback(t, "kotipesa")
			if c.yes && (len(fb) != 2 || fb[1]["ref"] == "" || !strings.Contains(r[0].Text, fb[1]["ref"])) {
				t.Fatalf("contact alert %v for reply %q", fb, r[0].Text)
			}
			if !c.yes && len(fb) != 1 {
				t.Fatalf("alerts after no: %v", fb)
			}
			// Answered: the same word now is what it would be anywhere in the survey.
			if r := chat.Send(c.typed); len(r) == 0 || r[0].Text != e.T(c.lang, "pick_button") {
				t.Fatalf("typed %q again: %s", c.typed, testenv.Dump(r))
			}
		})
	}
}

// Commands work as Swedish speakers write them, with å, ä and ö.
func TestSwedishCommandsWithTheirLetters(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u-sv-cmd", "sv")
	if r := c.Send("/hjälp"); len(r) != 1 || r[0].Text != e.T("sv", "help") {
		t.Fatalf("/hjälp: %s", testenv.Dump(r))
	}
	if r := c.Send("/Språk"); len(r) == 0 || len(r[len(r)-1].Buttons) == 0 || !strings.Contains(testenv.Dump(r), "l.fi") {
		t.Fatalf("/språk: %s", testenv.Dump(r))
	}
	c.Send("/start u-kotipesa")
	if r := c.Send("/glöm"); !strings.Contains(testenv.Text(r), e.T("sv", "forgotten")) {
		t.Fatalf("/glöm: %s", testenv.Dump(r))
	}
}

// Someone who writes feedback without a place can say none of the places, and can take the message back.
func TestFeedbackWithoutAPlace(t *testing.T) {
	e := newEnv(t, func(o *bot.Options) { o.Coder = fakeCoder{} })
	c := e.Chat(t, "u-noplace", "en")
	r := c.Send("the food is cold")
	last := r[len(r)-1]
	if got := last.Buttons[len(last.Buttons)-1][0]; got.Label != e.T("en", "btn_unit_none") || got.Data != "u."+bot.NoUnit {
		t.Fatalf("no way to say none of these: %s", testenv.Dump(r))
	}
	r = c.Press(e.T("en", "btn_unit_none"))
	if len(r) != 2 || r[0].Kind != bot.EditAsked || r[1].Text != e.T("en", "feedback_thanks_none") {
		t.Fatalf("none of these: %s", testenv.Dump(r))
	}
	if fb := e.Feedback(t, bot.NoUnit); len(fb) != 1 || fb[0]["text"] != "the food is cold" {
		t.Fatalf("feedback of no place: %v", fb)
	}

	c = e.Chat(t, "u-takeback", "en")
	c.Send("the food is cold")
	if r := c.Send("I don't know"); !strings.Contains(testenv.Text(r), "/stop") {
		t.Fatalf("asked again without a way out: %s", testenv.Dump(r))
	}
	if r := c.Send("/stop"); len(r) != 1 || r[0].Text != e.T("en", "feedback_not_sent") {
		t.Fatalf("/stop while choosing: %s", testenv.Dump(r))
	}
	if fb := e.Feedback(t, bot.NoUnit); len(fb) != 1 {
		t.Fatalf("a message taken back was kept: %v", fb)
	}
	// A survey needs its place: no "none of these" there.
	r = c.Send("/survey")
	for _, row := range r[len(r)-1].Buttons {
		if row[0].Data == "u."+bot.NoUnit {
			t.Fatalf("none of these offered for a survey: %s", testenv.Dump(r))
		}
	}
}

// After /forget, whoever holds the phone cannot learn from the bot that its owner has answered: the answers
// stay counted once, but "you have already answered" is not said in that period.
func TestForgetLeavesNoHintOfAnswering(t *testing.T) {
	e := newEnv(t)
	c := e.Chat(t, "u-wiped", "en")
	c.Send("/start u-kotipesa")
	for _, b := range []string{"😄", "😄", "😄", "😄", "😄", "10"} {
		c.Press(b)
	}
	c.Send("good place")
	already := e.T("en", "already_counted_month")
	if r := c.Send("/survey"); !strings.Contains(testenv.Text(r), already) {
		t.Fatalf("before /forget the person is told their first answers count: %s", testenv.Dump(r))
	}
	c.Send("/forget")
	r := c.Send("/start u-kotipesa")
	for _, b := range []string{"😞", "😞", "😞", "😞", "😞", "0"} {
		r = append(r, c.Press(b)...)
	}
	r = append(r, c.Send("bad place")...)
	if text := testenv.Text(r); strings.Contains(text, already) || strings.Contains(text, e.T("en", "counted_before_month")) {
		t.Fatalf("after /forget the bot tells that someone answered: %s", testenv.Dump(r))
	}
	if n := len(e.Responses(t, "kotipesa")); n != 1 {
		t.Fatalf("%d responses counted, want the first only", n)
	}
}

// A greeting is not feedback: the person is told what can be done here, and nothing goes to the staff.
func TestGreetingIsNotFeedback(t *testing.T) {
	e := newEnv(t, func(o *bot.Options) { o.Coder = fakeCoder{} })
	c := e.Chat(t, "u-moi", "fi")
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	for _, text := range []string{"moi", "Hei!", "hejsan 👋", "Hi"} {
		r := c.Send(text)
		if len(r) != 1 || r[0].Text != e.T("fi", "greeting_reply") || r[0].Buttons[0][0].Data != "s.go" {
			t.Fatalf("%q: %s", text, testenv.Dump(r))
		}
	}
	if fb := e.Feedback(t, "kotipesa"); len(fb) != 0 {
		t.Fatalf("greetings kept as feedback: %v", fb)
	}
	c.Send("moi, ruoka on kylmää")
	if fb := e.Feedback(t, "kotipesa"); len(fb) != 1 || fb[0]["text"] != "moi, ruoka on kylmää" {
		t.Fatalf("feedback that starts with a greeting: %v", fb)
	}
}

// A typed yes or no answers the contact question only as the next message: later, "Ei" is an answer to the
// survey, and "joo" days after is not a request to be contacted.
func TestTypedYesOrNoOnlyRightAfterTheQuestion(t *testing.T) {
	e := newEnv(t, func(o *bot.Options) { o.Coder = fakeCoder{} })
	c := e.Chat(t, "u-later", "fi")
	c.Send("/start u-kotipesa")
	c.Send("HÄTÄ") // at the first question: help, the contact question, the survey waits
	c.Press(e.T("fi", "btn_continue"))
	for range 5 {
		c.Press("🙂")
	}
	c.Press("8")
	c.Send("Ei")
	if rs := e.Responses(t, "kotipesa"); len(rs) != 1 || rs[0]["a.words"] != "Ei" {
		t.Fatalf("the last answer typed after the contact question was left open: %v", rs)
	}

	for _, between := range []string{"/stop", "/help", ""} { // a turn that saves, one that does not, none
		c = e.Chat(t, "u-days"+between, "fi")
		c.Send("/start u-kotipesa")
		c.Send("HÄTÄ")
		if between != "" {
			c.Send(between)
		}
		e.Clock.Add(72 * time.Hour)
		c.Send("joo")
		for _, fb := range e.Feedback(t, "kotipesa") {
			if fb["ref"] != "" {
				t.Fatalf("'joo' days later (after %q) made a contact request: %v", between, fb)
			}
		}
	}
}
