package pii_test

import (
	"os"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/palaute/palaute/report/pii"
)

// corpusNames are the configured names the corpus is written against.
var corpusNames = []string{"Mikko Virtanen", "Sanna", "Jukka Mäkinen", "Koivukoti", "Petra Lindqvist", "Tuomas", "Emma Johnson"}

type corpusCase struct {
	Lang string `yaml:"lang"`
	Who  string `yaml:"who"`
	Text string `yaml:"text"`
	Want string `yaml:"want"`
}

// MustCorpus reads testdata/corpus.yaml.
func MustCorpus(tb testing.TB) []corpusCase {
	tb.Helper()
	b, err := os.ReadFile("testdata/corpus.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	var cases []corpusCase
	if err := yaml.Unmarshal(b, &cases); err != nil {
		tb.Fatalf("testdata/corpus.yaml: %v", err)
	}
	return cases
}

func TestCorpus(t *testing.T) {
	s := pii.New(corpusNames)
	cases := MustCorpus(t)
	if len(cases) < 60 {
		t.Errorf("corpus has %d sentences, want at least 60", len(cases))
	}
	langs := map[string]int{}
	unchanged := 0
	for _, c := range cases {
		langs[c.Lang]++
		want := c.Want
		if want == "" {
			want = c.Text
			unchanged++
		}
		if got := s.Scrub(c.Lang, c.Text); got != want {
			t.Errorf("%s/%s Scrub(%q)\n got %q\nwant %q", c.Lang, c.Who, c.Text, got, want)
		}
		if found := s.Found(c.Lang, c.Text); (len(found) == 0) != (c.Want == "") {
			t.Errorf("Found(%q) = %v, but the corpus expects the text to be %s", c.Text, found,
				map[bool]string{true: "unchanged", false: "scrubbed"}[c.Want == ""])
		}
	}
	for _, l := range []string{"fi", "sv", "en"} {
		if langs[l] < 10 {
			t.Errorf("corpus has %d %s sentences, want at least 10", langs[l], l)
		}
	}
	if unchanged < 15 {
		t.Errorf("corpus has %d negatives, want at least 15", unchanged)
	}
}
