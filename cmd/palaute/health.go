package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/palaute/palaute/config"
)

func init() { extra["health"] = health }

// health asks a running palaute serve whether it is ready (GET /readyz) and fails when it is not: the
// container's HEALTHCHECK (the image has no shell and no curl). Without -url it asks the address serve
// listens on: http.listen of -config, which PALAUTE_HTTP_LISTEN overrides, as for serve.
func health(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stdout)
	cfgPath := configFlagEnv(fs, env)
	url := fs.String("url", "", "URL to GET (default: /readyz on http.listen of -config, or PALAUTE_HTTP_LISTEN)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		cfg, err := config.Load(*cfgPath, env)
		if err != nil {
			return fmt.Errorf("health: %w", err)
		}
		if *url, err = readyURL(cfg.HTTP.Listen); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		// The body once, in the error (main prints it on stderr).
		return fmt.Errorf("health: %s answered %d: %s", *url, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	fmt.Fprint(stdout, string(body))
	return nil
}

// readyURL is the /readyz URL of a server listening on listen: an address that listens on every
// interface (0.0.0.0, ::, or no host) is asked on 127.0.0.1.
func readyURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("health: http.listen %q: %w", listen, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
