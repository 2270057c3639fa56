package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/slack-go/slack"

	"github.com/palaute/palaute/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./report -update, then review the diff):\n%s", path, got)
	}
}

// sample is a fixed summary with shown, hidden and protected cells, trends, targets and comments.
func sample(t *testing.T, unit string) *report.Summary {
	f := newFake()
	// October
	f.respond(3, "kotipesa", "nuoret", "2026-W41", "help=3", "heard=4", "safe=3", "hope=3", "nps=7")
	f.respond(3, "kotipesa", "nuoret", "2026-W42", "help=3", "heard=4", "safe=3", "hope=3", "nps=7")
	f.respond(4, "kotipesa", "nuoret", "2026-W43", "help=2", "heard=3", "safe=4", "hope=4", "nps=4")
	// November
	f.respond(5, "kotipesa", "nuoret", "2026-W45", "help=4", "heard=5", "together=", "safe=4", "hope=4", "nps=10", "words=Ohjaajat <kuuntelevat> & auttavat, kiitos Matti!")
	f.respond(4, "kotipesa", "nuoret", "2026-W46", "help=3", "heard=4", "together=3", "safe=2", "unsafe_more=Yöt ovat levottomia", "hope=4", "nps=8", "words=")
	f.respond(3, "kotipesa", "nuoret", "2026-W47", "help=5", "heard=5", "together=4", "safe=5", "hope=5", "nps=9", "words=Ruoka on hyvää")
	f.respond(6, "kotipesa", "laheiset", "2026-W45", "role=parent", "respect=5", "informed=3", "contact=4", "nps=9", "words=")
	f.respond(3, "satama", "nuoret", "2026-W46", "help=4", "nps=9")
	f.respond(7, "satama", "nuoret", "2026-W47", "help=2", "nps=6")
	f.respond(2, "metsola", "nuoret", "2026-W47", "help=1", "nps=0")
	for i, pol := range []string{"positive", "corrective", "positive", "neutral", "positive", "corrective"} {
		f.feedback("kotipesa", "youth", "2026-W45", pol, fmt.Sprint("Palaute ", i), "food")
	}
	us := units("kotipesa", "satama", "metsola")
	us[0].Targets = map[string]float64{"nps": 30, "help": 4.0, "responses": 10}
	return MustBuild(t, f, opts(us...), unit, month)
}

func blocksJSON(t *testing.T, ms []report.Message) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ms); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBlocksGolden(t *testing.T) {
	for _, tc := range []struct{ unit, lang string }{{"kotipesa", "fi"}, {"kotipesa", "en"}, {report.All, "sv"}} {
		t.Run(tc.unit+"."+tc.lang, func(t *testing.T) {
			s := sample(t, tc.unit)
			ms := s.Messages(tc.lang)
			golden(t, "blocks_"+tc.unit+"."+tc.lang+".json", blocksJSON(t, ms))
			golden(t, "text_"+tc.unit+"."+tc.lang+".txt", []byte(s.Text(tc.lang)))
			if len(s.Blocks(tc.lang)) != len(ms) {
				t.Errorf("Blocks and Messages disagree")
			}
		})
	}
}

