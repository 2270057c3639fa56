package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	tg "github.com/go-telegram/bot"
)

// apiClient calls the Bot API methods of the message path (sendMessage, editMessageText,
// answerCallbackQuery, deleteMessages) with JSON bodies, which the Bot API accepts as well as forms.
//
// go-telegram (still used for polling, setWebhook and setMyCommands) sends every call as a multipart form
// built by reflection in a goroutine and streamed through a pipe, and decodes every answer twice; on the
// message path that was about a third of palaute's CPU. Here a call is one json.Marshal of a small struct,
// one write with a Content-Length, and an answer read only for ok, error_code and retry_after. Errors are
// go-telegram's own (tg.ErrorForbidden, *tg.TooManyRequestsError...), so they are classified the same way.
type apiClient struct {
	hc    *http.Client
	base  string // {APIURL}/bot{token}/
	token string
}

// maxAnswer is the most of an answer read: the message path needs only its head.
const maxAnswer = 1 << 20

// sendMessageParams and editMessageTextParams are the fields palaute sends; the chat id is a string as
// the Bot API allows (an integer or a @channel name).
type sendMessageParams struct {
	ChatID      string          `json:"chat_id"`
	Text        string          `json:"text"`
	ReplyMarkup *inlineKeyboard `json:"reply_markup,omitempty"`
}

type editMessageTextParams struct {
	ChatID      string          `json:"chat_id"`
	MessageID   int             `json:"message_id"`
	Text        string          `json:"text"`
	ReplyMarkup *inlineKeyboard `json:"reply_markup,omitempty"`
}

type answerCallbackQueryParams struct {
	Method          string `json:"method,omitempty"` // only in a webhook answer
	CallbackQueryID string `json:"callback_query_id"`
	Text            string `json:"text,omitempty"`
}

type deleteMessagesParams struct {
	ChatID     string `json:"chat_id"`
	MessageIDs []int  `json:"message_ids"`
}

// apiAnswer is the part of a Bot API answer the message path reads.
type apiAnswer struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// call posts params as JSON to method and returns nil when Telegram answered ok.
func (c *apiClient) call(ctx context.Context, method string, params any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", method, c.scrub(err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", method, c.scrub(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", method, c.scrub(err))
	}
	return answerError(method, resp.StatusCode, b)
}

// okPrefix starts every successful answer as Telegram writes it; anything else is decoded in full.
var okPrefix = []byte(`{"ok":true,`)

// answerError turns a Bot API answer into nil or go-telegram's error for it.
func answerError(method string, status int, b []byte) error {
	if status == http.StatusOK && bytes.HasPrefix(b, okPrefix) {
		return nil
	}
	var a apiAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("%s: HTTP %d and an answer that is not JSON: %w", method, status, err)
	}
	if a.OK {
		return nil
	}
	switch a.ErrorCode {
	case http.StatusTooManyRequests:
		return &tg.TooManyRequestsError{Message: tg.ErrorTooManyRequests.Error() + ", " + a.Description, RetryAfter: a.Parameters.RetryAfter}
	case http.StatusForbidden:
		return fmt.Errorf("%w, %s", tg.ErrorForbidden, a.Description)
	case http.StatusBadRequest:
		return fmt.Errorf("%w, %s", tg.ErrorBadRequest, a.Description)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w, %s", tg.ErrorUnauthorized, a.Description)
	case http.StatusNotFound:
		return fmt.Errorf("%w, %s", tg.ErrorNotFound, a.Description)
	case http.StatusConflict:
		return fmt.Errorf("%w, %s", tg.ErrorConflict, a.Description)
	}
	return fmt.Errorf("%s: Telegram answered %d %s", method, a.ErrorCode, a.Description)
}

// scrub keeps the bot token out of an error: net/http puts the request's URL in its errors.
func (c *apiClient) scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && c.token != "" {
		ue.URL = strings.ReplaceAll(ue.URL, c.token, "***")
	}
	return err
}
