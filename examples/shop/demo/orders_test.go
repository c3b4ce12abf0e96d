package demo_test

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/telecart-go/telecart/examples/shop/demo"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telecart"
)

var sources = []migrator.Source{demo.MigrationSource()}

var clock = time.Date(2026, 11, 26, 10, 30, 0, 123456789, time.UTC)

func fixedNow() time.Time { return clock }

func newOrder() telecart.NewOrder {
	return telecart.NewOrder{
		HostCustomerID: 1,
		TelegramUserID: 424242,
		Items: []telecart.OrderItem{
			{ProductID: "p9", Name: "Assam Black Tea", Quantity: 2, UnitPrice: 34900, Total: 69800},
			{ProductID: "p34", Name: "Whole Milk 3.2%", Quantity: 1, UnitPrice: 12990, Total: 12990},
		},
		Total:    82790,
		Currency: "RUB",
		Name:     "Анна Петрова",
		Phone:    "+7 900 123-45-67",
		Email:    "anna@example.com",
		Address:  "Moscow, Tverskaya 1",
		Comment:  "Ring twice\n\nDelivery: courier",
		Fields:   map[string]any{"delivery": "courier"},
	}
}

// mustPlace places n in its own committed transaction.
func mustPlace(tb testing.TB, db migrator.DB, orders *demo.Orders, n telecart.NewOrder) telecart.PlacedOrder {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	placed, err := orders.PlaceOrder(ctx, tx, n)
	if err != nil {
		_ = tx.Rollback()
		tb.Fatalf("PlaceOrder: %v", err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return placed
}

// mustCountRows counts the rows of a demo table.
func mustCountRows(tb testing.TB, db migrator.DB, table string) int {
	tb.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+db.Table(table)).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestOrders(t *testing.T) {
	migratortest.Each(t, sources, func(t *testing.T, db migrator.DB) {
		ctx := context.Background()

		// Ensure a committed order is stored with its items, status new and
		// the injected clock's time.
		t.Run("OK", func(t *testing.T) {
			orders := demo.NewOrders(db, fixedNow)
			n := newOrder()
			placed := mustPlace(t, db, orders, n)
			if placed.ID == "" {
				t.Fatal("empty order id")
			}
			got, err := orders.Get(ctx, placed.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := demo.Order{
				ID: placed.ID, HostCustomerID: 1, TelegramUserID: 424242,
				Name: n.Name, Phone: n.Phone, Email: n.Email, Address: n.Address, Comment: n.Comment,
				Total: 82790, Currency: "RUB", Status: demo.StatusNew,
				CreatedAt: clock.Truncate(time.Microsecond), Items: n.Items,
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Get:\n got %+v\nwant %+v", got, want)
			}
		})

		// Ensure List answers newest first, with items, within the limit.
		t.Run("List", func(t *testing.T) {
			orders := demo.NewOrders(db, fixedNow)
			before, err := orders.List(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			a := mustPlace(t, db, orders, newOrder())
			n := newOrder()
			n.Items = n.Items[1:]
			b := mustPlace(t, db, orders, n)
			list, err := orders.List(ctx, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID || len(list[0].Items) != 1 || len(list[1].Items) != 2 {
				t.Fatalf("List(2): %+v", list)
			}
			all, err := orders.List(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != len(before)+2 {
				t.Fatalf("List(0): %d orders, want %d", len(all), len(before)+2)
			}
		})

		// Ensure a rolled-back transaction leaves neither the order nor its
		// items: PlaceOrder writes only through the tx it is handed.
		t.Run("Rollback", func(t *testing.T) {
			orders := demo.NewOrders(db, fixedNow)
			ordersBefore, itemsBefore := mustCountRows(t, db, "demo_orders"), mustCountRows(t, db, "demo_order_items")
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			placed, err := orders.PlaceOrder(ctx, tx, newOrder())
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			if _, err := orders.Get(ctx, placed.ID); !errors.Is(err, demo.ErrOrderNotFound) {
				t.Fatalf("Get after rollback: %v", err)
			}
			if o, i := mustCountRows(t, db, "demo_orders"), mustCountRows(t, db, "demo_order_items"); o != ordersBefore || i != itemsBefore {
				t.Fatalf("after rollback: %d orders, %d items; want %d, %d", o, i, ordersBefore, itemsBefore)
			}
		})

		// Ensure FailNext fails exactly the next PlaceOrder without writing,
		// and FailNext(nil) cancels it.
		t.Run("FailNext", func(t *testing.T) {
			orders := demo.NewOrders(db, fixedNow)
			before := mustCountRows(t, db, "demo_orders")
			boom := errors.New("boom")
			orders.FailNext(boom)
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := orders.PlaceOrder(ctx, tx, newOrder()); !errors.Is(err, boom) {
				t.Fatalf("PlaceOrder after FailNext: %v", err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if n := mustCountRows(t, db, "demo_orders"); n != before {
				t.Fatalf("a failed PlaceOrder wrote: %d orders, want %d", n, before)
			}
			mustPlace(t, db, orders, newOrder())

			orders.FailNext(boom)
			orders.FailNext(nil)
			mustPlace(t, db, orders, newOrder())
		})

		// Ensure FailNext is safe alongside PlaceOrder in other goroutines
		// and each failure is handed out once.
		t.Run("FailNextConcurrent", func(t *testing.T) {
			orders := demo.NewOrders(db, fixedNow)
			boom := errors.New("boom")
			var wg sync.WaitGroup
			var mu sync.Mutex
			failures := 0
			for range 8 {
				wg.Go(func() {
					for range 50 {
						orders.FailNext(boom)
						// A nil tx makes PlaceOrder fail after taking the
						// pending failure, so no database is involved.
						_, err := orders.PlaceOrder(ctx, nil, newOrder())
						if errors.Is(err, boom) {
							mu.Lock()
							failures++
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			if failures == 0 || failures > 400 {
				t.Fatalf("%d injected failures for 400 FailNext calls", failures)
			}
		})

		// Ensure oversized and invalid text is clipped rather than refused
		// by a strict MySQL.
		t.Run("LongText", func(t *testing.T) {
			orders := demo.NewOrders(db, fixedNow)
			n := newOrder()
			n.Name = strings.Repeat("Я", 300)
			n.Email = "bad\xffutf8@example.com"
			n.Address = strings.Repeat("улица ", 2000)
			n.Items[0].Name = strings.Repeat("ж", 400)
			placed := mustPlace(t, db, orders, n)
			got, err := orders.Get(ctx, placed.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != strings.Repeat("Я", 255) || got.Items[0].Name != strings.Repeat("ж", 255) || got.Address != n.Address {
				t.Fatalf("name %d runes, item %d runes, address %d runes",
					utf8.RuneCountInString(got.Name), utf8.RuneCountInString(got.Items[0].Name), utf8.RuneCountInString(got.Address))
			}
			if got.Email != "bad\uFFFDutf8@example.com" {
				t.Fatalf("email %q", got.Email)
			}
		})

		// Ensure an order without items or outside a transaction is refused.
		t.Run("ErrInvalid", func(t *testing.T) {
			orders := demo.NewOrders(db, fixedNow)
			if _, err := orders.PlaceOrder(ctx, nil, newOrder()); err == nil {
				t.Error("PlaceOrder with a nil tx succeeded")
			}
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			n := newOrder()
			n.Items = nil
			if _, err := orders.PlaceOrder(ctx, tx, n); err == nil {
				t.Error("PlaceOrder without items succeeded")
			}
		})

		// Ensure unknown and malformed ids wrap ErrOrderNotFound.
		t.Run("ErrOrderNotFound", func(t *testing.T) {
			orders := demo.NewOrders(db, nil)
			for _, id := range []string{"999999", "0", "-1", "abc", ""} {
				if _, err := orders.Get(ctx, id); !errors.Is(err, demo.ErrOrderNotFound) {
					t.Errorf("Get(%q): %v", id, err)
				}
			}
		})
	})
}

// Ensure a handle no store can use fails at construction.
func TestNewOrdersPanics(t *testing.T) {
	for name, db := range map[string]migrator.DB{
		"NilDB":     {Dialect: migrator.SQLite},
		"NoDialect": {DB: &sql.DB{}},
		"BadPrefix": {DB: &sql.DB{}, Dialect: migrator.SQLite, Prefix: "x;"},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			demo.NewOrders(db, nil)
		})
	}
}
