package pulse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	sq "github.com/Masterminds/squirrel"
	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/tcerr"
)

// Limits of the admin's event list and requeue.
const (
	EventsPerPageDefault = 20   // per_page when not given
	EventsPerPageMax     = 100  // the largest per_page
	RequeueMaxIDs        = 1000 // the most ids in one retry request
	// requeueBatch bounds the rows one requeue statement changes, to keep
	// transactions (and MySQL's row locks) short.
	requeueBatch = 1000
)

// validStatus reports whether s is one of the Status* constants.
func validStatus(s string) bool {
	switch s {
	case StatusPending, StatusSending, StatusSent, StatusFailed:
		return true
	}
	return false
}

// ListEvents returns the page-th page (from 1) of perPage (1 to
// EventsPerPageMax) outbox rows with status, newest (highest id) first, and
// how many rows have that status. A page past the end is empty.
func (p *Pulse) ListEvents(ctx context.Context, status string, page, perPage int) ([]StoredEvent, int64, error) {
	switch {
	case !validStatus(status):
		return nil, 0, fmt.Errorf("pulse: ListEvents: status must be %s, %s, %s or %s, got %q",
			StatusPending, StatusSending, StatusSent, StatusFailed, status)
	case page < 1:
		return nil, 0, fmt.Errorf("pulse: ListEvents: page must be at least 1, got %d", page)
	case perPage < 1 || perPage > EventsPerPageMax:
		return nil, 0, fmt.Errorf("pulse: ListEvents: perPage must be 1 to %d, got %d", EventsPerPageMax, perPage)
	}
	var total int64
	if err := p.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+p.table+" WHERE status = ?", status).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("pulse: counting %s events: %w", status, err)
	}
	events := []StoredEvent{}
	if int64(page-1) >= (total+int64(perPage)-1)/int64(perPage) {
		return events, total, nil // past the end; also keeps the offset from overflowing
	}
	q, args, err := p.db.Dialect.Builder().Select(storedEventColumns...).From(p.table).
		Where(sq.Eq{"status": status}).OrderBy("id DESC").
		Limit(uint64(perPage)).Offset(uint64(page-1) * uint64(perPage)).ToSql()
	if err != nil {
		return nil, 0, err
	}
	rows, err := p.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("pulse: listing %s events: %w", status, err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanStoredEvent(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("pulse: listing %s events: %w", status, err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("pulse: listing %s events: %w", status, err)
	}
	return events, total, nil
}

// Requeue moves the failed events among ids back to pending, due now, and
// wakes the sender; it returns how many it moved. Events in any other
// status, and unknown ids, are left alone. A requeued event starts over:
// attempts 0 and a new batch (so a new X-Pulse-Batch-Id); its last_error
// and last_http_status stay until its next attempt replaces them, so the
// admin still sees why it failed. It is not made younger: an event older
// than MaxAge gets one attempt more, and a transient failure fails it again.
func (p *Pulse) Requeue(ctx context.Context, ids []int64) (int64, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids) // one lock order for concurrent requeues on MySQL
	ids = slices.Compact(ids)
	var total int64
	for chunk := range slices.Chunk(ids, requeueBatch) {
		n, err := p.requeue(ctx, chunk)
		total += n
		if err != nil {
			return total, err
		}
	}
	if total > 0 {
		p.Wake()
	}
	return total, nil
}

