package slack_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot/slack"
	"github.com/palaute/palaute/bot/slack/fakeslack"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/store"
)

// MustOutbox is an outbox on miniredis.
func MustOutbox(tb testing.TB) *store.Outbox {
	tb.Helper()
	m := miniredis.RunT(tb)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	tb.Cleanup(func() { rdb.Close() })
	return store.NewOutbox(rdb, "pl:")
}

func sender(ob *store.Outbox, f *fakeslack.Server, clk *testenv.Clock, consumer string) *slack.Sender {
	return &slack.Sender{Outbox: ob, API: f.API(), Consumer: consumer, Log: slog.New(slog.DiscardHandler), Now: clk.Now,
		Backoff: func(int) time.Duration { return 5 * time.Second }, MinIdle: time.Minute}
}

// setup is where most sender tests start: a fake Slack, an outbox on miniredis, a clock at start, and
// sender "a" posting from the outbox to the fake.
func setup(t *testing.T, start time.Time) (*fakeslack.Server, *store.Outbox, *testenv.Clock, *slack.Sender) {
	t.Helper()
	f, ob, clk := fakeslack.New(t), MustOutbox(t), testenv.NewClock(start)
	return f, ob, clk, sender(ob, f, clk, "a")
}

// MustPNG is a small real PNG, as a summary chart is.
func MustPNG(tb testing.TB) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(3, 3, color.RGBA{0x21, 0x66, 0xac, 0xff})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// A 429 is retried after its Retry-After (not before), a 500 after the backoff, and the summary is
// posted exactly once, on miniredis and on a real redis-server.
func TestRetryAfter429And500PostsExactlyOnce(t *testing.T) {
	for _, b := range redistest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := fakeslack.New(t)
			f.RefuseNext("chat.postMessage", "429", "500")
			ob := store.NewOutbox(b.New(t), "pl:")
			clk := testenv.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
			s := sender(ob, f, clk, "a")
			ctx := context.Background()
			if err := ob.Enqueue(ctx, store.Msg{Key: "summary:kotipesa:2026-W47:0", Channel: "#kotipesa", Text: "Yhteenveto"}); err != nil {
				t.Fatal(err)
			}
			if err := ob.Enqueue(ctx, store.Msg{Key: "summary:kotipesa:2026-W47:0", Channel: "#kotipesa", Text: "again"}); !errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("second enqueue of one key: %v", err)
			}
			tries := func() int { _, _, tr := f.Snapshot(); return tr["chat.postMessage"] }
			var rl error
			if _, err := s.Once(ctx); err == nil { // 429, Retry-After: 3
				t.Fatal("no error reported for a 429")
			} else {
				rl = err
			}
			clk.Add(2900 * time.Millisecond)
			s.Once(ctx)
			if tries() != 1 {
				t.Fatalf("retried %d times before Retry-After passed (%v)", tries()-1, rl)
			}
			clk.Add(100 * time.Millisecond)
			s.Once(ctx) // 500: backoff 5 s
			if tries() != 2 {
				t.Fatalf("not retried when Retry-After passed: %d tries", tries())
			}
			clk.Add(4 * time.Second)
			s.Once(ctx)
			if tries() != 2 {
				t.Fatalf("retried before the backoff after a 500: %d tries", tries())
			}
			clk.Add(time.Second)
			if n, err := s.Once(ctx); n != 1 || err != nil {
				t.Fatalf("third try: posted %d, %v", n, err)
			}
			for range 5 { // nothing more to post, however often the sender looks
				clk.Add(time.Minute)
				s.Once(ctx)
			}
			posts, _, _ := f.Snapshot()
			if len(posts) != 1 || tries() != 3 || posts[0].Get("text") != "Yhteenveto" || posts[0].Get("channel") != "#kotipesa" {
				t.Fatalf("posts %d after %d tries: %v", len(posts), tries(), posts)
			}
			if d, _ := ob.Depth(ctx); d != 0 {
				t.Fatalf("outbox depth %d after posting", d)
			}
		})
	}
}

