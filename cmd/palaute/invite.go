package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/palaute/palaute/config"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/poster"
	"github.com/palaute/palaute/store"
)

func init() {
	extra["invite"] = inviteCmd
}

// Limits of palaute invite.
const (
	maxInviteUses = 10000
	maxInviteTTL  = 366 * 24 * time.Hour
	inviteQRSize  = 600 // pixels; about 5 cm at 300 dpi, plenty for a letter or an e-mail
)

// errEmbeddedRedis: a command that works on the Redis palaute serve uses was given none (redis.url empty),
// so it would work on an embedded in-memory Redis that is empty and vanishes when the command exits.
var errEmbeddedRedis = errors.New("redis.url is empty")

// embeddedRedisError is errEmbeddedRedis for command cmd, saying why the embedded Redis will not do.
type embeddedRedisError struct{ cmd, why string }

func (e embeddedRedisError) Error() string {
	return fmt.Sprintf("palaute %s needs the Redis that palaute serve uses: redis.url is empty, so %s. "+
		"Set redis.url in the configuration or the REDIS_URL environment variable", e.cmd, e.why)
}

func (e embeddedRedisError) Is(target error) bool { return target == errEmbeddedRedis }

func inviteCmd(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("invite", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(stdout, "Usage: palaute invite -unit ID -audience relative|social_worker [-count N] [-uses 1] [-expires 720h] [-qr DIR]")
		fmt.Fprintln(stdout, "Prints one invitation link per line; with -qr also writes a QR image of each link into DIR and")
		fmt.Fprintln(stdout, "prints its file name after the link, separated by a tab.")
		fs.PrintDefaults()
	}
	cfgPath := configFlagEnv(fs, env)
	unit := fs.String("unit", "", "unit id (see units in the configuration)")
	aud := fs.String("audience", "", "relative or social_worker")
	count := fs.Int("count", 1, fmt.Sprintf("number of invitations, 1-%d", store.MaxBatch))
	uses := fs.Int("uses", 1, fmt.Sprintf("how many people can answer through one link, 1-%d", maxInviteUses))
	expires := fs.String("expires", "720h", "lifetime of the links, like 720h or 30d (at most 366d)")
	qrDir := fs.String("qr", "", "also write a QR code PNG of each link into this directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("invite: unexpected argument %q (flags come as -name value)", fs.Arg(0))
	}
	cfg, err := config.Load(*cfgPath, env)
	if err != nil {
		return err
	}
	u, err := unitFlag(cfg, *cfgPath, *unit)
	if err != nil {
		return err
	}
	a := flows.Audience(*aud)
	switch a {
	case flows.Relative, flows.SocialWorker:
	case flows.Youth:
		return fmt.Errorf("-audience youth: young people need no invitation, their link is %s (palaute poster -unit %s prints it on a poster)",
			youthLink(cfg, u), u.ID)
	case "":
		return errors.New("-audience is required: relative or social_worker")
	default:
		return fmt.Errorf("-audience must be relative or social_worker, not %q", *aud)
	}
	if *count < 1 || *count > store.MaxBatch {
		return fmt.Errorf("-count must be 1-%d, not %d", store.MaxBatch, *count)
	}
	if *uses < 1 || *uses > maxInviteUses {
		return fmt.Errorf("-uses must be 1-%d, not %d", maxInviteUses, *uses)
	}
	ttl, err := parseLifetime(*expires)
	if err != nil {
		return fmt.Errorf("-expires: %w", err)
	}
	if cfg.Redis.URL == "" {
		return embeddedRedisError{cmd: "invite", why: "the invitations would be kept in an in-memory Redis that vanishes " +
			"when this command exits and every link would answer \"unknown invitation\""}
	}
	if *qrDir != "" {
		if err := writableDir(*qrDir); err != nil {
			return fmt.Errorf("-qr: %w", err)
		}
	}
	rdb, closeR, err := store.Connect(ctx, cfg.Redis.URL, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer closeR()
	if err := pingRedis(ctx, rdb); err != nil {
		return err
	}
	set, err := flows.FromDir(cfg.FlowsDir)
	if err != nil {
		return fmt.Errorf("flows: %w", err)
	}
	iv := store.NewInvitations(store.New(rdb, cfg.Redis.Prefix), set)
	links, err := iv.Links(ctx, inviteLinkPrefix(cfg), u.ID, a, *count, *uses, ttl)
	if err != nil {
		return err
	}
	var errs []error
	next := 1
	for i, l := range links {
		if *qrDir == "" {
			fmt.Fprintln(stdout, l)
			continue
		}
		name, err := writeQR(*qrDir, fmt.Sprintf("%s-%s-", u.ID, a), l, &next)
		if err != nil {
			errs = append(errs, fmt.Errorf("QR image of link %d: %w", i+1, err))
			fmt.Fprintln(stdout, l)
			continue
		}
		fmt.Fprintf(stdout, "%s\t%s\n", l, name)
	}
	return errors.Join(errs...)
}

// inviteLinkPrefix is the deep link before "i-<token>".
func inviteLinkPrefix(cfg config.Config) string {
	return cfg.Telegram.StartLink("")
}

// unitFlag finds -unit in the configuration read from path ("" when there was no file), naming the known
// units when it is wrong, or saying that there is no configuration file.
func unitFlag(cfg config.Config, path, id string) (config.Unit, error) {
	var ids []string
	for _, u := range cfg.Units {
		if u.ID == id {
			return u, nil
		}
		ids = append(ids, u.ID)
	}
	if len(ids) == 0 {
		if id == "" {
			return config.Unit{}, fmt.Errorf("-unit is required, but %w", noUnits(path))
		}
		return config.Unit{}, fmt.Errorf("-unit: no unit %q: %w", id, noUnits(path))
	}
	if id == "" {
		return config.Unit{}, fmt.Errorf("-unit is required: one of %s", strings.Join(ids, ", "))
	}
	return config.Unit{}, fmt.Errorf("-unit: no unit %q in the configuration (units: %s)", id, strings.Join(ids, ", "))
}

// parseLifetime reads a Go duration (720h, 90m) or whole days (30d), more than 0 and at most 366 days.
func parseLifetime(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration like 720h or 30d", s)
		}
		d = time.Duration(days) * 24 * time.Hour
		if days > 366 {
			d = maxInviteTTL + 1
		}
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration like 720h or 30d", s)
		}
	}
	if d <= 0 || d > maxInviteTTL {
		return 0, fmt.Errorf("%s must be more than 0 and at most 366 days", s)
	}
	return d, nil
}

// writableDir makes dir if needed and checks that files can be written there, before any invitation is made.
func writableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".palaute-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// writeQR writes the QR code of link as prefix<NN>.png in dir, at the first number from *next not yet taken,
// so a second run never overwrites the images of earlier links. It returns the file's path.
func writeQR(dir, prefix, link string, next *int) (string, error) {
	for ; ; *next++ {
		name := filepath.Join(dir, fmt.Sprintf("%s%02d.png", prefix, *next))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if err := poster.QRPNG(f, link, inviteQRSize); err != nil {
			f.Close()
			os.Remove(name)
			return "", err
		}
		if err := f.Close(); err != nil {
			os.Remove(name)
			return "", err
		}
		*next++
		return name, nil
	}
}
