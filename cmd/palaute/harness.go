package main

// The harness runs `palaute serve` as a child process in webhook mode and plays Telegram and the people
// against it: the load tool measures palaute through it, and the fault tests kill, restart and starve it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/palaute/palaute/internal/fakebot"
)

// writeServeConfig writes base (a config file; "" for the defaults) with the dotted keys of set replaced,
// to path.
func writeServeConfig(base, path string, set map[string]any) error {
	doc := map[string]any{}
	if base != "" {
		b, err := os.ReadFile(base)
		if err != nil {
			return err
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("%s: %w", base, err)
		}
	}
	for k, v := range set {
		m := doc
		parts := strings.Split(k, ".")
		for _, p := range parts[:len(parts)-1] {
			sub, ok := m[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[p] = sub
			}
			m = sub
		}
		m[parts[len(parts)-1]] = v
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// serveEnv is the environment of a child `palaute serve`: this process's, without palaute's own variables,
// plus set.
func serveEnv(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "PALAUTE_"), strings.HasPrefix(k, "TELEGRAM_"), strings.HasPrefix(k, "SLACK_"), k == "REDIS_URL":
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// webhookPath is where a webhook child takes Telegram's updates.
const webhookPath = "/telegram"

// webhookServe says how to run a `palaute serve` in webhook mode.
type webhookServe struct {
	base string // the config file to start from ("" for the defaults)
	dir  string // where the child's config.yaml is written

	// The child's Redis, pseudonym secret, Telegram bot token and webhook secret token (its environment).
	redisURL, pidSecret, token, hookSecret string

	set  map[string]any    // more config keys (dotted), over the webhook ones
	env  map[string]string // more environment, over the above
	args []string          // after serve -config <file>
}

// newWebhookChild serves tg as the Bot API on a new loopback server and returns a `palaute serve` (not
// started) that calls it, takes updates by webhook at webhookPath on a free loopback address, and logs
// JSON; the caller closes the API server when done with both.
func newWebhookChild(tg http.Handler, s webhookServe) (*serveChild, *httptest.Server, error) {
	api := httptest.NewServer(tg)
	addr, err := freeAddr()
	if err != nil {
		api.Close()
		return nil, nil, err
	}
	set := map[string]any{
		"telegram.mode": "webhook", "telegram.api_url": api.URL, "telegram.webhook_path": webhookPath,
		"telegram.webhook_url": "https://palaute.invalid" + webhookPath,
		"http.listen":          addr, "log.format": "json",
	}
	maps.Copy(set, s.set)
	env := map[string]string{"REDIS_URL": s.redisURL, "PALAUTE_PSEUDONYM_SECRET": s.pidSecret,
		"TELEGRAM_TOKEN": s.token, "TELEGRAM_WEBHOOK_SECRET": s.hookSecret, "PALAUTE_HTTP_LISTEN": addr}
	maps.Copy(env, s.env)
	cfg := filepath.Join(s.dir, "config.yaml")
	if err := writeServeConfig(s.base, cfg, set); err != nil {
		api.Close()
		return nil, nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		api.Close()
		return nil, nil, err
	}
	args := append([]string{"serve", "-config", cfg}, s.args...)
	return &serveChild{Exe: exe, Args: args, Env: serveEnv(env), Addr: addr}, api, nil
}

// lockedBuffer collects a child's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveChild is one `palaute serve` process; Start may be called again after it ended (a restart), on the
// same address.
type serveChild struct {
	Exe  string   // the palaute binary (or a test binary that runs main in this mode)
	Args []string // after the binary: serve -config ...
	Env  []string
	Addr string // its http.listen
	Out  *lockedBuffer

	cmd    *exec.Cmd
	exited chan struct{}
	state  *os.ProcessState
}

// Start starts the process and waits until /readyz answers 200.
func (c *serveChild) Start(ctx context.Context) error {
	if c.Out == nil {
		c.Out = &lockedBuffer{}
	}
	c.cmd = exec.Command(c.Exe, c.Args...)
	c.cmd.Env = c.Env
	c.cmd.Stdout, c.cmd.Stderr = c.Out, c.Out
	if err := c.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	c.exited = exited
	cmd := c.cmd
	go func() {
		_ = cmd.Wait()
		c.state = cmd.ProcessState
		close(exited)
	}()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get("http://" + c.Addr + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("palaute serve exited at start (%v):\n%s", c.state, c.Out.String())
		case <-ctx.Done():
			c.Kill()
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.Kill()
			return fmt.Errorf("palaute serve not ready in 60 s:\n%s", c.Out.String())
		}
	}
}

// Pid is the running process's id.
func (c *serveChild) Pid() int { return c.cmd.Process.Pid }

// Kill sends SIGKILL and waits for the process to be gone.
func (c *serveChild) Kill() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// Signal sends sig to the process.
func (c *serveChild) Signal(sig os.Signal) error { return c.cmd.Process.Signal(sig) }

// Wait waits up to d for the process to end and returns how it ended.
func (c *serveChild) Wait(d time.Duration) (*os.ProcessState, error) {
	select {
	case <-c.exited:
		return c.state, nil
	case <-time.After(d):
		return nil, fmt.Errorf("palaute serve still running after %v", d)
	}
}

// Stop ends the process with SIGTERM (SIGKILL after 30 s) and returns how it ended.
func (c *serveChild) Stop() (*os.ProcessState, error) {
	if c.cmd == nil || c.exited == nil {
		return nil, nil
	}
	select {
	case <-c.exited:
		return c.state, nil
	default:
	}
	_ = c.Signal(syscall.SIGTERM)
	st, err := c.Wait(30 * time.Second)
	if err != nil {
		c.Kill()
	}
	return st, err
}

// RSS is the process's resident memory in bytes (Linux).
func (c *serveChild) RSS() int64 { return procStatus(c.Pid(), "VmRSS") }

// procStatus is a memory figure of /proc/<pid>/status (field "VmRSS", "VmHWM", ...) in bytes (Linux);
// 0 when it cannot be read.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n * 1024
		}
	}
	return 0
}

