package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
				for _, kind := range []string{router.KindUrgent, router.KindHourly, router.KindDigest} {
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
