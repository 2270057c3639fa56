package coding_test

import (
	"strings"
	"testing"

	"github.com/palaute/palaute/coding"
)

// withPolarity is the embedded coder with polarity.yaml replaced by data.
func withPolarity(t *testing.T, data string) *coding.Coder {
	t.Helper()
	files := defaults(t)
	files[coding.PolarityFile] = []byte(data)
	c, err := coding.Parse(nil, files)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const miniPolarity = `
intensifiers: [sika, as]
fi:
  negators: [ei, en]
  then: [ennen]
  now: [nyt]
  positive: [hyvä*, kiva*, kiitti]
  corrective: ["miks ... aina", "en oo saanut", tylsä*]
  mild_corrective: [paha olo]
sv:
  negators: [inte]
  positive: [god, bra]
  corrective: [dålig*]
en:
  negators: [not]
  positive: [good]
  corrective: [bad]
`

// TestRuleLanguage: the parts of the rule language a staff member writes, each shown on a small rules
// file: ... between words, intensifiers, spoken participles, mild_corrective, then/now.
func TestRuleLanguage(t *testing.T) {
	c := withPolarity(t, miniPolarity)
	for _, x := range []struct{ lang, text, want string }{
		// "miks ... aina": up to 8 words between, in one sentence
		{"fi", "miks ohjaajat istuu iltasin aina puhelimella", coding.Corrective},
		{"fi", "miks ne yks kaks kolme neljä viis kuus seittemän aina", coding.Corrective},
		{"fi", "miks ne yks kaks kolme neljä viis kuus seittemän kasi aina", coding.Neutral},
		{"fi", "miks? ohjaajat on aina täällä", coding.Neutral},
		// intensifiers: the rest of the word is read on its own, when it is a word of the rules
		{"fi", "lasagne oli sikahyvää", coding.Positive},
		{"sv", "lasagnen var asgod", coding.Positive},
		{"sv", "asdåligt", coding.Corrective},
		{"fi", "sikala", coding.Neutral},     // the rest is too short to be read on its own
		{"en", "asgoodness", coding.Neutral}, // the rest must be a word of the rules (exact or word*) as it is
		// spoken past participles match their written form
		{"fi", "en oo saanu vastausta", coding.Corrective},
		{"fi", "en oo saanut vastausta", coding.Corrective},
		// mild_corrective: corrective alone, outweighed by praise, nothing when negated
		{"fi", "mulla on paha olo", coding.Corrective},
		{"fi", "kiitti et kuuntelit ku mulla oli paha olo", coding.Positive},
		{"fi", "ei oo paha olo", coding.Neutral},
		// then/now: the past part of a comparison does not count
		{"fi", "ennen oli tylsää mut nyt on kivaa", coding.Positive},
		{"fi", "ennen oli kivaa, nyt on tylsää", coding.Corrective},
		{"fi", "ennen oli tylsää", coding.Corrective},
	} {
		if got, _ := c.Code(x.lang, x.text); got != x.want {
			t.Errorf("%s %q: %s, want %s (%+v)", x.lang, x.text, got, x.want, c.Analyze(x.lang, x.text).Matches)
		}
	}
}

func TestRuleLanguageMistakes(t *testing.T) {
	for _, x := range []struct{ data, want string }{
		{"intensifiers: [sika*]\n" + miniPolarity[1:], "polarity.yaml:1: intensifiers: no * here"},
		{"intensifiers: [s]\n" + miniPolarity[1:], "polarity.yaml:1: intensifiers: \"s\" is too short"},
		{strings.Replace(miniPolarity, `"miks ... aina"`, `"... aina"`, 1), `write ... only between two words`},
		{strings.Replace(miniPolarity, `"miks ... aina"`, `"miks ... ... aina"`, 1), `write ... only between two words`},
		{strings.Replace(miniPolarity, "  then: [ennen]", "  then: ennen", 1), "fi.then must be a list"},
	} {
		files := defaults(t)
		files[coding.PolarityFile] = []byte(x.data)
		_, err := coding.Parse(nil, files)
		if err == nil || !strings.Contains(err.Error(), x.want) {
			t.Errorf("%q:\n got %v\nwant %s", x.data, err, x.want)
		}
	}
}

// TestImplicitComplaints: with the embedded rules, complaints that name no bad word (questions, time
// without contact, again with a change, being laughed at, ignored or not told), slang praise and
// comparatives, in fi, sv and en; and ordinary sentences with the same words that must stay neutral.
// None of these sentences is in the labelled sets.
func TestImplicitComplaints(t *testing.T) {
	c := coding.MustDefault(t)
	for _, x := range []struct{ lang, want, text string }{
		// complaint questions
		{"fi", coding.Corrective, "miksi ohjaajat puhuu aina toisilleen eikä meille"},
		{"sv", coding.Corrective, "varför får vi aldrig bestämma något"},
		{"en", coding.Corrective, "why do we never get a say in anything"},
		{"fi", coding.Neutral, "miks tää botti kysyy mun yksikköä"},
		{"en", coding.Neutral, "why does the bot ask which unit im in"},
		// a long time without contact
		{"fi", coding.Corrective, "en oo kuullu äidistä mitään kahteen viikkoon"},
		{"sv", coding.Corrective, "har inte hört något från mamma på två veckor"},
		{"en", coding.Corrective, "havent heard from my mum in two weeks"},
		{"fi", coding.Neutral, "äiti soittaa kerran viikkoon"},
		// again, with a change or a failure
		{"fi", coding.Corrective, "Palaveri peruttiin taas viime hetkellä."},
		{"sv", coding.Corrective, "Mötet ställdes in igen i sista minuten."},
		{"en", coding.Corrective, "the wifi is down again"},
		{"fi", coding.Neutral, "mennään taas huomenna uimaan"},
		{"en", coding.Neutral, "were going swimming again tomorrow"},
		// laughed at, ignored, treated like children, not told
		{"fi", coding.Corrective, "yks ohjaaja pilkkaa mun vaatteita"},
		{"sv", coding.Corrective, "personalen behandlar oss som småbarn"},
		{"en", coding.Corrective, "nobody takes me seriously"},
		{"sv", coding.Corrective, "Man bestämmer om den unga utan att fråga henne."},
		{"fi", coding.Corrective, "Kukaan ei ole soittanut meille kahteen kuukauteen."},
		// slang praise, comparatives, and a comparison with the past
		{"fi", coding.Positive, "ihan törkeen hyvää pizzaa tänään"},
		{"sv", coding.Positive, "svingod pizza idag"},
		{"en", coding.Positive, "the pizza today was fire"},
		{"fi", coding.Positive, "aamupala on nykyään parempi"},
		{"sv", coding.Positive, "maten har blivit mycket godare"},
		{"fi", coding.Corrective, "ennen oli paljon kivempaa"},
		{"sv", coding.Positive, "förut var det tråkigt men nu är det kul"},
		{"en", coding.Positive, "it used to be boring but now its fun"},
		// plain questions and information stay neutral
		{"fi", coding.Neutral, "Voisitteko kertoa, milloin seuraava tapaaminen on?"},
		{"sv", coding.Neutral, "Kan ni berätta när nästa möte är?"},
		{"en", coding.Neutral, "The young person starts at a new school on Monday."},
		{"sv", coding.Neutral, "Vi har fått en god man."},
	} {
		if got, _ := c.Code(x.lang, x.text); got != x.want {
			t.Errorf("%s %q: %s, want %s (%+v)", x.lang, x.text, got, x.want, c.Analyze(x.lang, x.text).Matches)
		}
	}
}

// TestTopicNameOverWord: a topic's name of several words decides over a word of it that belongs to
// another topic; a compound still counts for both.
func TestTopicNameOverWord(t *testing.T) {
	c := coding.MustDefault(t)
	for _, x := range []struct {
		lang, text string
		want       []string
	}{
		{"en", "my social worker never calls me back", []string{"social_worker"}},
		{"en", "why do we have to go to bed so early", []string{"rules"}},
		{"fi", "kouluruoka on pahaa", []string{"food", "school"}},
	} {
		if _, got := c.Code(x.lang, x.text); !sameSet(got, x.want) {
			t.Errorf("%s %q: topics %v, want %v", x.lang, x.text, got, x.want)
		}
	}
}

// A word as written wins over a longer word read through a typo: "please" is a request (corrective), not
// a misspelt "pleased"; a real typo of "pleased" is still read as praise.
func TestWordAsWrittenBeatsTypo(t *testing.T) {
	c := withPolarity(t, `
typo_min_length: 6
fi:
  negators: [ei]
  positive: [hyvä]
sv:
  negators: [inte]
  positive: [bra]
en:
  negators: [not]
  positive: [pleased]
  corrective: [please]
`)
	for text, want := range map[string]string{
		"please let us stay up later on weekends": "corrective",
		"im very plesed with the staff":           "positive",
		"pleased":                                 "positive",
	} {
		if got, _ := c.Code("en", text); got != want {
			t.Errorf("%q: %s, want %s", text, got, want)
		}
	}
}
