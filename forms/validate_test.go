package forms_test

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/forms"
)

// absent marks a field that is not submitted at all.
var absent = &struct{}{}

// check validates one node with one value and compares the field's message
// (or, when wantMsg is "", the clean value).
func check(t *testing.T, n forms.Node, value any, wantMsg string, wantClean any) {
	t.Helper()
	if n.Name == "" {
		n.Name = "f"
	}
	values := map[string]any{}
	if value != absent {
		values[n.Name] = value
	}
	clean, errs := forms.Validate([]forms.Node{n}, values)
	if wantMsg != "" {
		if clean != nil {
			t.Errorf("%s %q with %#v: clean = %v, want nil", n.Type, n.Validation, value, clean)
		}
		if got := errs[n.Name]; got != wantMsg {
			t.Errorf("%s %q with %#v: message = %q, want %q", n.Type, n.Validation, value, got, wantMsg)
		}
		return
	}
	if errs != nil {
		t.Errorf("%s %q with %#v: errors = %v", n.Type, n.Validation, value, errs)
		return
	}
	got, ok := clean[n.Name]
	if wantClean == nil {
		if ok {
			t.Errorf("%s %q with %#v: clean has %#v, want no entry", n.Type, n.Validation, value, got)
		}
		return
	}
	if !reflect.DeepEqual(got, wantClean) {
		t.Errorf("%s %q with %#v: clean = %#v, want %#v", n.Type, n.Validation, value, got, wantClean)
	}
}

type valueCase struct {
	value     any
	wantMsg   string
	wantClean any
}

func runCases(t *testing.T, n forms.Node, cases []valueCase) {
	t.Helper()
	for _, c := range cases {
		check(t, n, c.value, c.wantMsg, c.wantClean)
	}
}

func TestValidateTypes(t *testing.T) {
	// Ensure text-like values are trimmed strings; numbers become their decimal text.
	t.Run("Text", func(t *testing.T) {
		for _, typ := range []string{"text", "email", "tel", "textarea"} {
			n := forms.Node{Type: typ, Name: "f", Label: "Field"}
			runCases(t, n, []valueCase{
				{"  hello  ", "", "hello"},
				{"", "", nil},
				{"   ", "", nil},
				{nil, "", nil},
				{absent, "", nil},
				{79001234567.0, "", "79001234567"},
				{json.Number("42"), "", "42"},
				{7, "", "7"},
				{"tab\there", "", "tab\there"},
				{true, "Field must be text.", nil},
				{[]any{"a"}, "Field must be text.", nil},
				{map[string]any{"a": 1}, "Field must be text.", nil},
				{math.NaN(), "Field must be text.", nil},
				{"a\x00b", "Field contains invalid characters.", nil},
				{"a\u0085b", "Field contains invalid characters.", nil},
				{"\xff", "Field contains invalid characters.", nil},
				{strings.Repeat("я", forms.MaxValueLength+1), "Field must be at most 10000 characters.", nil},
				{strings.Repeat("я", forms.MaxValueLength), "", strings.Repeat("я", forms.MaxValueLength)},
			})
		}
		// Line breaks are allowed in a textarea only.
		check(t, forms.Node{Type: "textarea", Label: "Comment"}, "line 1\r\nline 2\n", "", "line 1\r\nline 2")
		check(t, forms.Node{Type: "text", Label: "Name"}, "line 1\nline 2", "Name contains invalid characters.", nil)
		// An option's value is kept exactly, spaces and all.
		check(t, forms.Node{Type: "select", Label: "Size", Options: []forms.Option{{" M ", " M "}}}, " M ", "", " M ")
	})

	// Ensure number nodes take numbers and numeric strings, and nothing else.
	t.Run("Number", func(t *testing.T) {
		runCases(t, forms.Node{Type: "number", Label: "Quantity"}, []valueCase{
			{3.5, "", 3.5},
			{0.0, "", 0.0},
			{json.Number("-12"), "", -12.0},
			{" 1e3 ", "", 1000.0},
			{"+2", "", 2.0},
			{".5", "", 0.5},
			{int64(9), "", 9.0},
			{uint8(9), "", 9.0},
			{float32(1.5), "", 1.5},
			{"", "", nil},
			{nil, "", nil},
			{"abc", "Quantity must be a number.", nil},
			{"1e", "Quantity must be a number.", nil},
			{"0x10", "Quantity must be a number.", nil},
			{"NaN", "Quantity must be a number.", nil},
			{"Infinity", "Quantity must be a number.", nil},
			{"1e999", "Quantity must be a number.", nil},
			{"1,5", "Quantity must be a number.", nil},
			{json.Number("bogus"), "Quantity must be a number.", nil},
			{math.Inf(1), "Quantity must be a number.", nil},
			{true, "Quantity must be a number.", nil},
			{[]any{1.0}, "Quantity must be a number.", nil},
		})
	})

	// Ensure checkboxes are booleans, false when not submitted.
	t.Run("Checkbox", func(t *testing.T) {
		runCases(t, forms.Node{Type: "checkbox", Label: "Gift wrap"}, []valueCase{
			{true, "", true},
			{false, "", false},
			{absent, "", false},
			{"on", "", true},
			{"Yes", "", true},
			{"0", "", false},
			{"", "", false},
			{1.0, "", true},
			{json.Number("0"), "", false},
			{"maybe", "Gift wrap must be true or false.", nil},
			{2.0, "Gift wrap must be true or false.", nil},
			{map[string]any{}, "Gift wrap must be true or false.", nil},
		})
	})

	// Ensure select and radio values are among the options, compared exactly.
	t.Run("Choice", func(t *testing.T) {
		for _, typ := range []string{"select", "radio"} {
			n := forms.Node{Type: typ, Label: "Delivery", Options: []forms.Option{{"Courier", "courier"}, {"One", "1"}}}
			runCases(t, n, []valueCase{
				{"courier", "", "courier"},
				{1.0, "", "1"},
				{json.Number("1"), "", "1"},
				{"", "", nil},
				{absent, "", nil},
				{"Courier", "Delivery must be one of the available options.", nil},
				{" courier", "Delivery must be one of the available options.", nil},
				{"post", "Delivery must be one of the available options.", nil},
				{true, "Delivery must be one of the available options.", nil},
				{[]any{"courier"}, "Delivery must be one of the available options.", nil},
			})
		}
	})

	// Ensure date values are YYYY-MM-DD strings.
	t.Run("Date", func(t *testing.T) {
		runCases(t, forms.Node{Type: "date", Label: "Delivery date"}, []valueCase{
			{"2025-02-28", "", "2025-02-28"},
			{" 2024-02-29 ", "", "2024-02-29"},
			{"", "", nil},
			{"2025-02-29", "Delivery date must be a valid date (YYYY-MM-DD).", nil},
			{"28.02.2025", "Delivery date must be a valid date (YYYY-MM-DD).", nil},
			{"2025-02-28T10:00:00Z", "Delivery date must be a valid date (YYYY-MM-DD).", nil},
			{20250228.0, "Delivery date must be a valid date (YYYY-MM-DD).", nil},
			{false, "Delivery date must be a valid date (YYYY-MM-DD).", nil},
		})
	})
}

