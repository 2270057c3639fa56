package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/coding"
	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/metrics"
	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/store"
)

// app is everything built from the configuration.
type app struct {
	cfg    config.Config
	log    *slog.Logger
	flows  *flows.Set
	rdb    redis.UniversalClient
	closeR func()
	store  *store.Store
	engine *bot.Engine
	// limiterRDB is the client of the send rate limiters: separate, so that the message path's
	// round trips can be counted on its own (palaute loadtest).
	limiterRDB redis.UniversalClient
	opts       bot.Options
	invites    *store.Invitations
}

// configFlag adds -config to fs.
func configFlag(fs *flag.FlagSet) *string {
	def := ""
	if _, err := os.Stat("config.yaml"); err == nil {
		def = "config.yaml"
	}
	return fs.String("config", def, "configuration file")
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	o := &slog.HandlerOptions{Level: lvl}
	if cfg.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, o))
	}
	return slog.New(slog.NewJSONHandler(w, o))
}

// build loads config and flows, connects Redis and makes the engine. Close with a.close().
func build(ctx context.Context, path string, env func(string) string, logw io.Writer) (*app, error) {
	cfg, err := config.Load(path, env)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: newLogger(cfg, logw)}
	a.flows, err = flows.FromDir(cfg.FlowsDir)
	if err != nil {
		return nil, fmt.Errorf("flows: %w", err)
	}
	cat, err := locales.Default()
	if err != nil {
		return nil, err
	}
	coder, err := coding.Load(cfg.Coding.RulesDir)
	if err != nil {
		return nil, fmt.Errorf("coding rules: %w", err)
	}
	secret := []byte(cfg.Privacy.PseudonymSecret)
	if len(secret) == 0 {
		if cfg.Redis.URL != "" {
			return nil, errors.New("PALAUTE_PSEUDONYM_SECRET must be set (at least 16 characters) when redis.url is set")
		}
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	if len(secret) < 16 {
		return nil, errors.New("PALAUTE_PSEUDONYM_SECRET must be at least 16 characters")
	}
	a.rdb, a.closeR, err = store.Connect(ctx, cfg.Redis.URL, a.log)
	if err != nil {
		return nil, err
	}
	a.store = store.New(a.rdb, cfg.Redis.Prefix, store.WithSessionCache(cfg.Redis.SessionCache))
	a.limiterRDB = a.rdb
	a.invites = store.NewInvitations(a.store, a.flows)
	a.opts = bot.Options{
		Flows: a.flows, Units: cfg.Units, Catalog: cat, Secret: secret,
		SessionTTL: cfg.Survey.SessionTTL.D(), CountOnce: period.Kind(cfg.Survey.CountOnce),
		Help: cfg.Help.Contacts, RetentionDays: cfg.Privacy.RetentionDays,
		InviteLink: cfg.Telegram.StartLink(""),
		Store:      a.store, Invites: a.invites, Log: a.log,
		Coder: coder,
	}
	a.engine, err = bot.New(a.opts)
	if err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// engineMetrics rebuilds the engine so it reports survey events to m.
func (a *app) engineMetrics(m *metrics.Metrics) {
	o := a.opts
	o.Observe = m
	if e, err := bot.New(o); err == nil {
		a.engine = e
	}
}

func (a *app) close() {
	if a.closeR != nil {
		a.closeR()
	}
}

// validate checks flow files and directories (none given and no -rules: the embedded flows) and, with -rules DIR, a
// directory of edited coding rules as coding.rules_dir would load it: every problem as file:line, and an
// error when there is any.
func validate(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stdout)
	rules := fs.String("rules", "", "a directory of edited coding rules (polarity.yaml, topics.yaml, crisis.yaml) to check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	args = fs.Args()
	if len(args) == 0 && *rules == "" {
		if _, err := flows.Default(); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "embedded flows: ok")
		return nil
	}
	var errs []error
	var oks []string
	if *rules != "" {
		if c, err := coding.Load(*rules); err != nil {
			errs = append(errs, err)
		} else {
			oks = append(oks, fmt.Sprintf("%s: coding rules ok (%d topics)", *rules, len(c.Topics())))
		}
	}
	var all []*flows.Flow
	for _, p := range args {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if st.IsDir() {
			set, err := flows.Load(os.DirFS(p), ".")
			if err != nil {
				errs = append(errs, prefixErr(p, err))
				continue
			}
			all = append(all, set.All()...)
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f, err := flows.Parse(p, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, f)
	}
	if len(args) > 0 {
		if _, err := flows.NewSet(all...); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(stdout, err)
		return fmt.Errorf("%d problem(s) found", strings.Count(err.Error(), "\n")+1)
	}
	for _, f := range all {
		fmt.Fprintf(stdout, "%s: ok (%s, %d questions)\n", f.File, f.ID, len(f.Questions))
	}
	for _, s := range oks {
		fmt.Fprintln(stdout, s)
	}
	return nil
}

// prefixErr puts dir/ before each file:line of a directory's errors.
func prefixErr(dir string, err error) error {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(dir, "/") + "/" + l
	}
	return errors.New(strings.Join(lines, "\n"))
}
