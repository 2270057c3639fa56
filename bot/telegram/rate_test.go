package telegram_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/bot/telegram"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/store"
)

// burst sends one reply to each of n chats at once through the webhook, against a fake Bot API that answers
// 429 beyond limit sends per second, and returns how many sends were delivered and refused.
func burst(tb testing.TB, r *rig, n int) (delivered, refused int, took time.Duration) {
	tb.Helper()
	r.fake.Limit(30)
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		up := r.message(int64(500000+i), "ruoka oli hyvää")
		go func() {
			defer func() { <-sem; wg.Done() }()
			r.post(up, secret)
		}()
	}
	wg.Wait()
	took = time.Since(start)
	for _, c := range r.fake.Recorded("sendMessage") {
		if c.Status == 429 {
			refused++
		} else {
			delivered++
		}
	}
	return delivered, refused, took
}

func oneReply(ctx context.Context, in bot.Input) ([]bot.Reply, error) {
	return []bot.Reply{{Text: "kiitos"}}, nil
}

// Messages to many chats at once are spaced by the shared limiter so that Telegram never answers 429.
func TestGlobalRateHasNo429s(t *testing.T) {
	if testing.Short() {
		t.Skip("sends at 30 msg/s for a few seconds")
	}
	r := newRig(t, newEnv(t), func(o *telegram.Options) {
		o.Engine, o.GlobalRate, o.PerChatRate = handlerFunc(oneReply), 30, 1
	})
	delivered, refused, _ := burst(t, r, 75)
	if refused != 0 || delivered != 75 {
		t.Fatalf("%d delivered, %d answered 429; want 75 and none", delivered, refused)
	}
}

// The same with the real engine, whose turns take their first places in the round trips of their commits:
// 50 new people write at once, and each gets its two messages (the thanks and the question which unit)
// with no 429.
func TestGlobalRateHasNo429sWithTheEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("sends at 30 msg/s for a few seconds")
	}
	r := newRig(t, newEnv(t), func(o *telegram.Options) { o.GlobalRate, o.PerChatRate = 30, 1 })
	delivered, refused, _ := burst(t, r, 50)
	if refused != 0 || delivered != 100 {
		t.Fatalf("%d delivered, %d answered 429; want 100 and none", delivered, refused)
	}
}

// BenchmarkSendBurst is the outbound send rate under a burst of b.N messages to b.N chats against a fake Bot
// API that enforces 30 msg/s with 429s (go test -run '^$' -bench SendBurst -benchtime 10000x ./bot/telegram/).
func BenchmarkSendBurst(b *testing.B) {
	r := newRig(b, newEnv(b), func(o *telegram.Options) {
		o.Engine, o.GlobalRate, o.PerChatRate = handlerFunc(oneReply), 30, 1
	})
	b.ResetTimer()
	delivered, refused, took := burst(b, r, b.N)
	b.ReportMetric(float64(delivered)/took.Seconds(), "msgs/s")
	b.ReportMetric(float64(refused), "429s")
}

// A chat gets about PerChatRate messages a second after a burst of four seconds' worth, however its turns
// split them: the chat's limit is taken once per turn for all the turn's messages, and turns share it.
func TestChatRateAcrossTurns(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a chat's limit for 3 s")
	}
	n := 0
	r := newRig(t, newEnv(t), func(o *telegram.Options) {
		o.PerChatRate, o.GlobalRate = 1, 1000
		o.Engine = handlerFunc(func(ctx context.Context, in bot.Input) ([]bot.Reply, error) {
			var out []bot.Reply
			for range 3 {
				n++
				out = append(out, bot.Reply{Text: fmt.Sprint("viesti ", n)})
			}
			return out, nil
		})
	})
	const chat = 31
	r.post(r.message(chat, "yksi"), secret)  // messages 1-3: within the burst
	r.post(r.message(chat, "kaksi"), secret) // 4 within it, then 5 and 6 a second apart
	r.post(r.message(99, "muu"), secret)     // another chat is not held up
	calls := r.sent(chat, "sendMessage")
	if len(calls) != 6 {
		t.Fatalf("%d messages, want 6", len(calls))
	}
	for i, c := range calls {
		if want := fmt.Sprint("viesti ", i+1); c.Values.Get("text") != want {
			t.Fatalf("message %d is %q, want %q", i, c.Values.Get("text"), want)
		}
	}
	first := calls[0].At
	if d := calls[3].At.Sub(first); d > 500*time.Millisecond {
		t.Errorf("message 4 waited %v; the burst allows 4 at once", d)
	}
	// Turn 2 needs 3 with 1 left in the burst: one goes at once, the others a second apart.
	if d := calls[4].At.Sub(first); d < 800*time.Millisecond {
		t.Errorf("message 5 went %v after the first; want about 1 s (1 msg/s after a burst of 4)", d)
	}
	if d := calls[5].At.Sub(first); d < 1800*time.Millisecond {
		t.Errorf("message 6 went %v after the first; want about 2 s", d)
	}
	other := r.sent(99, "sendMessage")
	if len(other) != 3 {
		t.Fatalf("the other chat got %d messages, want 3", len(other))
	}
}

