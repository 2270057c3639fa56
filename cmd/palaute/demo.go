package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/palaute/palaute/bot/console"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/locales"
)

func demo(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stdout)
	cfgPath := configFlag(fs)
	lang := fs.String("lang", "fi", "language: fi, sv or en")
	flowID := fs.String("flow", "nuoret", "flow to answer: nuoret, laheiset or sosiaalityo")
	unitID := fs.String("unit", "", "unit id (default: the first configured unit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if locales.Lang(*lang) != *lang {
		return fmt.Errorf("-lang must be fi, sv or en, not %q", *lang)
	}
	a, err := build(ctx, *cfgPath, env, io.Discard)
	if err != nil {
		return err
	}
	defer a.close()
	f, ok := a.flows.Get(*flowID)
	if !ok {
		return fmt.Errorf("-flow: no flow %q", *flowID)
	}
	if len(a.cfg.Units) == 0 {
		return fmt.Errorf("the configuration has no units")
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
