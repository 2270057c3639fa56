package telegram_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The Bot API requests of a first question, of an answer to it (the edit, the next question and the
// callback answer) and of the NPS question are kept as golden files: what Telegram receives, field by field.
func TestPayloadsGolden(t *testing.T) {
	r := newRig(t, newEnv(t))
	const u = 4242
	r.post(r.message(u, "/start u-kotipesa"), secret)
	data, mid := r.lastButton(u, "🙂")
	r.post(r.press(u, data, mid), secret)
	for i := 0; i < 4; i++ {
		data, mid = r.lastButton(u, "😐")
		r.post(r.press(u, data, mid), secret)
	}
	var calls []map[string]any
	for _, c := range r.fake.Recorded() {
		m := map[string]any{"method": c.Method}
		if c.InAnswer {
			m["in_webhook_answer"] = true
		}
		for k, v := range c.Values {
			switch k {
			case "callback_query_id":
				continue // made up by the test
			case "reply_markup", "commands":
				var x any
				if err := json.Unmarshal([]byte(v[0]), &x); err != nil {
					t.Fatalf("%s %s is not JSON: %v", c.Method, k, err)
				}
				m[k] = x
			default:
				m[k] = v[0]
			}
		}
		calls = append(calls, m)
	}
	// The session's run id is random: name it.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	// welcome, intro, question 1, edit, question 2, then the callback answer, given in the webhook's answer;
	// then the NPS question in two rows.
	// The edit and the next question go together, in no fixed order: the edit is kept first.
	if calls[3]["method"] == "sendMessage" && calls[4]["method"] == "editMessageText" {
		calls[3], calls[4] = calls[4], calls[3]
	}
	last := len(calls) - 1
	for calls[last]["method"] != "sendMessage" {
		last--
	}
	if err := enc.Encode(append(calls[:6:6], calls[last])); err != nil {
		t.Fatal(err)
	}
	got := runIDs.ReplaceAll(b.Bytes(), []byte(`"RUN.$1"`))
	path := filepath.Join("testdata", "youth_first_answer.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("payloads differ from %s (run with -update if the change is meant):\n%s", path, got)
	}
}

var runIDs = regexp.MustCompile(`"[A-Z2-7]{6}\.([0-9]+\.[^"]*)"`)
