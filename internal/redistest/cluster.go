package redistest

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a real 3-master Redis Cluster on loopback.
type Cluster struct {
	Addrs   []string
	servers []*Server
}

// StartCluster starts three redis-server nodes with cluster mode on and joins them with
// `redis-cli --cluster create`. It is stopped when the test ends.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("PALAUTE_REQUIRE_REDIS") != "" {
			tb.Fatalf("redis-cli not found: %v", err)
		}
		tb.Skip("redis-cli not installed")
	}
	c := &Cluster{}
	for i := 0; i < 3; i++ {
		dir := tb.TempDir()
		s := Start(tb, "--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf", "--cluster-node-timeout", "2000")
		c.servers = append(c.servers, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := true
		for _, s := range c.servers {
			info, err := exec.Command(cli, "-p", port(s.Addr), "cluster", "info").Output()
			if err != nil || !strings.Contains(string(info), "cluster_state:ok") {
				ok = false
			}
		}
		if ok {
			return c
		}
		if time.Now().After(deadline) {
			tb.Fatal("cluster did not reach cluster_state:ok")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func port(addr string) string {
	i := strings.LastIndex(addr, ":")
	p, _ := strconv.Atoi(addr[i+1:])
	return strconv.Itoa(p)
}

// Client returns a cluster client, closed when the test ends.
func (c *Cluster) Client(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	tb.Cleanup(func() { cl.Close() })
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for cl.Ping(ctx).Err() != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return cl
}

// URL is the cluster's redis.url: its addresses, comma-separated.
func (c *Cluster) URL() string { return strings.Join(c.Addrs, ",") }

// Backend runs a suite on the cluster: each New empties every master and returns one shared client.
func (c *Cluster) Backend(tb testing.TB) Backend {
	tb.Helper()
	rdb := c.Client(tb).(*redis.ClusterClient)
	return Backend{Name: "cluster", New: func(tb testing.TB) redis.UniversalClient {
		tb.Helper()
		if err := rdb.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
			return m.FlushAll(ctx).Err()
		}); err != nil {
			tb.Fatal(err)
		}
		return rdb
	}, FastForward: func(tb testing.TB, _ redis.UniversalClient, d time.Duration) {
		tb.Helper()
		err := rdb.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
			return expireWithin(ctx, m, d)
		})
		if err != nil {
			tb.Fatal(err)
		}
	}}
}