func TestValidateRules(t *testing.T) {
	text := func(rules string) forms.Node { return forms.Node{Type: "text", Label: "Name", Validation: rules} }
	num := func(rules string) forms.Node { return forms.Node{Type: "number", Label: "Age", Validation: rules} }

	// Ensure required fails on missing and blank values; as in FormKit,
	// spaces pass plain required (and are not stored) but not required:trim.
	t.Run("Required", func(t *testing.T) {
		runCases(t, text("required"), []valueCase{
			{"x", "", "x"},
			{absent, "Name is required.", nil},
			{nil, "Name is required.", nil},
			{"  ", "", nil},
		})
		runCases(t, text("required:trim"), []valueCase{
			{" x ", "", "x"},
			{"  ", "Name is required.", nil},
			{"\u3000\t", "Name is required.", nil},
			{"", "Name is required.", nil},
		})
		check(t, num("required"), 0.0, "", 0.0)
		check(t, num("required"), "", "Age is required.", nil)
		check(t, forms.Node{Type: "select", Label: "Size", Validation: "required", Options: []forms.Option{{"S", "s"}}}, "", "Size is required.", nil)
		check(t, forms.Node{Type: "checkbox", Label: "News", Validation: "required"}, false, "", false)
	})

	// Ensure accepted wants a checked checkbox, and an absent checkbox is not checked.
	t.Run("Accepted", func(t *testing.T) {
		n := forms.Node{Type: "checkbox", Label: "Terms", Validation: "accepted"}
		runCases(t, n, []valueCase{
			{true, "", true},
			{"on", "", true},
			{false, "Terms must be accepted.", nil},
			{absent, "Terms must be accepted.", nil},
		})
	})

	// Ensure email accepts plain addresses and rejects the rest.
	t.Run("Email", func(t *testing.T) {
		n := forms.Node{Type: "email", Label: "Email", Validation: "email"}
		for _, ok := range []string{"a@b.co", "first.last+tag@mail.example.com", "иван@почта.рф", "x_y-z@a-b.io",
			"a@-b.co", "a@b_c.co", `"a"@b.co`, `"a b"@c.co`, strings.Repeat("a", 65) + "@b.co", "a@" + strings.Repeat("b", 64) + ".co"} {
			check(t, n, ok, "", ok)
		}
		check(t, n, "", "", nil) // optional when empty
		for _, bad := range []string{"a", "a@b", "@b.co", "a@.co", "a@b.", "a@@b.co", "a b@c.co", "a@b c.co",
			".a@b.co", "a.@b.co", "a..b@c.co", "Ann <a@b.co>", " a@b.co", "a@b.c", `""@b.co`, "a@b.c\u00a0"} {
			check(t, n, bad, "Email must be a valid email address.", nil)
		}
	})

	// Ensure length counts as JavaScript does (UTF-16 code units, spaces
	// included) and words its message for each bound.
	t.Run("Length", func(t *testing.T) {
		runCases(t, forms.Node{Type: "tel", Label: "Phone", Validation: "length:5,20"}, []valueCase{
			{"12345", "", "12345"},
			{strings.Repeat("1", 20), "", strings.Repeat("1", 20)},
			{"1234", "Phone must be between 5 and 20 characters.", nil},
			{strings.Repeat("1", 21), "Phone must be between 5 and 20 characters.", nil},
			{"", "", nil},
		})
		check(t, text("length:2"), "Ё", "Name must be at least 2 characters.", nil)
		check(t, text("length:2"), "Ёж", "", "Ёж")
		check(t, text("length:1"), "  ", "", nil)
		check(t, text("length:3"), "  ", "Name must be at least 3 characters.", nil)
		check(t, text("+length:1"), "", "Name must be at least 1 character.", nil)
		check(t, text("length:0,1"), "😀", "Name must be at most 1 character.", nil)
		check(t, text("length:2,2"), "😀", "", "😀")
		check(t, text("length:4,1"), "abcde", "Name must be between 1 and 4 characters.", nil)
		check(t, text("length:0,3"), "日本語x", "Name must be at most 3 characters.", nil)
		check(t, text("length:0,3"), "日本語", "", "日本語")
		check(t, text("length:2,2"), "abc", "Name must be exactly 2 characters.", nil)
	})

	// Ensure min and max compare numbers, inclusively.
	t.Run("MinMax", func(t *testing.T) {
		runCases(t, num("min:18|max:120.5"), []valueCase{
			{18.0, "", 18.0},
			{"120.5", "", 120.5},
			{17.99, "Age must be at least 18.", nil},
			{121.0, "Age must be at most 120.5.", nil},
			{absent, "", nil},
		})
	})

	// Ensure number wants numeric text on text nodes.
	t.Run("Number", func(t *testing.T) {
		runCases(t, text("number"), []valueCase{
			{"12.5", "", "12.5"},
			{"-3e2", "", "-3e2"},
			{12.0, "", "12"},
			{"twelve", "Name must be a number.", nil},
			{"0x1F", "Name must be a number.", nil},
		})
		check(t, num("number"), 5.0, "", 5.0)
	})

	// Ensure matches tries regular expressions and literal values, any of which may match.
	t.Run("Matches", func(t *testing.T) {
		runCases(t, forms.Node{Type: "tel", Label: "Phone", Validation: "matches:/^[+0-9 ()-]+$/"}, []valueCase{
			{"+7 (900) 000-00-00", "", "+7 (900) 000-00-00"},
			{"call me", "Phone is not in a valid format.", nil},
		})
		runCases(t, text("matches:/^a/,exact"), []valueCase{
			{"abc", "", "abc"},
			{"exact", "", "exact"},
			{"exactly", "Name is not in a valid format.", nil},
		})
		// Patterns are unanchored, like JavaScript's test.
		check(t, text("matches:/[0-9]/"), "a1b", "", "a1b")
	})

	// Ensure alpha and alphanumeric accept Unicode letters by default and only ASCII with latin.
	t.Run("Alpha", func(t *testing.T) {
		runCases(t, text("alpha"), []valueCase{
			{"Иван", "", "Иван"},
			{"José", "", "José"},
			{"Ivan2", "Name can only contain letters.", nil},
			{"Jean Paul", "Name can only contain letters.", nil},
		})
		check(t, text("alpha:latin"), "José", "Name can only contain Latin letters.", nil)
		check(t, text("alpha:latin"), "Jose", "", "Jose")
		runCases(t, text("alphanumeric"), []valueCase{
			{"Ivan2", "", "Ivan2"},
			{"Иван2", "", "Иван2"},
			{"Ivan_2", "Name can only contain letters and numbers.", nil},
		})
		check(t, text("alphanumeric:latin"), "Иван2", "Name can only contain Latin letters and numbers.", nil)
		check(t, text("+alpha"), "", "Name can only contain letters.", nil)
	})

	// Ensure date_after and date_before are strict comparisons.
	t.Run("Dates", func(t *testing.T) {
		n := forms.Node{Type: "date", Label: "Date", Validation: "date_after:2025-01-01|date_before:2025-12-31"}
		runCases(t, n, []valueCase{
			{"2025-01-02", "", "2025-01-02"},
			{"2025-12-30", "", "2025-12-30"},
			{"2025-01-01", "Date must be after 2025-01-01.", nil},
			{"2025-12-31", "Date must be before 2025-12-31.", nil},
		})
		check(t, text("date_after:2025-01-01"), "soon", "Name must be after 2025-01-01.", nil)
	})

	// Ensure in (and FormKit's is) want one of the listed values; numbers compare numerically.
	t.Run("In", func(t *testing.T) {
		for _, rule := range []string{"in", "is"} {
			runCases(t, text(rule+":red,green"), []valueCase{
				{"green", "", "green"},
				{"blue", "Name is not an allowed value.", nil},
			})
			runCases(t, num(rule+":1,2.5"), []valueCase{
				{"2.50", "", 2.5},
				{1.0, "", 1.0},
				{3.0, "Age is not an allowed value.", nil},
			})
		}
	})

	// Ensure rules run in order and the first failure is the message.
	t.Run("Order", func(t *testing.T) {
		check(t, text("required|length:3|alpha"), "a1", "Name must be at least 3 characters.", nil)
		check(t, text("required|alpha|length:3"), "a1", "Name can only contain letters.", nil)
	})

	// Ensure the hints follow FormKit: "+" runs on empty values, "?" never blocks, "*" and debounce change nothing here.
	t.Run("Hints", func(t *testing.T) {
		check(t, text("?length:5"), "abc", "", "abc")
		check(t, text("?required"), absent, "", nil)
		check(t, text("+matches:/x/"), "", "Name is not in a valid format.", nil)
		check(t, text("*(300)length:5"), "abc", "Name must be at least 5 characters.", nil)
		check(t, num("+min:1"), absent, "Age must be at least 1.", nil)
	})
}

