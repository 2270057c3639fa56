package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"

	"golang.org/x/term"

	"github.com/palaute/palaute/bot/console"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/locales"
)

func demo(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stdout)
	cfgPath := configFlagEnv(fs, env)
	lang := fs.String("lang", "fi", "language: fi, sv or en")
	flowID := fs.String("flow", "nuoret", "flow to answer: nuoret, laheiset or sosiaalityo")
	unitID := fs.String("unit", "", "unit id (default: the first configured unit)")
	redisURL := fs.String("redis", "", "keep the demo's answers in this Redis (default: an embedded in-memory one; redis.url and REDIS_URL are not used)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if locales.Lang(*lang) != *lang {
		return fmt.Errorf("-lang must be fi, sv or en, not %q", *lang)
	}
	a, err := buildWith(ctx, *cfgPath, env, io.Discard, buildOpts{engine: true, redisURL: redisURL})
	if err != nil {
		return err
	}
	defer a.close()
	if *redisURL == "" {
		fmt.Fprintln(stdout, "demo: Redis is an embedded in-memory one, gone when the demo ends (-redis URL keeps the answers in a real one)")
	} else {
		fmt.Fprintf(stdout, "demo: Redis is %s (-redis): the demo's answers are kept there and counted in its summaries\n", redactURL(*redisURL))
	}
	f, ok := a.flows.Get(*flowID)
	if !ok {
		return fmt.Errorf("-flow: no flow %q", *flowID)
	}
	if len(a.cfg.Units) == 0 {
		return noUnits(*cfgPath)
	}
	unit := a.cfg.Units[0]
	if *unitID != "" {
		if unit, ok = a.cfg.Unit(*unitID); !ok {
			return fmt.Errorf("-unit: no unit %q", *unitID)
		}
	}
	// The demo starts the chosen flow the way its audience reaches it.
	opening := "/start u-" + unit.PublicCode()
	if f.Audience != flows.Youth {
		tok, err := a.invites.Create(ctx, unit.ID, f.Audience, 1, 0)
		if err != nil {
			return err
		}
		opening = "/start i-" + tok
	}
	interactive := false
	if file, ok := stdin.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
		interactive = true
	}
	seen := ""
	chat := &console.Chat{H: a.engine, User: "demo", Lang: *lang}
	if interactive {
		chat.Prompt = "> "
	}
	chat.After = func(ctx context.Context) error {
		r, err := a.store.LastResponse(ctx, unit.ID)
		if err != nil || r == nil {
			return err
		}
		b, _ := json.Marshal(r) // map keys come out sorted
		if string(b) != seen {
			seen = string(b)
			fmt.Fprintf(stdout, "response: %s\n", b)
		}
		return nil
	}
	return chat.Run(ctx, stdin, stdout, opening)
}

// redactURL hides the password of a redis:// URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
