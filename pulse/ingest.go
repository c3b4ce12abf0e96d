package pulse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram"
)

// Limits of POST /api/ingest.
const (
	// IngestMaxEvents is the most events one request may carry.
	IngestMaxEvents = 50
	// IngestMaxPayloadBytes is the largest payload of one event, as sent.
	IngestMaxPayloadBytes = 4 << 10
	// IngestClientIDMaxLen is the longest client event id.
	IngestClientIDMaxLen = 64
	// IngestMaxAge is how old an event's occurred_at may be: older events
	// are refused, not stored with a time that would distort reports.
	IngestMaxAge = 30 * 24 * time.Hour
	// IngestMaxFuture is how far ahead of the server's clock occurred_at
	// may lie (the phone's clock is not the server's); such a time is
	// clamped to the server's now. Further ahead is refused.
	IngestMaxFuture = 5 * time.Minute
)

// Prefixes of the idempotency keys the ingest endpoint gives events.
const (
	// ingestOpenKeyPrefix + initData hash: one WEBAPP_OPEN per launch,
	// however often the Mini App reloads with the same initData.
	ingestOpenKeyPrefix = "open:"
	// ingestClientKeyPrefix + tracking_id + ":" + client id: a client id
	// is unique only within one customer's events.
	ingestClientKeyPrefix = "client:"
)

// IngestConfig configures an IngestHandler.
type IngestConfig struct {
	// Pulse stores the events. Required.
	Pulse *Pulse

	// Customers resolves the initData user to a customer (saving it on
	// first sight) and records campaign visits. Required.
	Customers *telegram.CustomerStore

	// Attribution decides each event's campaign from the signed initData
	// and the customer's stored attribution. Defaults to the zero
	// Attribution (unsigned start_params, AttributionWindowDefault).
	Attribution Attribution

	// Logger receives internal errors. Defaults to slog.Default().
	Logger *slog.Logger

	// Now is the clock for the occurred_at bounds, attribution and
	// campaign times. Defaults to time.Now.
	Now func() time.Time

	// Rate is how many events one customer may send per minute, in bursts
	// of up to as many; a request over it is answered 429 with
	// Retry-After and nothing of it is stored. Negative means no limit.
	// Defaults to IngestRateDefault (300).
	Rate int

	// OnResult, when set, is called once for every request, after its
	// events are committed (or it was refused) and before it is answered,
	// on the request's goroutine: it must return quickly and hand slow
	// work to a goroutine of its own. Defaults to nil.
	OnResult func(IngestReport)
}

// IngestReport is what one POST /ingest came to, for IngestConfig.OnResult.
type IngestReport struct {
	// IngestResponse counts the events as answered: Accepted, Duplicates
	// and Dropped; all 0 for a refused request.
	IngestResponse
	// Err is why the request was refused, nil when it was answered 200:
	// a *tcerr.Error for the client's mistakes (tcerr.KindOf tells a rate
	// limit, tcerr.RateLimited, from bad input, tcerr.Invalid), anything
	// else an internal failure.
	Err error
}

// IngestHandler serves POST /ingest: the Mini App's client events. The
// campaign_id and tracking_id of every event come from the signed initData
// and the customer, never from the body.
type IngestHandler struct {
	pulse       *Pulse
	customers   *telegram.CustomerStore
	attribution Attribution
	logger      *slog.Logger
	now         func() time.Time
	onResult    func(IngestReport)
	limiter     *customerLimiter // nil: no limit
	group       *ingestGroup
	who         *customerCache
}