// The chart goes through Slack's file upload API into the channel id chat.postMessage answered
// with, after its message and with the PNG's bytes intact.
func TestChartUploadedWithFileAPI(t *testing.T) {
	f, ob, _, s := setup(t, time.Now())
	ctx := context.Background()
	chart := MustPNG(t)
	blocks := []byte(`[{"type":"section","text":{"type":"mrkdwn","text":"*Nuoret*"}}]`) // as slack.Blocks marshals
	if err := ob.Enqueue(ctx, store.Msg{Key: "summary:kotipesa:2026-11:0", Channel: "#kotipesa", Text: "Yhteenveto", Blocks: blocks,
		File: chart, FileName: "palaute-kotipesa-2026-11.png", FileTitle: "Kaavio: Kotipesä, marraskuu 2026"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Once(ctx); n != 1 || err != nil {
		t.Fatalf("posted %d: %v", n, err)
	}
	posts, files, tries := f.Snapshot()
	if len(posts) != 1 || posts[0].Get("text") != "Yhteenveto" || !bytes.Contains([]byte(posts[0].Get("blocks")), []byte("*Nuoret*")) {
		t.Fatalf("message: %v", posts)
	}
	if len(files) != 1 || tries["upload"] != 1 {
		t.Fatalf("uploads: %+v, tries %v", files, tries)
	}
	up := files[0]
	if up.Channel != "CKOTIPESA" || up.Title != "Kaavio: Kotipesä, marraskuu 2026" || !bytes.Equal(up.Bytes, chart) {
		t.Errorf("upload to %q titled %q with %d bytes (want %d)", up.Channel, up.Title, len(up.Bytes), len(chart))
	}
	if _, err := png.Decode(bytes.NewReader(up.Bytes)); err != nil {
		t.Errorf("uploaded file is not a PNG: %v", err)
	}
}

// A chart upload refused with a 429 is retried on its own after Retry-After: the message is not
// posted again, and the chart arrives once.
func TestChartUploadRetriedAlone(t *testing.T) {
	for _, step := range []string{"files.getUploadURLExternal", "files.completeUploadExternal"} {
		t.Run(step, func(t *testing.T) {
			f, ob, clk, s := setup(t, time.Now())
			f.RefuseNext(step, "429")
			ctx := context.Background()
			ob.Enqueue(ctx, store.Msg{Key: "summary:kotipesa:2026-11:0", Channel: "#kotipesa", Text: "Yhteenveto",
				File: MustPNG(t), FileName: "chart.png"})
			s.Once(ctx)
			clk.Add(2 * time.Second)
			s.Once(ctx)
			if posts, files, _ := f.Snapshot(); len(posts) != 1 || len(files) != 0 {
				t.Fatalf("before Retry-After: %d posts, %d files", len(posts), len(files))
			}
			for range 3 {
				clk.Add(2 * time.Second)
				s.Once(ctx)
			}
			posts, files, _ := f.Snapshot()
			if len(posts) != 1 || len(files) != 1 || files[0].Channel != "CKOTIPESA" {
				t.Fatalf("after Retry-After: %d posts, files %+v", len(posts), files)
			}
			if d, _ := ob.Depth(ctx); d != 0 {
				t.Fatalf("outbox depth %d", d)
			}
		})
	}
}

// Text is escaped for Slack: free text in a post cannot ping a channel or a person.
func TestTextEscaped(t *testing.T) {
	f, ob, _, s := setup(t, time.Now())
	ctx := context.Background()
	ob.Enqueue(ctx, store.Msg{Key: "urgent:1", Channel: "#kotipesa", Text: "<!channel> kiitos <@U123> & *hyvä*"})
	s.Once(ctx)
	posts, _, _ := f.Snapshot()
	if len(posts) != 1 || posts[0].Get("text") != "&lt;!channel&gt; kiitos &lt;@U123&gt; &amp; *hyvä*" {
		t.Fatalf("posted %v", posts)
	}
}

// Slack's refusals that a retry cannot change go to the dead letters at once.
func TestPermanentRefusalIsNotRetried(t *testing.T) {
	f, ob, clk, s := setup(t, time.Now())
	f.RefuseNext("chat.postMessage", "channel_not_found")
	ctx := context.Background()
	ob.Enqueue(ctx, store.Msg{Key: "summary:x:2026-11:0", Channel: "#gone", Text: "Yhteenveto"})
	if _, err := s.Once(ctx); err == nil {
		t.Fatal("no error for channel_not_found")
	}
	for range 5 {
		clk.Add(time.Minute)
		s.Once(ctx)
	}
	if _, _, tries := f.Snapshot(); tries["chat.postMessage"] != 1 {
		t.Errorf("tried %d times", tries["chat.postMessage"])
	}
	if n, _ := ob.Dead(ctx); n != 1 {
		t.Errorf("dead letters: %d, want 1", n)
	}
	if d, _ := ob.Depth(ctx); d != 0 {
		t.Errorf("outbox depth %d", d)
	}
}

// When a post to a channel fails, the later posts of that channel wait behind it: the parts of a
// summary arrive in order; another channel is not held up.
func TestOrderKeptAfterAFailure(t *testing.T) {
	f, ob, clk, s := setup(t, time.Now())
	f.RefuseNext("chat.postMessage", "500")
	ctx := context.Background()
	parts := []store.Msg{{Key: "s:0", Channel: "#kotipesa", Text: "osa 1/3"}, {Key: "s:1", Channel: "#kotipesa", Text: "osa 2/3"},
		{Key: "s:2", Channel: "#kotipesa", Text: "osa 3/3"}}
	if err := ob.EnqueueBatch(ctx, "s", parts...); err != nil {
		t.Fatal(err)
	}
	ob.Enqueue(ctx, store.Msg{Key: "other", Channel: "#satama", Text: "muualle"})
	s.Once(ctx)
	if posts, _, _ := f.Snapshot(); len(posts) != 1 || posts[0].Get("text") != "muualle" {
		t.Fatalf("first round: %v", posts)
	}
	for range 4 {
		clk.Add(3 * time.Second)
		s.Once(ctx)
	}
	got := f.Texts("#kotipesa")
	if len(got) != 3 || got[0] != "osa 1/3" || got[1] != "osa 2/3" || got[2] != "osa 3/3" {
		t.Fatalf("kotipesa got %q, want the three parts in order", got)
	}
}

func TestDelayedPostWaitsForItsHour(t *testing.T) {
	f, ob, clk, s := setup(t, time.Date(2026, 11, 18, 10, 20, 0, 0, time.UTC))
	ctx := context.Background()
	ob.Enqueue(ctx, store.Msg{Key: "corrective:x", Channel: "#kotipesa", Text: "batch", NotBefore: time.Date(2026, 11, 18, 11, 0, 0, 0, time.UTC)})
	s.Once(ctx)
	if posts, _, _ := f.Snapshot(); len(posts) != 0 {
		t.Fatal("posted before its hour")
	}
	clk.Add(40 * time.Minute)
	s.Once(ctx)
	if posts, _, _ := f.Snapshot(); len(posts) != 1 {
		t.Fatalf("not posted at its hour: %d", len(posts))
	}
}

func TestDeadSendersPostIsReclaimedOnce(t *testing.T) {
	f, ob, clk, _ := setup(t, time.Now())
	ctx := context.Background()
	ob.Enqueue(ctx, store.Msg{Key: "urgent:1", Channel: "#kotipesa", Text: "hälytys"})
	if es, err := ob.Claim(ctx, "dead-replica", 10, time.Minute, clk.Now()); err != nil || len(es) != 1 {
		t.Fatalf("claim: %v %v", es, err)
	} // ... and the replica dies holding it
	s := sender(ob, f, clk, "alive")
	s.MinIdle = time.Millisecond
	time.Sleep(5 * time.Millisecond)
	s.Once(ctx)
	s.Once(ctx)
	if posts, _, _ := f.Snapshot(); len(posts) != 1 {
		t.Fatalf("reclaimed post posted %d times", len(posts))
	}
}

// Two senders (two replicas) drain one outbox at the same time: every post is made exactly once.
func TestTwoSendersPostEachOnce(t *testing.T) {
	f := fakeslack.New(t)
	rdb := redistest.Start(t).Client(t)
	ob := store.NewOutbox(rdb, "pl:")
	ctx := context.Background()
	const n = 60
	for i := range n {
		ob.Enqueue(ctx, store.Msg{Key: "k" + string(rune('A'+i%26)) + string(rune('a'+i/26)), Channel: "#c" + string(rune('a'+i%5)), Text: "x"})
	}
	clk := testenv.NewClock(time.Now())
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := sender(ob, f, clk, name)
			for range 10 {
				s.Once(ctx)
			}
		}()
	}
	wg.Wait()
	posts, _, _ := f.Snapshot()
	if len(posts) != n {
		t.Fatalf("%d posts, want %d", len(posts), n)
	}
}

