package telecart_test

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
)

// Ensure the admin panel and the storefront serve the one shared DOM
// builder, web/shared/js/h.js, byte for byte under each page's prefix and
// CSP, and that each page's dom.js takes h() from it instead of defining
// its own.
func TestPagesShareTheDOMBuilder(t *testing.T) {
	s := newPlugShop(t, migratortest.MustOpenDB(t, migrator.SQLite))
	shared, err := os.ReadFile("web/shared/js/h.js")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (string, http.Header) {
		t.Helper()
		resp, err := http.Get(s.server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d, %v", path, resp.StatusCode, err)
		}
		return string(b), resp.Header
	}
	csp := map[string]string{}
	for _, page := range []string{"admin", "app"} {
		body, h := get("/" + page + "/js/h.js")
		if body != string(shared) {
			t.Errorf("/%s/js/h.js is not web/shared/js/h.js", page)
		}
		if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("/%s/js/h.js: Content-Type %q", page, ct)
		}
		csp[page] = h.Get("Content-Security-Policy")
		if !strings.Contains(csp[page], "script-src 'self'") {
			t.Errorf("/%s/js/h.js: CSP %q", page, csp[page])
		}
		if _, err := os.Stat("web/" + page + "/js/h.js"); err == nil {
			t.Errorf("web/%s/js/h.js exists and would be hidden by the shared one", page)
		}
		dom, _ := get("/" + page + "/js/dom.js")
		if !strings.Contains(dom, "export { h, s, append, clear, safeURL } from './h.js';") {
			t.Errorf("/%s/js/dom.js does not re-export the shared builder", page)
		}
		if m := regexp.MustCompile(`function (h|s|append|clear|safeURL|build|setAttrs)\(`).FindString(dom); m != "" {
			t.Errorf("/%s/js/dom.js defines %s itself", page, m)
		}
	}
	if csp["admin"] == csp["app"] {
		t.Error("the pages' CSPs are the same; each page should keep its own")
	}
	// The pages' other files are still their own.
	if body, _ := get("/admin/js/app.js"); !strings.Contains(body, "import") {
		t.Error("/admin/js/app.js is not the admin panel's")
	}
}
