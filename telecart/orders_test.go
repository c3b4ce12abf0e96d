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

type orderAnswer struct {
	OrderID        string `json:"order_id"`
	Total          int64  `json:"total"`
	TotalFormatted string `json:"total_formatted"`
	Currency       string `json:"currency"`
}

func validFields() map[string]any {
	return map[string]any{"name": "Anna", "phone": "+7 900 123-45-67", "email": "Anna@example.com",
		"delivery": "pickup", "comment": "Ring twice"}
}

func orderBody(key string, items ...map[string]any) map[string]any {
	return map[string]any{"order_key": key, "items": items, "fields": validFields()}
}

func item(id string, qty any) map[string]any {
	return map[string]any{"product_id": id, "quantity": qty}
}

func TestOrders(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		ctx := context.Background()
		campaign, err := s.tc.StartParams().Encode(pulse.StartParam{CampaignID: "spring24", Source: "tg"})
		if err != nil {
			t.Fatal(err)
		}
		anna := s.initData(1001, "Anna", campaign)

		// Ensure an order is priced from the catalog (kopecks exact), placed
		// in the host's tables, counted, and tracked as ORDER_CREATED with
		// the start_param's campaign, all in one go.
		t.Run("OK", func(t *testing.T) {
			var got orderAnswer
			s.must(t, "POST", "/api/orders", anna, false,
				orderBody("0f8c7a52-aaaa-4bbb-8ccc-000000000001", item("p2", 3), item("p1", 1), item("p2", 1)), http.StatusCreated, &got)
			if want := int64(4*1999 + 123456); got.Total != want || got.TotalFormatted != "1\u00a0314,52\u00a0₽" || got.OrderID == "" {
				t.Fatalf("answer %+v; want total %d formatted 1 314,52 ₽ (no-break spaces)", got, want)
			}
			if o := s.placer.last; o.HostCustomerID != 42 || o.Name != "Anna" || len(o.Items) != 2 ||
				!strings.Contains(o.Comment, "Ring twice") || !strings.Contains(o.Comment, "Delivery: Pickup") {
				t.Fatalf("host was asked %+v", o)
			}
			c, err := s.tc.Customers().GetByTelegramID(ctx, 1001)
			if err != nil || c.OrdersCount != 1 || c.HostCustomerID != 42 {
				t.Fatalf("customer %+v, %v; want 1 order and host id 42", c, err)
			}
			ev, err := s.tc.Pulse().Lookup(ctx, "order:"+c.TrackingID+":0f8c7a52-aaaa-4bbb-8ccc-000000000001")
			if err != nil || ev.Event != pulse.EventOrderCreated || ev.CampaignID != "spring24" || ev.TrackingID != c.TrackingID {
				t.Fatalf("ORDER_CREATED %+v, %v", ev, err)
			}
			// Ensure the running sender delivers it to the Pulse receiver.
			deadline := time.Now().Add(10 * time.Second)
			for !s.receiver.Seen(ev.IdempotencyKey) {
				if time.Now().After(deadline) {
					t.Fatal("ORDER_CREATED did not reach the receiver")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})

		// Ensure the same order_key answers the same order with 200 and
		// creates nothing more.
		t.Run("SameKey", func(t *testing.T) {
			var first, again orderAnswer
			body := orderBody("0f8c7a52-aaaa-4bbb-8ccc-000000000002", item("p1", 2))
			s.must(t, "POST", "/api/orders", anna, false, body, http.StatusCreated, &first)
			before := s.count(t, "host_orders", "")
			s.must(t, "POST", "/api/orders", anna, false, body, http.StatusOK, &again)
			if again != first || s.count(t, "host_orders", "") != before {
				t.Fatalf("repeat answered %+v (first %+v), host orders %d→%d", again, first, before, s.count(t, "host_orders", ""))
			}
		})

		// Ensure a failing host placer leaves no meta, no counter change
		// and no Pulse event: one transaction.
		t.Run("Atomic", func(t *testing.T) {
			c0, _ := s.tc.Customers().GetByTelegramID(ctx, 1001)
			meta0 := s.count(t, db.Table(telecart.OrderMetaTable), "")
			host0 := s.count(t, "host_orders", "")
			events0 := s.count(t, db.Table(pulse.OutboxTable), "")
			s.placer.mu.Lock()
			s.placer.failNext = errHostDown
			s.placer.mu.Unlock()
			var e apiError
			s.must(t, "POST", "/api/orders", anna, false, orderBody("0f8c7a52-aaaa-4bbb-8ccc-000000000003", item("p1", 1)), http.StatusServiceUnavailable, &e)
			if e.Error.Code != "order_not_placed" {
				t.Fatalf("error %+v; want order_not_placed", e.Error)
			}
			c1, _ := s.tc.Customers().GetByTelegramID(ctx, 1001)
			if s.count(t, db.Table(telecart.OrderMetaTable), "") != meta0 || s.count(t, "host_orders", "") != host0 ||
				s.count(t, db.Table(pulse.OutboxTable), "") != events0 || c1.OrdersCount != c0.OrdersCount {
				t.Fatal("a failed order left rows behind")
			}
			if _, err := s.tc.Pulse().Lookup(ctx, "order:"+c1.TrackingID+":0f8c7a52-aaaa-4bbb-8ccc-000000000003"); err == nil {
				t.Fatal("the failed order's event exists")
			}
		})

		// Ensure bad input is a 4xx JSON error and stores nothing.
		t.Run("BadInput", func(t *testing.T) {
			meta0 := s.count(t, db.Table(telecart.OrderMetaTable), "")
			key := "0f8c7a52-aaaa-4bbb-8ccc-00000000000f"
			for name, tt := range map[string]struct {
				body    any
				status  int
				field   string
				details map[string]string // the error's details, when it names a product
			}{
				"UnknownProduct": {orderBody(key, item("p1", 1), item("nope", 1)), 422, "items[1].product_id",
					map[string]string{"product_id": "nope"}},
				"OutOfStock": {orderBody(key, item("p1", 1), item("p5", 1)), 409, "",
					map[string]string{"product_id": "p5", "product_name": s.catalog.products[4].Name}},
				"NegativeQuantity": {orderBody(key, item("p1", -1)), 400, "", nil},
				"ZeroQuantity":     {orderBody(key, item("p1", 0)), 400, "", nil},
				"HugeQuantity":     {orderBody(key, item("p1", 1000)), 400, "", nil},
				"WrongType":        {orderBody(key, item("p1", "two")), 400, "", nil},
				"NoItems":          {orderBody(key), 400, "", nil},
				"BadKey":           {orderBody("x", item("p1", 1)), 400, "", nil},
				"UnknownField":     {map[string]any{"order_key": key, "items": []any{item("p1", 1)}, "fields": validFields(), "price": 1}, 400, "", nil},
				"PriceInItem":      {map[string]any{"order_key": key, "items": []any{map[string]any{"product_id": "p1", "quantity": 1, "price": 1}}, "fields": validFields()}, 400, "", nil},
				"MissingFields":    {map[string]any{"order_key": key, "items": []any{item("p1", 1)}, "fields": map[string]any{"name": "A"}}, 422, "phone", nil},
				"BadEmail":         {map[string]any{"order_key": key, "items": []any{item("p1", 1)}, "fields": map[string]any{"name": "Anna", "phone": "+79001234567", "delivery": "courier", "email": "no"}}, 422, "email", nil},
				"Malformed":        {`{"order_key":`, 400, "", nil},
				"NotObject":        {`[1,2]`, 400, "", nil},
				"Oversized":        {`{"order_key":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "", nil},
			} {
				t.Run(name, func(t *testing.T) {
					var e apiError
					s.must(t, "POST", "/api/orders", anna, false, tt.body, tt.status, &e)
					if e.Error.Code == "" || e.Error.Message == "" {
						t.Fatalf("not a JSON error: %+v", e)
					}
					if tt.field != "" && e.Error.Fields[tt.field] == "" {
						t.Fatalf("no message for %s: %+v", tt.field, e.Error)
					}
					// Ensure an error about a product names it, so the
					// storefront can say so in the buyer's language.
					if fmt.Sprint(e.Error.Details) != fmt.Sprint(tt.details) {
						t.Fatalf("details %v, want %v", e.Error.Details, tt.details)
					}
				})
			}
			if s.count(t, db.Table(telecart.OrderMetaTable), "") != meta0 {
				t.Fatal("bad input stored an order")
			}
		})
	})
}
