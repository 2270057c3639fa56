package store_test

import (
	"cmp"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/store"
)

func TestParseURLForms(t *testing.T) {
	for _, tt := range []struct {
		in                      string
		addrs                   []string
		db                      int
		user, pass, master, sen string
		cluster, tls            bool
		dial                    time.Duration
	}{
		{in: "redis://localhost:6379/0", addrs: []string{"localhost:6379"}},
		{in: "redis://:secret@localhost:6379/2", addrs: []string{"localhost:6379"}, db: 2, pass: "secret"},
		{in: "rediss://app:pw@redis.example:6380", addrs: []string{"redis.example:6380"}, user: "app", pass: "pw", tls: true},
		{in: "localhost:6379", addrs: []string{"localhost:6379"}},
		{in: "redis+sentinel://:pw@h1:26379,h2:26379/mymaster", addrs: []string{"h1:26379", "h2:26379"}, master: "mymaster", pass: "pw"},
		{in: "redis+sentinel://h1:26379/m?db=3&sentinel_password=sp", addrs: []string{"h1:26379"}, master: "m", db: 3, sen: "sp"},
		{in: "rediss+sentinel://h1:26379,h2:26379/m", addrs: []string{"h1:26379", "h2:26379"}, master: "m", tls: true},
		{in: "h1:7000,h2:7001,h3:7002", addrs: []string{"h1:7000", "h2:7001", "h3:7002"}, cluster: true},
		{in: "h1:7000, h2:7001", addrs: []string{"h1:7000", "h2:7001"}, cluster: true},
		{in: "redis://:pw@h1:7000,h2:7001", addrs: []string{"h1:7000", "h2:7001"}, cluster: true, pass: "pw"},
		{in: "rediss://h1:7000,h2:7001,h3:7002", addrs: []string{"h1:7000", "h2:7001", "h3:7002"}, cluster: true, tls: true},
		// go-redis's defaults and options, as redis.ParseURL reads them.
		{in: "redis://localhost", addrs: []string{"localhost:6379"}},
		{in: "redis://localhost/2", addrs: []string{"localhost:6379"}, db: 2},
		{in: "redis://h:6380?db=2", addrs: []string{"h:6380"}, db: 2},
		{in: "redis://h:6380/1?dial_timeout=1s", addrs: []string{"h:6380"}, db: 1, dial: time.Second},
		{in: "rediss://u:p%40ss@h", addrs: []string{"h:6379"}, user: "u", pass: "p@ss", tls: true},
		{in: "redis://[::1]", addrs: []string{"[::1]:6379"}},
		{in: "redis://:pw@h1,h2:7001?dial_timeout=2s", addrs: []string{"h1:6379", "h2:7001"}, cluster: true, pass: "pw", dial: 2 * time.Second},
		{in: "redis+sentinel://h/m/3", addrs: []string{"h:26379"}, master: "m", db: 3},
		{in: "redis+sentinel://u:pw@h1,h2:26380/m/0?dial_timeout=3s&sentinel_password=sp", addrs: []string{"h1:26379", "h2:26380"},
			master: "m", user: "u", pass: "pw", sen: "sp", dial: 3 * time.Second},
		{in: "redis+sentinel://h/m/4?db=4", addrs: []string{"h:26379"}, master: "m", db: 4},
	} {
		o, err := store.ParseURL(tt.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.in, err)
			continue
		}
		if tt.tls && len(tt.addrs) > 1 && (o.TLSConfig.ServerName != "" || o.TLSConfig.MinVersion < tls.VersionTLS12) {
			t.Errorf("ParseURL(%q): TLS checks every node as %q, from TLS %x", tt.in, o.TLSConfig.ServerName, o.TLSConfig.MinVersion)
		}
		if len(o.Addrs) != len(tt.addrs) || o.DB != tt.db || o.Username != tt.user || o.Password != tt.pass || o.MasterName != tt.master ||
			o.SentinelPassword != tt.sen || o.IsClusterMode != tt.cluster || (o.TLSConfig != nil) != tt.tls || o.DialTimeout != cmp.Or(tt.dial, store.DialTimeout) ||
			o.DialerRetries != 1 || !o.ContextTimeoutEnabled {
			t.Errorf("ParseURL(%q) = %+v", tt.in, o)
			continue
		}
		for i := range tt.addrs {
			if o.Addrs[i] != tt.addrs[i] {
				t.Errorf("ParseURL(%q) addresses %v", tt.in, o.Addrs)
			}
		}
	}
	for _, in := range []string{"redis+sentinel://h1:26379", "nonsense", "http://h:1", "redis://", "redis://h:1/x", "redis://h1:1,h2:2/3",
		"redis+sentinel://h:1/m?db=x", "localhost"} {
		if o, err := store.ParseURL(in); err == nil {
			t.Errorf("ParseURL(%q) accepted: %+v", in, o)
		}
	}
	// A misspelt or unknown option is refused, never ignored; so are a Sentinel path that is not
	// /master[/db], and a database given twice differently.
	for _, in := range []string{"redis://h:6379?dial_timout=1s", "redis://h?db=2&nosuch=1", "redis://h1,h2?db=1",
		"redis+sentinel://h/m?dial_timout=1s", "redis+sentinel://h/m/x", "redis+sentinel://h/m/1/2", "redis+sentinel://h/m/1?db=2",
		"redis+sentinel://h/m?password=x", "redis://h?dial_timeout=soon", "unix:///tmp/redis.sock", "redis://h#frag",
		"redis://h1,h2?read_only=true", "redis+sentinel://h/m?route_randomly=true", "redis+sentinel://h/m?replica_only=true"} {
		o, err := store.ParseURL(in)
		if err == nil {
			t.Errorf("ParseURL(%q) accepted: %+v", in, o)
			continue
		}
		if !strings.HasPrefix(err.Error(), "redis.url: ") {
			t.Errorf("ParseURL(%q): %v, want an error that names redis.url", in, err)
		}
		if strings.Contains(in, "tim") && !strings.Contains(err.Error(), "dial_timout") && !strings.Contains(err.Error(), "dial_timeout") {
			t.Errorf("ParseURL(%q): %v, want the option named", in, err)
		}
	}
	// An error never quotes the password.
	for _, in := range []string{"redis://:hunter2@h:port/0", "redis://:hunter2@h/x", "redis+sentinel://:hunter2@h/m?nosuch=1"} {
		if _, err := store.ParseURL(in); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseURL(%q): %v", in, err)
		}
	}
}

