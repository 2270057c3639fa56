package coding_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/palaute/palaute/coding"
	"github.com/palaute/palaute/locales"
)

// crisisCase is a message and the class it must raise ("" = none: an ordinary sentence).
type crisisCase struct {
	class, lang, text string
}

// crisisCases: for every class, messages that must raise it and look-alikes that must not, in fi, sv
// and en, with inflection, slang and typos.
var crisisCases = []crisisCase{
	// suicide
	{"suicide", "fi", "haluun kuolla"},
	{"suicide", "fi", "mä en jaksa elää enää"},
	{"suicide", "fi", "oon miettiny itsemurhaa"},
	{"suicide", "fi", "haluisin vaan kuolla pois"},
	{"suicide", "fi", "kaikille ois parempi ilman mua"},
	{"suicide", "fi", "aattelin hypätä sillalta"},
	{"suicide", "fi", "en halua olla enää olemassa"},
	{"suicide", "sv", "jag vill dö"},
	{"suicide", "sv", "orkar inte leva längre"},
	{"suicide", "sv", "tänker på självmord hela tiden"},
	{"suicide", "sv", "vill ta livet av mig"},
	{"suicide", "en", "i want to kill myself"},
	{"suicide", "en", "kms"},
	{"suicide", "en", "i just wanna die"},
	{"suicide", "en", "everyone would be better off without me"},
	{"suicide", "en", "I dont want to be alive anymore"},
	{"", "fi", "tappava tylsää"},
	{"", "fi", "kuolen nauruun"},
	{"", "fi", "mä kuolen tylsyyteen tällä tunnilla"},
	{"", "fi", "en halua kuolla"},
	{"", "sv", "dödtråkigt"},
	{"", "sv", "jag dör av skratt"},
	{"", "sv", "filmen var livsfarlig spännande"},
	{"", "en", "this homework is killing me"},
	{"", "en", "I'm dying of laughter"},
	{"", "en", "we drove 50 kms to the lake"},
	{"", "en", "i wanna die of embarrassment lol"},
	// self_harm
	{"self_harm", "fi", "viiltelen"},
	{"self_harm", "fi", "oon viillelly taas"},
	{"self_harm", "fi", "satutan itteeni kun ahdistaa"},
	{"self_harm", "sv", "jag skär mig när jag mår dåligt"},
	{"self_harm", "sv", "har börjat skada mig själv"},
	{"self_harm", "en", "i cut myself again last night"},
	{"self_harm", "en", "been self harming"},
	{"", "fi", "viiltävä tuuli tänään"},
	{"", "fi", "satutin jalkani futiksessa"},
	{"", "sv", "jag skar mig i fingret när jag lagade mat"},
	{"", "sv", "kniven skär bra"},
	{"", "en", "i cut myself shaving"},
	{"", "en", "i hurt myself playing football"},
	// abuse
	{"abuse", "fi", "setä koskettelee mua"},
	{"abuse", "fi", "mut on raiskattu"},
	{"abuse", "fi", "joku aikuinen pyysi multa nudeja"},
	{"abuse", "sv", "han tafsar på mig"},
	{"abuse", "sv", "jag blev våldtagen"},
	{"abuse", "en", "he touched me and i didnt want it"},
	{"abuse", "en", "i was sexually abused"},
	{"", "fi", "kosketusnäyttö ei toimi"},
	{"", "sv", "han rörde om i grytan"},
	{"", "en", "that really touched me, thank you"},
	{"", "en", "the abuse of power by the council"},
	// violence
	{"violence", "fi", "isä lyö"},
	{"violence", "fi", "mua lyötiin eilen"},
	{"violence", "fi", "ohjaaja tönäisi mua"},
	{"violence", "fi", "se uhkas tappaa mut"},
	{"violence", "sv", "pappa slår mig"},
	{"violence", "sv", "jag blev slagen i korridoren"},
	{"violence", "en", "my dad hits me"},
	{"violence", "en", "he punched me"},
	{"violence", "en", "got beaten up after school"},
	{"", "fi", "lyön vetoa että huomenna sataa"},
	{"", "fi", "veli potki palloa pihalla"},
	{"", "sv", "det slår mig att ingen frågar"},
	{"", "sv", "han slog bollen över staketet"},
	{"", "en", "my brother beat me at fifa"},
	{"", "en", "hit me up later"},
	{"", "en", "dad hurt his back at work"},
	// unsafe_home
	{"unsafe_home", "fi", "en uskalla mennä kotiin"},
	{"unsafe_home", "fi", "pelkään isää"},
	{"unsafe_home", "fi", "äiti on aina kännissä"},
	{"unsafe_home", "fi", "kotona ei oo ruokaa"},
	{"unsafe_home", "sv", "vågar inte gå hem"},
	{"unsafe_home", "sv", "känner mig inte trygg hemma"},
	{"unsafe_home", "en", "i dont feel safe at home"},
	{"unsafe_home", "en", "scared to go home"},
	{"unsafe_home", "en", "my mum is always drunk"},
	{"", "fi", "äiti juo kahvia aamulla"},
	{"", "fi", "kotona on ihan turvallista"},
	{"", "sv", "pappa dricker kaffe"},
	{"", "sv", "jag längtar hem"},
	{"", "en", "i feel safe at home now"},
	{"", "en", "my dad drinks tea every morning"},
	// running_away
	{"running_away", "fi", "karkaan täältä"},
	{"running_away", "fi", "mä lähen himasta pois enkä tuu takas"},
	{"running_away", "fi", "karkasin eilen"},
	{"running_away", "sv", "jag ska rymma"},
	{"running_away", "sv", "drar hemifrån ikväll"},
	{"running_away", "en", "im going to run away"},
	{"running_away", "en", "i ran away last night"},
	{"", "fi", "karkit loppu"},
	{"", "fi", "tilanne karkas käsistä"},
	{"", "fi", "koira karkasi metsään"},
	{"", "sv", "rummet rymmer fyra sängar"},
	{"", "sv", "katten sprang bort"},
	{"", "en", "the dog ran away"},
	{"", "en", "time runs away so fast"},
}

