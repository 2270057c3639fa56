package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/report"
	"github.com/palaute/palaute/store"
)

// seedW47 completes six youth surveys of the unit with public code unit through e (an engine in
// 2026-W47): 🙂 to every scale, nps to the NPS, no words.
func seedW47(t *testing.T, e *testenv.Env, unit, nps string) {
	t.Helper()
	for i := 0; i < 6; i++ {
		c := e.Chat(t, unit+"-w47-"+strconv.Itoa(i), "fi")
		c.Send("/start u-" + unit)
		for j := 0; j < 5; j++ {
			c.Press("🙂")
		}
		c.Press(nps)
		c.Send("/skip")
	}
}

func TestSummaryAndExportCommands(t *testing.T) {
	srv := redistest.Start(t)
	seedW47(t, testenv.New(t, srv.Client(t)), "kotipesa", "10")
	// No PALAUTE_PSEUDONYM_SECRET: summaries and exports read counters, not anyone's pseudonym.
	vars := env(map[string]string{"REDIS_URL": "redis://" + srv.Addr})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"summary", "-config", "../../config.yaml", "-unit", "kotipesa", "-period", "2026-W47", "-lang", "en"}, vars, nil, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Kotipesä", "6", "NPS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"summary", "-config", "../../config.yaml", "-period", "2026-W47", "-format", "blocks"}, vars, nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"type": "header"`) {
		t.Errorf("blocks output:\n%.500s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"export", "-config", "../../config.yaml", "-period", "2026-W47"}, vars, nil, &out); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) < 3 {
		t.Fatalf("csv: %v %v", rows, err)
	}
	// -post queues the summary once for the server to post; a unit without a channel, or a second
	// -post, is told so.
	slackVars := env(map[string]string{"REDIS_URL": "redis://" + srv.Addr, "SLACK_BOT_TOKEN": "xoxb-test"})
	out.Reset()
	post := []string{"summary", "-config", "../../config.yaml", "-unit", "kotipesa", "-period", "2026-w47", "-post"}
	if err := run(context.Background(), post, slackVars, nil, &out); err != nil || !strings.Contains(out.String(), "queued for #palaute-kotipesa") {
		t.Fatalf("-post: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), post, slackVars, nil, &out); err == nil || !strings.Contains(err.Error(), "queued or posted to #palaute-kotipesa already") {
		t.Errorf("second -post: %v", err)
	}
	// satama without its slack_channel: its own summary has nowhere to go.
	base, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	noChannel := strings.Replace(string(base), `slack_channel: "#palaute-satama"`, `slack_channel: ""`, 1)
	if noChannel == string(base) {
		t.Fatal(`config.yaml has no slack_channel: "#palaute-satama" to blank`)
	}
	noChannelPath := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(noChannelPath, []byte(noChannel), 0o600); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"summary", "-config", noChannelPath, "-unit", "satama", "-period", "2026-W47", "-post"}, slackVars, nil, &out)
	if err == nil || !strings.Contains(err.Error(), `-post: unit "satama" has no slack_channel`) {
		t.Errorf("-post of a unit without slack_channel: %v", err)
	}
	if d, _ := store.NewOutbox(srv.Client(t), "pl:").Depth(context.Background()); d != 1 {
		t.Errorf("outbox holds %d posts, want 1", d)
	}
	if err := run(context.Background(), []string{"summary", "-config", "../../config.yaml", "-period", "2026-W47", "-post"}, slackVars, nil, &out); err == nil || !strings.Contains(err.Error(), "slack.all_channel") {
		t.Errorf("-post of all without all_channel: %v", err)
	}
	for _, bad := range [][]string{{"summary", "-period", "2026-W99"}, {"summary", "-unit", "nosuch", "-period", "2026-11"}, {"summary", "-format", "xml", "-period", "2026-11"}, {"export", "-format", "xlsx"}} {
		if err := run(context.Background(), append(bad, "-config", "../../config.yaml"), vars, nil, &out); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestLoadtestSmall(t *testing.T) {
	srv := redistest.Start(t)
	var out bytes.Buffer
	err := run(context.Background(), []string{"loadtest", "-config", "../../config.yaml", "-redis", "redis://" + srv.Addr, "-users", "20", "-concurrency", "4", "-latency-users", "5", "-active", "50", "-redis-benchmark=false"}, env(nil), nil, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"users 20, concurrency 4, failed 0", "messages: 160 in", "redis round trips per message: 1.", "p99", "bytes", "process RSS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("loadtest output lacks %q:\n%s", want, out.String())
		}
	}
	// 160 loads, 140 of them remembered; 20 from Redis: each person's first message.
	if !strings.Contains(out.String(), "sessions loaded from the process's session cache: 87.5 % (20 loads from Redis") {
		t.Errorf("loadtest output lacks the session cache's figures:\n%s", out.String())
	}
}

// Without redis.url (no REDIS_URL) summary and export would read an empty in-memory Redis of their own, and
// summary -post would queue into it: they refuse, say why and what to set, and print no figure.
func TestSummaryAndExportRefuseEmbeddedRedis(t *testing.T) {
	vars := env(map[string]string{"SLACK_BOT_TOKEN": "xoxb-test"})
	for _, args := range [][]string{
		{"summary", "-unit", "kotipesa", "-period", "2026-W47"},
		{"summary", "-unit", "kotipesa", "-period", "2026-W47", "-post"},
		{"summary", "-period", "2026-11", "-format", "json"},
		{"export", "-period", "2026-11"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), append(args, "-config", "../../config.yaml"), vars, nil, &out)
		if !errors.Is(err, errEmbeddedRedis) {
			t.Errorf("%v: err = %v, want the embedded-Redis refusal", args, err)
			continue
		}
		for _, want := range []string{"palaute " + args[0] + " needs the Redis that palaute serve uses", "redis.url", "REDIS_URL", "in-memory"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v: the refusal does not say %q: %v", args, want, err)
			}
		}
		if out.Len() != 0 {
			t.Errorf("%v printed:\n%s", args, out.String())
		}
	}
	// A Redis that does not answer: one clear error.
	err := run(context.Background(), []string{"summary", "-config", "../../config.yaml", "-period", "2026-11"},
		env(map[string]string{"REDIS_URL": "redis://127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))}), nil, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot reach Redis (redis.url or REDIS_URL): ") {
		t.Errorf("unreachable Redis: %v", err)
	}
}

// summary and export refuse a period that has not ended, in the summaries' language (or -lang), and
// print no figure: two summaries of a running week a response apart would show that person's answers.
func TestSummaryRefusesRunningPeriod(t *testing.T) {
	srv := redistest.Start(t)
	seedW47(t, testenv.New(t, srv.Client(t)), "kotipesa", "10")
	vars := env(map[string]string{"REDIS_URL": "redis://" + srv.Addr})
	saved := clock
	clock = func() time.Time { return time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC) } // Wednesday of W48
	t.Cleanup(func() { clock = saved })
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"summary", "-unit", "kotipesa", "-period", "2026-W48"}, "Jakson viikko 48/2026 yhteenveto ei ole vielä saatavilla: jakso on kesken"},
		{[]string{"summary", "-period", "2026-11", "-lang", "en"}, "The summary of November 2026 is not available yet: the period is still running, and comparing its summaries as answers come in would show single people's answers. It is available from Monday 30 November 2026 at "},
		{[]string{"export", "-period", "2026-H2"}, "maanantaista 4.1.2027 klo "},
	} {
		var out bytes.Buffer
		err := run(context.Background(), append(tc.args, "-config", "../../config.yaml"), vars, nil, &out)
		var ne *report.NotEndedError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ne) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
		if out.Len() != 0 {
			t.Errorf("%v printed:\n%s", tc.args, out.String())
		}
	}
	// W47 has ended: its summary is made.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"summary", "-config", "../../config.yaml", "-unit", "kotipesa", "-period", "2026-W47", "-lang", "en"}, vars, nil, &out); err != nil || !strings.Contains(out.String(), "Responses: 6") {
		t.Errorf("W47: %v\n%s", err, out.String())
	}
}
