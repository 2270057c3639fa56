// Package router routes spontaneous feedback from the units' feedback streams to Slack: urgent alerts at
// once (crisis, with the young person's reference code when they asked to be contacted), everything that
// is not praise in one anonymised message per unit in the next hourly batch (corrective feedback first,
// then, under its own heading, the rest, so that a message the coder could not place still reaches
// someone; timing does not point at anyone), and positive feedback in a weekly "kiitokset" digest. Every
// text is PII-scrubbed and shown shuffled, without time.
//
// Feedback that has nowhere to go (no units[].slack_channel and no slack.all_channel) is kept in its
// stream. Channels are read at start: alerts and the hourly batch's feedback are posted by the first
// router started after a channel is set; the weekly thanks, whose digest is made once a week, only when
// that router starts within the week after the thanks' week. Meanwhile the router counts what waits
// (Waiting) and logs it at most once an hour per unit and kind, without any text.
package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/store"
)

// Post is one Slack message, posted once per Key.
type Post struct {
	Key       string
	Channel   string
	Text      string
	NotBefore time.Time
}

// Outbox takes posts for Slack; it posts each Key exactly once.
type Outbox interface {
	Post(ctx context.Context, p Post) error
}

// Scrubber removes personal data from free text.
type Scrubber interface {
	Scrub(lang, text string) string
}

// Router reads the feedback streams. Run it on one replica at a time (under the scheduler's lock).
type Router struct {
	RDB      redis.UniversalClient
	Prefix   string
	Units    []config.Unit
	All      string // channel for alerts without a unit (and the organisation-wide view)
	Lang     string // staff language
	Outbox   Outbox
	Scrub    Scrubber
	Catalog  *locales.Catalog
	Log      *slog.Logger
	Now      func() time.Time
	Consumer string // this replica's name in the consumer groups
	Shuffle  func(n int, swap func(i, j int))
	Location *time.Location // for the digest's Monday morning

	lastHour   time.Time
	lastDigest period.Period
	claimed    map[string]time.Time // unit/group -> when claim last ran

	mu      sync.Mutex
	waiting map[string]int       // kind/unit -> entries kept for want of a channel
	warned  map[string]time.Time // kind/unit -> when that was last logged
}

// Kinds of routed feedback, as Waiting counts them.
const (
	KindUrgent = "urgent" // crisis alerts and contact requests
	KindHourly = "hourly" // the hourly batch: corrective and other feedback that is not praise
	KindDigest = "digest" // the weekly thanks
)

// Post kinds: the first part of the outbox key of each feedback post, which metrics count posts by.
// The outbox posts each key once, so these strings must not change: in keys and metrics the hourly
// batch (KindHourly) is "corrective", as it has always been.
const (
	PostUrgent = "urgent"
	PostHourly = "corrective"
	PostDigest = "digest"
)

// PostKinds are the post kinds, in that order.
var PostKinds = []string{PostUrgent, PostHourly, PostDigest}

// PostKind is the kind of a post, the first part of its outbox key (the whole key if it has no ':').
func PostKind(key string) string { return strings.SplitN(key, ":", 2)[0] }

// warnEvery is how often at most the router logs that a unit's feedback of one kind waits for a channel.
const warnEvery = time.Hour

// claimIdle is how long an entry read by another consumer (a replica that died or lost the scheduler's
// lock before acknowledging it) stays with it before this router takes it over, and how often at most
// the router looks for such entries.
const claimIdle = 5 * time.Minute

// Group names on each unit's feedback stream.
const (
	groupUrgent = "urgent"
	groupHourly = "hourly"
)

// key is the unit's feedback stream, where the engine's store publishes it.
func (r *Router) key(unit string) string { return store.New(r.RDB, r.Prefix).UnitKey(unit, "fb") }

func (r *Router) units() []string {
	ids := make([]string, 0, len(r.Units)+1)
	for _, u := range r.Units {
		ids = append(ids, u.ID)
	}
	return append(ids, bot.NoUnit)
}

// unit is a unit of units() and its channel: its own, else slack.all_channel. The one that is not
// configured is bot.NoUnit, named "place not known".
func (r *Router) unit(id string) (config.Unit, string) {
	for _, u := range r.Units {
		if u.ID == id {
			ch := u.SlackChannel
			if ch == "" {
				ch = r.All
			}
			return u, ch
		}
	}
	name := r.t("unit_none")
	return config.Unit{ID: id, Names: map[string]string{"fi": name, "sv": name, "en": name}}, r.All
}

func (r *Router) t(id string, data ...locales.Data) string { return r.Catalog.T(r.Lang, id, data...) }

