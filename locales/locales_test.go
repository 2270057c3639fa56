package locales

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestEveryMessageInEveryLanguage(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(); err != nil {
		t.Fatalf("missing translations:\n%v", err)
	}
	for _, id := range c.IDs() {
		for _, l := range Languages {
			if _, err := c.Lookup(l, id, Data{"N": 2}); err != nil {
				t.Errorf("%s/%s: %v", l, id, err)
			}
		}
	}
}

func TestCheckFindsMissingTranslation(t *testing.T) {
	c, err := Load(fstest.MapFS{
		"x.fi.yaml": {Data: []byte("hello: Hei\nbye: Hei hei\n")},
		"x.sv.yaml": {Data: []byte("hello: Hej\nbye: Hej då\n")},
		"x.en.yaml": {Data: []byte("hello: Hello\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Check()
	if err == nil || !strings.Contains(err.Error(), `"bye" has no en translation`) {
		t.Fatalf("Check() = %v, want the missing en translation named", err)
	}
	if got := c.T("en", "bye"); got != "Hei hei" {
		t.Errorf("missing en falls back to fi: got %q", got)
	}
	if got := c.T("sv", "hello"); got != "Hej" {
		t.Errorf("sv hello = %q", got)
	}
}

func TestLang(t *testing.T) {
	for in, want := range map[string]string{"": "fi", "fi-FI": "fi", "sv": "sv", "sv-FI": "sv", "en-GB": "en", "de": "fi", "EN": "en"} {
		if got := Lang(in); got != want {
			t.Errorf("Lang(%q) = %q, want %q", in, got, want)
		}
	}
}
