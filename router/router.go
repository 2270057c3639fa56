// Package router routes spontaneous feedback from the units' feedback streams to Slack: urgent alerts at
// once (crisis, with what the writer was told and what to do now, and the young person's reference code
// when they asked to be contacted; an alert carries no text), the feedback that is not praise in a daily
// batch per unit (corrective feedback first, then, under its own heading, the rest, so that a message the
// coder could not place still reaches someone), and positive feedback in a weekly "kiitokset" digest.
// Every text is PII-scrubbed and shown shuffled, without time, in posts that keep under Slack's limits.
//
// The time of a post must not point at a writer: in a family home of three or four young people, who was
// on their phone in a given hour is known. So a unit's batch is made at most once a day, at
// routing.batch_hour (local time), and posted only when at least routing.min_batch messages wait; fewer
// are carried over (a set of stream ids in Redis, no time) to the next day. Carried messages are posted
// whatever their number at the first batch hour routing.max_wait after the start of the ISO week they were
// written in: a lone message posted then tells no more than its week (a per-message clock would tell its
// day, counted back from the post). The weekly thanks wait for min_batch messages too: fewer are carried
// to the next week's digest for as many whole weeks as max_wait holds, and posted then whatever their
// number. min_batch counts messages, not writers: the stream holds no pseudonym to tell them apart.
//
// Feedback that has nowhere to go (no units[].slack_channel and no slack.all_channel) is kept in its
// stream. Channels are read at start: alerts and batches are posted by the first router started after a
// channel is set; the weekly thanks, whose digest is made once a week, only when that router starts within
// the week after the thanks' week. Meanwhile the router counts what waits (Waiting) and logs it at most
// once an hour per unit and kind, without any text.
package router

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

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

// Outbox takes posts for Slack; it posts each Key exactly once. Posts given together (the parts of a
// long batch) are taken whole or not at all, once per the first one's Key, and posted in their order.
type Outbox interface {
	Post(ctx context.Context, ps ...Post) error
}

// Scrubber removes personal data from free text.
type Scrubber interface {
	Scrub(lang, text string) string
}

// Router reads the feedback streams. Run it on one replica at a time (under the scheduler's lock).
type Router struct {
	RDB    redis.UniversalClient
	Prefix string
	Units  []config.Unit
	All    string // channel for alerts without a unit (and the organisation-wide view)
	// Safeguarding, when set, is where alerts that may be about violence or abuse at home (notifyClasses,
	// their contact requests too) go instead of the unit's channel: in a family home the unit's own adults
	// may be the ones the message is about.
	Safeguarding string
	Lang         string // staff language
	Outbox       Outbox
	Scrub        Scrubber
	Catalog      *locales.Catalog
	Log          *slog.Logger
	Now          func() time.Time
	Consumer     string // this replica's name in the consumer groups
	Shuffle      func(n int, swap func(i, j int))
	Location     *time.Location // for the batch hour and the digest's Monday morning
	// Routing says when feedback texts are posted (config routing); zero (MinBatch 0): its defaults.
	Routing config.Routing
	// Help is what the engine shows a writer whose message suggests danger (config help.contacts), which
	// the alert lists; nil: config.DefaultContacts().
	Help []config.Contact

	lastHour   time.Time
	batchSlot  time.Time // the batch slot Batch last went through without an error
	lastDigest period.Period
	claimed    map[string]time.Time // unit/group -> when claim last ran

	mu      sync.Mutex
	waiting map[string]int       // kind/unit -> entries kept for want of a channel
	warned  map[string]time.Time // kind/unit -> when that was last logged
}

// Kinds of routed feedback, as Waiting counts them (and palaute_feedback_waiting_<kind> shows).
const (
	KindUrgent = "urgent" // crisis alerts and contact requests
	KindBatch  = "batch"  // the daily batch: corrective and other feedback that is not praise
	KindDigest = "digest" // the weekly thanks
)

// Post kinds: the first part of the outbox key of each feedback post, which metrics count posts by.
// The outbox posts each key once, so these strings must not change: in keys and metrics the batch
// (KindBatch) is "corrective", as it has always been.
const (
	PostUrgent = "urgent"
	PostBatch  = "corrective"
	PostDigest = "digest"
)

// PostKinds are the post kinds, in that order.
var PostKinds = []string{PostUrgent, PostBatch, PostDigest}

