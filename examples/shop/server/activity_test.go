package server_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/examples/shop/activity"
	"github.com/telecart-go/telecart/examples/shop/server"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
)

// Ensure -demo-activity fills an empty database so the admin API shows a
// month of life: orders, revenue and hundreds of customers on the
// dashboard, every hour of its chart, a month of days in the campaigns'
// funnel, failed Pulse events to requeue, sent messages and a finished
// broadcast, log lines of every level; and that a second start on the same
// database refuses, saying it already has customers.
func TestDemoActivity(t *testing.T) {
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "shop.db")
			if d == migrator.MySQL {
				dsn = "mysql:" + migratortest.FreshDSN(t, d)
			}
			s, base := MustStart(t, d, func(c *server.Config) { c.DB, c.DemoActivity = dsn, true })
			if s.Activity == nil {
				t.Fatal("no activity report")
			}
			t.Logf("%s: %+v", d, *s.Activity)
			get := func(path string, dst any) {
				t.Helper()
				call(t, "GET", base+path, "", s.Config.AdminToken, nil, http.StatusOK, dst)
			}

			var dash struct {
				OrdersCount    int64 `json:"orders_count"`
				Revenue        int64 `json:"revenue"`
				CustomersCount int64 `json:"customers_count"`
				Pulse          struct {
					Sent, Failed, Pending int64
				} `json:"pulse"`
				Hourly []struct {
					Sent   int64 `json:"sent"`
					Failed int64 `json:"failed"`
				} `json:"hourly"`
				Daily []struct {
					Day    string `json:"day"`
					Orders int64  `json:"orders"`
				} `json:"daily"`
				TimeZone string `json:"time_zone"`
			}
			get("/admin/api/dashboard?fresh=1", &dash)
			// The orders chart: a month of days, most of them with orders.
			orderDays, inRange := 0, int64(0)
			for _, day := range dash.Daily {
				if day.Orders > 0 {
					orderDays++
				}
				inRange += day.Orders
			}
			if len(dash.Daily) != 30 || orderDays < 15 || inRange < dash.OrdersCount*9/10 {
				t.Errorf("dashboard orders chart: %d days, %d with orders, %d orders of %d", len(dash.Daily), orderDays, inRange, dash.OrdersCount)
			}
			hours, failedHours := 0, 0
			for _, h := range dash.Hourly {
				if h.Sent > 0 {
					hours++
				}
				if h.Failed > 0 {
					failedHours++
				}
			}
			if dash.OrdersCount < 20 || dash.Revenue <= 0 || dash.CustomersCount < 200 || dash.TimeZone != "Europe/Moscow" {
				t.Errorf("dashboard: %+v", dash)
			}
			if hours < 20 || failedHours == 0 || dash.Pulse.Sent < 1000 || dash.Pulse.Failed < 3 {
				t.Errorf("dashboard chart: %d of %d hours with events sent, %d with failures; pulse %+v", hours, len(dash.Hourly), failedHours, dash.Pulse)
			}

			var funnel struct {
				Campaigns []struct {
					ID         string `json:"id"`
					Known      bool   `json:"known"`
					Attributed int64  `json:"attributed"`
					Revenue    int64  `json:"revenue"`
					Steps      []struct {
						Step      string `json:"step"`
						Customers int64  `json:"customers"`
					} `json:"steps"`
					Days []struct {
						Date string `json:"date"`
					} `json:"days"`
				} `json:"campaigns"`
			}
			get("/admin/api/campaigns/funnel", &funnel)
			days := map[string]bool{}
			known := 0
			for _, c := range funnel.Campaigns {
				if c.Known {
					known++
				}
				for _, day := range c.Days {
					days[day.Date] = true
				}
				if c.Known && (c.Attributed == 0 || len(c.Steps) != 5 || c.Steps[0].Customers <= c.Steps[4].Customers) {
					t.Errorf("campaign %s: %+v", c.ID, c)
				}
			}
			if known != 3 || len(days) < 25 {
				t.Errorf("funnel: %d known campaigns, %d days with events: %+v", known, len(days), funnel)
			}

			var customers struct {
				Data []map[string]any `json:"data"`
				Meta struct {
					Total int64 `json:"total"`
				} `json:"meta"`
			}
			get("/admin/api/customers?per_page=100", &customers)
			if len(customers.Data) != 100 || customers.Meta.Total < 200 {
				t.Errorf("customers: %d rows, %d in all", len(customers.Data), customers.Meta.Total)
			}
			langs := map[any]int{}
			for _, c := range customers.Data {
				langs[c["language_code"]]++
			}
			if langs["en"] == 0 || langs["ru"] == 0 {
				t.Errorf("customers' languages %v", langs)
			}

			var failed struct {
				Data []struct {
					ID        int64  `json:"id"`
					Status    string `json:"status"`
					LastError string `json:"last_error"`
				} `json:"data"`
			}
			get("/admin/api/pulse/events?status=failed", &failed)
			if len(failed.Data) < 3 || failed.Data[0].Status != "failed" || failed.Data[0].LastError != activity.RejectReason {
				t.Errorf("failed events: %+v", failed.Data)
			}

			var msgs struct {
				Meta struct {
					Total int64 `json:"total"`
				} `json:"meta"`
			}
			get("/admin/api/messages?status=sent", &msgs)
			var broadcasts struct {
				Data []struct {
					Status string `json:"status"`
					Sent   int64  `json:"sent"`
				} `json:"data"`
			}
			get("/admin/api/broadcasts", &broadcasts)
			if msgs.Meta.Total < 50 || len(broadcasts.Data) != 1 || broadcasts.Data[0].Status != "done" || broadcasts.Data[0].Sent == 0 {
				t.Errorf("%d messages sent; broadcasts %+v", msgs.Meta.Total, broadcasts.Data)
			}
			for _, level := range []string{"debug", "info", "warn", "error"} {
				var logs struct {
					Data []map[string]any `json:"data"`
				}
				get("/admin/api/logs?level="+level, &logs)
				if len(logs.Data) == 0 {
					t.Errorf("no %s lines in the logs viewer", level)
				}
			}

			// The same database again: refused, saying why.
			cfg, _, err := server.ParseFlags([]string{"-db", dsn, "-demo-activity", "-log-file", filepath.Join(t.TempDir(), "again.log")},
				func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			cfg.Stdout = io.Discard
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			again, err := server.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer again.Stop(context.Background())
			err = again.Start(ctx)
			if err == nil || !strings.Contains(err.Error(), "already has customers") {
				t.Fatalf("a second -demo-activity start: %v", err)
			}
			var after struct {
				Meta struct {
					Total int64 `json:"total"`
				} `json:"meta"`
			}
			get("/admin/api/customers", &after)
			if after.Meta.Total != customers.Meta.Total {
				t.Errorf("the refused run changed the customers: %d, then %d", customers.Meta.Total, after.Meta.Total)
			}
		})
	}
}
