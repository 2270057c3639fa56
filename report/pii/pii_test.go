package pii_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/palaute/palaute/report/pii"
)

type kindCase struct {
	text string
	want string // English placeholders
}

// kindCases holds, for each kind, texts that must be scrubbed to exactly that kind.
var kindCases = map[pii.Kind][]kindCase{
	pii.Email: {
		{"mail matti.meikalainen@example.fi", "mail [email]"},
		{"<anna+tag@sub.example.co.uk>", "<[email]>"},
		{"sosiaalitoimi(at)kunta.fi", "[email]"},
		{"sosiaalitoimi [at] kunta.fi.", "[email]."},
		{"mailto:x@y.se", "[email]"},
		{"Mätti@hämeenlinna.fi", "[email]"},
	},
	pii.Phone: {
		{"040 123 4567", "[phone]"},
		{"040-1234567", "[phone]"},
		{"0401234567", "[phone]"},
		{"+358 40 123 4567", "[phone]"},
		{"+358401234567", "[phone]"},
		{"+358 (0)40 123 4567", "[phone]"},
		{"09 2525 0111", "[phone]"},
		{"(09) 123 456", "[phone]"},
		{"soita (040 123 4567)", "soita ([phone])"},
		{"+46 70 123 45 67", "[phone]"},
		{"0046 70 123 45 67", "[phone]"},
		{"+44 20 7946 0958", "[phone]"},
		{"+1 (555) 123-4567", "[phone]"},
		{"puh.0401234567", "puh.[phone]"},
		{"040 123 4567 3 kertaa", "[phone] 3 kertaa"},
	},
	pii.PersonalID: {
		{"131052-308T", "[id-code]"},
		{"hetu 131052-308t.", "hetu [id-code]."},
		{"010203A1230", "[id-code]"},
		{"241199-931X", "[id-code]"},
		{"050505Y505U", "[id-code]"},
	},
	pii.IBAN: {
		{"FI21 1234 5600 0007 85", "[iban]"},
		{"FI2112345600000785", "[iban]"},
		{"fi21 1234 5600 0007 85 kiitos", "[iban] kiitos"},
		{"SE45 5000 0000 0583 9825 7466", "[iban]"},
		{"GB29 NWBK 6016 1331 9268 19", "[iban]"},
		{"DE89 3704 0044 0532 0130 00", "[iban]"},
		{"NO93 8601 1117 947", "[iban]"},
	},
	pii.URL: {
		{"https://example.fi/a?b=1.", "[link]."},
		{"(katso http://x.fi/a_(b))", "(katso [link])"},
		{"www.example.com, kiitos", "[link], kiitos"},
		{"example.fi/path/x", "[link]"},
		{"hel.fi", "[link]"},
		{"t.me/villevee", "[link]"},
		{"discord.gg/abc123", "[link]"},
		{"instagram.com/matti?hl=fi", "[link]"},
		{"a.b.se", "[link]"},
	},
	pii.Handle: {
		{"@ville_98", "[handle]"},
		{"insta: @lisa.k.", "insta: [handle]."},
		{"(@mikko)", "([handle])"},
		{"@ab", "[handle]"},
	},
	pii.Address: {
		{"Mannerheimintie 12 A 5", "[address]"},
		{"Kotikatu 3 B", "[address]"},
		{"Kuusitie 4", "[address]"},
		{"Rantapolku 7", "[address]"},
		{"Kotikadulla 5", "[address]"},
		{"kotikadul 5", "[address]"},
		{"Kumpulanmäellä 3", "[address]"},
		{"Rautatientorilla 1", "[address]"},
		{"Koivukuja 8 c21", "[address]"},
		{"Kotikatu 3 as. 4", "[address]"},
		{"Kotikatu 12a", "[address]"},
		{"Kotikatu 3:ssa", "[address]:ssa"},
		{"Kotikatu 3 B 12, 00100 Helsinki", "[address]"},
		{"Itä-Hakkilantie 10-12", "[address]"},
		{"Storgatan 5", "[address]"},
		{"Sveavägen 12 B", "[address]"},
		{"Drottninggatan 5 lgh 1102, 111 51 Stockholm", "[address]"},
		{"Kyrkogränd 3, Kungsstigen 4, Ekallén 5, Stortorget 1", "[address], [address], [address], [address]"},
		{"12 Baker Street", "[address]"},
		{"221B Baker St.", "[address]."},
		{"5 Elm Road", "[address]"},
		{"5 Elm Rd, 5 Elm Avenue, 5 Elm Ave, 5 Elm Lane, 5 Elm Way", "[address], [address], [address], [address], [address]"},
		{"Flat 3, 10 Queen Victoria Drive", "[address]"},
	},
	pii.Name: {
		{"Mikko", "[name]"},
		{"MIKKO", "[name]"},
		{"Mikon", "[name]"},
		{"Mikolle", "[name]"},
		{"Mikkoa", "[name]"},
		{"Mikkoon", "[name]"},
		{"Mikolt", "[name]"},
		{"Mikollekin", "[name]"},
		{"Mikko's", "[name]"},
		{"Mikkos", "[name]"},
		{"Virtanen", "[name]"},
		{"Virtaselle", "[name]"},
		{"Virtasta", "[name]"},
		{"Mikko Virtanen", "[name]"},
		{"Mikko-poika", "[name]-poika"},
		{"Markuksen", "[name]"},
		{"Kristianille", "[name]"},
		{"Tom:lle", "[name]"},
		{"Satu", "[name]"},
		{"Sadun", "[name]"},
		{"Ann-Mari", "[name]"},
		{"Mäkiselle", "[name]"},
		{"Mäkiselle", "[name]"}, // NFD: a + combining diaeresis
	},
}

