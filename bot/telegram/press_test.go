package telegram_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/bot/telegram"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/store"
)

// slowEngine answers a button press whose data is "slow" only once the fake Bot API has seen an answer to
// the press (as an engine held up by a slow or unreachable Redis would, long after the press), or after a
// generous timeout, which fails the test; any other press it answers at once. Its replies are an edit of
// the pressed question, a notice for the press and the next question.
type slowEngine struct {
	r        *rig
	notice   string
	answered atomic.Int32 // slow presses that found their answer given before the engine returned
	timedOut atomic.Int32 // slow presses that did not
	panics   bool         // a slow press panics (after its answer was given) instead of replying
}

const slowTimeout = 5 * time.Second

func (e *slowEngine) Handle(ctx context.Context, in bot.Input) ([]bot.Reply, error) {
	if in.Data == "slow" {
		deadline := time.Now().Add(slowTimeout)
		for len(e.r.fake.Recorded("answerCallbackQuery")) == 0 {
			if time.Now().After(deadline) {
				e.timedOut.Add(1)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if len(e.r.fake.Recorded("answerCallbackQuery")) > 0 {
			e.answered.Add(1)
		}
		if e.panics {
			panic("engine failed after a slow store")
		}
	}
	return []bot.Reply{{Kind: bot.EditAsked, Text: "🙂"}, {Kind: bot.Answer, Text: e.notice}, {Text: "(2/7) seuraava"}}, nil
}

func slowRig(t *testing.T, notice string) (*rig, *slowEngine) {
	t.Helper()
	e := &slowEngine{notice: notice}
	r := newRig(t, newEnv(t), func(o *telegram.Options) { o.Engine = e })
	e.r = r
	return r, e
}

// sentTexts are the texts of the messages sent (not edited) to chat.
func sentTexts(r *rig, chat int64) []string {
	var out []string
	for _, c := range r.sent(chat, "sendMessage") {
		out = append(out, c.Values.Get("text"))
	}
	return out
}

// checkSlowPress checks a slow press's turn: the press was answered once, by a request, with no text,
// before the engine returned; its notice reached the person as a message, in its place among the turn's
// messages; the pressed question was edited.
func checkSlowPress(t *testing.T, r *rig, e *slowEngine, chat int64) {
	t.Helper()
	if n := e.timedOut.Load(); n > 0 || e.answered.Load() != 1 {
		t.Fatalf("the press was not answered while the engine ran (waited %v for it)", slowTimeout)
	}
	answers := r.fake.Recorded("answerCallbackQuery")
	if len(answers) != 1 || answers[0].InAnswer || answers[0].Values.Get("text") != "" {
		t.Fatalf("press answered %d times (%v), want once, by a request, with no text", len(answers), methods(answers))
	}
	want := "(2/7) seuraava"
	if e.notice != "" {
		want = e.notice + "\n" + want
	}
	if got := strings.Join(sentTexts(r, chat), "\n"); got != want {
		t.Fatalf("messages sent:\n%s\nwant:\n%s", got, want)
	}
	if n := len(r.sent(chat, "editMessageText")); n != 1 {
		t.Fatalf("%d edits of the pressed question, want 1", n)
	}
}

// In webhook mode a press whose engine is slow (Redis slow or unreachable) is answered by a request once it
// has waited a noticeable time, while the engine still runs; the engine's notice for it, too late for the
// answer, goes as a message in its place among the turn's messages, and the webhook's answer is empty.
func TestSlowEngineWebhookPressAnsweredWhileItRuns(t *testing.T) {
	r, e := slowRig(t, "Kokeile hetken päästä uudelleen.")
	const u = 4351
	status, _, body := r.rawPost(r.press(u, "slow", 10), secret)
	if status != 200 || len(body) != 0 {
		t.Fatalf("webhook answered %d %s, want 200 and no method (the press was answered already)", status, body)
	}
	checkSlowPress(t, r, e, u)
}

// The same with no notice: nothing more than the turn's messages is sent.
func TestSlowEngineWebhookPressNoNotice(t *testing.T) {
	r, e := slowRig(t, "")
	const u = 4352
	if s := r.post(r.press(u, "slow", 10), secret); s != 200 {
		t.Fatalf("webhook answered %d", s)
	}
	checkSlowPress(t, r, e, u)
}

// In polling mode a press whose engine is slow is answered by a request once it has waited a noticeable
// time, while the engine still runs; the engine's notice goes as a message. A fast press (first) is
// answered by a request with its notice, and no message carries it.
func TestSlowEnginePollingPressAnsweredWhileItRuns(t *testing.T) {
	r, e := slowRig(t, "Kokeile hetken päästä uudelleen.")
	r.poll(t)
	const u = 4353
	r.fake.Push(r.press(u, "fast", 9))
	waitFor(t, func() bool { return len(r.sent(u, "sendMessage")) == 1 })
	answers := r.fake.Recorded("answerCallbackQuery")
	if len(answers) != 1 || answers[0].Values.Get("text") != e.notice {
		t.Fatalf("fast press: %d answers, want 1 carrying the notice", len(answers))
	}
	if got := sentTexts(r, u); len(got) != 1 || got[0] != "(2/7) seuraava" {
		t.Fatalf("fast press: messages %q, want only the next question", got)
	}

	r2, e2 := slowRig(t, "Kokeile hetken päästä uudelleen.")
	r2.poll(t)
	r2.fake.Push(r2.press(u, "slow", 10))
	// The next question is the turn's last message.
	waitFor(t, func() bool { return strings.Contains(texts(r2.sent(u, "sendMessage")), "(2/7)") })
	checkSlowPress(t, r2, e2, u)
}

// A fast engine in webhook mode changes nothing: the notice goes in the webhook's answer, no request
// answers the press and no message carries the notice.
func TestFastEngineWebhookNoticeInTheAnswer(t *testing.T) {
	r, _ := slowRig(t, "Tähän kysymykseen on jo vastattu.")
	const u = 4354
	if s := r.post(r.press(u, "fast", 10), secret); s != 200 {
		t.Fatalf("webhook answered %d", s)
	}
	answers := r.fake.Recorded("answerCallbackQuery")
	if len(answers) != 1 || !answers[0].InAnswer || answers[0].Values.Get("text") != "Tähän kysymykseen on jo vastattu." {
		t.Fatalf("%d answers (%v), want 1, in the webhook's answer, carrying the notice", len(answers), methods(answers))
	}
	if got := sentTexts(r, u); len(got) != 1 || got[0] != "(2/7) seuraava" {
		t.Fatalf("messages %q, want only the next question", got)
	}
}

// An engine that panics after the press was answered (its answer given while the engine ran): the person
// is asked to try again by a message, and the press is not answered a second time.
func TestSlowEnginePanicAfterTheAnswer(t *testing.T) {
	r, e := slowRig(t, "")
	e.panics = true
	const u = 4355
	status, _, body := r.rawPost(r.press(u, "slow", 10), secret)
	if status != 200 || len(body) != 0 {
		t.Fatalf("webhook answered %d %s, want 200 and no method", status, body)
	}
	if e.answered.Load() != 1 {
		t.Fatalf("the press was not answered while the engine ran (waited %v for it)", slowTimeout)
	}
	if n := len(r.fake.Recorded("answerCallbackQuery")); n != 1 {
		t.Fatalf("press answered %d times, want once", n)
	}
	if got := sentTexts(r, u); len(got) != 1 || got[0] != "Nyt on pieni katkos. Yritä hetken päästä uudelleen." {
		t.Fatalf("messages %q, want the request to try again", got)
	}
}

// lateStore saves a commit and then reports it late, as a Redis that answers after the turn's deadline
// does, while late is set.
type lateStore struct {
	*store.Store
	late atomic.Bool
}

func (s *lateStore) Commit(ctx context.Context, c bot.Commit) error {
	if err := s.Store.Commit(ctx, c); err != nil || !s.late.Load() {
		return err
	}
	return fmt.Errorf("commit: %w", context.DeadlineExceeded)
}

// A press whose answer was saved but whose turn ran out of time is told "try again"; pressing the same
// button again then shows the saved answer and sends the next question, instead of leaving the person with
// "already answered" and no question to go on with.
func TestPressAgainAfterTryAgainGoesOn(t *testing.T) {
	var ls *lateStore
	env := testenv.New(t, redistest.Start(t).Client(t), func(o *bot.Options) {
		ls = &lateStore{Store: o.Store.(*store.Store)}
		o.Store = ls
	})
	r := newRig(t, env)
	const u = 5151
	r.post(r.message(u, "/start u-kotipesa"), secret)
	data, mid := r.lastButton(u, "🙂")
	ls.late.Store(true)
	_, _, body := r.rawPost(r.press(u, data, mid), secret)
	if !strings.Contains(string(body), "Nyt on pieni katkos.") {
		t.Fatalf("a late commit's press was answered %s", body)
	}
	if n := len(r.sent(u, "editMessageText")); n != 0 || strings.Contains(texts(r.sent(u, "sendMessage")), "(2/7)") {
		t.Fatal("a turn that said try again also went on")
	}
	ls.late.Store(false)

	env.Clock.Add(5 * time.Second) // the person reads the notice and presses again
	saved := state(t, env)
	_, _, body = r.rawPost(r.press(u, data, mid), secret)
	if !strings.Contains(string(body), "Tähän kysymykseen on jo vastattu.") {
		t.Fatalf("pressed again: answered %s", body)
	}
	edits := r.sent(u, "editMessageText")
	if len(edits) != 1 || edits[0].Values.Get("text") != "Sain apua silloin, kun tarvitsin.\n→ 🙂" ||
		edits[0].Values.Get("message_id") != fmt.Sprint(mid) || strings.Contains(edits[0].Values.Get("reply_markup"), "callback_data") {
		t.Fatalf("pressed again: edits %s", texts(edits))
	}
	if !strings.Contains(texts(r.sent(u, "sendMessage")), "(2/7) Tulin kuulluksi.") {
		t.Fatalf("pressed again: the next question was not sent:\n%s", texts(r.sent(u, "sendMessage")))
	}
	if !reflect.DeepEqual(saved, state(t, env)) {
		t.Fatal("pressing an answered question again changed Redis")
	}
}