// NewIngestHandler returns the ingest handler for cfg, or an error naming
// the missing field.
func NewIngestHandler(cfg IngestConfig) (*IngestHandler, error) {
	switch {
	case cfg.Pulse == nil:
		return nil, errors.New("pulse: IngestConfig.Pulse is nil; pass the *Pulse from pulse.New")
	case cfg.Customers == nil:
		return nil, errors.New("pulse: IngestConfig.Customers is nil; pass the *telegram.CustomerStore of the shop")
	case cfg.Attribution.Window < 0:
		return nil, fmt.Errorf("pulse: IngestConfig.Attribution.Window must not be negative, got %s", cfg.Attribution.Window)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var limiter *customerLimiter
	switch {
	case cfg.Rate == 0:
		limiter = newCustomerLimiter(IngestRateDefault)
	case cfg.Rate > 0:
		limiter = newCustomerLimiter(cfg.Rate)
	}
	h := &IngestHandler{
		who:         newCustomerCache(),
		limiter:     limiter,
		pulse:       cfg.Pulse,
		customers:   cfg.Customers,
		attribution: cfg.Attribution,
		logger:      cfg.Logger,
		now:         cfg.Now,
		onResult:    cfg.OnResult,
	}
	writers := 1 // SQLite has one writer
	if cfg.Pulse.db.Dialect == migrator.MySQL {
		writers = 4
	}
	h.group = &ingestGroup{maxWriters: writers, commit: h.commitJobs}
	return h, nil
}

// RegisterStorefrontRoutes registers POST /ingest on r, which the host
// mounts under its storefront prefix (/api) behind
// telegram.Validator.Middleware.
func (h *IngestHandler) RegisterStorefrontRoutes(r *mux.Router) {
	r.HandleFunc("/ingest", h.handleIngest).Methods(http.MethodPost)
}

// Handler returns the route as an http.Handler, for hosts not on
// gorilla/mux; mount it with http.StripPrefix behind the initData
// middleware.
func (h *IngestHandler) Handler() http.Handler {
	r := mux.NewRouter()
	h.RegisterStorefrontRoutes(r)
	return r
}

// IngestRequest is the body of POST /api/ingest.
type IngestRequest struct {
	Events []IngestEvent `json:"events"`
}

// IngestEvent is one client event. It has no campaign_id or tracking_id:
// a body carrying them is refused as having unknown fields.
type IngestEvent struct {
	// ID is the client's id of the event (a UUID, or any 1..64 of
	// [A-Za-z0-9_-]); sending it again is a no-op.
	ID string `json:"id"`
	// Event is a client event name (IsClientEvent).
	Event string `json:"event"`
	// OccurredAt is RFC 3339; empty means the time of the request.
	OccurredAt string `json:"occurred_at,omitempty"`
	// Payload is a JSON object of at most IngestMaxPayloadBytes; absent or
	// null means {}.
	Payload json.RawMessage `json:"payload,omitempty"`
}

// IngestResponse is the answer of POST /api/ingest.
type IngestResponse struct {
	Accepted   int `json:"accepted"`   // stored now
	Duplicates int `json:"duplicates"` // stored before (a retry or a reload)
	Dropped    int `json:"dropped"`    // not stored: no campaign to credit, or Pulse is off
}

// ingestItem is a validated event, ready for TrackTx.
type ingestItem struct {
	name       string
	clientID   string
	occurredAt time.Time
	payload    json.RawMessage
}

// handleIngest handles POST /api/ingest. Every event is validated before
// any is stored, and all are stored in one transaction: a request is taken
// whole or not at all.
func (h *IngestHandler) handleIngest(w http.ResponseWriter, r *http.Request) {
	res, err := h.ingest(w, r)
	if err != nil {
		err = refusal(err)
	}
	if h.onResult != nil {
		h.onResult(IngestReport{IngestResponse: res, Err: err})
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, res)
}

// ingest reads, validates and stores the events of r.
func (h *IngestHandler) ingest(w http.ResponseWriter, r *http.Request) (IngestResponse, error) {
	ctx := r.Context()
	d, ok := telegram.InitDataFrom(ctx)
	if !ok {
		return IngestResponse{}, &tcerr.Error{Kind: tcerr.Unauthenticated, Code: "invalid_init_data",
			Message: telegram.HeaderInitData + " header is missing"}
	}
	if d.User == nil || d.User.ID <= 0 {
		return IngestResponse{}, &tcerr.Error{Kind: tcerr.Unauthenticated, Code: "invalid_init_data",
			Message: "init data has no user"}
	}
	var req IngestRequest
	if err := httpx.DecodeJSON(w, r, &req, httpx.MaxBodyDefault); err != nil {
		return IngestResponse{}, err
	}
	now := h.now().UTC()
	items, err := validateIngest(req, now)
	if err != nil {
		return IngestResponse{}, err
	}
	if h.limiter != nil {
		if wait, ok := h.limiter.take(d.User.ID, len(items), now); !ok {
			secs := retryAfterSeconds(wait)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			return IngestResponse{}, tcerr.Errorf(tcerr.RateLimited, "rate_limited",
				"Too many events from this customer; nothing of this request was stored. Try again in %d s.", secs)
		}
	}
	return h.store(ctx, d, items, now)
}

// validateIngest checks every event of req and returns them ready to
// store, or a 400 naming the first bad event's index and what is wrong,
// with every bad event in Fields.
func validateIngest(req IngestRequest, now time.Time) ([]ingestItem, error) {
	if n := len(req.Events); n < 1 || n > IngestMaxEvents {
		return nil, &tcerr.Error{Kind: tcerr.Invalid, Code: "bad_request",
			Message: fmt.Sprintf("events must hold 1 to %d events, got %d", IngestMaxEvents, n)}
	}
	items := make([]ingestItem, len(req.Events))
	var first string
	var fields map[string]string
	for i, ev := range req.Events {
		it, reason := validateIngestEvent(ev, now)
		if reason != "" {
			key := "events[" + strconv.Itoa(i) + "]"
			if fields == nil {
				fields = map[string]string{}
				first = key + ": " + reason
			}
			fields[key] = reason
			continue
		}
		items[i] = it
	}
	if fields != nil {
		msg := first + " (nothing was stored)"
		if len(fields) > 1 {
			msg = first + fmt.Sprintf(" (%d bad events in all, each in fields; nothing was stored)", len(fields))
		}
		return nil, &tcerr.Error{Kind: tcerr.Invalid, Code: "invalid_event", Message: msg, Fields: fields}
	}
	return items, nil
}

// validateIngestEvent returns ev ready to store, or why it is refused.
func validateIngestEvent(ev IngestEvent, now time.Time) (ingestItem, string) {
	switch {
	case ev.Event == "":
		return ingestItem{}, "event is missing"
	case !IsKnownEvent(ev.Event):
		return ingestItem{}, fmt.Sprintf("event %s is not a known event name", strconv.Quote(abbreviate(ev.Event, 40)))
	case !IsClientEvent(ev.Event):
		return ingestItem{}, fmt.Sprintf("event %s is a server event; the Mini App may not send it", ev.Event)
	case ev.ID == "":
		return ingestItem{}, "id is missing"
	case !validID(ev.ID, IngestClientIDMaxLen):
		return ingestItem{}, fmt.Sprintf("id must be 1 to %d characters of A-Z, a-z, 0-9, '_' and '-' (a UUID, for example)", IngestClientIDMaxLen)
	}
	it := ingestItem{name: ev.Event, clientID: ev.ID, occurredAt: now}
	if ev.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339Nano, ev.OccurredAt)
		if err != nil {
			return ingestItem{}, "occurred_at is not an RFC 3339 time, e.g. 2026-11-25T20:00:00.123Z"
		}
		t = t.UTC()
		switch {
		case t.Before(now.Add(-IngestMaxAge)):
			return ingestItem{}, fmt.Sprintf("occurred_at is more than %d days in the past", int(IngestMaxAge/(24*time.Hour)))
		case t.After(now.Add(IngestMaxFuture)):
			return ingestItem{}, fmt.Sprintf("occurred_at is more than %d minutes in the future", int(IngestMaxFuture/time.Minute))
		case t.After(now):
			t = now // clock skew of the phone: never store a future time
		}
		it.occurredAt = t
	}
	payload := bytes.TrimSpace(ev.Payload)
	switch {
	case len(payload) == 0 || bytes.Equal(payload, []byte("null")):
		it.payload = json.RawMessage(`{}`)
	case payload[0] != '{':
		return ingestItem{}, "payload must be a JSON object"
	case len(payload) > IngestMaxPayloadBytes:
		return ingestItem{}, fmt.Sprintf("payload is %d bytes; at most %d are allowed", len(payload), IngestMaxPayloadBytes)
	default:
		it.payload = json.RawMessage(payload)
	}
	// Pulse events carry no personal data: a field off the event's list
	// ({"name": …}, {"phone": …}) is refused, not stored and sent on.
	switch v := checkPayloadFields(payloadFields[ev.Event], it.payload); {
	case v.notObject != nil:
		return ingestItem{}, "payload must be a JSON object"
	case v.notScalar:
		return ingestItem{}, fmt.Sprintf("payload field %s must hold a string, number, boolean or null",
			strconv.Quote(abbreviate(v.field, 40)))
	case v.repeated:
		return ingestItem{}, fmt.Sprintf("payload field %s appears twice in one object", strconv.Quote(abbreviate(v.field, 40)))
	case v.bad:
		return ingestItem{}, fmt.Sprintf("payload field %s is not one %s may carry (Pulse events carry no personal data); allowed: %s",
			strconv.Quote(abbreviate(v.field, 40)), ev.Event, strings.Join(PayloadFields(ev.Event), ", "))
	}
	return it, ""
}

