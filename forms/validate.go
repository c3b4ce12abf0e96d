package forms

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Validator checks submissions against forms. Its clock and time zone serve
// the date rules that compare with today (date_after and date_before without
// a date, date_between with one). The zero value is not usable; call
// NewValidator.
type Validator struct {
	now func() time.Time
	loc *time.Location
}

// ValidatorConfig configures a Validator.
type ValidatorConfig struct {
	// Now is the clock "today" is read from. Defaults to time.Now.
	Now func() time.Time
	// Location is the shop's time zone, in which "today" begins and ends.
	// Defaults to UTC.
	Location *time.Location
}

// NewValidator returns a Validator with cfg's clock and time zone.
func NewValidator(cfg ValidatorConfig) *Validator {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	return &Validator{now: cfg.Now, loc: cfg.Location}
}

// Validate is NewValidator(ValidatorConfig{}).Validate: "today" is the
// current day in UTC.
func Validate(nodes []Node, values map[string]any) (clean map[string]any, fieldErrors map[string]string) {
	return NewValidator(ValidatorConfig{}).Validate(nodes, values)
}

// Validate checks a submission against a form's nodes on the server, where
// the client's FormKit validation cannot be trusted. The rules have
// FormKit's meaning; the package documentation lists them.
//
// values is the submission as decoded from JSON (strings, float64 or
// json.Number, booleans). Each value is first coerced to its node's type:
// text, email, tel and textarea values are strings, kept as submitted for
// the rules, as FormKit sees them (numbers are accepted as their decimal
// text); a date value is a trimmed YYYY-MM-DD string; a number node takes
// numbers or numeric strings and yields float64; a checkbox takes booleans
// (or "true", "on", "yes", "1" and their opposites) and yields bool, false
// when absent; select and radio values must be one of the node's options.
// Then the node's rules run in order, and the first failure gives the
// field's message, named by the node's label (or name): "Name is
// required.". As in FormKit, rules other than required and require_one skip
// empty values unless they carry the "+" hint, "?" (non-blocking) rules are
// not enforced, and a value of only spaces is not empty (required:trim
// refuses it).
//
// On success clean holds every non-empty value (and every checkbox) under
// its node's name, and fieldErrors is nil; text values in clean are trimmed
// of surrounding white space, and one that is only white space is left out.
// Otherwise clean is nil and fieldErrors maps field names to messages; a
// submitted name that is not in the schema gets "Unknown field.". Validate
// never panics, even on a schema that ValidateSchema would reject; a node
// whose rules do not parse fails with a generic message.
func (val *Validator) Validate(nodes []Node, values map[string]any) (clean map[string]any, fieldErrors map[string]string) {
	fieldErrors = make(map[string]string)
	clean = make(map[string]any)
	env := &ruleEnv{today: today(val.now(), val.loc), fields: make(map[string]*fieldValue, len(nodes))}
	var order []*fieldValue
	for _, n := range nodes {
		if n.Name == "" || env.fields[n.Name] != nil {
			continue
		}
		f := &fieldValue{node: n, label: displayName(n)}
		f.v, f.empty, f.problem = coerce(n, values[n.Name])
		env.fields[n.Name] = f
		order = append(order, f)
	}
	for _, f := range order {
		name := f.node.Name
		if f.problem != "" {
			fieldErrors[name] = f.label + " " + f.problem + "."
			continue
		}
		rules, err := parseRules(f.node.Validation)
		if err != nil {
			fieldErrors[name] = f.label + " cannot be validated."
			continue
		}
		for _, r := range rules {
			if r.Optional || (f.empty && !r.Empty && !ruleSpecs[r.Name].onEmpty) {
				continue
			}
			if r.fails(f, env) {
				fieldErrors[name] = r.message(f, env)
				break
			}
		}
		if _, failed := fieldErrors[name]; failed || f.empty {
			continue
		}
		// Typed text is stored trimmed; an option's value stays exact.
		if s, ok := f.v.(string); ok && f.node.Type != TypeSelect && f.node.Type != TypeRadio {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			f.v = s
		}
		clean[name] = f.v
	}
	for name := range values {
		if env.fields[name] == nil {
			fieldErrors[name] = "Unknown field."
		}
	}
	if len(fieldErrors) > 0 {
		return nil, fieldErrors
	}
	return clean, nil
}

