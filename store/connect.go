package store

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
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

// ParseURL turns redis.url into UniversalOptions (see Connect).
func ParseURL(raw string) (*redis.UniversalOptions, error) {
	switch {
	case strings.HasPrefix(raw, "redis+sentinel://"):
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("redis.url: %w", err)
		}
		master := strings.Trim(u.Path, "/")
		if master == "" {
			return nil, fmt.Errorf("redis.url: sentinel URL needs the master name as its path, like redis+sentinel://h1:26379,h2:26379/mymaster")
		}
		o := &redis.UniversalOptions{Addrs: strings.Split(u.Host, ","), MasterName: master}
		if u.User != nil {
			o.Password, _ = u.User.Password()
		}
		return o, nil
	case strings.HasPrefix(raw, "redis://") || strings.HasPrefix(raw, "rediss://"):
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("redis.url: %w", err)
		}
		if strings.Contains(u.Host, ",") {
			o := &redis.UniversalOptions{Addrs: strings.Split(u.Host, ","), IsClusterMode: true}
			if u.User != nil {
				o.Password, _ = u.User.Password()
			}
			return o, nil
		}
		ro, err := redis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("redis.url: %w", err)
		}
		return &redis.UniversalOptions{Addrs: []string{ro.Addr}, DB: ro.DB, Username: ro.Username, Password: ro.Password, TLSConfig: ro.TLSConfig}, nil
	case strings.Contains(raw, ","):
		return &redis.UniversalOptions{Addrs: strings.Split(raw, ","), IsClusterMode: true}, nil
	case strings.Contains(raw, ":"):
		return &redis.UniversalOptions{Addrs: []string{raw}}, nil
	}
	return nil, fmt.Errorf("redis.url: %q is not redis://host:port, redis+sentinel://..., or host:port,host:port", raw)
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
