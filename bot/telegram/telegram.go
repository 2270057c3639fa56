// Package telegram is the Telegram channel (github.com/go-telegram/bot): long polling or a webhook,
// inline keyboards, per-chat ordering, rate limits shared through Redis, 429 retries, and /forget.
package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/go-redis/redis_rate/v10"
	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/store"
)

// Handler is the engine as the adapter sees it.
type Handler interface {
	Handle(ctx context.Context, in bot.Input) ([]bot.Reply, error)
}

var _ Handler = (*bot.Engine)(nil)

// Metrics is told what passes through the adapter. No text, chat id or username is ever passed.
type Metrics interface {
	In(kind string)
	Out()
	SendError(reason string)
	Handled(d time.Duration)
}

type nopMetrics struct{}

func (nopMetrics) In(string)             {}
func (nopMetrics) Out()                  {}
func (nopMetrics) SendError(string)      {}
func (nopMetrics) Handled(time.Duration) {}

// Options configure an Adapter.
type Options struct {
	Token        string
	APIURL       string // default https://api.telegram.org
	Secret       string // webhook secret token (X-Telegram-Bot-Api-Secret-Token)
	MaxBodyBytes int64
	Engine       Handler
	Catalog      *locales.Catalog
	// Limits are shared by every replica through Redis (redis_rate). Keys start with Prefix. RDB must
	// reach the store's Redis: a turn's first places ride in the store's commit pipeline (store.Rider).
	RDB         redis.UniversalClient
	Prefix      string
	PerChatRate int // messages per second to one chat
	GlobalRate  int // messages per second overall
	// Hash turns a chat id into a key part that does not reveal it (the engine's keyed pseudonym).
	Hash        func(chat string) string
	Log         *slog.Logger
	Metrics     Metrics
	Shards      int           // parallel per-chat queues (default 64)
	PollTimeout time.Duration // long-poll timeout (default 50 s)
	HTTPClient  *http.Client
	MaxRetries  int // 429 retries per send (default 5)
}

// Adapter connects the engine to Telegram.
type Adapter struct {
	o       Options
	b       *tg.Bot    // polling, setWebhook, setMyCommands
	api     *apiClient // the message path
	limiter *redis_rate.Limiter
	lanes   atomic.Uint32 // the global lane of the next single ask (see Adapter.lane)
	shards  []chan *job
	wg      sync.WaitGroup
	mu      sync.RWMutex // held for reading while enqueuing, for writing while closing
	closed  bool
}

// job is one update in a chat's queue. It carries no context: an update in hand is finished even when the
// request or the poll that brought it has ended, within safeHandle's own deadline. A button press's answer
// is in answer from the start of its handling (nil after a panic); a webhook's job (done not nil) may leave
// it pending there, for the webhook's answer to carry.
type job struct {
	upd    *models.Update
	at     time.Time // when it arrived
	done   chan struct{}
	answer *callbackAnswer
}

// callbackAnswer is a turn's answer to a button press (it stops the button's spinner, and shows text
// when there is any), sent exactly once: whoever claims it (under mu) sends it. Telegram runs one method
// given in the answer to a webhook request, so in webhook mode the answer goes there, one Bot API request
// less per press. A timer started when the press's handling starts sends it by a request instead once the
// press has waited a noticeable time (its update arrived long ago, or a slow engine, a rate limit or a slow
// Bot API holds the turn up), in either mode, so that the spinner never turns for long; a wait for a limit
// also sends it first when the wait would make it late. In polling mode a turn whose engine returns in time
// sends it by a request before its messages.
//
// text is the engine's notice for the press (a bot.Answer reply), known only once the engine has returned:
// an answer sent while the engine runs has no text, and the notice then goes to the chat as a message (see
// settle and plan).
type callbackAnswer struct {
	ID      string
	since   time.Time // when the press arrived
	mu      sync.Mutex
	text    string // the engine's notice, once settled ("" before)
	pending bool   // not answered yet: the timer, a wait, the turn (polling) or the webhook's answer may send it
}

// settle gives the press the engine's notice text. It is false when the press was answered already, without
// text, while the engine ran: the notice must then reach the person some other way.
func (cb *callbackAnswer) settle(text string) bool {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if !cb.pending {
		return false
	}
	cb.text = text
	return true
}