// fieldValue is one node's coerced value, which rules such as confirm and
// require_one read from another node.
type fieldValue struct {
	node    Node
	label   string
	v       any
	empty   bool
	problem string // why the value could not be coerced, or ""
}

// ruleEnv is what a rule may look at besides its own field.
type ruleEnv struct {
	today  time.Time // the shop's current day, at midnight UTC like parseDate's dates
	fields map[string]*fieldValue
}

// today is the calendar day of now in loc, as parseDate would read it.
func today(now time.Time, loc *time.Location) time.Time {
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func displayName(n Node) string {
	if l := strings.TrimSpace(n.Label); l != "" {
		return l
	}
	return n.Name
}

// coerce converts a submitted value to its node's type: string, float64 or
// bool (nil for an empty number). problem is a phrase such as "must be a
// number" to follow the field's label, or "" when v is acceptable.
func coerce(n Node, raw any) (v any, empty bool, problem string) {
	switch n.Type {
	case TypeNumber:
		var f float64
		switch x := raw.(type) {
		case nil:
			return nil, true, ""
		case string:
			s := strings.TrimSpace(x)
			if s == "" {
				return nil, true, ""
			}
			var ok bool
			if f, ok = parseNumber(s); !ok {
				return nil, false, "must be a number"
			}
		default:
			var ok bool
			if f, ok = toFloat(raw); !ok {
				return nil, false, "must be a number"
			}
		}
		return f, false, ""

	case TypeCheckbox:
		switch x := raw.(type) {
		case nil:
			return false, false, ""
		case bool:
			return x, false, ""
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "on", "yes", "1":
				return true, false, ""
			case "false", "off", "no", "0", "":
				return false, false, ""
			}
		default:
			if f, ok := toFloat(raw); ok && (f == 0 || f == 1) {
				return f == 1, false, ""
			}
		}
		return nil, false, "must be true or false"

	case TypeSelect, TypeRadio:
		s, ok := scalarText(raw)
		if !ok {
			return nil, false, "must be one of the available options"
		}
		if s == "" {
			return "", true, ""
		}
		for _, o := range n.Options {
			if o.Value == s {
				return s, false, ""
			}
		}
		return nil, false, "must be one of the available options"
	}

	// Text types and date (and, defensively, unknown types). Text is kept
	// as submitted: FormKit's rules see spaces, and only required:trim
	// ignores them.
	s, ok := scalarText(raw)
	if !ok {
		if n.Type == TypeDate {
			return nil, false, "must be a valid date (YYYY-MM-DD)"
		}
		return nil, false, "must be text"
	}
	if n.Type == TypeDate {
		s = strings.TrimSpace(s)
	}
	if !utf8.ValidString(s) || hasControl(s, n.Type == TypeTextarea) {
		return nil, false, "contains invalid characters"
	}
	if utf8.RuneCountInString(s) > MaxValueLength {
		return nil, false, fmt.Sprintf("must be at most %d characters", MaxValueLength)
	}
	if s == "" {
		return "", true, ""
	}
	if n.Type == TypeDate {
		if _, ok := parseDate(s); !ok {
			return nil, false, "must be a valid date (YYYY-MM-DD)"
		}
	}
	return s, false, ""
}

// scalarText returns a string value, or a number's decimal text (a phone
// sent as a JSON number, a numeric option value). nil is "".
func scalarText(raw any) (string, bool) {
	switch x := raw.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case bool:
		return "", false
	}
	f, ok := toFloat(raw)
	if !ok {
		return "", false
	}
	return strconv.FormatFloat(f, 'f', -1, 64), true
}

func toFloat(raw any) (float64, bool) {
	var f float64
	switch x := raw.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case json.Number:
		return parseNumber(string(x))
	case int:
		f = float64(x)
	case int8:
		f = float64(x)
	case int16:
		f = float64(x)
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint8:
		f = float64(x)
	case uint16:
		f = float64(x)
	case uint32:
		f = float64(x)
	case uint64:
		f = float64(x)
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// hasControl reports control characters, which no input produces; a
// textarea may hold tabs and line breaks, other inputs tabs only.
func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		switch {
		case r == '\t':
		case (r == '\n' || r == '\r') && multiline:
		case unicode.IsControl(r):
			return true
		}
	}
	return false
}

