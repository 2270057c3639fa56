package config

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// load writes src as a config file and loads it with env (nil: an empty environment).
func load(t *testing.T, src string, env map[string]string) (Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(p, func(k string) string { return env[k] })
}

// refused loads src and wants an invalid-configuration error holding every one of want.
func refused(t *testing.T, src string, env map[string]string, want ...string) {
	t.Helper()
	_, err := load(t, src, env)
	if err == nil {
		t.Fatalf("accepted:\n%s", src)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("%v: not ErrInvalid", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error\n  %v\nlacks\n  %s", err, w)
		}
	}
}

func accepted(t *testing.T, src string, env map[string]string) Config {
	t.Helper()
	c, err := load(t, src, env)
	if err != nil {
		t.Fatalf("%s\nrefused: %v", src, err)
	}
	return c
}

var webhookEnv = map[string]string{"TELEGRAM_TOKEN": "1:x", "TELEGRAM_WEBHOOK_SECRET": "s"}

// TestShippedConfig: config.yaml, as shipped, loads.
func TestShippedConfig(t *testing.T) {
	if _, err := Load("../config.yaml", func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
}

// TestWebhookPath: a webhook path http.ServeMux cannot take (it would panic in palaute serve) is refused
// naming the key; every path taken registers on a ServeMux as palaute serve registers it.
func TestWebhookPath(t *testing.T) {
	hook := func(p string) string {
		return fmt.Sprintf("telegram:\n  mode: webhook\n  webhook_url: https://example.org/telegram\n  webhook_path: %q\n", p)
	}
	for _, x := range []struct{ path, want string }{
		{"telegram", `telegram.webhook_path: "telegram" must start with /, like /telegram`},
		{"", `telegram.webhook_path: "" must start with /, like /telegram`},
		{"/tele gram", `telegram.webhook_path: "/tele gram" must be a plain path`},
		{"/hook/{id}", `telegram.webhook_path: "/hook/{id}" must be a plain path`},
		{"/a/{x...}/b", `telegram.webhook_path: "/a/{x...}/b" must be a plain path`}, // a ServeMux panic
		{"/a\x00b", `telegram.webhook_path: "/a\x00b" must be a plain path`},
		{"/a%zz", `telegram.webhook_path: "/a%zz" must be a plain path`},
		{"/a//b", `telegram.webhook_path: "/a//b" must be a clean path (like "/a/b")`},
		{"/a/../b", `telegram.webhook_path: "/a/../b" must be a clean path (like "/b")`},
		{"/slack/commands", `telegram.webhook_path: "/slack/commands" is where Slack's slash commands are served`},
	} {
		for _, env := range []map[string]string{webhookEnv, nil} { // with or without the token
			refused(t, hook(x.path), env, "config.yaml: "+x.want)
		}
	}
	for _, p := range []string{"/telegram", "/", "/bot/hook-1_x", "/telegram/", "/a.b~c"} {
		c := accepted(t, hook(p), webhookEnv)
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("webhook_path %q accepted, but ServeMux panics: %v", p, r)
				}
			}()
			http.NewServeMux().Handle("POST "+c.Telegram.WebhookPath, http.NotFoundHandler())
		}()
	}
	// Polling mode does not serve the path.
	accepted(t, "telegram:\n  webhook_path: telegram\n", nil)
}

// TestWebhookURLPathMayDiffer: a reverse proxy may rewrite the path, so webhook_url's path need not be
// webhook_path (the README says so).
func TestWebhookURLPathMayDiffer(t *testing.T) {
	accepted(t, "telegram:\n  mode: webhook\n  webhook_url: https://example.org/palaute/hook\n  webhook_path: /telegram\n", webhookEnv)
}

func TestLogLevel(t *testing.T) {
	for _, l := range []string{"debug", "info", "warn", "error", "WARN"} {
		accepted(t, "log:\n  level: "+l+"\n", nil)
	}
	for _, l := range []string{"verbose", `""`, "info+2", "warning"} {
		refused(t, "log:\n  level: "+l+"\n", nil, "config.yaml: log.level: must be debug, info, warn or error, not ")
	}
}