// claim takes the answer for the caller to send (its text), if it is still pending and the press, after a
// further wait of d, would have waited at least least. Once claimed, nothing else sends it.
func (cb *callbackAnswer) claim(least, d time.Duration) (text string, ok bool) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if !cb.pending || time.Since(cb.since)+d < least {
		return "", false
	}
	cb.pending = false
	return cb.text, true
}

// New makes an adapter. Call Run (polling) or serve WebhookHandler; Close waits for the updates in hand.
func New(o Options) (*Adapter, error) {
	if o.Token == "" {
		return nil, errors.New("telegram: no token")
	}
	if o.Engine == nil || o.Catalog == nil || o.RDB == nil || o.Hash == nil {
		return nil, errors.New("telegram: engine, catalog, redis and hash are required")
	}
	if o.APIURL == "" {
		o.APIURL = "https://api.telegram.org"
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.PerChatRate <= 0 {
		o.PerChatRate = 1
	}
	if o.GlobalRate <= 0 {
		o.GlobalRate = 30
	}
	if o.Shards <= 0 {
		o.Shards = 64
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 50 * time.Second
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 5
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = nopMetrics{}
	}
	a := &Adapter{o: o, limiter: redis_rate.NewLimiter(o.RDB)}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: o.PollTimeout + 10*time.Second}
	}
	b, err := tg.New(o.Token,
		tg.WithServerURL(o.APIURL),
		tg.WithSkipGetMe(),
		tg.WithNotAsyncHandlers(), // the one library worker hands updates to our ordered per-chat queues
		tg.WithWorkers(1),
		tg.WithHTTPClient(o.PollTimeout, hc),
		tg.WithDefaultHandler(func(ctx context.Context, _ *tg.Bot, u *models.Update) { a.enqueue(ctx, u, false) }),
		tg.WithErrorsHandler(func(err error) {
			o.Log.Warn("telegram", slog.String("err", redact(err)))
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	a.b = b
	a.api = &apiClient{hc: hc, base: o.APIURL + "/bot" + o.Token + "/", token: o.Token}
	a.shards = make([]chan *job, o.Shards)
	for i := range a.shards {
		a.shards[i] = make(chan *job, 256)
		a.wg.Add(1)
		go a.worker(a.shards[i])
	}
	return a, nil
}

// redact keeps library errors free of tokens and message text: only the error's kind is logged.
func redact(err error) string {
	var tm *tg.TooManyRequestsError
	switch {
	case errors.As(err, &tm):
		return "too many requests, retry after " + strconv.Itoa(tm.RetryAfter) + "s"
	case errors.Is(err, tg.ErrorForbidden):
		return "forbidden (the person blocked the bot)"
	case errors.Is(err, tg.ErrorBadRequest):
		return "bad request"
	case errors.Is(err, tg.ErrorUnauthorized):
		return "unauthorized: check TELEGRAM_TOKEN"
	case errors.Is(err, tg.ErrorNotFound):
		return "not found"
	case errors.Is(err, tg.ErrorConflict):
		return "conflict: another process polls, or a webhook is set"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "request failed"
}

// Run long-polls until ctx ends, then finishes the updates in hand.
func (a *Adapter) Run(ctx context.Context) error {
	if _, err := a.b.DeleteWebhook(ctx, &tg.DeleteWebhookParams{}); err != nil {
		a.o.Log.Warn("telegram deleteWebhook", slog.String("err", redact(err)))
	}
	a.b.Start(ctx) // returns when ctx ends; updates already read sit in our queues
	a.Close()
	return nil
}

// Close stops taking updates and waits until those in hand are handled.
func (a *Adapter) Close() {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		for _, s := range a.shards {
			close(s)
		}
	}
	a.mu.Unlock()
	a.wg.Wait()
}

// WebhookHandler serves Telegram's webhook: it checks the secret token itself (401 on a wrong or missing
// one), limits the body, and answers 200 only after the update is handled (or 503 when shutting down, so
// Telegram sends it again).
func (a *Adapter) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if a.o.Secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(a.o.Secret)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.o.MaxBodyBytes))
		if err != nil {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		var u models.Update
		if err := json.Unmarshal(body, &u); err != nil {
			http.Error(w, "not an update", http.StatusBadRequest)
			return
		}
		j, ok := a.enqueue(r.Context(), &u, true)
		if !ok {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		if cb := j.answer; cb != nil {
			if text, pending := cb.claim(0, 0); pending { // the turn is over: nothing else sends it now
				b, err := json.Marshal(answerCallbackQueryParams{Method: "answerCallbackQuery", CallbackQueryID: cb.ID, Text: text})
				if err == nil {
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("Content-Length", strconv.Itoa(len(b)))
					w.WriteHeader(http.StatusOK)
					w.Write(b)
					a.o.Metrics.Out()
					return
				}
			}
		}
		w.WriteHeader(http.StatusOK)
	})
}

