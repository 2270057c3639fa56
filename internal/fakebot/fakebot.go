// Package fakebot is a small, fast fake of the Telegram Bot API for the load tool: it answers every method
// in the real wire format (multipart or JSON requests to /bot<token>/<method>, {"ok":true,"result":...}),
// hands out message ids per chat, and tells a waiting driver what the bot sent to each chat.
package fakebot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sent is one message the bot sent or edited.
type Sent struct {
	Method  string
	ChatID  string
	Text    string
	Buttons []Button // inline keyboard, flattened
}

// Button is an inline keyboard button.
type Button struct {
	Text string `json:"text"`
	Data string `json:"callback_data"`
}

// Call is one recorded API request.
type Call struct {
	Method   string
	Values   url.Values
	At       time.Time
	Status   int  // the HTTP status answered
	InAnswer bool // given in the answer to a webhook request, not requested (see WebhookAnswer)
}

// InAnswerSuffix marks, in Counts, the methods given in webhook answers.
const InAnswerSuffix = " (in webhook answers)"

// Server is the fake API.
type Server struct {
	mu      sync.Mutex
	msgIDs  map[string]int
	waiters map[string]chan Sent
	counts  map[string]int64 // calls answered 200, by method
	Calls   atomic.Int64

	record    bool
	calls     []Call
	throttle  int           // answer this many next sends with 429
	retry     int           // retry_after of those 429s
	fail      int           // answer this many next sends with 500
	perSecond int           // enforce a global send rate with 429s (0: none)
	slow      time.Duration // answer sends and edits this much later
	window    []time.Time
	updates   []json.RawMessage
	updateIDs []int64
	newUpdate chan struct{}
}

// Record makes the server keep every call (for tests).
func (s *Server) Record() *Server { s.record = true; return s }

// Throttle answers the next n sends with 429 Too Many Requests, retry_after seconds.
func (s *Server) Throttle(n, retryAfter int) {
	s.mu.Lock()
	s.throttle, s.retry = n, retryAfter
	s.mu.Unlock()
}

// Fail answers the next n sends with 500.
func (s *Server) Fail(n int) { s.mu.Lock(); s.fail = n; s.mu.Unlock() }

// Slow answers every send and edit d later (a Bot API far away or busy).
func (s *Server) Slow(d time.Duration) { s.mu.Lock(); s.slow = d; s.mu.Unlock() }

// Limit enforces a global rate of messages (sends and edits) per second in any one second, answering 429
// beyond it like Telegram. Answers to button presses and deletions are not messages and are not counted.
func (s *Server) Limit(perSecond int) { s.mu.Lock(); s.perSecond = perSecond; s.mu.Unlock() }

// Push queues an update for getUpdates (its update_id decides when it is confirmed).
func (s *Server) Push(update any) {
	b, _ := json.Marshal(update)
	var head struct {
		ID int64 `json:"update_id"`
	}
	_ = json.Unmarshal(b, &head)
	id := head.ID
	s.mu.Lock()
	s.updates = append(s.updates, b)
	s.updateIDs = append(s.updateIDs, id)
	if s.newUpdate == nil {
		s.newUpdate = make(chan struct{}, 1)
	}
	select {
	case s.newUpdate <- struct{}{}:
	default:
	}
	s.mu.Unlock()
}