// testNames are configured for the kind tests.
var testNames = []string{"Mikko Virtanen", "Markus", "Kristian", "Tom", "Satu", "Ann-Mari", "Jukka Mäkinen"}

func TestEachKind(t *testing.T) {
	s := pii.New(testNames)
	for kind, cases := range kindCases {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%s", kind, c.text), func(t *testing.T) {
				if got := s.Scrub("en", c.text); got != c.want {
					t.Errorf("Scrub(%q) = %q, want %q", c.text, got, c.want)
				}
				if got := s.Found("en", c.text); !slices.Equal(got, []pii.Kind{kind}) {
					t.Errorf("Found(%q) = %v, want [%s]", c.text, got, kind)
				}
			})
		}
	}
}

// TestKeeps lists ordinary text that looks a little like personal data and must stay as it is.
func TestKeeps(t *testing.T) {
	s := pii.New(testNames)
	for _, text := range []string{
		"olen 15-vuotias", "3 kertaa viikossa", "klo 18", "klo 18.30", "vuonna 2026", "7/10", "arvosana 9/10",
		"0-10 asteikolla", "soita 112", "MLL 116 111", "3,5 km", "1.2.2026", "2025-2026", "08-16",
		"00100 Helsinki", "+5 astetta", "+358", "numero 123 4567", // no area code: not identifiable as a phone
		"131052-308U",            // wrong check character
		"321352-308T",            // no such date
		"FI2112345600000786",     // wrong mod 97
		"FI21 1234 5600 0007",    // too short
		"XX21 1234 5600 0007 85", // no such country
		"kotona.se oli kivaa", "ok.no niin", "mm.me mentiin", "katoin leffaa.tv oli rikki", "esim. kuva.jpg",
		"noin 5.5 tuntia", "mail@", "@", "@ 5", "nähdään @18", "foo@bar", "a @ b",
		"kävin kauppatorilla 3 kertaa", "metsäpolulla 2 tuntia", "lisätietoa 3 asiasta", "tietoa 5 asiasta",
		"tie 5", "kävin torilla 12.30", "motorvägen 5 km", "hela vägen 3 gånger",
		"I walked 5 miles down the road", "I have 2 dogs on my way", "at 5 pm", "3 times a day",
		"miksi", "Mikkonen", "matikka", "matikan tunnilla", "mikä", "Markkinat", "Tomaatti",
	} {
		if got := s.Scrub("fi", text); got != text {
			t.Errorf("Scrub(%q) = %q, want it unchanged", text, got)
		}
		if got := s.Found("fi", text); len(got) != 0 {
			t.Errorf("Found(%q) = %v, want none", text, got)
		}
	}
}