// SetWebhook registers url with Telegram.
func (a *Adapter) SetWebhook(ctx context.Context, url string) error {
	_, err := a.b.SetWebhook(ctx, &tg.SetWebhookParams{URL: url, SecretToken: a.o.Secret,
		AllowedUpdates: []string{"message", "edited_message", "callback_query"}})
	if err != nil {
		return fmt.Errorf("setWebhook: %s", redact(err))
	}
	return nil
}

// Commands are the bot's commands, described per language.
var Commands = []string{"start", "survey", "back", "skip", "stop", "lang", "privacy", "forget", "feedback", "help"}

// RegisterCommands sets the command menu in fi (also the default), sv and en.
func (a *Adapter) RegisterCommands(ctx context.Context) error {
	for i, lang := range locales.Languages {
		cmds := make([]models.BotCommand, len(Commands))
		for j, c := range Commands {
			cmds[j] = models.BotCommand{Command: c, Description: a.o.Catalog.T(lang, "tg_cmd_"+c)}
		}
		p := &tg.SetMyCommandsParams{Commands: cmds, LanguageCode: lang}
		if i == 0 {
			p.LanguageCode = "" // the default menu for every other language
		}
		if _, err := a.b.SetMyCommands(ctx, p); err != nil {
			return fmt.Errorf("setMyCommands %s: %s", lang, redact(err))
		}
	}
	return nil
}

func chatOf(u *models.Update) int64 {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.EditedMessage != nil:
		return u.EditedMessage.Chat.ID
	case u.CallbackQuery != nil:
		if m := u.CallbackQuery.Message.Message; m != nil {
			return m.Chat.ID
		}
		return u.CallbackQuery.From.ID
	}
	return 0
}

// enqueue puts the update on its chat's queue; with wait it returns after the update is handled (or ctx
// ended), and the job then holds what the webhook's answer may carry. It is false when closing.
func (a *Adapter) enqueue(ctx context.Context, u *models.Update, wait bool) (*job, bool) {
	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return nil, false
	}
	h := fnv.New32a()
	h.Write([]byte(strconv.FormatInt(chatOf(u), 10)))
	j := &job{upd: u, at: time.Now()}
	if wait {
		j.done = make(chan struct{})
	}
	a.shards[h.Sum32()%uint32(len(a.shards))] <- j
	a.mu.RUnlock()
	if wait {
		select {
		case <-j.done:
		case <-ctx.Done():
			// Gone before the update was handled: Telegram sends it again, and the redelivery (recognised,
			// changing nothing) answers the button press.
			return &job{}, true
		}
	}
	return j, true
}

func (a *Adapter) worker(q chan *job) {
	defer a.wg.Done()
	for j := range q {
		a.safeHandle(context.Background(), j, j.done != nil)
		if j.done != nil {
			close(j.done)
		}
	}
}

