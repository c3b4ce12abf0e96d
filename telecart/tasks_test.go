package telecart_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telecart"
)

// Ensure the customers_recount task repairs orders_count from the order
// meta table after orders were deleted and a counter drifted, touches only
// the customers it changes, and changes nothing when run again.
func TestRecountCustomers(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		s := newPlugShop(t, db)
		s.must(t, "POST", "/api/customers", s.initData(5003, "Browser", ""), false, nil, http.StatusOK, nil)
		for i, user := range []int64{5001, 5001, 5001, 5002} {
			s.must(t, "POST", "/api/orders", s.initData(user, "Buyer", ""), false,
				orderBody(fmt.Sprintf("7ec0c000-0000-4000-8000-%012d", i), item("p2", 1)), http.StatusCreated, nil)
		}
		customers := s.tc.Customers()
		get := func(tgID int64) (int, time.Time) {
			t.Helper()
			c, err := customers.GetByTelegramID(ctx, tgID)
			if err != nil {
				t.Fatal(err)
			}
			return c.OrdersCount, c.UpdatedAt
		}
		a, _ := customers.GetByTelegramID(ctx, 5001)
		b, _ := customers.GetByTelegramID(ctx, 5002)
		// Two of the first buyer's orders go behind TeleCart's back, and
		// the second buyer's counter drifts.
		res, err := db.ExecContext(ctx, "DELETE FROM "+db.Table(telecart.OrderMetaTable)+" WHERE customer_id = ? AND order_key <> ?",
			a.ID, "7ec0c000-0000-4000-8000-000000000000")
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 2 {
			t.Fatalf("deleted %d order rows, want 2", n)
		}
		if err := customers.IncrementOrders(ctx, db, b.ID, 5); err != nil {
			t.Fatal(err)
		}
		_, browserUpdated := get(5003)
		s.clock.Advance(time.Hour)
		recountAt := s.clock.Now()

		if err := s.tc.Scheduler().RunNow(ctx, telecart.TaskCustomerCounts); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			tgID    int64
			orders  int
			updated time.Time
		}{{5001, 1, recountAt}, {5002, 1, recountAt}, {5003, 0, browserUpdated}} {
			if n, at := get(tt.tgID); n != tt.orders || !at.Equal(tt.updated) {
				t.Errorf("user %d: %d orders, updated %s; want %d, %s", tt.tgID, n, at, tt.orders, tt.updated)
			}
		}
		if n, err := s.tc.RecountCustomers(ctx); err != nil || n != 0 {
			t.Fatalf("second recount = %d, %v; want nothing to change", n, err)
		}
	})
}