func TestPlaceholderLanguage(t *testing.T) {
	s := pii.New([]string{"Mikko"})
	text := "Mikko a@b.fi 040 123 4567 131052-308T FI2112345600000785 www.x.fi @ville Kotikatu 3"
	for _, c := range []struct{ lang, want string }{
		{"fi", "[nimi] [sähköposti] [puhelin] [hetu] [tilinumero] [linkki] [käyttäjä] [osoite]"},
		{"sv", "[namn] [e-post] [telefon] [personnummer] [kontonummer] [länk] [användare] [adress]"},
		{"en", "[name] [email] [phone] [id-code] [iban] [link] [handle] [address]"},
		{"sv-FI", "[namn] [e-post] [telefon] [personnummer] [kontonummer] [länk] [användare] [adress]"},
		{"EN", "[name] [email] [phone] [id-code] [iban] [link] [handle] [address]"},
		{"de", "[nimi] [sähköposti] [puhelin] [hetu] [tilinumero] [linkki] [käyttäjä] [osoite]"},
		{"", "[nimi] [sähköposti] [puhelin] [hetu] [tilinumero] [linkki] [käyttäjä] [osoite]"},
	} {
		if got := s.Scrub(c.lang, text); got != c.want {
			t.Errorf("Scrub(%q, ...) = %q, want %q", c.lang, got, c.want)
		}
	}
	want := []pii.Kind{pii.Email, pii.Phone, pii.PersonalID, pii.IBAN, pii.URL, pii.Handle, pii.Address, pii.Name}
	if got := s.Found("en", text); !slices.Equal(got, want) {
		t.Errorf("Found = %v, want %v", got, want)
	}
}

// TestPlaceholdersStay: placeholders of any language, written by a person or left by an earlier
// scrub, are never matched again (not even by a configured name that looks like one).
func TestPlaceholdersStay(t *testing.T) {
	s := pii.New([]string{"Nimi", "Puhelin", "Linkki"})
	text := "[nimi] [puhelin] [linkki] [email] [adress]"
	if got := s.Scrub("fi", text); got != text {
		t.Errorf("Scrub(%q) = %q", text, got)
	}
	if got := s.Scrub("fi", "Nimi"); got != "[nimi]" {
		t.Errorf("Scrub(Nimi) = %q, want [nimi]", got)
	}
}

// TestNoNamesConfigured: with no names configured, the built-in first names are still removed; a
// name shorter than three letters never is.
func TestNoNamesConfigured(t *testing.T) {
	for name, s := range map[string]*pii.Scrubber{"New(nil)": pii.New(nil), "zero": {}, "short": pii.New([]string{"Bo", "", "  "})} {
		if got := s.Scrub("fi", "Bo ja Mikko, 040 123 4567"); got != "Bo ja [nimi], [puhelin]" {
			t.Errorf("%s: Scrub = %q", name, got)
		}
	}
}

func TestInvalidUTF8(t *testing.T) {
	s := pii.New([]string{"Mikko"})
	for _, text := range []string{"\xff", "Mikko\xfe040 123 4567", "a@b\xc3.fi", "\xe2\x82", strings.Repeat("\x80", 100)} {
		got := s.Scrub("fi", text)
		if !utf8.ValidString(got) {
			t.Errorf("Scrub(%q) = %q, not valid UTF-8", text, got)
		}
	}
	if got := s.Scrub("fi", "Mikko\xff040 123 4567"); got != "[nimi]\uFFFD[puhelin]" {
		t.Errorf("got %q", got)
	}
}

func TestKindString(t *testing.T) {
	seen := map[string]bool{}
	for k := pii.Email; k <= pii.Name; k++ {
		if s := k.String(); s == "unknown" || seen[s] {
			t.Errorf("Kind(%d).String() = %q", k, s)
		} else {
			seen[s] = true
		}
	}
	if got := pii.Kind(99).String(); got != "unknown" {
		t.Errorf("Kind(99) = %q", got)
	}
}

