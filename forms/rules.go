package forms

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Rule is one parsed validation rule of a node's validation string, such as
// length:2,64. The hints are FormKit's prefix modifiers ("*+?(200)length:2").
type Rule struct {
	Name string   // rule name, such as "length"
	Args []string // arguments after the colon, split on "," and trimmed

	Force    bool // "*": the client runs it even after an earlier rule failed
	Empty    bool // "+": run it even when the value is empty
	Optional bool // "?": non-blocking; the client still submits, so Validate does not enforce it
	Debounce int  // "(200)": client-side debounce in milliseconds; Validate ignores it

	// Arguments parsed once by ParseRules.
	lenMin, lenMax int // length; lenMax < 0 means no maximum
	num, numMax    float64
	dates          []time.Time // date_after, date_before, date_between; none means today
	set            string      // alpha, lowercase and the like: the character set
	trim           bool        // required:trim
	strict         bool        // confirm:…,strict
	fields         []string    // confirm and require_one: the other fields' names
	format         *regexp.Regexp
	patterns       []*regexp.Regexp // matches; nil entries are literal arguments
}

// String formats r in FormKit's string syntax; ParseRules reads it back.
func (r Rule) String() string {
	var b strings.Builder
	if r.Force {
		b.WriteByte('*')
	}
	if r.Empty {
		b.WriteByte('+')
	}
	if r.Optional {
		b.WriteByte('?')
	}
	if r.Debounce > 0 {
		fmt.Fprintf(&b, "(%d)", r.Debounce)
	}
	b.WriteString(r.Name)
	if len(r.Args) > 0 {
		b.WriteByte(':')
		b.WriteString(strings.Join(r.Args, ","))
	}
	return b.String()
}

// ruleSpec describes one rule: how many arguments it takes, which node
// types it makes sense on, and how to check its arguments.
type ruleSpec struct {
	minArgs, maxArgs int
	types            []string
	parse            func(r *Rule) error // nil: arguments need no checks
	onEmpty          bool                // runs on an empty value, as required does
}

var (
	textTypes     = []string{TypeText, TypeEmail, TypeTel, TypeTextarea}
	stringTypes   = []string{TypeText, TypeEmail, TypeTel, TypeTextarea, TypeSelect, TypeRadio, TypeDate}
	numericTypes  = append([]string{TypeNumber}, textTypes...)
	choiceTypes   = append([]string{TypeNumber}, stringTypes...)
	dateTypes     = []string{TypeDate, TypeText}
	alphaSets     = []string{"default", "latin"}
	letterCaseSet = []string{"default", "latin", "allow_non_alpha", "allow_numeric", "allow_numeric_dashes"}
)

var ruleSpecs = map[string]ruleSpec{
	"required":              {0, 1, nodeTypes, parseRequired, true},
	"require_one":           {0, 100, nodeTypes, parseFields, true},
	"accepted":              {0, 0, []string{TypeCheckbox}, nil, false},
	"email":                 {0, 0, textTypes, nil, false},
	"url":                   {0, 10, textTypes, nil, false},
	"length":                {0, 2, textTypes, parseLength, false}, // no argument: 0 to any, as in FormKit
	"min":                   {1, 1, []string{TypeNumber}, parseNum, false},
	"max":                   {1, 1, []string{TypeNumber}, parseNum, false},
	"between":               {2, 2, numericTypes, parseBetween, false},
	"number":                {0, 0, numericTypes, nil, false},
	"matches":               {1, 10, stringTypes, parseMatches, false},
	"starts_with":           {0, 100, stringTypes, nil, false}, // no argument: passes, as in FormKit
	"ends_with":             {0, 100, stringTypes, nil, false},
	"alpha":                 {0, 1, textTypes, parseSet(alphaSets), false},
	"alphanumeric":          {0, 1, textTypes, parseSet(alphaSets), false},
	"alpha_spaces":          {0, 1, textTypes, parseSet(alphaSets), false},
	"contains_alpha":        {0, 1, textTypes, parseSet(alphaSets), false},
	"contains_alphanumeric": {0, 1, textTypes, parseSet(alphaSets), false},
	"contains_alpha_spaces": {0, 1, textTypes, parseSet(alphaSets), false},
	"contains_lowercase":    {0, 1, textTypes, parseSet(alphaSets), false},
	"contains_uppercase":    {0, 1, textTypes, parseSet(alphaSets), false},
	"contains_numeric":      {0, 0, textTypes, nil, false},
	"contains_symbol":       {0, 0, textTypes, nil, false},
	"lowercase":             {0, 1, textTypes, parseSet(letterCaseSet), false},
	"uppercase":             {0, 1, textTypes, parseSet(letterCaseSet), false},
	"symbol":                {0, 0, textTypes, nil, false},
	"date_after":            {0, 1, dateTypes, parseDates, false},
	"date_before":           {0, 1, dateTypes, parseDates, false},
	"date_between":          {1, 2, dateTypes, parseDates, false},
	"date_format":           {1, 1, dateTypes, parseDateFormat, false},
	"confirm":               {0, 2, nodeTypes, parseConfirm, false},
	"in":                    {1, 100, choiceTypes, nil, false},
	"is":                    {1, 100, choiceTypes, nil, false}, // FormKit's name for "in"
	"not":                   {0, 100, choiceTypes, nil, false}, // no argument: nothing refused, as in FormKit
}

