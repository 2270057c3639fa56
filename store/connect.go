package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Connect makes a client from redis.url: "" starts an embedded in-memory Redis (miniredis), nothing kept
// after the process ends; any other URL is read by ParseURL (a single node, Sentinel or a Cluster).
//
// The returned close function closes the client and any embedded server.
func Connect(ctx context.Context, rawURL string, log *slog.Logger) (redis.UniversalClient, func(), error) {
	if rawURL == "" {
		m, err := miniredis.Run()
		if err != nil {
			return nil, nil, fmt.Errorf("start embedded redis: %w", err)
		}
		log.Warn("redis.url is empty: using an embedded in-memory Redis; nothing is kept when palaute stops")
		c := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
		return c, func() { c.Close(); m.Close() }, nil
	}
	opts, err := ParseURL(rawURL)
	if err != nil {
		return nil, nil, err
	}
	c := redis.NewUniversalClient(opts)
	return c, func() { c.Close() }, nil
}

// ParseURL turns redis.url into UniversalOptions (see Connect). Every form takes go-redis's URL options
// (?dial_timeout=1s&pool_size=20...); an option go-redis does not know is refused, not ignored, and so are
// the options that read from replicas (read_only, route_by_latency, route_randomly, replica_only), given any value.
//   - redis://[user:password@]host[:6379][/db] (rediss:// for TLS): one node, read by redis.ParseURL;
//   - redis+sentinel://[user:password@]h1[:26379],h2/master[/db][?db=N&sentinel_password=...]
//     (rediss+sentinel:// for TLS): the master that Sentinel names; the user and password are the master's;
//   - redis://[user:password@]h1:7000,h2:7001,... (rediss:// for TLS), or bare h1:7000,h2:7001: a Cluster;
//   - a bare host:port: one node.
//
// Palaute fails fast when Redis cannot be reached, so that people hear "try again in a moment" at once
// rather than after seconds: a connection is dialled once per attempt (go-redis tries 5 times, 100 ms apart,
// and again on each of a command's retries) within DialTimeout (1 s unless the URL says dial_timeout=).
// go-redis still retries a command (max_retries, 3) on a fresh connection, which a restarted Redis needs.
func ParseURL(raw string) (*redis.UniversalOptions, error) {
	o, err := parseURL(raw)
	if err != nil {
		return nil, err
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DialTimeout
	}
	if o.DialerRetries == 0 {
		o.DialerRetries = 1
	}
	// A caller's deadline bounds go-redis's dials, reads and writes (by default it only stops waiting for a
	// free connection): a turn with someone waiting gives Redis seconds, not go-redis's 3 s on every try.
	o.ContextTimeoutEnabled = true
	return o, nil
}

// DialTimeout is how long palaute waits for a connection to Redis, unless redis.url says otherwise: Redis is
// near (a round trip of a millisecond or less), and someone is waiting for an answer.
const DialTimeout = time.Second

