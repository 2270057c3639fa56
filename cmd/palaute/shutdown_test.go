package main

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/palaute/palaute/internal/fakebot"
	"github.com/palaute/palaute/internal/redistest"
)

// gate holds the Bot API's sendMessage calls while closed, and says when one is waiting.
type gate struct {
	next    http.Handler
	mu      sync.Mutex
	open    chan struct{}
	waiting chan struct{}
}

func newGate(next http.Handler) *gate {
	g := &gate{next: next, open: make(chan struct{}), waiting: make(chan struct{}, 16)}
	close(g.open)
	return g
}

// Close makes sendMessage wait until Open.
func (g *gate) Close() { g.mu.Lock(); g.open = make(chan struct{}); g.mu.Unlock() }
func (g *gate) Open()  { g.mu.Lock(); close(g.open); g.mu.Unlock() }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/sendMessage") {
		g.mu.Lock()
		open := g.open
		g.mu.Unlock()
		select {
		case <-open:
		default:
			g.waiting <- struct{}{}
			select {
			case <-open:
			case <-r.Context().Done():
				return
			}
		}
	}
	g.next.ServeHTTP(w, r)
}

// startFirstQuestion starts a person's survey and returns the button of answer 4 to question 1.
func startFirstQuestion(t *testing.T, d *webhookDriver, uid int64) string {
	t.Helper()
	out, err := d.Send(context.Background(), uid, "fi", "/start u-kotipesa")
	if err != nil {
		t.Fatal(err)
	}
	q, ok := lastQuestion(out)
	if !ok || q.step != 1 {
		t.Fatalf("no first question: %v", out)
	}
	return q.prefix + "4"
}

// SIGTERM while an update is being handled: palaute stops taking new updates at once, finishes the one in
// hand (the person gets the next question, Telegram gets 200) and exits 0 within shutdown_timeout.
func TestSIGTERMFinishesUpdatesInHand(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	fake := fakebot.New()
	g := newGate(fake)
	p := startServe(t, procOpts{redisURL: srv.URL(), tg: g})
	p.fake = fake
	d := newDriver(fake, p.hook)
	d.Redeliver = 0
	uid := int64(74_000_001)
	data := startFirstQuestion(t, d, uid)

	g.Close()
	answered := make(chan error, 1)
	go func() { answered <- d.post(context.Background(), 0, d.body(uid, "fi", step{data: data})) }()
	<-g.waiting // the answer is stored; its reply waits for the Bot API
	start := time.Now()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// (A request that reaches the listener before it closes is in hand too: wait for the close first.)
	eventually(t, 5*time.Second, "the listener closed after SIGTERM", func() bool { return get(p.Addr, "/healthz") == 0 })
	if err := d.post(context.Background(), 0, d.body(74_000_002, "fi", step{text: "/start u-kotipesa"})); err == nil {
		t.Fatal("an update was taken after SIGTERM")
	}
	time.Sleep(500 * time.Millisecond)
	g.Open()
	if err := <-answered; err != nil {
		t.Fatalf("the update in hand was not answered 200: %v", err)
	}
	st, err := p.Wait(15 * time.Second)
	if err != nil || !st.Success() {
		t.Fatalf("exit: %v %v\n%s", st, err, p.Out.String())
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v to stop, shutdown_timeout is 10s", took)
	}
	q, ok, _ := read(fake.Inbox("74000001"))
	if !ok || q.step != 2 {
		t.Fatalf("the person did not get question 2 from the update in hand")
	}
	if len(fake.Inbox("74000002")) != 0 {
		t.Fatalf("an update that came after SIGTERM was handled")
	}
}

// A Bot API that does not answer cannot keep palaute past shutdown_timeout: it exits non-zero in time, and
// the update it held was not acknowledged (Telegram sends it again).
func TestSIGTERMKeepsTheDeadline(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	fake := fakebot.New()
	g := newGate(fake)
	p := startServe(t, procOpts{redisURL: srv.URL(), tg: g, dirty: true, set: map[string]any{"shutdown_timeout": "2s"}})
	p.fake = fake
	d := newDriver(fake, p.hook)
	d.Redeliver = 0
	uid := int64(74_000_011)
	data := startFirstQuestion(t, d, uid)
	t.Cleanup(g.Open)

	g.Close()
	answered := make(chan error, 1)
	go func() { answered <- d.post(context.Background(), 0, d.body(uid, "fi", step{data: data})) }()
	<-g.waiting
	start := time.Now()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait(10 * time.Second)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("still running %v after SIGTERM with shutdown_timeout 2s", took)
	}
	if took > 4*time.Second {
		t.Errorf("took %v to stop, shutdown_timeout is 2s", took)
	}
	if st.Success() {
		t.Errorf("exit 0 though updates were left unfinished")
	}
	if !strings.Contains(p.Out.String(), "shutdown deadline passed") {
		t.Errorf("the log does not say the deadline passed:\n%s", p.Out.String())
	}
	if err := <-answered; err == nil {
		t.Errorf("the update in hand was acknowledged though it was not finished")
	}
}
