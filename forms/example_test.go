package forms_test

import (
	"errors"
	"fmt"
	"sort"

	"github.com/telecart-go/telecart/forms"
)

// Validate a checkout submission on the server and report per-field messages.
func ExampleValidate() {
	form := forms.DefaultCheckout()
	_, fieldErrors := forms.Validate(form.Schema, map[string]any{
		"name":   "A",
		"phone":  "12",
		"email":  "ada@example",
		"coupon": "FREE",
	})
	names := make([]string, 0, len(fieldErrors))
	for name := range fieldErrors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Printf("%s: %s\n", name, fieldErrors[name])
	}

	clean, _ := forms.Validate(form.Schema, map[string]any{
		"name":     " Ada ",
		"phone":    "+44 20 7946 0000",
		"delivery": "courier",
	})
	fmt.Println(clean)
	// Output:
	// coupon: Unknown field.
	// delivery: Delivery is required.
	// email: Email must be a valid email address.
	// name: Name must be between 2 and 64 characters.
	// phone: Phone must be between 5 and 20 characters.
	// map[delivery:courier name:Ada phone:+44 20 7946 0000]
}

// Decode a schema sent by the admin and list what is wrong with it.
func ExampleDecodeSchema() {
	_, err := forms.DecodeSchema([]byte(`[
		{"$formkit": "text", "name": "name", "label": "Name", "validation": "required|lenght:2"},
		{"$formkit": "select", "name": "size", "label": "Size"},
		{"$formkit": "text", "name": "name", "label": "Nickname"}
	]`))
	var se *forms.SchemaError
	if errors.As(err, &se) {
		for _, p := range se.Problems {
			fmt.Printf("node %d (%s): %.40s\n", p.Index, p.Name, p.Message)
		}
	}
	// Output:
	// node 0 (name): validation: unknown rule "lenght"; known
	// node 1 (size): a select node needs options
	// node 2 (name): duplicate name "name" (also used by node
}

// Parse a FormKit validation string.
func ExampleParseRules() {
	rules, err := forms.ParseRules("required|length:5,20|?(300)matches:/^[+0-9 ()-]+$/")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rules {
		fmt.Println(r.Name, r.Args, r.Optional, r.Debounce)
	}
	_, err = forms.ParseRules("required|phone")
	fmt.Printf("%.34s\n", err)
	// Output:
	// required [] false 0
	// length [5 20] false 0
	// matches [/^[+0-9 ()-]+$/] true 300
	// forms: unknown rule "phone"; known
}
