package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Ensure WriteJSONTagged tags its answer, answers 304 with no body to a
// request holding the tag (among others, weak or not), and 200 with the
// body once the value changed.
func TestWriteJSONTagged(t *testing.T) {
	get := func(v any, inm string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/api/settings", nil)
		if inm != "" {
			r.Header.Set("If-None-Match", inm)
		}
		w := httptest.NewRecorder()
		WriteJSONTagged(w, r, v)
		return w
	}
	first := get(map[string]string{"shop_name": "A"}, "")
	tag := first.Header().Get("ETag")
	if first.Code != http.StatusOK || tag == "" || first.Body.String() != "{\"shop_name\":\"A\"}\n" {
		t.Fatalf("first: %d %q %q", first.Code, tag, first.Body)
	}
	for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
		if w := get(map[string]string{"shop_name": "A"}, inm); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("If-None-Match %s: %d %q", inm, w.Code, w.Body)
		}
	}
	changed := get(map[string]string{"shop_name": "B"}, tag)
	if changed.Code != http.StatusOK || changed.Header().Get("ETag") == tag {
		t.Fatalf("changed: %d, tag %q", changed.Code, changed.Header().Get("ETag"))
	}
	if get(map[string]string{"shop_name": "A"}, `"other"`).Code != http.StatusOK {
		t.Fatal("a foreign tag matched")
	}
}
