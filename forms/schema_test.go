package forms_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/forms"
)

func TestOption(t *testing.T) {
	// Ensure every option spelling FormKit allows decodes to a label and a value.
	t.Run("Unmarshal", func(t *testing.T) {
		tests := []struct {
			in   string
			want []forms.Option
		}{
			{`["Courier", "Pickup"]`, []forms.Option{{"Courier", "Courier"}, {"Pickup", "Pickup"}}},
			{`[{"label": "Courier", "value": "courier"}]`, []forms.Option{{"Courier", "courier"}}},
			{`[{"value": "courier"}]`, []forms.Option{{"courier", "courier"}}},
			{`[{"value": 1, "label": "One"}, {"value": true}]`, []forms.Option{{"One", "1"}, {"true", "true"}}},
			{`[{"courier": "Courier"}, "pickup"]`, []forms.Option{{"Courier", "courier"}, {"pickup", "pickup"}}},
			{`{"pickup": "Pickup", "courier": "Courier", "post": 3}`, []forms.Option{{"Pickup", "pickup"}, {"Courier", "courier"}, {"3", "post"}}},
			{`[]`, nil},
			{`{}`, nil},
			{`null`, nil},
		}
		for _, tt := range tests {
			var n forms.Node
			if err := json.Unmarshal([]byte(`{"$formkit": "select", "options": `+tt.in+`}`), &n); err != nil {
				t.Errorf("%s: %v", tt.in, err)
				continue
			}
			if !reflect.DeepEqual(n.Options, tt.want) {
				t.Errorf("%s: options = %#v, want %#v", tt.in, n.Options, tt.want)
			}
		}
	})

	// Ensure options that are neither strings nor {label, value} objects are errors.
	t.Run("ErrUnmarshal", func(t *testing.T) {
		tests := []struct{ in, want string }{
			{`[1]`, "an option must be a string or an object"},
			{`[["a"]]`, "an option must be a string or an object"},
			{`[null]`, "an option must be a string or an object"},
			{`[{"value": "a", "attrs": {}}]`, `unknown option field "attrs"`},
			{`[{"label": "A"}]`, `an option object needs a "value"`},
			{`[{"value": "a", "label": 1}]`, "option label must be a string"},
			{`[{"value": null}]`, "option value: must be a string, number or boolean"},
			{`[{"a": "A", "b": "B"}]`, `a single "value": "label" entry`},
			{`[{"a": {}}]`, `option "a": must be a string, number or boolean`},
			{`{"a": ["A"]}`, `option "a": must be a string, number or boolean`},
			{`"courier"`, "options must be an array or an object"},
			{`7`, "options must be an array or an object"},
		}
		for _, tt := range tests {
			var n forms.Node
			err := json.Unmarshal([]byte(`{"$formkit": "select", "options": `+tt.in+`}`), &n)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: error = %v, want %q", tt.in, err, tt.want)
			}
		}
	})

	// Ensure options always encode as {"label", "value"} objects.
	t.Run("Marshal", func(t *testing.T) {
		b, err := json.Marshal([]forms.Option{{Label: "Courier", Value: "courier"}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(b), `[{"label":"Courier","value":"courier"}]`; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
}

func TestNodeJSON(t *testing.T) {
	// Ensure a node encodes in FormKit's schema format, omitting empty optional props.
	t.Run("Marshal", func(t *testing.T) {
		b, err := json.Marshal(forms.Node{Type: "text", Name: "name", Label: "Name", Validation: "required"})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(b), `{"$formkit":"text","name":"name","label":"Name","validation":"required"}`; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})

	// Ensure every field decodes, numbers in values stay exact, and encoding round-trips.
	t.Run("RoundTrip", func(t *testing.T) {
		in := `{"$formkit":"number","name":"qty","label":"Quantity","placeholder":"1","help":"How many",` +
			`"validation":"min:1","value":12345678901234567890}`
		var n forms.Node
		if err := json.Unmarshal([]byte(in), &n); err != nil {
			t.Fatal(err)
		}
		if n.Value != json.Number("12345678901234567890") || n.Help != "How many" || n.Placeholder != "1" {
			t.Fatalf("decoded %#v", n)
		}
		b, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != in {
			t.Fatalf("got %s, want %s", b, in)
		}
	})

	// Ensure unknown props are rejected rather than silently dropped.
	t.Run("ErrUnknownField", func(t *testing.T) {
		var n forms.Node
		err := json.Unmarshal([]byte(`{"$formkit":"text","name":"a","outer-class":"x"}`), &n)
		if err == nil || !strings.Contains(err.Error(), `unknown field "outer-class"`) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDecodeSchema(t *testing.T) {
	// Ensure a valid schema decodes.
	t.Run("OK", func(t *testing.T) {
		nodes, err := forms.DecodeSchema([]byte(` [
			{"$formkit": "text", "name": "name", "label": "Name", "validation": "required|length:2,64"},
			{"$formkit": "radio", "name": "size", "label": "Size", "options": {"s": "Small", "l": "Large"}, "value": "s"}
		] `))
		if err != nil {
			t.Fatal(err)
		}
		if len(nodes) != 2 || nodes[1].Options[1] != (forms.Option{Label: "Large", Value: "l"}) {
			t.Fatalf("nodes = %#v", nodes)
		}
	})

	// Ensure an empty schema is allowed (a form with no inputs).
	t.Run("OKEmpty", func(t *testing.T) {
		nodes, err := forms.DecodeSchema([]byte(`[]`))
		if err != nil || len(nodes) != 0 {
			t.Fatalf("nodes = %v, err = %v", nodes, err)
		}
	})

	// Ensure input that is not one JSON array is a plain error, not a SchemaError.
	t.Run("ErrNotArray", func(t *testing.T) {
		for _, in := range []string{``, `null`, `{}`, `"x"`, `[`, `[] []`, `[1,]`, `{"schema": []}`} {
			_, err := forms.DecodeSchema([]byte(in))
			var se *forms.SchemaError
			if err == nil || errors.As(err, &se) || !strings.HasPrefix(err.Error(), "forms: decoding schema: ") {
				t.Errorf("%q: err = %v", in, err)
			}
		}
	})

	// Ensure decoding problems and schema problems come back together, by node index.
	t.Run("ErrNodes", func(t *testing.T) {
		_, err := forms.DecodeSchema([]byte(`[
			{"$formkit": "text", "name": "a", "label": "A"},
			{"$formkit": "text", "name": "b", "classes": {}},
			{"$formkit": "text", "name": "c", "label": 5},
			{"$formkit": "bogus", "name": "d"},
			7,
			{"$formkit": "text", "name": "a"}
		]`))
		var se *forms.SchemaError
		if !errors.As(err, &se) {
			t.Fatalf("err = %v, want a *SchemaError", err)
		}
		want := []forms.Problem{
			{Index: 1, Name: "b", Message: `unknown field "classes"`},
			{Index: 2, Name: "c", Message: "label must be a string, not number"},
			{Index: 3, Name: "d", Message: `unknown $formkit type "bogus"; use one of text, email, tel, textarea, number, select, radio, checkbox, date`},
			{Index: 4, Message: "a node must be an object, not number"},
			{Index: 5, Name: "a", Message: `duplicate name "a" (also used by node 0)`},
		}
		if !reflect.DeepEqual(se.Problems, want) {
			t.Fatalf("problems:\n got %#v\nwant %#v", se.Problems, want)
		}
	})

	// Ensure an over-long schema is refused before its nodes are decoded.
	t.Run("ErrTooManyNodes", func(t *testing.T) {
		_, err := forms.DecodeSchema([]byte("[" + strings.Repeat("{},", forms.MaxNodes) + "{}]"))
		var se *forms.SchemaError
		if !errors.As(err, &se) || len(se.Problems) != 1 || se.Problems[0].Index != -1 {
			t.Fatalf("err = %v", err)
		}
		if got, want := err.Error(), "forms: invalid schema: the schema has 101 nodes; at most 100 are allowed"; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

func TestValidateSchema(t *testing.T) {
	// Ensure a schema using every node type and every rule where it applies is valid.
	t.Run("OK", func(t *testing.T) {
		nodes := []forms.Node{
			{Type: "text", Name: "a", Validation: "required:trim|length:2,64|matches:/^[a-z]+$/|alpha:latin|date_after:2024-01-01|in:x,y"},
			{Type: "email", Name: "b", Validation: "email|alphanumeric|number"},
			{Type: "tel", Name: "c", Validation: "+matches:/^[0-9]+$/", Value: 123},
			{Type: "textarea", Name: "d", Validation: "length:0,500"},
			{Type: "number", Name: "e", Validation: "number|min:1|max:10|in:1,2", Value: json.Number("2")},
			{Type: "select", Name: "f", Validation: "required|is:x", Options: []forms.Option{{"X", "x"}}, Value: "x"},
			{Type: "radio", Name: "g", Validation: "matches:x", Options: []forms.Option{{"X", "x"}}},
			{Type: "checkbox", Name: "h", Validation: "accepted", Value: true},
			{Type: "date", Name: "_i9", Validation: "date_after:2024-01-01|date_before:2030-01-01", Value: "2025-06-01"},
		}
		if err := forms.ValidateSchema(nodes); err != nil {
			t.Fatal(err)
		}
		if err := forms.ValidateSchema(nil); err != nil {
			t.Fatal(err)
		}
	})

	// Ensure each kind of mistake is reported with the node's index, name and a clear message.
	t.Run("Err", func(t *testing.T) {
		opts := []forms.Option{{Label: "A", Value: "a"}}
		long := strings.Repeat("é", forms.MaxLabelLength+1)
		tests := []struct {
			name string
			node forms.Node
			want string
		}{
			{"MissingType", forms.Node{Name: "a"}, "missing $formkit type; use one of text, email"},
			{"UnknownType", forms.Node{Type: "password", Name: "a"}, `unknown $formkit type "password"`},
			{"MissingName", forms.Node{Type: "text"}, "missing name"},
			{"NameDigitFirst", forms.Node{Type: "text", Name: "1a"}, `name "1a" must start with a letter or underscore`},
			{"NameDash", forms.Node{Type: "text", Name: "first-name"}, `name "first-name" must start`},
			{"NameTooLong", forms.Node{Type: "text", Name: strings.Repeat("a", 65)}, "at most 64 in all"},
			{"NameUnicode", forms.Node{Type: "text", Name: "имя"}, "must start with a letter or underscore"},
			{"NameProto", forms.Node{Type: "text", Name: "__proto__"}, `name "__proto__" is reserved`},
			{"NameConstructor", forms.Node{Type: "text", Name: "constructor"}, `name "constructor" is reserved`},
			{"LabelTooLong", forms.Node{Type: "text", Name: "a", Label: long}, "label is 201 characters long; at most 200 are allowed"},
			{"PlaceholderTooLong", forms.Node{Type: "text", Name: "a", Placeholder: long}, "placeholder is 201 characters long"},
			{"HelpTooLong", forms.Node{Type: "text", Name: "a", Help: strings.Repeat("x", 501)}, "help is 501 characters long; at most 500"},
			{"LabelBadUTF8", forms.Node{Type: "text", Name: "a", Label: "\xff"}, "label is not valid UTF-8"},
			{"UnknownRule", forms.Node{Type: "text", Name: "a", Validation: "required|phone"}, `validation: unknown rule "phone"`},
			{"BadRuleArgs", forms.Node{Type: "text", Name: "a", Validation: "length:x"}, `validation: rule "length": "x" is not a whole number`},
			{"RuleWrongType", forms.Node{Type: "text", Name: "a", Validation: "accepted"}, `validation: rule "accepted" does not apply to text nodes; it applies to checkbox`},
			{"MinOnText", forms.Node{Type: "text", Name: "a", Validation: "min:1"}, `rule "min" does not apply to text nodes`},
			{"LengthOnNumber", forms.Node{Type: "number", Name: "a", Validation: "length:1"}, `rule "length" does not apply to number nodes`},
			{"SelectWithoutOptions", forms.Node{Type: "select", Name: "a"}, "a select node needs options"},
			{"RadioWithoutOptions", forms.Node{Type: "radio", Name: "a"}, "a radio node needs options"},
			{"OptionsOnText", forms.Node{Type: "text", Name: "a", Options: opts}, "options are only allowed on select and radio nodes"},
			{"OptionsOnCheckbox", forms.Node{Type: "checkbox", Name: "a", Options: opts}, "options are only allowed on select and radio nodes"},
			{"TooManyOptions", forms.Node{Type: "select", Name: "a", Options: make([]forms.Option, 101)}, "101 options; at most 100 are allowed"},
			{"EmptyOptionValue", forms.Node{Type: "select", Name: "a", Options: []forms.Option{{Label: "None"}}}, "option 0 has an empty value"},
			{"DuplicateOption", forms.Node{Type: "radio", Name: "a", Options: []forms.Option{{"A", "a"}, {"B", "a"}}}, `option 1 repeats the value "a"`},
			{"OptionTooLong", forms.Node{Type: "select", Name: "a", Options: []forms.Option{{long, "a"}}}, "option 0 is longer than 200 characters"},
			{"ValueNotOption", forms.Node{Type: "select", Name: "a", Options: opts, Value: "b"}, "value b is not a valid initial value: must be one of the available options"},
			{"ValueNotNumber", forms.Node{Type: "number", Name: "a", Value: "many"}, "value many is not a valid initial value: must be a number"},
			{"ValueNotBool", forms.Node{Type: "checkbox", Name: "a", Value: "maybe"}, "must be true or false"},
			{"ValueNotDate", forms.Node{Type: "date", Name: "a", Value: "tomorrow"}, "must be a valid date (YYYY-MM-DD)"},
			{"ValueNotText", forms.Node{Type: "text", Name: "a", Value: map[string]any{}}, "must be text"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				nodes := []forms.Node{{Type: "text", Name: "ok"}, tt.node}
				err := forms.ValidateSchema(nodes)
				var se *forms.SchemaError
				if !errors.As(err, &se) {
					t.Fatalf("err = %v, want a *SchemaError", err)
				}
				if len(se.Problems) != 1 {
					t.Fatalf("problems = %+v, want one", se.Problems)
				}
				p := se.Problems[0]
				if p.Index != 1 || p.Name != tt.node.Name || !strings.Contains(p.Message, tt.want) {
					t.Fatalf("problem = %+v, want index 1, name %q, message containing %q", p, tt.node.Name, tt.want)
				}
			})
		}
	})

	// Ensure all problems of all nodes are listed, and Error names each node.
	t.Run("ErrMany", func(t *testing.T) {
		err := forms.ValidateSchema([]forms.Node{
			{Type: "text", Name: "name"},
			{Type: "select", Name: "name", Validation: "nope"},
			{Type: "text"},
		})
		var se *forms.SchemaError
		if !errors.As(err, &se) {
			t.Fatalf("err = %v", err)
		}
		want := []forms.Problem{
			{Index: 1, Name: "name", Message: `validation: unknown rule "nope"; known rules are ` + strings.Join(forms.RuleNames(), ", ")},
			{Index: 1, Name: "name", Message: "a select node needs options"},
			{Index: 1, Name: "name", Message: `duplicate name "name" (also used by node 0)`},
			{Index: 2, Message: "missing name"},
		}
		if !reflect.DeepEqual(se.Problems, want) {
			t.Fatalf("problems:\n got %#v\nwant %#v", se.Problems, want)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, `forms: invalid schema: node 1 (name): validation: unknown rule "nope"`) ||
			!strings.HasSuffix(msg, "; node 2: missing name") {
			t.Fatalf("Error() = %q", msg)
		}
		// Problems encode for the admin API's 422 answer.
		b, _ := json.Marshal(se.Problems[3])
		if got := string(b); got != `{"index":2,"message":"missing name"}` {
			t.Fatalf("problem JSON = %s", got)
		}
	})

	// Ensure more than MaxNodes nodes is one problem for the whole schema.
	t.Run("ErrTooManyNodes", func(t *testing.T) {
		nodes := make([]forms.Node, forms.MaxNodes+1)
		for i := range nodes {
			nodes[i] = forms.Node{Type: "text", Name: fmt.Sprintf("f%d", i)}
		}
		if err := forms.ValidateSchema(nodes[:forms.MaxNodes]); err != nil {
			t.Fatal(err)
		}
		err := forms.ValidateSchema(nodes)
		var se *forms.SchemaError
		if !errors.As(err, &se) || len(se.Problems) != 1 || se.Problems[0].Index != -1 {
			t.Fatalf("err = %v", err)
		}
	})
}

func FuzzDecodeSchema(f *testing.F) {
	checkout, _ := json.Marshal(forms.DefaultCheckout().Schema)
	f.Add(checkout)
	for _, s := range []string{
		`[]`, `null`, `{}`, `[{}]`, `[1]`,
		`[{"$formkit":"select","name":"d","options":{"a":"A","b":2}}]`,
		`[{"$formkit":"radio","name":"r","options":["x",{"label":"Y","value":"y"},{"z":"Z"}],"value":"x"}]`,
		`[{"$formkit":"number","name":"n","validation":"min:1|max:5","value":3}]`,
		`[{"$formkit":"checkbox","name":"c","validation":"accepted","value":true}]`,
		`[{"$formkit":"text","name":"a","unknown":1}]`,
		`[{"$formkit":"text","name":"a","value":[]}]`,
		`[{"$formkit":"select","name":"a","options":[]}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		nodes, err := forms.DecodeSchema(data)
		if err != nil {
			if nodes != nil {
				t.Fatal("nodes returned with an error")
			}
			return
		}
		if err := forms.ValidateSchema(nodes); err != nil {
			t.Fatalf("decoded schema fails ValidateSchema: %v", err)
		}
		// What was accepted encodes and decodes back to the same nodes.
		b, err := json.Marshal(nodes)
		if err != nil {
			t.Fatal(err)
		}
		again, err := forms.DecodeSchema(b)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		if len(nodes) == 0 {
			nodes = nil
		}
		if len(again) == 0 {
			again = nil
		}
		if !reflect.DeepEqual(again, nodes) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", again, nodes)
		}
		// A valid schema validates an empty submission without panicking.
		forms.Validate(nodes, nil)
	})
}
