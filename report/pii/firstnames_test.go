package pii_test

import (
	"testing"

	"github.com/palaute/palaute/report/pii"
)

type langCase struct {
	lang, text, want string
}

func runLangCases(t *testing.T, s *pii.Scrubber, cases []langCase) {
	t.Helper()
	for _, c := range cases {
		want := c.want
		if want == "" {
			want = c.text
		}
		if got := s.Scrub(c.lang, c.text); got != want {
			t.Errorf("Scrub(%s, %q)\n got %q\nwant %q", c.lang, c.text, got, want)
		}
	}
}

// TestFirstNamesReal: texts staff saw, with no names configured.
func TestFirstNamesReal(t *testing.T) {
	runLangCases(t, pii.New(nil), []langCase{
		{"fi", "Minä olen Aino, huone 4, ja Jonna kiusaa mua joka ilta", "Minä olen [nimi], huone 4, ja [nimi] kiusaa mua joka ilta"},
		{"sv", "Ring mig 040 123 45 67, /Elsa", "Ring mig [telefon], /[namn]"},
		{"fi", "ohjaaja Pekka huutaa", "ohjaaja [nimi] huutaa"},
	})
}

// TestFirstNamesAnyCase: a name that is no ordinary word goes in any case, at any place.
func TestFirstNamesAnyCase(t *testing.T) {
	runLangCases(t, pii.New(nil), []langCase{
		{"fi", "jonna kiusaa mua", "[nimi] kiusaa mua"},
		{"fi", "JONNA KIUSAA", "[nimi] KIUSAA"},
		{"fi", "Pekka on kiva", "[nimi] on kiva"},
		{"fi", "mä ja ville mentiin", "mä ja [nimi] mentiin"},
		{"fi", "Mikaela, Tommi ja Tuomas", "[nimi], [nimi] ja [nimi]"},
		{"sv", "jag och elsa", "jag och [namn]"},
		{"en", "me and jessica went out", "me and [name] went out"},
		{"en", "Tyler said so", "[name] said so"},
		{"fi", "Juha-Pekka ja Anna-Liisa", "[nimi] ja [nimi]"},
		{"fi", "Pekka Virtanen", "[nimi] Virtanen"}, // surnames only when configured
		// names that are also forms of names that are words (Eli: elina, Tom: tomi)
		{"fi", "elina ja tomi", "[nimi] ja [nimi]"},
		{"sv", "tomi och elina", "[namn] och [namn]"},
	})
}

// TestFirstNamesInflected: Finnish case forms with consonant gradation, spoken forms and clitics,
// the Swedish and English genitive, and colon endings.
func TestFirstNamesInflected(t *testing.T) {
	s := pii.New(nil)
	for _, w := range []string{
		"Ainon", "Ainolle", "ainolta", "Ainoo", "Jonnaa", "Jonnan", "jonnal", "Jonnalt", "Jonnast", "Jonnaan",
		"Pekan", "Pekalle", "pekalla", "Pekkaa", "Pekkana", "Pekallekin", "Pekaks", "Villeä", "Villen", "Villelle",
		"Mikolle", "Mikon", "Mikkoa", "Mikkoon", "Matin", "Antille", "Anttia", "Jennin", "Jenniä", "Väinölle",
		"Tuomaksen", "Markukselle", "Eliakselle", "Tuomasta", "Kristianille", "Kristiania", "Emilin", "Nilsin",
		"Larsin", "Leon", "Leoon", "Mialle", "Ainohan", "Jonnako", "Villekin", "Mikolleki",
	} {
		if got := s.Scrub("fi", w+" sano"); got != "[nimi] sano" {
			t.Errorf("Scrub(%q) = %q", w+" sano", got)
		}
	}
	runLangCases(t, s, []langCase{
		{"sv", "Ebbas mamma ringde", "[namn] mamma ringde"},
		{"sv", "jag träffade Nils bror", "jag träffade [namn] bror"},
		{"en", "Jack's mum and Chloe’s dad", "[name] mum and [name] dad"},
		{"fi", "Tom:lle ja Liam:n kanssa", "[nimi] ja [nimi] kanssa"},
	})
}

