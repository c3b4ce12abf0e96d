package telecart_test

import (
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
				TelegramUserID int64      `json:"telegram_user_id"`
				OrdersCount    int64      `json:"orders_count"`
				TotalSpent     int64      `json:"total_spent"`
				Currency       string     `json:"currency"`
				FirstOrderAt   *time.Time `json:"first_order_at"`
				LastOrderAt    *time.Time `json:"last_order_at"`
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
		got := map[int64]int{}
		for i, c := range page.Data {
			got[c.TelegramUserID] = i
		}
		b, br := page.Data[got[4001]], page.Data[got[4002]]
		if b.OrdersCount != 2 || b.TotalSpent != 3*1999 || b.Currency != "RUB" || b.FirstOrderAt == nil ||
			b.LastOrderAt == nil || b.LastOrderAt.Sub(*b.FirstOrderAt) != time.Hour {
			t.Fatalf("buyer metrics %+v", b)
		}
		if br.OrdersCount != 0 || br.TotalSpent != 0 || br.FirstOrderAt != nil {
			t.Fatalf("browser metrics %+v", br)
		}
	})
}

// TestETLConsent ensures the ETL export passes a customer's personal fields
// to the Pulse service only after the customer consented; the rest keep
// their pseudonymous tracking_id and metrics.
func TestETLConsent(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		sign := func(id int64, first, user string) string {
			return telegram.SignInitData(plugBotToken, telegram.SignParams{User: &telegram.User{ID: id, FirstName: first,
				LastName: "Surname", Username: user, LanguageCode: "ru", PhotoURL: "https://t.me/i/userpic/320/" + user + ".jpg"}}, s.clock.Now())
		}
		yes, no := sign(7101, "Olga", "olga_y"), sign(7102, "Pavel", "pavel_n")
		s.must(t, "POST", "/api/customers", yes, false, nil, http.StatusOK, nil)
		s.must(t, "POST", "/api/customers", no, false, nil, http.StatusOK, nil)
		s.must(t, "POST", "/api/privacy-consent", yes, false, nil, http.StatusOK, nil)

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
		byUser := map[float64]map[string]any{}
		for _, c := range page.Data {
			byUser[c["telegram_user_id"].(float64)] = c
		}
		olga, pavel := byUser[7101], byUser[7102]
		if olga["first_name"] != "Olga" || olga["username"] != "olga_y" || olga["language_code"] != "ru" || olga["privacy_consented_at"] == nil {
			t.Errorf("the consenting customer: %v", olga)
		}
		// Ensure the two rows differ exactly in the personal fields, besides
		// their ids and the consent itself: same keys, same metrics.
		personal := map[string]bool{"first_name": true, "last_name": true, "username": true, "language_code": true}
		own := map[string]bool{"id": true, "telegram_user_id": true, "tracking_id": true, "privacy_consented_at": true, "updated_at": true}
		if len(olga) != len(pavel) {
			t.Errorf("the rows have different fields:\n%v\n%v", olga, pavel)
		}
		for k, v := range olga {
			switch {
			case personal[k]:
				if v == "" || pavel[k] != "" {
					t.Errorf("%s: %v with consent, %v without; want it filled, then empty", k, v, pavel[k])
				}
			case own[k]:
			case !reflect.DeepEqual(v, pavel[k]):
				t.Errorf("%s differs: %v with consent, %v without", k, v, pavel[k])
			}
		}
		// The photo is a personal field that the export never carries.
		if _, ok := olga["photo_url"]; ok || strings.Contains(w.Body.String(), "userpic") {
			t.Errorf("the photo left the shop: %s", w.Body)
		}
		if pavel["tracking_id"] == "" || pavel["privacy_consented_at"] != nil || strings.Contains(w.Body.String(), "Pavel") ||
			strings.Contains(w.Body.String(), "pavel_n") {
			t.Errorf("the customer without consent: %v", pavel)
		}
	})
}