// Connect reaches a real server through every form: a URL, a bare address, Sentinel, a Cluster.
func TestConnectForms(t *testing.T) {
	srv := redistest.Start(t)
	urls := []string{srv.URL(), srv.Addr, "redis://" + srv.Addr + "/3", "redis+sentinel://" + redistest.StartSentinel(t, srv) + "/mymaster"}
	if !testing.Short() {
		urls = append(urls, redistest.StartCluster(t).URL())
	}
	for _, u := range urls {
		rdb, closeFn, err := store.Connect(context.Background(), u, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("Connect(%q): %v", u, err)
		}
		if err := rdb.Set(context.Background(), "{t}k", "v", 0).Err(); err != nil {
			t.Errorf("Connect(%q): %v", u, err)
		}
		closeFn()
	}
}

// BenchmarkUnreachable is how long a person's turn waits for the store to fail when Redis refuses
// connections (it is down): a session load, with redis.url's options as ParseURL sets them, and with
// go-redis's own defaults (5 dials 100 ms apart on each of 4 tries) for comparison:
//
//	go test -run '^$' -bench Unreachable -benchtime 10x ./store/
func BenchmarkUnreachable(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nobody listens there now: connections are refused
	for _, bc := range []struct {
		name string
		opts func() *redis.UniversalOptions
	}{
		{"palaute", func() *redis.UniversalOptions {
			o, err := store.ParseURL("redis://" + addr)
			if err != nil {
				b.Fatal(err)
			}
			return o
		}},
		{"go-redis-defaults", func() *redis.UniversalOptions { return &redis.UniversalOptions{Addrs: []string{addr}} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rdb := redis.NewUniversalClient(bc.opts())
			defer rdb.Close()
			st := store.New(rdb, "bench:")
			ctx := context.Background()
			for b.Loop() {
				if _, _, err := st.LoadFresh(ctx, "p"); err == nil {
					b.Fatal("a load with Redis down did not fail")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
		})
	}
}