// PostKind is the kind of a post, the first part of its outbox key (the whole key if it has no ':').
func PostKind(key string) string { return strings.SplitN(key, ":", 2)[0] }

// warnEvery is how often at most the router logs that a unit's feedback of one kind waits for a channel.
const warnEvery = time.Hour

// claimIdle is how long an entry read by another consumer (a replica that died or lost the scheduler's
// lock before acknowledging it) stays with it before this router takes it over, and how often at most
// the router looks for such entries.
const claimIdle = 5 * time.Minute

// Group names on each unit's feedback stream. The batch's group keeps the name it was created with.
const (
	groupUrgent = "urgent"
	groupBatch  = "hourly"
)

// key is the unit's feedback stream, where the engine's store publishes it.
func (r *Router) key(unit string) string { return r.ukey(unit, "fb") }

// ukey is a key of the unit, in the hash slot of its stream, so one script can change both.
func (r *Router) ukey(unit, rest string) string {
	return store.New(r.RDB, r.Prefix).UnitKey(unit, rest)
}

// The unit's routing state, each in its hash slot: entry ids and week names, no time finer than a day.
const (
	keyCarry   = "fb:carry"   // set: ids of feedback waiting for the batch (min_batch not reached)
	keySending = "fb:sending" // set: ids of a batch chosen to be posted, until it is in the outbox
	keyBatched = "fb:batched" // the local date of the last batch made (at most one a day), kept 2 days
	keyDigest  = "fb:digest"  // hash: from = first week of thanks carried over, done = last week decided
)

func (r *Router) routing() config.Routing {
	if r.Routing.MinBatch < 1 {
		return config.DefaultRouting()
	}
	return r.Routing
}

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
		for _, g := range []string{groupUrgent, groupBatch} {
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

// readKept returns this consumer's pending entries and the new ones together: for a unit whose kept
// entries stay pending until it has a channel, while what can go already goes.
func (r *Router) readKept(ctx context.Context, unit, group string) ([]entry, error) {
	if _, err := r.claim(ctx, unit, group); err != nil {
		return nil, err
	}
	kept, err := r.readFrom(ctx, unit, group, "0")
	if err != nil {
		return nil, err
	}
	fresh, err := r.readFrom(ctx, unit, group, ">")
	return append(kept, fresh...), err
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
			out = append(out, entryOf(m))
		}
	}
	return out, nil
}

// entryOf is a stream message as an entry (its values are strings).
func entryOf(m redis.XMessage) entry {
	f := make(map[string]string, len(m.Values))
	for k, v := range m.Values {
		f[k], _ = v.(string)
	}
	return entry{m.ID, f}
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
		if ch == "" && r.Safeguarding == "" {
			errs = append(errs, r.noChannel(ctx, uid, KindUrgent, groupUrgent, isUrgent))
			continue
		}
		read := r.read
		if ch == "" {
			read = r.readKept // the alerts kept for a channel are pending: new ones must still be read
		}
		es, err := read(ctx, uid, groupUrgent)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var done []entry // posted, or not an alert; the rest waits for the unit's channel
		failed := false
		for _, e := range es {
			if !isUrgent(e) {
				done = append(done, e)
				continue
			}
			to := ch
			if r.Safeguarding != "" && notifyClasses[e.fields["crisis"]] {
				to = r.Safeguarding
			}
			if to == "" {
				continue
			}
			if err := r.Outbox.Post(ctx, Post{Key: PostUrgent + ":" + uid + ":" + e.id, Channel: to, Text: r.alert(u, e)}); err != nil {
				errs = append(errs, err)
				done, failed = nil, true // do not ack: posted again (once, by key) next time
				break
			}
			done = append(done, e)
		}
		if err := r.ack(ctx, uid, groupUrgent, done); err != nil {
			errs, failed = append(errs, err), true
		}
		switch {
		case ch != "":
			r.setWaiting(KindUrgent, uid, 0)
		case !failed: // what is pending now is what waits for a channel (after a failure, more: count next time)
			if err := r.countWaiting(ctx, uid, KindUrgent, groupUrgent); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func isUrgent(e entry) bool { return e.fields["crisis"] != "" }

// notifyClasses are the crisis classes that may mean violence or abuse at home, for which the alert
// says to consider a child-welfare notification.
var notifyClasses = map[string]bool{"violence": true, "abuse": true, "unsafe_home": true}

// alert is the text of an urgent entry. A crisis alert says what the message suggests, what the writer
// was shown (the configured help contacts, and the offer to talk to a staff member) and what to do now;
// a contact request (the entry with the reference code the writer got) says the class too, and what a
// staff member shown the code is to do.
func (r *Router) alert(u config.Unit, e entry) string {
	class, aud := e.fields["crisis"], e.fields["aud"]
	if aud == "" {
		aud = "unknown"
	}
	d := locales.Data{"Unit": u.Name(r.Lang), "Class": r.t("crisis_class_" + class), "Audience": r.t("audience_" + aud)}
	var lines []string
	if ref := e.fields["ref"]; ref != "" {
		d["Code"], d["Who"] = ref, r.t("contact_who_"+aud)
		lines = []string{r.t("alert_contact", d)}
	} else {
		d["Help"] = r.helpList()
		lines = []string{r.t("alert_urgent", d), r.t("alert_shown", d), r.t("alert_todo")}
	}
	if notifyClasses[class] {
		lines = append(lines, r.t("alert_todo_notify"))
	}
	return strings.Join(lines, "\n")
}

// helpList is the help contacts as the writer saw them, shortened: "Emergency number 112, MLL Child and
// Youth Helpline 116 111, Sekasin chat (ages 12-29) sekasin247.fi, ...".
func (r *Router) helpList() string {
	hs := r.Help
	if len(hs) == 0 {
		hs = config.DefaultContacts()
	}
	var out []string
	for _, h := range hs {
		at := h.Phone
		if at == "" {
			at = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(h.URL, "https://"), "http://"), "www.")
		}
		out = append(out, strings.TrimSpace(h.Name.In(r.Lang)+" "+at))
	}
	return strings.Join(out, ", ")
}

