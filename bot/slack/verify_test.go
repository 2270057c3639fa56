package slack_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot/slack"
	"github.com/palaute/palaute/store"
)

func sign(secret string, ts int64, body string) http.Header {
	h := http.Header{}
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:%s", ts, body)
	h.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return h
}

// Only a request signed with the secret within 5 minutes, and not served before, reaches the
// handler; everything else is 401 and changes nothing.
func TestSignature(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	var served atomic.Int32
	h := slack.Verify("signing-secret", 64<<10, store.NewReplays(rdb, "pl:"), nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(b), "command=") {
			t.Errorf("handler got body %q", b)
		}
		served.Add(1)
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	do := func(hd http.Header, body string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header = hd
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	body := form("palaute-kotipesa", "help")
	now := time.Now().Unix()
	valid := sign("signing-secret", now, body)
	if code := do(valid, body); code != 200 || served.Load() != 1 {
		t.Fatalf("valid: %d, served %d", code, served.Load())
	}
	cases := []struct {
		name string
		h    http.Header
		body string
	}{
		{"wrong secret", sign("other", now, body), body},
		{"missing", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body},
		{"expired (> 5 min)", sign("signing-secret", now-5*60-30, body), body},
		{"from the future (> 5 min)", sign("signing-secret", now+5*60+30, body), body},
		{"tampered body", sign("signing-secret", now, body), form("palaute-kotipesa", "invite relative 50")},
		{"replay of a served request", valid, body},
	}
	for _, c := range cases {
		if code := do(c.h, c.body); code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", c.name, code)
		}
	}
	if served.Load() != 1 {
		t.Errorf("handler ran %d times", served.Load())
	}
	// A new request (a new timestamp) with the same text is fine.
	if code := do(sign("signing-secret", now+1, body), body); code != 200 {
		t.Errorf("a second, new request: %d", code)
	}
	// Without the replay store, the check fails closed (503), it does not let requests through.
	m.Close()
	if code := do(sign("signing-secret", now+2, body), body); code != http.StatusServiceUnavailable {
		t.Errorf("replay store down: %d, want 503", code)
	}
	if served.Load() != 2 {
		t.Errorf("handler ran %d times, want 2", served.Load())
	}
}