// The upload URL Slack hands out is a credential: a failed upload is logged without it.
func TestUploadURLNotLogged(t *testing.T) {
	f, ob, _, s := setup(t, time.Now())
	f.RefuseNext("upload", "drop")
	var logs logBuffer
	s.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	ctx := context.Background()
	ob.Enqueue(ctx, store.Msg{Key: "summary:kotipesa:2026-11:0", Channel: "#kotipesa", Text: "Yhteenveto", File: MustPNG(t), FileName: "chart.png"})
	s.Once(ctx)
	if l := logs.String(); !strings.Contains(l, "slack chart upload failed") || strings.Contains(l, "/upload/F") {
		t.Fatalf("log %s", l)
	}
	if _, _, tries := f.Snapshot(); tries["upload"] != 1 {
		t.Fatalf("upload tried %d times", tries["upload"])
	}
}

// A post claimed in a later round than a failed post of its channel waits behind it too: the
// channel sees them in the order they were enqueued.
func TestOrderKeptAcrossRounds(t *testing.T) {
	f, ob, clk, s := setup(t, time.Now())
	f.RefuseNext("chat.postMessage", "500")
	ctx := context.Background()
	ob.Enqueue(ctx, store.Msg{Key: "a:1", Channel: "#kotipesa", Text: "ensin"})
	if _, err := s.Once(ctx); err == nil { // 500: tried again after 5 s
		t.Fatal("no error for a 500")
	}
	ob.Enqueue(ctx, store.Msg{Key: "a:2", Channel: "#kotipesa", Text: "sitten"})
	ob.Enqueue(ctx, store.Msg{Key: "b:1", Channel: "#satama", Text: "muualle"})
	clk.Add(time.Second)
	s.Once(ctx)
	if posts, _, _ := f.Snapshot(); len(posts) != 1 || posts[0].Get("text") != "muualle" {
		t.Fatalf("while the first post waits for its retry: %v", posts)
	}
	for range 4 {
		clk.Add(2 * time.Second)
		s.Once(ctx)
	}
	got := f.Texts("#kotipesa")
	if len(got) != 2 || got[0] != "ensin" || got[1] != "sitten" {
		t.Fatalf("kotipesa got %q, want ensin, sitten", got)
	}
	if d, _ := ob.Depth(ctx); d != 0 {
		t.Fatalf("outbox depth %d", d)
	}
}

