package telecart_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telecart"
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

// Ensure the dashboard's daily series has DailyDays days of the shop's
// time zone, zeros included, and puts each order on its local day: two
// orders either side of midnight in Moscow (UTC+3) land on two days, one
// placed 40 days ago on none.
func TestDashboardDaily(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		var settings map[string]any
		s.must(t, "GET", "/admin/api/settings", "", true, nil, http.StatusOK, &settings)
		delete(settings, "aspect_ratio_options")
		settings["time_zone"] = "Europe/Moscow"
		s.must(t, "PUT", "/admin/api/settings", "", true, settings, http.StatusOK, nil)

		// The test clock reads 2026-11-26 10:00 UTC (13:00 in Moscow).
		place := func(n int, qty int) {
			s.must(t, "POST", "/api/orders", s.initData(4000, "Night", ""), false,
				orderBody(fmt.Sprintf("5b2f0000-0000-4000-8000-%012d", 900+n), item("p2", qty)), http.StatusCreated, nil)
		}
		s.clock.Advance(-40 * 24 * time.Hour) // 17 October: out of range
		place(1, 1)
		// Both on 24 November in UTC; on the 25th and the 24th in Moscow.
		s.clock.Advance(38*24*time.Hour + 12*time.Hour + 30*time.Minute) // 24 Nov 22:30 UTC = 25 Nov 01:30 Moscow
		place(2, 2)
		s.clock.Advance(-2 * time.Hour) // 24 Nov 20:30 UTC = 23:30 Moscow
		place(3, 3)
		s.clock.Advance(37*time.Hour + 30*time.Minute) // back to 26 Nov 10:00 UTC
		var d struct {
			Daily []struct {
				Day     string `json:"day"`
				Orders  int64  `json:"orders"`
				Revenue int64  `json:"revenue"`
			} `json:"daily"`
		}
		s.must(t, "GET", "/admin/api/dashboard?fresh=1", "", true, nil, http.StatusOK, &d)
		if len(d.Daily) != telecart.DailyDays || d.Daily[0].Day != "2026-10-28" || d.Daily[len(d.Daily)-1].Day != "2026-11-26" {
			t.Fatalf("daily has %d days, %+v … %+v; want 30 from 2026-10-28 to 2026-11-26", len(d.Daily), d.Daily[0], d.Daily[len(d.Daily)-1])
		}
		got := map[string][2]int64{}
		for _, day := range d.Daily {
			if day.Orders != 0 {
				got[day.Day] = [2]int64{day.Orders, day.Revenue}
			}
		}
		want := map[string][2]int64{"2026-11-24": {1, 3 * 1999}, "2026-11-25": {1, 2 * 1999}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("days with orders %v; want %v", got, want)
		}
	})
}
