package store_test

import (
	"context"
	"log/slog"
	"testing"

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
	} {
		o, err := store.ParseURL(tt.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.in, err)
			continue
		}
		if len(o.Addrs) != len(tt.addrs) || o.DB != tt.db || o.Username != tt.user || o.Password != tt.pass || o.MasterName != tt.master ||
			o.SentinelPassword != tt.sen || o.IsClusterMode != tt.cluster || (o.TLSConfig != nil) != tt.tls {
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
