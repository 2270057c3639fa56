// Package fakeslack is a fake Slack Web API for tests: slack-go's slacktest server with handlers
// for what palaute uses, speaking Slack's wire format, recording what arrives, and refusing on demand
// (HTTP 429 with Retry-After, 5xx, or a Slack error code). slacktest's own chat.postMessage records
// nothing, hence these handlers.
package fakeslack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// Server answers chat.postMessage (form in, {"ok":true,"channel":<id>,"ts":...} out; a channel name
// "#x" is answered with the id "CX") and the file upload API (files.getUploadURLExternal gives an upload
// URL on the same host, the file is POSTed there as multipart, files.completeUploadExternal shares it
// to a channel id, never a name). Each method can be told to refuse its next calls.
type Server struct {
	mu      sync.Mutex
	srv     *slacktest.Server
	posts   []url.Values        // accepted chat.postMessage calls
	files   []Upload            // completed uploads
	bytes   map[string][]byte   // file id -> uploaded bytes
	tries   map[string]int      // method -> calls
	refuse  map[string][]string // method -> next answers: "429", "500", or a Slack error code
	nextID  int
	pending map[string]string // file id -> filename, between getUploadURLExternal and complete
}

// Upload is a completed file upload.
type Upload struct {
	Channel, FileID, Title string
	Bytes                  []byte
}

// New starts a fake Slack, stopped when the test ends.
func New(tb testing.TB) *Server {
	f := &Server{bytes: map[string][]byte{}, tries: map[string]int{}, refuse: map[string][]string{}, pending: map[string]string{}}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", f.postMessage)
		c.Handle("/files.getUploadURLExternal", f.getUploadURL)
		c.Handle("/upload/", f.upload)
		c.Handle("/files.completeUploadExternal", f.complete)
	})
	f.srv.Start()
	tb.Cleanup(f.srv.Stop)
	return f
}

// API is a slack-go client of the fake.
func (f *Server) API() *slackapi.Client {
	return slackapi.New("xoxb-test", slackapi.OptionAPIURL(f.srv.GetAPIURL()))
}

// ChannelID is the id Slack answers for a channel name ("#kotipesa" -> "CKOTIPESA").
func ChannelID(ch string) string {
	if strings.HasPrefix(ch, "C") {
		return ch
	}
	return "C" + strings.ToUpper(strings.TrimPrefix(ch, "#"))
}

// refused counts the call and answers a refusal if one is queued for the method.
func (f *Server) refused(w http.ResponseWriter, method string) bool {
	f.tries[method]++
	q := f.refuse[method]
	if len(q) == 0 {
		return false
	}
	f.refuse[method] = q[1:]
	switch code := q[0]; code {
	case "429":
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
	case "500":
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "<html>oops</html>")
	case "drop": // the connection breaks: the client's error is a *url.Error quoting the URL
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
	default:
		slackError(w, code)
	}
	return true
}

// slackError answers as Slack refuses a call: HTTP 200 with {"ok":false,"error":code}.
func slackError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":false,"error":%q}`, code)
}

func (f *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refused(w, "chat.postMessage") {
		return
	}
	f.posts = append(f.posts, r.Form)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"%d.000100"}`, ChannelID(r.Form.Get("channel")), len(f.posts))
}

func (f *Server) getUploadURL(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refused(w, "files.getUploadURLExternal") {
		return
	}
	if r.Form.Get("filename") == "" || r.Form.Get("length") == "" {
		slackError(w, "invalid_arguments")
		return
	}
	f.nextID++
	id := "F" + strconv.Itoa(f.nextID)
	f.pending[id] = r.Form.Get("filename")
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":true,"upload_url":%q,"file_id":%q}`, f.srv.GetAPIURL()+"upload/"+id, id)
}

func (f *Server) upload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	file, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "no file", http.StatusBadRequest)
		return
	}
	b, _ := io.ReadAll(file)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refused(w, "upload") {
		return
	}
	if _, ok := f.pending[id]; !ok {
		http.Error(w, "unknown upload", http.StatusNotFound)
		return
	}
	f.bytes[id] = b
	io.WriteString(w, "OK - "+strconv.Itoa(len(b)))
}

func (f *Server) complete(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refused(w, "files.completeUploadExternal") {
		return
	}
	var files []struct{ ID, Title string }
	if err := json.Unmarshal([]byte(r.Form.Get("files")), &files); err != nil || len(files) != 1 {
		slackError(w, "invalid_arguments")
		return
	}
	b, ok := f.bytes[files[0].ID]
	if !ok {
		slackError(w, "file_not_found")
		return
	}
	ch := r.Form.Get("channel_id")
	if !strings.HasPrefix(ch, "C") { // Slack wants a channel id here, not a name
		slackError(w, "channel_not_found")
		return
	}
	f.files = append(f.files, Upload{Channel: ch, FileID: files[0].ID, Title: files[0].Title, Bytes: b})
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":true,"files":[{"id":%q,"title":%q}]}`, files[0].ID, files[0].Title)
}

// URL is the API URL (slack.api_url).
func (f *Server) URL() string { return f.srv.GetAPIURL() }

// Snapshot returns the accepted posts, the completed uploads and the calls per method
// ("chat.postMessage", "files.getUploadURLExternal", "upload", "files.completeUploadExternal").
func (f *Server) Snapshot() (posts []url.Values, files []Upload, tries map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tries = map[string]int{}
	for k, v := range f.tries {
		tries[k] = v
	}
	return append([]url.Values(nil), f.posts...), append([]Upload(nil), f.files...), tries
}

// Texts are the texts of the accepted posts to channel (as the client named it, e.g. "#kotipesa"), in
// the order they arrived.
func (f *Server) Texts(channel string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.posts {
		if p.Get("channel") == channel {
			out = append(out, p.Get("text"))
		}
	}
	return out
}

// RefuseNext makes method answer its next calls with answers, one a call: "429" (with Retry-After: 3),
// "500", "drop" (the connection is closed without an answer), or a Slack error code such as
// "channel_not_found". "upload" (the POST to the upload URL) takes the first three.
func (f *Server) RefuseNext(method string, answers ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse[method] = append(f.refuse[method], answers...)
}
