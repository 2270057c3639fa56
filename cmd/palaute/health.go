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
)

func init() { extra["health"] = health }

// health asks a running palaute serve whether it is ready (GET /readyz) and fails when it is not: the
// container's HEALTHCHECK (the image has no shell and no curl).
func health(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stdout)
	def := "127.0.0.1:8080"
	if l := env("PALAUTE_HTTP_LISTEN"); l != "" {
		def = l
	}
	url := fs.String("url", "", "URL to GET (default: /readyz on PALAUTE_HTTP_LISTEN, or 127.0.0.1:8080)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		host, port, err := net.SplitHostPort(def)
		if err != nil {
			return fmt.Errorf("health: PALAUTE_HTTP_LISTEN %q: %w", def, err)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		*url = "http://" + net.JoinHostPort(host, port) + "/readyz"
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
	fmt.Fprint(stdout, string(body))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %d: %s", *url, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}