// fails reports whether field f's coerced value breaks r.
func (r *Rule) fails(f *fieldValue, env *ruleEnv) bool {
	v := f.v
	switch r.Name {
	case "required":
		s, isText := v.(string)
		return f.empty || r.trim && isText && strings.TrimFunc(s, isJSSpace) == ""
	case "require_one":
		if !f.empty {
			return false
		}
		for _, name := range r.fields {
			if o := env.fields[name]; o != nil && (o.problem != "" || !o.empty) {
				return false
			}
		}
		return true
	case "accepted":
		b, _ := v.(bool)
		return !b
	case "email":
		return !validEmail(textOf(v))
	case "url":
		return !validURL(textOf(v), r.Args)
	case "length":
		n := utf16Len(textOf(v))
		return n < r.lenMin || (r.lenMax >= 0 && n > r.lenMax)
	case "min", "max":
		x, ok := v.(float64)
		if !ok {
			return true
		}
		if r.Name == "min" {
			return x < r.num
		}
		return x > r.num
	case "between":
		x, ok := numberOf(v)
		return !ok || x < r.num || x > r.numMax
	case "number":
		_, ok := numberOf(v)
		return !ok
	case "matches":
		s := textOf(v)
		for i, re := range r.patterns {
			if re != nil && re.MatchString(s) || re == nil && r.Args[i] == s {
				return false
			}
		}
		return true
	case "starts_with", "ends_with":
		if len(r.Args) == 0 {
			return false // FormKit passes every text when given nothing to look for
		}
		s := textOf(v)
		for _, a := range r.Args {
			if r.Name == "starts_with" && strings.HasPrefix(s, a) || r.Name == "ends_with" && strings.HasSuffix(s, a) {
				return false
			}
		}
		return true
	case "alpha", "alphanumeric", "alpha_spaces", "lowercase", "uppercase", "symbol":
		s := textOf(v)
		if s == "" {
			return true
		}
		for _, c := range s {
			if !r.allows(c) {
				return true
			}
		}
		return false
	case "contains_alpha", "contains_alphanumeric", "contains_alpha_spaces", "contains_lowercase",
		"contains_uppercase", "contains_numeric", "contains_symbol":
		return !strings.ContainsFunc(textOf(v), r.allows)
	case "date_after", "date_before", "date_between":
		t, ok := parseDate(strings.TrimFunc(textOf(v), isJSSpace))
		if !ok {
			return true
		}
		return !r.dateInRange(t, env.today)
	case "date_format":
		return !r.format.MatchString(textOf(v))
	case "confirm":
		o := env.fields[r.confirmField(f.node.Name)]
		return o == nil || o.problem != "" || !sameValue(v, o.v, r.strict)
	case "in", "is", "not":
		return r.oneOf(v) == (r.Name == "not")
	}
	return true // unreachable for parsed rules
}

// allows reports whether the character rules (alpha, lowercase,
// contains_symbol and the like) accept c in r's character set. Letters are
// Unicode letters in the default set and a-z, A-Z in the latin set; digits
// are 0-9; symbols are ASCII punctuation.
func (r *Rule) allows(c rune) bool {
	latin := r.set == "latin"
	letter := unicode.IsLetter(c)
	lower, upper := unicode.IsLower(c), unicode.IsUpper(c)
	if latin {
		lower, upper = 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z'
		letter = lower || upper
	}
	digit := '0' <= c && c <= '9'
	switch r.Name {
	case "alpha", "contains_alpha":
		return letter
	case "alphanumeric", "contains_alphanumeric":
		return letter || digit
	case "alpha_spaces", "contains_alpha_spaces":
		return letter || c == ' '
	case "contains_lowercase":
		return lower
	case "contains_uppercase":
		return upper
	case "contains_numeric":
		return digit
	case "symbol", "contains_symbol":
		return isSymbol(c)
	case "lowercase", "uppercase":
		ok := lower
		if r.Name == "uppercase" {
			ok = upper
		}
		switch r.set {
		case "allow_numeric":
			return ok || digit
		case "allow_numeric_dashes":
			return ok || digit || c == '-'
		case "allow_non_alpha":
			return ok || digit || isSymbol(c)
		}
		return ok
	}
	return false
}