// RuleNames lists the rule names ParseRules accepts, sorted.
func RuleNames() []string {
	names := make([]string, 0, len(ruleSpecs))
	for name := range ruleSpecs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func appliesTo(rule, nodeType string) bool {
	for _, t := range ruleSpecs[rule].types {
		if t == nodeType {
			return true
		}
	}
	return false
}

// ParseRules parses a FormKit validation string such as
// "required|length:2,64|matches:/^[0-9]+$/". It follows FormKit's string
// syntax: rules are split on "|" and arguments on ",", so a pattern cannot
// contain either (FormKit would split it too). Empty segments are skipped;
// unknown rules and bad arguments are errors.
func ParseRules(s string) ([]Rule, error) {
	rules, err := parseRules(s)
	if err != nil {
		return nil, fmt.Errorf("forms: %w", err)
	}
	return rules, nil
}

func parseRules(s string) ([]Rule, error) {
	if len(s) > MaxValidationLength {
		return nil, fmt.Errorf("the validation string is %d bytes long; at most %d are allowed", len(s), MaxValidationLength)
	}
	var rules []Rule
	for _, seg := range strings.Split(s, "|") {
		seg = strings.TrimSpace(seg)
		if seg == "" {
			continue
		}
		r, err := parseRule(seg)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func parseRule(seg string) (Rule, error) {
	var r Rule
	head, args, hasArgs := strings.Cut(seg, ":")
	name, err := parseHints(&r, head)
	if err != nil {
		return r, err
	}
	r.Name = name
	spec, ok := ruleSpecs[name]
	if !ok {
		return r, fmt.Errorf("unknown rule %q; known rules are %s", name, strings.Join(RuleNames(), ", "))
	}
	if hasArgs && strings.TrimSpace(args) != "" {
		for _, a := range strings.Split(args, ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				return r, fmt.Errorf("rule %q has an empty argument", name)
			}
			r.Args = append(r.Args, a)
		}
	}
	if n := len(r.Args); n < spec.minArgs || n > spec.maxArgs {
		return r, fmt.Errorf("rule %q takes %s, not %d", name, argCount(spec), n)
	}
	if spec.parse != nil {
		if err := spec.parse(&r); err != nil {
			return r, fmt.Errorf("rule %q: %w", name, err)
		}
	}
	return r, nil
}

// parseHints reads FormKit's hint prefix ("*", "+", "?" and "(ms)" in any
// order) into r and returns the rule name that follows.
func parseHints(r *Rule, head string) (string, error) {
	i := 0
loop:
	for i < len(head) {
		switch head[i] {
		case '*':
			r.Force = true
		case '+':
			r.Empty = true
		case '?':
			r.Optional = true
		case '(':
			end := strings.IndexByte(head[i:], ')')
			if end < 0 {
				return "", fmt.Errorf("rule %q: unclosed debounce hint", head)
			}
			ms, err := strconv.Atoi(head[i+1 : i+end])
			if err != nil || ms < 0 || ms > 60000 || r.Debounce != 0 {
				return "", fmt.Errorf("rule %q: the debounce hint must be one (milliseconds) between 0 and 60000", head)
			}
			r.Debounce = ms
			i += end
		default:
			break loop
		}
		i++
	}
	name := head[i:]
	if !validRuleName(name) {
		return "", fmt.Errorf("invalid rule %q: a rule is a name such as required or length:2,64, optionally after the hints *, +, ? or (ms)", head)
	}
	return name, nil
}

func validRuleName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || c != '_' && (c < '0' || c > '9')) {
			return false
		}
	}
	return true
}