// The fallback text is the summary in plain text: the same figures as the blocks, no mrkdwn, and no
// hidden figure.
func TestFallbackText(t *testing.T) {
	s := sample(t, report.All)
	ms := s.Messages("en")
	if len(ms) != 1 {
		t.Fatalf("%d messages", len(ms))
	}
	text := ms[0].Text
	for _, want := range []string{"Feedback summary, November 2026\nWeeks 45–48.", "== All units together ==", "== Unit kotipesa ==",
		"  Responses: 12 ▲ 2 (Oct 10)\n", "Ohjaajat <kuuntelevat> & auttavat"} {
		if !strings.Contains(text, want) {
			t.Errorf("fallback lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "*") || strings.Contains(text, "&amp;") {
		t.Errorf("mrkdwn in the plain-text fallback:\n%s", text)
	}
	// It is the plain text of the summary, part for part.
	if plainBody := s.Text("en"); !strings.Contains(plainBody, strings.SplitN(text, "\n\n", 2)[1][:200]) {
		t.Errorf("fallback differs from the text rendering:\n%s", text)
	}
}

func TestBlocksEscapeMrkdwn(t *testing.T) {
	s := sample(t, "kotipesa")
	js := string(blocksJSON(t, s.Messages("fi")))
	if !strings.Contains(js, "Ohjaajat &lt;kuuntelevat&gt; &amp; auttavat") {
		t.Errorf("comment not escaped for mrkdwn:\n%s", js)
	}
	if strings.Contains(js, "Matti") {
		t.Errorf("name not scrubbed")
	}
}

// Many units split into several messages, each within Slack's limits, with nothing lost.
func TestBlocksWithinLimits(t *testing.T) {
	f := newFake()
	var ids []string
	for i := range 40 {
		id := fmt.Sprintf("u%02d", i)
		ids = append(ids, id)
		long := strings.Repeat("pitkä kommentti ", 60) // ~960 characters
		f.respond(12, id, "nuoret", "2026-W45", "help=4", "heard=3", "safe=5", "hope=2", "together=4", "nps=9", "words="+long)
		f.respond(10, id, "laheiset", "2026-W45", "role=parent", "respect=4", "informed=3", "contact=4", "nps=7", "words=😀 "+long)
	}
	o := opts(units(ids...)...)
	o.MaxComments = 12 // 12 comments of ~1000 characters: several sections per group
	s := MustBuild(t, f, o, report.All, month)
	ms := s.Messages("fi")
	if len(ms) < 2 {
		t.Fatalf("%d messages, want a split", len(ms))
	}
	all := ""
	for i, m := range ms {
		if len(m.Blocks) > report.MaxBlocks {
			t.Errorf("message %d has %d blocks", i, len(m.Blocks))
		}
		if m.Text == "" || !strings.Contains(m.Text, fmt.Sprintf("osa %d/%d", i+1, len(ms))) {
			t.Errorf("message %d fallback text = %q", i, m.Text)
		}
		for _, b := range m.Blocks {
			switch b := b.(type) {
			case *slack.SectionBlock:
				if n := len(utf16.Encode([]rune(b.Text.Text))); n > report.MaxSectionText {
					t.Errorf("message %d: section of %d characters", i, n)
				}
				all += b.Text.Text + "\n"
			case *slack.HeaderBlock:
				if n := len(utf16.Encode([]rune(b.Text.Text))); n > report.MaxHeaderText {
					t.Errorf("message %d: header of %d characters", i, n)
				}
				all += b.Text.Text + "\n"
			}
		}
		// The plain-text fallback carries the same units as the message's blocks.
		if n := len(utf16.Encode([]rune(m.Text))); n > report.MaxFallbackText {
			t.Errorf("message %d: fallback of %d characters", i, n)
		}
		for _, b := range m.Blocks {
			if h, ok := b.(*slack.HeaderBlock); ok && i > 0 && len(m.Text) < report.MaxFallbackText-100 && !strings.Contains(m.Text, "== "+h.Text.Text+" ==") {
				t.Errorf("message %d: %q is in the blocks, not in the fallback text", i, h.Text.Text)
			}
		}
		if last := m.Blocks[len(m.Blocks)-1]; last.BlockType() == slack.MBTHeader || last.BlockType() == slack.MBTDivider {
			t.Errorf("message %d ends with a lone heading", i)
		}
	}
	for _, id := range ids {
		if !strings.Contains(all, "Yksikkö "+id) {
			t.Errorf("unit %s lost in the split", id)
		}
	}
	if got := strings.Count(all, "• pitkä kommentti") + strings.Count(all, "• 😀 pitkä kommentti"); got != 40*(12+10) {
		t.Errorf("%d comments in the messages, want %d", got, 40*(12+10))
	}
}

func TestBlocksLongCommentSplitsSection(t *testing.T) {
	f := newFake()
	f.respond(10, "a", "nuoret", "2026-W45", "help=4", "words="+strings.Repeat("x", 4000))
	s := MustBuild(t, f, opts(units("a")...), "a", month)
	got := 0
	defer func() {
		if got != 10*4000 {
			t.Errorf("%d of the comments' characters in the sections, want %d", got, 10*4000)
		}
	}()
	for _, m := range s.Messages("en") {
		for _, b := range m.Blocks {
			if sb, ok := b.(*slack.SectionBlock); ok {
				if n := len(utf16.Encode([]rune(sb.Text.Text))); n > report.MaxSectionText {
					t.Errorf("section of %d characters", n)
				}
				got += strings.Count(sb.Text.Text, "x")
			}
		}
	}
}

func TestCSV(t *testing.T) {
	s := sample(t, report.All)
	var b bytes.Buffer
	if err := s.CSV(&b); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(report.CSVHeader, ",") {
		t.Errorf("header = %v", rows[0])
	}
	find := func(unit, aud, item, measure string) []string {
		for _, r := range rows {
			if r[1] == unit && r[2] == aud && r[3] == item && r[4] == measure {
				return r
			}
		}
		return nil
	}
	if r := find("kotipesa", "youth", "", "responses"); r == nil || r[5] != "12" || r[6] != "" {
		t.Errorf("kotipesa youth responses row = %v", r)
	}
	if r := find("kotipesa", "youth", "nuoret.help", "mean"); r == nil || r[5] != "3.9" {
		t.Errorf("kotipesa help mean row = %v", r)
	}
	// metsola has 2 answers: hidden. satama's November (10) minus its W47 (7, in the weekly summary)
	// would give its W46's 3: hidden too. A month's total adds up the shown units: kotipesa's 12.
	if r := find("metsola", "youth", "", "responses"); r == nil || r[5] != "" || r[6] != "too_few" {
		t.Errorf("metsola row = %v", r)
	}
	if r := find("satama", "youth", "", "responses"); r == nil || r[5] != "" || r[6] != "protected_period" {
		t.Errorf("satama row = %v", r)
	}
	if r := find("all", "youth", "", "responses"); r == nil || r[5] != "12" || r[6] != "" {
		t.Errorf("total row = %v", r)
	}
	for _, r := range rows {
		if r[2] == "youth" && r[5] != "" && (r[1] == "metsola" || r[1] == "satama") {
			t.Errorf("a figure of a hidden cell: %v", r)
		}
	}
	// Breakdowns: kotipesa's youth (12) show theirs, a value of fewer than 3 answers as "small".
	if r := find("kotipesa", "youth", "nuoret.help", "pct=1"); r == nil || r[5] != "" || r[6] != "small" {
		t.Errorf("kotipesa help pct=1 row = %v", r)
	}
	if r := find("kotipesa", "relative", "laheiset.role", "breakdown"); r == nil || r[6] != "too_few" {
		t.Errorf("kotipesa role (6 relatives) breakdown row = %v", r)
	}
	// Free text only from the group of 12 (>= 10), formula-safe.
	comments := 0
	for _, r := range rows {
		if r[4] == "comment" {
			comments++
			if r[1] != "kotipesa" || r[2] != "youth" {
				t.Errorf("comment from a small group: %v", r)
			}
		}
	}
	if comments != 12 {
		t.Errorf("%d comments, want 12", comments)
	}
}

func TestCSVFormulaSafe(t *testing.T) {
	f := newFake()
	f.respond(10, "a", "nuoret", "2026-W45", "help=4", "words==HYPERLINK(\"http://x\")")
	var b bytes.Buffer
	if err := MustBuild(t, f, opts(units("a")...), "a", month).CSV(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), ",=HYPERLINK") || !strings.Contains(b.String(), "'=HYPERLINK") {
		t.Errorf("formula not neutralised:\n%s", b.String())
	}
}

func TestChart(t *testing.T) {
	for _, unit := range []string{"kotipesa", report.All, "metsola"} {
		t.Run(unit, func(t *testing.T) {
			var b bytes.Buffer
			if err := sample(t, unit).Chart(&b, "fi"); err != nil {
				t.Fatal(err)
			}
			if dir := os.Getenv("PALAUTE_CHART_DIR"); dir != "" { // to look at: PALAUTE_CHART_DIR=/tmp go test -run TestChart ./report/
				_ = os.WriteFile(filepath.Join(dir, "chart_"+unit+".png"), b.Bytes(), 0o644)
			}
			img, err := png.Decode(&b)
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			w, h := img.Bounds().Dx(), img.Bounds().Dy()
			// all: the total adds up the shown units (kotipesa's youth and relatives).
			rows := map[string]int{"kotipesa": 2, report.All: 2, "metsola": 1}[unit]
			// A 28-point title strip, then 250 points a row, at 2 px a point.
			if w != 1440 || h != 56+500*rows {
				t.Errorf("size %dx%d, want 1440x%d (%d rows)", w, h, 56+500*rows, rows)
			}
			// Something is drawn: not a blank image.
			colours := map[uint32]bool{}
			for y := 0; y < h; y += 7 {
				for x := 0; x < w; x += 7 {
					r, g, b, _ := img.At(x, y).RGBA()
					colours[r>>8<<16|g>>8<<8|b>>8] = true
				}
			}
			if len(colours) < 3 {
				t.Errorf("blank chart (%d colours)", len(colours))
			}
		})
	}
}

// The summary starts with what needs attention (targets not met, young people who do not feel safe),
// then the figures; a change says from what ("▲ 107 points (Oct −40)"); NPS has a legend; the anonymity
// rules end it, in the text and as the last block.
func TestSummaryLayout(t *testing.T) {
	s := sample(t, "kotipesa")
	text := s.Text("en")
	att := strings.Index(text, "Needs attention:\n  ✗ Young people · I got help when I needed it: 3.9 (target 4.0)\n  ! Young people: at least 33 % answered 😞 or 🙁 to “I feel safe where I live”\n")
	if att < 0 || att > strings.Index(text, "== Unit kotipesa ==") {
		t.Errorf("no attention block before the figures:\n%s", text)
	}
	for _, want := range []string{"NPS = % promoters (9–10) − % detractors (0–6), from −100 to 100.", "NPS: 67 ▲ 107 points (Oct −40)",
		"Responses: 12 ▲ 2 (Oct 10)", "I got help when I needed it: 3.9 ▲ 1.3 (Oct 2.6)"} {
		if !strings.Contains(text, want) {
			t.Errorf("want %q in\n%s", want, text)
		}
	}
	if !strings.HasSuffix(text, "so read them with care.\n") || strings.Index(text, "To protect the people") < strings.Index(text, "Feedback from people") {
		t.Errorf("the rules do not end the summary:\n%s", text)
	}
	ms := s.Messages("fi")
	last := ms[len(ms)-1].Blocks
	if c, ok := last[len(last)-1].(*slack.ContextBlock); !ok || !strings.Contains(c.ContextElements.Elements[0].(*slack.TextBlockObject).Text, "Vastaajien suojaamiseksi") {
		t.Errorf("last block %+v, want the rules", last[len(last)-1])
	}
	if sec, ok := ms[0].Blocks[2].(*slack.SectionBlock); !ok || !strings.HasPrefix(sec.Text.Text, "*Huomioitavaa:*") {
		t.Errorf("third block %+v, want the attention block", ms[0].Blocks[2])
	}
}