// inBatch reports whether an entry belongs in the batch: feedback text that is not praise (corrective,
// neutral, or a polarity the coder did not give). Praise waits for the weekly digest.
func inBatch(e entry) bool { return e.fields["text"] != "" && e.fields["pol"] != "positive" }

// batchWindow is how long after the batch hour a batch is still made: a router that starts (or gets the
// scheduler's lock) later makes it the next day, so a post never comes at another hour of the day.
const batchWindow = time.Hour

// maxBatch is the most messages one batch takes (the oldest; the rest wait for the next day's).
const maxBatch = 1000

// slot is the batch hour at or before t: today's if t is past it (local time), else yesterday's.
func (r *Router) slot(t time.Time) time.Time {
	l := t.In(r.loc())
	s := time.Date(l.Year(), l.Month(), l.Day(), r.routing().BatchHour, 0, 0, 0, r.loc())
	if l.Before(s) {
		s = time.Date(l.Year(), l.Month(), l.Day()-1, r.routing().BatchHour, 0, 0, 0, r.loc())
	}
	return s
}

// Batch makes the day's batch of each unit when called within an hour after the batch hour
// (routing.batch_hour, local time), once a day per unit, whichever replica calls it: it takes the unit's
// new feedback that is not praise into the carried-over set, and when at least routing.min_batch
// messages wait there, or one of them was written in an ISO week that began routing.max_wait or more
// before the batch hour, it posts them all (up to maxBatch, the oldest first): the corrective messages
// first, then under a heading of their own the others (neutral, or anything the coder did not call
// corrective), scrubbed and each part shuffled, split into numbered posts that keep under Slack's
// limits. Otherwise they wait for the next day. Called at another time it only posts a batch that an
// earlier call chose and could not hand to the outbox, and counts what waits for a channel.
//
// Delivery: an entry is acknowledged in its group only together with its id's move into the carried
// set (one script, the stream's hash slot); a chosen batch is moved whole into the sending set and
// posted under a key of its first and last ids until the outbox has it; so every message is posted
// once, also when a replica stops at any point.
func (r *Router) Batch(ctx context.Context) error {
	if err := r.ensureGroups(ctx); err != nil {
		return err
	}
	now := r.now()
	slot := r.slot(now)
	due := now.Sub(slot) < batchWindow
	var errs []error
	for _, uid := range r.units() {
		u, ch := r.unit(uid)
		if ch == "" {
			errs = append(errs, r.noChannel(ctx, uid, KindBatch, groupBatch, inBatch))
			continue
		}
		r.setWaiting(KindBatch, uid, 0)
		if err := r.batchUnit(ctx, u, ch, slot, due); err != nil {
			errs = append(errs, fmt.Errorf("batch %s: %w", uid, err))
		}
	}
	return errors.Join(errs...)
}

