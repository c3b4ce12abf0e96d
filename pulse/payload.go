package pulse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Pulse event payloads carry no personal data at all: no names, usernames,
// photos, languages, Telegram ids, phone numbers, e-mail or postal
// addresses, nor free text a buyer typed about themselves. The customer is
// the event's tracking_id, which is pseudonymous; what the person is
// called stays in the shop (and reaches the Pulse service only through the
// ETL export, only with their consent). payloadFields is the list of the
// fields each event the project emits may carry, in the notation of
// PayloadFields; docs/pulse-protocol.md shows the same list, and a test
// walks every event the project emits against it.
var payloadFields = map[string][]string{
	EventWebAppOpen:     {"platform", "start_param"},
	EventProductView:    {"product_id", "price", "currency"},
	EventAddToCart:      {"product_id", "quantity", "price", "currency", "source"},
	EventCartView:       {"items[].product_id", "items[].quantity", "total", "currency"},
	EventCheckoutStart:  {"items", "total", "currency"},
	EventSearch:         {"query", "results"},
	EventOrderCreated:   {"order_id", "total", "currency", "items[].product_id", "items[].quantity", "items[].unit_price"},
	EventPrivacyConsent: {},
	EventMessageSent:    {"message_id", "kind", "broadcast_id"},
}

// PayloadFields returns the payload fields the event name may carry, sorted:
// a top-level field by its name, a field of the objects in an array as
// "array[].field". It returns nil for a name that is not a known event.
func PayloadFields(name string) []string {
	fields, ok := payloadFields[name]
	if !ok {
		return nil
	}
	out := append([]string{}, fields...)
	slices.Sort(out)
	return out
}

// CheckPayload reports the first field of payload, a JSON object, that the
// event name may not carry (see PayloadFields), or that payload is not an
// object. A listed field holds a string, number, boolean or null, and an
// array of objects only where its objects' fields are listed
// ("items[].product_id"), so that nothing unlisted hides inside a listed
// field. The project's tests hold every event it emits to the list, and
// POST /api/ingest refuses a client event that breaks it; a host tracking
// its own events can hold them to it too.
func CheckPayload(name string, payload []byte) error {
	allowed, ok := payloadFields[name]
	if !ok {
		return fmt.Errorf("pulse: %q is not a known event", name)
	}
	v := checkPayloadFields(allowed, payload)
	switch {
	case v.notObject != nil:
		return fmt.Errorf("pulse: %s payload is not a JSON object: %w", name, v.notObject)
	case !v.bad:
		return nil
	case v.notScalar:
		return fmt.Errorf("pulse: %s payload field %q must hold a string, number, boolean or null", name, v.field)
	case v.repeated:
		return fmt.Errorf("pulse: %s payload field %q appears twice in one object", name, v.field)
	default:
		return fmt.Errorf("pulse: %s payload field %q is not on the list of fields Pulse events may carry", name, v.field)
	}
}

// payloadViolation is what checkPayloadFields found wrong: the payload is
// not an object (notObject), or a field (bad; its name, which may be "", in
// field) is not listed, or holds an object or an array where a plain value
// belongs (notScalar). The zero value is a payload that passes.
type payloadViolation struct {
	notObject error
	bad       bool
	field     string
	notScalar bool
	repeated  bool // the field appears twice in one object
}

// checkPayloadFields checks payload against the allowed fields, top-level
// fields in sorted order so that the field named is always the same.
func checkPayloadFields(allowed []string, payload []byte) payloadViolation {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 {
		return payloadViolation{}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return payloadViolation{notObject: err}
	}
	// Go's decoder keeps the last of a repeated key, but the payload is
	// stored and sent as it came: {"query":{"name":…},"query":"tea"} must
	// not pass on its second "query".
	if k, dup := repeatedKey(payload); dup {
		return payloadViolation{bad: true, field: k, repeated: true}
	}
	for _, k := range sortedFields(top) {
		if slices.Contains(allowed, k) {
			if !isScalar(top[k]) {
				return payloadViolation{bad: true, field: k, notScalar: true}
			}
			continue
		}
		var items []map[string]json.RawMessage
		if !hasNested(allowed, k) || json.Unmarshal(top[k], &items) != nil {
			return payloadViolation{bad: true, field: k}
		}
		for _, it := range items {
			for _, f := range sortedFields(it) {
				switch {
				case !slices.Contains(allowed, k+"[]."+f):
					return payloadViolation{bad: true, field: k + "[]." + f}
				case !isScalar(it[f]):
					return payloadViolation{bad: true, field: k + "[]." + f, notScalar: true}
				}
			}
		}
	}
	return payloadViolation{}
}

func sortedFields(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// isScalar reports whether v, valid JSON, is a string, number, boolean
// or null rather than an object or an array.
func isScalar(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] != '{' && v[0] != '['
}

// hasNested reports whether allowed lists fields of the objects in the
// array k.
func hasNested(allowed []string, k string) bool {
	return slices.ContainsFunc(allowed, func(f string) bool { return strings.HasPrefix(f, k+"[].") })
}

// repeatedKey returns a key that appears twice in one object of payload,
// valid JSON, at any depth.
func repeatedKey(payload []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	// One entry per open object or array; an array's is nil. expectKey
	// tells a key from a value inside an object.
	var stack []map[string]bool
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false // the end, or what json.Unmarshal already refused
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, map[string]bool{})
				expectKey = true
				continue
			case '[':
				stack = append(stack, nil)
				expectKey = false
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		} else if k, ok := tok.(string); ok && expectKey {
			top := stack[len(stack)-1]
			if top[k] {
				return k, true
			}
			top[k] = true
			expectKey = false
			continue
		}
		// A value ended: inside an object, a key comes next.
		expectKey = len(stack) > 0 && stack[len(stack)-1] != nil
	}
}
