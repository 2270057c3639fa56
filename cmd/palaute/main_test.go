package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/metrics"
	"github.com/palaute/palaute/router"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDemoScriptedPrintsResponse(t *testing.T) {
	var out bytes.Buffer
	in := strings.NewReader("4\n5\n3\n4\n4\n9\nHyvä paikka\n")
	if err := run(context.Background(), []string{"demo", "-config", "../../config.yaml", "-lang", "fi"}, env(nil), in, &out); err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "response: ") {
			line = strings.TrimPrefix(l, "response: ")
		}
	}
	var r map[string]string
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("no response line in output:\n%s", out.String())
	}
	if r["a.help"] != "4" || r["a.heard"] != "5" || r["a.nps"] != "9" || r["a.words"] != "Hyvä paikka" || r["aud"] != "youth" {
		t.Fatalf("response = %v", r)
	}
	if !strings.Contains(out.String(), "1) 😞") {
		t.Errorf("choices are not numbered:\n%s", out.String())
	}
}

func TestDemoRelativesSwedish(t *testing.T) {
	var out bytes.Buffer
	in := strings.NewReader("1\n5\n4\n4\n10\n/skip\n")
	if err := run(context.Background(), []string{"demo", "-config", "../../config.yaml", "-lang", "sv", "-flow", "laheiset"}, env(nil), in, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Vilken är din relation", "Jag blev bemött med respekt.", `"aud":"relative"`, `"a.role":"parent"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDemoBadFlags(t *testing.T) {
	for _, args := range [][]string{{"demo", "-lang", "de"}, {"demo", "-flow", "nosuch"}, {"demo", "-unit", "nosuch"}} {
		err := run(context.Background(), append(args, "-config", "../../config.yaml"), env(nil), strings.NewReader(""), io.Discard)
		if err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestValidate(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"validate", "../../flows/defaults"}, env(nil), nil, &out); err != nil {
		t.Fatalf("default flows: %v\n%s", err, out.String())
	}
	out.Reset()
	err := run(context.Background(), []string{"validate", "../../flows/testdata/broken.yaml"}, env(nil), nil, &out)
	if err == nil || !strings.Contains(out.String(), "../../flows/testdata/broken.yaml:13: unknown question type \"smiley\"") {
		t.Fatalf("broken flow: err %v, output:\n%s", err, out.String())
	}
}

func TestConfigErrorNamesKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("anonymity:\n  min_responses: 2\ntelegram:\n  mode: carrier-pigeon\nredis:\n  session_cache: -1\nslack:\n  timeout: 0s\n"), 0o600)
	err := run(context.Background(), []string{"demo", "-config", p}, env(nil), strings.NewReader(""), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "anonymity.min_responses: must be at least 3") || !strings.Contains(err.Error(), "telegram.mode") ||
		!strings.Contains(err.Error(), "redis.session_cache: must be 0") || !strings.Contains(err.Error(), "slack.timeout: must be above 0") {
		t.Fatalf("err = %v", err)
	}
	os.WriteFile(p, []byte("redis:\n  prefx: x\n"), 0o600)
	err = run(context.Background(), []string{"demo", "-config", p}, env(nil), strings.NewReader(""), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "c.yaml: 2: field prefx not found") {
		t.Fatalf("unknown key: err = %v", err)
	}
}

// mustServe builds the app of ../../config.yaml with env and serves it on the address it names (use
// PALAUTE_HTTP_LISTEN=127.0.0.1:0) until the test ends. stop ends it sooner and returns what serve returned.
func mustServe(t *testing.T, env func(string) string) (a *app, addr string, stop func() error) {
	t.Helper()
	return mustServeConfig(t, "../../config.yaml", env)
}

// mustServeConfig is mustServe with the configuration file at path.
func mustServeConfig(t *testing.T, path string, env func(string) string) (a *app, addr string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := build(ctx, path, env, io.Discard)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	started := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serveApp(ctx, a, started) }()
	addr = <-started
	var once sync.Once
	var served error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case served = <-done:
			case <-time.After(20 * time.Second):
				served = errors.New("serve did not stop in 20 s")
			}
			a.close()
		})
		return served
	}
	t.Cleanup(func() { _ = stop() })
	return a, addr, stop
}

func TestServeHealthReadyMetricsAndShutdown(t *testing.T) {
	a, addr, stop := mustServe(t, env(map[string]string{"PALAUTE_HTTP_LISTEN": "127.0.0.1:0"}))
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "palaute_redis_errors_total"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %q", path, resp.StatusCode, b)
		}
	}
	a.rdb.Close() // Redis gone: not ready
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz without Redis: %v %v", resp.StatusCode, err)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
}