// batchUnit posts the batch chosen before, if any; then, when due, makes the day's batch of the unit
// unless it was made already.
func (r *Router) batchUnit(ctx context.Context, u config.Unit, ch string, slot time.Time, due bool) error {
	uid := u.ID
	if err := r.sendChosen(ctx, u, ch); err != nil || !due {
		return err
	}
	day := slot.Format(time.DateOnly)
	prev, err := r.RDB.SetArgs(ctx, r.ukey(uid, keyBatched), day, redis.SetArgs{Get: true, TTL: 48 * time.Hour}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	if prev == day {
		return nil // made today: by this router, or by another before it stopped
	}
	// From here a failure leaves the rest to the next day: a second batch the same day would come at
	// another hour, holding what was written since the batch hour.
	if err := r.intake(ctx, uid); err != nil {
		return err
	}
	ids, err := r.RDB.SMembers(ctx, r.ukey(uid, keyCarry)).Result()
	if err != nil {
		return err
	}
	es, missing, err := r.entries(ctx, uid, ids)
	if err != nil {
		return err
	}
	if len(missing) > 0 { // deleted by the retention sweep: nothing to post
		if err := r.RDB.SRem(ctx, r.ukey(uid, keyCarry), missing).Err(); err != nil {
			return err
		}
	}
	if len(es) == 0 || len(es) < r.routing().MinBatch && !r.overdue(es, slot) {
		return nil
	}
	if len(es) > maxBatch {
		es = es[:maxBatch]
	}
	chosen := make([]any, len(es))
	for i, e := range es {
		chosen[i] = e.id
	}
	if err := chooseScript.Run(ctx, r.RDB, []string{r.ukey(uid, keyCarry), r.ukey(uid, keySending)}, chosen...).Err(); err != nil {
		return err
	}
	return r.send(ctx, u, ch, es)
}

// intakeScript moves entries the batch's group read into the carried set: KEYS carry set, stream;
// ARGV group, how many ids to carry, those ids, then the ids to acknowledge (all that were read).
var intakeScript = redis.NewScript(`
local n = tonumber(ARGV[2])
for i = 3, 2 + n do redis.call('SADD', KEYS[1], ARGV[i]) end
local ids = {}
for i = 3 + n, #ARGV do ids[#ids + 1] = ARGV[i] end
if #ids > 0 then redis.call('XACK', KEYS[2], ARGV[1], unpack(ids)) end
return 1
`)

// chooseScript moves the ids ARGV from the carried set KEYS[1] to the sending set KEYS[2].
var chooseScript = redis.NewScript(`
for i = 1, #ARGV do
  if redis.call('SREM', KEYS[1], ARGV[i]) == 1 then redis.call('SADD', KEYS[2], ARGV[i]) end
end
return 1
`)

// intake reads what the batch's group has for this consumer (what it read before and kept, as a unit
// without a channel does, and what it took over from a stopped replica) and what is new, and moves it
// into the carried set, acknowledging it: praise and alerts are acknowledged without being carried.
func (r *Router) intake(ctx context.Context, uid string) error {
	if _, err := r.claim(ctx, uid, groupBatch); err != nil {
		return err
	}
	for _, start := range []string{"0", ">"} {
		for range 100 { // 100 000 entries at most in a day
			es, err := r.readFrom(ctx, uid, groupBatch, start)
			if err != nil || len(es) == 0 {
				if err != nil {
					return err
				}
				break
			}
			var carry, all []any
			for _, e := range es {
				if inBatch(e) {
					carry = append(carry, e.id)
				}
				all = append(all, e.id)
			}
			args := append(append([]any{groupBatch, len(carry)}, carry...), all...)
			if err := intakeScript.Run(ctx, r.RDB, []string{r.ukey(uid, keyCarry), r.key(uid)}, args...).Err(); err != nil {
				return fmt.Errorf("carry over: %w", err)
			}
		}
	}
	return nil
}

// entries reads the stream entries ids of a unit, oldest first; missing are those not in the stream.
func (r *Router) entries(ctx context.Context, uid string, ids []string) (es []entry, missing []string, err error) {
	slices.SortFunc(ids, compareIDs)
	cmds := make([]*redis.XMessageSliceCmd, len(ids))
	_, err = r.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.XRangeN(ctx, r.key(uid), id, id, 1)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", uid, err)
	}
	for i, c := range cmds {
		xs := c.Val()
		if len(xs) == 0 {
			missing = append(missing, ids[i])
			continue
		}
		es = append(es, entry{ids[i], entryOf(xs[0]).fields})
	}
	return es, missing, nil
}

