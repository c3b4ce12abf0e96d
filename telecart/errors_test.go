package telecart_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/telecart-go/telecart/forms"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
)

// TestOrderErrors proves, from outside the package as a host would, that
// every error of the order flow can be told apart with errors.Is and read
// with errors.As.
func TestOrderErrors(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		ctx := context.Background()
		d, err := s.tc.Validator().Validate(s.initData(2001, "Host", ""))
		if err != nil {
			t.Fatal(err)
		}
		place := func(req telecart.OrderRequest) error {
			t.Helper()
			_, err := s.tc.Orders().PlaceOrder(ctx, d, req)
			if err == nil {
				t.Fatal("PlaceOrder succeeded; want an error")
			}
			return err
		}
		req := func(key string, items ...telecart.OrderRequestItem) telecart.OrderRequest {
			return telecart.OrderRequest{OrderKey: key, Items: items, Fields: validFields()}
		}
		one := func(id string) telecart.OrderRequestItem {
			return telecart.OrderRequestItem{ProductID: id, Quantity: 1}
		}
		sentinels := []error{telecart.ErrInvalidOrder, telecart.ErrNoBuyer, telecart.ErrUnknownProduct,
			telecart.ErrOutOfStock, telecart.ErrMixedCurrencies, telecart.ErrCatalogUnavailable,
			telecart.ErrOrderNotPlaced, telecart.ErrFormInvalid}
		// only checks that err matches want and none of the other sentinels.
		only := func(t *testing.T, err, want error, kind tcerr.Kind) {
			t.Helper()
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != (s == want) {
					t.Errorf("errors.Is(%v, %v) = %v", err, s, got)
				}
			}
			if k := tcerr.KindOf(err); k != kind {
				t.Errorf("KindOf(%v) = %q; want %q", err, k, kind)
			}
		}

		// Ensure a malformed request is ErrInvalidOrder.
		t.Run("ErrInvalidOrder", func(t *testing.T) {
			only(t, place(req("short", one("p1"))), telecart.ErrInvalidOrder, tcerr.Invalid)
		})
		// Ensure initData without a user is ErrNoBuyer.
		t.Run("ErrNoBuyer", func(t *testing.T) {
			_, err := s.tc.Orders().PlaceOrder(ctx, telegram.InitData{}, req("order-key-nobuyer", one("p1")))
			only(t, err, telecart.ErrNoBuyer, tcerr.Unauthenticated)
		})
		// Ensure an unknown product is ErrUnknownProduct, a *ProductError
		// naming it, with a field message.
		t.Run("ErrUnknownProduct", func(t *testing.T) {
			err := place(req("order-key-unknown", one("p1"), one("nope")))
			only(t, err, telecart.ErrUnknownProduct, tcerr.Validation)
			var pe *telecart.ProductError
			if !errors.As(err, &pe) || pe.ProductID != "nope" {
				t.Fatalf("errors.As ProductError: %+v", pe)
			}
			if f := tcerr.FieldsOf(err); f["items[1].product_id"] == "" {
				t.Fatalf("fields %v; want items[1].product_id", f)
			}
		})
		// Ensure a product out of stock is ErrOutOfStock, naming it.
		t.Run("ErrOutOfStock", func(t *testing.T) {
			err := place(req("order-key-stock", one("p5")))
			only(t, err, telecart.ErrOutOfStock, tcerr.Conflict)
			var pe *telecart.ProductError
			if !errors.As(err, &pe) || pe.ProductID != "p5" || pe.Name == "" {
				t.Fatalf("errors.As ProductError: %+v", pe)
			}
		})
		// Ensure two currencies in one order are ErrMixedCurrencies.
		t.Run("ErrMixedCurrencies", func(t *testing.T) {
			s.catalog.mu.Lock()
			s.catalog.products[2].Currency = "USD"
			s.catalog.mu.Unlock()
			defer func() {
				s.catalog.mu.Lock()
				s.catalog.products[2].Currency = "RUB"
				s.catalog.mu.Unlock()
			}()
			only(t, place(req("order-key-currency", one("p1"), one("p3"))), telecart.ErrMixedCurrencies, tcerr.Validation)
		})
		// Ensure checkout fields failing the form's rules are ErrFormInvalid
		// (forms.ErrValidation) with a message per field.
		t.Run("ErrFormInvalid", func(t *testing.T) {
			r := req("order-key-form", one("p1"))
			r.Fields = map[string]any{"name": ""}
			err := place(r)
			only(t, err, telecart.ErrFormInvalid, tcerr.Validation)
			if !errors.Is(err, forms.ErrValidation) {
				t.Fatal("not forms.ErrValidation")
			}
			var e *tcerr.Error
			if !errors.As(err, &e) || e.Fields["name"] == "" {
				t.Fatalf("fields: %+v", e)
			}
		})
		// Ensure a failing catalog is ErrCatalogUnavailable, its error the
		// cause.
		t.Run("ErrCatalogUnavailable", func(t *testing.T) {
			cause := errors.New("catalog database down")
			s.catalog.mu.Lock()
			s.catalog.err = cause
			s.catalog.mu.Unlock()
			defer func() {
				s.catalog.mu.Lock()
				s.catalog.err = nil
				s.catalog.mu.Unlock()
			}()
			err := place(req("order-key-catalog", one("p1")))
			only(t, err, telecart.ErrCatalogUnavailable, tcerr.Unavailable)
			if !errors.Is(err, cause) {
				t.Fatal("the catalog's error is not the cause")
			}
		})
		// Ensure a host placer's own verdict (out of stock under its lock)
		// reaches the caller as it is, and nothing of the order is stored.
		t.Run("PlacerOutOfStock", func(t *testing.T) {
			s.placer.mu.Lock()
			s.placer.failNext = fmt.Errorf("host stock check: %w", telecart.ErrOutOfStock)
			s.placer.mu.Unlock()
			before := s.count(t, "host_orders", "1=1")
			err := place(req("order-key-host-stock", one("p1")))
			only(t, err, telecart.ErrOutOfStock, tcerr.Conflict)
			if after := s.count(t, "host_orders", "1=1"); after != before {
				t.Fatalf("host_orders %d → %d; the placer's row was not rolled back", before, after)
			}
		})
		// Ensure a failing host placer is ErrOrderNotPlaced, its error the
		// cause.
		t.Run("ErrOrderNotPlaced", func(t *testing.T) {
			cause := errors.New("host orders table locked")
			s.placer.mu.Lock()
			s.placer.failNext = cause
			s.placer.mu.Unlock()
			err := place(req("order-key-placer", one("p1")))
			only(t, err, telecart.ErrOrderNotPlaced, tcerr.Unavailable)
			if !errors.Is(err, cause) {
				t.Fatal("the placer's error is not the cause")
			}
		})
	})
}
