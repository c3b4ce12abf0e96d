package forms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"
)

// Node types: the FormKit inputs a schema may use.
const (
	TypeText     = "text"
	TypeEmail    = "email"
	TypeTel      = "tel"
	TypeTextarea = "textarea"
	TypeNumber   = "number"
	TypeSelect   = "select"
	TypeRadio    = "radio"
	TypeCheckbox = "checkbox"
	TypeDate     = "date"
)

var nodeTypes = []string{
	TypeText, TypeEmail, TypeTel, TypeTextarea, TypeNumber,
	TypeSelect, TypeRadio, TypeCheckbox, TypeDate,
}

// NodeTypes returns the allowed $formkit types, in the order error messages
// list them.
func NodeTypes() []string { return append([]string(nil), nodeTypes...) }

// Schema limits. They keep a stored form small enough to send with every
// storefront page and to validate on every order.
const (
	MaxNodes            = 100  // nodes in one schema
	MaxOptions          = 100  // options of one select or radio
	MaxLabelLength      = 200  // runes in a label, placeholder, or option label or value
	MaxHelpLength       = 500  // runes in a help text
	MaxValidationLength = 1000 // bytes in a validation string
	MaxPatternLength    = 256  // bytes in one matches:/…/ pattern

	// MaxValueLength caps every submitted text value (in runes), whatever
	// its rules say, so no field stores more than a long comment.
	MaxValueLength = 10000
)

// Form is a named schema, such as the checkout form.
type Form struct {
	Alias  string `json:"alias"`
	Title  string `json:"title"`
	Schema []Node `json:"schema"`
}

// Node is one input of a form in FormKit's schema format, for example
// {"$formkit": "text", "name": "name", "label": "Name", "validation": "required"}.
//
// Decoding a Node from JSON rejects fields it does not know, so a schema
// never stores FormKit props that the server would silently ignore.
type Node struct {
	Type        string   `json:"$formkit"`
	Name        string   `json:"name"`
	Label       string   `json:"label"`
	Placeholder string   `json:"placeholder,omitempty"`
	Help        string   `json:"help,omitempty"`
	Validation  string   `json:"validation,omitempty"`
	Options     []Option `json:"options,omitempty"`
	// Value is the initial value the client shows. Decoded numbers are
	// json.Number, so they survive a round trip unchanged.
	Value any `json:"value,omitempty"`
	// Labels, Placeholders and Helps are Label, Placeholder and Help in
	// other languages, keyed by language code ({"ru": "Имя"}); the
	// storefront shows the buyer's language where it is given, else the
	// plain prop.
	Labels       map[string]string `json:"labels,omitempty"`
	Placeholders map[string]string `json:"placeholders,omitempty"`
	Helps        map[string]string `json:"helps,omitempty"`
	// OptionLabels are the options' labels in other languages, by language
	// code and then option value, in FormKit's {"value": "label"} form:
	// {"ru": {"courier": "Курьер"}}.
	OptionLabels map[string]map[string]string `json:"option_labels,omitempty"`
}

