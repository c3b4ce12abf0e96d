package forms_test

import (
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/forms"
)

// formkitCase is one rule on one value and FormKit's verdict on it.
type formkitCase struct {
	rules string
	value any
	pass  bool
}

// runFormkit validates each case's value on a node of type typ and compares
// the verdict with FormKit's.
func runFormkit(t *testing.T, v *forms.Validator, typ string, cases []formkitCase) {
	t.Helper()
	for _, c := range cases {
		n := forms.Node{Type: typ, Name: "f", Label: "Field", Validation: c.rules}
		if err := forms.ValidateSchema([]forms.Node{n}); err != nil {
			t.Errorf("%s %q: %v", typ, c.rules, err)
			continue
		}
		_, errs := v.Validate([]forms.Node{n}, map[string]any{"f": c.value})
		if got := errs == nil; got != c.pass {
			t.Errorf("%s %q with %#v: passes = %v (%v), want %v", typ, c.rules, c.value, got, errs, c.pass)
		}
	}
}

// TestFormKitRules holds each rule to the behaviour FormKit documents for
// it: its documentation's and its rule tests' passing and failing values.
func TestFormKitRules(t *testing.T) {
	v := forms.NewValidator(forms.ValidatorConfig{})

	// Ensure required treats "", null and a missing value as empty, and
	// 0, "0", false and spaces as given; required:trim ignores spaces.
	t.Run("Required", func(t *testing.T) {
		runFormkit(t, v, "text", []formkitCase{
			{"required", "", false}, {"required", "foo", true}, {"required", "0", true},
			{"required", nil, false}, {"required", "   ", true},
			{"required:trim", "   ", false}, {"required:trim", " a ", true},
			{"required:other", "   ", true}, // an unknown action is the default
		})
		runFormkit(t, v, "number", []formkitCase{{"required", 0.0, true}, {"required", nil, false}})
		runFormkit(t, v, "checkbox", []formkitCase{{"required", false, true}})
	})

	// Ensure between is inclusive, reads numeric text, and swaps inverted bounds.
	t.Run("Between", func(t *testing.T) {
		runFormkit(t, v, "number", []formkitCase{
			{"between:0,10", 5.0, true}, {"between:3,10", 0.0, false}, {"between:3,10", 15.0, false},
			{"between:1,10", 10.0, true}, {"between:1,10", 1.0, true},
		})
		runFormkit(t, v, "text", []formkitCase{
			{"between:0,10", "5", true}, {"between:0,1", "0.5", true}, {"between:5,5.5", "5", true},
			{"between:50,10", "20", true}, {"between:50,10", "5", false}, {"between:0,10", "five", false},
			// Only spaces: isNaN("   ") is false and 1 * "   " is 0.
			{"between:0,10", "   ", true}, {"between:-1,0", " \u00a0", true}, {"between:1,10", "   ", false},
		})
	})

	// Ensure number takes what FormKit's isNaN check takes among its
	// documented values, text of only spaces included (Number reads it as 0).
	t.Run("Number", func(t *testing.T) {
		runFormkit(t, v, "text", []formkitCase{
			{"number", "123", true}, {"number", "567.23", true}, {"number", "123,456", false},
			{"number", "123sdf", false}, {"number", "   ", true}, {"number", "\t", true}, {"number", " 12 ", true},
			{"+number", "", true}, // "" is 0 to isNaN as well, when the rule runs on it
		})
		runFormkit(t, v, "number", []formkitCase{
			{"number", 19832461234.0, true}, {"number", 198.32464, true}, {"number", "123", true},
		})
	})

	// Ensure url wants a URL with a host and, by default, http or https.
	t.Run("URL", func(t *testing.T) {
		runFormkit(t, v, "text", []formkitCase{
			{"url", "http://google.com", true}, {"url", "ftp://google.com", false},
			{"url:ftp:", "ftp://google.com", true}, {"url", "http://localhost:3000", true},
			{"url", "http://coke.coke", true}, {"url", "http://", false}, {"url", "google.com", false},
			{"url", "https://example.com/path?q=1#top", true}, {"url", "HTTPS://Example.COM", true},
			{"url", "https://пример.рф/каталог", true}, {"url", "http://[::1]:8080/", true},
			{"url", "http://exa mple.com", false}, {"url", "http://example.com:99999", false},
			{"url", "http://256.0.0.1", false}, {"url", "http://1.2.3.4", true}, {"url", "javascript:alert(1)", false},
			{"url:mailto:", "mailto:ann@example.com", true}, {"url", "//example.com", false},
		})
	})

	// Ensure not refuses exactly the listed values.
	t.Run("Not", func(t *testing.T) {
		runFormkit(t, v, "text", []formkitCase{
			{"not:6", "5", true}, {"not:def", "abc", true}, {"not:b,c,d,a,f", "a", false},
			{"not", "abc", true}, // no argument: nothing is refused
		})
		runFormkit(t, v, "number", []formkitCase{{"not:30", 1.0, true}, {"not:30", 30.0, false}})
	})

	// Ensure starts_with and ends_with accept any one of their arguments.
	t.Run("StartsEndsWith", func(t *testing.T) {
		runFormkit(t, v, "text", []formkitCase{
			{"starts_with:hello", "hello world", true}, {"starts_with:world", "hello world", false},
			{"starts_with:+7,8", "8 900", true}, {"starts_with:+7,8", "7 900", false},
			{"ends_with:world", "hello world", true}, {"ends_with:hello", "hello world", false},
			{"ends_with:.com,.ru", "shop.ru", true},
			{"starts_with:pizza", "taco tuesday", false}, {"starts_with:pizza,coffee", "taco tuesday", false},
			{"starts_with:pizza,taco,coffee", "taco tuesday", true},
			{"ends_with:@gmail.com", "andrew@wearebraid.com", false},
			{"ends_with:@yahoo.com,@wearebraid.com,@gmail.com", "andrew@wearebraid.com", true},
			// With nothing to look for, FormKit passes every text.
			{"starts_with", "taco tuesday", true}, {"ends_with", "andrew@wearebraid.com", true},
			{"starts_with:", "   ", true}, {"+ends_with", "", true},
		})
	})

	// Ensure the character rules read their sets as FormKit does: the default
	// set is every letter, latin is a-z and A-Z, an unknown set is the default.
	t.Run("Characters", func(t *testing.T) {
		runFormkit(t, v, "text", []formkitCase{
			{"alpha", "abc", true}, {"alpha", "z", true}, {"alpha", "jüstin", true}, {"alpha", "bęlch", true},
			{"alpha", "àáâäïíôöÆ", true}, {"alpha:russian", "àáâäïíôöÆ", true}, {"alpha:latin", "àáâäïíôöÆ", false},
			{"alpha", "justin83", false}, {"alpha", "-justin", false}, {"alpha", "Иван", true},

			{"alphanumeric", "567abc", true}, {"alphanumeric", "jüst56in", true}, {"alphanumeric", "jźąż", true},
			{"alphanumeric:russian", "123123àáâäï67íôöÆ", true}, {"alphanumeric:latin", "àáâäï123123íôöÆ", false},
			{"alphanumeric", "abcABC99.123", false},

			{"alpha_spaces", "abc def", true}, {"alpha_spaces", "jüstin is", true}, {"alpha_spaces:latin", "jüstin is", false},
			{"alpha_spaces", "justin 83", false}, {"alpha_spaces:klingon", "Анна Мария", true},

			{"contains_alpha", "123a", true}, {"contains_alpha", "123", false}, {"contains_alpha:latin", "1ä", false},
			{"contains_alphanumeric", "!!a", true}, {"contains_alphanumeric", "!!1", true}, {"contains_alphanumeric", "!!", false},
			{"contains_alphanumeric:latin", "!ä", false},
			{"contains_alpha_spaces", "1 2", true}, {"contains_alpha_spaces", "123", false}, {"contains_alpha_spaces:latin", "1ä", false},
			{"contains_lowercase", "ABc", true}, {"contains_lowercase", "ABC", false}, {"contains_lowercase", "ÀÁä", true},
			{"contains_lowercase:latin", "ÀÁä", false},
			{"contains_uppercase", "abC", true}, {"contains_uppercase", "abc", false}, {"contains_uppercase", "àÁ", true},
			{"contains_uppercase:latin", "àÁ", false},
			{"contains_numeric", "a1", true}, {"contains_numeric", "abc", false},
			{"contains_symbol", "abc!", true}, {"contains_symbol", "abc", false}, {"contains_symbol", "a~", true},

			{"lowercase", "abc", true}, {"lowercase", "ü", true}, {"lowercase", "mArtin", false}, {"lowercase", "abc1", false},
			{"lowercase:allow_numeric", "abc1", true}, {"lowercase:allow_numeric_dashes", "abc-1", true},
			{"lowercase:allow_numeric", "abc-1", false}, {"lowercase:allow_non_alpha", "abc-1!", true},
			{"lowercase:latin", "ü", false}, {"lowercase:latin", "abc", true},
			{"uppercase", "ABC", true}, {"uppercase", "Ü", true}, {"uppercase", "AbC", false},
			{"uppercase:latin", "Ü", false}, {"uppercase:allow_numeric", "AB1", true},

			{"symbol", "!@#", true}, {"symbol", "!a", false}, {"symbol", "-_.", true},
		})
	})

	// Ensure date_after, date_before and date_between compare whole days and
	// date_between includes both ends.
	t.Run("Dates", func(t *testing.T) {
		runFormkit(t, v, "date", []formkitCase{
			{"date_after:2024-01-01", "2024-01-02", true}, {"date_after:2024-01-01", "2024-01-01", false},
			{"date_before:2024-01-01", "2023-12-31", true}, {"date_before:2024-01-01", "2024-01-01", false},
			{"date_between:2024-01-01,2024-12-31", "2024-01-01", true},
			{"date_between:2024-01-01,2024-12-31", "2024-12-31", true},
			{"date_between:2024-01-01,2024-12-31", "2025-01-01", false},
			{"date_between:1960-01-01,1980-01-01", "1970-01-01", true},
		})
		runFormkit(t, v, "text", []formkitCase{
			{"date_format:MM/DD/YYYY", "12/10/1987", true}, {"date_format:MM/D/YYYY", "12/10/1987", true},
			{"date_format:MM/DD/YYYY", "1234", false}, {"date_format:M/D/YY", "1/5/24", true},
			{"date_format:DD.MM.YYYY", "31.12.2024", true}, {"date_format:DD.MM.YYYY", "31-12-2024", false},
			{"date_format:YYYY-MM-DD", "2024-13-01", false},
		})
	})

	// Ensure email takes FormKit's examples, Unicode addresses included.
	t.Run("Email", func(t *testing.T) {
		runFormkit(t, v, "email", []formkitCase{
			{"email", "dev+123@wearebraid.com", true}, {"email", "12345@google.com", true},
			{"email", "àlphä@❤️.ly", true}, {"email", "12345@google.photography", true},
			{"email", "12345@localhost", false}, {"email", "1*(123)2345@localhost", false},
		})
	})

	// Ensure length counts JavaScript's way and swaps inverted bounds.
	t.Run("Length", func(t *testing.T) {
		runFormkit(t, v, "text", []formkitCase{
			{"length:3", "abc", true}, {"length:4", "abc", false}, {"length:1,5", "abcdef", false},
			{"length:1,6", "abcdef", true}, {"length:6,1", "abcdef", true}, {"length:6,6", "abcdef", true},
			{"length:6,6", "abcde", false}, {"length:6,6", "abcdefg", false}, {"length:2", "😀", true},
			{"length", "", true}, {"length", strings.Repeat("a", 300), true}, // no argument: 0 to any
		})
	})
}