func TestValidate(t *testing.T) {
	nodes := []forms.Node{
		{Type: "text", Name: "name", Label: "Name", Validation: "required"},
		{Type: "text", Name: "nick", Validation: "required"},
		{Type: "checkbox", Name: "gift"},
	}

	// Ensure a valid submission gives clean values and no errors.
	t.Run("OK", func(t *testing.T) {
		clean, errs := forms.Validate(nodes, map[string]any{"name": " Ada ", "nick": "ada", "gift": "on"})
		if errs != nil {
			t.Fatal(errs)
		}
		want := map[string]any{"name": "Ada", "nick": "ada", "gift": true}
		if !reflect.DeepEqual(clean, want) {
			t.Fatalf("clean = %v, want %v", clean, want)
		}
	})

	// Ensure every failing field is reported, a label-less node is named by its name, and unknown fields are errors.
	t.Run("ErrFields", func(t *testing.T) {
		clean, errs := forms.Validate(nodes, map[string]any{"gift": "maybe", "admin": true, "": 1})
		if clean != nil {
			t.Fatalf("clean = %v, want nil", clean)
		}
		want := map[string]string{
			"name":  "Name is required.",
			"nick":  "nick is required.",
			"gift":  "gift must be true or false.",
			"admin": "Unknown field.",
			"":      "Unknown field.",
		}
		if !reflect.DeepEqual(errs, want) {
			t.Fatalf("errors = %v, want %v", errs, want)
		}
	})

	// Ensure a schema with duplicate names uses the first node, and unnamed nodes are ignored.
	t.Run("DuplicateNames", func(t *testing.T) {
		clean, errs := forms.Validate([]forms.Node{
			{Type: "text", Name: "a"},
			{Type: "number", Name: "a", Validation: "required"},
			{Type: "text", Validation: "required"},
		}, map[string]any{"a": "x"})
		if errs != nil || clean["a"] != "x" {
			t.Fatalf("clean = %v, errors = %v", clean, errs)
		}
	})

	// Ensure a node whose rules do not parse fails closed, without details meant for the admin.
	t.Run("ErrBadRules", func(t *testing.T) {
		_, errs := forms.Validate([]forms.Node{{Type: "text", Name: "a", Label: "A", Validation: "bogus"}}, map[string]any{"a": "x"})
		if errs["a"] != "A cannot be validated." {
			t.Fatalf("errors = %v", errs)
		}
	})

	// Ensure an empty schema accepts only an empty submission.
	t.Run("Empty", func(t *testing.T) {
		clean, errs := forms.Validate(nil, nil)
		if errs != nil || clean == nil || len(clean) != 0 {
			t.Fatalf("clean = %v, errors = %v", clean, errs)
		}
	})
}

