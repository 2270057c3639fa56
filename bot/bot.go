// Package bot is the conversation engine: channel-agnostic, pure logic over a session. It does no I/O
// but through the small interfaces it owns (Store, Clock, randomness, Coder, Invites).
package bot

import (
	"context"
	"errors"
	"time"

	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/period"
)

// Kind is what an input is.
type Kind int

const (
	KindText        Kind = iota // a text message (commands start with /)
	KindChoice                  // a button press; Data holds the button's data
	KindUnsupported             // a sticker, photo, voice, file, location...
	KindEdited                  // an edited message
	KindGroup                   // anything from a group chat
)

// Input is one event from a channel.
type Input struct {
	Channel string // "telegram", "console", ...: part of the pseudonym
	User    string // the channel's user id: only hashed into the pseudonym, never stored
	Chat    string // where replies go: kept only in the session (TTL)
	EventID string // unique per delivery of this event in the channel (Telegram update_id)
	Kind    Kind
	Text    string
	Data    string // button data for KindChoice
	Lang    string // the client's language hint ("fi-FI"), used at first contact
	MsgID   int    // the channel's message id of this message or of the pressed button's message
}

// ReplyKind says how an adapter shows a reply.
type ReplyKind int

const (
	Message   ReplyKind = iota // send Text with Buttons
	Help                       // help contacts: send first, never delete automatically
	EditAsked                  // edit the message whose button was pressed to Text, without buttons
	Delete                     // delete the chat's messages with ids From..To (a /forget)
	Answer                     // a short notice to a button press (Telegram: answerCallbackQuery text)
)

// Reply is one thing to show.
type Reply struct {
	Kind     ReplyKind
	Text     string
	Buttons  [][]Button
	From, To int // Delete: message id range
}

// Button is a choice the person can press.
type Button struct {
	Label string
	Data  string // at most 64 bytes
}

// Session is one person's conversation state, stored under their pseudonym with a TTL.
type Session struct {
	Version  int64             `json:"-"` // set by the store, checked on commit
	Cached   bool              `json:"-"` // the store answered from memory (see FreshLoader)
	Lang     string            `json:"l,omitempty"`
	Unit     string            `json:"u,omitempty"`
	Audience flows.Audience    `json:"a,omitempty"`
	Flow     string            `json:"f,omitempty"`
	FlowVer  int               `json:"fv,omitempty"`
	Run      string            `json:"r,omitempty"` // random id of the survey run, the idempotency key of its response
	Step     int               `json:"i"`           // current question index while State is asking
	State    State             `json:"s,omitempty"`
	Answers  map[string]string `json:"q,omitempty"`  // "" = skipped
	Picks    []string          `json:"p,omitempty"`  // picks of the current multi question
	Pending  string            `json:"pt,omitempty"` // spontaneous feedback waiting for the unit to be chosen
	Then     string            `json:"n,omitempty"`  // a /start payload waiting for the language
	Events   []string          `json:"e,omitempty"`  // recent event ids: a redelivered event changes nothing
	Chat     string            `json:"c,omitempty"`
	Anchors  [][2]int64        `json:"ma,omitempty"` // (message id, unix time) at least 12 h apart: where /forget starts deleting
	Seen     int64             `json:"t,omitempty"`  // unix time of the last message
	Crisis   string            `json:"x,omitempty"`  // crisis class waiting for "may a worker contact you?"
	Asked    bool              `json:"xa,omitempty"` // that question was the last thing asked: a typed yes or no answers it
}

// State is where the conversation is.
type State string

const (
	Idle       State = ""
	ChooseLang State = "lang"
	ChooseUnit State = "unit"
	Asking     State = "ask"
	Done       State = "done"
)

// Marks are the "counted once per flow and period" markers of one person: "flow:period" -> true.
type Marks map[string]bool

// Publication is something written to a unit: a completed response or a spontaneous feedback message.
// It carries no pseudonym, chat id, username or time finer than an ISO week.
type Publication struct {
	Unit     string
	Audience string
	Week     period.Period
	Marker   string   // idempotency key: published once however often it is retried
	Stream   string   // "resp" or "fb"
	Fields   []string // stream entry field, value pairs
	Counts   []string // counters to increment in the unit/audience/week aggregate
}

// Commit is the write of one handled message: all or nothing for the person, idempotent for the unit.
type Commit struct {
	PID     string
	Prev    int64    // version the session had when loaded (0: none)
	Session *Session // the session to keep, with TTL (after /forget: only its event ids)
	TTL     time.Duration
	Mark    string // flow:period to mark as counted, with MarkTTL
	MarkTTL time.Duration
	Publish []Publication
}

// ErrConflict means the session changed since it was loaded: handle the input again.
var ErrConflict = errors.New("session changed concurrently")

// ErrUnavailable wraps store errors: the person is asked to try again in a moment.
var ErrUnavailable = errors.New("store unavailable")

// Store keeps sessions and publishes responses. Load is one round trip or none, Commit one.
type Store interface {
	Load(ctx context.Context, pid string) (*Session, Marks, error)
	Commit(ctx context.Context, c Commit) error
}

// FreshLoader is a Store whose Load may answer from memory (and sets Session.Cached when it does).
// A commit's compare-and-set catches a remembered session that is out of date. A turn that commits
// nothing has none, and the compare-and-set may not hold back what a turn publishes (PublishesChecked):
// for those the engine reads the store itself with LoadFresh, and runs the turn again if the session
// differs. A commit refused with ErrConflict leaves what the store held then for the next Load, which the
// engine takes as fresh: the retry needs no read first.
type FreshLoader interface {
	LoadFresh(ctx context.Context, pid string) (*Session, Marks, error)
	// PublishesChecked says whether Commit itself publishes nothing for a session that has changed
	// since c.Prev (then a publishing turn needs no read first).
	PublishesChecked() bool
}

// Observer is told about survey events (for metrics): started, completed, abandoned; and about a message
// suggesting danger whose staff alert could not be stored (the person got the help contacts).
type Observer interface {
	Survey(flow, event string)
	AlertMissed(class string)
}

// Clock tells the time.
type Clock interface{ Now() time.Time }

// Coder codes spontaneous feedback and spots messages that suggest danger.
type Coder interface {
	Code(lang, text string) (polarity string, topics []string)
	Crisis(text string) (class string, ok bool)
}

// Invitation is what an invitation reveals to the survey: the unit, the audience and the flow it leads to
// ("" = the audience's flow). Nothing about who it was given to.
type Invitation struct {
	Unit     string
	Audience flows.Audience
	Flow     string
}

// Invites redeems invitation tokens (the /start i-<token> deep links).
type Invites interface {
	// Redeem uses one use of an invitation. who is a rate-limit key that does not identify the person.
	Redeem(ctx context.Context, token, who string) (Invitation, error)
	// Create makes a fresh single-use invitation (the youth survey offers one for someone important).
	Create(ctx context.Context, unit string, audience flows.Audience, uses int, ttl time.Duration) (token string, err error)
}

// Invitation errors, classified with errors.Is.
var (
	ErrInviteUnknown   = errors.New("unknown invitation")
	ErrInviteExpired   = errors.New("invitation expired")
	ErrInviteUsedUp    = errors.New("invitation used up")
	ErrInviteMalformed = errors.New("malformed invitation")
	ErrTooManyTries    = errors.New("too many failed invitation tries")
)