// compareIDs orders stream ids ("ms-seq") by time, then sequence.
func compareIDs(a, b string) int {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	if c := cmp.Compare(len(am), len(bm)); c != 0 {
		return c
	}
	if c := strings.Compare(am, bm); c != 0 {
		return c
	}
	if c := cmp.Compare(len(as), len(bs)); c != 0 {
		return c
	}
	return strings.Compare(as, bs)
}

// overdue reports whether one of es was written in an ISO week that began routing.max_wait or more
// before slot (the week's start: the entry's week, else its id's time, which is the week's start).
func (r *Router) overdue(es []entry, slot time.Time) bool {
	for _, e := range es {
		var start time.Time
		if w, err := period.Parse(e.fields["week"]); err == nil && w.Kind == period.Week {
			start = w.Start()
		} else {
			ms, _, _ := strings.Cut(e.id, "-")
			n, _ := strconv.ParseInt(ms, 10, 64)
			start = time.UnixMilli(n)
		}
		if !start.Add(r.routing().MaxWait.D()).After(slot) {
			return true
		}
	}
	return false
}

// sendChosen hands the batch in the sending set to the outbox, once (its key is its first and last ids:
// the entries of one batch are in no other), and empties the set.
func (r *Router) sendChosen(ctx context.Context, u config.Unit, ch string) error {
	uid := u.ID
	ids, err := r.RDB.SMembers(ctx, r.ukey(uid, keySending)).Result()
	if err != nil || len(ids) == 0 {
		return err
	}
	es, _, err := r.entries(ctx, uid, ids)
	if err != nil {
		return err
	}
	return r.send(ctx, u, ch, es)
}

// send posts the batch es (the sending set's entries, sorted by id) under a key of its first and last ids,
// and empties the sending set.
func (r *Router) send(ctx context.Context, u config.Unit, ch string, es []entry) error {
	if len(es) > 0 {
		key := PostBatch + ":" + u.ID + ":" + es[0].id + ":" + es[len(es)-1].id
		if err := r.Outbox.Post(ctx, r.batchPosts(u, ch, key, es)...); err != nil {
			return err
		}
	}
	return r.RDB.Del(ctx, r.ukey(u.ID, keySending)).Err()
}

// batchPosts are the posts of a batch: its scrubbed texts, corrective first, each part shuffled.
func (r *Router) batchPosts(u config.Unit, ch, key string, es []entry) []Post {
	var corrective, other []string
	for _, e := range es {
		t := r.Scrub.Scrub(e.fields["lang"], e.fields["text"])
		if e.fields["pol"] == "corrective" {
			corrective = append(corrective, t)
		} else {
			other = append(other, t)
		}
	}
	r.shuffle(corrective)
	r.shuffle(other)
	name := u.Name(r.Lang)
	var head string
	var items []string
	if len(corrective) > 0 {
		head = r.t("alert_corrective", locales.Data{"Unit": name, "N": len(corrective)})
		items = r.bullets("• ", corrective)
	}
	if len(other) > 0 {
		o := r.bullets("• ", other)
		if len(corrective) > 0 {
			o[0] = "\n" + r.t("alert_other_section", locales.Data{"N": len(other)}) + "\n" + o[0]
		} else {
			head = r.t("alert_other", locales.Data{"Unit": name, "N": len(other)})
		}
		items = append(items, o...)
	}
	notes := []string{r.t("batch_note", locales.Data{"N": r.routing().MinBatch}), r.t("scrubbed_note")}
	return r.split(key, ch, head, notes, r.t("batch_continued", locales.Data{"Unit": name}), items)
}

// postLimit is the most characters of a post's text as Slack counts them (after the sender escapes
// & < >): Slack refuses 40 000 (msg_too_long, which the sender takes as final) and splits a text over
// 4 000 into several messages of its own, which would cut a message and the numbering.
const postLimit = 3900

// itemLimit is the most characters of one message in a post (a post of its own with the short heading
// of a continued batch): a longer one (the engine takes up to 4 000) is cut and says so.
const itemLimit = 3600