func argCount(s ruleSpec) string {
	plural := func(n int) string {
		if n == 1 {
			return "1 argument"
		}
		return strconv.Itoa(n) + " arguments"
	}
	switch {
	case s.minArgs == s.maxArgs:
		if s.maxArgs == 0 {
			return "no arguments"
		}
		return plural(s.maxArgs)
	case s.minArgs == 0:
		return "at most " + plural(s.maxArgs)
	case s.maxArgs == s.minArgs+1:
		return fmt.Sprintf("%d or %s", s.minArgs, plural(s.maxArgs))
	}
	return fmt.Sprintf("%d to %s", s.minArgs, plural(s.maxArgs))
}

// parseRequired reads required's argument: "trim" refuses a value of only
// spaces; anything else is FormKit's default, which accepts it.
func parseRequired(r *Rule) error {
	r.trim = len(r.Args) == 1 && r.Args[0] == "trim"
	return nil
}

// parseSet reads a character set argument. As in FormKit, a set it does not
// know falls back to the default set rather than failing.
func parseSet(sets []string) func(r *Rule) error {
	return func(r *Rule) error {
		r.set = "default"
		if len(r.Args) == 1 && slices.Contains(sets, r.Args[0]) {
			r.set = r.Args[0]
		}
		return nil
	}
}

// parseLength reads length's bounds; inverted bounds are swapped, as in
// FormKit, so length:6,1 means between 1 and 6.
func parseLength(r *Rule) error {
	r.lenMax = -1
	for i, a := range r.Args {
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 || n > 1_000_000 {
			return fmt.Errorf("%q is not a whole number between 0 and 1000000", a)
		}
		if i == 0 {
			r.lenMin = n
		} else {
			r.lenMax = n
		}
	}
	if r.lenMax >= 0 && r.lenMin > r.lenMax {
		r.lenMin, r.lenMax = r.lenMax, r.lenMin
	}
	return nil
}

func parseNum(r *Rule) error {
	f, ok := parseNumber(r.Args[0])
	if !ok {
		return fmt.Errorf("%q is not a number", r.Args[0])
	}
	r.num = f
	return nil
}

// parseBetween reads between's bounds; inverted bounds are swapped, as in
// FormKit.
func parseBetween(r *Rule) error {
	lo, ok := parseNumber(r.Args[0])
	if !ok {
		return fmt.Errorf("%q is not a number", r.Args[0])
	}
	hi, ok := parseNumber(r.Args[1])
	if !ok {
		return fmt.Errorf("%q is not a number", r.Args[1])
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	r.num, r.numMax = lo, hi
	return nil
}

// parseDates reads the dates of date_after, date_before and date_between.
// FormKit takes anything the browser's Date.parse reads, which differs
// between browsers; a schema here names dates as YYYY-MM-DD.
func parseDates(r *Rule) error {
	for _, a := range r.Args {
		t, ok := parseDate(a)
		if !ok {
			return fmt.Errorf("%q is not a date in the form YYYY-MM-DD", a)
		}
		r.dates = append(r.dates, t)
	}
	if len(r.dates) == 2 && r.dates[0].After(r.dates[1]) {
		return fmt.Errorf("the first date %s is after the second %s, so no date can pass", r.Args[0], r.Args[1])
	}
	return nil
}

// parseDateFormat builds date_format's pattern as FormKit does: the format
// is taken literally except for the first MM, M, DD, D, YYYY and YY, in that
// order. Without a format FormKit defers to the browser's date parser, which
// the server cannot mirror, so the format is required.
func parseDateFormat(r *Rule) error {
	pattern := dateFormatPattern(r.Args[0])
	re, err := regexp.Compile(pattern)
	if err != nil {
		return fmt.Errorf("format %q cannot be read", r.Args[0])
	}
	// The storefront runs the same pattern; keep it as safe as matches'.
	if err := checkBacktracking(pattern); err != nil {
		return fmt.Errorf("format %q %v", r.Args[0], err)
	}
	r.format = re
	return nil
}

// dateFormatPattern is the regular expression for a date_format format.
// Both escaping and the token patterns are the same in Go and JavaScript.
func dateFormatPattern(format string) string {
	p := "^" + regexp.QuoteMeta(format) + "$"
	for _, tok := range [...]struct{ name, pattern string }{
		{"MM", "(0[1-9]|1[012])"},
		{"M", "([1-9]|1[012])"},
		{"DD", "([012][0-9]|3[01])"},
		{"D", "([012]?[0-9]|3[01])"},
		{"YYYY", `\d{4}`},
		{"YY", `\d{2}`},
	} {
		p = strings.Replace(p, tok.name, tok.pattern, 1)
	}
	return p
}

// parseFields reads require_one's field names.
func parseFields(r *Rule) error {
	for _, a := range r.Args {
		if !validName(a) {
			return fmt.Errorf("%q is not a field name of this form", a)
		}
	}
	r.fields = r.Args
	return nil
}

// parseConfirm reads confirm's arguments: the field to match (by default
// the name without its _confirm or _confirmed suffix, or with _confirm
// added) and "strict" for a comparison without type conversion.
func parseConfirm(r *Rule) error {
	if len(r.Args) > 0 {
		if !validName(r.Args[0]) {
			return fmt.Errorf("%q is not a field name of this form", r.Args[0])
		}
		r.fields = []string{r.Args[0]}
	}
	r.strict = len(r.Args) == 2 && r.Args[1] == "strict"
	return nil
}

// confirmField is the field a confirm rule on the node named name compares with.
func (r *Rule) confirmField(name string) string {
	if len(r.fields) > 0 {
		return r.fields[0]
	}
	for _, suffix := range []string{"_confirm", "_confirmed"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			return base
		}
	}
	return name + "_confirm"
}

