package telecart_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telecart"
)

type orderListAnswer struct {
	Data []struct {
		ID        string    `json:"id"`
		CreatedAt time.Time `json:"created_at"`
		Customer  struct {
			ID             int64  `json:"id"`
			TelegramUserID int64  `json:"telegram_user_id"`
			FirstName      string `json:"first_name"`
			Username       string `json:"username"`
		} `json:"customer"`
		Items []struct {
			ProductID string `json:"product_id"`
			Name      string `json:"name"`
			Quantity  int    `json:"quantity"`
			UnitPrice int64  `json:"unit_price"`
			Total     int64  `json:"total"`
		} `json:"items"`
		Total          int64          `json:"total"`
		TotalFormatted string         `json:"total_formatted"`
		Currency       string         `json:"currency"`
		CampaignID     string         `json:"campaign_id"`
		Fields         map[string]any `json:"fields"`
		URL            string         `json:"url"`
	} `json:"data"`
	Meta struct {
		Page    int   `json:"page"`
		PerPage int   `json:"per_page"`
		Total   int64 `json:"total"`
		Pages   int64 `json:"pages"`
	} `json:"meta"`
}

func (a orderListAnswer) ids() string {
	var ids []string
	for _, o := range a.Data {
		ids = append(ids, o.ID)
	}
	return strings.Join(ids, ",")
}

func TestOrdersList(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShopWith(t, db, func(c *telecart.Config) {
			c.OrderURL = "https://shop.example/admin/order?id={id}&from=telecart"
		})
		ctx := context.Background()
		spring, err := s.tc.StartParams().Encode(pulse.StartParam{CampaignID: "spring24", Source: "tg"})
		if err != nil {
			t.Fatal(err)
		}
		anna := s.initData(1001, "Anna", spring)
		boris := s.initData(1002, "Boris", "")
		// Five orders a minute apart: Anna's H1, H3, H5 under spring24,
		// Boris's H2 and H4 with no campaign.
		for i := 1; i <= 5; i++ {
			who := anna
			if i%2 == 0 {
				who = boris
			}
			s.must(t, "POST", "/api/orders", who, false,
				orderBody(fmt.Sprintf("0f8c7a52-list-4bbb-8ccc-%012d", i), item("p2", i), item("p1", 1)), http.StatusCreated, nil)
			s.clock.Advance(time.Minute)
		}
		annaC, err := s.tc.Customers().GetByTelegramID(ctx, 1001)
		if err != nil {
			t.Fatal(err)
		}
		borisC, err := s.tc.Customers().GetByTelegramID(ctx, 1002)
		if err != nil {
			t.Fatal(err)
		}

		// Ensure the list is newest first, each order with its customer,
		// lines, total, campaign, checkout fields and the host's link.
		t.Run("OK", func(t *testing.T) {
			var got orderListAnswer
			s.must(t, "GET", "/admin/api/orders", "", true, nil, http.StatusOK, &got)
			if got.ids() != "H5,H4,H3,H2,H1" {
				t.Fatalf("orders %s; want H5,H4,H3,H2,H1", got.ids())
			}
			if got.Meta.Page != 1 || got.Meta.PerPage != telecart.OrdersPerPageDefault || got.Meta.Total != 5 || got.Meta.Pages != 1 {
				t.Fatalf("meta %+v", got.Meta)
			}
			o := got.Data[0]
			if o.Customer.ID != annaC.ID || o.Customer.TelegramUserID != 1001 || o.Customer.FirstName != "Anna" || o.Customer.Username != "u1001" {
				t.Fatalf("customer %+v", o.Customer)
			}
			if len(o.Items) != 2 || o.Items[0].ProductID != "p2" || o.Items[0].Quantity != 5 || o.Items[0].UnitPrice != 1999 ||
				o.Items[0].Total != 5*1999 || o.Items[0].Name != "Product" || o.Items[1].ProductID != "p1" {
				t.Fatalf("items %+v", o.Items)
			}
			if o.Total != 5*1999+123456 || o.Currency != "RUB" || o.TotalFormatted == "" {
				t.Fatalf("total %d %s %q", o.Total, o.Currency, o.TotalFormatted)
			}
			if o.CampaignID != "spring24" || got.Data[1].CampaignID != "" {
				t.Fatalf("campaigns %q, %q", o.CampaignID, got.Data[1].CampaignID)
			}
			if o.Fields["name"] != "Anna" || o.Fields["delivery"] != "pickup" || o.Fields["comment"] != "Ring twice" {
				t.Fatalf("fields %v", o.Fields)
			}
			if o.URL != "https://shop.example/admin/order?id=H5&from=telecart" {
				t.Fatalf("url %q", o.URL)
			}
			if want := s.clock.Now().Add(-time.Minute).UTC(); !o.CreatedAt.Equal(want) || o.CreatedAt.Location() != time.UTC {
				t.Fatalf("created_at %v; want %v UTC", o.CreatedAt, want)
			}
		})

		// Ensure pages split the newest-first order and a page past the end
		// is empty, not an error.
		t.Run("Pages", func(t *testing.T) {
			for page, want := range map[int]string{1: "H5,H4", 2: "H3,H2", 3: "H1", 4: ""} {
				var got orderListAnswer
				s.must(t, "GET", fmt.Sprintf("/admin/api/orders?page=%d&per_page=2", page), "", true, nil, http.StatusOK, &got)
				if got.ids() != want || got.Meta.Total != 5 || got.Meta.Pages != 3 || got.Data == nil {
					t.Fatalf("page %d = %s (meta %+v); want %s", page, got.ids(), got.Meta, want)
				}
			}
		})

		// Ensure the filters keep one campaign's or one customer's orders,
		// and both together their intersection.
		t.Run("Filters", func(t *testing.T) {
			for query, want := range map[string]string{
				"campaign_id=spring24":                                        "H5,H3,H1",
				"campaign_id=nope":                                            "",
				fmt.Sprintf("customer_id=%d", borisC.ID):                      "H4,H2",
				fmt.Sprintf("customer_id=%d", borisC.ID+annaC.ID+7):           "",
				fmt.Sprintf("customer_id=%d&campaign_id=spring24", borisC.ID): "",
				fmt.Sprintf("customer_id=%d&campaign_id=spring24", annaC.ID):  "H5,H3,H1",
				"campaign_id=spring24&per_page=1&page=2":                      "H3",
			} {
				var got orderListAnswer
				s.must(t, "GET", "/admin/api/orders?"+query, "", true, nil, http.StatusOK, &got)
				total := int64(strings.Count(want, ",") + 1)
				if want == "" {
					total = 0
				}
				if strings.Contains(query, "per_page=1") {
					total = 3
				}
				if got.ids() != want || got.Meta.Total != total {
					t.Errorf("%s = %s (meta %+v); want %s", query, got.ids(), got.Meta, want)
				}
			}
		})

		// Ensure bad parameters are 400 JSON errors, and the route sits
		// behind the admin auth.
		t.Run("BadInput", func(t *testing.T) {
			for _, query := range []string{"page=0", "page=x", "per_page=101", "per_page=-1", "customer_id=0",
				"customer_id=-3", "customer_id=abc", "customer_id=1&customer_id=2", "campaign_id=" + strings.Repeat("a", 33),
				"campaign_id=a%20b", "campaign_id=%27%3B--", "campaign_id=a&campaign_id=b"} {
				var e apiError
				s.must(t, "GET", "/admin/api/orders?"+query, "", true, nil, http.StatusBadRequest, &e)
				if e.Error.Code == "" || e.Error.Message == "" {
					t.Errorf("%s: not a JSON error: %+v", query, e)
				}
			}
			s.must(t, "GET", "/admin/api/orders", "", false, nil, http.StatusUnauthorized, nil)
		})
	})
}

