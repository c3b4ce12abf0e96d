package botapi

import (
	"net/url"
	"strings"
	"testing"
)

// TestScrub ensures a token with characters escaped in URLs is scrubbed in
// both forms.
func TestScrub(t *testing.T) {
	t.Parallel()
	tok := "123:secret_Token+é"
	msg := scrub("Post http://x/bot"+tok+"/m and http://x/bot"+url.PathEscape(tok)+"/m", tok)
	if strings.Contains(msg, "secret_Token") {
		t.Fatalf("scrubbed message still has the token: %s", msg)
	}
}