// safeHandle handles j's update. With inAnswer, an answer to a button press may be left pending in
// j.answer for the webhook's answer.
func (a *Adapter) safeHandle(ctx context.Context, j *job, inAnswer bool) {
	u := j.upd
	defer func() {
		if r := recover(); r != nil {
			a.o.Log.Error("panic while handling an update", slog.Int64("update_id", u.ID), slog.String("stack", string(debug.Stack())))
			a.apologise(ctx, u, j.answer)
			j.answer = nil
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, 55*time.Second) // under Telegram's 60 s webhook limit
	defer cancel()
	a.handle(ctx, j, inAnswer)
}

// apologise tells the person, after a panic, to try again: better than silence or a spinning button. A
// button press (its answer cb, nil if the turn had not made it) gets it as the answer's text, or, when the
// press was answered already, as a message.
func (a *Adapter) apologise(ctx context.Context, u *models.Update, cb *callbackAnswer) {
	defer func() { _ = recover() }()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second) // the handler's ctx has ended
	defer cancel()
	in, cbID, ok := input(u)
	if !ok || in.Kind == bot.KindGroup {
		return
	}
	text := a.o.Catalog.T(locales.Lang(in.Lang), "try_again")
	if cbID != "" {
		pending := cb == nil // not made yet: not answered
		if cb != nil {
			_, pending = cb.claim(0, 0) // the turn's timer and waits are over
		}
		if pending {
			a.answerCallback(ctx, cbID, text)
			return
		}
	}
	a.say(ctx, in.Chat, text)
}

// input turns an update into the engine's input; ok is false for updates the bot ignores.
func input(u *models.Update) (in bot.Input, cbID string, ok bool) {
	in = bot.Input{Channel: "telegram", EventID: strconv.FormatInt(u.ID, 10)}
	var m *models.Message
	switch {
	case u.Message != nil:
		m = u.Message
		in.Kind = bot.KindText
	case u.EditedMessage != nil:
		m = u.EditedMessage
		in.Kind = bot.KindEdited
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		in.Kind, in.Data, cbID = bot.KindChoice, q.Data, q.ID
		in.User, in.Lang = strconv.FormatInt(q.From.ID, 10), q.From.LanguageCode
		if qm := q.Message.Message; qm != nil {
			in.Chat, in.MsgID = strconv.FormatInt(qm.Chat.ID, 10), qm.ID
			if qm.Chat.Type != models.ChatTypePrivate {
				in.Kind = bot.KindGroup
			}
		} else {
			in.Chat = in.User
		}
		return in, cbID, true
	default:
		return in, "", false
	}
	if m.From == nil {
		return in, "", false
	}
	in.User, in.Lang = strconv.FormatInt(m.From.ID, 10), m.From.LanguageCode
	in.Chat, in.MsgID = strconv.FormatInt(m.Chat.ID, 10), m.ID
	switch {
	case m.Chat.Type != models.ChatTypePrivate:
		in.Kind = bot.KindGroup
	case in.Kind == bot.KindText && m.Text == "":
		in.Kind = bot.KindUnsupported // sticker, photo, voice, file, location, contact, poll...
	default:
		in.Text = m.Text
	}
	return in, "", true
}

func kindName(k bot.Kind) string {
	return [...]string{"text", "choice", "unsupported", "edited", "group"}[k]
}

// handle runs the engine on j's update and sends its replies. A button press's answer (j.answer) is made
// before the engine runs, and its timer started then (see callbackAnswer): a slow engine does not keep the
// button spinning. With inAnswer, the answer may be left pending for the webhook's answer.
func (a *Adapter) handle(ctx context.Context, j *job, inAnswer bool) {
	in, cbID, ok := input(j.upd)
	if !ok {
		return
	}
	a.o.Metrics.In(kindName(in.Kind))
	if in.Kind == bot.KindGroup {
		a.group(ctx, in, cbID)
		return
	}
	var cb *callbackAnswer
	if cbID != "" {
		cb = &callbackAnswer{ID: cbID, since: j.at, pending: true}
		j.answer = cb
		defer a.answerWhenLate(ctx, cb)() // the turn ends with the timer stopped, or its answer sent
	}
	start := time.Now()
	hctx, first := ctx, (*firstPlaces)(nil)
	if cbID == "" || inAnswer {
		// The turn's first send places ride with its commit, unless a button press's answer goes by a
		// request first (polling mode): places are asked just before they are used, never a request early.
		n := 1
		if pressEdits(in) {
			n = Lanes // the edit of the pressed message and the next question go together
		}
		first = a.firstPlaces(in.Chat, n)
		hctx = store.WithRider(ctx, first)
	}
	hctx, cancel := context.WithTimeout(hctx, storeWait)
	replies, err := a.o.Engine.Handle(hctx, in)
	cancel()
	a.o.Metrics.Handled(time.Since(start))
	if err != nil {
		a.o.Log.Warn("handle", slog.String("err", err.Error()), slog.String("kind", kindName(in.Kind)))
	}
	a.send(ctx, in, cb, replies, inAnswer, first)
}