// A turn of three messages to a chat under its limit asks Redis three times: the chat's limit with the
// first message's global place in one pipeline, then one global place per further message. After Redis lost
// its scripts (a restart), the limiters load them again and the messages still go.
func TestLimitRoundTripsPerTurn(t *testing.T) {
	srv := redistest.Start(t)
	env := testenv.New(t, srv.Client(t))
	lim := srv.Client(t)
	trips := redistest.Count(lim)
	r := newRig(t, env, func(o *telegram.Options) {
		o.RDB, o.PerChatRate, o.GlobalRate = lim, 1, 1_000_000 // the global limit never makes them wait here
		o.Engine = handlerFunc(func(ctx context.Context, in bot.Input) ([]bot.Reply, error) {
			return []bot.Reply{{Text: "yksi"}, {Text: "kaksi"}, {Text: "kolme"}}, nil
		})
	})
	r.post(r.message(41, "ruoka oli hyvää"), secret) // loads the scripts (a round trip each, once)
	before := trips.N()
	r.post(r.message(42, "ruoka oli hyvää"), secret)
	if n, got := trips.N()-before, len(r.sent(42, "sendMessage")); n != 3 || got != 3 {
		t.Fatalf("%d limiter round trips for %d messages, want 3 for 3", n, got)
	}
	if err := lim.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	r.post(r.message(43, "ruoka oli hyvää"), secret)
	if got := len(r.sent(43, "sendMessage")); got != 3 {
		t.Fatalf("%d messages after the scripts were flushed, want 3", got)
	}
	if n, _ := lim.Exists(context.Background(), "rate:"+telegram.GlobalKey("pl:", 0), "rate:"+telegram.GlobalKey("pl:", 1)).Result(); n == 0 {
		t.Fatal("no global place taken after the scripts were flushed")
	}
	keys, err := lim.Keys(context.Background(), "rate:pl:{rl:c:*").Result()
	if err != nil || len(keys) != 3 {
		t.Fatalf("chat limit keys %q (%v), want one per chat", keys, err)
	}
}

// limitedTo is a rig whose engine answers every message with replies, under a global limit of perSecond
// messages a second, against a fake Bot API that answers 429 beyond perSecond in any one second.
func limitedTo(t *testing.T, perSecond int, replies ...string) *rig {
	t.Helper()
	r := newRig(t, newEnv(t), func(o *telegram.Options) {
		o.PerChatRate, o.GlobalRate = 50, perSecond
		o.Engine = handlerFunc(func(ctx context.Context, in bot.Input) ([]bot.Reply, error) {
			out := make([]bot.Reply, len(replies))
			for i, text := range replies {
				out[i] = bot.Reply{Text: text}
			}
			return out, nil
		})
	})
	r.fake.Limit(perSecond)
	return r
}

// withinLimit checks that Telegram answered none of the requests of methods with a 429 but the throttled
// ones, and that no one second held more than perSecond of the delivered ones (the limiter's own doing, not
// the fake's refusals), and returns how many were delivered.
func withinLimit(t *testing.T, r *rig, perSecond, throttled int, methods ...string) int {
	t.Helper()
	var at []time.Time
	refused := 0
	for _, c := range r.fake.Recorded(methods...) {
		if c.Status == 200 {
			at = append(at, c.At)
		} else {
			refused++
		}
	}
	if refused != throttled {
		t.Errorf("%d requests refused with 429, want %d", refused, throttled)
	}
	for i := perSecond; i < len(at); i++ {
		if span := at[i].Sub(at[i-perSecond]); span < time.Second {
			t.Errorf("requests %d to %d went within %v; want at most %d in any one second", i-perSecond+1, i+1, span, perSecond)
		}
	}
	return len(at)
}

// A turn's messages take their places in the global limit, and the next turn's after them: at 4 a second,
// two turns of three messages take more than a second.
func TestTurnWithinTheGlobalLimit(t *testing.T) {
	r := limitedTo(t, 4, "yksi", "kaksi", "kolme")
	r.post(r.message(51, "ruoka oli hyvää"), secret)
	r.post(r.message(52, "ruoka oli hyvää"), secret)
	if n := withinLimit(t, r, 4, 0, "sendMessage"); n != 6 {
		t.Fatalf("%d messages, want 6", n)
	}
}