// TestFirstNamesThatAreWords: a name that is also an ordinary word goes only where the text shows a
// name; otherwise the word stays.
func TestFirstNamesThatAreWords(t *testing.T) {
	runLangCases(t, pii.New(nil), []langCase{
		// capitalised in the middle of a sentence
		{"fi", "eilen Onni sano et", "eilen [nimi] sano et"},
		{"fi", "kiitos Helmille ja Toivolle", "kiitos [nimi] ja [nimi]"},
		{"fi", "olin Ainoa ennen kiusattu", "olin [nimi] ennen kiusattu"},
		{"en", "I talked to Grace yesterday", "I talked to [name] yesterday"},
		{"sv", "jag och Ville spelade", "jag och [namn] spelade"},
		// after a word for a person, in any case
		{"fi", "ohjaaja onni huutaa", "ohjaaja [nimi] huutaa"},
		{"fi", "mun kaveri helmi muutti pois", "mun kaveri [nimi] muutti pois"},
		{"fi", "siskoni lumi on täällä kans", "siskoni [nimi] on täällä kans"},
		{"fi", "ope satu on paras", "ope [nimi] on paras"},
		{"sv", "min syster saga bor här", "min syster [namn] bor här"},
		{"en", "my friend grace left", "my friend [name] left"},
		{"en", "ask Dr. Hope", "ask Dr. [name]"},
		// after a naming word
		{"fi", "yks poika nimeltä toivo", "yks poika nimeltä [nimi]"},
		{"fi", "mun nimi on kai", "mun nimi on [nimi]"},
		{"sv", "jag heter saga", "jag heter [namn]"},
		{"en", "a boy called will", "a boy called [name]"},
		{"en", "my name is hope", "my name is [name]"},
		// the name itself after "olen", "jag är", "I'm", ending the clause
		{"fi", "moi olen onni, 15v", "moi olen [nimi], 15v"},
		{"fi", "oon lumi ja asun täällä", "oon [nimi] ja asun täällä"},
		{"sv", "hej jag är saga", "hej jag är [namn]"},
		{"en", "hi I'm grace and I live here", "hi I'm [name] and I live here"},
		// next to a name
		{"fi", "Onni ja Jonna kiusaa", "[nimi] ja [nimi] kiusaa"},
		{"fi", "jonna ja onni kiusaa", "[nimi] ja [nimi] kiusaa"},
		{"fi", "Anna-Liisa ja Veli-Matti", "[nimi] ja [nimi]"},
		{"fi", "Satu Jonnan kanssa", "[nimi] kanssa"},
		{"fi", "Onni, Helmi ja Jonna", "[nimi], [nimi] ja [nimi]"},
		// in Finnish text, a Swedish word is a name
		{"fi", "ville kiusaa", "[nimi] kiusaa"},
		{"fi", "saga ja elsa", "[nimi] ja [nimi]"},
	})
}

// TestFirstNamesKeepWords: ordinary words that are also names (or forms of names) stay.
func TestFirstNamesKeepWords(t *testing.T) {
	runLangCases(t, pii.New(nil), []langCase{
		{"fi", "olen ainoa joka täällä välittää", ""},
		{"fi", "Ainoa hyvä asia on ruoka", ""},
		{"fi", "toivon että ruoka paranee", ""},
		{"fi", "Toivon et joku kuuntelee", ""},
		{"fi", "äiti toivo et mä tuun kotiin", ""},
		{"fi", "isä usko et mä valehtelin", ""},
		{"fi", "Onni on sitä et saa olla rauhassa", ""},
		{"fi", "onni onnettomuudessa", ""},
		{"fi", "Satu oli tylsä ja ilta oli pitkä", ""},
		{"fi", "ilo oli suuri kun pääsin kotiin", ""},
		{"fi", "lumi sataa ja tuuli on kova", ""},
		{"fi", "olen kai väsynyt", ""},
		{"fi", "anna mun olla rauhassa", ""},
		{"fi", "äiti anna mulle rahaa", ""},
		{"fi", "pian pääsen kotiin", ""},
		{"fi", "olkaa hiljaa yöllä", ""},
		{"fi", "veikkaan et kukaan ei lue tätä", ""},
		{"fi", "puhelimen akku loppu ja akun laturi katos", ""},
		{"fi", "joukolla mentiin uimaan joen rannalle", ""},
		{"fi", "en jaksa lukea", ""},
		{"fi", "arvo 8, into loppu, usko meni", ""},
		{"fi", "valo sammuu liian aikasin", ""},
		{"fi", "Helmi on kaunis koru", ""},
		{"fi", "ei tää oo mikään satu", ""},
		{"fi", "Into loppu kesken", ""},
		{"fi", "meri oli kylmä", ""},
		{"fi", "sade kasteli kaikki", ""},
		{"fi", "ohjaajat antaa periksi liian helposti", ""},
		{"fi", "pääsin perille asti", ""},
		{"fi", "kävin torilla", ""},
		{"fi", "oven takana on meteliä, ovet paukkuu", ""},
		{"fi", "max 2 tuntia puhelinta", ""},
		{"fi", "eli siis ruoka on huonoa", ""},
		{"fi", "joka päivä sama juttu", ""},
		{"sv", "jag ville inte stanna", ""},
		{"sv", "hans mamma och inga andra", ""},
		{"sv", "tre gånger per vecka", ""},
		{"sv", "jag kan klara mig själv", ""},
		{"sv", "livet är bra, mitt liv är okej", ""},
		{"sv", "det är tom i kylen", ""},
		{"en", "I hope you read this", ""},
		{"en", "Hope you read this", ""},
		{"en", "we will see", ""},
		{"en", "Will you change the rules?", ""},
		{"en", "my brother will come", ""},
		{"en", "I'm into music", ""},
		{"en", "joy and grace and faith", ""},
		{"en", "I got a good mark", ""},
		{"en", "at least 5 miles", ""},
	})
}

