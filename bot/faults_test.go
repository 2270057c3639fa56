package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/store"
)

// Redis going away: the person is told to try again in their language, nothing panics, and the
// conversation goes on by itself once Redis is back.
func TestRedisDownThenBack(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	rdb := srv.Client(t)
	obs := &missedAlerts{}
	e := testenv.New(t, rdb, func(o *bot.Options) { o.Coder, o.Observe = fakeCoder{}, obs })
	c := e.Chat(t, "fault1", "sv")
	c.Send("/start u-kotipesa")
	c.Press("🙂")
	srv.Stop()
	d, _ := c.Button("😄")
	for _, in := range []bot.Input{{Kind: bot.KindChoice, Data: d, EventID: "f1"}, {Kind: bot.KindText, Text: "hej", EventID: "f2"}} {
		in.Channel, in.User, in.Chat, in.Lang = "test", "fault1", "fault1", "sv"
		r, err := e.Engine.Handle(context.Background(), in)
		if !errors.Is(err, bot.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		if len(r) != 1 || !strings.Contains(r[0].Text, "Försök igen om en stund") {
			t.Fatalf("reply while Redis is down: %s", testenv.Dump(r))
		}
	}
	// A message that suggests danger gets the help contacts first, Redis or not, in the language the person
	// chose (sv), not their Telegram app's (fi).
	in := bot.Input{Kind: bot.KindText, Text: "HÄTÄ jag orkar inte", EventID: "f3", Channel: "test", User: "fault1", Chat: "fault1", Lang: "fi"}
	r, err := e.Engine.Handle(context.Background(), in)
	if !errors.Is(err, bot.ErrUnavailable) || len(r) != 2 || r[0].Kind != bot.Help || !strings.Contains(r[0].Text, "112") ||
		!strings.Contains(r[0].Text, e.T("sv", "crisis_intro")) || !strings.Contains(r[1].Text, "Försök igen om en stund") {
		t.Fatalf("a worrying message while Redis is down (%v): %s", err, testenv.Dump(r))
	}
	if len(obs.classes) != 1 || obs.classes[0] != "self_harm" {
		t.Fatalf("missed alerts counted: %v, want one self_harm", obs.classes)
	}
	srv.Restart(t) // AOF: the session is back at its step
	r = c.Input(bot.Input{Kind: bot.KindChoice, Data: d, EventID: "f1"})
	if !strings.Contains(testenv.Text(r), "(3/7)") {
		t.Fatalf("after Redis came back the survey did not go on at question 3:\n%s", testenv.Dump(r))
	}
}

// Redis restarted from its AOF: sessions resume at their step and nothing acknowledged is lost.
func TestRedisRestartWithAOFResumes(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	rdb := srv.Client(t)
	e := testenv.New(t, rdb)
	done := e.Chat(t, "aof-done", "fi")
	done.Send("/start u-kotipesa")
	for i := 0; i < 5; i++ {
		done.Press("🙂")
	}
	done.Press("9")
	done.Send("/skip")
	mid := e.Chat(t, "aof-mid", "en")
	mid.Send("/start u-satama")
	mid.Press("😄")
	mid.Press("😐")

	srv.Restart(t)
	e2 := testenv.New(t, srv.Client(t))
	mid.Env = e2
	r := mid.Send("/survey")
	if !strings.Contains(testenv.Text(r), "(3/7) Decisions about me") {
		t.Fatalf("session did not resume at its step:\n%s", testenv.Dump(r))
	}
	if got := e2.Responses(t, "kotipesa"); len(got) != 1 || got[0]["a.nps"] != "9" {
		t.Fatalf("responses after restart: %v", got)
	}
	if a := e2.Agg(t, "kotipesa", "youth", "2026-W47"); a["n"] != "1" {
		t.Fatalf("aggregate after restart: %v", a)
	}
}

// missedAlerts is an Observer that keeps the classes of the crisis alerts that could not be stored.
type missedAlerts struct{ classes []string }

func (*missedAlerts) Survey(string, string)      {}
func (m *missedAlerts) AlertMissed(class string) { m.classes = append(m.classes, class) }

// conflicting is a store whose every commit loses a race; checked says whether its publications check the
// session (as on a single Redis) or not (as on a Cluster).
type conflicting struct {
	*store.Store
	checked bool
}

func (conflicting) Commit(context.Context, bot.Commit) error { return bot.ErrConflict }
func (c conflicting) PublishesChecked() bool                 { return c.checked }

// A worrying message whose every commit loses a race gets the help contacts and "try again". Its alert is
// counted as missed where publications check the session (nothing was published), and not where they do
// not (it may have been).
func TestLostRacesCountAMissedAlertOnlyWhenNothingWasPublished(t *testing.T) {
	for _, checked := range []bool{true, false} {
		obs := &missedAlerts{}
		e := testenv.New(t, mini(t), func(o *bot.Options) {
			o.Coder, o.Observe = fakeCoder{}, obs
			o.Store = conflicting{o.Store.(*store.Store), checked}
		})
		r, err := e.Engine.Handle(context.Background(), bot.Input{Kind: bot.KindText, Text: "HÄTÄ", EventID: "1",
			Channel: "test", User: "racer", Chat: "racer", Lang: "en"})
		if !errors.Is(err, bot.ErrUnavailable) || len(r) != 2 || r[0].Kind != bot.Help {
			t.Fatalf("checked %v: %v %s", checked, err, testenv.Dump(r))
		}
		if want := map[bool]int{true: 1, false: 0}[checked]; len(obs.classes) != want {
			t.Errorf("publications checked %v: %d missed alerts counted, want %d", checked, len(obs.classes), want)
		}
	}
}
