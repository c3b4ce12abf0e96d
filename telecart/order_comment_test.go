package telecart_test

import (
	"net/http"
	"testing"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
)

// Ensure the comment the host receives lists the checkout's other fields by
// their labels, in the form's order, with choices by their option label,
// and leaves out empty values and unticked boxes.
func TestOrderComment(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		buyer := s.initData(2001, "Boris", "")
		s.must(t, "PUT", "/admin/api/forms/checkout", "", true, map[string]any{"title": "Checkout", "schema": []map[string]any{
			{"$formkit": "text", "name": "name", "label": "Name", "labels": map[string]string{"ru": "Имя"}, "validation": "required"},
			{"$formkit": "tel", "name": "phone", "label": "Phone", "validation": "required"},
			{"$formkit": "select", "name": "delivery", "label": "Delivery", "labels": map[string]string{"ru": "Доставка"},
				"options":       []map[string]string{{"label": "Courier", "value": "courier"}, {"label": "Pickup point", "value": "pickup"}},
				"option_labels": map[string]map[string]string{"ru": {"pickup": "Пункт выдачи"}}},
			{"$formkit": "text", "name": "intercom", "label": "Intercom code"},
			{"$formkit": "checkbox", "name": "gift", "label": "Gift wrap"},
			{"$formkit": "checkbox", "name": "call", "label": "Call first"},
			{"$formkit": "number", "name": "floor", "label": "  "},
			{"$formkit": "date", "name": "day", "label": "Delivery day"},
			{"$formkit": "textarea", "name": "comment", "label": "Comment"},
			{"$formkit": "radio", "name": "bag", "label": "Bag", "options": []string{"paper", "none"}},
		}}, http.StatusOK, nil)

		for _, tc := range []struct {
			name   string
			fields map[string]any
			want   string
		}{
			{"OK", map[string]any{"name": "Boris", "phone": "+7 900 000-00-00", "comment": "Ring twice", "bag": "paper",
				"delivery": "pickup", "intercom": "", "gift": true, "call": false, "floor": "3", "day": "2027-01-05"},
				"Ring twice\n\nDelivery: Pickup point\nGift wrap: ✓\nfloor: 3\nDelivery day: 2027-01-05\nBag: paper"},
			{"NoComment", map[string]any{"name": "Boris", "phone": "+7 900 000-00-00", "delivery": "courier"},
				"Delivery: Courier"},
			{"NothingElse", map[string]any{"name": "Boris", "phone": "+7 900 000-00-00", "comment": "Just this", "intercom": "  "},
				"Just this"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body := map[string]any{"order_key": "comment-test-" + tc.name, "items": []map[string]any{item("p1", 1)}, "fields": tc.fields}
				s.must(t, "POST", "/api/orders", buyer, false, body, http.StatusCreated, nil)
				s.placer.mu.Lock()
				got := s.placer.last.Comment
				s.placer.mu.Unlock()
				if got != tc.want {
					t.Errorf("comment:\n got %q\nwant %q", got, tc.want)
				}
			})
		}
	})
}
