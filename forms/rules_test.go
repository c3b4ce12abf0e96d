package forms_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/forms"
)

// ruleView is the public part of a Rule, for comparisons.
type ruleView struct {
	Name                   string
	Args                   []string
	Force, Empty, Optional bool
	Debounce               int
}

func view(rules []forms.Rule) []ruleView {
	var out []ruleView
	for _, r := range rules {
		out = append(out, ruleView{r.Name, r.Args, r.Force, r.Empty, r.Optional, r.Debounce})
	}
	return out
}

func TestParseRules(t *testing.T) {
	// Ensure FormKit's string syntax parses into names, trimmed arguments and hints.
	t.Run("OK", func(t *testing.T) {
		tests := []struct {
			in   string
			want []ruleView
		}{
			{"", nil},
			{" | ", nil},
			{"required", []ruleView{{Name: "required"}}},
			{" required | email ", []ruleView{{Name: "required"}, {Name: "email"}}},
			{"required||email|", []ruleView{{Name: "required"}, {Name: "email"}}},
			{"required:trim", []ruleView{{Name: "required", Args: []string{"trim"}}}},
			{"length:2,64", []ruleView{{Name: "length", Args: []string{"2", "64"}}}},
			{"length:5", []ruleView{{Name: "length", Args: []string{"5"}}}},
			{"length:0,500", []ruleView{{Name: "length", Args: []string{"0", "500"}}}},
			{"min:-1.5|max:1e3", []ruleView{{Name: "min", Args: []string{"-1.5"}}, {Name: "max", Args: []string{"1e3"}}}},
			{"number", []ruleView{{Name: "number"}}},
			{"matches:/^[+0-9 ()-]+$/", []ruleView{{Name: "matches", Args: []string{"/^[+0-9 ()-]+$/"}}}},
			{"matches:/^a:b$/,literal", []ruleView{{Name: "matches", Args: []string{"/^a:b$/", "literal"}}}},
			{"matches:/^([0-9]{3}-)+$/", []ruleView{{Name: "matches", Args: []string{"/^([0-9]{3}-)+$/"}}}},
			{"alpha|alpha:latin|alphanumeric:default", []ruleView{{Name: "alpha"}, {Name: "alpha", Args: []string{"latin"}}, {Name: "alphanumeric", Args: []string{"default"}}}},
			{"date_after:2024-01-01|date_before:2030-12-31", []ruleView{{Name: "date_after", Args: []string{"2024-01-01"}}, {Name: "date_before", Args: []string{"2030-12-31"}}}},
			{"accepted", []ruleView{{Name: "accepted"}}},
			{"in: a , b,c", []ruleView{{Name: "in", Args: []string{"a", "b", "c"}}}},
			{"is:x", []ruleView{{Name: "is", Args: []string{"x"}}}},
			{"required:", []ruleView{{Name: "required"}}},
			{"*+?(200)length:2", []ruleView{{Name: "length", Args: []string{"2"}, Force: true, Empty: true, Optional: true, Debounce: 200}}},
			{"?(500)*email", []ruleView{{Name: "email", Force: true, Optional: true, Debounce: 500}}},
			{"+required", []ruleView{{Name: "required", Empty: true}}},
		}
		for _, tt := range tests {
			rules, err := forms.ParseRules(tt.in)
			if err != nil {
				t.Errorf("ParseRules(%q): %v", tt.in, err)
				continue
			}
			if got := view(rules); !equalViews(got, tt.want) {
				t.Errorf("ParseRules(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		}
	})

	// Ensure unknown rules and bad arguments are rejected with a message that says what is wrong.
	t.Run("Err", func(t *testing.T) {
		tests := []struct {
			in, want string
		}{
			{"foo", `unknown rule "foo"; known rules are accepted, alpha,`},
			{"required|url", `unknown rule "url"`},
			{"Required", `unknown rule "Required"`},
			{"!required", `invalid rule "!required"`},
			{"required :x", `invalid rule "required "`},
			{"*", `invalid rule "*"`},
			{"1required", `invalid rule "1required"`},
			{"(abc)required", "debounce hint"},
			{"(200required", "unclosed debounce hint"},
			{"(70000)required", "debounce hint"},
			{"(1)(2)required", "debounce hint"},
			{"required:foo", `argument "foo" must be one of default, trim`},
			{"required:trim,trim", `rule "required" takes at most 1 argument, not 2`},
			{"email:x", `rule "email" takes no arguments, not 1`},
			{"accepted:1", `rule "accepted" takes no arguments, not 1`},
			{"number:1", `rule "number" takes no arguments`},
			{"length", `rule "length" takes 1 or 2 arguments, not 0`},
			{"length:1,2,3", `rule "length" takes 1 or 2 arguments, not 3`},
			{"length:a", `"a" is not a whole number`},
			{"length:-1", `"-1" is not a whole number`},
			{"length:5,2", "the minimum 5 is greater than the maximum 2"},
			{"length:0,", `rule "length" has an empty argument`},
			{"min", `rule "min" takes 1 argument, not 0`},
			{"min:abc", `"abc" is not a number`},
			{"min:NaN", `"NaN" is not a number`},
			{"max:Inf", `"Inf" is not a number`},
			{"max:0x10", `"0x10" is not a number`},
			{"max:1_000", `"1_000" is not a number`},
			{"max:1e999", `"1e999" is not a number`},
			{"matches", `rule "matches" takes 1 to 10 arguments, not 0`},
			{"matches:/(/", "is not a valid Go regular expression: missing closing )"},
			{"matches:/(?=a)/", "is not a valid Go regular expression"},
			{"matches:/a|b/", `pattern "/a" must end with "/"`},
			{"matches:/a{1,2}/", `pattern "/a{1" must end with "/"`},
			{"matches:/a/i", `pattern "/a/i" must end with "/"`},
			{"matches:/(a+)+$/", "nests one repetition inside another"},
			{"matches:/^(a*)*$/", "nests one repetition inside another"},
			{"matches:/^(x?y?)+$/", "nests one repetition inside another"},
			{"matches:/" + strings.Repeat("a", 257) + "/", "pattern is 257 bytes long; at most 256"},
			{"alpha:greek", `argument "greek" must be one of default, latin`},
			{"date_after", `rule "date_after" takes 1 argument, not 0`},
			{"date_after:2024-13-01", `"2024-13-01" is not a date in the form YYYY-MM-DD`},
			{"date_before:01/02/2024", "is not a date in the form YYYY-MM-DD"},
			{"in", `rule "in" takes 1 to 100 arguments, not 0`},
			{"in:a,,b", `rule "in" has an empty argument`},
			{"in:" + strings.Repeat("a,", 100) + "a", "not 101"},
			{strings.Repeat("required|", 112), "the validation string is 1008 bytes long; at most 1000"},
		}
		for _, tt := range tests {
			_, err := forms.ParseRules(tt.in)
			if err == nil {
				t.Errorf("ParseRules(%q): no error, want %q", tt.in, tt.want)
				continue
			}
			if !strings.HasPrefix(err.Error(), "forms: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseRules(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
			}
		}
	})
}

func equalViews(a, b []ruleView) bool {
	return slices.EqualFunc(a, b, func(x, y ruleView) bool {
		return x.Name == y.Name && slices.Equal(x.Args, y.Args) && x.Force == y.Force &&
			x.Empty == y.Empty && x.Optional == y.Optional && x.Debounce == y.Debounce
	})
}

// Ensure Rule.String writes FormKit syntax that parses back to the same rule.
func TestRuleString(t *testing.T) {
	const in = "required| *+?(250)length:2 , 64|matches:/^[0-9]+$/,x|in:a,b"
	rules, err := forms.ParseRules(in)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, r := range rules {
		parts = append(parts, r.String())
	}
	got := strings.Join(parts, "|")
	if want := "required|*+?(250)length:2,64|matches:/^[0-9]+$/,x|in:a,b"; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
	again, err := forms.ParseRules(got)
	if err != nil || !equalViews(view(again), view(rules)) {
		t.Fatalf("reparse = %+v, %v; want %+v", view(again), err, view(rules))
	}
}

// Ensure RuleNames lists exactly the rules the package documents, sorted.
func TestRuleNames(t *testing.T) {
	want := []string{"accepted", "alpha", "alphanumeric", "date_after", "date_before", "email", "in", "is",
		"length", "matches", "max", "min", "number", "required"}
	if got := forms.RuleNames(); !slices.Equal(got, want) {
		t.Fatalf("RuleNames = %v, want %v", got, want)
	}
}

func FuzzParseRules(f *testing.F) {
	for _, s := range []string{
		"", "required", "required|length:2,64|matches:/^[+0-9 ()-]+$/", "email", "length:0,500",
		"*+?(200)length:2", "min:1|max:10|number", "matches:/a/,b", "date_after:2024-01-01",
		"in:a,b,c", "alpha:latin", "(|)", "matches:/(/", "length:5,2", "?", "required:",
		"matches:/\\//", "(99999999999999999999)required",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rules, err := forms.ParseRules(s)
		if err != nil {
			if rules != nil {
				t.Fatalf("rules %v with error %v", rules, err)
			}
			return
		}
		// A parsed validation string formats and parses back to the same rules.
		parts := make([]string, len(rules))
		for i, r := range rules {
			if !slices.Contains(forms.RuleNames(), r.Name) {
				t.Fatalf("parsed unknown rule %q", r.Name)
			}
			parts[i] = r.String()
		}
		again, err := forms.ParseRules(strings.Join(parts, "|"))
		if err != nil {
			t.Fatalf("reparsing %q: %v", strings.Join(parts, "|"), err)
		}
		if !equalViews(view(again), view(rules)) {
			t.Fatalf("reparse = %+v, want %+v", view(again), view(rules))
		}
	})
}