// TestCrisis checks crisis detection on cases and look-alikes of every class in every language, and that
// the table covers every class of the rules in every language with both.
func TestCrisis(t *testing.T) {
	c := coding.MustDefault(t)
	have := map[string]bool{}
	for _, x := range crisisCases {
		got, ok := c.Crisis(x.text)
		if !ok {
			got = ""
		}
		if got != x.class {
			_, ms, _ := c.ExplainCrisis(x.text)
			t.Errorf("%s %q: crisis %q, want %q (%+v)", x.lang, x.text, got, x.class, ms)
		}
		have[x.class+"/"+x.lang] = true
	}
	for _, cl := range coding.Classes {
		for _, l := range locales.Languages {
			if !have[cl+"/"+l] {
				t.Errorf("no %s case of %s in the table", l, cl)
			}
		}
	}
	for _, l := range locales.Languages {
		if !have["/"+l] {
			t.Errorf("no %s look-alike in the table", l)
		}
	}
}

// TestCrisisMostUrgentClass: a message matching several classes raises the most urgent.
func TestCrisisMostUrgentClass(t *testing.T) {
	c := coding.MustDefault(t)
	if got, _ := c.Crisis("isä lyö ja mä haluun kuolla"); got != "suicide" {
		t.Errorf("class %q, want suicide before violence", got)
	}
	if got, _ := c.Crisis("I cut myself and my dad hits me"); got != "self_harm" {
		t.Errorf("class %q, want self_harm before violence", got)
	}
}

func TestCodePolarityAndNegation(t *testing.T) {
	c := coding.MustDefault(t)
	for _, x := range []struct{ lang, text, want string }{
		{"fi", "ei ollut kivaa", "corrective"},
		{"fi", "oli kivaa", "positive"},
		{"fi", "ei huono", "positive"},
		{"fi", "kivaa, ei mitään valitettavaa", "positive"},
		{"fi", "ruoka ei oo hyvää mutta ohjaajat on kivoja", "corrective"},
		{"fi", "KIITOOOOS", "positive"},
		{"fi", "ohjajat on ihania", "positive"},
		{"fi", "ei kiitos", "neutral"},
		{"sv", "inte bra", "corrective"},
		{"sv", "jag gillar inte maten", "corrective"},
		{"sv", "jättebra", "positive"},
		{"sv", "vad händer med mina svar?", "neutral"},
		{"en", "not good", "corrective"},
		{"en", "not bad at all", "positive"},
		{"en", "i don't like it", "corrective"},
		{"en", "no thanks", "neutral"},
		{"en", "👍", "positive"},
		{"en", "<3", "positive"},
		{"fi", "the staff are great", "positive"}, // another language than the session's
		{"en", "", "neutral"},
	} {
		if got, _ := c.Code(x.lang, x.text); got != x.want {
			t.Errorf("%s %q: %s, want %s (%+v)", x.lang, x.text, got, x.want, c.Analyze(x.lang, x.text).Matches)
		}
	}
}

func TestCodeTopicsInflected(t *testing.T) {
	c := coding.MustDefault(t)
	for _, text := range []string{"ohjaaja", "ohjaajat", "ohjaajien", "ohjaajalle", "yöohjaajat", "omaohjaajani"} {
		if _, tp := c.Code("fi", text); !slices.Contains(tp, "staff") {
			t.Errorf("%q: topics %v, want staff", text, tp)
		}
	}
	for _, text := range []string{"ruoka", "ruoan", "ruuasta", "kouluruokaa", "iltapalalla"} {
		if _, tp := c.Code("fi", text); !slices.Contains(tp, "food") {
			t.Errorf("%q: topics %v, want food", text, tp)
		}
	}
	if _, tp := c.Code("fi", "perhekodissa on kivaa"); slices.Contains(tp, "family_contact") || !slices.Contains(tp, "housing") {
		t.Errorf("perhekodissa: topics %v, want housing only (the longer entry wins)", tp)
	}
	if n := c.TopicName("sv", "food"); n != "mat" {
		t.Errorf("TopicName(sv, food) = %q", n)
	}
	if n := c.TopicName("fi", "nosuch"); n != "nosuch" {
		t.Errorf("unknown topic name = %q", n)
	}
}

func TestCrisisLongMessage(t *testing.T) {
	c := coding.MustDefault(t)
	long := strings.Repeat("ruoka on hyvää ja ohjaajat kivoja. ", 100) + "mutta mä haluun kuolla"
	if cl, ok := c.Crisis(long); !ok || cl != "suicide" {
		t.Errorf("a crisis at the end of a long message: %q %v", cl, ok)
	}
}
