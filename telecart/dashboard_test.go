package telecart_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
)

// Ensure the dashboard's figures equal what was stored: order count,
// revenue to the kopeck, customers, and Pulse counts; ?fresh=1 is live.
func TestDashboard(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		var empty struct {
			OrdersCount      int64  `json:"orders_count"`
			Revenue          int64  `json:"revenue"`
			RevenueFormatted string `json:"revenue_formatted"`
			Hourly           []any  `json:"hourly"`
		}
		s.must(t, "GET", "/admin/api/dashboard", "", true, nil, http.StatusOK, &empty)
		if empty.OrdersCount != 0 || empty.Revenue != 0 || empty.RevenueFormatted != "0,00\u00a0₽" || len(empty.Hourly) != 24 {
			t.Fatalf("empty dashboard %+v", empty)
		}
		// 1999 kopecks × n: a float sum would drift; integers must not.
		link, err := s.tc.StartParams().Encode(pulse.StartParam{CampaignID: "dash"})
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		for i := 1; i <= 7; i++ {
			user := int64(3000 + i%3)
			qty := i
			param := ""
			if i%2 == 0 {
				param = link // some orders come from a campaign and queue ORDER_CREATED
			}
			s.must(t, "POST", "/api/orders", s.initData(user, "Buyer", param), false,
				orderBody(fmt.Sprintf("5b2f0000-0000-4000-8000-%012d", i), item("p2", qty)), http.StatusCreated, nil)
			want += 1999 * int64(qty)
		}
		var d struct {
			OrdersCount      int64  `json:"orders_count"`
			Revenue          int64  `json:"revenue"`
			RevenueFormatted string `json:"revenue_formatted"`
			Currency         string `json:"currency"`
			CustomersCount   int64  `json:"customers_count"`
			Pulse            struct {
				Pending, Sending, Sent, Failed int64
			} `json:"pulse"`
			Hourly []struct {
				Sent int64 `json:"sent"`
			} `json:"hourly"`
			TimeZone string `json:"time_zone"`
		}
		s.must(t, "GET", "/admin/api/dashboard?fresh=1", "", true, nil, http.StatusOK, &d)
		if d.OrdersCount != 7 || d.Revenue != want || d.Currency != "RUB" || d.CustomersCount != 3 || d.TimeZone == "" {
			t.Fatalf("dashboard %+v; want 7 orders, revenue %d, 3 customers", d, want)
		}
		if got := want; d.RevenueFormatted != fmt.Sprintf("%d,%02d\u00a0₽", got/100, got%100) {
			t.Fatalf("revenue_formatted %q for %d", d.RevenueFormatted, want)
		}
		// The Pulse card counts the outbox: the three attributed orders.
		var n int64
		if err := db.QueryRow("SELECT COUNT(*) FROM " + db.Table("pulse_events")).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("outbox holds %d events; want 3 ORDER_CREATED", n)
		}
		if total := d.Pulse.Pending + d.Pulse.Sending + d.Pulse.Sent + d.Pulse.Failed; total != n {
			t.Fatalf("pulse counts %+v; the outbox holds %d", d.Pulse, n)
		}
		s.must(t, "GET", "/admin/api/dashboard?fresh=maybe", "", true, nil, http.StatusBadRequest, nil)
		s.must(t, "GET", "/admin/api/dashboard", "", false, nil, http.StatusUnauthorized, nil)
	})
}
