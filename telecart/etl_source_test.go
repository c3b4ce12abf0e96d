package telecart_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
)

// Ensure the ETL export through the plugin carries each customer's order
// metrics from the order meta table, and needs the Pulse API key.
func TestETLCustomerMetrics(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		buyer, browser := s.initData(4001, "Buyer", ""), s.initData(4002, "Browser", "")
		s.must(t, "POST", "/api/customers", browser, false, nil, http.StatusOK, nil)
		for i, qty := range []int{1, 2} {
			s.must(t, "POST", "/api/orders", buyer, false,
				orderBody(fmt.Sprintf("e71c0000-0000-4000-8000-%012d", i), item("p2", qty)), http.StatusCreated, nil)
			s.clock.Advance(time.Hour)
		}
		var page struct {
			Data []struct {
				ID           int64      `json:"id"`
				OrdersCount  int64      `json:"orders_count"`
				TotalSpent   int64      `json:"total_spent"`
				Currency     string     `json:"currency"`
				FirstOrderAt *time.Time `json:"first_order_at"`
				LastOrderAt  *time.Time `json:"last_order_at"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		req := func(path string, key string, want int, dst any) {
			t.Helper()
			r, err := http.NewRequest("GET", s.server.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if key != "" {
				r.Header.Set(pulse.HeaderAPIKey, key)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("GET %s = %d; want %d", path, resp.StatusCode, want)
			}
			if dst != nil {
				if err := jsonDecode(resp, dst); err != nil {
					t.Fatal(err)
				}
			}
		}
		req("/pulse/etl/customers", "", http.StatusUnauthorized, nil)
		req("/pulse/etl/customers", "wrong", http.StatusUnauthorized, nil)
		req("/pulse/etl/customers?limit=10", "pulse-key", http.StatusOK, &page)
		if len(page.Data) != 2 || page.NextCursor != nil {
			t.Fatalf("page %+v", page)
		}
		// Neither consented, so the export names them by id only.
		got := map[int64]int{}
		for i, c := range page.Data {
			got[c.ID] = i
		}
		b, br := page.Data[got[mustCustomerByTelegramID(t, s, 4001).ID]], page.Data[got[mustCustomerByTelegramID(t, s, 4002).ID]]
		if b.OrdersCount != 2 || b.TotalSpent != 3*1999 || b.Currency != "RUB" || b.FirstOrderAt == nil ||
			b.LastOrderAt == nil || b.LastOrderAt.Sub(*b.FirstOrderAt) != time.Hour {
			t.Fatalf("buyer metrics %+v", b)
		}
		if br.OrdersCount != 0 || br.TotalSpent != 0 || br.FirstOrderAt != nil {
			t.Fatalf("browser metrics %+v", br)
		}
	})
}

// TestETLConsent ensures the ETL export passes a customer's personal fields,
// and the ids that lead to the person (the Telegram id and the host's
// customer id), to the Pulse service only after the customer consented; the
// rest keep their pseudonymous tracking_id and metrics.
func TestETLConsent(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		sign := func(id int64, first, user string) string {
			return telegram.SignInitData(plugBotToken, telegram.SignParams{User: &telegram.User{ID: id, FirstName: first,
				LastName: "Surname", Username: user, LanguageCode: "ru", PhotoURL: "https://t.me/i/userpic/320/" + user + ".jpg"}}, s.clock.Now())
		}
		yes, no := sign(7101, "Olga", "olga_y"), sign(7102, "Pavel", "pavel_n")
		var olgaC, pavelC telegram.Customer
		s.must(t, "POST", "/api/customers", yes, false, nil, http.StatusOK, &olgaC)
		s.must(t, "POST", "/api/customers", no, false, nil, http.StatusOK, &pavelC)
		s.must(t, "POST", "/api/privacy-consent", yes, false, nil, http.StatusOK, nil)
		// The same order from each, at the same time: the checkout's e-mail
		// links both to the host's customer 42, and their metrics match.
		s.must(t, "POST", "/api/orders", yes, false, orderBody("e7c0e000-0000-4000-8000-000000000001", item("p2", 1)), http.StatusCreated, nil)
		s.must(t, "POST", "/api/orders", no, false, orderBody("e7c0e000-0000-4000-8000-000000000002", item("p2", 1)), http.StatusCreated, nil)

		req := httptest.NewRequest("GET", "/pulse/etl/customers", nil)
		req.Header.Set("X-Api-Key", "pulse-key")
		w := httptest.NewRecorder()
		s.tc.Handler().ServeHTTP(w, req)
		var page struct {
			Data []map[string]any `json:"data"`
		}
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &page) != nil {
			t.Fatalf("GET /pulse/etl/customers = %d %s", w.Code, w.Body)
		}
		byTracking := map[any]map[string]any{}
		for _, c := range page.Data {
			byTracking[c["tracking_id"]] = c
		}
		olga, pavel := byTracking[olgaC.TrackingID], byTracking[pavelC.TrackingID]
		if olga == nil || pavel == nil {
			t.Fatalf("the export lacks a customer: %s", w.Body)
		}
		want := map[string]any{"first_name": "Olga", "last_name": "Surname", "username": "olga_y", "language_code": "ru",
			"photo_url": "https://t.me/i/userpic/320/olga_y.jpg", "telegram_user_id": float64(7101), "host_customer_id": float64(42)}
		for k, v := range want {
			if olga[k] != v {
				t.Errorf("the consenting customer's %s is %v, want %v", k, olga[k], v)
			}
		}
		if olga["privacy_consented_at"] == nil || olga["orders_count"] != float64(1) {
			t.Errorf("the consenting customer: %v", olga)
		}
		// Ensure the two rows differ exactly in the personal fields, besides
		// their ids and the consent itself: same keys, same metrics.
		personal := map[string]bool{"first_name": true, "last_name": true, "username": true, "photo_url": true,
			"language_code": true, "telegram_user_id": true, "host_customer_id": true}
		own := map[string]bool{"id": true, "tracking_id": true, "privacy_consented_at": true, "updated_at": true}
		if len(olga) != len(pavel) {
			t.Errorf("the rows have different fields:\n%v\n%v", olga, pavel)
		}
		for k := range personal {
			if _, ok := olga[k]; !ok {
				t.Errorf("the export has no %s", k)
			}
		}
		for k, v := range olga {
			switch {
			case personal[k]:
				if v == "" || v == float64(0) || (pavel[k] != "" && pavel[k] != float64(0)) {
					t.Errorf("%s: %v with consent, %v without; want it filled, then empty", k, v, pavel[k])
				}
			case own[k]:
			case !reflect.DeepEqual(v, pavel[k]):
				t.Errorf("%s differs: %v with consent, %v without", k, v, pavel[k])
			}
		}
		if pavel["tracking_id"] == "" || pavel["privacy_consented_at"] != nil || pavel["orders_count"] != float64(1) {
			t.Errorf("the customer without consent: %v", pavel)
		}
		for _, n := range []string{"Pavel", "pavel_n"} {
			if strings.Contains(w.Body.String(), n) {
				t.Errorf("the export holds %q of the customer without consent: %s", n, w.Body)
			}
		}
	})
}

func mustCustomerByTelegramID(tb testing.TB, s *plugShop, tgID int64) telegram.Customer {
	tb.Helper()
	c, err := s.tc.Customers().GetByTelegramID(context.Background(), tgID)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
