// Package testenv builds a whole engine on a Redis for tests, and drives conversations with it.
package testenv

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/store"
)

// Clock is a settable clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

func (c *Clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *Clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Units are the test units.
var Units = []config.Unit{
	{ID: "kotipesa", Code: "kotipesa", Names: flows.Texts{"fi": "Nuorisokoti Kotipesä", "sv": "Ungdomshemmet Kotipesä", "en": "Kotipesä youth home"}},
	{ID: "satama", Code: "satama", Names: flows.Texts{"fi": "Perhekoti Satama", "sv": "Familjehemmet Satama", "en": "Satama family home"}},
}

// Env is an engine with its store.
type Env struct {
	Engine  *bot.Engine
	Store   *store.Store
	Invites *store.Invitations
	RDB     redis.UniversalClient
	Clock   *Clock
	Catalog *locales.Catalog
	Flows   *flows.Set
}

// Option changes the engine options before it is built.
type Option func(*bot.Options)

// New builds an engine over rdb at 2026-11-18 12:00 UTC (Wednesday of 2026-W47).
func New(tb testing.TB, rdb redis.UniversalClient, opts ...Option) *Env {
	tb.Helper()
	fl, err := flows.Default()
	if err != nil {
		tb.Fatal(err)
	}
	cat := locales.Must()
	st := store.New(rdb, "pl:", store.WithSessionCache(1000)) // as served
	inv := store.NewInvitations(st, fl)
	clk := NewClock(time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC))
	inv.Now = clk.Now
	o := bot.Options{
		Flows: fl, Units: Units, Catalog: cat, Secret: []byte("test-secret-0123456789"),
		SessionTTL: 72 * time.Hour, CountOnce: period.Month, Help: config.DefaultContacts(),
		InviteLink: "https://t.me/palaute_bot?start=", Store: st, Clock: clk, Invites: inv,
	}
	for _, f := range opts {
		f(&o)
	}
	e, err := bot.New(o)
	if err != nil {
		tb.Fatal(err)
	}
	return &Env{Engine: e, Store: st, Invites: inv, RDB: rdb, Clock: clk, Catalog: cat, Flows: fl}
}

// T is a message in a language.
func (e *Env) T(lang, id string, data ...locales.Data) string { return e.Catalog.T(lang, id, data...) }

var events atomic.Int64

// Chat is one person talking to the engine.
type Chat struct {
	tb   testing.TB
	Env  *Env
	User string
	Lang string
	Last []bot.Reply // replies to the last input
	msg  int
}

// Chat starts a conversation of a user.
func (e *Env) Chat(tb testing.TB, user, lang string) *Chat {
	return &Chat{tb: tb, Env: e, User: user, Lang: lang}
}

// Input sends any input (EventID and MsgID filled when empty) and returns the replies.
func (c *Chat) Input(in bot.Input) []bot.Reply {
	c.tb.Helper()
	if in.Channel == "" {
		in.Channel = "test"
	}
	in.User, in.Chat, in.Lang = c.User, c.User, c.Lang
	if in.EventID == "" {
		in.EventID = strconv.FormatInt(events.Add(1), 10)
	}
	if in.MsgID == 0 {
		c.msg++
		in.MsgID = c.msg
	}
	r, err := c.Env.Engine.Handle(context.Background(), in)
	if err != nil {
		c.tb.Fatalf("Handle(%+v): %v", in, err)
	}
	c.msg += len(r)
	c.Last = r
	return r
}

// Send sends a text message.
func (c *Chat) Send(text string) []bot.Reply {
	c.tb.Helper()
	return c.Input(bot.Input{Kind: bot.KindText, Text: text})
}

// Press presses the button whose label is label (or starts with it) among the last replies.
func (c *Chat) Press(label string) []bot.Reply {
	c.tb.Helper()
	d, ok := c.Button(label)
	if !ok {
		c.tb.Fatalf("no button %q in:\n%s", label, Dump(c.Last))
	}
	return c.Input(bot.Input{Kind: bot.KindChoice, Data: d})
}

// Button finds a button's data among the last replies.
func (c *Chat) Button(label string) (string, bool) {
	for _, r := range c.Last {
		for _, row := range r.Buttons {
			for _, b := range row {
				if b.Label == label || strings.HasPrefix(b.Label, label) || strings.TrimPrefix(b.Label, "✓ ") == label {
					return b.Data, true
				}
			}
		}
	}
	return "", false
}

// Dump renders replies for failure messages.
func Dump(rs []bot.Reply) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString("[" + strconv.Itoa(int(r.Kind)) + "] " + r.Text + "\n")
		for _, row := range r.Buttons {
			var ls []string
			for _, x := range row {
				ls = append(ls, x.Label+"="+x.Data)
			}
			b.WriteString("    " + strings.Join(ls, " | ") + "\n")
		}
	}
	return b.String()
}

// Text joins the texts of replies.
func Text(rs []bot.Reply) string {
	var ts []string
	for _, r := range rs {
		ts = append(ts, r.Text)
	}
	return strings.Join(ts, "\n")
}

// Responses returns the unit's stored responses, oldest first.
func (e *Env) Responses(tb testing.TB, unit string) []map[string]string {
	tb.Helper()
	return e.Stream(tb, unit, "resp")
}

// Feedback returns the unit's spontaneous feedback entries, oldest first.
func (e *Env) Feedback(tb testing.TB, unit string) []map[string]string {
	tb.Helper()
	return e.Stream(tb, unit, "fb")
}

// Stream returns the entries of one of a unit's streams, oldest first.
func (e *Env) Stream(tb testing.TB, unit, name string) []map[string]string {
	tb.Helper()
	xs, err := e.RDB.XRange(context.Background(), e.Store.UnitKey(unit, name), "-", "+").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var out []map[string]string
	for _, x := range xs {
		m := map[string]string{}
		for k, v := range x.Values {
			m[k], _ = v.(string)
		}
		out = append(out, m)
	}
	return out
}

// Agg returns a unit/audience/week aggregate.
func (e *Env) Agg(tb testing.TB, unit, aud, week string) map[string]string {
	tb.Helper()
	m, err := e.RDB.HGetAll(context.Background(), e.Store.AggKey(unit, aud, week)).Result()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// Snapshot is every key and value in Redis (strings, hashes, stream lengths), to assert "nothing changed".
func (e *Env) Snapshot(tb testing.TB) map[string]string {
	tb.Helper()
	ctx := context.Background()
	out := map[string]string{}
	keys, err := e.RDB.Keys(ctx, "*").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, k := range keys {
		switch e.RDB.Type(ctx, k).Val() {
		case "string":
			out[k] = e.RDB.Get(ctx, k).Val()
		case "hash":
			out[k] = strings.Join(flat(e.RDB.HGetAll(ctx, k).Val()), ",")
		case "stream":
			out[k] = strconv.FormatInt(e.RDB.XLen(ctx, k).Val(), 10)
		default:
			out[k] = e.RDB.Type(ctx, k).Val()
		}
	}
	return out
}

// flat is a hash's fields as sorted "field=value" strings, so that snapshots compare whatever the map order.
func flat(m map[string]string) []string {
	var s []string
	for k, v := range m {
		s = append(s, k+"="+v)
	}
	slices.Sort(s)
	return s
}
