package pulse_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/telecart-go/telecart/pulse"
)

func TestIsClientEvent(t *testing.T) {
	for _, name := range []string{"WEBAPP_OPEN", "PRODUCT_VIEW", "ADD_TO_CART", "CART_VIEW", "CHECKOUT_START", "SEARCH"} {
		if !pulse.IsClientEvent(name) || !pulse.IsKnownEvent(name) {
			t.Errorf("%s: want a known client event", name)
		}
	}
	// Ensure a client cannot send server events such as ORDER_CREATED.
	for _, name := range []string{"ORDER_CREATED", "PRIVACY_CONSENT", "MESSAGE_SENT"} {
		if pulse.IsClientEvent(name) {
			t.Errorf("%s: IsClientEvent = true, want false", name)
		}
		if !pulse.IsKnownEvent(name) {
			t.Errorf("%s: IsKnownEvent = false, want true", name)
		}
	}
	for _, name := range []string{"", "webapp_open", "WEBAPP_OPEN ", "PAGE_VIEW"} {
		if pulse.IsClientEvent(name) || pulse.IsKnownEvent(name) {
			t.Errorf("%q: want unknown", name)
		}
	}
}

func TestWireEventJSON(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		// Ensure occurred_at is UTC with exactly six fractional digits and
		// field names are those of the spec.
		at := time.Date(2026, 11, 25, 23, 0, 0, 123456789, time.FixedZone("MSK", 3*3600))
		b, err := json.Marshal(pulse.WireBatch{Events: []pulse.WireEvent{{
			IdempotencyKey: "k1", Event: pulse.EventWebAppOpen, OccurredAt: at,
			CampaignID: "spring24", TrackingID: "t1", Payload: json.RawMessage(`{"any":"x"}`),
		}}})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"events":[{"idempotency_key":"k1","event":"WEBAPP_OPEN","occurred_at":"2026-11-25T20:00:00.123456Z","campaign_id":"spring24","tracking_id":"t1","payload":{"any":"x"}}]}`
		if string(b) != want {
			t.Fatalf("got  %s\nwant %s", b, want)
		}
		var back pulse.WireBatch
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		got := back.Events[0]
		if !got.OccurredAt.Equal(at.Truncate(time.Microsecond)) || got.OccurredAt.Location() != time.UTC {
			t.Errorf("OccurredAt = %v, want %v in UTC", got.OccurredAt, at.Truncate(time.Microsecond))
		}
		if got.IdempotencyKey != "k1" || got.Event != "WEBAPP_OPEN" || got.CampaignID != "spring24" || got.TrackingID != "t1" || string(got.Payload) != `{"any":"x"}` {
			t.Errorf("round trip = %+v", got)
		}
	})

	t.Run("WholeSecondsAndNilPayload", func(t *testing.T) {
		// Ensure the width is fixed (bodies are signed byte for byte) and a
		// nil payload is still a JSON object.
		b, err := json.Marshal(pulse.WireEvent{IdempotencyKey: "k", Event: "SEARCH", OccurredAt: time.Unix(1764100000, 0)})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"idempotency_key":"k","event":"SEARCH","occurred_at":"2025-11-25T19:46:40.000000Z","campaign_id":"","tracking_id":"","payload":{}}`
		if string(b) != want {
			t.Fatalf("got  %s\nwant %s", b, want)
		}
	})

	t.Run("ErrOccurredAt", func(t *testing.T) {
		var e pulse.WireEvent
		if err := json.Unmarshal([]byte(`{"idempotency_key":"k","occurred_at":"yesterday"}`), &e); err == nil {
			t.Fatal("want an error for a malformed occurred_at")
		}
	})

	t.Run("OffsetAccepted", func(t *testing.T) {
		var e pulse.WireEvent
		if err := json.Unmarshal([]byte(`{"occurred_at":"2026-11-25T23:00:00+03:00"}`), &e); err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC); e.OccurredAt != want {
			t.Fatalf("OccurredAt = %v, want %v", e.OccurredAt, want)
		}
	})
}

func TestWireResponseJSON(t *testing.T) {
	// Ensure an answer without "results" is told apart from "results": [].
	var none, empty pulse.WireResponse
	if err := json.Unmarshal([]byte(`{}`), &none); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"results":[]}`), &empty); err != nil {
		t.Fatal(err)
	}
	if none.Results != nil || empty.Results == nil {
		t.Fatalf("none.Results = %#v, empty.Results = %#v", none.Results, empty.Results)
	}
	var r pulse.WireResponse
	if err := json.Unmarshal([]byte(`{"results":[{"idempotency_key":"k","status":"rejected","error":"bad"}]}`), &r); err != nil {
		t.Fatal(err)
	}
	if want := (pulse.WireResult{IdempotencyKey: "k", Status: pulse.ResultRejected, Error: "bad"}); len(r.Results) != 1 || r.Results[0] != want {
		t.Fatalf("Results = %+v", r.Results)
	}
}
