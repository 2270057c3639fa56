package slack

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
)

// errAttr drops the URL of every *url.Error in an error's tree, joined and wrapped ones included,
// and keeps what went wrong.
func TestErrAttrDropsURLs(t *testing.T) {
	hook := "https://hooks.slack.com/actions/T1/2/s3cr3t"
	up := "https://files.slack.com/upload/v1/0ther"
	err := errors.Join(fmt.Errorf("post summary:x:0: %w", &url.Error{Op: "Post", URL: hook, Err: io.ErrUnexpectedEOF}),
		fmt.Errorf("upload: %w", fmt.Errorf("failed: %w", &url.Error{Op: "Post", URL: up, Err: errors.New("connection reset")})))
	got := errAttr(err).Value.String()
	if strings.Contains(got, "s3cr3t") || strings.Contains(got, "0ther") || strings.Contains(got, "slack.com") {
		t.Errorf("errAttr = %q", got)
	}
	for _, want := range []string{"post summary:x:0: Post: unexpected EOF", "upload: failed: Post: connection reset"} {
		if !strings.Contains(got, want) {
			t.Errorf("errAttr = %q, want %q in it", got, want)
		}
	}
}