// ingestDeadlockTries is how often a transaction that MySQL/MariaDB chose
// as a deadlock victim is run again; SQLite never deadlocks (one writer).
const ingestDeadlockTries = 3

// store resolves the customer of d, then stores items with their
// attribution in one transaction, retried when it is a deadlock victim.
func (h *IngestHandler) store(ctx context.Context, d telegram.InitData, items []ingestItem, now time.Time) (IngestResponse, error) {
	// Outside the transaction: on SQLite the pool has one connection, and
	// the customer row must exist whether or not the events are stored.
	// The erasure count is read before the customer: an erasure that
	// commits after this read makes the entry stale however the two race.
	gen := h.customers.Erasures()
	c, cached := h.who.get(d.User.ID, gen, now)
	if !cached {
		var err error
		c, err = h.customers.GetByTelegramID(ctx, d.User.ID)
		if errors.Is(err, telegram.ErrCustomerNotFound) {
			c, err = h.customers.Save(ctx, *d.User, now)
		}
		if err != nil {
			return IngestResponse{}, fmt.Errorf("pulse: ingest: loading the customer: %w", err)
		}
		h.who.put(d.User.ID, c, gen, now)
	}
	events := make([]Event, len(items))
	campaign := h.attribution.CampaignFor(d, c, now)
	for i, it := range items {
		key := ingestClientKeyPrefix + c.TrackingID + ":" + it.clientID
		if it.name == EventWebAppOpen {
			key = ingestOpenKeyPrefix + openID(d)
		}
		events[i] = Event{Name: it.name, IdempotencyKey: key, CampaignID: campaign, TrackingID: c.TrackingID,
			OccurredAt: it.occurredAt, Payload: it.payload}
	}
	// One lock order on the unique key for every request, so two requests
	// of one customer never deadlock on each other's keys.
	slices.SortStableFunc(events, func(a, b Event) int { return strings.Compare(a.IdempotencyKey, b.IdempotencyKey) })
	// The campaign the launch link carries, recorded with the open; not
	// the stored fallback, which would refresh an old visit forever.
	var visit string
	if p, ok := h.attribution.FromStartParam(d); ok {
		visit = p.CampaignID
	}

	job := &ingestJob{tgID: d.User.ID, events: events, visit: visit}
	h.group.do(ctx, job)
	return job.res, job.err
}