// RequeueAllFailed is Requeue for every event failed when it starts, in
// batches of 1000 rows, each its own short statement. Events that fail
// again while it runs are not requeued a second time.
func (p *Pulse) RequeueAllFailed(ctx context.Context) (int64, error) {
	var maxID *int64
	if err := p.db.QueryRowContext(ctx, "SELECT MAX(id) FROM "+p.table+" WHERE status = ?", StatusFailed).Scan(&maxID); err != nil {
		return 0, fmt.Errorf("pulse: requeueing failed events: %w", err)
	}
	if maxID == nil {
		return 0, nil
	}
	// Keyset over ids up to the newest failed row at the start: each
	// batch moves on, and a row that fails again behind it is not seen.
	var total, after int64
	q := "SELECT id FROM " + p.table + " WHERE status = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?"
	for {
		ids, err := p.selectIDs(ctx, q, StatusFailed, after, *maxID, requeueBatch)
		if err != nil {
			return total, fmt.Errorf("pulse: requeueing failed events: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		n, err := p.requeue(ctx, ids)
		total += n
		if total > 0 {
			p.Wake() // the sender may start on the first batches
		}
		if err != nil {
			return total, err
		}
		if len(ids) < requeueBatch {
			break
		}
		after = ids[len(ids)-1]
	}
	return total, nil
}

// requeue moves the failed rows among ids (at most requeueBatch, sorted)
// back to pending.
func (p *Pulse) requeue(ctx context.Context, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	d := p.db.Dialect
	res, err := d.Builder().Update(p.table).
		Set("status", StatusPending).
		Set("attempts", 0).
		Set("next_attempt_at", d.EncodeTime(p.cfg.Now())).
		Set("batch_id", nil).
		Set("lease_owner", nil).
		Set("lease_expires_at", nil).
		Where(sq.Eq{"id": ids}).Where(sq.Eq{"status": StatusFailed}).
		RunWith(p.db.DB).ExecContext(ctx)
	if err != nil {
		return 0, fmt.Errorf("pulse: requeueing failed events: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("pulse: requeueing failed events: %w", err)
	}
	return n, nil
}

// selectIDs runs a query answering one id per row.
func (p *Pulse) selectIDs(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := p.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// AdminHandler serves the Pulse routes of the admin API: stats, the event
// list and requeue. The host mounts it under its admin prefix (/admin/api)
// behind its admin authentication.
type AdminHandler struct {
	p      *Pulse
	stats  *StatsCache
	logger *slog.Logger
}

// NewAdminHandler returns the admin handler over p. stats is the cache the
// dashboard shares; nil means a new one with StatsTTLDefault. A nil logger
// means slog.Default(). It panics on a nil p, a start-up mistake.
func NewAdminHandler(p *Pulse, stats *StatsCache, logger *slog.Logger) *AdminHandler {
	if p == nil {
		panic("pulse: NewAdminHandler: p is nil")
	}
	if stats == nil {
		stats = NewStatsCache(p, 0, nil)
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &AdminHandler{p: p, stats: stats, logger: logger}
}

// RegisterAdminRoutes registers the routes on r, which the host mounts
// under its admin prefix (/admin/api) behind its admin authentication.
func (h *AdminHandler) RegisterAdminRoutes(r *mux.Router) {
	r.HandleFunc("/pulse/stats", h.handleStats).Methods(http.MethodGet)
	r.HandleFunc("/pulse/events", h.handleEvents).Methods(http.MethodGet)
	r.HandleFunc("/pulse/events/retry", h.handleRetry).Methods(http.MethodPost)
}

// Handler returns the routes as an http.Handler, for hosts not on
// gorilla/mux; mount it with http.StripPrefix.
func (h *AdminHandler) Handler() http.Handler {
	r := mux.NewRouter()
	h.RegisterAdminRoutes(r)
	return r
}

// handleStats handles GET /admin/api/pulse/stats[?fresh=1].
func (h *AdminHandler) handleStats(w http.ResponseWriter, r *http.Request) {
	fresh := false
	if v := r.URL.Query().Get("fresh"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			httpx.WriteError(w, r, h.logger, tcerr.Invalidf("fresh must be 1 or 0, got %q", v))
			return
		}
		fresh = b
	}
	st, err := h.stats.Stats(r.Context(), fresh)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, st)
}

// adminEvent is an outbox row as the admin API shows it.
type adminEvent struct {
	ID             int64           `json:"id"`
	IdempotencyKey string          `json:"idempotency_key"`
	Event          string          `json:"event"`
	CampaignID     string          `json:"campaign_id"`
	TrackingID     string          `json:"tracking_id"`
	Status         string          `json:"status"`
	Attempts       int             `json:"attempts"`
	LastError      *string         `json:"last_error"`       // null: none
	LastHTTPStatus *int            `json:"last_http_status"` // null: never answered, or a network error
	NextAttemptAt  *time.Time      `json:"next_attempt_at"`  // null for sent and failed events: no attempt is coming
	OccurredAt     time.Time       `json:"occurred_at"`
	CreatedAt      time.Time       `json:"created_at"`
	SentAt         *time.Time      `json:"sent_at"`
	Payload        json.RawMessage `json:"payload"`
}

func newAdminEvent(e StoredEvent) adminEvent {
	a := adminEvent{
		ID: e.ID, IdempotencyKey: e.IdempotencyKey, Event: e.Event, CampaignID: e.CampaignID,
		TrackingID: e.TrackingID, Status: e.Status, Attempts: e.Attempts,
		OccurredAt: e.OccurredAt, CreatedAt: e.CreatedAt, SentAt: e.SentAt, Payload: e.Payload,
	}
	if e.LastError != "" {
		a.LastError = &e.LastError
	}
	if e.LastHTTPStatus != 0 {
		a.LastHTTPStatus = &e.LastHTTPStatus
	}
	if e.Status == StatusPending || e.Status == StatusSending {
		a.NextAttemptAt = &e.NextAttemptAt
	}
	if !json.Valid(a.Payload) {
		a.Payload = json.RawMessage(`{}`) // never break the whole page over one bad row
	}
	return a
}

// eventsMeta is the pagination of an event list.
type eventsMeta struct {
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
	Total   int64 `json:"total"`
	Pages   int64 `json:"pages"`
}

// eventsList is the answer of GET /admin/api/pulse/events.
type eventsList struct {
	Data []adminEvent `json:"data"`
	Meta eventsMeta   `json:"meta"`
}

// handleEvents handles GET /admin/api/pulse/events?status=&page=&per_page=:
// the events with that status (failed when not given), newest first.
func (h *AdminHandler) handleEvents(w http.ResponseWriter, r *http.Request) {
	status, page, perPage, err := parseEventsQuery(r.URL.Query())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	events, total, err := h.p.ListEvents(r.Context(), status, page, perPage)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	list := eventsList{
		Data: make([]adminEvent, len(events)),
		Meta: eventsMeta{Page: page, PerPage: perPage, Total: total, Pages: (total + int64(perPage) - 1) / int64(perPage)},
	}
	for i, e := range events {
		list.Data[i] = newAdminEvent(e)
	}
	httpx.WriteJSON(w, http.StatusOK, list)
}

// parseEventsQuery reads status, page and per_page; errors are 400s.
func parseEventsQuery(v url.Values) (status string, page, perPage int, err error) {
	status = StatusFailed
	if s := v.Get("status"); s != "" {
		if !validStatus(s) {
			return "", 0, 0, tcerr.Invalidf("status must be %s, %s, %s or %s, got %q",
				StatusFailed, StatusPending, StatusSending, StatusSent, s)
		}
		status = s
	}
	if page, err = httpx.QueryInt(v, "page", 1, 1, math.MaxInt32); err != nil {
		return "", 0, 0, err
	}
	if perPage, err = httpx.QueryInt(v, "per_page", EventsPerPageDefault, 1, EventsPerPageMax); err != nil {
		return "", 0, 0, err
	}
	return status, page, perPage, nil
}

// retryRequest is the body of POST /admin/api/pulse/events/retry: ids, or
// all_failed true; exactly one of them.
type retryRequest struct {
	IDs       []int64 `json:"ids"`
	AllFailed bool    `json:"all_failed"`
}

// handleRetry handles POST /admin/api/pulse/events/retry with
// {"ids": [..]} or {"all_failed": true}: it moves those failed events back
// to pending and answers {"requeued": n}.
func (h *AdminHandler) handleRetry(w http.ResponseWriter, r *http.Request) {
	var req retryRequest
	if err := httpx.DecodeJSON(w, r, &req, 0); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	var (
		n   int64
		err error
	)
	switch {
	case req.IDs != nil && req.AllFailed:
		err = tcerr.Invalidf(`give either "ids" or "all_failed": true, not both`)
	case req.AllFailed:
		n, err = h.p.RequeueAllFailed(r.Context())
	case req.IDs == nil:
		err = tcerr.Invalidf(`give "ids": [..] (1 to %d event ids) or "all_failed": true`, RequeueMaxIDs)
	case len(req.IDs) == 0 || len(req.IDs) > RequeueMaxIDs:
		err = tcerr.Invalidf(`"ids" must hold 1 to %d event ids, got %d`, RequeueMaxIDs, len(req.IDs))
	case slices.ContainsFunc(req.IDs, func(id int64) bool { return id <= 0 }):
		err = tcerr.Invalidf(`"ids" must be positive event ids`)
	default:
		n, err = h.p.Requeue(r.Context(), req.IDs)
	}
	if n > 0 {
		h.stats.Invalidate() // also after a partial requeue
	}
	var he *tcerr.Error
	if err != nil && (errors.As(err, &he) || n == 0) {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if err != nil {
		// Some batches were requeued before the error: say how many, as
		// the admin cannot tell otherwise (WriteError logs the cause).
		httpx.WriteError(w, r, h.logger, &tcerr.Error{Kind: tcerr.Unavailable, Code: "partially_requeued",
			Message: fmt.Sprintf("Requeued %d events, then the database failed; retry to requeue the rest.", n), Err: err})
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]int64{"requeued": n})
}
