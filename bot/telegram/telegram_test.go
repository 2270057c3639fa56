package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/bot/telegram"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/internal/fakebot"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/locales"
)

const secret = "s3cret-token"

type rig struct {
	t    testing.TB
	env  *testenv.Env
	fake *fakebot.Server
	api  *httptest.Server
	ad   *telegram.Adapter
	hook *httptest.Server
	upd  atomic.Int64
	msg  atomic.Int64
}

// poll runs the adapter in polling mode until the test ends.
func (r *rig) poll(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.ad.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func newRig(t testing.TB, env *testenv.Env, mod ...func(*telegram.Options)) *rig {
	t.Helper()
	r := &rig{t: t, env: env, fake: fakebot.New().Record()}
	r.api = httptest.NewServer(r.fake)
	t.Cleanup(r.api.Close)
	o := telegram.Options{Token: "123:TEST", APIURL: r.api.URL, Secret: secret, Engine: env.Engine, Catalog: locales.Must(),
		RDB: env.RDB, Prefix: "pl:", PerChatRate: 50, GlobalRate: 1000, PollTimeout: 2 * time.Second,
		Hash: func(c string) string { return env.Engine.PID("rate", c) }}
	for _, f := range mod {
		f(&o)
	}
	ad, err := telegram.New(o)
	if err != nil {
		t.Fatal(err)
	}
	r.ad = ad
	r.hook = httptest.NewServer(ad.WebhookHandler())
	t.Cleanup(func() { r.hook.Close(); ad.Close() })
	r.upd.Store(1000)
	return r
}

// state is Redis without the rate limits' keys: what a person's message may change.
func state(t testing.TB, e *testenv.Env) map[string]string {
	t.Helper()
	m := e.Snapshot(t)
	for k := range m {
		if strings.HasPrefix(k, "rate:") {
			delete(m, k)
		}
	}
	return m
}

func newEnv(t testing.TB) *testenv.Env {
	t.Helper()
	return testenv.New(t, redistest.Start(t).Client(t))
}

func user(id int64, lang string) map[string]any {
	return map[string]any{"id": id, "is_bot": false, "first_name": "Nuori", "language_code": lang}
}

func (r *rig) message(uid int64, text string) map[string]any {
	id := r.upd.Add(1)
	return map[string]any{"update_id": id, "message": map[string]any{"message_id": r.msg.Add(1), "date": 1,
		"from": user(uid, "fi"), "chat": map[string]any{"id": uid, "type": "private"}, "text": text}}
}

func (r *rig) press(uid int64, data string, msgID int) map[string]any {
	id := r.upd.Add(1)
	return map[string]any{"update_id": id, "callback_query": map[string]any{"id": fmt.Sprint("cb", id), "from": user(uid, "fi"),
		"chat_instance": "1", "data": data, "message": map[string]any{"message_id": msgID, "date": 1,
			"chat": map[string]any{"id": uid, "type": "private"}, "text": "q"}}}
}

// post sends an update to the webhook, runs a method in its answer as Telegram does, and returns the
// HTTP status.
func (r *rig) post(update any, token string) int {
	r.t.Helper()
	status, ct, answer := r.rawPost(update, token)
	if status == http.StatusOK {
		r.fake.WebhookAnswer(ct, answer)
	}
	return status
}

// rawPost sends an update to the webhook and returns the answer as Telegram would read it.
func (r *rig) rawPost(update any, token string) (status int, contentType string, body []byte) {
	r.t.Helper()
	b, _ := json.Marshal(update)
	req, _ := http.NewRequest(http.MethodPost, r.hook.URL, bytes.NewReader(b))
	if token != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// sent returns what the bot sent to chat since call index from.
func (r *rig) sent(chat int64, methods ...string) []fakebot.Call {
	var out []fakebot.Call
	for _, c := range r.fake.Recorded(methods...) {
		if c.Values.Get("chat_id") == fmt.Sprint(chat) || c.Method == "answerCallbackQuery" {
			out = append(out, c)
		}
	}
	return out
}

type kb struct {
	InlineKeyboard [][]struct {
		Text string `json:"text"`
		Data string `json:"callback_data"`
	} `json:"inline_keyboard"`
}

// lastButton finds the callback data of a button label in the last message with a keyboard.
func (r *rig) lastButton(chat int64, label string) (string, int) {
	r.t.Helper()
	calls := r.sent(chat, "sendMessage")
	for i := len(calls) - 1; i >= 0; i-- {
		var k kb
		if json.Unmarshal([]byte(calls[i].Values.Get("reply_markup")), &k) != nil {
			continue
		}
		for _, row := range k.InlineKeyboard {
			for _, b := range row {
				if b.Text == label {
					return b.Data, 2000 + i
				}
			}
		}
	}
	r.t.Fatalf("no button %q sent to %d", label, chat)
	return "", 0
}

func texts(calls []fakebot.Call) string {
	var s []string
	for _, c := range calls {
		s = append(s, c.Method+": "+c.Values.Get("text"))
	}
	return strings.Join(s, "\n")
}

func TestWebhookYouthSurveyEndToEnd(t *testing.T) {
	r := newRig(t, newEnv(t))
	const u = 77001
	if s := r.post(r.message(u, "/start u-kotipesa"), secret); s != 200 {
		t.Fatalf("webhook answered %d", s)
	}
	got := texts(r.sent(u, "sendMessage"))
	for _, want := range []string{"Nuorisokoti Kotipesä", "(1/7) Sain apua silloin, kun tarvitsin."} {
		if !strings.Contains(got, want) {
			t.Fatalf("sent:\n%s\nlacks %q", got, want)
		}
	}
	last := r.sent(u, "sendMessage")
	var k kb
	json.Unmarshal([]byte(last[len(last)-1].Values.Get("reply_markup")), &k)
	if raw := last[len(last)-1].Values.Get("reply_markup"); strings.Contains(raw, "copy_text") {
		t.Fatalf("a button carries more than callback_data: %s", raw)
	}
	if len(k.InlineKeyboard) != 2 || len(k.InlineKeyboard[0]) != 5 || k.InlineKeyboard[0][4].Text != "😄" || k.InlineKeyboard[1][0].Text != "En halua vastata" {
		t.Fatalf("scale keyboard = %+v", k)
	}
	for i := 0; i < 5; i++ {
		data, mid := r.lastButton(u, "🙂")
		r.post(r.press(u, data, mid), secret)
	}
	data, mid := r.lastButton(u, "9")
	r.post(r.press(u, data, mid), secret)
	r.post(r.message(u, "Hyvä paikka"), secret)
	edits := r.sent(u, "editMessageText")
	if len(edits) != 6 || !strings.Contains(edits[0].Values.Get("text"), "→ 🙂") || edits[0].Values.Get("reply_markup") != "" {
		t.Fatalf("answered questions not edited to show the answer without buttons: %s", texts(edits))
	}
	if n := len(r.fake.Recorded("answerCallbackQuery")); n != 6 {
		t.Fatalf("%d callbacks answered, want 6", n)
	}
	if !strings.Contains(texts(r.sent(u, "sendMessage")), "Kiitos! Vastauksesi on tallennettu nimettömänä.") {
		t.Fatalf("no thanks:\n%s", texts(r.sent(u, "sendMessage")))
	}
	resp := r.env.Responses(t, "kotipesa")
	if len(resp) != 1 || resp[0]["a.nps"] != "9" || resp[0]["a.words"] != "Hyvä paikka" {
		t.Fatalf("responses = %v", resp)
	}
}

func TestRelativesAndSocialWorkersThroughInvitations(t *testing.T) {
	r := newRig(t, newEnv(t))
	for i, tc := range []struct{ aud, first string }{{"relative", "Mikä on suhteesi lapseen"}, {"social_worker", "Lasta kohdellaan kunnioittavasti."}} {
		tok, err := r.env.Invites.Create(context.Background(), "satama", flows.Audience(tc.aud), 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		u := int64(88000 + i)
		r.post(r.message(u, "/start i-"+tok), secret)
		if got := texts(r.sent(u, "sendMessage")); !strings.Contains(got, tc.first) {
			t.Fatalf("%s: sent:\n%s", tc.aud, got)
		}
	}
}

func TestWrongSecretIs401AndChangesNothing(t *testing.T) {
	r := newRig(t, newEnv(t))
	before := state(t, r.env)
	for _, tok := range []string{"", "wrong", secret + "x"} {
		if s := r.post(r.message(1, "/start u-kotipesa"), tok); s != http.StatusUnauthorized {
			t.Fatalf("token %q: status %d, want 401", tok, s)
		}
	}
	if len(r.fake.Recorded()) != 0 || !reflect.DeepEqual(before, state(t, r.env)) {
		t.Fatal("a request with a wrong secret changed something")
	}
	req, _ := http.NewRequest(http.MethodPost, r.hook.URL, strings.NewReader(strings.Repeat("x", 2<<20)))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	resp, _ := http.DefaultClient.Do(req)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MiB body: %d", resp.StatusCode)
	}
}

func TestRedeliveredUpdateHandledOnce(t *testing.T) {
	r := newRig(t, newEnv(t))
	const u = 5
	r.post(r.message(u, "/start u-kotipesa"), secret)
	data, mid := r.lastButton(u, "😄")
	up := r.press(u, data, mid)
	r.post(up, secret)
	n := len(r.fake.Recorded("sendMessage"))
	snap := state(t, r.env)
	r.post(up, secret) // Telegram sends it again
	if got := len(r.fake.Recorded("sendMessage")); got != n {
		t.Fatalf("redelivered update answered again (%d → %d messages)", n, got)
	}
	if !reflect.DeepEqual(snap, state(t, r.env)) {
		t.Fatal("redelivered update changed Redis")
	}
}

func TestStaleButtonAndStickerChangeNothing(t *testing.T) {
	r := newRig(t, newEnv(t))
	const u = 6
	r.post(r.message(u, "/start u-kotipesa"), secret)
	old, mid := r.lastButton(u, "😞")
	data, _ := r.lastButton(u, "😄")
	r.post(r.press(u, data, mid), secret)
	snap := state(t, r.env)
	r.post(r.press(u, old, mid), secret)
	cbs := r.fake.Recorded("answerCallbackQuery")
	if got := cbs[len(cbs)-1].Values.Get("text"); got != "Tähän kysymykseen on jo vastattu." {
		t.Fatalf("stale press answered %q", got)
	}
	sticker := r.message(u, "")
	delete(sticker["message"].(map[string]any), "text")
	sticker["message"].(map[string]any)["sticker"] = map[string]any{"file_id": "x", "file_unique_id": "y", "type": "regular", "width": 1, "height": 1}
	r.post(sticker, secret)
	got := texts(r.sent(u, "sendMessage"))
	if !strings.Contains(got, "Osaan lukea vain tekstiä ja painikkeita.") || !strings.HasSuffix(strings.TrimSpace(got[strings.LastIndex(got, "sendMessage: "):]), "") {
		t.Fatalf("sticker answer:\n%s", got)
	}
	if !reflect.DeepEqual(snap, state(t, r.env)) {
		t.Fatal("stale button or sticker changed Redis")
	}
}

func TestForgetDeletesTheChat(t *testing.T) {
	r := newRig(t, newEnv(t))
	const u = 7
	r.post(r.message(u, "/start u-kotipesa"), secret) // message id 1
	data, mid := r.lastButton(u, "🙂")
	r.post(r.press(u, data, mid), secret)
	r.post(r.message(u, "/forget"), secret)
	del := r.fake.Recorded("deleteMessages")
	if len(del) == 0 {
		t.Fatal("no deleteMessages")
	}
	var ids []int
	json.Unmarshal([]byte(del[0].Values.Get("message_ids")), &ids)
	if len(ids) < 3 || ids[0] != 1 {
		t.Fatalf("deleted ids %v, want from the first message on", ids)
	}
	if got := texts(r.sent(u, "sendMessage")); !strings.Contains(got, "Poistin tämän keskustelun viestit") {
		t.Fatalf("no confirmation:\n%s", got)
	}
}

func TestGroupChatToldOnce(t *testing.T) {
	r := newRig(t, newEnv(t))
	for i := 0; i < 3; i++ {
		m := r.message(42, "hei kaikki")
		m["message"].(map[string]any)["chat"] = map[string]any{"id": -100123, "type": "group", "title": "x"}
		r.post(m, secret)
	}
	if n := len(r.fake.Recorded("sendMessage")); n != 1 {
		t.Fatalf("%d messages in the group, want one notice", n)
	}
}

func Test429StormHonoured(t *testing.T) {
	r := newRig(t, newEnv(t))
	r.fake.Throttle(3, 1)
	const u = 8
	start := time.Now()
	r.post(r.message(u, "/start u-kotipesa"), secret)
	calls := r.fake.Recorded("sendMessage")
	var ok []string
	refused := 0
	for _, c := range calls {
		if c.Status == 429 {
			refused++
			continue
		}
		ok = append(ok, c.Values.Get("text"))
	}
	if refused != 3 || len(ok) != 3 {
		t.Fatalf("%d refused, %d delivered; want 3 and 3", refused, len(ok))
	}
	if !strings.Contains(ok[2], "(1/7)") || time.Since(start) < 3*time.Second {
		t.Fatalf("messages out of order or retry_after not waited: %q", ok)
	}
}

func TestTwoAdaptersOneUserNoDoubleAnswers(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	e1, e2 := testenv.New(t, rdb), testenv.New(t, rdb)
	r1, r2 := newRig(t, e1), newRig(t, e2)
	r2.fake = r1.fake // both replicas send to the same Bot API
	r2.ad.Close()
	ad2, err := telegram.New(telegram.Options{Token: "123:TEST", APIURL: r1.api.URL, Secret: secret, Engine: e2.Engine, Catalog: locales.Must(),
		RDB: rdb, Prefix: "pl:", PerChatRate: 50, GlobalRate: 1000, Hash: func(c string) string { return e2.Engine.PID("rate", c) }})
	if err != nil {
		t.Fatal(err)
	}
	r2.hook = httptest.NewServer(ad2.WebhookHandler())
	defer r2.hook.Close()
	defer ad2.Close()
	const u = 9
	r1.post(r1.message(u, "/start u-kotipesa"), secret)
	for i := 0; i < 6; i++ {
		label := "🙂"
		if i == 5 {
			label = "10"
		}
		data, mid := r1.lastButton(u, label)
		up := r1.press(u, data, mid)
		var wg sync.WaitGroup
		for _, rr := range []*rig{r1, r2} { // the same update reaches both replicas at once
			wg.Add(1)
			go func() { defer wg.Done(); rr.post(up, secret) }()
		}
		wg.Wait()
	}
	r2.post(r1.message(u, "/skip"), secret)
	resp := e1.Responses(t, "kotipesa")
	if len(resp) != 1 || resp[0]["a.nps"] != "10" || resp[0]["a.hope"] != "4" {
		t.Fatalf("responses = %v", resp)
	}
	if n := strings.Count(texts(r1.fake.Recorded("sendMessage")), "(2/7)"); n != 1 {
		t.Fatalf("question 2 sent %d times", n)
	}
}

func TestPollingConversation(t *testing.T) {
	env := newEnv(t)
	r := newRig(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.ad.Run(ctx) }()
	const u = 10
	r.fake.Push(r.message(u, "/start u-satama"))
	waitFor(t, func() bool { return strings.Contains(texts(r.sent(u, "sendMessage")), "(1/7)") })
	for i := 0; i < 5; i++ {
		data, mid := r.lastButton(u, "😐")
		r.fake.Push(r.press(u, data, mid))
		// The answered question is edited before the next one is sent: wait for both, or the next
		// lastButton would find the old question's keyboard.
		next := fmt.Sprintf("(%d/7)", i+2)
		waitFor(t, func() bool {
			return len(r.sent(u, "editMessageText")) == i+1 && strings.Contains(texts(r.sent(u, "sendMessage")), next)
		})
	}
	data, mid := r.lastButton(u, "7")
	r.fake.Push(r.press(u, data, mid))
	waitFor(t, func() bool { return strings.Contains(texts(r.sent(u, "sendMessage")), "(7/7)") })
	r.fake.Push(r.message(u, "ok"))
	waitFor(t, func() bool { return len(env.Responses(t, "satama")) == 1 })
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if got := env.Responses(t, "satama")[0]; got["a.nps"] != "7" || got["a.help"] != "3" {
		t.Fatalf("response %v", got)
	}
}

func TestLongReplySplit(t *testing.T) {
	env := newEnv(t)
	long := strings.Repeat("sana ", 2000) // 10 000 characters
	stub := handlerFunc(func(ctx context.Context, in bot.Input) ([]bot.Reply, error) {
		return []bot.Reply{{Text: long, Buttons: [][]bot.Button{{{Label: "ok", Data: "x"}}}}}, nil
	})
	r := newRig(t, env, func(o *telegram.Options) { o.Engine = stub })
	r.post(r.message(11, "hei"), secret)
	calls := r.fake.Recorded("sendMessage")
	if len(calls) != 3 {
		t.Fatalf("%d messages, want 3", len(calls))
	}
	total := 0
	for i, c := range calls {
		n := len([]rune(c.Values.Get("text")))
		if n > telegram.MaxText {
			t.Fatalf("part %d has %d characters", i, n)
		}
		total += n
		if (c.Values.Get("reply_markup") != "") != (i == 2) {
			t.Fatalf("keyboard not only on the last part")
		}
	}
	if total < 9990 {
		t.Fatalf("text lost in splitting: %d characters", total)
	}
}

type handlerFunc func(ctx context.Context, in bot.Input) ([]bot.Reply, error)

func (f handlerFunc) Handle(ctx context.Context, in bot.Input) ([]bot.Reply, error) {
	return f(ctx, in)
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// In webhook mode a button press is answered in the webhook's answer (one Bot API request less per press),
// after the edit and the next question have gone; a stale press's text goes there too.
func TestButtonAnsweredInTheWebhookAnswer(t *testing.T) {
	r := newRig(t, newEnv(t))
	const u = 4343
	r.post(r.message(u, "/start u-kotipesa"), secret)
	stale, mid := r.lastButton(u, "😞")
	data, _ := r.lastButton(u, "🙂")
	press := r.press(u, data, mid)
	status, ct, body := r.rawPost(press, secret)
	var got struct {
		Method string `json:"method"`
		ID     string `json:"callback_query_id"`
		Text   string `json:"text"`
	}
	if status != 200 || ct != "application/json" || json.Unmarshal(body, &got) != nil {
		t.Fatalf("webhook answered %d %q %s", status, ct, body)
	}
	wantID := press["callback_query"].(map[string]any)["id"]
	if got.Method != "answerCallbackQuery" || got.ID != wantID || got.Text != "" {
		t.Fatalf("webhook answer %s, want answerCallbackQuery of %v", body, wantID)
	}
	if n := len(r.fake.Recorded("answerCallbackQuery")); n != 0 {
		t.Fatalf("the press was also answered by %d requests", n)
	}
	if n := len(r.sent(u, "editMessageText")); n != 1 || !strings.Contains(texts(r.sent(u, "sendMessage")), "(2/7)") {
		t.Fatal("the answer was not shown or the next question not sent before the webhook answered")
	}
	_, _, body = r.rawPost(r.press(u, stale, mid), secret)
	if json.Unmarshal(body, &got) != nil || got.Text != "Tähän kysymykseen on jo vastattu." {
		t.Fatalf("stale press: webhook answer %s", body)
	}
	// A message (no button) gets an empty answer.
	if _, ct, body := r.rawPost(r.message(u, "/help"), secret); len(body) != 0 || ct == "application/json" {
		t.Fatalf("a message's webhook answer: %q %s", ct, body)
	}
}

// A turn that has to wait for a rate limit (here Telegram's 429 with retry_after 1) answers the press
// at once, before it waits: the spinner does not turn through the wait, and the webhook answer is empty.
func TestButtonAnsweredBeforeARateLimitWait(t *testing.T) {
	r := newRig(t, newEnv(t))
	const u = 4344
	r.post(r.message(u, "/start u-kotipesa"), secret)
	data, mid := r.lastButton(u, "🙂")
	r.fake.Throttle(1, 1)
	status, _, body := r.rawPost(r.press(u, data, mid), secret)
	if status != 200 || len(body) != 0 {
		t.Fatalf("webhook answered %d %s, want 200 and no method", status, body)
	}
	// The edit and the next question go together: either may be the one refused.
	calls := r.fake.Recorded("answerCallbackQuery", "editMessageText", "sendMessage")[3:]
	var refused, answer, retry *fakebot.Call
	for i := range calls {
		c := &calls[i]
		switch {
		case c.Status == 429:
			refused = c
		case c.Method == "answerCallbackQuery":
			answer = c
		case refused != nil && c.Method == refused.Method:
			retry = c
		}
	}
	if refused == nil || answer == nil || retry == nil || len(r.fake.Recorded("answerCallbackQuery")) != 1 {
		t.Fatalf("requests %v, want one refused with 429, its retry, and one answer to the press", methods(calls))
	}
	if wait := retry.At.Sub(answer.At); wait < 900*time.Millisecond {
		t.Fatalf("the press was answered %v before the retry, want before the 1 s wait", wait)
	}
	if n := len(r.sent(u, "editMessageText")); n != 1 || !strings.Contains(texts(r.sent(u, "sendMessage")), "(2/7)") {
		t.Fatal("the answer was not shown or the next question not sent")
	}
}

func methods(calls []fakebot.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, fmt.Sprintf("%s %d", c.Method, c.Status))
	}
	return out
}

// A slow Bot API does not keep the button spinning: once the press has waited a noticeable time, it is
// answered by a request while the turn's calls are still under way, not in the webhook's answer at the end.
func TestButtonAnsweredWhenTheBotAPIIsSlow(t *testing.T) {
	r := newRig(t, newEnv(t))
	const u = 4345
	r.post(r.message(u, "/start u-kotipesa"), secret)
	data, mid := r.lastButton(u, "🙂")
	const slow = 600 * time.Millisecond
	r.fake.Slow(slow)
	status, _, body := r.rawPost(r.press(u, data, mid), secret)
	if status != 200 || len(body) != 0 {
		t.Fatalf("webhook answered %d %s, want 200 and no method", status, body)
	}
	calls := r.fake.Recorded("answerCallbackQuery", "editMessageText", "sendMessage")[3:]
	if got := methods(calls); len(got) != 3 {
		t.Fatalf("requests %v, want the edit, the next question and the answer to the press", got)
	}
	answers := r.fake.Recorded("answerCallbackQuery")
	if len(answers) != 1 {
		t.Fatalf("%d answers to the press, want 1", len(answers))
	}
	if took := answers[0].At.Sub(calls[0].At); took >= slow {
		t.Fatalf("the press was answered %v after the turn's first call, want before that call was answered (%v)", took, slow)
	}
}