func FuzzValidate(f *testing.F) {
	f.Add("required|length:2,64", uint8(0), []byte(`{"f": "Ada"}`))
	f.Add("required|length:5,20|matches:/^[+0-9 ()-]+$/", uint8(2), []byte(`{"f": 79001234567}`))
	f.Add("email", uint8(1), []byte(`{"f": "a@b.co", "x": 1}`))
	f.Add("min:1|max:10|in:2,3", uint8(4), []byte(`{"f": "3"}`))
	f.Add("required|in:a", uint8(5), []byte(`{"f": "a"}`))
	f.Add("accepted", uint8(7), []byte(`{"f": "on"}`))
	f.Add("date_after:2024-01-01|+date_before:2030-01-01", uint8(8), []byte(`{"f": "2025-01-01"}`))
	f.Add("+alpha:latin|?alphanumeric|*number", uint8(3), []byte(`{"f": null}`))
	f.Add("bogus", uint8(0), []byte(`{"f": [1, {"a": 2}]}`))
	f.Add("", uint8(9), []byte(`{"name": "Ada", "phone": "+7 900", "delivery": "pickup"}`))
	f.Add("", uint8(6), []byte(`not json`))
	f.Add("required:trim|between:10,1|not:5", uint8(4), []byte(`{"f": " 7 "}`))
	f.Add("url:ftp:,https:|starts_with:h|ends_with:/", uint8(2), []byte(`{"f": "https://пример.рф:8080/"}`))
	f.Add("confirm:f|require_one:f", uint8(2), []byte(`{"f": "x"}`))
	f.Add("date_after|date_before|date_between:2030-01-01|date_format:YYYY-MM-DD", uint8(10), []byte(`{"f": "2029-12-31"}`))
	f.Add("alpha_spaces:latin|contains_symbol|lowercase:allow_non_alpha|uppercase|symbol", uint8(2), []byte(`{"f": "àb c!"}`))
	f.Add("email|length:2,1", uint8(3), []byte(`{"f": "\"a b\"@❤️.ly"}`))
	types := append([]string{"", "bogus"}, forms.NodeTypes()...)
	f.Fuzz(func(t *testing.T, rules string, typ uint8, data []byte) {
		var values map[string]any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&values); err != nil {
			values = map[string]any{"f": string(data)}
		}
		node := forms.Node{
			Type: types[int(typ)%len(types)], Name: "f", Label: "Field", Validation: rules,
			Options: []forms.Option{{"A", "a"}, {"One", "1"}},
		}
		schemas := [][]forms.Node{{node}, forms.DefaultCheckout().Schema}
		now := time.Date(2025, 6, 14, 22, 30, 0, 0, time.UTC)
		v := forms.NewValidator(forms.ValidatorConfig{Now: func() time.Time { return now }, Location: time.FixedZone("UTC+3", 3*3600)})
		for _, nodes := range schemas {
			clean, errs := v.Validate(nodes, values)
			if (clean == nil) == (errs == nil) {
				t.Fatalf("exactly one of clean and errors must be nil: %v, %v", clean, errs)
			}
			byName := make(map[string]forms.Node)
			for _, n := range nodes {
				byName[n.Name] = n
			}
			for name, v := range clean {
				n, ok := byName[name]
				if !ok {
					t.Fatalf("clean has %q, which is not in the schema", name)
				}
				var typeOK bool
				switch n.Type {
				case "number":
					f, isFloat := v.(float64)
					typeOK = isFloat && !math.IsNaN(f) && !math.IsInf(f, 0)
				case "checkbox":
					_, typeOK = v.(bool)
				default:
					s, isString := v.(string)
					typeOK = isString && s != "" && s == strings.TrimSpace(s)
				}
				if !typeOK {
					t.Fatalf("clean[%q] = %#v for a %s node", name, v, n.Type)
				}
			}
			for name, msg := range errs {
				_, inSchema := byName[name]
				_, submitted := values[name]
				if !inSchema && !submitted || msg == "" {
					t.Fatalf("error %q for %q", msg, name)
				}
			}
		}
	})
}
