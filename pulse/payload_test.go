package pulse_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/pulse"
)

// allEvents is every event name of the protocol.
var allEvents = []string{pulse.EventWebAppOpen, pulse.EventProductView, pulse.EventAddToCart, pulse.EventCartView,
	pulse.EventCheckoutStart, pulse.EventSearch, pulse.EventOrderCreated, pulse.EventPrivacyConsent, pulse.EventMessageSent}

// Ensure every event has its list of payload fields, that none of them
// names personal data, and that CheckPayload holds payloads to the list.
func TestPayloadFields(t *testing.T) {
	for _, name := range allEvents {
		if !pulse.IsKnownEvent(name) {
			t.Fatalf("%s is not a known event", name)
		}
		fields := pulse.PayloadFields(name)
		if fields == nil {
			t.Errorf("%s has no list of payload fields", name)
		}
		for _, f := range fields {
			for _, personal := range []string{"name", "user", "phone", "mail", "address", "photo", "lang", "telegram", "comment"} {
				if strings.Contains(f, personal) {
					t.Errorf("%s may carry %q, which reads as personal data", name, f)
				}
			}
		}
	}
	if pulse.PayloadFields("PAGE_VIEW") != nil {
		t.Error("an unknown event has a list")
	}
	for _, tt := range []struct {
		name, event, payload, bad string
	}{
		{"Empty", pulse.EventPrivacyConsent, `{}`, ""},
		{"None", pulse.EventPrivacyConsent, ``, ""},
		{"Order", pulse.EventOrderCreated, `{"order_id":"H1","total":100,"currency":"RUB","items":[{"product_id":"p1","quantity":1,"unit_price":100}]}`, ""},
		{"Cart", pulse.EventCartView, `{"items":[{"product_id":"p1","quantity":2}],"total":5,"currency":"RUB"}`, ""},
		{"CheckoutCount", pulse.EventCheckoutStart, `{"items":2,"total":5,"currency":"RUB"}`, ""},
		{"TopLevel", pulse.EventOrderCreated, `{"order_id":"H1","name":"Anna"}`, `"name"`},
		{"Nested", pulse.EventOrderCreated, `{"items":[{"product_id":"p1","phone":"+7"}]}`, `"items[].phone"`},
		{"NotAnArrayOfObjects", pulse.EventCartView, `{"items":"Anna"}`, `"items"`},
		{"RepeatedKey", pulse.EventSearch, `{"query":{"name":"Anna"},"query":"tea"}`, `"query" appears twice`},
		{"RepeatedEscapedKey", pulse.EventSearch, `{"query":"tea","qu\u0065ry":"Anna"}`, `"query" appears twice`},
		{"RepeatedNestedKey", pulse.EventCartView, `{"items":[{"product_id":"Anna","product_id":"p1"}]}`, `"product_id" appears twice`},
		{"SameKeyInTwoItems", pulse.EventCartView, `{"items":[{"product_id":"p1"},{"product_id":"p2"}]}`, ""},
		{"NotAllowedHere", pulse.EventSearch, `{"message_id":1}`, `"message_id"`},
		{"Null", pulse.EventSearch, `{"query":null}`, ""},
		{"ObjectInListed", pulse.EventWebAppOpen, `{"platform":{"name":"Anna"}}`, `"platform" must hold`},
		{"ArrayInListed", pulse.EventCheckoutStart, `{"items":[{"name":"Anna"}]}`, `"items" must hold`},
		{"ObjectInNested", pulse.EventCartView, `{"items":[{"product_id":{"name":"Anna"}}]}`, `"items[].product_id" must hold`},
		{"FirstInOrder", pulse.EventOrderCreated, `{"phone":"+7","address":"x","email":"a@b"}`, `"address"`},
		{"NotObject", pulse.EventSearch, `[1]`, "not a JSON object"},
		{"Unknown", "PAGE_VIEW", `{}`, "not a known event"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := pulse.CheckPayload(tt.event, []byte(tt.payload))
			switch {
			case tt.bad == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)):
				t.Fatalf("error %v, want one naming %s", err, tt.bad)
			}
		})
	}
}