// ensureGroups creates the consumer groups (from the start of each stream) when missing.
func (r *Router) ensureGroups(ctx context.Context) error {
	for _, u := range r.units() {
		for _, g := range []string{groupUrgent, groupHourly} {
			err := r.RDB.XGroupCreateMkStream(ctx, r.key(u), g, "0").Err()
			if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
				return fmt.Errorf("create group %s: %w", g, err)
			}
		}
	}
	return nil
}

type entry struct {
	id     string
	fields map[string]string
}

// read returns this consumer's pending entries (left by a crash before their ack, or taken over from a
// replica that read them and died) when there are any, so a retried batch is the same batch; otherwise
// the new ones.
func (r *Router) read(ctx context.Context, unit, group string) ([]entry, error) {
	if _, err := r.claim(ctx, unit, group); err != nil {
		return nil, err
	}
	es, err := r.readFrom(ctx, unit, group, "0")
	if err != nil || len(es) > 0 {
		return es, err
	}
	return r.readFrom(ctx, unit, group, ">")
}

// readFrom reads up to 1000 entries of group: this consumer's pending ones (start "0") or new ones (">").
func (r *Router) readFrom(ctx context.Context, unit, group, start string) ([]entry, error) {
	res, err := r.RDB.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: r.Consumer,
		Streams: []string{r.key(unit), start}, Count: 1000, Block: -1}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", unit, group, err)
	}
	var out []entry
	for _, s := range res {
		for _, m := range s.Messages {
			f := map[string]string{}
			for k, v := range m.Values {
				f[k], _ = v.(string)
			}
			out = append(out, entry{m.ID, f})
		}
	}
	return out, nil
}

// claim takes over the entries another consumer of group read more than claimIdle ago and never
// acknowledged: only one router runs at a time, so their reader is gone. It looks at a router's first
// run for unit and group and then once per claimIdle (whatever a stopped replica read is idle long
// enough by the second look; between looks no one else reads), and reports whether it looked.
func (r *Router) claim(ctx context.Context, unit, group string) (bool, error) {
	k, now := unit+"/"+group, r.now()
	if last, ok := r.claimed[k]; ok && now.Sub(last) < claimIdle {
		return false, nil
	}
	start := "0-0"
	for range 1000 {
		_, next, err := r.RDB.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: r.key(unit), Group: group, Consumer: r.Consumer,
			MinIdle: claimIdle, Start: start, Count: 1000}).Result()
		if err != nil {
			return false, fmt.Errorf("claim %s/%s: %w", unit, group, err)
		}
		if next == "0-0" || next == "" {
			break
		}
		start = next
	}
	if r.claimed == nil {
		r.claimed = map[string]time.Time{}
	}
	r.claimed[k] = now
	return true, nil
}

func (r *Router) ack(ctx context.Context, unit, group string, es []entry) error {
	if len(es) == 0 {
		return nil
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.id
	}
	return r.RDB.XAck(ctx, r.key(unit), group, ids...).Err()
}

