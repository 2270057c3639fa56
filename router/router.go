// Package router routes spontaneous feedback from the units' feedback streams to Slack: urgent alerts at
// once (crisis, with the young person's reference code when they asked to be contacted), corrective feedback
// in one anonymised message per unit in the next hourly batch (so timing does not point at anyone), and
// positive feedback in a weekly "kiitokset" digest. Every text is PII-scrubbed and shown shuffled, without time.
package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/period"
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
}

// ErrNoChannel means a unit's feedback has nowhere to go: neither units[].slack_channel nor
// slack.all_channel is set. Its entries wait in the stream until one is.
var ErrNoChannel = errors.New("no Slack channel")

// Group names on each unit's feedback stream.
const (
	groupUrgent = "urgent"
	groupHourly = "hourly"
)

func (r *Router) key(unit string) string { return r.Prefix + "{u:" + unit + "}:fb" }

func (r *Router) units() []string {
	ids := make([]string, 0, len(r.Units)+1)
	for _, u := range r.Units {
		ids = append(ids, u.ID)
	}
	return append(ids, NoUnit)
}

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
	if id != NoUnit {
		name = id
	}
	return config.Unit{ID: id, Names: map[string]string{"fi": name, "sv": name, "en": name}}, r.All
}

// NoUnit is the unit of feedback from someone who has not chosen one (bot.NoUnit).
const NoUnit = "_none"

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

// read returns this consumer's pending entries (left by a crash before their ack) when there are any,
// so a retried batch is the same batch; otherwise the new ones.
func (r *Router) read(ctx context.Context, unit, group string) ([]entry, error) {
	for _, start := range []string{"0", ">"} {
		res, err := r.RDB.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: r.Consumer,
			Streams: []string{r.key(unit), start}, Count: 1000, Block: -1}).Result()
		if errors.Is(err, redis.Nil) {
			continue
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
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, nil
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
			errs = append(errs, fmt.Errorf("urgent alerts of %s: %w: set units[].slack_channel or slack.all_channel", uid, ErrNoChannel))
			continue
		}
		es, err := r.read(ctx, uid, groupUrgent)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range es {
			class := e.fields["crisis"]
			if class == "" {
				continue
			}
			text := r.t("alert_urgent", locales.Data{"Unit": u.Name(r.Lang), "Class": r.t("crisis_class_" + class),
				"Audience": r.t("audience_" + e.fields["aud"])})
			if ref := e.fields["ref"]; ref != "" {
				text = r.t("alert_contact", locales.Data{"Unit": u.Name(r.Lang), "Code": ref})
			}
			if err := r.Outbox.Post(ctx, Post{Key: "urgent:" + uid + ":" + e.id, Channel: ch, Text: text}); err != nil {
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

// batchGrace is how long after the top of an hour a batch is still due at once: Tick makes the batch
// in the first seconds of the hour, and its post then says no more than "during the last hour".
const batchGrace = 2 * time.Minute

// Hourly posts one message per unit with the corrective feedback that arrived since the last batch,
// scrubbed and shuffled. A batch made at the top of an hour (by Tick) is due at once; one made later in
// the hour waits for the next full hour, so the time of the post never points at a message.
func (r *Router) Hourly(ctx context.Context) error {
	if err := r.ensureGroups(ctx); err != nil {
		return err
	}
	now := r.Now()
	slot := now.Truncate(time.Hour)
	if now.Sub(slot) > batchGrace {
		slot = slot.Add(time.Hour)
	}
	var errs []error
	for _, uid := range r.units() {
		if _, ch := r.unit(uid); ch == "" {
			errs = append(errs, fmt.Errorf("feedback of %s: %w: set units[].slack_channel or slack.all_channel", uid, ErrNoChannel))
			continue
		}
		es, err := r.read(ctx, uid, groupHourly)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var texts []string
		for _, e := range es {
			if e.fields["pol"] == "corrective" && e.fields["text"] != "" {
				texts = append(texts, r.Scrub.Scrub(e.fields["lang"], e.fields["text"]))
			}
		}
		if len(texts) > 0 {
			u, ch := r.unit(uid)
			r.shuffle(texts)
			var b strings.Builder
			b.WriteString(r.t("alert_corrective", locales.Data{"Unit": u.Name(r.Lang), "N": len(texts)}))
			for _, t := range texts {
				b.WriteString("\n• " + oneLine(t))
			}
			// A batch is keyed by its entries: a retry after a crash re-reads the same pending entries.
			key := "corrective:" + uid + ":" + es[0].id + ":" + es[len(es)-1].id
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

// Digest posts the week's positive feedback ("kiitokset") per unit, once per unit and week.
func (r *Router) Digest(ctx context.Context, week period.Period) error {
	var errs []error
	start := fmt.Sprint(week.Start().UnixMilli())
	end := fmt.Sprint(week.End().UnixMilli()-1) + "-18446744073709551615"
	for _, uid := range r.units() {
		if uid == NoUnit {
			continue
		}
		xs, err := r.RDB.XRange(ctx, r.key(uid), start, end).Result()
		if err != nil {
			errs = append(errs, fmt.Errorf("digest %s: %w", uid, err))
			continue
		}
		var texts []string
		for _, x := range xs {
			pol, _ := x.Values["pol"].(string)
			text, _ := x.Values["text"].(string)
			lang, _ := x.Values["lang"].(string)
			if pol == "positive" && text != "" {
				texts = append(texts, r.Scrub.Scrub(lang, text))
			}
		}
		if len(texts) == 0 {
			continue
		}
		u, ch := r.unit(uid)
		if ch == "" {
			errs = append(errs, fmt.Errorf("thanks digest of %s: %w", uid, ErrNoChannel))
			continue
		}
		r.shuffle(texts)
		var b strings.Builder
		b.WriteString(r.t("digest_thanks", locales.Data{"Unit": u.Name(r.Lang), "Week": week.String(), "N": len(texts)}))
		for _, t := range texts {
			b.WriteString("\n💚 " + oneLine(t))
		}
		if err := r.Outbox.Post(ctx, Post{Key: "digest:" + uid + ":" + week.String(), Channel: ch, Text: b.String()}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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
// at 8:00 does not skip a week: the digest is posted once per unit and week by its outbox key). Call it
// often (every 15-30 s) on the replica that holds the scheduler's lock.
func (r *Router) Tick(ctx context.Context) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	errs := []error{r.Urgent(ctx)}
	h := r.Now().Truncate(time.Hour)
	if r.lastHour.IsZero() {
		r.lastHour = h
	}
	if h.After(r.lastHour) {
		r.lastHour = h
		errs = append(errs, r.Hourly(ctx))
		local := h.In(r.loc())
		since := (int(local.Weekday()) + 6) % 7 // days since Monday
		monday8 := time.Date(local.Year(), local.Month(), local.Day()-since, 8, 0, 0, 0, r.loc())
		if prev := period.WeekOf(local).Prev(); !local.Before(monday8) && prev != r.lastDigest {
			err := r.Digest(ctx, prev)
			if err == nil {
				r.lastDigest = prev
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