// A turn held up by Telegram's 429 (retry_after 1 s) does not send the rest of its messages at once after
// the wait: each still takes its place in the global limit.
func TestTurnAfterA429StaysWithinTheLimit(t *testing.T) {
	r := limitedTo(t, 2, "yksi", "kaksi", "kolme", "neljä")
	r.fake.Throttle(1, 1)
	r.post(r.message(61, "ruoka oli hyvää"), secret)
	if n := withinLimit(t, r, 2, 1, "sendMessage"); n != 4 {
		t.Fatalf("%d messages, want 4", n)
	}
}

// With the limits' Redis down, a turn's messages still go (fail open), and the turn asks the dead Redis
// once, not once per message.
func TestLimitsFailOpenOncePerTurn(t *testing.T) {
	env := newEnv(t)
	srv := redistest.Start(t)
	lim := srv.Client(t)
	trips := redistest.Count(lim)
	r := newRig(t, env, func(o *telegram.Options) {
		o.RDB, o.PerChatRate, o.GlobalRate = lim, 1, 30
		o.Engine = handlerFunc(func(ctx context.Context, in bot.Input) ([]bot.Reply, error) {
			return []bot.Reply{{Text: "yksi"}, {Text: "kaksi"}, {Text: "kolme"}}, nil
		})
	})
	srv.Stop()
	r.post(r.message(71, "ruoka oli hyvää"), secret)
	if got := len(r.sent(71, "sendMessage")); got != 3 {
		t.Fatalf("%d messages with the limits' Redis down, want 3", got)
	}
	if n := trips.N(); n != 1 {
		t.Fatalf("the turn asked the dead Redis %d times, want once", n)
	}
}

// With the real engine, a turn asks for its first messages' places in the round trip of its commit: a
// button press answered by an edit and the next question costs the store one round trip (the commit: the
// session is remembered) and the limiters none of their own (the edit and the question take a global place
// in each lane, with the commit).
func TestFirstPlacesRideWithTheCommit(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	storeTrips := redistest.Count(rdb)
	env := testenv.New(t, rdb)
	lim := srv.Client(t)
	limTrips := redistest.Count(lim)
	// The global limit never makes them wait here (see TestFirstPlacesAreTaken).
	r := newRig(t, env, func(o *telegram.Options) { o.RDB, o.PerChatRate, o.GlobalRate = lim, 1000, 1_000_000 })
	const u = 81
	r.post(r.message(u, "/start u-kotipesa"), secret) // loads the scripts
	for i := range 3 {
		data, mid := r.lastButton(u, "🙂")
		s0, l0 := storeTrips.N(), limTrips.N()
		before := len(r.fake.Recorded("sendMessage", "editMessageText"))
		r.post(r.press(u, data, mid), secret)
		if n := len(r.fake.Recorded("sendMessage", "editMessageText")) - before; n != 2 {
			t.Fatalf("turn %d: %d requests, want 2 (the edit and the next question)", i, n)
		}
		if s, l := storeTrips.N()-s0, limTrips.N()-l0; s != 1 || l != 0 {
			t.Errorf("turn %d: %d store and %d limiter round trips, want 1 and 0", i, s, l)
		}
	}
}

// The places asked with a commit are really taken: under a global limit of 4 a second, a survey's turns
// (an edit and the next question each, going together) keep within it, the first places of each turn
// included, and Telegram answers no 429.
func TestFirstPlacesAreTaken(t *testing.T) {
	env := newEnv(t)
	r := newRig(t, env, func(o *telegram.Options) { o.PerChatRate, o.GlobalRate = 1000, 4 })
	r.fake.Limit(4)
	const u = 82
	r.post(r.message(u, "/start u-kotipesa"), secret)
	for range 3 {
		data, mid := r.lastButton(u, "🙂")
		r.post(r.press(u, data, mid), secret)
	}
	if n := withinLimit(t, r, 4, 0, "sendMessage", "editMessageText"); n < 7 {
		t.Fatalf("%d requests, want at least 7", n)
	}
}