// Ensure the table in docs/pulse-protocol.md lists exactly the fields of
// PayloadFields, event by event.
func TestPayloadFieldsDocumented(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "pulse-protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Personal data\n")
	if !ok {
		t.Fatal("docs/pulse-protocol.md has no Personal data section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	field := regexp.MustCompile("`([a-z_\\[\\].]+)`")
	documented := map[string][]string{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		fields := []string{}
		for _, m := range field.FindAllStringSubmatch(cells[2], -1) {
			fields = append(fields, m[1])
		}
		slices.Sort(fields)
		documented[name] = fields
	}
	for _, name := range allEvents {
		if got, want := documented[name], pulse.PayloadFields(name); !slices.Equal(got, want) {
			t.Errorf("%s: documented %v, PayloadFields %v", name, got, want)
		}
	}
	if len(documented) != len(allEvents) {
		t.Errorf("documented %d events, want %d: %v", len(documented), len(allEvents), documented)
	}
}

// Ensure CheckPayload never panics and passes exactly the payloads whose
// every field, decoded by encoding/json, is on the event's list, with a
// plain value, or an array of objects whose fields are listed.
func FuzzCheckPayload(f *testing.F) {
	for _, seed := range []string{`{}`, `{"query":"tea","results":3}`, `{"items":[{"product_id":"p1","quantity":2}],"total":5}`,
		`{"items":2}`, `{"items":[{"name":"Anna"}]}`, `{"n\u0061me":1}`, `{"items":{"a":1}}`, `[1]`, `null`, `{"a":`, ` `} {
		for i := range allEvents {
			f.Add(uint8(i), seed)
		}
	}
	f.Fuzz(func(t *testing.T, event uint8, payload string) {
		name := allEvents[int(event)%len(allEvents)]
		err := pulse.CheckPayload(name, []byte(payload))
		if strings.TrimSpace(payload) == "" {
			if err != nil {
				t.Fatalf("an empty payload is refused: %v", err)
			}
			return
		}
		allowed := pulse.PayloadFields(name)
		scalar := func(v any) bool {
			switch v.(type) {
			case map[string]any, []any:
				return false
			}
			return true
		}
		var top map[string]any
		// Surrounding space is no part of a payload (Go's, which is
		// wider than JSON's).
		ok := json.Unmarshal([]byte(strings.TrimSpace(payload)), &top) == nil
		for k, v := range top {
			if slices.Contains(allowed, k) {
				ok = ok && scalar(v)
				continue
			}
			items, isArray := v.([]any)
			ok = ok && (isArray || v == nil) && slices.ContainsFunc(allowed, func(f string) bool { return strings.HasPrefix(f, k+"[].") })
			for _, it := range items {
				obj, isObj := it.(map[string]any)
				ok = ok && isObj
				for f, fv := range obj {
					ok = ok && slices.Contains(allowed, k+"[]."+f) && scalar(fv)
				}
			}
		}
		ok = ok && !hasRepeatedKey(strings.TrimSpace(payload))
		if ok != (err == nil) {
			t.Fatalf("%s %s: CheckPayload says %v, want passed=%v", name, payload, err, ok)
		}
	})
}

// BenchmarkCheckPayload times the check POST /api/ingest runs on every
// event, on a product view as the storefront sends it; BENCHMARKS.md has
// the figure.
func BenchmarkCheckPayload(b *testing.B) {
	p := []byte(`{"product_id":"p-1001","price":1990,"currency":"EUR"}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := pulse.CheckPayload(pulse.EventProductView, p); err != nil {
			b.Fatal(err)
		}
	}
}

// hasRepeatedKey reports whether an object of the JSON text s holds a key
// twice; the fuzz test's own reading, by recursive descent over tokens.
func hasRepeatedKey(s string) bool {
	dec := json.NewDecoder(strings.NewReader(s))
	var value func() bool // reads one value; true when a key repeats in it
	value = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return false
				}
				key, _ := k.(string)
				if seen[key] {
					return true
				}
				seen[key] = true
				if value() {
					return true
				}
			}
			_, _ = dec.Token()
		case json.Delim('['):
			for dec.More() {
				if value() {
					return true
				}
			}
			_, _ = dec.Token()
		}
		return false
	}
	return value()
}
