// Command palaute is the feedback bot: serve, demo, validate, invite, poster, summary, export, health,
// loadtest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "serve" {
		// go-redis would print each failed dial on stderr in plain text; serve logs them as JSON instead.
		redis.SetLogger(quietRedis{})
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode is the exit status of a command that returned err, which it prints on stderr: 0 for none and for
// -h (the usage was printed), 1 for any other.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "palaute:", err)
	return 1
}

const usage = `palaute: anonymous client-experience feedback for social services.

Usage:
  palaute serve    [-config config.yaml]                      run the bot (Telegram, Slack, scheduler)
  palaute demo     [-lang fi|sv|en] [-flow nuoret] [-unit ID] [-redis URL]  chat with the bot in the terminal (in-memory Redis)
  palaute validate [-rules DIR] [paths...]                    check flow files (default: the embedded flows) and edited coding rules
  palaute validate -config config.yaml                        check a configuration with its flows_dir and coding.rules_dir
  palaute invite   -unit ID -audience relative|social_worker [-count N] [-uses 1] [-expires 720h] [-qr DIR]
  palaute poster   -unit ID [-lang fi] [-out poster.png]
  palaute summary  -unit ID|all -period 2026-W47|2026-11|2026-H2 [-format text|json|blocks] [-post]
  palaute export   -format csv -period 2026-11
  palaute health   [-url http://127.0.0.1:8080/readyz]        exit 0 when a running palaute serve is ready
  palaute loadtest -redis redis://127.0.0.1:6379/0 [-users N] the load benchmark (a real Redis; see README)

Every command takes -config FILE (validate only to check it). Without it: $PALAUTE_CONFIG, else ./config.yaml
if present, else /etc/palaute/config.yaml if present (the Docker image's), else built-in defaults (no units).
summary, export and invite work on the Redis that serve uses: set REDIS_URL or redis.url.
`

// run is the whole program; main only calls it.
func run(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "demo":
		return demo(ctx, rest, env, stdin, stdout)
	case "validate":
		return validate(rest, env, stdout)
	case "serve":
		return serve(ctx, rest, env, stdout)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	if f, ok := extra[cmd]; ok {
		return f(ctx, rest, env, stdout)
	}
	fmt.Fprint(stdout, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// extra holds the commands added by other files (invite, poster, summary, export, health, loadtest).
var extra = map[string]func(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error{}
