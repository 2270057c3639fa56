package main

// Helpers of the process tests: they run the test binary itself as `palaute serve` (TestMain below), in
// webhook mode, against a real redis-server, a fake Bot API and a fake Slack, and kill, stop and starve it.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack/slacktest"

	"github.com/palaute/palaute/internal/fakebot"
)

// TestMain makes the test binary `palaute` when its first argument is a command: the process tests run it
// as `palaute serve`. PALAUTE_TEST_CLOCK (RFC 3339) sets the scheduler's clock, which then runs on from it.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if at := os.Getenv("PALAUTE_TEST_CLOCK"); at != "" {
			t0, err := time.Parse(time.RFC3339, at)
			if err != nil {
				fmt.Fprintln(os.Stderr, "PALAUTE_TEST_CLOCK:", err)
				os.Exit(2)
			}
			start := time.Now()
			clock = func() time.Time { return t0.Add(time.Since(start)) }
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const (
	testHookSecret = "proc-test-webhook-secret"
	testPIDSecret  = "proc-test-pseudonym-secret-0123456789"
)

// procOpts say how to run a `palaute serve`.
type procOpts struct {
	redisURL string
	set      map[string]any    // config keys (dotted) over ../../config.yaml
	env      map[string]string // extra environment
	slack    *fakeSlack        // nil: Slack posting off
	tg       http.Handler      // the Bot API (default: a new fakebot)
	// dirty: the test itself checks how the process ends (no check of its exit and log lines at the end)
	dirty bool
}

// proc is a running `palaute serve` with its fakes.
type proc struct {
	*serveChild
	hook string // webhook URL
	fake *fakebot.Server
}

// startServe starts `palaute serve` and stops it (SIGTERM) when the test ends, failing the test if it did
// not stop cleanly or wrote a log line that is not JSON.
func startServe(t *testing.T, o procOpts) *proc {
	t.Helper()
	fake := fakebot.New().Record()
	var tg http.Handler = fake
	if o.tg != nil {
		tg = o.tg
	}
	set := map[string]any{
		"telegram.per_chat_per_second": 1000, "telegram.global_per_second": 100000,
		"log.level": "debug", "shutdown_timeout": "10s",
	}
	env := map[string]string{}
	if o.slack != nil {
		set["slack.api_url"] = o.slack.URL()
		env["SLACK_BOT_TOKEN"] = "xoxb-test"
		env["SLACK_SIGNING_SECRET"] = "slack-signing-secret"
	}
	maps.Copy(set, o.set)
	maps.Copy(env, o.env)
	c, api, err := newWebhookChild(tg, webhookServe{base: "../../config.yaml", dir: t.TempDir(), redisURL: o.redisURL,
		pidSecret: testPIDSecret, token: "123:TEST", hookSecret: testHookSecret, set: set, env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	p := &proc{serveChild: c, hook: "http://" + c.Addr + webhookPath, fake: fake}
	t.Cleanup(func() {
		if o.dirty {
			c.Kill()
			return
		}
		st, err := c.Stop()
		if err != nil || (st != nil && !st.Success()) {
			t.Errorf("palaute serve did not stop cleanly on SIGTERM: %v %v", st, err)
		}
		checkLogLines(t, c.Out.String())
		if t.Failed() {
			t.Logf("palaute serve output:\n%s", tail(c.Out.String(), 60))
		}
	})
	return p
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// checkLogLines fails the test on output that is not a JSON log line: a panic, a data race report, a
// plain-text message.
func checkLogLines(t *testing.T, out string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["level"] == nil || m["msg"] == nil {
			t.Errorf("output line %d is not a JSON log line: %.300s", n, l)
			return
		}
	}
}

// driver returns a webhook driver for the given replicas that redelivers like Telegram.
func newDriver(fake *fakebot.Server, hooks ...string) *webhookDriver {
	return &webhookDriver{Hooks: hooks, Secret: testHookSecret, Fake: fake, Redeliver: 50 * time.Millisecond, GiveUp: 90 * time.Second,
		Client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 60 * time.Second}}
}

// scaleAnswer is what person uid answers at step k: scales 3-5 (so the "safe in [1,2]" branch is never
// taken and every survey has 7 questions), the NPS 0-10.
func scaleAnswer(uid int64) answers {
	return answers{
		choose: func(k int, values []string) string {
			if k == 6 {
				return strconv.FormatInt(uid%11, 10)
			}
			return strconv.FormatInt(3+(uid+int64(k))%3, 10)
		},
		text: "vastaus " + strconv.FormatInt(uid, 10),
	}
}

// youthQuestions are the question ids of the youth survey in order (as scaleAnswer answers it).
var youthQuestions = []string{"help", "heard", "together", "safe", "hope", "nps"}

// expectCounts adds person uid's answers (as scaleAnswer gives them) to want.
func expectCounts(want map[string]int64, uid int64) {
	want["n"]++
	want["n.nuoret"]++
	a := scaleAnswer(uid)
	for i, q := range youthQuestions {
		want["nuoret."+q+"="+a.choose(i+1, nil)]++
	}
	want["nuoret.words=_text"]++
}

// unitCounts sums the youth counters of unit over every week, and returns the unit's stored responses.
func unitCounts(t *testing.T, rdb redis.UniversalClient, unit string) (map[string]int64, []map[string]any) {
	t.Helper()
	ctx := context.Background()
	got := map[string]int64{}
	var keys []string
	scan := func(ctx context.Context, c *redis.Client) error {
		k, err := c.Keys(ctx, "pl:{u:"+unit+"}:agg:youth:*").Result()
		keys = append(keys, k...)
		return err
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		if err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return scan(ctx, c)
		}); err != nil {
			t.Fatal(err)
		}
	} else if err := scan(ctx, rdb.(*redis.Client)); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		for f, v := range rdb.HGetAll(ctx, k).Val() {
			n, _ := strconv.ParseInt(v, 10, 64)
			got[f] += n
		}
	}
	xs, err := rdb.XRange(ctx, "pl:{u:"+unit+"}:resp", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var resp []map[string]any
	for _, x := range xs {
		resp = append(resp, x.Values)
	}
	return got, resp
}