func TestHealthCommand(t *testing.T) {
	ctx := context.Background()
	a, addr, stop := mustServe(t, env(map[string]string{"PALAUTE_HTTP_LISTEN": "127.0.0.1:0"}))
	var out bytes.Buffer
	if err := run(ctx, []string{"health"}, env(map[string]string{"PALAUTE_HTTP_LISTEN": addr}), nil, &out); err != nil || !strings.Contains(out.String(), "ready") {
		t.Fatalf("health of a ready server: %v %q", err, out.String())
	}
	a.rdb.Close() // Redis gone: not ready
	if err := run(ctx, []string{"health", "-url", "http://" + addr + "/readyz"}, env(nil), nil, io.Discard); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("health without Redis: %v", err)
	}
	_ = stop()
	if err := run(context.Background(), []string{"health", "-url", "http://" + addr + "/readyz", "-timeout", "1s"}, env(nil), nil, io.Discard); err == nil {
		t.Fatal("health of a stopped server passed")
	}
}

// palaute health -config asks the address of the configuration's http.listen (on 127.0.0.1 when it
// listens on every interface); PALAUTE_HTTP_LISTEN overrides it, as it does for serve.
func TestHealthCommandConfig(t *testing.T) {
	ctx := context.Background()
	_, addr, _ := mustServe(t, env(map[string]string{"PALAUTE_HTTP_LISTEN": "127.0.0.1:0"}))
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	for _, listen := range []string{addr, "0.0.0.0:" + port, ":" + port, "[::]:" + port} {
		p := filepath.Join(dir, "c.yaml")
		os.WriteFile(p, []byte("http:\n  listen: \""+listen+"\"\n"), 0o600)
		var out bytes.Buffer
		if err := run(ctx, []string{"health", "-config", p}, env(nil), nil, &out); err != nil || !strings.Contains(out.String(), "ready") {
			t.Errorf("http.listen %q: %v %q", listen, err, out.String())
		}
		// The environment wins over the file: here it names a port nothing listens on.
		if err := run(ctx, []string{"health", "-config", p, "-timeout", "1s"}, env(map[string]string{"PALAUTE_HTTP_LISTEN": "127.0.0.1:1"}), nil, io.Discard); err == nil {
			t.Errorf("http.listen %q: PALAUTE_HTTP_LISTEN=127.0.0.1:1 not asked", listen)
		}
	}
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("http:\n  lisen: x\n"), 0o600)
	if err := run(ctx, []string{"health", "-config", filepath.Join(dir, "bad.yaml")}, env(nil), nil, io.Discard); err == nil || !strings.Contains(err.Error(), "lisen") {
		t.Errorf("a bad configuration: %v", err)
	}
}

// TestWarnsOfMissingSlackChannelsAtStart: with Slack posting on, a unit without units[].slack_channel or
// an empty slack.all_channel (where the crisis alerts of people who chose no unit go) is told in one
// WARN at start that names the setting; palaute still starts.
func TestWarnsOfMissingSlackChannelsAtStart(t *testing.T) {
	for _, x := range []struct {
		name, token, all string
		unitWithout      bool
		want             []string // in the one WARN; none wanted when empty
	}{
		{"no all_channel", "xoxb-test", "", false, []string{"slack.all_channel is empty", "crisis alerts"}},
		{"no all_channel nor a unit's", "xoxb-test", "", true, []string{"slack.all_channel is empty", "satama"}},
		{"a unit without its channel", "xoxb-test", "#johto", true, []string{"units[].slack_channel", "satama", "#johto"}},
		{"every channel set", "xoxb-test", "#johto", false, nil},
		{"posting off", "", "", true, nil},
	} {
		t.Run(x.name, func(t *testing.T) {
			var logs bytes.Buffer
			ctx := context.Background()
			a, err := build(ctx, "../../config.yaml", env(map[string]string{"SLACK_BOT_TOKEN": x.token}), &logs)
			if err != nil {
				t.Fatal(err)
			}
			defer a.close()
			a.cfg.Slack.AllChannel = x.all
			if x.unitWithout {
				a.cfg.Units = append(a.cfg.Units[:0:0], a.cfg.Units...)
				a.cfg.Units[1].SlackChannel = ""
			}
			logs.Reset()
			m := metrics.New()
			if err := wireSlack(ctx, &wiring{app: a, mux: http.NewServeMux(), metrics: m}); err != nil {
				t.Fatalf("start refused: %v", err)
			}
			if x.token != "" {
				// With posting on, /metrics shows what waits for a channel: nothing yet.
				ms := httptest.NewServer(m.Handler())
				defer ms.Close()
				for _, kind := range []string{router.KindUrgent, router.KindBatch, router.KindDigest} {
					name := "palaute_feedback_waiting_" + kind
					v, n, err := scrapeSamples(strings.TrimPrefix(ms.URL, "http://"), name)
					if err != nil || n != 1 || v != 0 {
						t.Errorf("/metrics: %s = %v in %d samples (%v), want one sample of 0", name, v, n, err)
					}
				}
			}
			var warns []string
			for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var rec map[string]any
				if json.Unmarshal([]byte(l), &rec) == nil && rec["level"] == "WARN" && strings.Contains(l, "channel") {
					warns = append(warns, l)
				}
			}
			if len(x.want) == 0 {
				if len(warns) != 0 {
					t.Fatalf("warned without cause:\n%s", strings.Join(warns, "\n"))
				}
				return
			}
			if len(warns) != 1 {
				t.Fatalf("want one WARN about channels, got %d:\n%s", len(warns), logs.String())
			}
			for _, w := range x.want {
				if !strings.Contains(warns[0], w) {
					t.Errorf("WARN lacks %q: %s", w, warns[0])
				}
			}
		})
	}
}