// TestFormKitFieldRules covers the rules that read another field.
func TestFormKitFieldRules(t *testing.T) {
	v := forms.NewValidator(forms.ValidatorConfig{})
	verdict := func(t *testing.T, nodes []forms.Node, values map[string]any) map[string]string {
		t.Helper()
		if err := forms.ValidateSchema(nodes); err != nil {
			t.Fatal(err)
		}
		_, errs := v.Validate(nodes, values)
		return errs
	}
	text := func(name, rules string) forms.Node {
		return forms.Node{Type: "text", Name: name, Label: name, Validation: rules}
	}

	// Ensure confirm finds its field by suffix or argument, compares loosely
	// by default and strictly on request.
	t.Run("Confirm", func(t *testing.T) {
		pair := []forms.Node{text("password", ""), text("password_confirm", "confirm")}
		if errs := verdict(t, pair, map[string]any{"password": "abc", "password_confirm": "abc"}); errs != nil {
			t.Errorf("matching: %v", errs)
		}
		errs := verdict(t, pair, map[string]any{"password": "abc", "password_confirm": "abd"})
		if errs["password_confirm"] != "password_confirm does not match password." {
			t.Errorf("differing: %v", errs)
		}
		for _, name := range []string{"password_confirm", "password_confirmed"} {
			nodes := []forms.Node{text("password", ""), text(name, "confirm")}
			if errs := verdict(t, nodes, map[string]any{"password": "abc", name: "abc"}); errs != nil {
				t.Errorf("%s: %v", name, errs)
			}
		}
		nodes := []forms.Node{text("password", "confirm"), text("password_confirm", "")}
		if errs := verdict(t, nodes, map[string]any{"password": "abc", "password_confirm": "abc"}); errs != nil {
			t.Errorf("inferred _confirm: %v", errs)
		}
		nodes = []forms.Node{text("password", "confirm:check_here"), text("check_here", "")}
		if errs := verdict(t, nodes, map[string]any{"password": "abc", "check_here": "abc"}); errs != nil {
			t.Errorf("by argument: %v", errs)
		}
		num := forms.Node{Type: "number", Name: "code", Label: "Code"}
		loose := []forms.Node{text("check", "confirm:code"), num}
		if errs := verdict(t, loose, map[string]any{"check": "123", "code": 123.0}); errs != nil {
			t.Errorf("loose: %v", errs)
		}
		strict := []forms.Node{text("check", "confirm:code,strict"), num}
		if errs := verdict(t, strict, map[string]any{"check": "123", "code": 123.0}); errs == nil {
			t.Error("strict: passed")
		}
		// A field to compare with that is not in the form is a schema error.
		if err := forms.ValidateSchema([]forms.Node{text("password_confirmed", "confirm"), text("password_again", "")}); err == nil {
			t.Error("confirm without its field: no schema error")
		}
	})

	// Ensure require_one passes when the field or any named field has a value.
	t.Run("RequireOne", func(t *testing.T) {
		nodes := []forms.Node{text("phone", "require_one:email"), forms.Node{Type: "email", Name: "email", Label: "Email"}}
		if errs := verdict(t, nodes, map[string]any{"email": "a@b.co"}); errs != nil {
			t.Errorf("email given: %v", errs)
		}
		if errs := verdict(t, nodes, map[string]any{"phone": "123"}); errs != nil {
			t.Errorf("phone given: %v", errs)
		}
		errs := verdict(t, nodes, map[string]any{"phone": "", "email": ""})
		if errs["phone"] != "phone or Email is required." {
			t.Errorf("neither: %v", errs)
		}
		if errs := verdict(t, []forms.Node{text("a", "require_one")}, map[string]any{"a": ""}); errs == nil {
			t.Error("empty with no other fields: passed")
		}
		if err := forms.ValidateSchema([]forms.Node{text("phone", "require_one:mail")}); err == nil {
			t.Error("require_one naming a missing field: no schema error")
		}
	})
}

