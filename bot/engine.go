package bot

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/period"
)

// MaxText is the longest message the engine reads, in characters (Telegram's own limit is 4096).
const MaxText = 4000

// maxEvents is how many recent event ids a session remembers for deduplication.
const maxEvents = 8

// deleteWindow is how long a chat's messages can be deleted (Telegram: 48 h); /forget counts on
// deleteWindow less an hour as sure.
const deleteWindow = 48 * time.Hour

// anchorEvery is how far apart in time the session's message-id anchors are: at most
// deleteWindow/anchorEvery + 2 of them are kept.
const anchorEvery = 12 * time.Hour

// forgetAhead is how many message ids after the pressed or sent one a /forget also deletes.
const forgetAhead = 40

// tombstoneTTL is how long a forgotten session keeps only its recent event ids, so that a redelivered
// update (Telegram retries for up to 24 h) is still recognised.
const tombstoneTTL = 24 * time.Hour

// Options configure an Engine.
type Options struct {
	Flows         *flows.Set
	Units         []config.Unit
	Catalog       *locales.Catalog
	Secret        []byte        // pseudonym secret
	SessionTTL    time.Duration // idle time after which a conversation starts over
	CountOnce     period.Kind   // a person's survey counts once per flow and this period
	Help          []config.Contact
	InviteLink    string        // deep link prefix, e.g. https://t.me/palaute_bot?start=
	InviteTTL     time.Duration // lifetime of the invitation a young person passes on
	RetentionDays int           // told in /privacy

	Store   Store
	Clock   Clock
	Rand    io.Reader // nil: crypto/rand
	Coder   Coder     // nil: no coding or crisis detection
	Invites Invites   // nil: invitations unavailable
	Observe Observer  // nil: nobody is told
	Log     *slog.Logger
}

// Engine handles inputs. It is safe for concurrent use; all state is in the Store.
type Engine struct {
	o     Options
	fresh FreshLoader // the store, when it can read its own copy and say how it publishes (store.Store)
}