// Recorded returns the recorded calls of the given methods (all when none given).
func (s *Server) Recorded(methods ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(methods) == 0 || contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// getUpdates answers the queued updates from offset on, waiting a little when there are none.
func (s *Server) getUpdates(w http.ResponseWriter, vals url.Values) {
	offset, _ := strconv.ParseInt(vals.Get("offset"), 10, 64)
	for wait := 0; wait < 2; wait++ {
		s.mu.Lock()
		var out []json.RawMessage
		for i, id := range s.updateIDs {
			if id >= offset {
				out = append(out, s.updates[i])
			}
		}
		if s.newUpdate == nil {
			s.newUpdate = make(chan struct{}, 1)
		}
		ch := s.newUpdate
		s.mu.Unlock()
		if len(out) > 0 || wait == 1 {
			b, _ := json.Marshal(map[string]any{"ok": true, "result": out})
			w.Write(b)
			return
		}
		select {
		case <-ch:
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// refuse decides whether this send gets a 429 or 500.
func (s *Server) refuse(w http.ResponseWriter, method string) bool {
	if method == "getUpdates" || method == "getMe" || method == "setMyCommands" || method == "setWebhook" || method == "deleteWebhook" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	tooMany := false
	if s.throttle > 0 {
		s.throttle--
		tooMany = true
	} else if s.perSecond > 0 && shows(method) {
		for len(s.window) > 0 && now.Sub(s.window[0]) >= time.Second {
			s.window = s.window[1:]
		}
		if len(s.window) >= s.perSecond {
			tooMany, s.retry = true, 1
		} else {
			s.window = append(s.window, now)
		}
	}
	if tooMany {
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, s.retry, s.retry)
		s.note(method, nil, http.StatusTooManyRequests)
		return true
	}
	if s.fail > 0 {
		s.fail--
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
		s.note(method, nil, http.StatusInternalServerError)
		return true
	}
	return false
}

// note records a call; s.mu is held.
func (s *Server) note(method string, vals url.Values, status int) {
	if s.record {
		s.calls = append(s.calls, Call{Method: method, Values: vals, At: time.Now(), Status: status})
	}
}

// WebhookAnswer does what Telegram does with the answer to a webhook request: a JSON object naming a
// method runs that method, as if it were requested (its result is not told to anyone). It is recorded with
// InAnswer set and counted under the method's name plus InAnswerSuffix. Any other answer does nothing.
func (s *Server) WebhookAnswer(contentType string, body []byte) {
	if ct, _, _ := mime.ParseMediaType(contentType); ct != "application/json" || len(bytes.TrimSpace(body)) == 0 {
		return
	}
	vals, err := jsonValues(bytes.NewReader(body))
	if err != nil || vals.Get("method") == "" {
		return
	}
	method := vals.Get("method")
	vals.Del("method")
	s.Calls.Add(1)
	s.mu.Lock()
	_, inbox := s.apply(method, vals, true)
	s.mu.Unlock()
	if inbox != nil {
		select {
		case inbox <- sent(method, vals):
		default:
		}
	}
}

// shows says whether a method shows something in the chat: a message sent or edited.
func shows(method string) bool {
	return method == "sendMessage" || method == "editMessageText" || method == "editMessageReplyMarkup"
}

// apply does a successful call's bookkeeping with s.mu held: it is counted (a method run from a webhook
// answer under its name plus InAnswerSuffix) and recorded, and a sent message gets the chat's next id. It
// returns the message id to answer with, and the chat's inbox when the method shows in the chat.
func (s *Server) apply(method string, vals url.Values, inAnswer bool) (id int, inbox chan Sent) {
	if inAnswer {
		s.count(method + InAnswerSuffix)
	} else {
		s.count(method)
	}
	if s.record {
		s.calls = append(s.calls, Call{Method: method, Values: vals, At: time.Now(), Status: http.StatusOK, InAnswer: inAnswer})
	}
	id = atoi(vals.Get("message_id"))
	if shows(method) {
		chat := vals.Get("chat_id")
		if method == "sendMessage" {
			s.msgIDs[chat]++
			id = s.msgIDs[chat] + 1000
		}
		inbox = s.inbox(chat)
	}
	return id, inbox
}

// sent is what a send or an edit shows in the chat.
func sent(method string, vals url.Values) Sent {
	m := Sent{Method: method, ChatID: vals.Get("chat_id"), Text: vals.Get("text")}
	if rm := vals.Get("reply_markup"); rm != "" {
		var kb struct {
			InlineKeyboard [][]Button `json:"inline_keyboard"`
		}
		_ = json.Unmarshal([]byte(rm), &kb)
		for _, row := range kb.InlineKeyboard {
			m.Buttons = append(m.Buttons, row...)
		}
	}
	return m
}

// New returns an empty fake.
func New() *Server {
	return &Server{msgIDs: map[string]int{}, waiters: map[string]chan Sent{}}
}

// Inbox returns the channel that receives what the bot sends to chat (created on first use).
func (s *Server) Inbox(chat string) chan Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inbox(chat)
}

// inbox is Inbox with s.mu held.
func (s *Server) inbox(chat string) chan Sent {
	ch, ok := s.waiters[chat]
	if !ok {
		ch = make(chan Sent, 64)
		s.waiters[chat] = ch
	}
	return ch
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Calls.Add(1)
	i := strings.LastIndex(r.URL.Path, "/")
	method := r.URL.Path[i+1:]
	vals, err := form(r)
	if err != nil {
		http.Error(w, `{"ok":false,"error_code":400,"description":"Bad Request"}`, http.StatusBadRequest)
		return
	}
	chat := vals.Get("chat_id")
	w.Header().Set("Content-Type", "application/json")
	if s.refuse(w, method) {
		return
	}
	if method == "getUpdates" {
		s.getUpdates(w, vals)
		return
	}
	send := shows(method)
	s.mu.Lock()
	id, inbox := s.apply(method, vals, false)
	slow := s.slow
	s.mu.Unlock()
	if send && slow > 0 {
		time.Sleep(slow)
	}
	switch {
	case method == "getMe":
		io.WriteString(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"palaute","username":"palaute_bot"}}`)
		return
	case send:
		m := sent(method, vals)
		select {
		case inbox <- m:
		default: // nobody reads this chat: drop
		}
		w.Write(message(id, chat, m.Text, vals.Get("reply_markup")))
		return
	}
	io.WriteString(w, `{"ok":true,"result":true}`)
}

// message is the answer to a send or an edit: the Message as Telegram returns it (the bot as sender, the
// private chat, the text and the keyboard echoed), written without reflection so that the fake stays cheap.
func message(id int, chat, text, replyMarkup string) []byte {
	b := make([]byte, 0, 256+len(text)+len(replyMarkup))
	b = append(b, `{"ok":true,"result":{"message_id":`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `,"from":{"id":1,"is_bot":true,"first_name":"palaute","username":"palaute_bot"},"chat":{"id":`...)
	if _, err := strconv.ParseInt(chat, 10, 64); err == nil {
		b = append(b, chat...)
	} else {
		b = append(b, '0')
	}
	b = append(b, `,"first_name":"Load","type":"private"},"date":`...)
	b = strconv.AppendInt(b, time.Now().Unix(), 10)
	b = append(b, `,"text":`...)
	b = appendJSONString(b, text)
	if replyMarkup != "" { // the client's JSON, as it came
		b = append(b, `,"reply_markup":`...)
		b = append(b, replyMarkup...)
	}
	return append(b, "}}"...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// count adds one call of method; s.mu is held.
func (s *Server) count(method string) {
	if s.counts == nil {
		s.counts = map[string]int64{}
	}
	s.counts[method]++
}

// Counts returns how many calls of each method were answered 200.
func (s *Server) Counts() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// simpleForm reads a multipart/form-data body whose parts are plain fields (a Content-Disposition header
// with a name, no file, no other header), as the Bot API client sends them; ok is false for anything else,
// which the standard reader then reads. It is the fake's hot path, at a fraction of mime/multipart's work.
func simpleForm(body []byte, boundary string) (v url.Values, ok bool) {
	delim := []byte("\r\n--" + boundary)
	body = bytes.TrimPrefix(body, []byte("\r\n")) // an empty form starts with one
	if boundary == "" || !bytes.HasPrefix(body, delim[2:]) {
		return nil, false
	}
	const cd = `Content-Disposition: form-data; name="`
	v = url.Values{}
	rest := body[len(delim)-2:] // after the first delimiter
	for {
		if bytes.HasPrefix(rest, []byte("--")) {
			return v, true // the closing delimiter
		}
		part, ok := bytes.CutPrefix(rest, []byte("\r\n"))
		if !ok {
			return nil, false
		}
		head, after, ok := bytes.Cut(part, []byte("\r\n\r\n"))
		if !ok || !bytes.HasPrefix(head, []byte(cd)) || !bytes.HasSuffix(head, []byte(`"`)) {
			return nil, false
		}
		name := string(head[len(cd) : len(head)-1])
		if strings.ContainsAny(name, "\"\r\n") {
			return nil, false // a filename, or another header
		}
		val, next, ok := bytes.Cut(after, delim)
		if !ok {
			return nil, false
		}
		v[name] = append(v[name], string(val))
		rest = next
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// jsonValues reads a JSON object into values as the Bot API reads its parameters: strings and numbers as
// they are, objects and arrays (reply_markup, message_ids) as JSON.
func jsonValues(r io.Reader) (url.Values, error) {
	var m map[string]json.RawMessage
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, err
	}
	v := make(url.Values, len(m))
	for k, raw := range m {
		var str string
		switch {
		case json.Unmarshal(raw, &str) == nil:
			v.Set(k, str)
		default:
			v.Set(k, string(raw)) // a number as written, an object or an array as JSON
		}
	}
	return v, nil
}

// form reads a multipart, urlencoded or JSON request body into values.
func form(r *http.Request) (url.Values, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case strings.HasPrefix(ct, "multipart/"):
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			return nil, err
		}
		if v, ok := simpleForm(body, params["boundary"]); ok {
			return v, nil
		}
		f, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(8 << 20)
		if err != nil {
			return nil, err
		}
		return url.Values(f.Value), nil
	case ct == "application/json":
		return jsonValues(r.Body)
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.Form, nil
}
