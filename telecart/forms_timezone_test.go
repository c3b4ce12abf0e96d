package telecart_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/telecart-go/telecart/forms"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telecart"
)

// Ensure the checkout's date rules read "today" in the shop's time zone
// from the settings, and the storefront is told that zone with the form.
func TestCheckoutDatesInShopTimeZone(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		ctx := context.Background()
		// The shop's clock reads 10:00 UTC on 26 November: already 27
		// November at UTC+14.
		checkout := forms.DefaultCheckout()
		checkout.Schema = append(checkout.Schema, forms.Node{Type: forms.TypeDate, Name: "day", Label: "Day", Validation: "date_after"})
		s.must(t, "PUT", "/admin/api/forms/checkout", "", true, checkout, http.StatusOK, nil)
		d, err := s.tc.Validator().Validate(s.initData(2003, "Zone", ""))
		if err != nil {
			t.Fatal(err)
		}
		order := func(key string) error {
			fields := validFields()
			fields["day"] = "2026-11-27"
			_, err := s.tc.Orders().PlaceOrder(ctx, d, telecart.OrderRequest{OrderKey: key, Fields: fields,
				Items: []telecart.OrderRequestItem{{ProductID: "p1", Quantity: 1}}})
			return err
		}
		if err := order("zone-utc"); err != nil {
			t.Fatalf("in UTC, 27 November is after today: %v", err)
		}

		var settings map[string]any
		s.must(t, "GET", "/admin/api/settings", "", true, nil, http.StatusOK, &settings)
		delete(settings, "aspect_ratio_options")
		settings["time_zone"] = "Pacific/Kiritimati"
		s.must(t, "PUT", "/admin/api/settings", "", true, settings, http.StatusOK, nil)
		if err := order("zone-kiritimati"); !errors.Is(err, telecart.ErrFormInvalid) {
			t.Fatalf("at UTC+14, 27 November is today: %v, want ErrFormInvalid", err)
		}
		var form struct {
			TimeZone string `json:"time_zone"`
		}
		s.must(t, "GET", "/api/forms/checkout", s.initData(2003, "Zone", ""), false, nil, http.StatusOK, &form)
		if form.TimeZone != "Pacific/Kiritimati" {
			t.Fatalf("time_zone %q", form.TimeZone)
		}
	})
}