// TestFirstNamesConfigured: configured names still go in any case and join built-in ones.
func TestFirstNamesConfigured(t *testing.T) {
	runLangCases(t, pii.New([]string{"Onni Koivisto", "Kotipesä"}), []langCase{
		{"fi", "onni koivisto kiusaa", "[nimi] kiusaa"},
		{"fi", "onni on tärkeää", "[nimi] on tärkeää"}, // configured: removed wherever it appears
		{"fi", "Aino Koivisto", "[nimi]"},
		{"fi", "Kotipesässä Jonnan kaa", "[nimi] kaa"}, // adjacent names: one placeholder
	})
}

// TestFirstNamesZeroScrubber: the zero Scrubber removes built-in first names too.
func TestFirstNamesZeroScrubber(t *testing.T) {
	var s pii.Scrubber
	if got := s.Scrub("fi", "jonna ja Pekka"); got != "[nimi] ja [nimi]" {
		t.Errorf("got %q", got)
	}
}

// TestFirstNamesSignOff: a name signing the text off, after a sign-off word or a dash or slash, or
// followed by an age, goes even when it is also a word.
func TestFirstNamesSignOff(t *testing.T) {
	runLangCases(t, pii.New(nil), []langCase{
		{"fi", "terveisin onni", "terveisin [nimi]"},
		{"fi", "kiitos ja terveisin helmi!", "kiitos ja terveisin [nimi]!"},
		{"fi", "ruoka on hyvää. t. Onni", "ruoka on hyvää. t. [nimi]"},
		{"fi", "t: onni", "t: [nimi]"},
		{"fi", "tv. toivo", "tv. [nimi]"},
		{"fi", "terv. Helmi", "terv. [nimi]"},
		{"fi", "mvh Helmi", "mvh [nimi]"},
		{"fi", "kiitos onni", "kiitos [nimi]"},
		{"fi", "ruoka on pahaa\nterveisin\nOnni", "ruoka on pahaa\nterveisin\n[nimi]"},
		{"fi", "-Onni 15v", "-[nimi] 15v"},
		{"fi", "kiva paikka!\n- onni", "kiva paikka!\n- [nimi]"},
		{"fi", "Terveisin\n- onni\n- helmi", "Terveisin\n- [nimi]\n- [nimi]"},
		{"fi", "kiitos kaikesta!\n-onni\n-helmi", "kiitos kaikesta!\n-[nimi]\n-[nimi]"},
		{"fi", "*halaus*\n- onni", "*halaus*\n- [nimi]"},
		{"fi", "Onni 15 v", "[nimi] 15 v"},
		{"fi", "lumi 16 vuotta, asun täällä", "[nimi] 16 vuotta, asun täällä"},
		{"fi", "Onni, 15", "[nimi], 15"},
		{"sv", "hälsningar Ebba", "hälsningar [namn]"},
		{"sv", "mvh saga", "mvh [namn]"},
		{"sv", "hälsn. Saga (15 år)", "hälsn. [namn] (15 år)"},
		{"sv", "Ring mig, /Saga", "Ring mig, /[namn]"},
		{"en", "- Grace", "- [name]"},
		{"en", "regards, Will", "regards, [name]"},
		{"en", "thanks for listening\nlove, hope", "thanks for listening\nlove, [name]"},
		{"en", "cheers grace 🙂", "cheers [name] 🙂"},
		{"en", "Grace, 16", "[name], 16"},
	})
}

// TestFirstNamesSignOffKeepWords: words after those cues that do not end the line, and numbers that
// are no ages, stay.
func TestFirstNamesSignOffKeepWords(t *testing.T) {
	runLangCases(t, pii.New(nil), []langCase{
		{"fi", "terveisin onni ja ilo kaikille", "terveisin onni ja ilo kaikille"},
		{"fi", "ruoka - onni", ""},
		{"fi", "arvo 8, into loppu", ""},
		{"fi", "Arvo, 8", ""},
		{"fi", "Arvo, 8/10", ""},
		{"fi", "lumi 20cm", ""},
		{"fi", "t. onni on kivaa", ""},
		{"fi", "ja kiitos onni", ""}, // kiitos, t, best, love: only opening a sentence
		{"fi", "olen kai 15v", ""},
		{"en", "I love hope", ""},
		{"en", "the best will", ""},
		{"en", "away from hope and joy", ""},
		// a list introduced with ":" is not a row of signatures
		{"fi", "Mitä toivon:\n- rauha\n- ilo\n- onni", ""},
		{"fi", "Mitä toivon:\r\n- rauha\r\n- onni", ""},
		{"fi", "toiveet:\n* lumi\n– valo", ""},
		{"en", "What I wish for:\n- hope\n- joy", ""},
	})
}

