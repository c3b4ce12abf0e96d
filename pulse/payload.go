package pulse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
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
// object. It is how the project's tests hold every event it emits to the
// list; a host tracking its own events can hold them to it too.
func CheckPayload(name string, payload []byte) error {
	allowed, ok := payloadFields[name]
	if !ok {
		return fmt.Errorf("pulse: %q is not a known event", name)
	}
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 {
		return nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return fmt.Errorf("pulse: %s payload is not a JSON object: %w", name, err)
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.Contains(allowed, k) {
			continue
		}
		var items []map[string]json.RawMessage
		if err := json.Unmarshal(top[k], &items); err != nil || !hasNested(allowed, k) {
			return fmt.Errorf("pulse: %s payload field %q is not on the list of fields Pulse events may carry", name, k)
		}
		for _, it := range items {
			for f := range it {
				if !slices.Contains(allowed, k+"[]."+f) {
					return fmt.Errorf("pulse: %s payload field %q is not on the list of fields Pulse events may carry", name, k+"[]."+f)
				}
			}
		}
	}
	return nil
}

// hasNested reports whether allowed lists fields of the objects in the
// array k.
func hasNested(allowed []string, k string) bool {
	return slices.ContainsFunc(allowed, func(f string) bool { return len(f) > len(k)+3 && f[:len(k)+3] == k+"[]." })
}