// scrapeMetric returns the sum of the samples of metric name whose labels include every one of labels
// (each written key="value"), read from the /metrics of the process at addr.
func scrapeMetric(addr, name string, labels ...string) (float64, error) {
	sum, _, err := scrapeSamples(addr, name, labels...)
	return sum, err
}

// scrapeSamples is scrapeMetric that also says how many samples it summed (0: there is no such metric).
func scrapeSamples(addr, name string, labels ...string) (sum float64, n int, err error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	sum, n = metricSum(string(b), name, labels...)
	return sum, n, nil
}

// metricSum is the sum of the samples of name with labels in text (Prometheus text format), and how many
// there were.
func metricSum(text, name string, labels ...string) (sum float64, n int) {
lines:
	for _, l := range strings.Split(text, "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		end := strings.IndexAny(l, "{ ")
		if end < 0 || l[:end] != name {
			continue
		}
		set := ""
		if l[end] == '{' {
			set = l[end : strings.LastIndex(l, "}")+1]
		}
		for _, lb := range labels {
			if !strings.Contains(set, lb) {
				continue lines
			}
		}
		f := strings.Fields(l)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
			n++
		}
	}
	return sum, n
}

// webhookDriver plays Telegram and the people: it posts updates to palaute's webhook(s) and reads what the
// bot sent each person from the fake Bot API.
type webhookDriver struct {
	Hooks  []string // webhook URLs (one per replica)
	Secret string
	Fake   *fakebot.Server
	Client *http.Client
	// Redeliver makes it behave like Telegram: an update not answered 2xx is sent again after this pause,
	// for up to GiveUp. Zero: an unanswered update is an error.
	Redeliver time.Duration
	GiveUp    time.Duration
	// Route picks the replica (index into Hooks) of a person's n-th update (n from 0); nil: the first.
	Route func(uid int64, n int) int
	// Twin, when it returns true for a person's n-th update, sends it to every replica at once: the same
	// update (a redelivery racing the first delivery) when sameID, else a second update with the same
	// content (a double tap).
	Twin func(uid int64, n int, button bool) (twin, sameID bool)
	// Profile adds a username and a first name to each person (the log tests look for them).
	Profile func(uid int64) (username, firstName string)

	update  atomic.Int64
	Resumed atomic.Int64 // updates answered 2xx with no reply: handled before, by a process that died before answering
	Acked   atomic.Int64 // updates answered 2xx
	Retries atomic.Int64 // deliveries that had to be repeated
	mu      sync.Mutex
	lat     []time.Duration
}