// slackLen is the length of s as Slack may count it once the sender has escaped it: in UTF-16 code
// units (an emoji is two), & as &amp;, < and > as &lt; and &gt;.
func slackLen(s string) int {
	n := 0
	for _, c := range s {
		n += utf16.RuneLen(c)
	}
	return n + 4*strings.Count(s, "&") + 3*strings.Count(s, "<") + 3*strings.Count(s, ">")
}

// bullets are texts as one line each after mark, a text too long cut with "(shortened)".
func (r *Router) bullets(mark string, texts []string) []string {
	out := make([]string, len(texts))
	for i, t := range texts {
		t = strings.Join(strings.Fields(t), " ")
		if slackLen(t) > itemLimit {
			cut := " " + r.t("shortened")
			rs := []rune(t)
			for slackLen(string(rs))+slackLen(cut) > itemLimit {
				rs = rs[:len(rs)-max(1, (slackLen(string(rs))+slackLen(cut)-itemLimit)/4)]
			}
			if sp := strings.LastIndexFunc(string(rs), unicode.IsSpace); sp > 0 && utf8.RuneCountInString(string(rs)[sp:]) <= 30 {
				rs = []rune(string(rs)[:sp]) // at a word's end when there is one near
			}
			t = strings.TrimRightFunc(string(rs), unicode.IsSpace) + cut
		}
		out[i] = mark + t
	}
	return out
}

// split lays items out in posts of at most postLimit characters: the first starts with head and notes,
// the next ones with cont; when there are several, the first line of each says which part it is
// ("(2/3)"). The first post's key is key, the next ones' key:2, key:3, ...
func (r *Router) split(key, ch, head string, notes []string, cont string, items []string) []Post {
	room := postLimit - slackLen(" "+r.t("post_part", locales.Data{"I": 99, "M": 99}))
	first := append([]string{head}, notes...)
	var parts [][]string
	cur, n, filled := first, slackLen(strings.Join(first, "\n")), false
	for _, it := range items {
		l := slackLen(it)
		if n+1+l > room && (filled || len(parts) == 0) { // a first post may be headings only
			parts = append(parts, cur)
			cur, n = []string{cont}, slackLen(cont)
		}
		cur, n, filled = append(cur, it), n+1+l, true
	}
	parts = append(parts, cur)
	posts := make([]Post, len(parts))
	for i, p := range parts {
		if len(parts) > 1 {
			p[0] += " " + r.t("post_part", locales.Data{"I": i + 1, "M": len(parts)})
		}
		k := key
		if i > 0 {
			k = fmt.Sprintf("%s:%d", key, i+1)
		}
		posts[i] = Post{Key: k, Channel: ch, Text: strings.Join(p, "\n")}
	}
	return posts
}

// digestState is a unit's digest state: the first week of thanks carried over ("" none), and the last
// week whose digest was decided (posted, carried over, or empty).
func (r *Router) digestState(ctx context.Context, uid string) (from, done period.Period, err error) {
	st, err := r.RDB.HGetAll(ctx, r.ukey(uid, keyDigest)).Result()
	if err != nil {
		return from, done, err
	}
	from, _ = period.Parse(st["from"])
	done, _ = period.Parse(st["done"])
	return from, done, nil
}

