package pulse

import (
	"encoding/json"
	"fmt"
	"time"
)

// Client events: the storefront's ingest endpoint accepts these from the Mini
// App. Any other name sent by a client is rejected with 400.
const (
	EventWebAppOpen     = "WEBAPP_OPEN"
	EventProductView    = "PRODUCT_VIEW"
	EventAddToCart      = "ADD_TO_CART"
	EventCartView       = "CART_VIEW"
	EventCheckoutStart  = "CHECKOUT_START"
	EventSearch         = "SEARCH"
	EventOrderCreated   = "ORDER_CREATED"
	EventPrivacyConsent = "PRIVACY_CONSENT"
	EventMessageSent    = "MESSAGE_SENT"
)

// IsClientEvent reports whether name is an event the Mini App may send
// through the ingest endpoint. Server events (ORDER_CREATED, …) are not:
// a client must not be able to claim that an order exists.
func IsClientEvent(name string) bool {
	switch name {
	case EventWebAppOpen, EventProductView, EventAddToCart, EventCartView, EventCheckoutStart, EventSearch:
		return true
	}
	return false
}

// IsKnownEvent reports whether name is a client or a server event of
// protocol version 1.
func IsKnownEvent(name string) bool {
	switch name {
	case EventOrderCreated, EventPrivacyConsent, EventMessageSent:
		return true
	}
	return IsClientEvent(name)
}

// HTTP headers of a POST /v1/events request (docs/pulse-protocol.md).
const (
	HeaderTimestamp = "X-Pulse-Timestamp" // unix seconds, decimal
	HeaderSignature = "X-Pulse-Signature" // "v1=" + hex HMAC-SHA256, see PayloadSigner
	HeaderBatchID   = "X-Pulse-Batch-Id"  // a UUID, the same on every retry of a batch
	HeaderAttempt   = "X-Pulse-Attempt"   // 1, 2, …
)

// Per-event outcomes in a WireResult.
const (
	ResultAccepted  = "accepted"
	ResultDuplicate = "duplicate"
	ResultRejected  = "rejected"
)

// OccurredAtLayout is the wire format of WireEvent.OccurredAt: RFC 3339 in
// UTC with exactly six fractional digits, e.g. "2026-11-25T20:00:00.123456Z".
// A fixed width keeps bodies (and therefore signatures) byte-stable.
const OccurredAtLayout = "2006-01-02T15:04:05.000000Z"

// WireEvent is one event of a POST /v1/events body.
type WireEvent struct {
	IdempotencyKey string          `json:"idempotency_key"`
	Event          string          `json:"event"`
	OccurredAt     time.Time       `json:"occurred_at"` // sent in UTC as OccurredAtLayout
	CampaignID     string          `json:"campaign_id"`
	TrackingID     string          `json:"tracking_id"`
	Payload        json.RawMessage `json:"payload"` // a JSON object; nil is sent as {}
}

// wireEventJSON is WireEvent with OccurredAt as text, so the Marshal and
// Unmarshal methods can reuse the default encoding of the other fields.
type wireEventJSON struct {
	IdempotencyKey string          `json:"idempotency_key"`
	Event          string          `json:"event"`
	OccurredAt     string          `json:"occurred_at"`
	CampaignID     string          `json:"campaign_id"`
	TrackingID     string          `json:"tracking_id"`
	Payload        json.RawMessage `json:"payload"`
}

// MarshalJSON writes OccurredAt in UTC with microseconds (OccurredAtLayout)
// and a nil Payload as an empty object.
func (e WireEvent) MarshalJSON() ([]byte, error) {
	payload := e.Payload
	if len(payload) == 0 {
		payload = json.RawMessage(`{}`)
	}
	return json.Marshal(wireEventJSON{
		IdempotencyKey: e.IdempotencyKey,
		Event:          e.Event,
		OccurredAt:     e.OccurredAt.UTC().Format(OccurredAtLayout),
		CampaignID:     e.CampaignID,
		TrackingID:     e.TrackingID,
		Payload:        payload,
	})
}

// UnmarshalJSON accepts any RFC 3339 occurred_at (with or without fractional
// seconds, any offset) and stores it in UTC. A missing occurred_at leaves the
// zero time; a malformed one is an error.
func (e *WireEvent) UnmarshalJSON(data []byte) error {
	var w wireEventJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	var at time.Time
	if w.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339Nano, w.OccurredAt)
		if err != nil {
			return fmt.Errorf("pulse: occurred_at %q is not an RFC 3339 time", w.OccurredAt)
		}
		at = t.UTC()
	}
	*e = WireEvent{
		IdempotencyKey: w.IdempotencyKey,
		Event:          w.Event,
		OccurredAt:     at,
		CampaignID:     w.CampaignID,
		TrackingID:     w.TrackingID,
		Payload:        w.Payload,
	}
	return nil
}

// WireBatch is the body of a POST /v1/events request.
type WireBatch struct {
	Events []WireEvent `json:"events"`
}

// WireResult is the outcome of one event in a WireResponse.
type WireResult struct {
	IdempotencyKey string `json:"idempotency_key"`
	Status         string `json:"status"`          // ResultAccepted, ResultDuplicate or ResultRejected
	Error          string `json:"error,omitempty"` // why, when rejected
}

// WireResponse is the body of a 200 answer. Results is nil when the answer
// had no "results" key (all events accepted) and empty but not nil for
// "results": [].
type WireResponse struct {
	Results []WireResult `json:"results"`
}