// UnmarshalJSON decodes a node strictly (unknown fields are an error) and
// accepts options either as an array or as FormKit's {"value": "label"} object.
func (n *Node) UnmarshalJSON(data []byte) error {
	type plain Node // no methods, so no recursion
	var aux struct {
		plain
		Options optionList `json:"options,omitempty"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&aux); err != nil {
		return err
	}
	*n = Node(aux.plain)
	n.Options = aux.Options
	// {} and a missing map decode alike, so stored forms compare equal.
	for _, m := range []*map[string]string{&n.Labels, &n.Placeholders, &n.Helps} {
		if len(*m) == 0 {
			*m = nil
		}
	}
	if len(n.OptionLabels) == 0 {
		n.OptionLabels = nil
	}
	return nil
}

// Option is one choice of a select or radio node. It encodes as
// {"label", "value"}; it decodes from that object, from a plain string (used
// as both label and value), or from a one-entry {"value": "label"} object.
type Option struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// UnmarshalJSON implements the decoding forms described on Option.
func (o *Option) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*o = Option{Label: s, Value: s}
		return nil
	case len(data) > 0 && data[0] == '{':
	default:
		return errors.New("an option must be a string or an object")
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return err
	}
	_, hasLabel := m["label"]
	rawValue, hasValue := m["value"]
	if !hasLabel && !hasValue {
		// FormKit's shorthand {"courier": "Courier"}, one option per object.
		if len(m) != 1 {
			return errors.New(`an option object needs "value" (and optionally "label"), or a single "value": "label" entry`)
		}
		for k, raw := range m {
			label, err := optionText(raw)
			if err != nil {
				return fmt.Errorf("option %q: %w", k, err)
			}
			*o = Option{Label: label, Value: k}
		}
		return nil
	}
	for k := range m {
		if k != "label" && k != "value" {
			return fmt.Errorf("unknown option field %q", k)
		}
	}
	if !hasValue {
		return errors.New(`an option object needs a "value"`)
	}
	value, err := optionText(rawValue)
	if err != nil {
		return fmt.Errorf("option value: %w", err)
	}
	label := value
	if hasLabel {
		if err := json.Unmarshal(m["label"], &label); err != nil {
			return errors.New("option label must be a string")
		}
	}
	*o = Option{Label: label, Value: value}
	return nil
}

// optionText reads an option value: a string, or a number or boolean kept as
// its JSON text, since FormKit option values may be any scalar.
func optionText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case json.Number:
		return v.String(), nil
	case bool:
		if v {
			return "true", nil
		}
		return "false", nil
	}
	return "", errors.New("must be a string, number or boolean")
}

// optionList decodes a node's options from an array or an object.
type optionList []Option

func (l *optionList) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return errors.New("options: empty value")
	}
	switch data[0] {
	case 'n':
		*l = nil
		return nil
	case '[':
		var opts []Option
		if err := json.Unmarshal(data, &opts); err != nil {
			return err
		}
		if len(opts) == 0 {
			opts = nil // so that [] and a missing field decode alike
		}
		*l = opts
		return nil
	case '{':
		// An object keeps its order in JSON but not in a Go map, so read tokens.
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if _, err := dec.Token(); err != nil {
			return err
		}
		var opts []Option
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := tok.(string)
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			label, err := optionText(raw)
			if err != nil {
				return fmt.Errorf("option %q: %w", key, err)
			}
			opts = append(opts, Option{Label: label, Value: key})
		}
		*l = opts
		return nil
	}
	return errors.New("options must be an array or an object")
}

// Problem is one mistake in a schema. Index is the node's position (-1 for
// the schema as a whole) and Name its name when it has one.
type Problem struct {
	Index   int    `json:"index"`
	Name    string `json:"name,omitempty"`
	Message string `json:"message"`
}

// SchemaError lists every problem found in a schema, ordered by node.
type SchemaError struct {
	Problems []Problem
}

func (e *SchemaError) Error() string {
	var b strings.Builder
	b.WriteString("forms: invalid schema: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		switch {
		case p.Index < 0:
		case p.Name != "":
			fmt.Fprintf(&b, "node %d (%s): ", p.Index, p.Name)
		default:
			fmt.Fprintf(&b, "node %d: ", p.Index)
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// DecodeSchema decodes a JSON array of nodes, such as the body of the admin
// PUT, and validates it. Malformed JSON returns a plain error; a well-formed
// array with bad nodes (unknown fields included) returns a *SchemaError that
// names every bad node.
func DecodeSchema(data []byte) ([]Node, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return nil, errors.New("forms: decoding schema: the schema must be a JSON array of nodes")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var raws []json.RawMessage
	if err := dec.Decode(&raws); err != nil {
		return nil, fmt.Errorf("forms: decoding schema: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("forms: decoding schema: unexpected data after the array")
	}
	if len(raws) > MaxNodes {
		return nil, &SchemaError{Problems: []Problem{tooMany(len(raws))}}
	}
	nodes := make([]Node, len(raws))
	var problems []Problem
	bad := make(map[int]bool)
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &nodes[i]); err != nil {
			var named struct {
				Name any `json:"name"`
			}
			_ = json.Unmarshal(raw, &named)
			name, _ := named.Name.(string)
			problems = append(problems, Problem{Index: i, Name: name, Message: decodeMessage(err)})
			bad[i] = true
		}
	}
	problems = append(problems, checkSchema(nodes, bad)...)
	if len(problems) > 0 {
		sort.SliceStable(problems, func(i, j int) bool { return problems[i].Index < problems[j].Index })
		return nil, &SchemaError{Problems: problems}
	}
	return nodes, nil
}

// decodeMessage turns encoding/json's messages, which name Go types, into
// ones that name the JSON field.
func decodeMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if i := strings.LastIndexByte(field, '.'); i >= 0 {
			field = field[i+1:]
		}
		want := "a string"
		if te.Type != nil {
			switch te.Type.Kind() {
			case reflect.Slice:
				want = "an array"
			case reflect.Struct, reflect.Map:
				want = "an object"
			}
		}
		if field == "" {
			return fmt.Sprintf("a node must be an object, not %s", te.Value)
		}
		return fmt.Sprintf("%s must be %s, not %s", field, want, te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// ValidateSchema checks nodes before they are stored or served. It returns
// nil or a *SchemaError listing every problem: an unknown $formkit type, a
// missing, malformed or duplicate name, an unknown rule or bad rule
// arguments, a rule that cannot apply to the node's type, a select or radio
// without options, an over-long text, an invalid initial value, or more than
// MaxNodes nodes.
func ValidateSchema(nodes []Node) error {
	if len(nodes) > MaxNodes {
		return &SchemaError{Problems: []Problem{tooMany(len(nodes))}}
	}
	if problems := checkSchema(nodes, nil); len(problems) > 0 {
		return &SchemaError{Problems: problems}
	}
	return nil
}

func tooMany(n int) Problem {
	return Problem{Index: -1, Message: fmt.Sprintf("the schema has %d nodes; at most %d are allowed", n, MaxNodes)}
}

// checkSchema returns the problems of nodes, skipping the indexes in skip
// (nodes that failed to decode).
func checkSchema(nodes []Node, skip map[int]bool) []Problem {
	var problems []Problem
	seen := make(map[string]int, len(nodes))
	for i, n := range nodes {
		if skip[i] {
			continue
		}
		for _, msg := range checkNode(n) {
			problems = append(problems, Problem{Index: i, Name: n.Name, Message: msg})
		}
		if n.Name == "" {
			continue
		}
		if first, dup := seen[n.Name]; dup {
			problems = append(problems, Problem{Index: i, Name: n.Name,
				Message: fmt.Sprintf("duplicate name %q (also used by node %d)", n.Name, first)})
			continue
		}
		seen[n.Name] = i
	}
	// confirm and require_one name other fields, which must be in the form:
	// FormKit would fail confirm for ever, and ignore a missing require_one
	// field, on a name mistyped in the schema.
	for i, n := range nodes {
		if skip[i] {
			continue
		}
		rules, err := parseRules(n.Validation)
		if err != nil {
			continue
		}
		for _, r := range rules {
			var names []string
			switch r.Name {
			case "confirm":
				names = []string{r.confirmField(n.Name)}
				if names[0] == n.Name {
					problems = append(problems, Problem{Index: i, Name: n.Name,
						Message: "validation: rule \"confirm\" compares the field with itself; name the field to match, as in confirm:password"})
					continue
				}
			case "require_one":
				names = r.fields
			}
			for _, name := range names {
				if _, ok := seen[name]; !ok {
					problems = append(problems, Problem{Index: i, Name: n.Name,
						Message: fmt.Sprintf("validation: rule %q names the field %q, which is not in the form", r.Name, name)})
				}
			}
		}
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Index < problems[j].Index })
	return problems
}

func checkNode(n Node) []string {
	var msgs []string
	add := func(format string, args ...any) { msgs = append(msgs, fmt.Sprintf(format, args...)) }

	knownType := isNodeType(n.Type)
	switch {
	case n.Type == "":
		add("missing $formkit type; use one of %s", strings.Join(nodeTypes, ", "))
	case !knownType:
		add("unknown $formkit type %q; use one of %s", n.Type, strings.Join(nodeTypes, ", "))
	}
	switch {
	case n.Name == "":
		add("missing name")
	case !validName(n.Name):
		add("name %q must start with a letter or underscore and contain only letters, digits and underscores, at most 64 in all", n.Name)
	case reservedName(n.Name):
		add("name %q is reserved: the storefront keeps field values in JavaScript objects, where it has a meaning of its own", n.Name)
	}
	checkText := func(field, s string, max int) {
		if !utf8.ValidString(s) {
			add("%s is not valid UTF-8", field)
		} else if c := utf8.RuneCountInString(s); c > max {
			add("%s is %d characters long; at most %d are allowed", field, c, max)
		}
	}
	checkText("label", n.Label, MaxLabelLength)
	checkText("placeholder", n.Placeholder, MaxLabelLength)
	checkText("help", n.Help, MaxHelpLength)
	checkTranslations := func(field string, m map[string]string, max int) {
		for _, lang := range sortedKeys(m) {
			if !validLanguage(lang) {
				add("%s: %q is not a language code; use a lowercase code of 2 or 3 letters such as ru", field, lang)
				continue
			}
			checkText(fmt.Sprintf("%s: %s", field, lang), m[lang], max)
		}
	}
	checkTranslations("labels", n.Labels, MaxLabelLength)
	checkTranslations("placeholders", n.Placeholders, MaxLabelLength)
	checkTranslations("helps", n.Helps, MaxHelpLength)
	values := make(map[string]bool, len(n.Options))
	for _, o := range n.Options {
		values[o.Value] = true
	}
	langs := make([]string, 0, len(n.OptionLabels))
	for lang := range n.OptionLabels {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		if !validLanguage(lang) {
			add("option_labels: %q is not a language code; use a lowercase code of 2 or 3 letters such as ru", lang)
			continue
		}
		for _, v := range sortedKeys(n.OptionLabels[lang]) {
			if !values[v] {
				add("option_labels: %s: %q is not the value of an option", lang, v)
				continue
			}
			checkText(fmt.Sprintf("option_labels: %s: %s", lang, v), n.OptionLabels[lang][v], MaxLabelLength)
		}
	}

	rules, err := parseRules(n.Validation)
	if err != nil {
		add("validation: %v", err)
	} else if knownType {
		for _, r := range rules {
			if !appliesTo(r.Name, n.Type) {
				add("validation: rule %q does not apply to %s nodes; it applies to %s",
					r.Name, n.Type, strings.Join(ruleSpecs[r.Name].types, ", "))
			}
		}
	}

	choice := n.Type == TypeSelect || n.Type == TypeRadio
	switch {
	case choice && len(n.Options) == 0:
		add("a %s node needs options", n.Type)
	case !choice && len(n.Options) > 0 && knownType:
		add("options are only allowed on select and radio nodes")
	case len(n.Options) > MaxOptions:
		add("%d options; at most %d are allowed", len(n.Options), MaxOptions)
	case choice:
		values := make(map[string]bool, len(n.Options))
		for j, o := range n.Options {
			switch {
			case o.Value == "":
				add("option %d has an empty value", j)
			case values[o.Value]:
				add("option %d repeats the value %q", j, o.Value)
			case !utf8.ValidString(o.Value) || !utf8.ValidString(o.Label):
				add("option %d is not valid UTF-8", j)
			case utf8.RuneCountInString(o.Value) > MaxLabelLength || utf8.RuneCountInString(o.Label) > MaxLabelLength:
				add("option %d is longer than %d characters", j, MaxLabelLength)
			}

			values[o.Value] = true
		}
	}

	if n.Value != nil && knownType && len(msgs) == 0 {
		if _, _, msg := coerce(n, n.Value); msg != "" {
			add("value %v is not a valid initial value: %s", n.Value, msg)
		}
	}
	return msgs
}

// validLanguage reports whether s is a language code as translations are
// keyed: 2 or 3 lowercase ASCII letters (ISO 639), such as "ru".
func validLanguage(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// sortedKeys returns m's keys in order, so problems are listed the same way
// every time.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func isNodeType(t string) bool {
	for _, k := range nodeTypes {
		if t == k {
			return true
		}
	}
	return false
}

// reservedName reports names that are special on JavaScript objects: a
// field called __proto__ or constructor would break, or pollute, the
// storefront's form state.
func reservedName(s string) bool {
	if strings.HasPrefix(s, "__") {
		return true
	}
	switch s {
	case "constructor", "prototype", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable",
		"toString", "toLocaleString", "valueOf":
		return true
	}
	return false
}

// validName reports whether s matches ^[a-zA-Z_][a-zA-Z0-9_]{0,63}$.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