// New checks the options and returns an engine.
func New(o Options) (*Engine, error) {
	switch {
	case o.Flows == nil:
		return nil, errors.New("bot: no flows")
	case o.Catalog == nil:
		return nil, errors.New("bot: no locales")
	case o.Store == nil:
		return nil, errors.New("bot: no store")
	case len(o.Secret) < 16:
		return nil, errors.New("bot: pseudonym secret must be at least 16 bytes")
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Observe == nil {
		o.Observe = nopObserver{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 72 * time.Hour
	}
	if o.CountOnce == "" {
		o.CountOnce = period.Month
	}
	if o.RetentionDays <= 0 {
		o.RetentionDays = 400
	}
	if o.InviteTTL <= 0 {
		o.InviteTTL = 30 * 24 * time.Hour
	}
	for _, a := range flows.Audiences {
		if _, ok := o.Flows.ForAudience(a); !ok {
			return nil, fmt.Errorf("bot: no flow for audience %s", a)
		}
	}
	fresh, _ := o.Store.(FreshLoader)
	return &Engine{o: o, fresh: fresh}, nil
}

type nopObserver struct{}

func (nopObserver) Survey(string, string) {}
func (nopObserver) AlertMissed(string)    {}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// PID is the pseudonym of a channel user: HMAC-SHA256(secret, channel:user), 128 bits in base64url.
func (e *Engine) PID(channel, user string) string {
	m := hmac.New(sha256.New, e.o.Secret)
	m.Write([]byte(channel + ":" + user))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:22]
}

// Handle handles one input and returns what to show. A redelivered input returns nothing and changes
// nothing. When the store is unreachable the person gets a localized "try again" reply (after the help
// contacts, for a message that suggests danger) and the error wraps ErrUnavailable.
func (e *Engine) Handle(ctx context.Context, in Input) ([]Reply, error) {
	pid := e.PID(in.Channel, in.User)
	fl := e.fresh
	var fresh *Session // read from the store after a turn on a remembered session
	var freshMarks Marks
	haveFresh := false
	// lost: the last commit lost its race; the store gave back what Redis holds with the refusal, and a load
	// now answers with it, as fresh as a read.
	lost := false
	for attempt := 0; ; attempt++ {
		s, marks, err := fresh, freshMarks, error(nil)
		if !haveFresh {
			load := e.o.Store.Load
			if fl != nil && attempt == maxAttempts-1 {
				load = fl.LoadFresh // the last try acts on the store's own copy, with no check after it
			}
			if s, marks, err = load(ctx, pid); err != nil {
				return e.unavailable(in, "", err), fmt.Errorf("load session: %w: %w", ErrUnavailable, err)
			}
		}
		haveFresh = false
		t := e.turn(in, s, marks)
		t.run(ctx)
		// A remembered session is checked by the commit's compare-and-set. A turn that writes nothing has
		// no commit, and on a Redis Cluster what the turn publishes to its unit (another slot) is not held
		// back by it. For those the store's own copy is read first, and the turn is run again only if it
		// differs (a turn may have used an invitation). (A Mark is written by the compare-and-set itself.)
		unchecked := t.commit != nil && len(t.commit.Publish) > 0 && fl != nil && !fl.PublishesChecked()
		if fl != nil && s != nil && s.Cached && !lost && (t.commit == nil || unchecked) {
			if fresh, freshMarks, err = fl.LoadFresh(ctx, pid); err != nil {
				return e.unavailable(in, "", err), fmt.Errorf("load session: %w: %w", ErrUnavailable, err)
			}
			if fresh == nil || fresh.Version != s.Version {
				haveFresh = true
				continue
			}
		}
		lost = false
		if t.commit == nil {
			return t.out, nil
		}
		t.commit.PID = pid
		err = e.o.Store.Commit(ctx, *t.commit)
		if errors.Is(err, ErrConflict) && attempt < maxAttempts-1 {
			lost = true
			continue
		}
		if err != nil {
			return e.unavailable(in, t.s.Lang, err), fmt.Errorf("commit session: %w: %w", ErrUnavailable, err)
		}
		for _, ev := range t.events {
			e.o.Observe.Survey(ev[0], ev[1])
		}
		return t.out, nil
	}
}

// maxAttempts is how often Handle runs a turn (after conflicts, or a remembered session that was out of date).
const maxAttempts = 5

// unavailable is the answer in lang when the store cannot be reached (err): try again in a moment. A message that
// suggests danger gets the help contacts first all the same (they need no store); when no staff alert can
// have been stored, that is logged (class only) and counted. (After lost races the alert may have been
// published, unless the store checks publications against the session.)
func (e *Engine) unavailable(in Input, lang string, err error) []Reply {
	if lang == "" {
		lang = locales.Lang(in.Lang)
	}
	if in.Kind == KindChoice {
		return []Reply{{Kind: Answer, Text: e.o.Catalog.T(lang, "try_again")}}
	}
	var out []Reply
	if in.Kind == KindText && e.o.Coder != nil {
		if class, ok := e.o.Coder.Crisis(in.Text); ok {
			out = append(out, Reply{Kind: Help, Text: e.helpText(lang)})
			if !errors.Is(err, ErrConflict) || e.fresh != nil && e.fresh.PublishesChecked() {
				e.o.Log.Warn("a message suggesting danger got the help contacts, but no staff alert: the store is unavailable",
					slog.String("class", class))
				e.o.Observe.AlertMissed(class)
			}
		}
	}
	return append(out, Reply{Text: e.o.Catalog.T(lang, "try_again")})
}

// turn is the handling of one input.
type turn struct {
	e      *Engine
	in     Input
	s      *Session
	prev   int64
	marks  Marks
	now    time.Time
	out    []Reply
	commit *Commit
	dirty  bool
	forgot bool        // /forget: keep only the event ids
	asked  bool        // the contact question was the last thing the person was asked (Session.Asked)
	paused bool        // after help contacts the survey waits behind a button, and offers nothing more
	events [][2]string // survey events to report once committed: flow, event
}

func (e *Engine) turn(in Input, s *Session, marks Marks) *turn {
	t := &turn{e: e, in: in, s: s, marks: marks, now: e.o.Clock.Now()}
	if s == nil {
		t.s = &Session{}
	} else {
		t.prev = s.Version
	}
	if t.s.Lang == "" { // new, or forgotten
		t.s.Lang = locales.Lang(in.Lang)
	}
	if t.marks == nil {
		t.marks = Marks{}
	}
	return t
}

func (t *turn) T(id string, data ...locales.Data) string {
	return t.e.o.Catalog.T(t.s.Lang, id, data...)
}

func (t *turn) say(text string, buttons ...[]Button) {
	t.out = append(t.out, Reply{Kind: Message, Text: text, Buttons: buttons})
}

func (t *turn) notice(id string) {
	if t.in.Kind == KindChoice {
		t.out = append(t.out, Reply{Kind: Answer, Text: t.T(id)})
		return
	}
	t.say(t.T(id))
}

// save marks the session to be written with this turn.
func (t *turn) save() { t.dirty = true }

func (t *turn) run(ctx context.Context) {
	s := t.s
	if t.in.EventID != "" && slices.Contains(s.Events, t.in.EventID) {
		return // redelivered: already handled
	}
	t.asked, s.Asked = s.Asked, false // kept false by a turn that saves; asked again by crisis
	switch t.in.Kind {
	case KindUnsupported:
		t.say(t.T("unsupported"))
		t.reask()
		return
	case KindEdited:
		t.say(t.T("edited"))
		return
	case KindGroup:
		t.say(t.T("private_only"))
		return
	}
	if t.in.Kind == KindText {
		if !utf8.ValidString(t.in.Text) {
			t.say(t.T("bad_encoding"))
			return
		}
		if n := utf8.RuneCountInString(t.in.Text); n > MaxText {
			t.say(t.T("too_long", locales.Data{"Max": MaxText, "N": n}))
			return
		}
	}
	if s.Seen != 0 && t.now.Sub(time.Unix(s.Seen, 0)) > t.e.o.SessionTTL && s.State != Idle && s.State != Done {
		t.resetSurvey()
		s.State = Idle
		t.say(t.T("expired"))
		t.save()
	}
	switch t.in.Kind {
	case KindChoice:
		t.choice(ctx)
	case KindText:
		text := strings.TrimSpace(t.in.Text)
		if strings.HasPrefix(text, "/") {
			t.command(ctx, text)
		} else {
			t.text(text)
		}
	}
	t.finish()
}

// finish turns a dirty session into a commit.
func (t *turn) finish() {
	anchor := t.anchorDue()
	if anchor {
		t.save() // once in anchorEvery, so that /forget can find this message
	}
	if !t.dirty && t.commit == nil {
		return
	}
	if t.commit == nil {
		t.commit = &Commit{}
	}
	c := t.commit
	c.Prev = t.prev
	s := t.s
	if t.in.EventID != "" {
		s.Events = append(s.Events, t.in.EventID)
		if len(s.Events) > maxEvents {
			s.Events = s.Events[len(s.Events)-maxEvents:]
		}
	}
	if t.forgot {
		// Nothing but the event ids is kept, and only for Telegram's redelivery window.
		c.Session, c.TTL = &Session{Events: s.Events}, tombstoneTTL
		return
	}
	s.Seen = t.now.Unix()
	if t.in.Chat != "" {
		s.Chat = t.in.Chat
	}
	if anchor {
		t.anchor()
	}
	c.Session = s
	c.TTL = t.e.o.SessionTTL + 48*time.Hour
}

// anchor remembers the id of the message the person sent, and forgets anchors whose whole span is too old
// to delete.
func (t *turn) anchor() {
	s := t.s
	now := t.now.Unix()
	s.Anchors = append(s.Anchors, [2]int64{int64(t.in.MsgID), now})
	old := now - int64(deleteWindow/time.Second)
	for len(s.Anchors) > 1 && s.Anchors[1][1] < old {
		s.Anchors = s.Anchors[1:]
	}
}

// ---- commands ----

var payloadRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (t *turn) command(ctx context.Context, text string) {
	name, arg, _ := strings.Cut(text[1:], " ")
	name, _, _ = strings.Cut(name, "@") // /start@palaute_bot in group-style clients
	name = strings.ToLower(name)
	arg = strings.TrimSpace(arg)
	switch name {
	case "start":
		t.start(ctx, arg)
	case "help", "apua", "hjalp", "hjälp":
		t.say(t.T("help"))
	case "lang", "kieli", "sprak", "språk", "language":
		t.lang(arg)
	case "back", "takaisin", "tillbaka":
		t.back()
	case "skip", "ohita", "hoppa":
		t.skip()
	case "stop", "lopeta", "sluta":
		t.stop()
	case "privacy", "tietosuoja", "integritet":
		t.say(t.T("privacy", locales.Data{"Days": t.e.o.RetentionDays}))
	case "forget", "unohda", "poista", "glom", "glöm":
		t.forget()
	case "survey", "kysely", "enkat", "enkät":
		t.surveyCommand()
	case "feedback", "palaute", "respons":
		if arg == "" {
			t.say(t.T("feedback_prompt"))
			return
		}
		if t.crisis(arg) {
			t.reask() // help first; the text is not passed on; a survey goes on where it was
			return
		}
		t.spontaneous(arg)
	default:
		t.say(t.T("unknown_command", locales.Data{"Command": "/" + name}))
		t.say(t.T("help"))
	}
}

func (t *turn) start(ctx context.Context, payload string) {
	s := t.s
	switch {
	case payload == "":
		if s.State == Asking {
			t.say(t.T("continuing"))
			t.ask()
			return
		}
		if s.Seen == 0 || s.Lang == "" {
			s.State = ChooseLang
			t.save()
			t.say(t.T("welcome"), langButtons())
			return
		}
		t.say(t.T("welcome_back"))
		t.surveyCommand()
		return
	case !payloadRe.MatchString(payload):
		t.say(t.T("link_broken"))
		return
	}
	first := s.Seen == 0
	switch {
	case strings.HasPrefix(payload, "u-"):
		u, ok := t.unitByCode(payload[2:])
		if !ok {
			t.say(t.T("unit_unknown"))
			t.askUnit()
			return
		}
		if first {
			t.say(t.T("hello"))
		}
		t.resetSurvey()
		s.Unit, s.Audience = u.ID, flows.Youth
		t.startSurvey("")
	case strings.HasPrefix(payload, "i-"):
		t.redeem(ctx, payload[2:], first)
	default:
		t.say(t.T("link_broken"))
	}
}

func (t *turn) redeem(ctx context.Context, token string, first bool) {
	if t.e.o.Invites == nil {
		t.say(t.T("invite_unavailable"))
		return
	}
	inv, err := t.e.o.Invites.Redeem(ctx, token, t.e.PID("invite", t.in.Channel+":"+t.in.User))
	switch {
	case err == nil:
	case errors.Is(err, ErrInviteExpired):
		t.say(t.T("invite_expired"))
		return
	case errors.Is(err, ErrInviteUsedUp):
		t.say(t.T("invite_used"))
		return
	case errors.Is(err, ErrTooManyTries):
		t.say(t.T("invite_too_many"))
		return
	case errors.Is(err, ErrInviteUnknown), errors.Is(err, ErrInviteMalformed):
		t.say(t.T("invite_unknown"))
		return
	default:
		t.e.o.Log.LogAttrs(ctx, slog.LevelError, "redeem invitation", slog.String("err", err.Error()))
		t.say(t.T("try_again"))
		return
	}
	if _, ok := t.unit(inv.Unit); !ok || !inv.Audience.Valid() {
		t.say(t.T("invite_unknown"))
		return
	}
	if first {
		t.say(t.T("hello"))
	}
	t.resetSurvey()
	t.s.Unit, t.s.Audience = inv.Unit, inv.Audience
	t.startSurvey(inv.Flow)
}

func (t *turn) lang(arg string) {
	arg = strings.ToLower(arg)
	if slices.Contains(locales.Languages, arg) {
		t.setLang(arg)
		return
	}
	t.say(t.T("choose_lang"), langButtons())
}

func (t *turn) setLang(l string) {
	s := t.s
	s.Lang = l
	t.save()
	t.say(t.T("lang_set"))
	switch s.State {
	case ChooseLang:
		s.State = Idle
		if s.Unit == "" {
			t.askUnit()
			return
		}
		t.startSurvey(s.Flow)
	case Asking:
		t.ask()
	case ChooseUnit:
		t.askUnit()
	}
}

func langButtons() []Button {
	return []Button{{"Suomi", "l.fi"}, {"Svenska", "l.sv"}, {"English", "l.en"}}
}

func (t *turn) back() {
	s := t.s
	f, ok := t.flow()
	if s.State != Asking || !ok {
		t.say(t.T("nothing_to_go_back_to"))
		return
	}
	p := f.Prev(s.Step, s.Answers)
	if p < 0 {
		t.say(t.T("first_question"))
		t.ask()
		return
	}
	if q, ok := t.current(); ok && t.in.Kind == KindChoice {
		// The question left loses its buttons, so that only the question asked again has live ones.
		t.out = append(t.out, Reply{Kind: EditAsked, Text: q.Text.In(s.Lang) + "\n" + t.T("btn_back")})
	}
	s.Step, s.Picks = p, nil
	if q := f.Questions[p]; q.Type == flows.Multi && s.Answers[q.ID] != "" {
		s.Picks = strings.Split(s.Answers[q.ID], ",")
	}
	t.save()
	t.ask()
}

func (t *turn) skip() {
	q, ok := t.current()
	if !ok {
		t.say(t.T("nothing_to_skip"))
		return
	}
	if q.Required {
		t.notice("required")
		t.ask()
		return
	}
	t.answer(q, "")
}

func (t *turn) stop() {
	if t.s.State == ChooseUnit && t.s.Pending != "" {
		t.s.State, t.s.Pending = Idle, ""
		t.save()
		t.say(t.T("feedback_not_sent"))
		return
	}
	if t.s.State != Asking {
		t.say(t.T("nothing_to_stop"))
		return
	}
	t.resetSurvey()
	t.s.State = Idle
	t.save()
	t.say(t.T("stopped"), []Button{{t.T("btn_survey"), "s.go"}})
}

// anchorDue reports whether this message is the first the person sent in anchorEvery. (A pressed button's
// id is not used: that message may be old.)
func (t *turn) anchorDue() bool {
	if t.in.MsgID <= 0 || t.in.Kind != KindText || t.forgot {
		return false
	}
	n := len(t.s.Anchors)
	return n == 0 || t.now.Unix()-t.s.Anchors[n-1][1] >= int64(anchorEvery/time.Second)
}

// forget deletes the chat's messages of the last 48 hours and clears the session. Message ids of a private
// chat grow by one with every message of either side, so the anchors give the ranges: from the oldest anchor
// surely inside the window (sent first), then the span before it that may be partly inside (sent second,
// so that an error there cannot keep the sure range from being deleted).
func (t *turn) forget() {
	to := t.in.MsgID
	if to > 0 {
		sure := int64(to)
		maybe := int64(0)
		limit := t.now.Add(-deleteWindow + time.Hour).Unix()
		for i, a := range t.s.Anchors {
			if a[1] >= limit && a[0] < sure {
				sure = a[0]
				if i > 0 {
					maybe = t.s.Anchors[i-1][0]
				}
				break
			}
			maybe = a[0]
		}
		// The bot's own messages after this one have higher ids; ids that do not exist are skipped.
		t.out = append(t.out, Reply{Kind: Delete, From: int(sure), To: to + forgetAhead})
		if maybe > 0 && maybe < sure {
			t.out = append(t.out, Reply{Kind: Delete, From: int(maybe), To: int(sure)})
		}
	}
	t.resetSurvey() // an open survey counts as abandoned
	t.say(t.T("forgotten"))
	t.forgot = true
	t.save()
	// Answers of this period stay counted once, but whoever holds the phone next must not read "you have
	// already answered" from a chat that was wiped: a mark says so until the period ends.
	p := period.Of(t.e.o.CountOnce, t.now)
	for m := range t.marks {
		if strings.HasSuffix(m, ":"+p.String()) && !strings.HasPrefix(m, forgotMark) {
			t.commit = &Commit{Mark: forgotMark + p.String(), MarkTTL: p.End().Sub(t.now) + 24*time.Hour}
			break
		}
	}
}

// forgotMark (with the period) marks a person who wiped the chat after being counted in that period.
const forgotMark = "forgot:"

// counted says whether the person's answers to flow f were counted before in this period, and whether to
// say so: not after they wiped the chat (see forget).
func (t *turn) counted(f string) (counted, say bool) {
	p := period.Of(t.e.o.CountOnce, t.now).String()
	counted = t.marks[f+":"+p]
	return counted, counted && !t.marks[forgotMark+p]
}

func (t *turn) surveyCommand() {
	s := t.s
	if s.State == Asking {
		t.say(t.T("continuing"))
		t.ask()
		return
	}
	if s.Unit == "" {
		t.askUnit()
		return
	}
	if s.Audience == "" {
		s.Audience = flows.Youth
	}
	t.resetSurvey()
	t.startSurvey("")
}

// ---- choices (button presses) ----

func (t *turn) choice(ctx context.Context) {
	s := t.s
	kind, rest, _ := strings.Cut(t.in.Data, ".")
	switch kind {
	case "l":
		if !slices.Contains(locales.Languages, rest) {
			t.notice("stale")
			return
		}
		t.out = append(t.out, Reply{Kind: EditAsked, Text: t.e.o.Catalog.T(rest, "lang_name")})
		t.setLang(rest)
	case "u":
		if s.State != ChooseUnit {
			t.notice("stale")
			return
		}
		if rest == NoUnit && s.Pending != "" {
			t.out = append(t.out, Reply{Kind: EditAsked, Text: t.T("btn_unit_none")})
			text := s.Pending
			s.State, s.Pending = Idle, ""
			t.feedback(NoUnit, text)
			return
		}
		u, ok := t.unit(rest)
		if !ok {
			t.notice("stale")
			return
		}
		s.Unit = u.ID
		t.out = append(t.out, Reply{Kind: EditAsked, Text: t.T("unit_chosen", locales.Data{"Unit": u.Name(s.Lang)})})
		s.State = Idle
		t.save()
		if s.Pending != "" {
			text := s.Pending
			s.Pending = ""
			t.spontaneous(text)
			return
		}
		if s.Audience == "" {
			s.Audience = flows.Youth
		}
		t.resetSurvey()
		t.startSurvey("")
	case "s":
		switch rest {
		case "go":
			t.surveyCommand()
		case "inv":
			t.inviteSomeone(ctx)
		case "no":
			t.out = append(t.out, Reply{Kind: EditAsked, Text: t.T("ok")})
		default:
			t.notice("stale")
		}
	case "f":
		t.forget()
	case "x":
		t.crisisAnswer(rest)
	default:
		t.surveyChoice()
	}
}

// surveyChoice handles "<run>.<step>.<value>".
func (t *turn) surveyChoice() {
	s := t.s
	parts := strings.SplitN(t.in.Data, ".", 3)
	if len(parts) != 3 || s.State != Asking || parts[0] != shortRun(s.Run) || parts[1] != strconv.Itoa(s.Step) {
		if s.State == Idle && s.Seen == 0 {
			t.say(t.T("expired"))
			t.surveyCommand()
			return
		}
		t.notice("stale")
		t.mend(parts)
		return
	}
	q, _ := t.current()
	v := parts[2]
	switch {
	case v == "_skip":
		t.skip()
	case v == "_back":
		t.back()
	case q.Type == flows.Multi && v == "_done":
		if len(s.Picks) == 0 {
			if q.Required {
				t.notice("pick_one")
				return
			}
			t.answer(q, "")
			return
		}
		t.answer(q, strings.Join(s.Picks, ","))
	case q.Type == flows.Multi && q.Valid(v):
		if i := slices.Index(s.Picks, v); i >= 0 {
			s.Picks = slices.Delete(s.Picks, i, i+1)
		} else {
			s.Picks = append(s.Picks, v)
		}
		order := q.Values()
		slices.SortFunc(s.Picks, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
		t.save()
		t.out = append(t.out, Reply{Kind: EditAsked, Text: t.questionText(q), Buttons: t.buttons(q)})
	case q.Valid(v):
		t.answer(q, v)
	default:
		t.notice("stale")
	}
}

// ---- free text ----

func (t *turn) text(text string) {
	s := t.s
	if text == "" {
		t.reask()
		return
	}
	if v, ok := yesNo(text); ok && s.Crisis != "" && t.asked && t.now.Sub(time.Unix(s.Seen, 0)) < askedWindow {
		t.crisisAnswer(v) // typed instead of pressed, as the next message
		t.paused = true
		t.reask()
		return
	}
	crisis := t.crisis(text)
	switch s.State {
	case Asking:
		q, _ := t.current()
		switch q.Type {
		case flows.Text:
			if n := utf8.RuneCountInString(text); n > q.MaxLen {
				t.say(t.T("answer_too_long", locales.Data{"Max": q.MaxLen, "N": n}))
				return
			}
			t.answer(q, text)
		case flows.Scale, flows.NPS:
			if q.Valid(text) {
				t.answer(q, text)
				return
			}
			fallthrough
		default:
			if !crisis {
				t.say(t.T("pick_button"))
			}
			t.ask() // after help contacts too: the survey goes on where it was
		}
	case ChooseLang:
		t.say(t.T("choose_lang"), langButtons())
	case ChooseUnit:
		if crisis {
			return // help and the contact question are the answer: the text is not kept or passed on
		}
		if s.Pending != "" {
			t.say(t.T("pick_unit_first"))
			t.askUnit()
			return
		}
		s.Pending = text
		t.save()
		t.askUnit()
	default:
		if crisis {
			return // the urgent alert carries no text: the message is not routed as feedback either
		}
		if greeting(text) { // "moi" is not feedback: say what can be done here
			t.say(t.T("greeting_reply"), []Button{{t.T("btn_survey"), "s.go"}})
			return
		}
		t.spontaneous(text)
	}
}

// greeting says whether a message is only a greeting (fi, sv, en), with punctuation or emoji at most.
func greeting(text string) bool {
	w := strings.ToLower(strings.TrimRightFunc(text, func(r rune) bool { return !unicode.IsLetter(r) }))
	switch w {
	case "moi", "moikka", "moro", "hei", "heippa", "heissan", "terve", "tere", "hej", "hejsan", "hallå", "tjena", "hi", "hello", "hey", "hiya", "yo":
		return true
	}
	return false
}

// crisis answers a message that suggests danger with the help contacts FIRST, asks whether a worker may
// get in touch, and publishes an urgent alert that carries no identity and no text.
func (t *turn) crisis(text string) bool {
	if t.e.o.Coder == nil {
		return false
	}
	class, ok := t.e.o.Coder.Crisis(text)
	if !ok {
		return false
	}
	t.out = slices.Insert(t.out, 0, Reply{Kind: Help, Text: t.e.helpText(t.s.Lang)})
	t.say(t.T("crisis_contact_q"), []Button{{t.T("yes"), "x.y"}, {t.T("no"), "x.n"}})
	t.s.Crisis, t.s.Asked, t.paused = class, true, true
	t.save()
	t.publishAlert(class, "")
	return true
}

// helpText is the help contacts in lang.
func (e *Engine) helpText(lang string) string {
	var b strings.Builder
	b.WriteString(e.o.Catalog.T(lang, "crisis_intro"))
	for _, c := range e.o.Help {
		b.WriteString("\n• ")
		b.WriteString(c.Name.In(lang))
		if c.Phone != "" {
			b.WriteString(": " + c.Phone)
		}
		if c.URL != "" {
			b.WriteString(" " + c.URL)
		}
		if n := c.Note.In(lang); n != "" {
			b.WriteString(" (" + n + ")")
		}
	}
	b.WriteString("\n\n" + e.o.Catalog.T(lang, "crisis_outro"))
	return b.String()
}

func (t *turn) crisisAnswer(v string) {
	s := t.s
	if s.Crisis == "" || (v != "y" && v != "n") {
		t.notice("stale")
		return
	}
	class := s.Crisis
	s.Crisis = ""
	t.save()
	if v == "n" {
		t.settle(t.T("crisis_no"))
		return
	}
	code := t.refCode()
	t.settle(t.T("crisis_yes", locales.Data{"Code": code}))
	t.publishAlert(class, code)
}

// settle answers a question: a pressed button's message becomes text, a typed answer gets it as a message.
func (t *turn) settle(text string) {
	if t.in.Kind == KindChoice {
		t.out = append(t.out, Reply{Kind: EditAsked, Text: text})
		return
	}
	t.say(text)
}

// askedWindow is how long after the contact question a typed yes or no still answers it (when nothing was
// saved in between: a sticker or /help keeps Session.Asked as it was).
const askedWindow = time.Hour

// yesNo reads a typed answer to a yes/no question in fi, sv or en: "y" or "n".
func yesNo(text string) (string, bool) {
	switch strings.ToLower(strings.Trim(strings.TrimSpace(text), ".!")) {
	case "kyllä", "kylla", "joo", "juu", "jep", "jees", "k", "ja", "jo", "japp", "yes", "yeah", "yep", "y":
		return "y", true
	case "ei", "en", "eip", "ei kiitos", "nej", "nä", "nej tack", "no", "nope", "n", "no thanks":
		return "n", true
	}
	return "", false
}

// refAlphabet has no letters that are easy to confuse (0/O, 1/I/L).
const refAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// refCode is the reference code a young person who asked to be contacted is given. It comes from the
// event (an HMAC, like the publication markers), so a turn run again gives the same code: the code the
// person was told is the one in the alert, which the marker publishes once.
func (t *turn) refCode() string {
	b := []byte(t.marker("ref")[:6])
	for i := range b {
		b[i] = refAlphabet[int(b[i])%len(refAlphabet)]
	}
	return string(b[:3]) + "-" + string(b[3:])
}

func (t *turn) publishAlert(class, code string) {
	unit := t.s.Unit
	if unit == "" {
		unit = NoUnit
	}
	aud := string(t.s.Audience)
	if aud == "" {
		aud = "unknown"
	}
	w := period.WeekOf(t.now)
	fields := []string{"aud", aud, "week", w.String(), "lang", t.s.Lang, "crisis", class}
	if code != "" {
		fields = append(fields, "ref", code)
	}
	t.publish(Publication{Unit: unit, Audience: aud, Week: w, Marker: t.marker("x" + code), Stream: "fb", Fields: fields})
}

// NoUnit is the unit of alerts from someone who has not chosen a unit: they go to the all-units channel.
const NoUnit = "_none"

// spontaneous keeps a message written outside a survey as feedback for the unit, coded, and thanks.
func (t *turn) spontaneous(text string) {
	s := t.s
	if s.Unit == "" {
		s.Pending = text
		t.save()
		t.say(t.T("feedback_which_unit"))
		t.askUnit()
		return
	}
	t.feedback(s.Unit, text)
}

// feedback keeps text as feedback for unit (NoUnit: the person would rather not say), coded, and thanks.
func (t *turn) feedback(unit, text string) {
	s := t.s
	pol, topics := "neutral", []string(nil)
	if t.e.o.Coder != nil {
		pol, topics = t.e.o.Coder.Code(s.Lang, text)
	}
	aud := string(s.Audience)
	if aud == "" {
		aud = "unknown"
	}
	w := period.WeekOf(t.now)
	counts := []string{"fb.n", "fb.pol=" + pol}
	for _, tp := range topics {
		counts = append(counts, "fb.topic="+tp)
	}
	t.publish(Publication{Unit: unit, Audience: aud, Week: w, Marker: t.marker("f"), Stream: "fb",
		Fields: []string{"aud", aud, "week", w.String(), "lang", s.Lang, "pol", pol, "topics", strings.Join(topics, ","), "text", text},
		Counts: counts})
	t.save()
	if unit == NoUnit {
		t.say(t.T("feedback_thanks_none")) // no survey to offer: a survey needs its place
		return
	}
	u, _ := t.unit(unit)
	t.say(t.T("feedback_thanks", locales.Data{"Unit": u.Name(s.Lang)}))
	if s.State != Asking {
		t.say(t.T("offer_survey"), []Button{{t.T("btn_survey"), "s.go"}, {t.T("no_thanks"), "s.no"}})
		return
	}
	t.ask() // /feedback in the middle of a survey: back to the open question
}

// marker is the idempotency key of a publication made by this input: the same on redelivery.
func (t *turn) marker(kind string) string {
	m := hmac.New(sha256.New, t.e.o.Secret)
	m.Write([]byte(t.in.Channel + ":" + t.in.User + ":" + t.in.EventID + ":" + kind))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:16]
}

func (t *turn) publish(p Publication) {
	if t.commit == nil {
		t.commit = &Commit{}
	}
	t.commit.Publish = append(t.commit.Publish, p)
}

// ---- survey ----

func (t *turn) flow() (*flows.Flow, bool) {
	if t.s.Flow == "" {
		return nil, false
	}
	return t.e.o.Flows.Get(t.s.Flow)
}

func (t *turn) current() (*flows.Question, bool) {
	f, ok := t.flow()
	if !ok || t.s.State != Asking || t.s.Step < 0 || t.s.Step >= len(f.Questions) {
		return nil, false
	}
	return &f.Questions[t.s.Step], true
}

func (t *turn) resetSurvey() {
	s := t.s
	if s.State == Asking && s.Flow != "" {
		t.events = append(t.events, [2]string{s.Flow, "abandoned"})
	}
	s.Flow, s.FlowVer, s.Run, s.Step, s.Answers, s.Picks = "", 0, "", 0, nil, nil
	if s.State == Asking || s.State == Done {
		s.State = Idle
	}
}

// startSurvey starts the flow named (an invitation's, or the one asked before the language was chosen)
// when it exists for the session's audience, else the audience's flow.
func (t *turn) startSurvey(named string) {
	s := t.s
	f, ok := t.e.o.Flows.Get(named)
	if !ok || f.Audience != s.Audience {
		f, ok = t.e.o.Flows.ForAudience(s.Audience)
	}
	if !ok {
		t.say(t.T("try_again"))
		return
	}
	run := make([]byte, 10)
	_, _ = io.ReadFull(t.e.o.Rand, run)
	s.Flow, s.FlowVer, s.Run = f.ID, f.Version, base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(run)
	s.Answers, s.Picks, s.State = map[string]string{}, nil, Asking
	s.Step = f.Next(0, s.Answers)
	t.save()
	t.events = append(t.events, [2]string{f.ID, "started"})
	u, _ := t.unit(s.Unit)
	t.say(t.T("survey_intro", locales.Data{"Unit": u.Name(s.Lang), "Title": f.Title.In(s.Lang)}) + "\n\n" + f.Intro.In(s.Lang))
	if _, say := t.counted(f.ID); say {
		t.say(t.T("already_counted_" + string(t.e.o.CountOnce)))
	}
	t.ask()
}

// ask shows the current question (after any info steps) or completes the survey.
func (t *turn) ask() {
	s := t.s
	f, ok := t.flow()
	if !ok {
		return
	}
	for s.Step < len(f.Questions) && f.Questions[s.Step].Type == flows.Info {
		t.say(f.Questions[s.Step].Text.In(s.Lang))
		s.Step = f.Next(s.Step+1, s.Answers)
		t.save()
	}
	if s.Step >= len(f.Questions) {
		t.complete(f)
		return
	}
	if t.paused { // no next question right after help contacts: the person goes on when they want to
		t.say(t.T("survey_paused"), []Button{{t.T("btn_continue"), "s.go"}})
		return
	}
	q := &f.Questions[s.Step]
	t.say(t.questionText(q), t.buttons(q)...)
}

// reask shows the current question again, if one is open.
func (t *turn) reask() {
	if _, ok := t.current(); ok {
		t.ask()
	}
}

func (t *turn) progress(f *flows.Flow) (n, total int) {
	s := t.s
	for i := range f.Questions {
		q := &f.Questions[i]
		if !q.Type.Answerable() {
			continue
		}
		asked := q.When == nil || q.When.Eval(s.Answers)
		if i < s.Step {
			if _, answered := s.Answers[q.ID]; answered {
				n++
				total++
			}
			continue
		}
		if asked || i == s.Step {
			total++
		}
	}
	return n + 1, total
}

func (t *turn) questionText(q *flows.Question) string {
	f, _ := t.flow()
	n, total := t.progress(f)
	var b strings.Builder
	fmt.Fprintf(&b, "(%d/%d) %s", n, total, q.Text.In(t.s.Lang))
	switch q.Type {
	case flows.Scale:
		b.WriteString("\n" + t.T("scale_hint"))
	case flows.Multi:
		b.WriteString("\n" + t.T("multi_hint"))
	case flows.Text:
		b.WriteString("\n" + t.T("text_hint", locales.Data{"Max": q.MaxLen}))
	}
	if old, ok := t.s.Answers[q.ID]; ok && q.Type != flows.Multi {
		b.WriteString("\n" + t.T("previous_answer", locales.Data{"Answer": t.label(q, old)}))
	}
	return b.String()
}

// buttons are the keyboard of a question; data names the run and step so old buttons are recognised.
func (t *turn) buttons(q *flows.Question) [][]Button {
	s := t.s
	pre := shortRun(s.Run) + "." + strconv.Itoa(s.Step) + "."
	var rows [][]Button
	switch q.Type {
	case flows.Scale:
		row := make([]Button, 5)
		for i, face := range flows.ScaleFaces {
			row[i] = Button{face, pre + strconv.Itoa(i+1)}
		}
		rows = append(rows, row)
	case flows.NPS:
		var a, b []Button
		for i := 0; i <= 10; i++ {
			btn := Button{strconv.Itoa(i), pre + strconv.Itoa(i)}
			if i <= 5 {
				a = append(a, btn)
			} else {
				b = append(b, btn)
			}
		}
		rows = append(rows, a, b)
	case flows.YesNo:
		rows = append(rows, []Button{{t.T("yes"), pre + "yes"}, {t.T("no"), pre + "no"}})
	case flows.Choice, flows.Multi:
		for _, o := range q.Options {
			label := o.Text.In(s.Lang)
			if q.Type == flows.Multi && slices.Contains(s.Picks, o.ID) {
				label = "✓ " + label
			}
			rows = append(rows, []Button{{label, pre + o.ID}})
		}
		if q.Type == flows.Multi {
			rows = append(rows, []Button{{t.T("btn_done"), pre + "_done"}})
		}
	}
	var last []Button
	if f, ok := t.flow(); ok && f.Prev(s.Step, s.Answers) >= 0 {
		last = append(last, Button{t.T("btn_back"), pre + "_back"})
	}
	if !q.Required {
		last = append(last, Button{t.T("btn_skip"), pre + "_skip"})
	}
	if len(last) > 0 {
		rows = append(rows, last)
	}
	return rows
}

func shortRun(run string) string {
	if len(run) > 6 {
		return run[:6]
	}
	return run
}

// label is how an answer is shown back to the person.
func (t *turn) label(q *flows.Question, v string) string {
	switch {
	case v == "":
		return t.T("skipped")
	case q.Type == flows.Scale:
		i, _ := strconv.Atoi(v)
		if i >= 1 && i <= 5 {
			return flows.ScaleFaces[i-1]
		}
	case q.Type == flows.YesNo:
		return t.T(v)
	case q.Type == flows.Choice || q.Type == flows.Multi:
		var ls []string
		for _, id := range strings.Split(v, ",") {
			if o, ok := q.Option(id); ok {
				ls = append(ls, o.Text.In(t.s.Lang))
			}
		}
		return strings.Join(ls, ", ")
	case q.Type == flows.Text:
		if r := []rune(v); len(r) > 60 {
			return string(r[:60]) + "…"
		}
	}
	return v
}

// answer records an answer ("" = skipped) to the current question and moves on.
func (t *turn) answer(q *flows.Question, v string) {
	s := t.s
	f, _ := t.flow()
	if s.Answers == nil {
		s.Answers = map[string]string{}
	}
	s.Answers[q.ID] = v
	s.Picks = nil
	if t.in.Kind == KindChoice {
		t.out = append(t.out, Reply{Kind: EditAsked, Text: t.answered(q, v)})
	}
	s.Step = f.Next(s.Step+1, s.Answers)
	t.save()
	t.ask()
}

// answered is how a question's message reads once answered (v, "" = skipped): the buttons give way to the answer.
func (t *turn) answered(q *flows.Question, v string) string {
	return q.Text.In(t.s.Lang) + "\n→ " + t.label(q, v)
}

// settled is how long after a person's last saved message a press on an earlier question of their survey
// cannot be a second tap racing the turn that answered it (a turn has the store for at most 2 s).
const settled = 2 * time.Second

// mend answers a press on an earlier, answered question of the running survey whose message still has its
// buttons: the replies of the turn that answered it were lost, because it ran out of time after the answer
// was saved ("try again") or Telegram refused its edit. The pressed message shows the saved answer and the
// current question is asked again, so "already answered" does not leave the person without a next question.
// A press on a question of a survey completed so gets the survey's last messages again.
// A second tap that races the first turn (within settled) gets the notice only: the first turn asks.
func (t *turn) mend(parts []string) {
	s := t.s
	if len(parts) != 3 || s.Run == "" || parts[0] != shortRun(s.Run) || t.now.Sub(time.Unix(s.Seen, 0)) < settled {
		return
	}
	f, ok := t.flow()
	step, err := strconv.Atoi(parts[1])
	if !ok || err != nil || step < 0 || step >= len(f.Questions) {
		return
	}
	q := &f.Questions[step]
	if s.State == Done {
		t.out = append(t.out, Reply{Kind: EditAsked, Text: q.Text.In(s.Lang)}) // its answer is gone with the rest
		t.thanks(f, false)
		return
	}
	if s.State != Asking || step >= s.Step {
		return
	}
	v, done := s.Answers[q.ID]
	if !done {
		return
	}
	t.out = append(t.out, Reply{Kind: EditAsked, Text: t.answered(q, v)})
	t.ask()
}

// complete publishes the response (once per person, flow and period) and says thank you.
func (t *turn) complete(f *flows.Flow) {
	s := t.s
	// Keep only the answers of questions that were asked on the final path.
	kept := map[string]string{}
	for i := range f.Questions {
		q := &f.Questions[i]
		if v, ok := s.Answers[q.ID]; ok && (q.When == nil || q.When.Eval(kept)) {
			kept[q.ID] = v
		}
	}
	mark := f.ID + ":" + period.Of(t.e.o.CountOnce, t.now).String()
	counted, sayCounted := t.counted(f.ID)
	if !counted {
		w := period.WeekOf(t.now)
		aud := string(f.Audience)
		fields := []string{"aud", aud, "flow", f.ID, "ver", strconv.Itoa(f.Version), "week", w.String(), "lang", s.Lang}
		counts := []string{"n", "n." + f.ID}
		for i := range f.Questions {
			q := &f.Questions[i]
			v, ok := kept[q.ID]
			if !ok {
				continue
			}
			fields = append(fields, "a."+q.ID, v)
			switch {
			case v == "":
				counts = append(counts, q.CounterKey(f.ID, flows.SkipValue))
			case q.Type == flows.Text:
				counts = append(counts, q.CounterKey(f.ID, flows.TextValue))
			default:
				for _, x := range strings.Split(v, ",") {
					counts = append(counts, q.CounterKey(f.ID, x))
				}
			}
		}
		t.publish(Publication{Unit: s.Unit, Audience: aud, Week: w, Marker: "run:" + s.Run, Stream: "resp", Fields: fields, Counts: counts})
		if t.commit == nil {
			t.commit = &Commit{}
		}
		end := period.Of(t.e.o.CountOnce, t.now).End()
		t.commit.Mark, t.commit.MarkTTL = mark, end.Sub(t.now)+24*time.Hour
	}
	s.State = Done
	t.events = append(t.events, [2]string{f.ID, "completed"})
	s.Answers, s.Picks, s.Step = nil, nil, 0 // Run stays, to tell its buttons from others' (see mend)
	t.save()
	t.thanks(f, sayCounted)
}

// thanks are the messages that end a survey of f (counted: the person's answers of this period were counted
// before).
func (t *turn) thanks(f *flows.Flow, counted bool) {
	t.say(f.Outro.In(t.s.Lang))
	if counted {
		t.say(t.T("counted_before_" + string(t.e.o.CountOnce)))
	}
	if f.Audience == flows.Youth && t.e.o.Invites != nil && !t.paused { // not right after help contacts
		t.say(t.T("invite_offer"), []Button{{t.T("invite_yes"), "s.inv"}, {t.T("no_thanks"), "s.no"}})
	}
	t.say(t.T("forget_offer"), []Button{{t.T("btn_forget"), "f.go"}})
}

// inviteSomeone gives a young person a ready-to-forward message with a fresh single-use relative invitation.
func (t *turn) inviteSomeone(ctx context.Context) {
	s := t.s
	if t.e.o.Invites == nil || s.Unit == "" {
		t.notice("stale")
		return
	}
	tok, err := t.e.o.Invites.Create(ctx, s.Unit, flows.Relative, 1, t.e.o.InviteTTL)
	if err != nil {
		t.e.o.Log.LogAttrs(ctx, slog.LevelError, "create invitation", slog.String("err", err.Error()))
		t.say(t.T("try_again"))
		return
	}
	t.out = append(t.out, Reply{Kind: EditAsked, Text: t.T("invite_yes")})
	t.say(t.T("invite_forward_hint"))
	u, _ := t.unit(s.Unit)
	t.say(t.T("invite_message", locales.Data{"Unit": u.Name(s.Lang), "Link": t.e.o.InviteLink + "i-" + tok, "Days": int(t.e.o.InviteTTL.Hours() / 24)}))
}

func (t *turn) askUnit() {
	s := t.s
	s.State = ChooseUnit
	t.save()
	var rows [][]Button
	for _, u := range t.e.o.Units {
		rows = append(rows, []Button{{u.Name(s.Lang), "u." + u.ID}})
	}
	if s.Pending != "" { // feedback may go on without a place; a survey needs one
		rows = append(rows, []Button{{t.T("btn_unit_none"), "u." + NoUnit}})
	}
	t.say(t.T("choose_unit"), rows...)
}

func (t *turn) unit(id string) (config.Unit, bool) {
	for _, u := range t.e.o.Units {
		if u.ID == id {
			return u, true
		}
	}
	return config.Unit{ID: id}, false
}

func (t *turn) unitByCode(code string) (config.Unit, bool) {
	for _, u := range t.e.o.Units {
		if u.PublicCode() == code {
			return u, true
		}
	}
	return config.Unit{}, false
}
