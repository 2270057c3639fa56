package main

// Fault tests on real processes: palaute serve killed with SIGKILL in the middle of a load, Redis stopped for
// 30 s and started again from its AOF, Slack refusing posts for a while.

import (
	"context"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/internal/fakebot"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
)

// runPeople takes the people through the youth survey of kotipesa, c at a time.
func runPeople(t *testing.T, d *webhookDriver, uids []int64, c int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	next := make(chan int64)
	var mu sync.Mutex
	var errs []error
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for uid := range next {
				if err := d.Survey(ctx, uid, "fi", "kotipesa", scaleAnswer(uid)); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, u := range uids {
		next <- u
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if i == 3 {
			t.Errorf("... and %d more", len(errs)-3)
			break
		}
		t.Error(err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
}

func people(from int64, n int) []int64 {
	uids := make([]int64, n)
	for i := range uids {
		uids[i] = from + int64(i)
	}
	return uids
}

// (a) kill -9 in the middle of a load of many conversations, then start again: Telegram sends every update
// that was not answered 200 again, and every answer is counted exactly once.
func TestKill9MidLoadCountsEveryAnswerOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	// A slow Bot API: an update spends most of its time being answered after it was stored, so the kills
	// find updates that were handled but not yet acknowledged (Telegram sends those again).
	fake := fakebot.New()
	p := startServe(t, procOpts{redisURL: srv.URL(), tg: slowSends(fake, 15*time.Millisecond)})
	p.fake = fake
	d := newDriver(p.fake, p.hook)
	uids := people(71_000_000, 48)
	total := int64(len(uids) * 8) // /start and 7 answers each, at least

	var kills atomic.Int32
	var killedAt []int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // kill at a quarter and at 60 % of the load, start again at once
		defer close(done)
		for _, frac := range []float64{0.25, 0.6} {
			for d.Acked.Load() < int64(frac*float64(total)) {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
			killedAt = append(killedAt, d.Acked.Load())
			p.Kill()
			kills.Add(1)
			if err := p.Start(context.Background()); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	runPeople(t, d, uids, 12)
	close(stop)
	<-done
	if kills.Load() != 2 {
		t.Fatalf("the load ended after %d kills (acknowledged %d of %d): not a kill in the middle of it", kills.Load(), d.Acked.Load(), total)
	}
	if d.Retries.Load() == 0 {
		t.Fatalf("no update had to be sent again: the kills (at %v acknowledged updates) hit no update in hand", killedAt)
	}
	t.Logf("killed at %v of ~%d acknowledged updates; %d deliveries repeated, %d handled before a kill and not answered again",
		killedAt, total, d.Retries.Load(), d.Resumed.Load())
	if d.Resumed.Load() == 0 {
		t.Errorf("no update was handled by a process that died before answering it: the hard case was not tested")
	}
	checkExactlyOnce(t, srv.Client(t), "kotipesa", uids)
}

// (b) and (c): Redis stopped for 30 s: people are told in their language to try again in a moment, nothing
// panics, palaute is not ready but alive, and it goes on by itself when Redis is back, from the AOF, with
// every conversation at its step.
func TestRedisDown30sThenBackFromAOF(t *testing.T) {
	t.Parallel()
	outage := 30 * time.Second
	if testing.Short() {
		outage = 5 * time.Second
	}
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "everysec")
	redisOutage(t, srv, srv.URL(), outage, 0, func() { srv.Down(t) }, func() { srv.Up(t) })
}

// A Redis that answers nothing (its host gone, a network cut, a failover under way): people are told in their
// language to try again, and patience, how long a person waits for that, is a few seconds, not go-redis's
// read timeout on every try of every command (35-40 s before the turn had a deadline); /readyz says 503 and
// palaute goes on by itself when Redis answers again.
func TestRedisCutOffThenBack(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	px := redistest.NewProxy(t, srv.Addr)
	redisOutage(t, srv, px.URL(), 0, 10*time.Second, px.Cut, px.Heal)
}

// redisOutage starts palaute serve on url (srv, or a way to it) and takes three people to question 3. Then,
// between down and up, at least once and for outage, they press and write and are told to try again, each in
// their language (within patience, when not 0: an update not answered by then is a failure, never sent
// again); palaute is alive but not ready. After up, every survey goes on from question 3, counted once.
func redisOutage(t *testing.T, srv *redistest.Server, url string, outage, patience time.Duration, down, up func()) {
	slack := newFakeSlack(t) // the sender, scheduler and router run through the outage too
	p := startServe(t, procOpts{redisURL: url, slack: slack})
	d := newDriver(p.fake, p.hook)
	if patience > 0 {
		d.Client.Timeout, d.Redeliver = patience, 0
	}
	ctx := context.Background()
	type person struct {
		uid       int64
		lang, msg string
		data      string // the button of question 3
	}
	ps := []person{{72_000_001, "fi", "Yritä hetken päästä uudelleen", ""}, {72_000_002, "sv", "Försök igen om en stund", ""},
		{72_000_003, "en", "Please try again in a moment", ""}}
	for i := range ps {
		pp := &ps[i]
		out, err := d.Send(ctx, pp.uid, pp.lang, "/start u-kotipesa")
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k <= 2; k++ {
			q, ok := lastQuestion(out)
			if !ok || q.step != k {
				t.Fatalf("%s: question %d not asked: %v", pp.lang, k, out)
			}
			if out, err = d.Press(ctx, pp.uid, pp.lang, q.prefix+"4"); err != nil {
				t.Fatal(err)
			}
		}
		q, ok := lastQuestion(out)
		if !ok || q.step != 3 {
			t.Fatalf("%s: question 3 not asked: %v", pp.lang, out)
		}
		pp.data = q.prefix + "5"
	}
	errors0 := p.metric(t, "palaute_redis_errors_total")

	down()
	downAt := time.Now()
	var longest time.Duration // the longest a person waited for "try again"
	for round := 0; round == 0 || time.Since(downAt) < outage; round++ {
		for _, pp := range ps {
			// A button press is answered once: with the notice in the callback's toast, or, when the
			// store took so long to fail that the press was answered first (250 ms), with the notice as a
			// message. A message is answered with a message.
			calls := len(p.fake.Recorded("answerCallbackQuery"))
			t0 := time.Now()
			sent, err := d.Press(ctx, pp.uid, pp.lang, pp.data)
			longest = max(longest, time.Since(t0))
			if err != nil {
				t.Fatalf("%s: a press while Redis is down was not answered 200: %v", pp.lang, err)
			}
			cb := p.fake.Recorded("answerCallbackQuery")[calls:]
			inToast := len(cb) == 1 && strings.Contains(cb[0].Values.Get("text"), pp.msg) && len(sent) == 0
			inMessage := len(cb) == 1 && cb[0].Values.Get("text") == "" && len(sent) == 1 && strings.Contains(sent[0].Text, pp.msg)
			if !inToast && !inMessage {
				t.Fatalf("%s: press while Redis is down answered %v and sent %v, want %q once", pp.lang, cb, sent, pp.msg)
			}
			t0 = time.Now()
			out, err := d.Send(ctx, pp.uid, pp.lang, "5")
			longest = max(longest, time.Since(t0))
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 1 || !strings.Contains(out[0].Text, pp.msg) {
				t.Fatalf("%s: message while Redis is down answered %v, want %q", pp.lang, out, pp.msg)
			}
		}
		if s := get(p.Addr, "/readyz"); s != 503 {
			t.Fatalf("/readyz = %d while Redis is down, want 503", s)
		}
		if s := get(p.Addr, "/healthz"); s != 200 {
			t.Fatalf("/healthz = %d while Redis is down, want 200 (the process is alive)", s)
		}
		// A scrape answers (get waits 5 s) with what palaute knows, and says the outbox depth is unknown.
		if s := get(p.Addr, "/metrics"); s != 200 {
			t.Fatalf("/metrics = %d while Redis is down, want 200: every metric would go missing in the outage", s)
		}
		if v := p.metric(t, "palaute_outbox_depth"); !math.IsNaN(v) {
			t.Fatalf("palaute_outbox_depth = %v while Redis is down, want NaN (unknown)", v)
		}
		if outage > 0 {
			time.Sleep(3 * time.Second)
		}
	}
	t.Logf("the longest wait for \"try again\" while Redis was out: %v", longest.Round(time.Millisecond))
	if n := p.metric(t, "palaute_redis_errors_total", `client="store"`); n <= errors0 {
		t.Errorf("palaute_redis_errors_total did not move during the outage: %v", n)
	}
	up()
	if patience > 0 {
		d.Client.Timeout, d.Redeliver = 60*time.Second, 50*time.Millisecond
	}
	eventually(t, 20*time.Second, "/readyz after Redis came back", func() bool { return get(p.Addr, "/readyz") == 200 })

	for _, pp := range ps {
		out, err := d.Press(ctx, pp.uid, pp.lang, pp.data)
		if err != nil {
			t.Fatal(err)
		}
		q, ok := lastQuestion(out)
		if !ok || q.step != 4 {
			t.Fatalf("%s: after Redis came back the survey did not go on from question 3: %v", pp.lang, out)
		}
	}
	// And it goes on to the end, counted once each.
	rdb := srv.Client(t)
	for _, pp := range ps {
		if err := d.SurveyFrom(ctx, pp.uid, pp.lang, step{text: "/survey"}, answers{choose: func(int, []string) string { return "4" }, text: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := unitCounts(t, rdb, "kotipesa")
	if got["n"] != 3 || got["nuoret.help=4"] != 3 || got["nuoret.together=5"] != 3 {
		t.Fatalf("after the outage: counters %v, want 3 responses with together=5 as answered before it", got)
	}
	if p.Signal(syscall.Signal(0)) != nil {
		t.Fatal("palaute serve is gone")
	}
}

// slowSends delays the Bot API's sendMessage.
func slowSends(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/sendMessage") {
			time.Sleep(d)
		}
		h.ServeHTTP(w, r)
	})
}

// lastQuestion is the last survey question in what the bot sent.
func lastQuestion(sent []fakebot.Sent) (question, bool) {
	ch := make(chan fakebot.Sent, len(sent))
	for _, s := range sent {
		ch <- s
	}
	q, ok, _ := read(ch)
	return q, ok
}

// (d) Slack answering 500 and 429 for a while, and once taking a post and never answering: afterwards every
// summary and every alert is in Slack exactly once.
func TestSlackFailingThenBackPostsEachOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	// Six youth answers in 2026-W47 and two urgent alerts, made before palaute starts.
	e := testenv.New(t, rdb, func(o *bot.Options) { o.Coder = crisisCoder{} })
	seedW47(t, e, "kotipesa", "9")
	c := e.Chat(t, "crisis", "fi")
	c.Send("/start u-kotipesa")
	c.Send("/stop")
	c.Send("HÄTÄ en jaksa enää")
	c.Press("Kyllä")

	slack := newFakeSlack(t)
	refuseUntil := time.Now().Add(6 * time.Second)
	slack.refuse = func(try int) int {
		if time.Now().After(refuseUntil) {
			return 0
		}
		if try == 1 {
			return hang // taken and never answered: slack.timeout lets the sender go on
		}
		if try%2 == 0 {
			return 429
		}
		return 500
	}
	// Monday 2026-11-23 07:00 in Helsinki: the weekly summaries of 2026-W47 are due.
	p := startServe(t, procOpts{redisURL: srv.URL(), slack: slack, env: map[string]string{"PALAUTE_TEST_CLOCK": "2026-11-23T07:00:00+02:00"},
		set: map[string]any{"slack.timeout": "2s"}})

	var summaries, alerts int
	eventually(t, 90*time.Second, "every summary and alert posted", func() bool {
		summaries, alerts = 0, 0
		for _, v := range slack.Posts() {
			switch text := v.Get("text"); {
			case strings.HasPrefix(text, "🚨"):
				alerts++
			case strings.Contains(text, "47"):
				summaries++
			}
		}
		depth := p.metric(t, "palaute_outbox_depth")
		return alerts >= 2 && summaries >= 2 && depth == 0
	})
	time.Sleep(3 * time.Second) // a second post would come now
	seen := map[string]int{}
	for _, v := range slack.Posts() {
		seen[v.Get("channel")+"\x00"+v.Get("text")]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("posted %d times: %q", n, strings.ReplaceAll(k, "\x00", ": "))
		}
	}
	slack.mu.Lock()
	hung := slack.hung
	slack.mu.Unlock()
	if hung != 1 {
		t.Errorf("Slack held %d posts unanswered, want 1: the test did not test a Slack that never answers", hung)
	}
	if slack.Tries() <= len(slack.Posts()) {
		t.Fatalf("Slack refused nothing (%d tries, %d posts): the test did not test", slack.Tries(), len(slack.Posts()))
	}
	var kotipesa bool
	for _, v := range slack.Posts() {
		if v.Get("channel") == "#palaute-kotipesa" && strings.Contains(v.Get("text"), "47") {
			kotipesa = true
		}
	}
	if !kotipesa {
		t.Errorf("no W47 summary in #palaute-kotipesa: %v", slack.Posts())
	}
	if n := p.metric(t, "palaute_outbox_retries_total"); n < 1 {
		t.Errorf("palaute_outbox_retries_total = %v after refused posts", n)
	}
	if n := p.metric(t, "palaute_summaries_posted_total"); int(n) != summaries {
		t.Errorf("palaute_summaries_posted_total = %v, Slack got %d summary posts", n, summaries)
	}
	if n := p.metric(t, "palaute_alerts_posted_total", `kind="urgent"`); int(n) != alerts {
		t.Errorf("palaute_alerts_posted_total{kind=urgent} = %v, Slack got %d alerts", n, alerts)
	}
}

// crisisCoder: "HÄTÄ" is a crisis, "kiitos" positive, everything else corrective.
type crisisCoder struct{}

func (crisisCoder) Code(lang, text string) (string, []string) {
	if strings.Contains(strings.ToLower(text), "kiitos") {
		return "positive", nil
	}
	return "corrective", []string{"food"}
}
func (crisisCoder) Crisis(text string) (string, bool) {
	return "self_harm", strings.Contains(text, "HÄTÄ")
}