// checkExactlyOnce checks that the unit's counters are exactly want and that each person's free text is
// stored exactly once.
func checkExactlyOnce(t *testing.T, rdb redis.UniversalClient, unit string, uids []int64) {
	t.Helper()
	want := map[string]int64{}
	for _, uid := range uids {
		expectCounts(want, uid)
	}
	got, resp := unitCounts(t, rdb, unit)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("counter %s = %d, want %d", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && v != 0 {
			t.Errorf("unexpected counter %s = %d", k, v)
		}
	}
	texts := map[string]int{}
	for _, r := range resp {
		s, _ := r["a.words"].(string)
		texts[s]++
	}
	for _, uid := range uids {
		if n := texts[scaleAnswer(uid).text]; n != 1 {
			t.Errorf("person %d's answer stored %d times, want once", uid, n)
		}
	}
	if len(resp) != len(uids) {
		t.Errorf("%d responses stored for %d people", len(resp), len(uids))
	}
}

// fakeSlack is slacktest with chat.postMessage and the file upload methods of our own: it records posts
// and refuses them (500, or 429 with Retry-After) while refuse says so.
type fakeSlack struct {
	srv    *slacktest.Server
	mu     sync.Mutex
	posts  []url.Values
	tries  int
	hung   int
	refuse func(try int) int // status to answer the try-th post attempt with (0: accept; hang: never)
}

// hang, as a status to answer with, is no answer at all: the request is held until its client gives up.
const hang = -1

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			f.mu.Lock()
			defer f.mu.Unlock()
			f.tries++
			if f.refuse != nil {
				if code := f.refuse(f.tries); code == hang {
					f.hung++
					f.mu.Unlock()
					<-r.Context().Done()
					f.mu.Lock()
					return
				} else if code != 0 {
					if code == http.StatusTooManyRequests {
						w.Header().Set("Retry-After", "1")
					}
					w.WriteHeader(code)
					return
				}
			}
			f.posts = append(f.posts, r.Form)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"%d.000100"}`, r.Form.Get("channel"), len(f.posts))
		})
		c.Handle("/files.getUploadURLExternal", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"ok":true,"upload_url":%q,"file_id":"F1"}`, f.srv.GetAPIURL()+"upload/F1")
		})
		c.Handle("/upload/F1", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, "OK - 1")
		})
		c.Handle("/files.completeUploadExternal", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok":true,"files":[{"id":"F1","title":"chart"}]}`)
		})
	})
	f.srv.Start()
	t.Cleanup(f.srv.Stop)
	return f
}

// URL is the Slack API URL to configure.
func (f *fakeSlack) URL() string { return f.srv.GetAPIURL() }

// Posts returns the accepted posts.
func (f *fakeSlack) Posts() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.posts...)
}

// Tries is how many post attempts were made.
func (f *fakeSlack) Tries() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries
}

// eventually polls cond every 100 ms until it holds or d passed.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// metric scrapes one metric of a running palaute serve.
func (p *proc) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	v, err := scrapeMetric(p.Addr, name, labels...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// get answers the status of a GET.
func get(addr, path string) int {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func httpGet(u string) (string, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