func parseURL(raw string) (*redis.UniversalOptions, error) {
	scheme, rest, hasScheme := strings.Cut(raw, "://")
	if !hasScheme {
		switch {
		case strings.Contains(raw, ","):
			scheme, rest = "redis", strings.Join(splitAddrs(raw), ",")
		case strings.Contains(raw, ":") && !strings.ContainsAny(raw, "/@?"):
			scheme, rest = "redis", raw
		default:
			return nil, badURL(fmt.Sprintf("%q has no scheme", raw))
		}
	}
	tlsOn := false
	switch scheme {
	case "redis", "redis+sentinel":
	case "rediss", "rediss+sentinel":
		tlsOn = true
	default:
		return nil, badURL(fmt.Sprintf("unknown scheme %q", scheme))
	}
	// The host part may list several hosts, which net/url does not take: read them apart, then give
	// go-redis a URL with one host and the others as addr= options, as its parsers want.
	hostEnd := strings.IndexAny(rest, "/?#")
	if hostEnd < 0 {
		hostEnd = len(rest)
	}
	userinfo, hosts := "", rest[:hostEnd]
	at := strings.LastIndex(hosts, "@") // a password may hold an @
	hasUser := at >= 0
	if hasUser {
		userinfo, hosts = hosts[:at], hosts[at+1:]
	}
	addrs := splitAddrs(hosts)
	if len(addrs) == 0 {
		return nil, badURL("no host")
	}
	base := strings.TrimSuffix(scheme, "+sentinel")
	if hasUser {
		base += "://" + userinfo + "@"
	} else {
		base += "://"
	}
	u, err := url.Parse(base + "placeholder" + rest[hostEnd:])
	if err != nil {
		return nil, badURL(urlErr(err))
	}
	if u.Fragment != "" {
		return nil, badURL("a fragment (#...) has no meaning here")
	}
	q := u.Query()
	for _, k := range []string{"read_only", "route_by_latency", "route_randomly", "replica_only"} {
		if q.Has(k) {
			return nil, badURL(fmt.Sprintf("option %q: palaute reads from the master only (a replica may be behind)", k))
		}
	}
	sentinel := strings.HasSuffix(scheme, "+sentinel")
	if !sentinel && len(addrs) == 1 {
		if u.Host, err = withPort(addrs[0], "6379"); err != nil {
			return nil, err
		}
		o, err := redis.ParseURL(u.String())
		if err != nil {
			return nil, badURL(urlErr(err))
		}
		if o.Network != "tcp" {
			return nil, badURL("only TCP")
		}
		uo := &redis.UniversalOptions{Addrs: []string{o.Addr}}
		if err := copyOptions(uo, o, "Addr", "Network"); err != nil {
			return nil, err
		}
		return uo, nil
	}
	defPort := "6379"
	if sentinel {
		defPort = "26379"
	}
	for i, a := range addrs {
		if addrs[i], err = withPort(a, defPort); err != nil {
			return nil, err
		}
	}
	for _, k := range []string{"addr", "master_name", "username", "password"} {
		if q.Has(k) {
			return nil, badURL(fmt.Sprintf("option %q: give it in the URL itself (user:password@hosts/master)", k))
		}
	}
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	u.Host = addrs[0]
	if !sentinel { // a Cluster
		if p := strings.Trim(u.Path, "/"); (p != "" && p != "0") || (q.Has("db") && q.Get("db") != "0") {
			return nil, badURL("a Cluster has only database 0")
		}
		q.Del("db")
		u.Path, u.RawQuery = "", q.Encode()
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, badURL(urlErr(err))
		}
		uo := &redis.UniversalOptions{IsClusterMode: true}
		if err := copyOptions(uo, o); err != nil {
			return nil, err
		}
		anyNode(uo, tlsOn)
		return uo, nil
	}
	// Sentinel: /master[/db]; the URL's user and password are the master's (go-redis's failover URL
	// takes them as the Sentinels' and the master's as options).
	parts := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
	if len(parts) == 0 || len(parts) > 2 {
		return nil, badURL("a Sentinel URL needs the master name as its path, like redis+sentinel://h1:26379,h2:26379/mymaster or .../mymaster/0")
	}
	q.Set("master_name", parts[0])
	if len(parts) == 2 {
		if _, err := strconv.Atoi(parts[1]); err != nil {
			return nil, badURL(fmt.Sprintf("database %q is not a number", parts[1]))
		}
		if q.Has("db") && q.Get("db") != parts[1] {
			return nil, badURL(fmt.Sprintf("database %s in the path and db=%s", parts[1], q.Get("db")))
		}
		q.Set("db", parts[1])
	}
	if u.User != nil {
		q.Set("username", u.User.Username())
		if pw, ok := u.User.Password(); ok {
			q.Set("password", pw)
		}
	}
	u.User = nil
	if q.Has("sentinel_username") || q.Has("sentinel_password") {
		u.User = url.UserPassword(q.Get("sentinel_username"), q.Get("sentinel_password"))
		q.Del("sentinel_username")
		q.Del("sentinel_password")
	}
	u.Path, u.RawQuery = "", q.Encode()
	o, err := redis.ParseFailoverURL(u.String())
	if err != nil {
		return nil, badURL(urlErr(err))
	}
	uo := &redis.UniversalOptions{Addrs: o.SentinelAddrs}
	if err := copyOptions(uo, o, "SentinelAddrs"); err != nil {
		return nil, err
	}
	anyNode(uo, tlsOn)
	return uo, nil
}

// anyNode makes the TLS of a client that dials several hosts check each against the address it dials
// (go-redis names the URL's first host as the server of all), with TLS 1.2 at least.
func anyNode(o *redis.UniversalOptions, tlsOn bool) {
	if !tlsOn {
		return
	}
	if o.TLSConfig == nil {
		o.TLSConfig = &tls.Config{}
	}
	o.TLSConfig.ServerName = ""
	o.TLSConfig.MinVersion = max(o.TLSConfig.MinVersion, tls.VersionTLS12)
}

func badURL(why string) error {
	return fmt.Errorf("redis.url: %s (want redis://host:port/db, redis+sentinel://h1:26379,h2:26379/master, or h1:7000,h2:7001 for a Cluster)", why)
}

// urlErr is err's text without the URL a *url.Error quotes (it may hold a password) and without
// go-redis's "redis: " (badURL names redis.url).
func urlErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return strings.TrimPrefix(err.Error(), "redis: ")
}

// withPort gives a host without a port the default one.
func withPort(hostport, def string) (string, error) {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport, nil
	}
	h := strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
	if h == "" || strings.ContainsAny(h, "[]/@?") || (strings.Contains(h, ":") && !strings.HasPrefix(hostport, "[")) {
		return "", badURL(fmt.Sprintf("bad host %q", hostport))
	}
	return net.JoinHostPort(h, def), nil
}

// copyOptions copies the fields go-redis's URL parser set in src (Options, ClusterOptions or
// FailoverOptions) to the fields of the same name in dst, except skip. A set field that dst does not
// have is an option palaute's client cannot honour: an error, not silently dropped.
func copyOptions(dst *redis.UniversalOptions, src any, skip ...string) error {
	d := reflect.ValueOf(dst).Elem()
	s := reflect.ValueOf(src).Elem()
	for i := range s.NumField() {
		f := s.Type().Field(i)
		v := s.Field(i)
		if !f.IsExported() || v.IsZero() || slices.Contains(skip, f.Name) {
			continue
		}
		df := d.FieldByName(f.Name)
		if !df.IsValid() || df.Type() != f.Type {
			return badURL(fmt.Sprintf("option %s is not supported for this form", f.Name))
		}
		df.Set(v)
	}
	return nil
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