// TestConcurrent is meant for -race: one Scrubber shared by many goroutines.
func TestConcurrent(t *testing.T) {
	s := pii.New(corpusNames)
	cases := MustCorpus(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				c := cases[(g*50+i)%len(cases)]
				want := c.Want
				if want == "" {
					want = c.Text
				}
				if got := s.Scrub(c.Lang, c.Text); got != want {
					t.Errorf("Scrub(%q) = %q, want %q", c.Text, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzScrub(f *testing.F) {
	for _, c := range MustCorpus(f) {
		f.Add(c.Text)
	}
	for _, cases := range kindCases {
		for _, c := range cases {
			f.Add(c.text)
		}
	}
	f.Add("\xff\xfe Mikko")
	f.Add("040 123 4567 1234567@x.fi")
	s := pii.New(append(slices.Clone(corpusNames), testNames...))
	f.Fuzz(func(t *testing.T, text string) {
		for _, lang := range []string{"fi", "sv", "en"} {
			once := s.Scrub(lang, text)
			if !utf8.ValidString(once) {
				t.Fatalf("Scrub(%s, %q) = %q: not valid UTF-8", lang, text, once)
			}
			if twice := s.Scrub(lang, once); twice != once {
				t.Fatalf("not idempotent (%s):\n  in    %q\n  once  %q\n  twice %q", lang, text, once, twice)
			}
		}
		if found := s.Found("en", s.Scrub("en", text)); len(found) != 0 {
			t.Fatalf("Found(Scrub(%q)) = %v, want none", text, found)
		}
	})
}

func BenchmarkScrub(b *testing.B) {
	s := pii.New(corpusNames)
	cases := MustCorpus(b)
	bytes := 0
	for _, c := range cases {
		bytes += len(c.Text)
	}
	b.SetBytes(int64(bytes / len(cases)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := cases[i%len(cases)]
		s.Scrub(c.Lang, c.Text)
	}
}

// BenchmarkScrubLong scrubs a 4 KB message (the Telegram maximum) full of near misses.
func BenchmarkScrubLong(b *testing.B) {
	s := pii.New(corpusNames)
	var sb strings.Builder
	for _, c := range MustCorpus(b) {
		sb.WriteString(c.Text)
		sb.WriteString(" ")
		if sb.Len() > 4096 {
			break
		}
	}
	text := sb.String()[:4096]
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		s.Scrub("fi", text)
	}
}

// BenchmarkScrubRepeated scrubs 4 KB messages made of one unit repeated: the inputs that make a
// pattern matcher restart most often.
func BenchmarkScrubRepeated(b *testing.B) {
	s := pii.New(corpusNames)
	for _, unit := range []string{"0", "01 ", "a.", "kotikatu 1 ", "a@b.fi ", "@ab ", "5 Elm Road ", "Mikko ", "onni ja "} {
		text := strings.Repeat(unit, 4096/len(unit))
		b.Run(strings.TrimSpace(unit), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				s.Scrub("fi", text)
			}
		})
	}
}

// typicalMessage is feedback as young people write it, about 200 characters: a name, some
// punctuation, a score, nothing else personal.
const typicalMessage = "moi! täällä on ihan ok olla mut ruoka vois olla parempaa ja iltaisin on liian kova meteli. " +
	"ohjaaja Pekka on tosi kiva ja jaksaa kuunnella, mut viikonloppuna ei oo mitään tekemistä :( annan 7/10"

// BenchmarkScrubTypical scrubs one typical message, with no names configured (as shipped) and with
// the corpus's.
func BenchmarkScrubTypical(b *testing.B) {
	for _, c := range []struct {
		name  string
		names []string
	}{{"unconfigured", nil}, {"configured", corpusNames}} {
		s := pii.New(c.names)
		s.Scrub("fi", typicalMessage) // parse what is parsed once
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(typicalMessage)))
			for b.Loop() {
				s.Scrub("fi", typicalMessage)
			}
		})
	}
}
