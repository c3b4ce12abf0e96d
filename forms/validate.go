package forms

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validate checks a submission against a form's nodes on the server, where
// the client's FormKit validation cannot be trusted.
//
// values is the submission as decoded from JSON (strings, float64 or
// json.Number, booleans). Each value is first coerced to its node's type:
// text, email, tel, textarea and date values are trimmed strings (numbers
// are accepted as their decimal text); a number node takes numbers or
// numeric strings and yields float64; a checkbox takes booleans (or "true",
// "on", "yes", "1" and their opposites) and yields bool, false when absent;
// select and radio values must be one of the node's options. Then the
// node's rules run in order, and the first failure gives the field's
// message, named by the node's label (or name): "Name is required.".
// As in FormKit, rules other than required skip empty values unless they
// carry the "+" hint, and "?" (non-blocking) rules are not enforced.
//
// On success clean holds every non-empty value (and every checkbox) under
// its node's name, and fieldErrors is nil. Otherwise clean is nil and
// fieldErrors maps field names to messages; a submitted name that is not in
// the schema gets "Unknown field.". Validate never panics, even on a schema
// that ValidateSchema would reject; a node whose rules do not parse fails
// with a generic message.
func Validate(nodes []Node, values map[string]any) (clean map[string]any, fieldErrors map[string]string) {
	fieldErrors = make(map[string]string)
	clean = make(map[string]any)
	known := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if n.Name == "" || known[n.Name] {
			continue
		}
		known[n.Name] = true
		label := displayName(n)
		v, empty, problem := coerce(n, values[n.Name])
		if problem != "" {
			fieldErrors[n.Name] = label + " " + problem + "."
			continue
		}
		rules, err := parseRules(n.Validation)
		if err != nil {
			fieldErrors[n.Name] = label + " cannot be validated."
			continue
		}
		for _, r := range rules {
			if r.Optional || (empty && !r.Empty && r.Name != "required") {
				continue
			}
			if r.fails(v, empty) {
				fieldErrors[n.Name] = r.message(label)
				break
			}
		}
		if _, failed := fieldErrors[n.Name]; !failed && !empty {
			clean[n.Name] = v
		}
	}
	for name := range values {
		if !known[name] {
			fieldErrors[name] = "Unknown field."
		}
	}
	if len(fieldErrors) > 0 {
		return nil, fieldErrors
	}
	return clean, nil
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

	// Text types and date (and, defensively, unknown types).
	s, ok := scalarText(raw)
	if !ok {
		if n.Type == TypeDate {
			return nil, false, "must be a valid date (YYYY-MM-DD)"
		}
		return nil, false, "must be text"
	}
	s = strings.TrimSpace(s)
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

// fails reports whether the coerced value v breaks r.
func (r *Rule) fails(v any, empty bool) bool {
	switch r.Name {
	case "required":
		return empty
	case "accepted":
		b, _ := v.(bool)
		return !b
	case "email":
		s, _ := v.(string)
		return !validEmail(s)
	case "length":
		n := utf8.RuneCountInString(textOf(v))
		return n < r.lenMin || (r.lenMax >= 0 && n > r.lenMax)
	case "min", "max":
		f, ok := v.(float64)
		if !ok {
			return true
		}
		if r.Name == "min" {
			return f < r.num
		}
		return f > r.num
	case "number":
		switch x := v.(type) {
		case float64:
			return false
		case string:
			_, ok := parseNumber(x)
			return !ok
		}
		return true
	case "matches":
		s := textOf(v)
		for i, re := range r.patterns {
			if re != nil && re.MatchString(s) || re == nil && r.Args[i] == s {
				return false
			}
		}
		return true
	case "alpha", "alphanumeric":
		s := textOf(v)
		if s == "" {
			return true
		}
		for _, c := range s {
			letter := unicode.IsLetter(c)
			if r.latin {
				letter = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
			}
			digit := r.Name == "alphanumeric" && '0' <= c && c <= '9'
			if !letter && !digit {
				return true
			}
		}
		return false
	case "date_after", "date_before":
		t, ok := parseDate(textOf(v))
		if !ok {
			return true
		}
		if r.Name == "date_after" {
			return !t.After(r.date)
		}
		return !t.Before(r.date)
	case "in", "is":
		f, isNum := v.(float64)
		s := textOf(v)
		for _, a := range r.Args {
			if isNum {
				if af, ok := parseNumber(a); ok && af == f {
					return false
				}
			} else if a == s {
				return false
			}
		}
		return true
	}
	return true // unreachable for parsed rules
}

// message is the English message for a failure of r on the field label.
func (r *Rule) message(label string) string {
	switch r.Name {
	case "required":
		return label + " is required."
	case "accepted":
		return label + " must be accepted."
	case "email":
		return label + " must be a valid email address."
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
	case "number":
		return label + " must be a number."
	case "matches":
		return label + " is not in a valid format."
	case "alpha":
		return label + " can only contain letters."
	case "alphanumeric":
		return label + " can only contain letters and numbers."
	case "date_after":
		return fmt.Sprintf("%s must be after %s.", label, r.date.Format("2006-01-02"))
	case "date_before":
		return fmt.Sprintf("%s must be before %s.", label, r.date.Format("2006-01-02"))
	case "in", "is":
		return label + " is not an allowed value."
	}
	return label + " is not valid."
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

// validEmail is a deliberately plain check of local@domain.tld: no spaces,
// quotes or comments, a dotted domain of letters, digits and hyphens. It
// accepts international domain names and local parts.
func validEmail(s string) bool {
	if len(s) > 254 || strings.Count(s, "@") != 1 {
		return false
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || len(local) > 64 || local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for _, c := range local {
		if c <= ' ' || strings.ContainsRune(`"(),:;<>[\]`, c) || unicode.IsControl(c) || unicode.IsSpace(c) {
			return false
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if c != '-' && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
				return false
			}
		}
	}
	return true
}
