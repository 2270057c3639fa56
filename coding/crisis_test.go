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
	// suicide: despair and hopelessness (no class of their own: suicide is the one whose help fits)
	{"suicide", "fi", "en jaksa enää"},
	{"suicide", "fi", "ei jaksa enää"},
	{"suicide", "fi", "mä en jaksa enää 😭"},
	{"suicide", "fi", "en jaksa tätä enää"},
	{"suicide", "fi", "mä en kestä tätä enää"},
	{"suicide", "fi", "en jaksa tätä elämää"},
	{"suicide", "fi", "kukaan ei välitä jos mä kuolen"},
	{"suicide", "fi", "kukaan ei huomais vaikka mä katoisin"},
	{"suicide", "fi", "ois parempi ettei mua olis"},
	{"suicide", "fi", "olis parempi jos mua ei olis olemassa"},
	{"suicide", "fi", "mulla on tosi paha olla"},
	{"suicide", "fi", "mul on nii paha olla"},
	{"suicide", "fi", "mulla on tosi paha olo koko ajan"},
	{"suicide", "fi", "haluun pois tästä maailmasta"},
	{"suicide", "sv", "jag orkar inte mer"},
	{"suicide", "sv", "orkar inte längre"},
	{"suicide", "sv", "jag orkar inte mer med det här"},
	{"suicide", "sv", "ingen bryr sig om jag dör"},
	{"suicide", "sv", "ingen skulle sakna mig om jag försvann"},
	{"suicide", "en", "i cant do this anymore"},
	{"suicide", "en", "I can't take it anymore"},
	{"suicide", "en", "i cant take this no more"},
	{"suicide", "en", "i cannot cope anymore"},
	{"suicide", "en", "nobody would care if i was gone"},
	{"suicide", "en", "no one would even notice if i died"},
	{"", "fi", "en jaksa koulua aamulla"},
	{"", "fi", "en jaksa tätä"}, // in a survey: "I can't be bothered with this"
	{"", "fi", "en jaksa enää odottaa et wifi korjataan"},
	{"", "fi", "en jaksa enää sitä samaa ruokaa joka päivä"},
	{"", "fi", "en kestä enää tätä meteliä"},
	{"", "fi", "en jaksa enää vastata näihin kysymyksiin"},
	{"", "fi", "ei se mitään, en jaksa enää valittaa"},
	{"", "fi", "ohjaajat ei jaksa enää kuunnella meitä"},
	{"", "fi", "mulla on paha olo"}, // a worry, coded as feedback (mild_corrective)
	{"", "fi", "mulla oli eilen paha olo mut nyt on parempi"},
	{"", "fi", "kiitti et kuuntelit ku mulla oli paha olla"},
	{"", "fi", "täällä ei oo yhtään paha olla"},
	{"", "fi", "olis parempi jos ruoka olis lämpimämpää"},
	{"", "fi", "ois parempi ettei mua olis laitettu tänne"},
	{"", "sv", "jag orkar inte med läxorna"},
	{"", "sv", "jag orkar inte mer med läxorna"},
	{"", "sv", "jag orkar inte äta mer"},
	{"", "sv", "jag orkar inte mer än en timme"},
	{"", "sv", "ingen bryr sig om vad vi tycker"},
	{"", "sv", "ingen skulle märka om jag var borta på helgen"},
	{"", "en", "i cant do this homework"},
	{"", "en", "i cant take the bus anymore"},
	{"", "en", "i cant go on the trip"},
	{"", "en", "nobody cares about our opinions"},
	{"", "en", "i dont care if i die in fortnite lol"},
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
	{"abuse", "fi", "isäpuoli koskee muhun"},
	{"abuse", "fi", "mun isäpuoli on koskenut muhun"},
	{"abuse", "fi", "isäpuoli koskettelee mua"},
	{"abuse", "fi", "se koski mua alapäähän"},
	{"", "fi", "kukaan ei oo koskenut muhun"},
	{"", "fi", "se koski muhun tosi paljon kun ohjaaja sano niin"}, // it hurt my feelings
	{"", "fi", "sääntö koskee meitä kaikkia"},
	{"", "fi", "mua koskee päähän"},
	{"", "fi", "kaikki koskee muhun"}, // everything hurts me
	{"", "fi", "ohjaaja koski muhun vahingossa"},
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
	// here: the unit or foster home
	{"unsafe_home", "fi", "mua pelottaa olla täällä"},
	{"unsafe_home", "fi", "pelkään täällä öisin"},
	{"unsafe_home", "fi", "en uskalla olla täällä"},
	{"unsafe_home", "sv", "jag är rädd här"},
	{"unsafe_home", "en", "im scared here"},
	// a plea for help on its own (alone:)
	{"distress", "fi", "apua"},
	{"distress", "fi", "APUAAA!!!"},
	{"distress", "fi", "tarvitsen apua"},
	{"distress", "fi", "mä tarviin apua"},
	{"distress", "fi", "auttakaa"},
	{"distress", "fi", "auttakaa mua"},
	{"distress", "fi", "apua!! tarvitsen apua 😭"},
	{"distress", "fi", "mua pelottaa"},
	{"distress", "sv", "hjälp"},
	{"distress", "sv", "jag behöver hjälp"},
	{"distress", "sv", "hjälp mig jag är rädd"},
	{"distress", "en", "help"},
	{"distress", "en", "I need help"},
	{"distress", "en", "pls help me"},
	{"distress", "en", "someone help"},
	{"distress", "en", "im so scared"},
	{"distress", "sv", "jag är jätterädd"},
	{"", "fi", "apua läksyissä olis kiva"},
	{"", "fi", "tarvitsen apua matikan läksyissä"},
	{"", "fi", "apua 😂"},
	{"", "fi", "apua mikä päivä"},
	{"", "fi", "/apua"}, // a bot command
	{"", "fi", "ohjaaja auttoi mua läksyissä, kiitos"},
	{"", "fi", "pelottaa kun muut nuoret tappelee käytävällä"},
	{"", "fi", "en tunne oloani turvalliseksi täällä öisin"}, // feedback on safety, for the unit to put right
	{"", "sv", "jag behöver hjälp med läxorna"},
	{"", "sv", "tack för hjälpen"},
	{"", "sv", "jag är inte rädd här längre"},
	{"", "en", "/help"},
	{"", "en", "i need help with my homework"},
	{"", "en", "help with homework would be nice"},
	{"", "en", "help how do i use this"},
	{"", "en", "i dont need help"},
	{"", "fi", "en tarvitse apua"},
	{"", "en", "thanks for the help"},
	{"", "en", "I feel safe here"},
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
	{"running_away", "fi", "haluun pois täältä"},
	{"running_away", "sv", "jag vill bort härifrån"},
	{"", "fi", "en halua pois täältä, täällä on kivaa"},
	{"", "fi", "mä haluun muuttaa pois täältä"},
	{"", "fi", "haluisin pois täältä lomalle"},
	{"", "sv", "jag vill bort härifrån på sommaren"},
	{"", "sv", "jag vill inte bort härifrån"},
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

