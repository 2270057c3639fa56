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
	"gopkg.in/yaml.v3"

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

// systemConfig is where the Docker image keeps the configuration (its PALAUTE_CONFIG says so too).
var systemConfig = "/etc/palaute/config.yaml"

// noConfigFile explains a configuration that came from no file at all.
const noConfigFile = "no configuration file was found (no -config, no PALAUTE_CONFIG, no ./config.yaml, no " +
	"/etc/palaute/config.yaml), so palaute runs on its built-in defaults, which have no units"

// defaultConfig is the configuration file used without -config: $PALAUTE_CONFIG, else config.yaml in the
// working directory if it is there, else /etc/palaute/config.yaml if it is there, else "" (built-in defaults).
func defaultConfig(env func(string) string) string {
	if p := env("PALAUTE_CONFIG"); p != "" {
		return p
	}
	for _, p := range []string{"config.yaml", systemConfig} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// configFlag adds -config to fs, its default from the process's environment (see defaultConfig).
func configFlag(fs *flag.FlagSet) *string { return configFlagEnv(fs, os.Getenv) }

// configFlagEnv adds -config to fs, its default from env (see defaultConfig).
func configFlagEnv(fs *flag.FlagSet, env func(string) string) *string {
	return fs.String("config", defaultConfig(env),
		"configuration file (default: $PALAUTE_CONFIG, else ./config.yaml if present, else /etc/palaute/config.yaml if present)")
}

// noUnits is the error of a command that needs a unit when the configuration (from path, "" for none)
// has none.
func noUnits(path string) error {
	if path == "" {
		return errors.New(noConfigFile)
	}
	return fmt.Errorf("%s has no units", path)
}

// quietRedis drops go-redis's own log lines (a failed dial, each try of each command, in plain text on
// stderr): a CLI command checks the connection itself and says what is wrong once. serve logs them as JSON.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

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
	return buildWith(ctx, path, env, logw, buildOpts{engine: true})
}

// buildOpts say what a command needs of build.
type buildOpts struct {
	// engine: build the conversation engine, which needs the pseudonym secret when Redis is kept.
	engine bool
	// cli: a command (summary, export) that works on the Redis palaute serve uses: it refuses an empty
	// redis.url (the embedded Redis would be empty and vanish) and checks the connection before anything.
	cli string
	// cliWhy says what would go wrong with the embedded Redis (cli).
	cliWhy string
	// redisURL, when not nil, replaces redis.url and REDIS_URL ("" = embedded): palaute demo.
	redisURL *string
	// check, when not nil, checks the loaded configuration before Redis is connected.
	check func(cfg config.Config) error
}