// TestFirstNamesBeforeVerb: a capitalised name-word opening a sentence right before a verb that only
// people do is a name; before other verbs it stays a word.
func TestFirstNamesBeforeVerb(t *testing.T) {
	runLangCases(t, pii.New(nil), []langCase{
		{"fi", "Onni kiusaa mua joka ilta", "[nimi] kiusaa mua joka ilta"},
		{"fi", "Helmi muutti pois", "[nimi] muutti pois"},
		{"fi", "Pekka huus mulle. Onni nauro", "[nimi] huus mulle. [nimi] nauro"},
		{"fi", "Toivo potkas mua", "[nimi] potkas mua"},
		{"fi", "Ali kiusaa", "[nimi] kiusaa"},
		{"fi", "Musa haukkuu mua", "[nimi] haukkuu mua"},
		{"sv", "Saga slog mig", "[namn] slog mig"},
		{"sv", "Ville sa att", "[namn] sa att"},
		{"en", "Grace said no", "[name] said no"},
		{"en", "Will bullied me", "[name] bullied me"},
		// stays: a verb things do, an inflected form, or a function word
		{"fi", "Ilo oli suuri kun pääsin kotiin", ""},
		{"fi", "Onni oli puolellani", ""},
		{"fi", "Lumi sataa", ""},
		{"fi", "Tuuli puhaltaa kovaa", ""},
		{"fi", "Satu kertoo prinsessasta", ""},
		{"fi", "Usko loppu", ""},
		{"fi", "Kai sano et tulee", ""},
		{"fi", "Eli sano et ei käy", ""},
		{"fi", "Onnille sanoin et", ""},
		{"sv", "Inga sa något", ""},
		{"en", "Hope lies in the future", ""},
		{"en", "Will you call me", ""},
	})
}

// TestFirstNamesOtherOrigins: names common among young people in Finland whose families speak
// other languages, with their Finnish case forms, and the ordinary words among their forms.
func TestFirstNamesOtherOrigins(t *testing.T) {
	s := pii.New(nil)
	for _, w := range []string{
		"Nea", "Eeli", "Noel", "Senja", "Mohammed", "Muhammed", "Mohamed", "Muhammad", "Ahmed", "Omar",
		"Abdi", "Abdullahi", "Hassan", "Hussein", "Yusuf", "Ibrahim", "Mustafa", "Khalid", "Hamza",
		"Amir", "Fatima", "Amina", "Aisha", "Ayesha", "Maryam", "Hodan", "Sahra", "Zainab", "Leyla",
		"Samira", "Noor", "Dmitri", "Ivan", "Artem", "Maksim", "Anastasia", "Daria", "Polina", "Sofia",
		"Karl", "Kristjan", "Mart", "Arben", "Besa", "Reza", "Zahra", "Aram", "Dilan", "Rojin",
		"Ahmedille", "Mohamedin", "Fatiman", "Ivanille", "Hassanin", "Yusufia", "Abdille", "Maksimille",
	} {
		if got := s.Scrub("fi", "eilen "+w+" sano"); got != "eilen [nimi] sano" {
			t.Errorf("Scrub(%q) = %q", "eilen "+w+" sano", got)
		}
	}
	runLangCases(t, s, []langCase{
		{"fi", "ahmed kiusaa", "[nimi] kiusaa"},
		{"fi", "mun kaveri ali muutti", "mun kaveri [nimi] muutti"},
		{"fi", "Mohamed ja ali", "[nimi] ja [nimi]"},
		{"sv", "jag och fatima", "jag och [namn]"},
		{"en", "me and yusuf", "me and [name]"},
		// words among the forms stay
		{"fi", "olen ali-ikäinen", ""},
		{"fi", "Ali-ikäisenä en saa", ""},
		{"fi", "alin arvosana", ""},
		{"fi", "kuuntelen musaa ja musa on hyvää", ""},
		{"fi", "maksimissa kaks tuntia, maksimiin asti", ""},
		{"sv", "jag hämtade avin", ""},
		{"sv", "det kan arta sig", ""},
		{"en", "went to the mart", ""},
	})
}
