package store

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Connect makes a client from redis.url:
//   - "" starts an embedded in-memory Redis (miniredis): nothing is kept after the process ends;
//   - redis://[:password@]host:port[/db] or rediss:// is a single node;
//   - redis+sentinel://[:password@]host1:port,host2:port/mastername uses Sentinel;
//   - host1:port,host2:port,... (or redis:// with several hosts) is a Cluster.
//
// The returned close function closes the client and any embedded server.
func Connect(ctx context.Context, rawURL string, log *slog.Logger) (redis.UniversalClient, func(), error) {
	if rawURL == "" {
		m, err := miniredis.Run()
		if err != nil {
			return nil, nil, fmt.Errorf("start embedded redis: %w", err)
		}
		log.Warn("redis.url is empty: using an embedded in-memory Redis; nothing is kept when palaute stops")
		c := redis.NewClient(&redis.Options{Addr: m.Addr()})
		return c, func() { c.Close(); m.Close() }, nil
	}
	opts, err := ParseURL(rawURL)
	if err != nil {
		return nil, nil, err
	}
	c := redis.NewUniversalClient(opts)
	return c, func() { c.Close() }, nil
}

// ParseURL turns redis.url into UniversalOptions (see Connect):
//   - redis://[user:password@]host:port[/db] (rediss:// for TLS): one node;
//   - redis+sentinel://[user:password@]h1:26379,h2:26379/master[?db=N&sentinel_password=...]
//     (rediss+sentinel:// for TLS): the master that Sentinel names; the password is the master's;
//   - redis://[user:password@]h1:7000,h2:7001,... (rediss:// for TLS), or bare h1:7000,h2:7001: a Cluster.
func ParseURL(raw string) (*redis.UniversalOptions, error) {
	bad := func(why string) error {
		return fmt.Errorf("redis.url: %s (want redis://host:port/db, redis+sentinel://h1:26379,h2:26379/master, or h1:7000,h2:7001 for a Cluster)", why)
	}
	scheme, _, hasScheme := strings.Cut(raw, "://")
	if !hasScheme {
		switch {
		case strings.Contains(raw, ","):
			return &redis.UniversalOptions{Addrs: splitAddrs(raw), IsClusterMode: true}, nil
		case strings.Contains(raw, ":") && !strings.ContainsAny(raw, "/@?"):
			return &redis.UniversalOptions{Addrs: []string{raw}}, nil
		}
		return nil, bad(fmt.Sprintf("%q has no scheme", raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, bad(err.Error())
	}
	if u.Host == "" {
		return nil, bad("no host")
	}
	o := &redis.UniversalOptions{Addrs: splitAddrs(u.Host)}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	var tlsOn bool
	switch scheme {
	case "redis", "redis+sentinel":
	case "rediss", "rediss+sentinel":
		tlsOn = true
	default:
		return nil, bad(fmt.Sprintf("unknown scheme %q", scheme))
	}
	q := u.Query()
	db := func(s string) error {
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return bad(fmt.Sprintf("database %q is not a number", s))
		}
		o.DB = n
		return nil
	}
	if strings.HasSuffix(scheme, "+sentinel") {
		o.MasterName = strings.Trim(u.Path, "/")
		if o.MasterName == "" {
			return nil, bad("a Sentinel URL needs the master name as its path, like redis+sentinel://h1:26379,h2:26379/mymaster")
		}
		o.SentinelPassword = q.Get("sentinel_password")
		if err := db(q.Get("db")); err != nil {
			return nil, err
		}
	} else if len(o.Addrs) > 1 {
		o.IsClusterMode = true
		if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
			return nil, bad("a Cluster has only database 0")
		}
	} else if err := db(strings.Trim(u.Path, "/")); err != nil {
		return nil, err
	}
	if tlsOn {
		// Without a ServerName the TLS dial checks each node against the address it dials.
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return o, nil
}

func splitAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// LastResponse returns the newest completed response of a unit (its stream fields), or nil.
func (s *Store) LastResponse(ctx context.Context, unit string) (map[string]string, error) {
	xs, err := s.rdb.XRevRangeN(ctx, s.UnitKey(unit, "resp"), "+", "-", 1).Result()
	if err != nil {
		return nil, fmt.Errorf("last response: %w", err)
	}
	if len(xs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for k, v := range xs[0].Values {
		out[k], _ = v.(string)
	}
	return out, nil
}
