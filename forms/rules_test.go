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
			// FormKit's own rule arguments, and its fallbacks: inverted bounds,
			// unknown character sets and required actions are not errors.
			{"length:5,2", []ruleView{{Name: "length", Args: []string{"5", "2"}}}},
			{"alpha:greek|required:foo", []ruleView{{Name: "alpha", Args: []string{"greek"}}, {Name: "required", Args: []string{"foo"}}}},
			{"between:10,1", []ruleView{{Name: "between", Args: []string{"10", "1"}}}},
			{"url:ftp:,https:", []ruleView{{Name: "url", Args: []string{"ftp:", "https:"}}}},
			{"date_after|date_before|date_between:2030-01-01", []ruleView{{Name: "date_after"}, {Name: "date_before"}, {Name: "date_between", Args: []string{"2030-01-01"}}}},
			{"date_format:DD.MM.YYYY", []ruleView{{Name: "date_format", Args: []string{"DD.MM.YYYY"}}}},
			{"confirm|confirm:password,strict", []ruleView{{Name: "confirm"}, {Name: "confirm", Args: []string{"password", "strict"}}}},
			{"require_one:phone,email", []ruleView{{Name: "require_one", Args: []string{"phone", "email"}}}},
			{"lowercase:allow_numeric_dashes|contains_symbol|not:admin,root", []ruleView{{Name: "lowercase", Args: []string{"allow_numeric_dashes"}}, {Name: "contains_symbol"}, {Name: "not", Args: []string{"admin", "root"}}}},
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
			{"required|uri", `unknown rule "uri"`},
			{"Required", `unknown rule "Required"`},
			{"!required", `invalid rule "!required"`},
			{"required :x", `invalid rule "required "`},
			{"*", `invalid rule "*"`},
			{"1required", `invalid rule "1required"`},
			{"(abc)required", "debounce hint"},
			{"(200required", "unclosed debounce hint"},
			{"(70000)required", "debounce hint"},
			{"(1)(2)required", "debounce hint"},
			{"required:trim,trim", `rule "required" takes at most 1 argument, not 2`},
			{"email:x", `rule "email" takes no arguments, not 1`},
			{"accepted:1", `rule "accepted" takes no arguments, not 1`},
			{"number:1", `rule "number" takes no arguments`},
			{"length:1,2,3", `rule "length" takes at most 2 arguments, not 3`},
			{"length:a", `"a" is not a whole number`},
			{"length:-1", `"-1" is not a whole number`},
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
			{"between:1", `rule "between" takes 2 arguments, not 1`},
			{"between:a,2", `"a" is not a number`},
			{"date_between", `rule "date_between" takes 1 or 2 arguments, not 0`},
			{"date_between:2030-01-01,2020-01-01", "the first date 2030-01-01 is after the second 2020-01-01"},
			{"date_format", `rule "date_format" takes 1 argument, not 0`},
			{"date_after:2024-01-01,2025-01-01", `rule "date_after" takes at most 1 argument, not 2`},
			{"confirm:$root.password", `"$root.password" is not a field name of this form`},
			{"confirm:a,strict,x", `rule "confirm" takes at most 2 arguments, not 3`},
			{"require_one:phone-2", `"phone-2" is not a field name of this form`},
			{"starts_with:" + strings.Repeat("a,", 100) + "a", `rule "starts_with" takes at most 100 arguments, not 101`},
			{"symbol:latin", `rule "symbol" takes no arguments, not 1`},
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
	want := []string{"accepted", "alpha", "alpha_spaces", "alphanumeric", "between", "confirm", "contains_alpha",
		"contains_alpha_spaces", "contains_alphanumeric", "contains_lowercase", "contains_numeric", "contains_symbol",
		"contains_uppercase", "date_after", "date_before", "date_between", "date_format", "email", "ends_with", "in",
		"is", "length", "lowercase", "matches", "max", "min", "not", "number", "require_one", "required",
		"starts_with", "symbol", "uppercase", "url"}
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
		"between:10,1", "url:ftp:", "date_between:2024-01-01", "date_format:DD.MM.YYYY", "confirm:password,strict",
		"require_one:phone,email", "lowercase:allow_non_alpha", "not:a", "starts_with:+7,8", "date_after",
		"date_format:M/D/YY(", "alpha_spaces:latin|contains_uppercase|symbol",
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
