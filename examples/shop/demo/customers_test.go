package demo_test

import (
	"context"
	"testing"

	"github.com/telecart-go/telecart/examples/shop/demo"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
)

func TestCustomersFindCustomer(t *testing.T) {
	migratortest.Each(t, sources, func(t *testing.T, db migrator.DB) {
		customers := demo.NewCustomers(db)
		ctx := context.Background()
		for _, tc := range []struct {
			name         string
			email, phone string
			want         int64
		}{
			// Ensure e-mail matches ignoring case and spaces.
			{"Email", "anna@example.com", "", 1},
			{"EmailCase", "  Ivan@Example.COM ", "", 2},
			// Ensure phone matches on digits, whatever the spelling.
			{"Phone", "", "+7 (900) 123-45-67", 1},
			{"PhoneDigits", "", "79127654321", 2},
			{"PhoneDomestic", "", "8 912 765 43 21", 2},
			// Ensure e-mail wins, and phone is tried when e-mail is unknown.
			{"EmailFirst", "ivan@example.com", "+79001234567", 2},
			{"PhoneFallback", "nobody@example.com", "+7-900-123-45-67", 1},
			// Ensure no match is 0 without an error.
			{"None", "nobody@example.com", "+7 999 000-00-00", 0},
			{"Empty", "", "", 0},
			{"NoDigits", "", "call me", 0},
			{"PartialPhone", "", "1234567", 0},
			{"PartialEmail", "anna", "", 0},
			{"Wildcard", "%", "%", 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := customers.FindCustomer(ctx, tc.email, tc.phone)
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Fatalf("FindCustomer(%q, %q) = %d, want %d", tc.email, tc.phone, got, tc.want)
				}
			})
		}
	})
}
