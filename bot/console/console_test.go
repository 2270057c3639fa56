package console

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/palaute/palaute/bot"
)

// recorder answers every input with the same keyboard and keeps what it was sent.
type recorder struct {
	rows [][]bot.Button
	got  []bot.Input
}

func (r *recorder) Handle(_ context.Context, in bot.Input) ([]bot.Reply, error) {
	r.got = append(r.got, in)
	return []bot.Reply{{Text: "q", Buttons: r.rows}}, nil
}

func TestTypedChoices(t *testing.T) {
	nps := [][]bot.Button{{{Label: "0", Data: "r.1.0"}, {Label: "1", Data: "r.1.1"}, {Label: "9", Data: "r.1.9"}, {Label: "10", Data: "r.1.10"}}, {{Label: "⬅ Back", Data: "r.1._back"}, {Label: "Skip", Data: "r.1._skip"}}}
	scale := [][]bot.Button{{{Label: "😞", Data: "r.0.1"}, {Label: "🙂", Data: "r.0.4"}}, {{Label: "✓ Football", Data: "r.0.fb"}, {Label: "Skip", Data: "r.0._skip"}}}
	for _, tc := range []struct {
		name string
		rows [][]bot.Button
		line string
		data string // "" = sent as text
	}{
		{"nps number is its value", nps, "9", "r.1.9"},
		{"nps 10", nps, "10", "r.1.10"},
		{"nps 0", nps, "0", "r.1.0"},
		{"controls numbered after the values", nps, "11", "r.1._back"},
		{"control by text", nps, "skip", "r.1._skip"},
		{"scale by position", scale, "2", "r.0.4"},
		{"multi pick without its check mark", scale, "football", "r.0.fb"},
		{"out of range is text", scale, "7", ""},
		{"commands are text", scale, "/skip", ""},
		{"free text", scale, "hyvä paikka", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &recorder{rows: tc.rows}
			var out bytes.Buffer
			c := &Chat{H: h, User: "u", Lang: "fi"}
			if err := c.Run(context.Background(), strings.NewReader(tc.line+"\n"), &out, "/start"); err != nil {
				t.Fatal(err)
			}
			in := h.got[len(h.got)-1]
			if tc.data == "" {
				if in.Kind != bot.KindText || in.Text != tc.line {
					t.Fatalf("%q sent as %+v, want text", tc.line, in)
				}
				return
			}
			if in.Kind != bot.KindChoice || in.Data != tc.data {
				t.Fatalf("%q sent as %+v, want choice %s", tc.line, in, tc.data)
			}
		})
	}
}

func TestKeyboardRendering(t *testing.T) {
	h := &recorder{rows: [][]bot.Button{{{Label: "0", Data: "a"}, {Label: "10", Data: "b"}}, {{Label: "⬅ Edellinen", Data: "c"}}}}
	var out bytes.Buffer
	if err := (&Chat{H: h, User: "u"}).Run(context.Background(), strings.NewReader(""), &out, "/start"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[0]   [10]", "11) ⬅ Edellinen"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