// isSymbol reports ASCII punctuation, FormKit's symbols.
func isSymbol(c rune) bool {
	return '!' <= c && c <= '/' || ':' <= c && c <= '@' || '[' <= c && c <= '`' || '{' <= c && c <= '~'
}

// dateInRange reports whether day t passes r, a date rule. A date counts
// from its first moment, as FormKit compares dates with the current moment:
// with no date given, date_after accepts days after today, date_before
// accepts today and earlier (today has begun), and date_between with one
// date accepts days after today up to that date.
func (r *Rule) dateInRange(t, today time.Time) bool {
	switch {
	case r.Name == "date_after" && len(r.dates) == 0:
		return t.After(today)
	case r.Name == "date_after":
		return t.After(r.dates[0])
	case r.Name == "date_before" && len(r.dates) == 0:
		return !t.After(today)
	case r.Name == "date_before":
		return t.Before(r.dates[0])
	case len(r.dates) == 1:
		return t.After(today) && !t.After(r.dates[0])
	}
	return !t.Before(r.dates[0]) && !t.After(r.dates[1])
}

// oneOf reports whether v is one of r's arguments: numbers by value, other
// values by their text.
func (r *Rule) oneOf(v any) bool {
	f, isNum := v.(float64)
	s := textOf(v)
	for _, a := range r.Args {
		if isNum {
			if af, ok := parseNumber(a); ok && af == f {
				return true
			}
		} else if a == s {
			return true
		}
	}
	return false
}

// sameValue compares two coerced values for confirm. Strict comparison
// wants the same type; loose comparison also matches a number with text
// that reads as that number, as JavaScript's == does.
func sameValue(a, b any, strict bool) bool {
	if a == nil || b == nil {
		return false
	}
	if a == b {
		return true
	}
	if strict {
		return false
	}
	fa, aNum := a.(float64)
	fb, bNum := b.(float64)
	switch {
	case aNum && !bNum:
		fb, bNum = numberOf(b)
	case bNum && !aNum:
		fa, aNum = numberOf(a)
	}
	return aNum && bNum && fa == fb
}

// numberOf reads a number value, or text that is a number once trimmed.
// Text of only white space reads as 0, as JavaScript's Number reads it, so
// that number and between agree with FormKit's isNaN checks.
func numberOf(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		s := strings.TrimFunc(x, isJSSpace)
		if s == "" {
			return 0, true
		}
		return parseNumber(s)
	}
	return 0, false
}

