package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/poster"
)

func init() {
	extra["poster"] = posterCmd
}

// posterCmd writes a unit's printable A4 poster with the QR code of its youth link. It needs no Redis: the
// youth link u-<code> is fixed by the configuration.
func posterCmd(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("poster", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(stdout, "Usage: palaute poster -unit ID [-lang fi|sv|en] [-out poster.png|poster.pdf]")
		fmt.Fprintln(stdout, "Writes a printable A4 poster with the QR code of the unit's youth link.")
		fs.PrintDefaults()
	}
	cfgPath := configFlagEnv(fs, env)
	unit := fs.String("unit", "", "unit id (see units in the configuration)")
	lang := fs.String("lang", "fi", "fi, sv or en")
	out := fs.String("out", "", "output file, .png or .pdf (default poster-<unit>-<lang>.png)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("poster: unexpected argument %q (flags come as -name value)", fs.Arg(0))
	}
	if !slices.Contains(locales.Languages, *lang) {
		return fmt.Errorf("-lang must be one of %s, not %q", strings.Join(locales.Languages, ", "), *lang)
	}
	cfg, err := config.Load(*cfgPath, env)
	if err != nil {
		return err
	}
	u, err := unitFlag(cfg, *cfgPath, *unit)
	if err != nil {
		return err
	}
	path := *out
	if path == "" {
		path = fmt.Sprintf("poster-%s-%s.png", u.ID, *lang)
	}
	render := poster.RenderPNG
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
	case ".pdf":
		render = poster.RenderPDF
	default:
		return fmt.Errorf("-out %q: the file name must end in .png or .pdf", path)
	}
	cat, err := locales.Default()
	if err != nil {
		return err
	}
	p := unitPoster(cfg, cat, u, *lang)
	// Render first, so a bad poster leaves no half-written or truncated file behind.
	f, err := os.CreateTemp(filepath.Dir(path), ".poster-*")
	if err != nil {
		return outErr(path, err)
	}
	defer os.Remove(f.Name())
	if err := render(f, p); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil { // CreateTemp made it private; a poster is not
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return outErr(path, err)
	}
	fmt.Fprintf(stdout, "%s: poster of %s (%s) with the QR code of %s\n", path, u.Name(*lang), *lang, p.Link)
	return nil
}

// outErr says that the poster could not be written to path, naming path rather than the temporary file
// the poster is first written to.
func outErr(path string, err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("-out: cannot write %s: %w", path, err)
}

// unitPoster is the localized content of a unit's poster.
func unitPoster(cfg config.Config, cat *locales.Catalog, u config.Unit, lang string) poster.Poster {
	k := locales.Data{"K": cfg.Anonymity.MinResponses}
	return poster.Poster{
		Title: cat.T(lang, "poster_title"),
		Unit:  u.Name(lang),
		Link:  youthLink(cfg, u),
		Lines: []string{
			cat.T(lang, "poster_scan"),
			cat.T(lang, "poster_anonymous"),
			cat.T(lang, "poster_summary_only", k),
			helpLine(cfg, cat, lang),
		},
		Footer: cat.T(lang, "poster_footer"),
	}
}

// helpLine names the first two help contacts with a phone number (help.contacts: 112 and the children's
// helpline by default), for a young person who reads the poster on a bad day.
func helpLine(cfg config.Config, cat *locales.Catalog, lang string) string {
	var cs []string
	for _, c := range cfg.Help.Contacts {
		if c.Phone != "" && len(cs) < 2 {
			cs = append(cs, c.Name.In(lang)+" "+c.Phone)
		}
	}
	if len(cs) == 0 {
		return ""
	}
	return cat.T(lang, "poster_help") + "\n" + strings.Join(cs, "\n")
}

// youthLink is the deep link of a unit's youth survey.
func youthLink(cfg config.Config, u config.Unit) string {
	return cfg.Telegram.StartLink("u-" + u.PublicCode())
}