// answerWhenLate starts cb's timer: once the press has waited a noticeable time, it sends the answer by a
// request if it is still pending then. stop stops the timer, or waits for the answer it is sending.
func (a *Adapter) answerWhenLate(ctx context.Context, cb *callbackAnswer) (stop func()) {
	fired := make(chan struct{})
	timer := time.AfterFunc(max(0, noticeable-time.Since(cb.since)), func() {
		defer close(fired)
		defer a.recoverGo("answering a button press")
		a.answerIfLate(ctx, cb, 0)
	})
	return func() {
		if !timer.Stop() {
			<-fired
		}
	}
}

// group says once per group that the bot talks only in private chats.
func (a *Adapter) group(ctx context.Context, in bot.Input, cbID string) {
	if cbID != "" {
		a.answerCallback(ctx, cbID, "")
	}
	key := a.o.Prefix + "{g:" + a.o.Hash(in.Chat) + "}"
	rctx, cancel := context.WithTimeout(ctx, limitWait)
	defer cancel()
	first, err := a.o.RDB.SetNX(rctx, key, 1, 30*24*time.Hour).Result()
	if err != nil || !first {
		return
	}
	lang := locales.Lang(in.Lang)
	a.say(ctx, in.Chat, a.o.Catalog.T(lang, "private_only"))
}

// outgoing is one request of a turn to the person's chat.
type outgoing struct {
	method   string // sendMessage, editMessageText or deleteMessages
	text     string
	buttons  [][]bot.Button
	msgID    int // editMessageText
	from, to int // deleteMessages
}

// limited says whether the request counts against Telegram's message limits. Deleting messages does not
// send one; answerCallbackQuery (not an outgoing at all) only stops the button's spinner.
func (o outgoing) limited() bool { return o.method != "deleteMessages" }

// recoverGo logs a panic in a goroutine of a turn (doing what), which would otherwise end the process: the
// person still gets the turn's other messages.
func (a *Adapter) recoverGo(doing string) {
	if r := recover(); r != nil {
		a.o.Log.Error("panic while "+doing, slog.String("stack", string(debug.Stack())))
	}
}

// pressEdits says whether a turn on in may edit the message whose button was pressed.
func pressEdits(in bot.Input) bool { return in.MsgID > 0 && in.Kind == bot.KindChoice }

// plan turns the engine's replies into the requests to the chat, in order (a long text is several messages).
func plan(in bot.Input, cbID string, replies []bot.Reply) []outgoing {
	var out []outgoing
	text := func(t string, buttons [][]bot.Button) {
		parts := split(t)
		for i, p := range parts {
			o := outgoing{method: "sendMessage", text: p}
			if i == len(parts)-1 {
				o.buttons = buttons
			}
			out = append(out, o)
		}
	}
	for _, r := range replies {
		switch r.Kind {
		case bot.Message, bot.Help:
			text(r.Text, r.Buttons)
		case bot.EditAsked:
			if pressEdits(in) {
				out = append(out, outgoing{method: "editMessageText", text: split(r.Text)[0], buttons: r.Buttons, msgID: in.MsgID})
			}
		case bot.Delete:
			out = append(out, outgoing{method: "deleteMessages", from: r.From, to: r.To})
		case bot.Answer:
			if cbID == "" && r.Text != "" {
				text(r.Text, nil)
			}
		}
	}
	return out
}

