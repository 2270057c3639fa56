package telegram

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	tg "github.com/go-telegram/bot"
)

// The message path's own Bot API client classifies Telegram's answers as go-telegram does, so that 429s
// are retried and a person who blocked the bot is told apart from a bad request.
func TestAPIClientAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		check  func(error) bool
	}{
		{"ok", 200, `{"ok":true,"result":{"message_id":5}}`, func(err error) bool { return err == nil }},
		{"ok spaced", 200, `{ "ok" : true, "result" : true }`, func(err error) bool { return err == nil }},
		{"429", 429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`,
			func(err error) bool {
				var tm *tg.TooManyRequestsError
				return errors.As(err, &tm) && tm.RetryAfter == 7
			}},
		{"blocked", 403, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`,
			func(err error) bool { return errors.Is(err, tg.ErrorForbidden) }},
		{"bad request", 400, `{"ok":false,"error_code":400,"description":"Bad Request: message is not modified"}`,
			func(err error) bool {
				return errors.Is(err, tg.ErrorBadRequest) && strings.Contains(err.Error(), "not modified")
			}},
		{"token", 401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`,
			func(err error) bool { return errors.Is(err, tg.ErrorUnauthorized) }},
		{"server error", 502, `<html>Bad Gateway</html>`,
			func(err error) bool { return err != nil && strings.Contains(err.Error(), "HTTP 502") }},
		{"500 json", 500, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`,
			func(err error) bool { return err != nil && strings.Contains(err.Error(), "500 Internal Server Error") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gotCT, gotBody, gotPath string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				gotCT, gotBody, gotPath = r.Header.Get("Content-Type"), string(b), r.URL.Path
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := &apiClient{hc: srv.Client(), base: srv.URL + "/bot1:T/", token: "1:T"}
			err := c.call(context.Background(), "sendMessage", &sendMessageParams{ChatID: "42", Text: "Hei",
				ReplyMarkup: keyboard(nil)})
			if !tc.check(err) {
				t.Fatalf("error %v", err)
			}
			if gotPath != "/bot1:T/sendMessage" || gotCT != "application/json" || gotBody != `{"chat_id":"42","text":"Hei"}` {
				t.Fatalf("request %s %s %s", gotPath, gotCT, gotBody)
			}
		})
	}
}

// net/http names the URL in its errors, and the URL holds the bot's token.
func TestAPIClientKeepsTheTokenOutOfErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	c := &apiClient{hc: &http.Client{}, base: url + "/bot123:SECRET/", token: "123:SECRET"}
	err := c.call(context.Background(), "sendMessage", &sendMessageParams{ChatID: "1", Text: "x"})
	if err == nil || strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "***") {
		t.Fatalf("error %v", err)
	}
}