// Digest posts the week's positive feedback ("kiitokset") per unit, once per unit and week, when at least
// routing.min_batch thanks wait: the week's, and those of earlier weeks carried over. Fewer are carried
// over to the next week's digest, for as many whole weeks as routing.max_wait holds (none under 7 days),
// and posted then whatever their number. A week already decided is not decided again. The thanks of a
// unit without a channel are counted (Waiting) and logged, not scrubbed nor posted; that is not an
// error, and it decides nothing: Digest of the same week made again with a channel (after a restart)
// posts them.
func (r *Router) Digest(ctx context.Context, week period.Period) error {
	var errs []error
	carryWeeks := int(r.routing().MaxWait.D() / (7 * 24 * time.Hour))
	for _, uid := range r.units() {
		u, ch := r.unit(uid)
		from, done, err := r.digestState(ctx, uid)
		if err != nil {
			errs = append(errs, fmt.Errorf("digest %s: %w", uid, err))
			continue
		}
		if done.Kind == period.Week && !done.Start().Before(week.Start()) {
			continue
		}
		if from.Kind != period.Week || !from.Start().Before(week.Start()) {
			from = week
		}
		start := fmt.Sprint(from.Start().UnixMilli())
		end := fmt.Sprint(week.End().UnixMilli()-1) + "-18446744073709551615"
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
			r.keep(KindDigest, uid, n)
			continue
		}
		r.setWaiting(KindDigest, uid, 0)
		held := int(week.Start().Sub(from.Start()) / (7 * 24 * time.Hour)) // weeks the first thanks were carried
		state := map[string]any{"done": week.String(), "from": ""}
		switch {
		case n == 0:
		case n < r.routing().MinBatch && held < carryWeeks:
			state["from"] = from.String()
		default:
			r.shuffle(texts)
			key, head := PostDigest+":"+uid+":"+week.String(), ""
			d := locales.Data{"Unit": u.Name(r.Lang), "Week": week.String(), "From": from.String(), "N": len(texts)}
			if from == week {
				head = r.t("digest_thanks", d)
			} else {
				key = PostDigest + ":" + uid + ":" + from.String() + ".." + week.String()
				head = r.t("digest_thanks_weeks", d)
			}
			notes := []string{r.t("digest_note", locales.Data{"N": r.routing().MinBatch}), r.t("scrubbed_note")}
			posts := r.split(key, ch, head, notes, r.t("digest_continued", d), r.bullets("💚 ", texts))
			if err := r.Outbox.Post(ctx, posts...); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if err := r.RDB.HSet(ctx, r.ukey(uid, keyDigest), state).Err(); err != nil {
			errs = append(errs, fmt.Errorf("digest %s: %w", uid, err))
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
	return r.countWaiting(ctx, uid, kind, group)
}

// countWaiting counts (Waiting) and logs the entries of a kind that uid's stream keeps for this replica
// until the unit has a channel.
func (r *Router) countWaiting(ctx context.Context, uid, kind, group string) error {
	p, err := r.RDB.XPending(ctx, r.key(uid), group).Result()
	if err != nil {
		return fmt.Errorf("pending %s/%s: %w", uid, group, err)
	}
	r.keep(kind, uid, int(p.Consumers[r.Consumer]))
	return nil
}

// keep counts (Waiting) and, when there are any, logs n entries of a kind that uid keeps for want of a
// channel.
func (r *Router) keep(kind, uid string, n int) {
	r.setWaiting(kind, uid, n)
	if n > 0 {
		r.warn(uid, kind, n)
	}
}

// Waiting is how many entries of a kind (KindUrgent, KindBatch, KindDigest) wait in their streams
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

// Tick posts urgent alerts; makes the day's batch when the batch hour has come (routing.batch_hour,
// local time: at the first tick within the hour after it, until it goes through; a router that starts
// later makes the next day's); at its first tick and each new hour posts a batch that could not be handed
// to the outbox before and counts what waits for a channel; and makes the previous week's digest from
// Monday 8:00 on (local time; at its first tick or new hour after that, so a restart or a lost lock at
// 8:00 does not skip a week: the digest is decided once per unit and week, in Redis). A digest made
// without an error is not made again by this router; one that failed is retried at the next hour.
// Channels are read at start, so a unit without one gets its thanks only from a router started after one
// is set (within the week after the thanks' week). Call Tick often (every 15-30 s) on the replica that
// holds the scheduler's lock.
func (r *Router) Tick(ctx context.Context) error {
	errs := []error{r.Urgent(ctx)}
	now := r.now()
	h := now.Truncate(time.Hour)
	slot := r.slot(now)
	batchHour := now.Sub(slot) < batchWindow
	newHour := r.lastHour.IsZero() || h.After(r.lastHour)
	if newHour || batchHour && !r.batchSlot.Equal(slot) {
		r.lastHour = h
		err := r.Batch(ctx)
		if err == nil && batchHour {
			r.batchSlot = slot // else tried again at the next tick: made once a day per unit, in Redis
		}
		errs = append(errs, err)
	}
	if newHour {
		local := h.In(r.loc())
		since := (int(local.Weekday()) + 6) % 7 // days since Monday
		monday8 := time.Date(local.Year(), local.Month(), local.Day()-since, 8, 0, 0, 0, r.loc())
		if prev := period.LastComplete(period.Week, local); !local.Before(monday8) && prev != r.lastDigest {
			err := r.Digest(ctx, prev)
			if err == nil {
				r.lastDigest = prev // else tried again next hour: decided once per unit and week
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