// send gives the engine's notice for the button press cb (nil for a message) to its answer, and sends the
// replies to the chat, in order. A press still unanswered when the engine returned gets the notice as its
// answer's text: in polling mode the answer goes by a request at once, before the messages; with inAnswer it
// is left pending for the webhook's answer, unless the turn keeps the person waiting a noticeable time (the
// timer of Adapter.answerWhenLate, or a wait: see Adapter.answerIfLate). A press answered already, while the
// engine ran, gets the notice as a message instead, in its place among the turn's messages (see plan).
func (a *Adapter) send(ctx context.Context, in bot.Input, cb *callbackAnswer, replies []bot.Reply, inAnswer bool, first *firstPlaces) {
	cbID := ""
	if cb != nil {
		notice := ""
		for _, r := range replies {
			if r.Kind == bot.Answer {
				notice = r.Text
				break
			}
		}
		if cb.settle(notice) {
			cbID = cb.ID // the notice goes with the answer, not as a message
			if !inAnswer {
				if text, ok := cb.claim(0, 0); ok {
					a.answerCallback(ctx, cb.ID, text)
				}
			}
		}
	}
	out := plan(in, cbID, replies)
	n, pair := 0, -1
	for i, o := range out {
		if o.limited() {
			if n == 0 && o.method == "editMessageText" && i+1 < len(out) && out[i+1].method == "sendMessage" {
				pair = i
			}
			n++
		}
	}
	budget := a.chatBudget(in.Chat, n)
	budget.cb, budget.first, budget.pair = cb, first, pair >= 0
	var edits sync.WaitGroup
	defer edits.Wait()
	for i, o := range out {
		switch o.method {
		case "sendMessage":
			a.sendPart(ctx, budget, in.Chat, o.text, o.buttons)
		case "editMessageText":
			if i != pair {
				a.edit(ctx, budget, in.Chat, o.msgID, o.text, o.buttons)
				continue
			}
			// The edit echoes the press; it goes alongside the next question, which need not wait for it
			// (their global places are in different lanes). Its retries after a 429 ask for their own.
			if !a.allow(ctx, budget, true) {
				return
			}
			own := &chatBudget{chat: in.Chat, cb: cb, open: budget.open, taken: true}
			edits.Go(func() {
				defer a.recoverGo("editing a pressed message")
				a.edit(ctx, own, in.Chat, o.msgID, o.text, o.buttons)
			})
		case "deleteMessages":
			a.delete(ctx, in.Chat, o.from, o.to)
		}
	}
}

// inlineKeyboard is Telegram's InlineKeyboardMarkup with callback buttons only. (The library's button type
// always sends an empty copy_text, which a button with callback_data must not have.)
type inlineKeyboard struct {
	InlineKeyboard [][]callbackButton `json:"inline_keyboard"`
}

type callbackButton struct {
	Text string `json:"text"`
	Data string `json:"callback_data"`
}

func keyboard(rows [][]bot.Button) *inlineKeyboard {
	if len(rows) == 0 {
		return nil
	}
	kb := &inlineKeyboard{InlineKeyboard: make([][]callbackButton, len(rows))}
	for i, row := range rows {
		for _, b := range row {
			data := b.Data
			if len(data) > 64 {
				data = data[:64] // never happens for the engine's data; Telegram would refuse the message
			}
			kb.InlineKeyboard[i] = append(kb.InlineKeyboard[i], callbackButton{Text: b.Label, Data: data})
		}
	}
	return kb
}

// MaxText is Telegram's limit for one message.
const MaxText = 4096

// split cuts text into parts of at most MaxText characters, at line ends or spaces when it can.
func split(text string) []string {
	var parts []string
	for utf8.RuneCountInString(text) > MaxText {
		r := []rune(text)
		cut := MaxText
		for i := MaxText; i > MaxText/2; i-- {
			if r[i] == '\n' || r[i] == ' ' {
				cut = i
				break
			}
		}
		parts = append(parts, string(r[:cut]))
		text = string(r[cut:])
		if text != "" && (text[0] == '\n' || text[0] == ' ') {
			text = text[1:]
		}
	}
	return append(parts, text)
}

// say sends text to chat outside a turn's plan, within the chat's limit.
func (a *Adapter) say(ctx context.Context, chat, text string) {
	parts := split(text)
	budget := a.chatBudget(chat, len(parts))
	for _, p := range parts {
		a.sendPart(ctx, budget, chat, p, nil)
	}
}

// sendPart sends one message of at most MaxText characters, within budget (the chat's limit).
func (a *Adapter) sendPart(ctx context.Context, budget *chatBudget, chat, text string, buttons [][]bot.Button) {
	params := &sendMessageParams{ChatID: chat, Text: text, ReplyMarkup: keyboard(buttons)}
	a.do(ctx, budget, "sendMessage", func() error { return a.api.call(ctx, "sendMessage", params) })
}