// In polling mode a button press is answered by a request before the turn's messages, so its first places
// are not taken with the commit (they would be a request old when used): the press's edit and next question
// ask the limiters themselves, together (one round trip), while a text message's first places still ride (/stop: its
// one message needs no round trip of its own).
func TestFirstPlacesWaitForAPressAnswerInPolling(t *testing.T) {
	srv := redistest.Start(t)
	env := testenv.New(t, srv.Client(t))
	lim := srv.Client(t)
	limTrips := redistest.Count(lim)
	r := newRig(t, env, func(o *telegram.Options) { o.RDB, o.PerChatRate, o.GlobalRate = lim, 1000, 1_000_000 })
	r.poll(t)
	const u = 83
	r.fake.Push(r.message(u, "/start u-kotipesa"))
	waitFor(t, func() bool { return strings.Contains(texts(r.sent(u, "sendMessage")), "(1/7)") })
	data, mid := r.lastButton(u, "🙂")
	before := limTrips.N()
	r.fake.Push(r.press(u, data, mid))
	waitFor(t, func() bool { return strings.Contains(texts(r.sent(u, "sendMessage")), "(2/7)") })
	if n := limTrips.N() - before; n != 1 {
		t.Errorf("a press in polling mode: %d limiter round trips, want 1 (its places asked after the answer)", n)
	}
	if got := r.sent(u, "answerCallbackQuery"); len(got) != 1 {
		t.Fatalf("%d callback answers, want 1", len(got))
	}
	before, sent := limTrips.N(), len(r.sent(u, "sendMessage"))
	r.fake.Push(r.message(u, "/stop"))
	waitFor(t, func() bool { return len(r.sent(u, "sendMessage")) == sent+1 })
	if n := limTrips.N() - before; n != 0 {
		t.Errorf("/stop in polling mode: %d limiter round trips, want its first places with the commit", n)
	}
}

// A button press's edit of the answered question and the next question take their global places together
// (one in each lane) and go together: under a global limit of 2 a second the question does not wait half a
// second behind the edit. The next press's pair, asked while both lanes are taken, waits for them and again
// goes together, a second later, and Telegram answers no 429.
func TestPressEditAndQuestionGoTogether(t *testing.T) {
	r := newRig(t, newEnv(t), func(o *telegram.Options) {
		o.PerChatRate, o.GlobalRate = 1000, 2
		o.Engine = handlerFunc(func(ctx context.Context, in bot.Input) ([]bot.Reply, error) {
			return []bot.Reply{{Kind: bot.EditAsked, Text: "🙂"}, {Text: "(2/7) seuraava"}}, nil
		})
	})
	r.fake.Limit(2)
	const u = 84
	for i := range 2 {
		before := len(r.fake.Recorded("sendMessage", "editMessageText"))
		r.post(r.press(u, "x", 10+i), secret)
		turn := r.fake.Recorded("sendMessage", "editMessageText")[before:]
		if got := methods(turn); len(got) != 2 || turn[0].Status != 200 || turn[1].Status != 200 {
			t.Fatalf("press %d: requests %v, want the edit and the next question, delivered", i, got)
		}
		if gap := turn[1].At.Sub(turn[0].At); gap > 200*time.Millisecond {
			t.Fatalf("press %d: the edit and the next question went %v apart, want together (one place in each lane)", i, gap)
		}
	}
	if n := withinLimit(t, r, 2, 0, "sendMessage", "editMessageText"); n != 4 {
		t.Fatalf("%d requests delivered, want 4", n)
	}
}

// A send limit whose Redis answers nothing (cut off, not refusing) holds a turn's messages at most
// limitWait (half a second) before they go without it; a group's one-time notice waits as long. Without
// that deadline each ask waits for go-redis's read timeout on every try, over 10 s.
func TestLimitsCutOffFailOpenWithinAMoment(t *testing.T) {
	env := newEnv(t)
	srv := redistest.Start(t)
	px := redistest.NewProxy(t, srv.Addr)
	opts, err := store.ParseURL(px.URL())
	if err != nil {
		t.Fatal(err)
	}
	lim := redis.NewUniversalClient(opts)
	t.Cleanup(func() { lim.Close() })
	r := newRig(t, env, func(o *telegram.Options) {
		o.RDB, o.PerChatRate, o.GlobalRate = lim, 1000, 1_000_000
		o.Engine = handlerFunc(func(ctx context.Context, in bot.Input) ([]bot.Reply, error) {
			return []bot.Reply{{Text: "yksi"}, {Text: "kaksi"}, {Text: "kolme"}}, nil
		})
	})
	px.Cut()
	group := r.message(72, "ruoka oli hyvää")
	group["message"].(map[string]any)["chat"] = map[string]any{"id": -100124, "type": "group", "title": "x"}
	for name, up := range map[string]map[string]any{"private": r.message(72, "ruoka oli hyvää"), "group": group} {
		start := time.Now()
		if s := r.post(up, secret); s != 200 {
			t.Fatalf("%s: webhook answered %d", name, s)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: the turn took %v with the limits' Redis cut off, want about limitWait (0.5 s)", name, took.Round(time.Millisecond))
		}
	}
	if got := len(r.sent(72, "sendMessage")); got != 3 {
		t.Fatalf("%d messages with the limits' Redis cut off, want 3", got)
	}
}