// message is the English message for a failure of r on field f.
func (r *Rule) message(f *fieldValue, env *ruleEnv) string {
	label := f.label
	switch r.Name {
	case "required":
		return label + " is required."
	case "require_one":
		labels := []string{label}
		for _, name := range r.fields {
			if o := env.fields[name]; o != nil {
				labels = append(labels, o.label)
			} else {
				labels = append(labels, name)
			}
		}
		return strings.Join(labels, " or ") + " is required."
	case "accepted":
		return label + " must be accepted."
	case "email":
		return label + " must be a valid email address."
	case "url":
		return label + " must be a valid URL."
	case "length":
		switch {
		case r.lenMax < 0:
			return fmt.Sprintf("%s must be at least %s.", label, characters(r.lenMin))
		case r.lenMin == r.lenMax:
			return fmt.Sprintf("%s must be exactly %s.", label, characters(r.lenMax))
		case r.lenMin == 0:
			return fmt.Sprintf("%s must be at most %s.", label, characters(r.lenMax))
		}
		return fmt.Sprintf("%s must be between %d and %d characters.", label, r.lenMin, r.lenMax)
	case "min":
		return fmt.Sprintf("%s must be at least %s.", label, formatNum(r.num))
	case "max":
		return fmt.Sprintf("%s must be at most %s.", label, formatNum(r.num))
	case "between":
		return fmt.Sprintf("%s must be between %s and %s.", label, formatNum(r.num), formatNum(r.numMax))
	case "number":
		return label + " must be a number."
	case "matches":
		return label + " is not in a valid format."
	case "starts_with":
		return fmt.Sprintf("%s must start with %s.", label, alternatives(r.Args))
	case "ends_with":
		return fmt.Sprintf("%s must end with %s.", label, alternatives(r.Args))
	case "alpha":
		return label + " can only contain " + r.latin() + "letters."
	case "alphanumeric":
		return label + " can only contain " + r.latin() + "letters and numbers."
	case "alpha_spaces":
		return label + " can only contain " + r.latin() + "letters and spaces."
	case "contains_alpha":
		return label + " must contain a " + r.latin() + "letter."
	case "contains_alphanumeric":
		return label + " must contain a " + r.latin() + "letter or a number."
	case "contains_alpha_spaces":
		return label + " must contain a " + r.latin() + "letter or a space."
	case "contains_lowercase":
		return label + " must contain a lowercase " + r.latin() + "letter."
	case "contains_uppercase":
		return label + " must contain an uppercase " + r.latin() + "letter."
	case "contains_numeric":
		return label + " must contain a number."
	case "contains_symbol":
		return label + " must contain a symbol."
	case "lowercase", "uppercase":
		kind := strings.TrimSuffix(r.Name, "case") + "case " + r.latin() + "letters"
		switch r.set {
		case "allow_numeric":
			kind += " and numbers"
		case "allow_numeric_dashes":
			kind += ", numbers and dashes"
		case "allow_non_alpha":
			kind += ", numbers and symbols"
		}
		return label + " can only contain " + kind + "."
	case "symbol":
		return label + " can only contain symbols."
	case "date_after":
		if len(r.dates) == 0 {
			return label + " must be later than today."
		}
		return fmt.Sprintf("%s must be after %s.", label, r.Args[0])
	case "date_before":
		if len(r.dates) == 0 {
			return label + " must be today or earlier."
		}
		return fmt.Sprintf("%s must be before %s.", label, r.Args[0])
	case "date_between":
		if len(r.dates) == 1 {
			return fmt.Sprintf("%s must be later than today and not after %s.", label, r.Args[0])
		}
		return fmt.Sprintf("%s must be between %s and %s.", label, r.Args[0], r.Args[1])
	case "date_format":
		return fmt.Sprintf("%s must be a date in the format %s.", label, r.Args[0])
	case "confirm":
		other := r.confirmField(f.node.Name)
		if o := env.fields[other]; o != nil {
			other = o.label
		}
		return label + " does not match " + other + "."
	case "in", "is", "not":
		return label + " is not an allowed value."
	}
	return label + " is not valid."
}

// latin is "Latin " for a rule limited to the latin set, for its message.
func (r *Rule) latin() string {
	if r.set == "latin" {
		return "Latin "
	}
	return ""
}

// alternatives lists args for a message: "a", "a or b", "a, b or c".
func alternatives(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = strconv.Quote(a)
	}
	if len(quoted) == 1 {
		return quoted[0]
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return strconv.Itoa(n) + " characters"
}

func formatNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return formatNum(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// utf16Len is the length of s as JavaScript counts it (UTF-16 code units),
// which is how FormKit's length rule counts: an emoji outside the Basic
// Multilingual Plane counts as 2.
func utf16Len(s string) int {
	n := 0
	for _, c := range s {
		n += utf16.RuneLen(c)
	}
	return n
}

// isJSSpace reports the characters JavaScript's \s and String.prototype.trim
// treat as white space.
func isJSSpace(c rune) bool {
	switch c {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return 0x2000 <= c && c <= 0x200a
}

// validEmail is FormKit's e-mail check: a local part of dot-separated runs
// (or a quoted string), "@", and a domain of at least two dot-separated
// labels whose last has at least two characters. Runs and labels may hold
// any character but white space and <>()[]\.,;:@". So Unicode addresses
// such as àlphä@❤️.ly pass.
func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	labels := strings.Split(domain, ".")
	if len(labels) < 2 || utf16Len(labels[len(labels)-1]) < 2 {
		return false
	}
	for _, l := range labels {
		if !emailAtom(l) {
			return false
		}
	}
	if len(local) >= 3 && local[0] == '"' && local[len(local)-1] == '"' {
		// FormKit's ".+": anything but line terminators between the quotes.
		return !strings.ContainsAny(local, "\n\r\u2028\u2029")
	}
	for _, run := range strings.Split(local, ".") {
		if !emailAtom(run) {
			return false
		}
	}
	return true
}

func emailAtom(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if isJSSpace(c) || strings.ContainsRune(`<>()[]\.,;:@"`, c) {
			return false
		}
	}
	return true
}
