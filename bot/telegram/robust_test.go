package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/bot/telegram"
)

// A plain /start from someone new asks the language first, then the unit, then starts the youth survey in
// the chosen language.
func TestPlainStartAsksLanguageThenUnit(t *testing.T) {
	r := newRig(t, newEnv(t))
	const u = 31
	r.post(r.message(u, "/start"), secret)
	if got := texts(r.sent(u, "sendMessage")); !strings.Contains(got, "Valitse kieli. Välj språk. Choose a language.") {
		t.Fatalf("no language question:\n%s", got)
	}
	data, mid := r.lastButton(u, "Svenska")
	r.post(r.press(u, data, mid), secret)
	got := texts(r.sent(u, "sendMessage"))
	if !strings.Contains(got, "Vilket ställe vill du ge respons om?") {
		t.Fatalf("no unit question in Swedish:\n%s", got)
	}
	data, mid = r.lastButton(u, "Familjehemmet Satama")
	r.post(r.press(u, data, mid), secret)
	if got := texts(r.sent(u, "sendMessage")); !strings.Contains(got, "(1/7) Jag fick hjälp när jag behövde det.") {
		t.Fatalf("youth survey not started in Swedish:\n%s", got)
	}
	edits := texts(r.sent(u, "editMessageText"))
	if !strings.Contains(edits, "Svenska") || !strings.Contains(edits, "Familjehemmet Satama") {
		t.Fatalf("the choices were not edited to show what was chosen:\n%s", edits)
	}
}

// The command menu is registered in Finnish (also the default for other languages), Swedish and English.
func TestCommandsRegisteredPerLanguage(t *testing.T) {
	r := newRig(t, newEnv(t))
	if err := r.ad.RegisterCommands(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls := r.fake.Recorded("setMyCommands")
	if len(calls) != 3 {
		t.Fatalf("%d setMyCommands calls, want 3", len(calls))
	}
	want := map[string]string{"": "Vastaa kyselyyn", "sv": "Svara på enkäten", "en": "Answer the survey"}
	for _, c := range calls {
		var cmds []struct{ Command, Description string }
		if err := json.Unmarshal([]byte(c.Values.Get("commands")), &cmds); err != nil {
			t.Fatal(err)
		}
		lang := c.Values.Get("language_code")
		if len(cmds) != len(telegram.Commands) || cmds[1].Command != "survey" || cmds[1].Description != want[lang] {
			t.Errorf("language %q: commands %+v", lang, cmds)
		}
	}
}

// A panic while handling one update is recovered and logged, the person is asked to try again, and the next update of the same chat is handled.
func TestPanicRecovered(t *testing.T) {
	var log bytes.Buffer
	var n atomic.Int32
	h := handlerFunc(func(ctx context.Context, in bot.Input) ([]bot.Reply, error) {
		if n.Add(1) == 1 {
			panic("boom")
		}
		return []bot.Reply{{Text: "ok"}}, nil
	})
	r := newRig(t, newEnv(t), func(o *telegram.Options) {
		o.Engine, o.Log = h, slog.New(slog.NewJSONHandler(&log, nil))
	})
	if s := r.post(r.message(32, "eka"), secret); s != 200 {
		t.Fatalf("status %d after a panic", s)
	}
	r.post(r.message(32, "toka"), secret)
	if got := texts(r.sent(32, "sendMessage")); got != "sendMessage: Nyt on pieni katkos. Yritä hetken päästä uudelleen.\nsendMessage: ok" {
		t.Fatalf("after the panic the bot sent:\n%s", got)
	}
	if !strings.Contains(log.String(), "panic while handling an update") || strings.Contains(log.String(), "eka") {
		t.Fatalf("log: %s", log.String())
	}
}

// Close stops taking updates but finishes the ones in hand.
func TestCloseFinishesUpdatesInHand(t *testing.T) {
	started := make(chan struct{})
	h := handlerFunc(func(ctx context.Context, in bot.Input) ([]bot.Reply, error) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		return []bot.Reply{{Text: "valmis"}}, nil
	})
	r := newRig(t, newEnv(t), func(o *telegram.Options) { o.Engine = h })
	status := make(chan int, 1)
	go func() { status <- r.post(r.message(33, "ruoka oli hyvää"), secret) }()
	<-started
	r.ad.Close()
	if got := texts(r.sent(33, "sendMessage")); got != "sendMessage: valmis" {
		t.Fatalf("the update in hand was not finished before Close returned: %q", got)
	}
	if s := <-status; s != 200 {
		t.Fatalf("webhook answered %d for the update in hand", s)
	}
	if s := r.post(r.message(33, "vielä"), secret); s != 503 {
		t.Fatalf("after Close the webhook answered %d, want 503 so that Telegram sends it again", s)
	}
}
