package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/poster"
)

// palaute poster writes an A4 PNG whose QR code opens the unit's youth survey; it needs no Redis.
func TestPosterCommandPNG(t *testing.T) {
	dir := t.TempDir()
	e := testenv.New(t, redistest.Backends()[0].New(t)) // miniredis: the bot that reads the QR
	for _, tt := range []struct{ lang, survey string }{
		{"fi", "Sain apua silloin, kun tarvitsin."},
		{"sv", "Jag fick hjälp när jag behövde det."},
		{"en", "I got help when I needed it."},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			out := filepath.Join(dir, "satama-"+tt.lang+".png")
			var stdout bytes.Buffer
			if err := run(context.Background(), []string{"poster", "-config", "../../config.yaml", "-unit", "satama", "-lang", tt.lang, "-out", out}, env(nil), nil, &stdout); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stdout.String(), out) {
				t.Errorf("output does not name the file: %q", stdout.String())
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != poster.PageWidth || b.Dy() != poster.PageHeight || float64(b.Dx())/(210/25.4) < 150 {
				t.Fatalf("page %v, want A4 at 150 dpi or better", b)
			}
			link := decodeQRFile(t, out)
			if link != "https://t.me/palaute_bot?start=u-satama" {
				t.Fatalf("QR reads %q", link)
			}
			// Scanning it opens the youth survey of that unit, in the reader's language.
			payload := link[strings.Index(link, "start=")+len("start="):]
			r := e.Chat(t, "poster-"+tt.lang, tt.lang).Send("/start " + payload)
			if !strings.Contains(testenv.Text(r), tt.survey) || !strings.Contains(testenv.Text(r), "Satama") {
				t.Fatalf("the poster's link does not open satama's youth survey:\n%s", testenv.Dump(r))
			}
			if st, _ := os.Stat(out); st.Mode().Perm()&0o044 != 0o044 {
				t.Errorf("poster file mode %v: others cannot read it to print", st.Mode())
			}
		})
	}
}

func TestPosterCommandPDFAndDefaultName(t *testing.T) {
	cfg, err := filepath.Abs("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	if err = run(context.Background(), []string{"poster", "-config", cfg, "-unit", "kotipesa", "-out", "Juliste.PDF"}, env(nil), nil, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	pdf, err := os.ReadFile(filepath.Join(dir, "Juliste.PDF"))
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-1.")) || !regexp.MustCompile(`/MediaBox \[0 0 595\.\d+ 841\.\d+\]`).Match(pdf) {
		t.Fatalf("not an A4 PDF (%v): %.40q", err, pdf)
	}
	if err := run(context.Background(), []string{"poster", "-config", cfg, "-unit", "kotipesa", "-lang", "sv"}, env(nil), nil, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if got := decodeQRFile(t, filepath.Join(dir, "poster-kotipesa-sv.png")); got != "https://t.me/palaute_bot?start=u-kotipesa" {
		t.Fatalf("default-named poster reads %q", got)
	}
}

func TestPosterCommandErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "-unit is required: one of kotipesa, satama"},
		{[]string{"-unit", "nosuch"}, `no unit "nosuch"`},
		{[]string{"-unit", "kotipesa", "-lang", "de"}, `-lang must be one of fi, sv, en, not "de"`},
		{[]string{"-unit", "kotipesa", "-out", filepath.Join(dir, "p.jpg")}, "must end in .png or .pdf"},
		// The error names the file asked for, not the temporary file the poster is first written to.
		{[]string{"-unit", "kotipesa", "-out", filepath.Join(dir, "missing", "p.png")}, "-out: cannot write " + filepath.Join(dir, "missing", "p.png") + ": no such file or directory"},
		{[]string{"-unit", "kotipesa", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		err := run(context.Background(), append([]string{"poster", "-config", "../../config.yaml"}, tt.args...), env(nil), nil, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.args, err, tt.want)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("failed runs left files: %v", left)
	}
}

// The poster's text is localized, states the configured anonymity threshold and names the configured help
// contacts (112 and the children's helpline by default).
func TestPosterText(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	data, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, bytes.Replace(data, []byte("min_responses: 5"), []byte("min_responses: 7"), 1), 0o600)
	cfg, err := config.Load(p, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cat := locales.Must()
	u, _ := cfg.Unit("kotipesa")
	titles := map[string]bool{}
	for _, lang := range locales.Languages {
		pp := unitPoster(cfg, cat, u, lang)
		titles[pp.Title] = true
		text := strings.Join(pp.Lines, "\n")
		if pp.Unit != u.Names[lang] || !strings.Contains(text, "7") || strings.Contains(text, " 5 ") {
			t.Errorf("%s: unit %q, text does not state the threshold 7:\n%s", lang, pp.Unit, text)
		}
		for _, want := range []string{"112", "116 111", cfg.Help.Contacts[1].Name.In(lang)} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: help contact %q missing:\n%s", lang, want, text)
			}
		}
		// Every line fits on the page as it is.
		var buf bytes.Buffer
		if err := poster.RenderPNG(&buf, pp); err != nil {
			t.Errorf("%s: %v", lang, err)
		}
	}
	if len(titles) != 3 {
		t.Errorf("titles are not translated: %v", titles)
	}
}
