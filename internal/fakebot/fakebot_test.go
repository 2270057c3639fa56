package fakebot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// The fast form reader reads what mime/multipart reads, and leaves to it what it does not understand.
func TestSimpleFormAgreesWithMultipart(t *testing.T) {
	type field struct{ name, value string }
	for _, tc := range []struct {
		name   string
		fields []field
		file   bool
		ok     bool
	}{
		{"fields", []field{{"chat_id", "42"}, {"text", "Hei!\r\n--not a delimiter\r\n\"quoted\" 🙂"}, {"reply_markup", `{"inline_keyboard":[]}`}}, false, true},
		{"empty value", []field{{"text", ""}, {"chat_id", "1"}}, false, true},
		{"repeated name", []field{{"a", "1"}, {"a", "2"}}, false, true},
		{"no fields", nil, false, true},
		{"a file", []field{{"chat_id", "42"}}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			w := multipart.NewWriter(&b)
			for _, f := range tc.fields {
				w.WriteField(f.name, f.value)
			}
			if tc.file {
				fw, _ := w.CreateFormFile("photo", "a.png")
				fw.Write([]byte("PNG"))
			}
			w.Close()
			want, err := multipart.NewReader(bytes.NewReader(b.Bytes()), w.Boundary()).ReadForm(1 << 20)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := simpleForm(b.Bytes(), w.Boundary())
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if ok && !(len(got) == 0 && len(want.Value) == 0) && !reflect.DeepEqual(got, url.Values(want.Value)) {
				t.Fatalf("got %q, want %q", got, want.Value)
			}
			if _, ok := simpleForm(b.Bytes()[:b.Len()/2], w.Boundary()); ok && len(tc.fields) > 0 {
				t.Fatal("a cut body was read as whole")
			}
		})
	}
}

// What the fake answers to a send is a Message the Telegram client reads, with the text as sent.
func TestSendAnswersAMessage(t *testing.T) {
	s := New().Record()
	api := httptest.NewServer(s)
	defer api.Close()
	b, err := tg.New("1:T", tg.WithServerURL(api.URL), tg.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	text := "Kiitos! \"Lainaus\" \\ \t rivi\nrivi 😄 <b>&"
	inbox := s.Inbox("77")
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "😐", CallbackData: "r.0.3"}}}}
	m, err := b.SendMessage(context.Background(), &tg.SendMessageParams{ChatID: "77", Text: text, ReplyMarkup: kb})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 1001 || m.Chat.ID != 77 || m.Text != text || m.ReplyMarkup == nil || m.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "r.0.3" {
		t.Fatalf("message %+v", m)
	}
	got := <-inbox
	if got.Text != text || len(got.Buttons) != 1 || got.Buttons[0].Data != "r.0.3" {
		t.Fatalf("inbox got %+v", got)
	}
	if _, err := b.AnswerCallbackQuery(context.Background(), &tg.AnswerCallbackQueryParams{CallbackQueryID: "c"}); err != nil {
		t.Fatal(err)
	}
	if c := s.Counts(); c["sendMessage"] != 1 || c["answerCallbackQuery"] != 1 {
		t.Fatalf("counts %v", c)
	}
	if r := s.Recorded("sendMessage"); len(r) != 1 || r[0].Values.Get("text") != text || r[0].Status != http.StatusOK {
		t.Fatalf("recorded %+v", r)
	}
	// A 429 is not counted as answered.
	s.Throttle(1, 3)
	_, err = b.SendMessage(context.Background(), &tg.SendMessageParams{ChatID: "77", Text: "x"})
	var tm *tg.TooManyRequestsError
	if !errors.As(err, &tm) || tm.RetryAfter != 3 || s.Counts()["sendMessage"] != 1 {
		t.Fatalf("throttled: %v, counts %v", err, s.Counts())
	}
	var v map[string]any
	if err := json.Unmarshal(message(5, "77", text, ""), &v); err != nil || !strings.Contains(string(message(5, "x", "", "")), `"chat":{"id":0`) {
		t.Fatalf("message JSON: %v", err)
	}
}

// A method in a webhook's answer runs as Telegram runs it: recorded, counted apart, a send shown in the
// chat; an answer with no method, or not JSON, does nothing.
func TestWebhookAnswer(t *testing.T) {
	s := New().Record()
	s.WebhookAnswer("application/json", []byte(`{"method":"answerCallbackQuery","callback_query_id":"cb7","text":"Kiitos"}`))
	s.WebhookAnswer("application/json; charset=utf-8", []byte(`{"method":"sendMessage","chat_id":42,"text":"Hei","reply_markup":{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}}`))
	s.WebhookAnswer("text/plain", []byte(`{"method":"sendMessage","chat_id":42,"text":"no"}`))
	s.WebhookAnswer("application/json", nil)
	s.WebhookAnswer("application/json", []byte(`{"ok":true}`))
	calls := s.Recorded()
	if len(calls) != 2 || !calls[0].InAnswer || calls[0].Method != "answerCallbackQuery" ||
		calls[0].Values.Get("callback_query_id") != "cb7" || calls[0].Values.Get("text") != "Kiitos" || calls[0].Values.Has("method") {
		t.Fatalf("recorded %+v", calls)
	}
	if got := s.Counts(); got["answerCallbackQuery"+InAnswerSuffix] != 1 || got["answerCallbackQuery"] != 0 {
		t.Fatalf("counts %v", got)
	}
	select {
	case m := <-s.Inbox("42"):
		if m.Text != "Hei" || len(m.Buttons) != 1 || m.Buttons[0].Data != "a" {
			t.Fatalf("chat shows %+v", m)
		}
	default:
		t.Fatal("a sendMessage in a webhook answer did not reach the chat")
	}
}
