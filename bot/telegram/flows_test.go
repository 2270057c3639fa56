package telegram_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/internal/fakebot"
)

// step is one thing the person does: press a button with this label, or (text) send a message.
type step struct {
	press, text string
}

// Every default flow, through the webhook and through long polling: the questions come in order with their
// progress, each with the keyboard of its type; every press is answered and edited to show the answer
// without buttons; the thanks come last and the stored response holds what was pressed and written.
func TestEveryDefaultFlowThroughBothModes(t *testing.T) {
	flowsCases := []struct {
		flow, unit string
		steps      []step
		want       map[string]string
	}{
		{"nuoret", "kotipesa",
			[]step{{press: "🙂"}, {press: "😄"}, {press: "😐"}, {press: "🙁"}, {press: "🙂"}, {press: "9"}, {press: "En halua vastata"}, {text: "Hyvä paikka"}},
			map[string]string{"aud": "youth", "a.help": "4", "a.heard": "5", "a.together": "3", "a.safe": "2", "a.hope": "4", "a.nps": "9", "a.unsafe_more": "", "a.words": "Hyvä paikka"}},
		{"laheiset", "satama",
			[]step{{press: "Vanhempi"}, {press: "😄"}, {press: "🙂"}, {press: "😐"}, {press: "10"}, {text: "Tieto kulkee hyvin"}},
			map[string]string{"aud": "relative", "a.role": "parent", "a.respect": "5", "a.informed": "4", "a.contact": "3", "a.nps": "10", "a.words": "Tieto kulkee hyvin"}},
		{"sosiaalityo", "satama",
			[]step{{press: "🙂"}, {press: "🙂"}, {press: "😞"}, {press: "6"}, {press: "En halua vastata"}},
			map[string]string{"aud": "social_worker", "a.respect": "4", "a.heard": "4", "a.goals": "1", "a.nps": "6", "a.words": ""}},
	}
	for _, mode := range []string{"webhook", "polling"} {
		for i, fc := range flowsCases {
			t.Run(mode+"/"+fc.flow, func(t *testing.T) {
				env := newEnv(t)
				r := newRig(t, env)
				deliver := func(up map[string]any) {
					if s := r.post(up, secret); s != 200 {
						t.Fatalf("webhook answered %d", s)
					}
				}
				if mode == "polling" {
					r.poll(t)
					deliver = func(up map[string]any) { r.fake.Push(up) }
				}
				u := int64(60000 + i)
				f, _ := env.Flows.Get(fc.flow)
				open := "/start u-" + fc.unit
				if f.Audience != flows.Youth {
					tok, err := env.Invites.Create(context.Background(), fc.unit, f.Audience, 1, 0)
					if err != nil {
						t.Fatal(err)
					}
					open = "/start i-" + tok
				}
				deliver(r.message(u, open))
				asked := askedQuestions(f, fc.want)
				presses := 0
				for k, st := range fc.steps {
					q := asked[k]
					// (k/N): N grows by one when the answer to "safe" opens the question about it.
					head := fmt.Sprintf("(%d/", k+1)
					waitFor(t, func() bool {
						for _, c := range r.sent(u, "sendMessage") {
							if x := c.Values.Get("text"); strings.HasPrefix(x, head) && strings.Contains(x, q.Text["fi"]) {
								return true
							}
						}
						return false
					})
					last := r.sent(u, "sendMessage")
					checkKeyboard(t, q, k == 0, last[len(last)-1])
					if st.text != "" {
						deliver(r.message(u, st.text))
						continue
					}
					data, mid := r.lastButton(u, st.press)
					deliver(r.press(u, data, mid))
					presses++
					n := presses
					waitFor(t, func() bool { return len(r.sent(u, "editMessageText")) == n })
				}
				outro := f.Outro["fi"]
				waitFor(t, func() bool { return strings.Contains(texts(r.sent(u, "sendMessage")), outro) })
				for _, e := range r.sent(u, "editMessageText") {
					if e.Values.Get("reply_markup") != "" || !strings.Contains(e.Values.Get("text"), "→ ") {
						t.Fatalf("an answered question still has buttons or does not show the answer: %q", e.Values.Get("text"))
					}
				}
				if n := len(r.fake.Recorded("answerCallbackQuery")); n != presses {
					t.Fatalf("%d button presses answered, want %d", n, presses)
				}
				resp := env.Responses(t, fc.unit)
				if len(resp) != 1 {
					t.Fatalf("%d responses stored", len(resp))
				}
				for k, v := range fc.want {
					if got, ok := resp[0][k]; !ok || got != v {
						t.Errorf("response %s = %q, want %q (%v)", k, got, v, resp[0])
					}
				}
			})
		}
	}
}

// askedQuestions are the answerable questions a person with these answers is asked, in order.
func askedQuestions(f *flows.Flow, want map[string]string) []*flows.Question {
	var out []*flows.Question
	for i := range f.Questions {
		q := &f.Questions[i]
		if _, ok := want["a."+q.ID]; ok && q.Type.Answerable() {
			out = append(out, q)
		}
	}
	return out
}

// checkKeyboard checks the inline keyboard a question was sent with.
func checkKeyboard(t *testing.T, q *flows.Question, first bool, c fakebot.Call) {
	t.Helper()
	var k kb
	if err := json.Unmarshal([]byte(c.Values.Get("reply_markup")), &k); err != nil {
		t.Fatalf("%s: no keyboard: %v", q.ID, err)
	}
	rows := k.InlineKeyboard
	label := func(r, i int) string { return rows[r][i].Text }
	switch q.Type {
	case flows.Scale:
		if len(rows[0]) != 5 || label(0, 0) != "😞" || label(0, 4) != "😄" {
			t.Fatalf("%s: scale row %+v", q.ID, rows[0])
		}
	case flows.NPS:
		if len(rows[0]) != 6 || len(rows[1]) != 5 || label(0, 0) != "0" || label(1, 4) != "10" {
			t.Fatalf("%s: NPS rows %+v", q.ID, rows[:2])
		}
	case flows.Choice:
		for i, o := range q.Options {
			if len(rows[i]) != 1 || label(i, 0) != o.Text["fi"] {
				t.Fatalf("%s: option row %d = %+v", q.ID, i, rows[i])
			}
		}
	case flows.Text:
		if len(rows) != 1 {
			t.Fatalf("%s: a text question has only the back/skip row, got %+v", q.ID, rows)
		}
	}
	lastRow := rows[len(rows)-1]
	if got := lastRow[len(lastRow)-1].Text; got != "En halua vastata" {
		t.Fatalf("%s: last button %q, want the skip", q.ID, got)
	}
	if back := lastRow[0].Text == "⬅ Edellinen"; back == first {
		t.Fatalf("%s: back button shown=%v on question first=%v", q.ID, back, first)
	}
	for _, row := range rows {
		for _, b := range row {
			if len(b.Data) > 64 || b.Data == "" {
				t.Fatalf("%s: callback data %q", q.ID, b.Data)
			}
		}
	}
}