// edit changes the text and buttons of message msgID.
func (a *Adapter) edit(ctx context.Context, budget *chatBudget, chat string, msgID int, text string, buttons [][]bot.Button) {
	params := &editMessageTextParams{ChatID: chat, MessageID: msgID, Text: text, ReplyMarkup: keyboard(buttons)}
	a.do(ctx, budget, "editMessageText", func() error { return a.api.call(ctx, "editMessageText", params) })
}

func (a *Adapter) delete(ctx context.Context, chat string, from, to int) {
	if to-from > 1000 {
		from = to - 1000
	}
	for lo := from; lo < to; lo += 100 {
		ids := make([]int, 0, 100)
		for id := lo; id < to && id < lo+100; id++ {
			ids = append(ids, id)
		}
		params := &deleteMessagesParams{ChatID: chat, MessageIDs: ids}
		a.do(ctx, nil, "deleteMessages", func() error { return a.api.call(ctx, "deleteMessages", params) })
	}
}

func (a *Adapter) answerCallback(ctx context.Context, id, text string) {
	params := &answerCallbackQueryParams{CallbackQueryID: id, Text: text}
	a.do(ctx, nil, "answerCallbackQuery", func() error { return a.api.call(ctx, "answerCallbackQuery", params) })
}

// do calls f, and retries it after a 429. A message (budget not nil) first takes its place in the chat's
// budget and then, before every attempt, in the global limit (Telegram's retry_after, at least a second,
// also covers the chat's limit); with budget.taken, the first attempt's were taken already. Deleting messages and
// answering a button press are not messages: Telegram's limits are on messages sent, and a callback answer
// only stops the button's spinner.
func (a *Adapter) do(ctx context.Context, budget *chatBudget, method string, f func() error) {
	for attempt := 0; ; attempt++ {
		if budget != nil && !(budget.taken && attempt == 0) && !a.allow(ctx, budget, attempt == 0) {
			return
		}
		err := f()
		if err == nil {
			a.o.Metrics.Out()
			return
		}
		var tm *tg.TooManyRequestsError
		if errors.As(err, &tm) && attempt < a.o.MaxRetries {
			a.o.Metrics.SendError("429")
			if !a.pause(ctx, budget, time.Duration(max(tm.RetryAfter, 1))*time.Second) {
				return
			}
			continue
		}
		a.o.Metrics.SendError(method)
		a.o.Log.Warn("telegram send failed", slog.String("method", method), slog.String("err", redact(err)))
		return
	}
}

// A person waits for Redis at most storeWait for the engine's turn and limitWait for each round trip of the
// send limits (go-redis bounds its reads and dials by the context's deadline: store.ParseURL). Redis answers
// in a millisecond or so; one that does not answer at all (its host gone, a network cut, a failover) would
// otherwise hold each turn for go-redis's read timeout on every try, about 40 s before the "try again". A
// turn that runs out of time is told to try again (the engine's answer when the store is unavailable), and a
// limit that cannot be asked lets the message go (fail open: Telegram's 429s are still honoured).
const (
	storeWait = 2 * time.Second
	limitWait = 500 * time.Millisecond
)

// noticeable is how long a button press may wait for its answer, counted from its arrival, whatever holds
// it up (the chat's queue, the engine, a limit, the Bot API): a turn of an edit and a question takes its
// commit's and one Bot API call's time (the two go together), often tens of milliseconds, and its answer
// then goes in the webhook's answer (or, polling, by a request after the engine); a button that spins
// longer than a quarter of a second is noticed, so by then the answer goes by a request, without text if
// the engine has not returned yet (see callbackAnswer).
const noticeable = 250 * time.Millisecond

// answerIfLate sends the turn's answer cb (may be nil) to a button press by a request, if it is still
// pending and the press, after a further wait of d, would have waited a noticeable time.
func (a *Adapter) answerIfLate(ctx context.Context, cb *callbackAnswer, d time.Duration) {
	if cb == nil {
		return
	}
	if text, ok := cb.claim(noticeable, d); ok {
		a.answerCallback(ctx, cb.ID, text)
	}
}

// pause waits d like sleep, first answering a pending button press if the wait would make it late.
func (a *Adapter) pause(ctx context.Context, b *chatBudget, d time.Duration) bool {
	if b != nil {
		a.answerIfLate(ctx, b.cb, d)
	}
	return sleep(ctx, d)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