// TestWrongRulesDirStopsStart: palaute does not start on a coding.rules_dir that is not there, and says
// which setting and path to fix.
func TestWrongRulesDirStopsStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nosuch")
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte("coding:\n  rules_dir: "+dir+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := build(context.Background(), p, env(nil), io.Discard)
	if err == nil {
		a.close()
		t.Fatal("started with a missing coding.rules_dir")
	}
	if !strings.Contains(err.Error(), "coding.rules_dir: ") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("error %q does not name coding.rules_dir and %s", err, dir)
	}
}

// TestValidateRules: palaute validate -rules DIR checks edited coding rules before a restart: each
// problem as file:line, all at once, and a failing exit; the rules as shipped pass.
func TestValidateRules(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"validate", "-rules", "../../coding/rules"}, env(nil), nil, &out); err != nil ||
		!strings.Contains(out.String(), "../../coding/rules: coding rules ok (") {
		t.Fatalf("shipped rules: %v\n%s", err, out.String())
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "topics.yaml"), []byte("topics:\n  - id: food\n    names: {fi: ruoka}\n    fi: [ru*ok]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "crisis.yaml"), []byte("classes:\n  bullying:\n    fi: [kiusa*]\n"), 0o644)
	out.Reset()
	err := run(ctx, []string{"validate", "-rules", dir}, env(nil), nil, &out)
	for _, want := range []string{
		filepath.Join(dir, "topics.yaml") + ":4: a * can stand only at the start or the end of a word",
		filepath.Join(dir, "crisis.yaml") + `:2: unknown crisis class "bullying"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err == nil || strings.Contains(out.String(), "ok") {
		t.Fatalf("broken rules: err %v, output:\n%s", err, out.String())
	}
	out.Reset()
	err = run(ctx, []string{"validate", "-rules", dir, "../../flows/defaults"}, env(nil), nil, &out)
	if err == nil || !strings.Contains(out.String(), "topics.yaml:4:") {
		t.Fatalf("broken rules with good flows: err %v, output:\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"validate", "-rules", filepath.Join(dir, "nosuch")}, env(nil), nil, &out); err == nil {
		t.Fatalf("a missing rules directory passed:\n%s", out.String())
	}
}

// Without -config: $PALAUTE_CONFIG, else ./config.yaml, else /etc/palaute/config.yaml (the image's), else no
// file; a command that needs a unit then says there is no configuration file.
func TestConfigDefault(t *testing.T) {
	dir := t.TempDir()
	sys := filepath.Join(dir, "etc", "config.yaml")
	old := systemConfig
	systemConfig = sys
	t.Cleanup(func() { systemConfig = old })
	base, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if got := defaultConfig(env(nil)); got != "" {
		t.Errorf("no file anywhere: %q", got)
	}
	// poster needs a unit and no Redis: it shows which configuration was read.
	poster := func(e func(string) string) error {
		return run(context.Background(), []string{"poster", "-unit", "kotipesa", "-out", filepath.Join(dir, "p.png")}, e, nil, io.Discard)
	}
	if err := poster(env(nil)); err == nil || !strings.Contains(err.Error(), `no unit "kotipesa": no configuration file was found`) ||
		!strings.Contains(err.Error(), "PALAUTE_CONFIG") {
		t.Errorf("no configuration file: %v", err)
	}
	os.MkdirAll(filepath.Dir(sys), 0o755)
	os.WriteFile(sys, base, 0o644)
	if got := defaultConfig(env(nil)); got != sys {
		t.Errorf("only the system file: %q", got)
	}
	if err := poster(env(nil)); err != nil {
		t.Errorf("with /etc/palaute/config.yaml: %v", err)
	}
	os.WriteFile("config.yaml", []byte("units: []\n"), 0o644)
	if got := defaultConfig(env(nil)); got != "config.yaml" {
		t.Errorf("./config.yaml and the system file: %q", got)
	}
	if err := poster(env(nil)); err == nil || !strings.Contains(err.Error(), "config.yaml has no units") {
		t.Errorf("./config.yaml without units: %v", err)
	}
	if got := defaultConfig(env(map[string]string{"PALAUTE_CONFIG": sys})); got != sys {
		t.Errorf("PALAUTE_CONFIG: %q", got)
	}
	if err := poster(env(map[string]string{"PALAUTE_CONFIG": sys})); err != nil {
		t.Errorf("PALAUTE_CONFIG: %v", err)
	}
}

// palaute validate -config checks a configuration as serve loads it, with its flows_dir and rules dir; a
// configuration given as a flow is recognised as such.
func TestValidateConfig(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"validate", "-config", "../../config.yaml"}, env(nil), nil, &out); err != nil ||
		!strings.HasPrefix(out.String(), "../../config.yaml: ok (2 units; 3 flows: embedded; coding rules: embedded)") {
		t.Fatalf("shipped configuration: %v\n%s", err, out.String())
	}
	dir := t.TempDir()
	flowsDir := filepath.Join(dir, "flows")
	os.MkdirAll(flowsDir, 0o755)
	broken, _ := os.ReadFile("../../flows/testdata/broken.yaml")
	os.WriteFile(filepath.Join(flowsDir, "broken.yaml"), broken, 0o644)
	p := filepath.Join(dir, "config.yaml")
	os.WriteFile(p, []byte("flows_dir: "+flowsDir+"\ncoding:\n  rules_dir: "+filepath.Join(dir, "nosuch")+"\n"), 0o644)
	out.Reset()
	err := run(ctx, []string{"validate", "-config", p}, env(nil), nil, &out)
	for _, want := range []string{filepath.Join(flowsDir, "broken.yaml") + `:13: unknown question type "smiley"`, "coding.rules_dir: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err == nil || strings.Contains(out.String(), ": ok") {
		t.Errorf("broken flows_dir and rules_dir: err %v\n%s", err, out.String())
	}
	os.WriteFile(p, []byte("redis:\n  prefx: x\n"), 0o644)
	out.Reset()
	if err := run(ctx, []string{"validate", "-config", p}, env(nil), nil, &out); err == nil || !strings.Contains(out.String(), p+": 2: field prefx not found") {
		t.Errorf("unknown key: %v\n%s", err, out.String())
	}
	// The configuration given as a flow file.
	out.Reset()
	err = run(ctx, []string{"validate", "../../config.yaml"}, env(nil), nil, &out)
	if want := "../../config.yaml: this looks like the configuration: use palaute validate -config ../../config.yaml"; err == nil || strings.TrimSpace(out.String()) != want {
		t.Errorf("config.yaml as a flow: err %v, output:\n%s\nwant:\n%s", err, out.String(), want)
	}
}

// palaute demo keeps to an embedded in-memory Redis whatever REDIS_URL says; -redis URL is the only way to a
// real one. It says which at the start.
func TestDemoUsesEmbeddedRedisUnlessAsked(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	vars := env(map[string]string{"REDIS_URL": srv.URL(), "PALAUTE_PSEUDONYM_SECRET": "0123456789abcdef0123"})
	answers := "4\n5\n3\n4\n4\n9\nHyvä paikka\n"
	var out bytes.Buffer
	if err := run(context.Background(), []string{"demo", "-config", "../../config.yaml"}, vars, strings.NewReader(answers), &out); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(out.String(), "\n"); !strings.HasPrefix(first, "demo: Redis is an embedded in-memory one") {
		t.Errorf("first line %q", first)
	}
	if !strings.Contains(out.String(), "response: ") {
		t.Fatalf("no response:\n%s", out.String())
	}
	if n := rdb.DBSize(context.Background()).Val(); n != 0 {
		t.Fatalf("the demo wrote %d keys into REDIS_URL's Redis", n)
	}
	out.Reset()
	if err := run(context.Background(), []string{"demo", "-config", "../../config.yaml", "-redis", srv.URL()}, vars, strings.NewReader(answers), &out); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(out.String(), "\n"); first != "demo: Redis is "+srv.URL()+" (-redis): the demo's answers are kept there and counted in its summaries" {
		t.Errorf("first line %q", first)
	}
	if n := rdb.DBSize(context.Background()).Val(); n == 0 {
		t.Fatal("-redis: nothing written")
	}
	// -redis keeps answers under pseudonyms: the secret is needed then.
	err := run(context.Background(), []string{"demo", "-config", "../../config.yaml", "-redis", srv.URL()}, env(nil), strings.NewReader(""), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PALAUTE_PSEUDONYM_SECRET") {
		t.Errorf("-redis without the secret: %v", err)
	}
	// ...but not without it.
	if err := run(context.Background(), []string{"demo", "-config", "../../config.yaml"}, env(nil), strings.NewReader(""), io.Discard); err != nil {
		t.Errorf("embedded without the secret: %v", err)
	}
}

// A failing health check prints the reply once (in the error), not also on stdout.
func TestHealthFailurePrintsBodyOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not ready: redis unreachable", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var out bytes.Buffer
	err := run(context.Background(), []string{"health", "-url", srv.URL + "/readyz"}, env(nil), nil, &out)
	if err == nil || strings.Count(err.Error()+out.String(), "not ready: redis unreachable") != 1 {
		t.Fatalf("err %v, stdout %q", err, out.String())
	}
}

func TestExitCode(t *testing.T) {
	var stderr bytes.Buffer
	if c := exitCode(nil, &stderr); c != 0 {
		t.Errorf("no error: %d", c)
	}
	if c := exitCode(fmt.Errorf("summary: %w", flag.ErrHelp), &stderr); c != 0 || stderr.Len() != 0 {
		t.Errorf("-h: %d %q", c, stderr.String())
	}
	if c := exitCode(errors.New("boom"), &stderr); c != 1 || stderr.String() != "palaute: boom\n" {
		t.Errorf("an error: %d %q", c, stderr.String())
	}
}

// TestCLIProcessHelper is the palaute binary of TestCLIProcess (run as the test binary itself), and skips
// otherwise.
func TestCLIProcessHelper(t *testing.T) {
	args := os.Getenv("PALAUTE_CLI_HELPER_ARGS")
	if args == "" {
		t.Skip("run by TestCLIProcess")
	}
	os.Args = append([]string{"palaute"}, strings.Fields(args)...)
	main()
}

// As a process: a CLI command against a Redis that refuses connections writes one line on stderr, not
// go-redis's own lines for every failed dial; -h exits 0.
func TestCLIProcess(t *testing.T) {
	down := "redis://127.0.0.1:" + strconv.Itoa(redistest.FreePort(t)) + "/0"
	for _, x := range []struct {
		args   string
		code   int
		stderr string // the whole of stderr; "" for none
	}{
		{"summary -config ../../config.yaml -period 2026-11", 1, "palaute: cannot reach Redis (redis.url or REDIS_URL): dial tcp"},
		{"export -config ../../config.yaml -period 2026-11", 1, "palaute: cannot reach Redis (redis.url or REDIS_URL): dial tcp"},
		{"invite -config ../../config.yaml -unit kotipesa -audience relative", 1, "palaute: cannot reach Redis (redis.url or REDIS_URL): dial tcp"},
		{"summary -h", 0, ""},
		{"validate -h", 0, ""},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCLIProcessHelper$")
		cmd.Env = append(os.Environ(), "PALAUTE_CLI_HELPER_ARGS="+x.args, "REDIS_URL="+down, "PALAUTE_CONFIG=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != x.code {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", x.args, code, x.code, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if x.stderr == "" && stderr.Len() != 0 || x.stderr != "" && (len(lines) != 1 || !strings.HasPrefix(lines[0], x.stderr)) {
			t.Errorf("%s: stderr is not one line %q...:\n%s", x.args, x.stderr, stderr.String())
		}
	}
}