// step is one thing a person does: a text message or a button press.
type step struct{ text, data string }

func (d *webhookDriver) body(uid int64, lang string, s step) []byte {
	id := d.update.Add(1)
	from := map[string]any{"id": uid, "is_bot": false, "first_name": "Load", "language_code": lang}
	if d.Profile != nil {
		u, f := d.Profile(uid)
		from["username"], from["first_name"] = u, f
	}
	chat := map[string]any{"id": uid, "type": "private"}
	var u map[string]any
	if s.data != "" {
		u = map[string]any{"update_id": id, "callback_query": map[string]any{"id": "cb" + strconv.FormatInt(id, 10), "from": from,
			"chat_instance": "1", "data": s.data, "message": map[string]any{"message_id": 1, "date": time.Now().Unix(), "chat": chat, "text": "q"}}}
	} else {
		u = map[string]any{"update_id": id, "message": map[string]any{"message_id": id, "from": from, "chat": chat, "date": time.Now().Unix(), "text": s.text}}
	}
	b, _ := json.Marshal(u)
	return b
}

// post delivers one update to a replica, again and again while Redeliver says so.
func (d *webhookDriver) post(ctx context.Context, hook int, body []byte) error {
	var giveUp time.Time
	for attempt := 0; ; attempt++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.Hooks[hook], bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", d.Secret)
		t0 := time.Now()
		resp, err := d.Client.Do(req)
		status := 0
		if err == nil {
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			status = resp.StatusCode
			if status/100 == 2 {
				d.Fake.WebhookAnswer(resp.Header.Get("Content-Type"), answer) // as Telegram does
			}
		}
		if status/100 == 2 {
			took := time.Since(t0)
			d.Acked.Add(1)
			d.mu.Lock()
			d.lat = append(d.lat, took)
			d.mu.Unlock()
			return nil
		}
		if err == nil {
			err = fmt.Errorf("webhook answered %d", status)
		}
		if d.Redeliver == 0 || ctx.Err() != nil {
			return err
		}
		if attempt == 0 {
			giveUp = time.Now().Add(d.GiveUp)
		} else if time.Now().After(giveUp) {
			return fmt.Errorf("update not taken in %v: %w", d.GiveUp, err)
		}
		d.Retries.Add(1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d.Redeliver):
		}
	}
}