// storeJob stores one request's events, and its campaign visit, in tx.
func (h *IngestHandler) storeJob(ctx context.Context, tx *sql.Tx, j *ingestJob) (IngestResponse, error) {
	results, err := h.pulse.trackMany(ctx, tx, j.events)
	if err != nil {
		return IngestResponse{}, fmt.Errorf("pulse: ingest: %w", err)
	}
	var res IngestResponse
	newOpen := false
	for i, r := range results {
		switch r.Outcome {
		case OutcomeStored:
			res.Accepted++
		case OutcomeDuplicate:
			res.Duplicates++
		case OutcomeDropped:
			res.Dropped++
		}
		// A reload (the same initData) is a duplicate open and records
		// nothing; a dropped open (Pulse off) is still a visit.
		if j.events[i].Name == EventWebAppOpen && r.Outcome != OutcomeDuplicate {
			newOpen = true
		}
	}
	j.visited = false // a run again after a conflict starts over
	if newOpen && j.visit != "" {
		if err := h.customers.RecordCampaign(ctx, tx, j.tgID, j.visit, h.now().UTC()); err != nil {
			return IngestResponse{}, fmt.Errorf("pulse: ingest: %w", err)
		}
		j.visited = true
	}
	return res, nil
}

// openID identifies one launch of the Mini App: the initData hash, which
// a reload repeats, in lower case (the validator accepts either case, and
// a client must not count a launch twice by changing it). Init data always
// has a hash after the middleware; for init data put in the context some
// other way, the digest of the raw string stands in.
func openID(d telegram.InitData) string {
	if d.Hash != "" {
		return strings.ToLower(d.Hash)
	}
	sum := sha256.Sum256([]byte(d.Raw))
	return hex.EncodeToString(sum[:])
}

// refusal is the one place where the ingest errors get their kinds, so
// that OnResult sees what the client is answered.
func refusal(err error) error {
	if errors.Is(err, ErrPayloadTooLarge) {
		// Config.MaxBatchBytes is smaller than an event with a payload
		// of IngestMaxPayloadBytes: the event can never be sent.
		err = &tcerr.Error{Kind: tcerr.Invalid, Code: "invalid_event", Err: err,
			Message: "an event is too large for the Pulse batch size limit; send a smaller payload"}
	}
	return err
}
