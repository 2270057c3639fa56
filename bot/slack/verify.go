package slack

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack"

	"github.com/palaute/palaute/store"
)

// Replays remembers the requests already served.
type Replays interface {
	// First reports whether id is seen for the first time within ttl.
	First(ctx context.Context, id string, ttl time.Duration) (bool, error)
}

var _ Replays = (*store.Replays)(nil)

// replayTTL covers Slack's timestamp window on both sides of now (a clock ahead or behind).
const replayTTL = 10 * time.Minute

// Verify wraps h: a request must carry a valid Slack signature
// (v0=HMAC-SHA256(secret, "v0:"+timestamp+":"+body)) made within 5 minutes, and must not have been
// served before (replays is nil: no replay check); otherwise it is answered 401 and h never sees it.
// A body over maxBody is answered 413.
func Verify(secret string, maxBody int64, replays Replays, log *slog.Logger, h http.Handler) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if secret == "" {
			http.Error(w, "slack signing secret not configured", http.StatusUnauthorized)
			return
		}
		v, err := slack.NewSecretsVerifier(r.Header, secret)
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		_, _ = v.Write(body)
		if err := v.Ensure(); err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if replays != nil {
			// The signature is unique to the timestamp and body: seeing it again is a replay.
			first, err := replays.First(r.Context(), r.Header.Get("X-Slack-Signature"), replayTTL)
			if err != nil {
				log.Warn("slack replay check", errAttr(err))
				http.Error(w, "try again", http.StatusServiceUnavailable)
				return
			}
			if !first {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}
