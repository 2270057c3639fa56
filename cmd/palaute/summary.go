package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/report"
	"github.com/palaute/palaute/store"
)

func init() {
	extra["summary"] = summaryCmd
	extra["export"] = exportCmd
}

// postSummary is set by the Slack wiring: it enqueues a summary for posting.
// It returns the channel, or an error when there is none or the summary was queued or posted already.
var postSummary func(ctx context.Context, a *app, unit string, p period.Period, s *report.Summary) (string, error)

func summaryCmd(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	fs.SetOutput(stdout)
	cfgPath := configFlagEnv(fs, env)
	unit := fs.String("unit", report.All, "unit id, or all")
	per := fs.String("period", "", "2026-W47, 2026-11 or 2026-H2 (default: the last full month)")
	format := fs.String("format", "text", "text, json or blocks")
	lang := fs.String("lang", "", "fi, sv or en (default: summaries.lang)")
	chart := fs.String("chart", "", "also write the chart PNG to this file")
	post := fs.Bool("post", false, "post to the unit's Slack channel (through the outbox)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *lang != "" && locales.Lang(*lang) != *lang {
		return fmt.Errorf("-lang must be fi, sv or en, not %q", *lang)
	}
	a, s, p, err := buildSummary(ctx, "summary", *cfgPath, env, *unit, *per, *lang)
	if err != nil {
		return err
	}
	defer a.close()
	l := a.cfg.Summaries.Lang
	if *lang != "" {
		l = *lang
	}
	switch *format {
	case "text":
		fmt.Fprintln(stdout, s.Text(l))
	case "json":
		b, err := s.JSON()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
	case "blocks":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s.Messages(l)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("-format must be text, json or blocks, not %q", *format)
	}
	if *chart != "" {
		f, err := os.Create(*chart)
		if err != nil {
			return err
		}
		if err := s.Chart(f, l); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if *post {
		if postSummary == nil || a.cfg.Slack.BotToken == "" {
			return errors.New("-post needs Slack: set SLACK_BOT_TOKEN")
		}
		ch, err := postSummary(ctx, a, *unit, p, s)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "queued for %s: the running server posts it\n", ch)
	}
	return nil
}

func exportCmd(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stdout)
	cfgPath := configFlagEnv(fs, env)
	format := fs.String("format", "csv", "csv")
	per := fs.String("period", "", "2026-W47, 2026-11 or 2026-H2")
	unit := fs.String("unit", report.All, "unit id, or all")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != "csv" {
		return fmt.Errorf("-format must be csv, not %q", *format)
	}
	a, s, _, err := buildSummary(ctx, "export", *cfgPath, env, *unit, *per, "")
	if err != nil {
		return err
	}
	defer a.close()
	return s.CSV(stdout)
}

// summaryWhy says what summary and export would do with the embedded Redis.
var summaryWhy = map[string]string{
	"summary": "it would read an empty in-memory Redis that exists only for this command: every figure would say " +
		"\"too few answers\", and -post would queue the summary where palaute serve never sees it",
	"export": "it would export the counts of an empty in-memory Redis that exists only for this command",
}

// notEnded is the refusal of a period that has not ended, in the summaries' language.
type notEnded struct {
	text string
	err  *report.NotEndedError
}

func (e notEnded) Error() string { return e.text }
func (e notEnded) Unwrap() error { return e.err }

// buildSummary builds the summary of unit for period per from the Redis palaute serve uses (command cmd:
// summary or export; lang: the language of a refusal, "" for summaries.lang). It needs no pseudonym
// secret: the counters are not per person. A period that has not ended is refused, as by the slash
// command: two summaries of a running period, a response apart, would show that person's answers.
func buildSummary(ctx context.Context, cmd, cfgPath string, env func(string) string, unit, per, lang string) (*app, *report.Summary, period.Period, error) {
	var p period.Period
	var err error
	if per == "" {
		p = period.LastComplete(period.Month, clock())
	} else if p, err = period.Parse(per); err != nil {
		return nil, nil, p, fmt.Errorf("-period: %w", err)
	}
	a, err := buildWith(ctx, cfgPath, env, io.Discard, buildOpts{cli: cmd, cliWhy: summaryWhy[cmd],
		check: func(cfg config.Config) error {
			if unit == report.All {
				return nil
			}
			if _, err := unitFlag(cfg, cfgPath, unit); err != nil {
				return fmt.Errorf("%w (or -unit all)", err)
			}
			return nil
		}})
	if err != nil {
		return nil, nil, p, err
	}
	var ne *report.NotEndedError
	if err := report.CheckEnded(p, clock()); errors.As(err, &ne) {
		a.close()
		if lang == "" {
			lang = a.cfg.Summaries.Lang
		}
		return nil, nil, p, notEnded{ne.Text(lang), ne}
	}
	s, err := report.Build(ctx, store.NewCounters(a.rdb, a.cfg.Redis.Prefix), a.reportOptions(), unit, p)
	if err != nil {
		a.close()
		return nil, nil, p, err
	}
	return a, s, p, nil
}