// buildWith is build with what o asks for.
func buildWith(ctx context.Context, path string, env func(string) string, logw io.Writer, o buildOpts) (*app, error) {
	cfg, err := config.Load(path, env)
	if err != nil {
		return nil, err
	}
	if o.redisURL != nil {
		cfg.Redis.URL = *o.redisURL
		if cfg.Redis.URL == "" {
			cfg.Privacy.PseudonymSecret = "" // nothing is kept: a random secret does
		}
	}
	if o.check != nil {
		if err := o.check(cfg); err != nil {
			return nil, err
		}
	}
	if o.cli != "" && cfg.Redis.URL == "" {
		return nil, embeddedRedisError{cmd: o.cli, why: o.cliWhy}
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
	var secret []byte
	if o.engine {
		secret = []byte(cfg.Privacy.PseudonymSecret)
		if len(secret) == 0 {
			if o.redisURL != nil && cfg.Redis.URL != "" {
				return nil, errors.New("PALAUTE_PSEUDONYM_SECRET must be set (at least 16 characters) with -redis: the answers are kept under pseudonyms")
			}
			if cfg.Redis.URL != "" {
				return nil, errors.New("PALAUTE_PSEUDONYM_SECRET must be set (at least 16 characters) when redis.url is set")
			}
			secret = make([]byte, 32)
			_, _ = rand.Read(secret)
		}
		if len(secret) < 16 {
			return nil, errors.New("PALAUTE_PSEUDONYM_SECRET must be at least 16 characters")
		}
	}
	a.rdb, a.closeR, err = store.Connect(ctx, cfg.Redis.URL, a.log)
	if err != nil {
		return nil, err
	}
	if o.cli != "" || (o.redisURL != nil && cfg.Redis.URL != "") {
		if err := pingRedis(ctx, a.rdb); err != nil {
			a.close()
			return nil, err
		}
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
	if !o.engine {
		return a, nil
	}
	a.engine, err = bot.New(a.opts)
	if err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// pingRedis checks that a CLI command's Redis answers, in one message.
func pingRedis(ctx context.Context, rdb redis.UniversalClient) error {
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("cannot reach Redis (redis.url or REDIS_URL): %w", err)
	}
	return nil
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
// directory of edited coding rules as coding.rules_dir would load it; with -config FILE, a configuration
// file as serve would load it, with its flows_dir and coding.rules_dir: every problem as file:line, and an
// error when there is any.
func validate(args []string, env func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stdout)
	rules := fs.String("rules", "", "a directory of edited coding rules (polarity.yaml, topics.yaml, crisis.yaml) to check")
	cfgFile := fs.String("config", "", "a configuration file to check, with its flows_dir and coding.rules_dir")
	if err := fs.Parse(args); err != nil {
		return err
	}
	args = fs.Args()
	if len(args) == 0 && *rules == "" && *cfgFile == "" {
		if _, err := flows.Default(); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "embedded flows: ok")
		return nil
	}
	var errs []error
	var oks []string
	if *cfgFile != "" {
		if ok, err := validateConfig(*cfgFile, env); err != nil {
			errs = append(errs, err)
		} else {
			oks = append(oks, ok)
		}
	}
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
		if looksLikeConfig(data) {
			errs = append(errs, fmt.Errorf("%s: this looks like the configuration: use palaute validate -config %s", p, p))
			continue
		}
		f, err := flows.Parse(p, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, f)
	}
	if len(all) > 0 {
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

// validateConfig loads the configuration at path as serve does (${VAR} and secrets from env), with the
// flows of its flows_dir and the coding rules of its coding.rules_dir, and says what it holds.
func validateConfig(path string, env func(string) string) (string, error) {
	cfg, err := config.Load(path, env)
	if err != nil {
		return "", err
	}
	var errs []error
	where := "embedded"
	set, err := flows.FromDir(cfg.FlowsDir)
	if err != nil {
		errs = append(errs, err) // FromDir names flows_dir or the file
	} else if cfg.FlowsDir != "" {
		where = cfg.FlowsDir
	}
	rules := "embedded"
	if _, err := coding.Load(cfg.Coding.RulesDir); err != nil {
		errs = append(errs, err)
	} else if cfg.Coding.RulesDir != "" {
		rules = cfg.Coding.RulesDir
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: ok (%d units; %d flows: %s; coding rules: %s)", path, len(cfg.Units), len(set.All()), where, rules), nil
}

// looksLikeConfig says whether a YAML file given as a flow is the configuration: it has a top-level redis or
// units key, which no flow has.
func looksLikeConfig(data []byte) bool {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return false
	}
	m := doc.Content[0].Content
	for i := 0; i+1 < len(m); i += 2 {
		if k := m[i].Value; k == "redis" || k == "units" {
			return true
		}
	}
	return false
}

// prefixErr puts dir/ before each file:line of a directory's errors.
func prefixErr(dir string, err error) error {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, ".: "); ok { // flows.Load's error about the directory itself
			lines[i] = strings.TrimSuffix(dir, "/") + ": " + rest
			continue
		}
		lines[i] = strings.TrimSuffix(dir, "/") + "/" + l
	}
	return errors.New(strings.Join(lines, "\n"))
}