// TestFormKitToday covers the date rules that compare with now: "today" is
// the Validator's clock in the shop's time zone.
func TestFormKitToday(t *testing.T) {
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	// 22:30 UTC on 14 June is already 15 June in Moscow.
	now := func() time.Time { return time.Date(2025, 6, 14, 22, 30, 0, 0, time.UTC) }
	inMoscow := forms.NewValidator(forms.ValidatorConfig{Now: now, Location: moscow})
	inUTC := forms.NewValidator(forms.ValidatorConfig{Now: now})

	// Ensure date_after without a date accepts days after today only.
	runFormkit(t, inMoscow, "date", []formkitCase{
		{"date_after", "2025-06-16", true}, {"date_after", "2025-06-15", false}, {"date_after", "2025-06-14", false},
		// date_before without a date accepts today, which has begun, and earlier.
		{"date_before", "2025-06-15", true}, {"date_before", "2025-06-16", false},
		// date_between with one date runs from after today to that date.
		{"date_between:2025-06-20", "2025-06-16", true}, {"date_between:2025-06-20", "2025-06-20", true},
		{"date_between:2025-06-20", "2025-06-15", false}, {"date_between:2025-06-20", "2025-06-21", false},
	})
	runFormkit(t, inUTC, "date", []formkitCase{
		{"date_after", "2025-06-15", true}, {"date_before", "2025-06-15", false}, {"date_before", "2025-06-14", true},
	})
}