// deliver sends a person's n-th step as Route and Twin say.
func (d *webhookDriver) deliver(ctx context.Context, uid int64, lang string, n int, s step) error {
	hook := 0
	if d.Route != nil {
		hook = d.Route(uid, n) % len(d.Hooks)
	}
	twin, sameID := false, false
	if d.Twin != nil && len(d.Hooks) > 1 {
		twin, sameID = d.Twin(uid, n, s.data != "")
	}
	if !twin {
		return d.post(ctx, hook, d.body(uid, lang, s))
	}
	body := d.body(uid, lang, s)
	errs := make([]error, len(d.Hooks))
	var wg sync.WaitGroup
	for i := range d.Hooks {
		b := body
		if i > 0 && !sameID {
			b = d.body(uid, lang, s)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.post(ctx, (hook+i)%len(d.Hooks), b)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Latencies returns the webhook answer times so far, sorted.
func (d *webhookDriver) Latencies() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := slices.Clone(d.lat)
	slices.Sort(l)
	return l
}

// ResetLatencies forgets the times so far.
func (d *webhookDriver) ResetLatencies() {
	d.mu.Lock()
	d.lat = nil
	d.mu.Unlock()
}

var (
	questionRe = regexp.MustCompile(`^([A-Za-z0-9_-]+\.\d+\.)(.*)$`)
	progressRe = regexp.MustCompile(`\((\d+)/(\d+)\)`)
)

// question is the latest survey question the bot sent.
type question struct {
	step   int      // k of "(k/N)"
	prefix string   // callback data before the value
	values []string // the answer buttons' values (empty: a free-text question)
}

// read takes everything the bot has sent the person so far and returns the last question asked, and
// whether the survey ended (the thank-you with its "delete the chat" button).
func read(inbox chan fakebot.Sent) (q question, asked, done bool) {
	for {
		select {
		case s := <-inbox:
			if s.Method != "sendMessage" {
				continue
			}
			for _, b := range s.Buttons {
				if b.Data == "f.go" {
					done = true
				}
			}
			var nq question
			for _, b := range s.Buttons {
				m := questionRe.FindStringSubmatch(b.Data)
				if m == nil {
					continue
				}
				nq.prefix = m[1]
				if m[2] != "_back" && m[2] != "_skip" && m[2] != "_done" {
					nq.values = append(nq.values, m[2])
				}
			}
			if nq.prefix != "" {
				if p := progressRe.FindStringSubmatch(s.Text); p != nil {
					nq.step, _ = strconv.Atoi(p[1])
				}
				q, asked = nq, true
			}
		default:
			return q, asked, done
		}
	}
}

// answers say what a person answers: choose picks one of a choice question's values, text is the free text.
type answers struct {
	choose func(step int, values []string) string
	text   string
}

// Survey takes one person (uid, also their chat id) through the survey of the unit with public code unit,
// the way a person would: answer what is asked; after a reply went missing (the process died after
// handling the update), ask for the question again with /survey. It returns when the bot thanked them.
func (d *webhookDriver) Survey(ctx context.Context, uid int64, lang, unit string, a answers) error {
	return d.SurveyFrom(ctx, uid, lang, step{text: "/start u-" + unit}, a)
}

// SurveyFrom is Survey from the step first on (a survey already under way).
func (d *webhookDriver) SurveyFrom(ctx context.Context, uid int64, lang string, first step, a answers) error {
	inbox := d.Fake.Inbox(strconv.FormatInt(uid, 10))
	next := first
	final := false
	for n := 0; n < 64; n++ {
		if err := d.deliver(ctx, uid, lang, n, next); err != nil {
			return fmt.Errorf("person %d, update %d: %w", uid, n, err)
		}
		q, asked, done := read(inbox)
		switch {
		case done:
			return nil
		case !asked && final:
			d.Resumed.Add(1)
			return nil // the answer to the last question was handled before a crash: nothing to say again
		case !asked:
			d.Resumed.Add(1)
			next, final = step{text: "/survey"}, false
		case len(q.values) == 0:
			next, final = step{text: a.text}, true
		default:
			v := a.choose(q.step, q.values)
			if !slices.Contains(q.values, v) {
				v = q.values[0]
			}
			next, final = step{data: q.prefix + v}, false
		}
	}
	return fmt.Errorf("person %d: survey did not end in 64 updates", uid)
}

// Send sends one text message as a person and returns what the bot answered.
func (d *webhookDriver) Send(ctx context.Context, uid int64, lang, text string) ([]fakebot.Sent, error) {
	return d.exchange(ctx, uid, lang, step{text: text})
}

// Press presses a button as a person and returns what the bot answered (callback answers are not included).
func (d *webhookDriver) Press(ctx context.Context, uid int64, lang, data string) ([]fakebot.Sent, error) {
	return d.exchange(ctx, uid, lang, step{data: data})
}

// exchange posts one update of a person and collects what the bot sent to them while it was handled (the
// webhook answers after the update is handled).
func (d *webhookDriver) exchange(ctx context.Context, uid int64, lang string, st step) ([]fakebot.Sent, error) {
	inbox := d.Fake.Inbox(strconv.FormatInt(uid, 10))
	if err := d.post(ctx, 0, d.body(uid, lang, st)); err != nil {
		return nil, err
	}
	var out []fakebot.Sent
	for {
		select {
		case s := <-inbox:
			out = append(out, s)
		default:
			return out, nil
		}
	}
}
