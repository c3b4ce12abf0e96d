package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/telecart-go/telecart/internal/browsertest"
)

// Ensure the harness drives a real page: a script's result is read back.
func TestBrowserRuns(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>t</title><p id="x"></p><script>document.getElementById("x").textContent = String(6*7)</script>`)
	}))
	defer srv.Close()
	ctx := browsertest.New(t, 30*time.Second)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible("#x")); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text("#x"))
	if err != nil || got != "42" {
		t.Fatalf("text = %q, %v; want 42", got, err)
	}
	browsertest.Screenshot(t, ctx, "page")
}