func TestTargets(t *testing.T) {
	unit := "units:\n  - id: a\n    names: {fi: A}\n    targets: %s\n"
	accepted(t, fmt.Sprintf(unit, "{nps: 30, help: 4.0, responses: 10, goals: 3.5, contact: 4}"), nil)
	refused(t, fmt.Sprintf(unit, "{nsp: 30, help: 4.0, Help: 4}"), nil,
		`config.yaml: units[0].targets: unknown targets "Help", "nsp" (known: responses, nps, respect, informed, contact, help, heard, together, safe, hope, goals): invalid configuration`)
	refused(t, fmt.Sprintf(unit, "{nsp: 30}"), nil, `units[0].targets: unknown target "nsp" (known: responses, nps, `)
	// Only scale questions have a mean to hold a target: not the free-text "words" nor nuoret's "role".
	refused(t, fmt.Sprintf(unit, "{words: 3, role: 1}"), nil, `unknown targets "role", "words"`)

	// With flows_dir, its scale questions are the targets.
	dir := t.TempDir()
	flow := "id: oma\naudience: youth\ntitle: {fi: Oma}\nquestions:\n  - {id: ilo, type: scale, text: {fi: Ilo}}\n"
	if err := os.WriteFile(filepath.Join(dir, "oma.yaml"), []byte(flow), 0o644); err != nil {
		t.Fatal(err)
	}
	withDir := "flows_dir: " + dir + "\n" + unit
	accepted(t, fmt.Sprintf(withDir, "{ilo: 4, responses: 5}"), nil)
	refused(t, fmt.Sprintf(withDir, "{help: 4}"), nil, `units[0].targets: unknown target "help" (known: responses, ilo)`)
	// A flows_dir that does not load leaves its error to the flows loader, which palaute serve runs next.
	accepted(t, "flows_dir: "+filepath.Join(dir, "nosuch")+"\n"+fmt.Sprintf(unit, "{ilo: 4}"), nil)
}

func TestBotName(t *testing.T) {
	for _, n := range []string{"palaute_bot", "Kotipesa_bot", "abbot", "KotipesaBOT", strings.Repeat("x", 29) + "bot"} {
		c := accepted(t, "telegram:\n  bot_name: "+n+"\n", nil)
		if got, want := c.Telegram.StartLink("u-x"), "https://t.me/"+n+"?start=u-x"; got != want {
			t.Errorf("StartLink = %s, want %s", got, want)
		}
	}
	refused(t, "telegram:\n  bot_name: \"@Kotipesa_bot\"\n", nil,
		`config.yaml: telegram.bot_name: "@Kotipesa_bot": write it without the @, like Kotipesa_bot`)
	for _, n := range []string{"Kotipesa", "bot", "a_bo", strings.Repeat("x", 30) + "bot", "koti-pesa_bot", "kotipesä_bot", `""`} {
		refused(t, "telegram:\n  bot_name: "+n+"\n", nil, "config.yaml: telegram.bot_name: ",
			`must be the bot's Telegram username: 5-32 of A-Z a-z 0-9 _, ending in "bot"`)
	}
}

// TestRouting: routing has its defaults (16:00, 3 messages, 7 days), takes other values, and refuses an
// hour outside 0-23, a min_batch under 1, a max_wait under 24h, and a max_wait that feedback would not
// outlive (privacy.retention_days sweeps it first).
func TestRouting(t *testing.T) {
	c := accepted(t, "", nil)
	if want := (Routing{BatchHour: 16, MinBatch: 3, MaxWait: Duration(168 * time.Hour)}); c.Routing != want {
		t.Fatalf("default routing %+v, want %+v", c.Routing, want)
	}
	c = accepted(t, "routing:\n  batch_hour: 0\n  min_batch: 1\n  max_wait: 24h\n", nil)
	if c.Routing.BatchHour != 0 || c.Routing.MinBatch != 1 || c.Routing.MaxWait.D() != 24*time.Hour {
		t.Fatalf("routing %+v", c.Routing)
	}
	accepted(t, "routing:\n  batch_hour: 23\n  max_wait: 336h\n", nil)
	refused(t, "routing:\n  batch_hour: 24\n", nil, "config.yaml: routing.batch_hour: must be an hour 0-23, not 24")
	refused(t, "routing:\n  batch_hour: -1\n", nil, "routing.batch_hour: must be an hour 0-23, not -1")
	refused(t, "routing:\n  min_batch: 0\n", nil, "routing.min_batch: must be at least 1, not 0")
	refused(t, "routing:\n  max_wait: 23h\n", nil, "routing.max_wait: must be at least 24h, not 23h0m0s")
	refused(t, "routing:\n  max_wait: 7d\n", nil, `"7d" is not a duration like 72h or 30s`)
	refused(t, "privacy:\n  retention_days: 14\n", nil,
		"routing.max_wait: 168h0m0s and 8 days more must fit in privacy.retention_days (14): feedback would be deleted before it is posted")
	accepted(t, "privacy:\n  retention_days: 15\n", nil)
}