// parseMatches compiles /pattern/ arguments as Go regular expressions; other
// arguments are literal values, as in FormKit.
func parseMatches(r *Rule) error {
	r.patterns = make([]*regexp.Regexp, len(r.Args))
	for i, a := range r.Args {
		if a[0] != '/' {
			continue
		}
		if len(a) < 2 || a[len(a)-1] != '/' {
			return fmt.Errorf("pattern %q must end with \"/\" (flags are not supported, and FormKit splits rules on \"|\" and arguments on \",\", so a pattern cannot contain them)", a)
		}
		body := a[1 : len(a)-1]
		if len(body) > MaxPatternLength {
			return fmt.Errorf("pattern is %d bytes long; at most %d are allowed", len(body), MaxPatternLength)
		}
		re, err := regexp.Compile(body)
		if err != nil {
			var se *syntax.Error
			if errors.As(err, &se) {
				return fmt.Errorf("pattern %q is not a valid Go regular expression: %s", a, se.Code)
			}
			return fmt.Errorf("pattern %q is not a valid Go regular expression", a)
		}
		if err := checkBacktracking(body); err != nil {
			return fmt.Errorf("pattern %q %v", a, err)
		}
		r.patterns[i] = re
	}
	return nil
}

// checkBacktracking refuses patterns that a backtracking engine, such as
// the storefront's JavaScript, can take exponential time on: a repetition
// of something that can itself match in more than one way ((a+)+, (a*)*,
// (a|ab)*, (a?)+). Go's engine is linear, so the server is safe either way;
// the check keeps one crafted pattern from freezing every buyer's page. A
// repetition of a fixed count, like (\d{3}-)+, stays allowed.
func checkBacktracking(pattern string) error {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return err
	}
	var walk func(re *syntax.Regexp, underRepeat bool) error
	walk = func(re *syntax.Regexp, underRepeat bool) error {
		repeats := false
		switch re.Op {
		case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
			repeats = true
		case syntax.OpRepeat:
			repeats = re.Min != re.Max
		case syntax.OpAlternate:
			if underRepeat {
				return errors.New("repeats an alternation, which can take exponential time in the browser; write it without the repetition around the alternatives")
			}
		}
		if repeats && underRepeat {
			return errors.New("nests one repetition inside another (like (a+)+), which can take exponential time in the browser")
		}
		for _, sub := range re.Sub {
			if err := walk(sub, underRepeat || repeats); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(re, false)
}

// parseNumber accepts decimal numbers as JSON writes them (with an optional
// leading "+"), and nothing else that strconv.ParseFloat would take: no
// hexadecimal, underscores, Inf or NaN.
func parseNumber(s string) (float64, bool) {
	if s == "" || len(s) > 64 {
		return 0, false
	}
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i++
	}
	digits := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func parseDate(s string) (time.Time, bool) {
	if len(s) != len("2006-01-02") {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", s)
	return t, err == nil
}