// TestCrisisOrdinaryFeedback: no message of the labelled sets (ordinary feedback, questions and
// information, including worries such as "en tunne oloani turvalliseksi täällä öisin") raises a crisis.
func TestCrisisOrdinaryFeedback(t *testing.T) {
	c := coding.MustDefault(t)
	for _, file := range []string{"testdata/labelled.tsv", "testdata/heldout2.tsv"} {
		for _, x := range readLabelled(t, file) {
			if class, ms, ok := c.ExplainCrisis(x.text); ok {
				t.Errorf("%s:%d %q: crisis %s (%+v)", file, x.line, x.text, class, ms)
			}
		}
	}
}

// TestCrisisAlone: an alone: phrase counts only when alone: phrases make up the whole message, emoji
// and punctuation aside, and the message is no bot command; it takes no word from a phrase that counts
// anywhere.
func TestCrisisAlone(t *testing.T) {
	files := defaults(t)
	files[coding.CrisisFile] = []byte(`
classes:
  suicide:
    en: [kill myself]
  unsafe_home:
    en: [help me out]
    alone: [help, help me, "i need help"]
    not: ["help 😂"]
`)
	c, err := coding.Parse(nil, files)
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"help":                           "unsafe_home",
		"help!!! 😭😭":                     "unsafe_home",
		"Help me. I need help":           "unsafe_home",
		"help 😂":                         "",
		"help with homework":             "",
		"please help me":                 "",
		"/help":                          "",
		"help me out":                    "unsafe_home", // "help me" takes no word from "help me out"
		"help me, i want to kill myself": "suicide",
	} {
		got, _ := c.Crisis(text)
		if got != want {
			_, ms, _ := c.ExplainCrisis(text)
			t.Errorf("%q: crisis %q, want %q (%+v)", text, got, want, ms)
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