// Ensure orders stored before their lines were kept list with no lines,
// and without Config.OrderURL with no link.
func TestOrdersListOldRows(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		s.must(t, "POST", "/api/orders", s.initData(1001, "Anna", ""), false,
			orderBody("0f8c7a52-old0-4bbb-8ccc-000000000001", item("p1", 1)), http.StatusCreated, nil)
		if _, err := db.ExecContext(context.Background(), "UPDATE "+db.Table(telecart.OrderMetaTable)+" SET items = NULL"); err != nil {
			t.Fatal(err)
		}
		list, err := s.tc.Orders().ListOrders(context.Background(), telecart.OrderQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Orders) != 1 || list.Orders[0].Items == nil || len(list.Orders[0].Items) != 0 || list.Orders[0].URL != "" {
			t.Fatalf("orders %+v", list.Orders)
		}
	})
}

// Ensure New refuses an OrderURL that is no http(s) URL or root path, or
// that has nowhere to put the id.
func TestOrderURLConfig(t *testing.T) {
	db := migratortest.MustOpenEmpty(t, migrator.SQLite)
	for tpl, ok := range map[string]bool{
		"":                                  true,
		"https://shop.example/orders/{id}":  true,
		"http://127.0.0.1:8080/o?id={id}":   true,
		"/admin/orders/{id}":                true,
		"https://shop.example/orders":       false,
		"javascript:alert({id})":            false,
		"orders/{id}":                       false,
		"//evil.example/{id}":               false,
		"https:///{id}":                     false,
		"ftp://shop.example/{id}":           false,
		"https://shop.example/%zz/{id}":     false,
		"data:text/html,{id}":               false,
		" https://shop.example/orders/{id}": false,
	} {
		_, err := telecart.New(telecart.Config{DB: db, Catalog: newFakeCatalog(1), Orders: &fakePlacer{},
			AdminAuth: telecart.BearerAuth("t"), BotToken: plugBotToken, OrderURL: tpl})
		if (err == nil) != ok {
			t.Errorf("OrderURL %q: err %v; want ok %v", tpl, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), "OrderURL") {
			t.Errorf("OrderURL %q: error %q does not name the field", tpl, err)
		}
	}
}
