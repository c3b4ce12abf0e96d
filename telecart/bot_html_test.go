package telecart_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telecart"
)

// Ensure a broadcast whose text is not Telegram HTML is refused with a 422
// naming the problem on the text field, and nothing is stored; a valid one
// is a draft.
func TestBroadcastHTML(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShopWith(t, db, func(c *telecart.Config) { c.PublicURL = "https://shop.example" })
		for _, tt := range []struct{ text, want string }{
			{"<img src=x>", "unsupported tag <img> at character 1"},
			{"Sale: 10% off <b>today", "<b> is never closed; add </b> at character 15"},
			{"Tea & cakes", `unescaped "&"; write &amp; at character 5`},
		} {
			status, raw := s.call(t, http.MethodPost, "/admin/api/broadcasts", "", true, map[string]any{"text": tt.text})
			var e apiError
			if err := json.Unmarshal(raw, &e); err != nil || status != http.StatusUnprocessableEntity {
				t.Fatalf("broadcast %q = %d %s, want 422", tt.text, status, raw)
			}
			if e.Error.Code != "invalid_html" || !strings.Contains(e.Error.Fields["text"], tt.want) {
				t.Errorf("broadcast %q: %+v, want fields.text naming %q", tt.text, e.Error, tt.want)
			}
		}
		var b struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		}
		s.must(t, http.MethodPost, "/admin/api/broadcasts", "", true,
			map[string]any{"text": `<b>Sale</b> at <a href="https://shop.example/?a=1&b=2">Tea &amp; Co</a> &#8381;`}, http.StatusCreated, &b)
		if b.Status != "draft" {
			t.Errorf("valid broadcast: %+v", b)
		}
		if n := s.count(t, "telecart_broadcasts", ""); n != 1 {
			t.Errorf("%d broadcasts stored, want 1", n)
		}
	})
}

// Ensure a notice template that would make notices Telegram refuses is
// refused when the settings are saved and when previewed, on its own field
// with the position in the template; placeholders, whose values are
// escaped, are fine anywhere, also inside a link.
func TestNoticeTemplateHTML(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		put := func(owner map[string]string) (int, apiError) {
			t.Helper()
			var cur map[string]any
			s.must(t, http.MethodGet, "/admin/api/settings", "", true, nil, http.StatusOK, &cur)
			n, _ := cur["notifications"].(map[string]any)
			if n == nil {
				n = map[string]any{}
			}
			n["owner"] = owner
			cur["notifications"] = n
			status, raw := s.call(t, http.MethodPut, "/admin/api/settings", "", true, cur)
			var e apiError
			_ = json.Unmarshal(raw, &e)
			return status, e
		}
		for _, tt := range []struct{ tpl, want string }{
			{"New order <b>{order_id}", "<b> is never closed; add </b> at character 11"},
			{"{shop_name} <br> {total}", "unsupported tag <br> at character 13"},
			{"{customer} & {total}", `unescaped "&"; write &amp; at character 12`},
		} {
			status, e := put(map[string]string{"en": tt.tpl})
			if status != http.StatusUnprocessableEntity || !strings.Contains(e.Error.Fields["notifications.owner.en"], tt.want) {
				t.Errorf("PUT template %q = %d %+v, want 422 naming %q", tt.tpl, status, e.Error, tt.want)
			}
			var pe apiError
			s.must(t, http.MethodPost, "/admin/api/notifications/preview", "", true, map[string]string{"template": tt.tpl},
				http.StatusUnprocessableEntity, &pe)
			if !strings.Contains(pe.Error.Fields["template"], tt.want) {
				t.Errorf("preview of %q: %+v, want fields.template naming %q", tt.tpl, pe.Error, tt.want)
			}
		}
		const good = `<b>#{order_id}</b> from <a href="https://t.me/{customer}">{customer}</a>: {total}` + "\n{items}\n{fields}\n{date} &lt;3"
		if status, e := put(map[string]string{"en": good}); status != http.StatusOK {
			t.Fatalf("PUT a valid template = %d %+v", status, e.Error)
		}
		var cur struct {
			Notifications telecart.Notifications `json:"notifications"`
		}
		s.must(t, http.MethodGet, "/admin/api/settings", "", true, nil, http.StatusOK, &cur)
		if cur.Notifications.Owner["en"] != good {
			t.Errorf("stored template %q", cur.Notifications.Owner["en"])
		}
	})
}