// A channel's posts do not wait for ever behind a failed post that another replica took over.
func TestBlockedChannelGoesOn(t *testing.T) {
	f, ob, clk, s := setup(t, time.Now())
	f.RefuseNext("chat.postMessage", "500")
	s.Backoff = func(int) time.Duration { return time.Hour }
	ctx := context.Background()
	ob.Enqueue(ctx, store.Msg{Key: "a:1", Channel: "#kotipesa", Text: "ensin"})
	s.Once(ctx)
	// Another replica posts the failed one when it is due; this sender never sees it again.
	clk.Add(time.Hour)
	other := sender(ob, f, clk, "b")
	if n, err := other.Once(ctx); n != 1 || err != nil {
		t.Fatalf("other replica: %d, %v", n, err)
	}
	clk.Add(2 * time.Minute)
	ob.Enqueue(ctx, store.Msg{Key: "a:2", Channel: "#kotipesa", Text: "sitten"})
	if n, err := s.Once(ctx); n != 1 || err != nil {
		t.Fatalf("later post: %d, %v", n, err)
	}
}

// OnRetry counts the posts that will be tried again, and nothing else: not a post given up after its
// last attempt, not one Slack refused for good, not one that waits behind a failed post.
func TestOnRetryCountsOnlyRetries(t *testing.T) {
	f, ob, clk, s := setup(t, time.Now())
	ob.MaxAttempts = 2
	retries := 0
	s.OnRetry = func() { retries++ }
	ctx := context.Background()
	f.RefuseNext("chat.postMessage", "500", "500", "channel_not_found")
	ob.EnqueueBatch(ctx, "s", store.Msg{Key: "s:0", Channel: "#kotipesa", Text: "osa 1"}, store.Msg{Key: "s:1", Channel: "#kotipesa", Text: "osa 2"})
	s.Once(ctx) // s:0 fails (a retry), s:1 waits behind it (not one)
	if retries != 1 {
		t.Fatalf("after a failure and a post waiting: %d retries, want 1", retries)
	}
	clk.Add(6 * time.Second)
	s.Once(ctx) // s:0 fails its last attempt: given up; then s:1 is refused for good: buried
	if n, _ := ob.Dead(ctx); n != 2 || retries != 1 {
		t.Fatalf("after a post given up and one refused for good: %d dead letters, %d retries; want 2 and 1", n, retries)
	}
	if _, _, tries := f.Snapshot(); tries["chat.postMessage"] != 3 {
		t.Fatalf("%d tries, want 3", tries["chat.postMessage"])
	}
}
