// Package locales holds every user-facing string in fi (default), sv and en, as go-i18n v2 message files
// embedded in the binary. Files are named <area>.<lang>.yaml (active.fi.yaml is the engine's) so that each
// part of the program keeps its own strings; every id must exist in every language (see Check).
package locales

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

//go:embed *.yaml
var files embed.FS

// Languages in order of preference; the first is the default.
var Languages = []string{"fi", "sv", "en"}

// Catalog translates message ids. It is safe for concurrent use.
type Catalog struct {
	bundle     *i18n.Bundle
	localizers map[string]*i18n.Localizer
	ids        map[string][]string // lang -> ids
}

var (
	defOnce sync.Once
	def     *Catalog
	defErr  error
)

// Default returns the embedded catalog (loaded once).
func Default() (*Catalog, error) {
	defOnce.Do(func() { def, defErr = Load(files) })
	return def, defErr
}

// Must returns the embedded catalog and panics if it is broken (a build error caught by the tests).
func Must() *Catalog {
	c, err := Default()
	if err != nil {
		panic(err)
	}
	return c
}

// Load reads every *.yaml message file of fsys.
func Load(fsys fs.FS) (*Catalog, error) {
	b := i18n.NewBundle(language.Finnish)
	b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	c := &Catalog{bundle: b, localizers: map[string]*i18n.Localizer{}, ids: map[string][]string{}}
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		mf, err := b.ParseMessageFileBytes(data, path.Base(name))
		if err != nil {
			return nil, fmt.Errorf("locales/%s: %w", name, err)
		}
		lang := mf.Tag.String()
		for _, m := range mf.Messages {
			c.ids[lang] = append(c.ids[lang], m.ID)
		}
	}
	for _, l := range Languages {
		c.localizers[l] = i18n.NewLocalizer(b, l)
	}
	return c, nil
}

// Lang maps a client language code ("fi-FI", "sv", "en-GB", "") to fi, sv or en (fi when unknown).
func Lang(code string) string {
	code = strings.ToLower(code)
	for _, l := range Languages {
		if code == l || strings.HasPrefix(code, l+"-") || strings.HasPrefix(code, l+"_") {
			return l
		}
	}
	return Languages[0]
}

// Data is the template data of a message.
type Data = map[string]any

// T returns message id in lang with data; a plural message uses data["N"] as its count.
// A missing id in lang falls back to Finnish; a missing id everywhere returns the id itself.
func (c *Catalog) T(lang, id string, data ...Data) string {
	s, _ := c.Lookup(lang, id, data...)
	return s
}

// Lookup is T that also reports a missing translation.
func (c *Catalog) Lookup(lang, id string, data ...Data) (string, error) {
	l, ok := c.localizers[lang]
	if !ok {
		l = c.localizers[Languages[0]]
	}
	cfg := &i18n.LocalizeConfig{MessageID: id}
	if len(data) > 0 {
		cfg.TemplateData = data[0]
		if n, ok := data[0]["N"]; ok {
			cfg.PluralCount = n
		}
	}
	s, err := l.Localize(cfg)
	var nf *i18n.MessageNotFoundErr
	if errors.As(err, &nf) && s != "" {
		return s, err
	}
	if err != nil || s == "" {
		return id, fmt.Errorf("locales: %s/%s: %w", lang, id, err)
	}
	return s, nil
}

// Check reports every message id that is missing from a language, or present in only some.
func (c *Catalog) Check() error {
	all := map[string]bool{}
	for _, ids := range c.ids {
		for _, id := range ids {
			all[id] = true
		}
	}
	var errs []error
	for _, l := range Languages {
		for id := range all {
			if !slices.Contains(c.ids[l], id) {
				errs = append(errs, fmt.Errorf("locales: %q has no %s translation", id, l))
			}
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// IDs returns every message id (of the default language).
func (c *Catalog) IDs() []string { return slices.Sorted(slices.Values(c.ids[Languages[0]])) }
