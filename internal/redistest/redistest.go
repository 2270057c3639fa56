// Package redistest starts real redis-server processes on free loopback ports for tests.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Server is a running redis-server.
type Server struct {
	Addr string
	Dir  string
	cmd  *exec.Cmd
	args []string
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts a fresh redis-server (no persistence unless args say so) and stops it when the test ends.
// A test is skipped when redis-server is not installed and PALAUTE_REQUIRE_REDIS is unset; `make test`
// installs it and sets that variable, so CI never skips.
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("PALAUTE_REQUIRE_REDIS") != "" {
			tb.Fatalf("redis-server not found: %v", err)
		}
		tb.Skip("redis-server not installed (make test installs it)")
	}
	s := &Server{Dir: tb.TempDir(), args: args}
	s.start(tb, bin, FreePort(tb))
	tb.Cleanup(s.Stop)
	return s
}

func (s *Server) start(tb testing.TB, bin string, port int) {
	tb.Helper()
	s.Addr = "127.0.0.1:" + strconv.Itoa(port)
	a := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", s.Dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"}
	a = append(a, s.args...)
	s.cmd = exec.Command(bin, a...)
	s.cmd.Stdout, s.cmd.Stderr = nil, nil
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	waitReply(tb, "redis-server", s.Addr, "PING", "+PONG")
}

// waitReply waits up to 10 s for the server at addr (what) to answer cmd with want as its first line.
func waitReply(tb testing.TB, what, addr, cmd, want string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			fmt.Fprint(c, cmd+"\r\n")
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if line == want+"\r\n" {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s on %s did not start: %v", what, addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expireWithin deletes the keys of c that would expire within d: time moved on, for TTL tests.
func expireWithin(ctx context.Context, c *redis.Client, d time.Duration) error {
	iter := c.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		if ttl, err := c.PTTL(ctx, iter.Val()).Result(); err == nil && ttl > 0 && ttl <= d {
			c.Del(ctx, iter.Val())
		}
	}
	return iter.Err()
}

// Stop kills the server (idempotent).
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// Restart stops the server and starts it again on the same port and directory (AOF/RDB files survive).
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Down(tb)
	s.Up(tb)
}

// Down stops the server the way an operator does (SIGTERM: it writes out its AOF and exits); Up starts it
// again on the same port and directory. Between the two, clients get "connection refused".
func (s *Server) Down(tb testing.TB) {
	tb.Helper()
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// Up starts a server stopped by Down again, on the same port and with the same files.
func (s *Server) Up(tb testing.TB) {
	tb.Helper()
	if s.cmd != nil {
		return
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatal(err)
	}
	_, p, _ := net.SplitHostPort(s.Addr)
	port, _ := strconv.Atoi(p)
	s.start(tb, bin, port)
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Client returns a client for the server, closed when the test ends.
func (s *Server) Client(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	tb.Cleanup(func() { c.Close() })
	return c
}

// AOFDir is where the server keeps its files.
func (s *Server) AOFDir() string { return filepath.Join(s.Dir) }

// Backend is a Redis to run a suite against.
type Backend struct {
	Name string
	New  func(tb testing.TB) redis.UniversalClient
	// FastForward moves key TTLs (miniredis) or sleeps nothing and expires keys by hand (real Redis):
	// it makes keys with a TTL shorter than d expire.
	FastForward func(tb testing.TB, c redis.UniversalClient, d time.Duration)
}

// Backends returns miniredis and a real redis-server, so one suite runs against both.
func Backends() []Backend {
	return []Backend{
		{Name: "miniredis", New: func(tb testing.TB) redis.UniversalClient {
			tb.Helper()
			m := miniredis.RunT(tb)
			c := redis.NewClient(&redis.Options{Addr: m.Addr()})
			tb.Cleanup(func() { c.Close() })
			mini.Store(c, m)
			return c
		}, FastForward: func(tb testing.TB, c redis.UniversalClient, d time.Duration) {
			m, _ := mini.Load(c.(*redis.Client))
			m.(*miniredis.Miniredis).FastForward(d)
		}},
		{Name: "redis", New: func(tb testing.TB) redis.UniversalClient {
			tb.Helper()
			return Start(tb).Client(tb)
		}, FastForward: func(tb testing.TB, c redis.UniversalClient, d time.Duration) {
			tb.Helper()
			if err := expireWithin(context.Background(), c.(*redis.Client), d); err != nil {
				tb.Fatal(err)
			}
		}},
	}
}

var mini sync.Map // *redis.Client -> *miniredis.Miniredis

// StartSentinel starts a Redis Sentinel on loopback that watches master under the name "mymaster", and
// returns its address. It is stopped when the test ends.
func StartSentinel(tb testing.TB, master *Server) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Skip("redis-server not installed")
	}
	dir := tb.TempDir()
	port := FreePort(tb)
	host, mport, _ := net.SplitHostPort(master.Addr)
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster %s %s 1\nsentinel down-after-milliseconds mymaster 5000\n", port, dir, host, mport)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, conf, "--sentinel", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start sentinel: %v", err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	waitReply(tb, "sentinel", addr, "SENTINEL get-master-addr-by-name mymaster", "*2")
	return addr
}