// Urgent posts crisis alerts now. Each entry is posted once (outbox key by entry id) and then acknowledged.
func (r *Router) Urgent(ctx context.Context) error {
	if err := r.ensureGroups(ctx); err != nil {
		return err
	}
	var errs []error
	for _, uid := range r.units() {
		u, ch := r.unit(uid)
		if ch == "" {
			errs = append(errs, r.noChannel(ctx, uid, KindUrgent, groupUrgent, isUrgent))
			continue
		}
		r.setWaiting(KindUrgent, uid, 0)
		es, err := r.read(ctx, uid, groupUrgent)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range es {
			if !isUrgent(e) {
				continue
			}
			text := r.t("alert_urgent", locales.Data{"Unit": u.Name(r.Lang), "Class": r.t("crisis_class_" + e.fields["crisis"]),
				"Audience": r.t("audience_" + e.fields["aud"])})
			if ref := e.fields["ref"]; ref != "" {
				text = r.t("alert_contact", locales.Data{"Unit": u.Name(r.Lang), "Code": ref})
			}
			if err := r.Outbox.Post(ctx, Post{Key: PostUrgent + ":" + uid + ":" + e.id, Channel: ch, Text: text}); err != nil {
				errs = append(errs, err)
				es = nil // do not ack: posted again (once, by key) next time
				break
			}
		}
		if err := r.ack(ctx, uid, groupUrgent, es); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func isUrgent(e entry) bool { return e.fields["crisis"] != "" }

// inBatch reports whether an entry belongs in the hourly batch: feedback text that is not praise
// (corrective, neutral, or a polarity the coder did not give). Praise waits for the weekly digest.
func inBatch(e entry) bool { return e.fields["text"] != "" && e.fields["pol"] != "positive" }

// batchGrace is how long after the top of an hour a batch is still due at once: Tick makes the batch
// in the first seconds of the hour, and its post then says no more than "during the last hour".
const batchGrace = 2 * time.Minute

// Hourly posts one message per unit with the feedback that arrived since the last batch and is not
// praise: the corrective messages first, then under a heading of their own the others (neutral, or
// anything the coder did not call corrective), so that nothing waits for a week or is lost when the
// coder errs. Texts are scrubbed and each part shuffled. A batch made at the top of an hour (by Tick) is
// due at once; one made later in the hour waits for the next full hour, so the time of the post never
// points at a message.
func (r *Router) Hourly(ctx context.Context) error {
	if err := r.ensureGroups(ctx); err != nil {
		return err
	}
	now := r.now()
	slot := now.Truncate(time.Hour)
	if now.Sub(slot) > batchGrace {
		slot = slot.Add(time.Hour)
	}
	var errs []error
	for _, uid := range r.units() {
		u, ch := r.unit(uid)
		if ch == "" {
			errs = append(errs, r.noChannel(ctx, uid, KindHourly, groupHourly, inBatch))
			continue
		}
		r.setWaiting(KindHourly, uid, 0)
		es, err := r.read(ctx, uid, groupHourly)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var corrective, other []string
		for _, e := range es {
			if !inBatch(e) {
				continue
			}
			t := r.Scrub.Scrub(e.fields["lang"], e.fields["text"])
			if e.fields["pol"] == "corrective" {
				corrective = append(corrective, t)
			} else {
				other = append(other, t)
			}
		}
		if len(corrective)+len(other) > 0 {
			r.shuffle(corrective)
			r.shuffle(other)
			var b strings.Builder
			if len(corrective) > 0 {
				b.WriteString(r.t("alert_corrective", locales.Data{"Unit": u.Name(r.Lang), "N": len(corrective)}))
				for _, t := range corrective {
					b.WriteString("\n• " + oneLine(t))
				}
			}
			if len(other) > 0 {
				if len(corrective) > 0 {
					b.WriteString("\n\n" + r.t("alert_other_section", locales.Data{"N": len(other)}))
				} else {
					b.WriteString(r.t("alert_other", locales.Data{"Unit": u.Name(r.Lang), "N": len(other)}))
				}
				for _, t := range other {
					b.WriteString("\n• " + oneLine(t))
				}
			}
			// A batch is keyed by its entries: a retry after a crash re-reads the same pending entries.
			key := PostHourly + ":" + uid + ":" + es[0].id + ":" + es[len(es)-1].id
			if err := r.Outbox.Post(ctx, Post{Key: key, Channel: ch, Text: b.String(), NotBefore: slot}); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if err := r.ack(ctx, uid, groupHourly, es); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Digest posts the week's positive feedback ("kiitokset") per unit, once per unit and week (by its
// outbox key). The thanks of a unit without a channel are counted (Waiting) and logged, not scrubbed nor
// posted; that is not an error. The entries stay in the stream: Digest of the same week made again with a
// channel (after a restart) posts them.
func (r *Router) Digest(ctx context.Context, week period.Period) error {
	var errs []error
	start := fmt.Sprint(week.Start().UnixMilli())
	end := fmt.Sprint(week.End().UnixMilli()-1) + "-18446744073709551615"
	for _, uid := range r.units() {
		if uid == bot.NoUnit {
			continue
		}
		u, ch := r.unit(uid)
		xs, err := r.RDB.XRange(ctx, r.key(uid), start, end).Result()
		if err != nil {
			errs = append(errs, fmt.Errorf("digest %s: %w", uid, err))
			continue
		}
		n := 0
		var texts []string
		for _, x := range xs {
			pol, _ := x.Values["pol"].(string)
			text, _ := x.Values["text"].(string)
			lang, _ := x.Values["lang"].(string)
			if pol != "positive" || text == "" {
				continue
			}
			n++
			if ch != "" {
				texts = append(texts, r.Scrub.Scrub(lang, text))
			}
		}
		if ch == "" {
			r.setWaiting(KindDigest, uid, n)
			if n > 0 {
				r.warn(uid, KindDigest, n)
			}
			continue
		}
		r.setWaiting(KindDigest, uid, 0)
		if len(texts) == 0 {
			continue
		}
		r.shuffle(texts)
		var b strings.Builder
		b.WriteString(r.t("digest_thanks", locales.Data{"Unit": u.Name(r.Lang), "Week": week.String(), "N": len(texts)}))
		for _, t := range texts {
			b.WriteString("\n💚 " + oneLine(t))
		}
		if err := r.Outbox.Post(ctx, Post{Key: PostDigest + ":" + uid + ":" + week.String(), Channel: ch, Text: b.String()}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// noChannel keeps the entries of a unit without a channel that postable says are for group's posts:
// it reads the new ones, acknowledges those with nothing to post here, and leaves the rest pending with
// this consumer, where read() finds them once a channel is set. (When claim looked, it first goes through
// all it holds, taken over ones too.) It counts what is kept (Waiting) and logs it at most once an hour.
// Only a failure to read or acknowledge is an error.
func (r *Router) noChannel(ctx context.Context, uid, kind, group string, postable func(entry) bool) error {
	looked, err := r.claim(ctx, uid, group)
	start := ">"
	if looked {
		start = "0"
	}
	for err == nil {
		var es []entry
		if es, err = r.readFrom(ctx, uid, group, start); err != nil || (len(es) == 0 && start == ">") {
			break
		}
		err = r.ack(ctx, uid, group, slices.DeleteFunc(es, postable))
		start = ">"
	}
	if err != nil {
		return err
	}
	p, err := r.RDB.XPending(ctx, r.key(uid), group).Result()
	if err != nil {
		return fmt.Errorf("pending %s/%s: %w", uid, group, err)
	}
	n := int(p.Consumers[r.Consumer])
	r.setWaiting(kind, uid, n)
	if n > 0 {
		r.warn(uid, kind, n)
	}
	return nil
}

// Waiting is how many entries of a kind (KindUrgent, KindHourly, KindDigest) wait in their streams
// because their unit has no Slack channel, as of the router's last run. Safe to call at any time (a
// metrics gauge).
func (r *Router) Waiting(kind string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for k, v := range r.waiting {
		if strings.HasPrefix(k, kind+"/") {
			n += v
		}
	}
	return n
}

func (r *Router) setWaiting(kind, uid string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waiting == nil {
		r.waiting = map[string]int{}
	}
	if n == 0 {
		delete(r.waiting, kind+"/"+uid)
		return
	}
	r.waiting[kind+"/"+uid] = n
}

// warn logs that feedback of a unit waits for a channel, at most once per warnEvery for a unit and kind:
// the unit's id, the kind and how many wait, never a text.
func (r *Router) warn(uid, kind string, n int) {
	now := r.now()
	r.mu.Lock()
	k := kind + "/" + uid
	last, seen := r.warned[k]
	if seen && now.Sub(last) < warnEvery {
		r.mu.Unlock()
		return
	}
	if r.warned == nil {
		r.warned = map[string]time.Time{}
	}
	r.warned[k] = now
	r.mu.Unlock()
	level := slog.LevelWarn
	if kind == KindUrgent {
		level = slog.LevelError
	}
	r.log().LogAttrs(context.Background(), level, "feedback waits: no Slack channel for its unit; set units[].slack_channel or slack.all_channel",
		slog.String("unit", uid), slog.String("kind", kind), slog.Int("waiting", n))
}

func (r *Router) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r *Router) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

func (r *Router) shuffle(s []string) {
	f := r.Shuffle
	if f == nil {
		f = rand.Shuffle
	}
	f(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 500 {
		s = string(r[:500]) + "…"
	}
	return s
}

// Tick posts urgent alerts, makes the hourly batch when a new hour has begun, and the previous week's
// digest from Monday 8:00 on (local time; at the first new hour after that, so a restart or a lost lock
// at 8:00 does not skip a week: the digest is posted once per unit and week by its outbox key). A digest
// made without an error is not made again by this router; one that failed is retried at the next hour.
// Channels are read at start, so a unit without one gets its thanks only from a router started after one
// is set (within the week after the thanks' week). Call Tick often (every 15-30 s) on the replica that
// holds the scheduler's lock.
func (r *Router) Tick(ctx context.Context) error {
	errs := []error{r.Urgent(ctx)}
	h := r.now().Truncate(time.Hour)
	if r.lastHour.IsZero() {
		r.lastHour = h
	}
	if h.After(r.lastHour) {
		r.lastHour = h
		errs = append(errs, r.Hourly(ctx))
		local := h.In(r.loc())
		since := (int(local.Weekday()) + 6) % 7 // days since Monday
		monday8 := time.Date(local.Year(), local.Month(), local.Day()-since, 8, 0, 0, 0, r.loc())
		if prev := period.LastComplete(period.Week, local); !local.Before(monday8) && prev != r.lastDigest {
			err := r.Digest(ctx, prev)
			if err == nil {
				r.lastDigest = prev // else tried again next hour: posted once per unit by its key
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *Router) loc() *time.Location {
	if r.Location != nil {
		return r.Location
	}
	return time.UTC
}
