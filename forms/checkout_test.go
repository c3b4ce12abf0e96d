package forms_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/telecart-go/telecart/forms"
)

func TestDefaultCheckout(t *testing.T) {
	// Ensure the default checkout form passes the same checks an admin's schema must pass, as Go values and as JSON.
	t.Run("Valid", func(t *testing.T) {
		form := forms.DefaultCheckout()
		if form.Alias != "checkout" || forms.CheckoutAlias != "checkout" || form.Title != "Checkout" {
			t.Fatalf("alias %q, title %q", form.Alias, form.Title)
		}
		if err := forms.ValidateSchema(form.Schema); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(form.Schema)
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := forms.DecodeSchema(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(nodes) != len(form.Schema) {
			t.Fatalf("decoded %d nodes, want %d", len(nodes), len(form.Schema))
		}
	})

	// Ensure every predefined field is in the form, and IsPredefined agrees with the list.
	t.Run("PredefinedFields", func(t *testing.T) {
		var names []string
		for _, n := range forms.DefaultCheckout().Schema {
			names = append(names, n.Name)
			if got, want := forms.IsPredefined(n.Name), slices.Contains(forms.PredefinedFields, n.Name); got != want {
				t.Errorf("IsPredefined(%q) = %v, want %v", n.Name, got, want)
			}
		}
		for _, p := range forms.PredefinedFields {
			if !slices.Contains(names, p) {
				t.Errorf("predefined field %q is not in the checkout form", p)
			}
		}
		if forms.IsPredefined("delivery") || forms.IsPredefined("Name") {
			t.Error("IsPredefined accepts a name that is not predefined")
		}
	})

	// Ensure each call returns a fresh copy.
	t.Run("Copy", func(t *testing.T) {
		a := forms.DefaultCheckout()
		a.Schema[0].Label = "changed"
		a.Schema[3].Options[0].Label = "changed"
		if b := forms.DefaultCheckout(); b.Schema[0].Label != "Name" || b.Schema[3].Options[0].Label != "Courier" {
			t.Fatal("DefaultCheckout shares state between calls")
		}
	})

	// Ensure the rules a shopper meets: name and phone required, email optional but checked, phone format.
	t.Run("Submissions", func(t *testing.T) {
		schema := forms.DefaultCheckout().Schema
		clean, errs := forms.Validate(schema, map[string]any{
			"name": "Ada Lovelace", "phone": "+44 (20) 7946-0000", "delivery": "pickup", "comment": "",
		})
		if errs != nil {
			t.Fatal(errs)
		}
		want := map[string]any{"name": "Ada Lovelace", "phone": "+44 (20) 7946-0000", "delivery": "pickup"}
		if !reflect.DeepEqual(clean, want) {
			t.Fatalf("clean = %v, want %v", clean, want)
		}

		_, errs = forms.Validate(schema, map[string]any{
			"name": "A", "phone": "call me", "email": "nope", "delivery": "drone", "address": 12.0,
		})
		wantErrs := map[string]string{
			"name":     "Name must be between 2 and 64 characters.",
			"phone":    "Phone is not in a valid format.",
			"email":    "Email must be a valid email address.",
			"delivery": "Delivery must be one of the available options.",
		}
		if !reflect.DeepEqual(errs, wantErrs) {
			t.Fatalf("errors = %v, want %v", errs, wantErrs)
		}

		// Spaces are no name or phone, and a phone needs a digit.
		_, errs = forms.Validate(schema, map[string]any{"name": "     ", "phone": "      ", "delivery": "pickup"})
		wantErrs = map[string]string{"name": "Name is required.", "phone": "Phone is required."}
		if !reflect.DeepEqual(errs, wantErrs) {
			t.Fatalf("errors = %v, want %v", errs, wantErrs)
		}
		_, errs = forms.Validate(schema, map[string]any{"name": " Ada ", "phone": "(--) --", "delivery": "pickup"})
		wantErrs = map[string]string{"phone": "Phone must contain a number."}
		if !reflect.DeepEqual(errs, wantErrs) {
			t.Fatalf("errors = %v, want %v", errs, wantErrs)
		}
	})
}
