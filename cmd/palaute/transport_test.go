package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The Telegram client sends a streamed (pipe) body in one piece with a Content-Length, not chunked, and
// every byte arrives; a body over the limit is still sent whole, streamed.
func TestTelegramClientSendsBodiesWhole(t *testing.T) {
	type seen struct {
		length  int64
		chunked bool
		body    string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.ContentLength, len(r.TransferEncoding) > 0, string(b)}
	}))
	defer srv.Close()
	c := telegramHTTPClient()
	for _, size := range []int{10, 4000, maxWholeBody + 10} {
		body := strings.Repeat("x", size)
		pr, pw := io.Pipe()
		go func() { io.WriteString(pw, body); pw.Close() }()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, pr)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		s := <-got
		if s.body != body {
			t.Fatalf("%d bytes: %d arrived", size, len(s.body))
		}
		whole := size <= maxWholeBody
		if whole && (s.chunked || s.length != int64(size)) {
			t.Errorf("%d bytes sent chunked=%v length=%d, want one piece with its length", size, s.chunked, s.length)
		}
		if !whole && !s.chunked {
			t.Errorf("%d bytes (over the limit) were not streamed", size)
		}
	}
}

// go-redis's own messages become JSON log lines, at most one per 5 s (the rest counted), warnings for failures.
func TestRedisLogLimitsItself(t *testing.T) {
	var buf bytes.Buffer
	r := &redisLog{log: slog.New(slog.NewJSONHandler(&buf, nil))}
	ctx := context.Background()
	r.Printf(ctx, "redis: dial tcp %s: connection refused", "127.0.0.1:1")
	r.Printf(ctx, "redis: dial tcp %s: connection refused", "127.0.0.1:1")
	r.Printf(ctx, "sentinel: new master=%q", "m")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines within 5 s, want 1:\n%s", len(lines), buf.String())
	}
	var l map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &l); err != nil || l["level"] != "WARN" || !strings.Contains(l["detail"].(string), "refused") {
		t.Fatalf("line %q", lines[0])
	}
	r.last = r.last.Add(-6e9) // 6 s later
	r.Printf(ctx, "sentinel: new master=%q", "m")
	if err := json.Unmarshal([]byte(strings.Split(strings.TrimSpace(buf.String()), "\n")[1]), &l); err != nil || l["level"] != "INFO" || l["suppressed"] != float64(2) {
		t.Fatalf("after 5 s: %s", buf.String())
	}
}
