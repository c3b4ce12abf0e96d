// Package forms holds the forms a TeleCart storefront shows, such as the
// checkout form, as FormKit schemas, and validates submissions against them
// on the server, so an order never relies on the client's validation.
//
// A form is a list of [Node] values in FormKit's schema format. The admin API
// receives a schema as JSON and checks it with [DecodeSchema] (or
// [ValidateSchema] for nodes built in Go) before it is stored; the storefront
// API serves it to FormKit unchanged; the order flow checks the submitted
// fields with [Validate] and stores the clean values:
//
//	form := forms.DefaultCheckout()
//	clean, fieldErrors := forms.Validate(form.Schema, map[string]any{
//		"name":     "Ada",
//		"phone":    "+44 20 7946 0000",
//		"delivery": "pickup",
//	})
//	if fieldErrors != nil {
//		// answer 422 with fieldErrors, e.g. {"phone": "Phone is required."}
//	}
//	_ = clean // {"name": "Ada", "phone": "+44 20 7946 0000", "delivery": "pickup"}
//
// Validation strings use FormKit's syntax ("required|length:2,64"), parsed by
// [ParseRules]; the rules are listed by [RuleNames] and have FormKit's
// meaning (docs/forms.md in the repository describes each). Rules that
// compare a date with today read it from a [Validator]'s clock in the
// shop's time zone; [Store.ValidateSubmission] uses the store's clock and
// [StoreConfig.Location]. Messages are English and name the field by its
// label.
//
// The fields named in [PredefinedFields] fill the order's own columns; the
// values of other nodes travel with the order as metadata.
package forms
