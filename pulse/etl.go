package pulse

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram"
)

// Page sizes of the ETL export.
const (
	ETLMaxLimitDefault     = 1000 // the largest limit a caller may ask for
	ETLDefaultLimitDefault = 100  // the limit when the caller gives none
)

// HeaderAPIKey carries the Pulse API key on ETL requests; Authorization:
// Bearer {key} is accepted too.
const HeaderAPIKey = "X-Api-Key"

// ETLQuery asks a CustomerSource for one page of the export.
type ETLQuery struct {
	// UpdatedSince keeps customers with updated_at >= UpdatedSince; zero
	// keeps all.
	UpdatedSince time.Time
	// AfterID keeps customers with id > AfterID: the keyset cursor.
	AfterID int64
	// Limit is the most customers to return, at least 1.
	Limit int
}

// ETLCustomer is one customer of the ETL export: the Telegram customer,
// with order metrics. All times are UTC; the optional ones are nil until
// they happen.
//
// Its JSON is the export's (see MarshalJSON): the customer's identity,
// profile, consent, campaigns and times, and the metrics, but not the
// customer's last visit, campaign times or bot-blocked state; the personal
// fields and the Telegram and host ids only with the customer's consent.
type ETLCustomer struct {
	telegram.Customer
	// TotalSpent is the sum of the customer's orders in minor units
	// (cents) of Currency.
	TotalSpent int64
	// Currency is the ISO 4217 code of TotalSpent, "" when unknown (no
	// orders, or a source without order metrics).
	Currency     string
	FirstOrderAt *time.Time
	LastOrderAt  *time.Time
}

// CustomerSource gives the ETL export its customers with metrics. The
// telecart package implements it over the customers and the host's orders;
// CustomersTableSource is one over the customers table alone.
//
// CustomersSince must return the customers with id > q.AfterID and
// updated_at >= q.UpdatedSince (when not zero), ordered by id ascending, at
// most q.Limit of them. updated_at must never decrease and ids never
// change: that is what makes the export's keyset walk exact.
type CustomerSource interface {
	CustomersSince(ctx context.Context, q ETLQuery) ([]ETLCustomer, error)
	// CountSince counts the customers with updated_at >= since (all of
	// them when since is zero).
	CountSince(ctx context.Context, since time.Time) (int64, error)
}

// CustomersTableSourceConfig configures a CustomersTableSource.
type CustomersTableSourceConfig struct {
	// Customers is the Telegram customers store. Required.
	Customers *telegram.CustomerStore
}

// CustomersTableSource is a CustomerSource over the Telegram customers
// store alone, for hosts without order metrics: orders_count is the
// table's own counter, total_spent is 0, currency "" and the first and
// last order times null.
type CustomersTableSource struct {
	customers *telegram.CustomerStore
}

// NewCustomersTableSource returns the source over cfg.Customers, or an
// error naming the field to fix.
func NewCustomersTableSource(cfg CustomersTableSourceConfig) (*CustomersTableSource, error) {
	if cfg.Customers == nil {
		return nil, errors.New("pulse: CustomersTableSourceConfig.Customers is nil; pass the store made by telegram.NewCustomerStore")
	}
	return &CustomersTableSource{customers: cfg.Customers}, nil
}

// CustomersSince reads one page by the primary key (CustomerStore.ListAfter).
func (s *CustomersTableSource) CustomersSince(ctx context.Context, q ETLQuery) ([]ETLCustomer, error) {
	page, err := s.customers.ListAfter(ctx, telegram.AfterQuery{AfterID: q.AfterID, UpdatedSince: q.UpdatedSince, Limit: q.Limit})
	if err != nil {
		return nil, fmt.Errorf("pulse: reading customers for the ETL export: %w", err)
	}
	out := make([]ETLCustomer, len(page))
	for i := range page {
		out[i].Customer = page[i]
	}
	return out, nil
}

// CountSince counts from the updated_at index.
func (s *CustomersTableSource) CountSince(ctx context.Context, since time.Time) (int64, error) {
	n, err := s.customers.CountUpdatedSince(ctx, since)
	if err != nil {
		return 0, fmt.Errorf("pulse: counting customers for the ETL export: %w", err)
	}
	return n, nil
}

// ETLConfig configures an ETLHandler.
type ETLConfig struct {
	// Source gives the customers. Required.
	Source CustomerSource

	// APIKey returns the current Pulse API key, read on every request so
	// that a change in the settings applies at once. While it returns "",
	// every request is refused. Required.
	APIKey func() string

	// Logger receives internal errors. Defaults to slog.Default().
	Logger *slog.Logger

	// MaxLimit is the largest page a caller may ask for. Defaults to
	// ETLMaxLimitDefault (1000).
	MaxLimit int

	// DefaultLimit is the page size when the caller gives no limit.
	// Defaults to ETLDefaultLimitDefault (100), or MaxLimit when that is
	// smaller.
	DefaultLimit int
}

// ETLHandler serves the Pulse ETL API: GET /customers and GET
// /customers/meta, mounted under /pulse/etl.
//
// The export is keyset-paginated over the immutable id, ascending, with
// the filter updated_at >= updated_since. Under concurrent writes this
// order is exact: ids never move, and updated_at only grows, so a row that
// matched when a walk started still matches at every later page and is
// returned exactly once, on the page its id falls in. Ordering by
// (updated_at, id) instead would move every updated row behind its new
// updated_at, ahead of the cursor, and return it a second time (and a
// walk over a busy shop might never end). Rows inserted or updated into the
// filter during a walk are returned at most once: when their id lies ahead
// of the cursor (on MySQL an insert may also commit behind the cursor,
// ids being allocated before commit). The caller's next run, with
// updated_since a little before this one started (a margin for
// transactions in flight), picks up whatever this one missed.
type ETLHandler struct {
	source       CustomerSource
	apiKey       func() string
	logger       *slog.Logger
	maxLimit     int
	defaultLimit int
}

// NewETLHandler returns the ETL handler for cfg, or an error naming the
// field to fix.
func NewETLHandler(cfg ETLConfig) (*ETLHandler, error) {
	if cfg.MaxLimit == 0 {
		cfg.MaxLimit = ETLMaxLimitDefault
	}
	if cfg.DefaultLimit == 0 {
		cfg.DefaultLimit = min(ETLDefaultLimitDefault, cfg.MaxLimit)
	}
	switch {
	case cfg.Source == nil:
		return nil, errors.New("pulse: ETLConfig.Source is nil; pass a NewCustomersTableSource or the shop's source with order metrics")
	case cfg.APIKey == nil:
		return nil, errors.New("pulse: ETLConfig.APIKey is nil; pass a function returning the current Pulse API key")
	case cfg.MaxLimit < 1:
		return nil, fmt.Errorf("pulse: ETLConfig.MaxLimit must be at least 1, got %d", cfg.MaxLimit)
	case cfg.DefaultLimit < 1 || cfg.DefaultLimit > cfg.MaxLimit:
		return nil, fmt.Errorf("pulse: ETLConfig.DefaultLimit must be between 1 and MaxLimit (%d), got %d", cfg.MaxLimit, cfg.DefaultLimit)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &ETLHandler{
		source:       cfg.Source,
		apiKey:       cfg.APIKey,
		logger:       cfg.Logger,
		maxLimit:     cfg.MaxLimit,
		defaultLimit: cfg.DefaultLimit,
	}, nil
}

// RegisterRoutes registers GET /customers and GET /customers/meta on r,
// which the host mounts under /pulse/etl. The routes check the API key
// themselves.
func (h *ETLHandler) RegisterRoutes(r *mux.Router) {
	r.HandleFunc("/customers", h.handleCustomers).Methods(http.MethodGet)
	r.HandleFunc("/customers/meta", h.handleMeta).Methods(http.MethodGet)
}

// Handler returns the routes as an http.Handler, for hosts not on
// gorilla/mux; mount it with http.StripPrefix("/pulse/etl", …).
func (h *ETLHandler) Handler() http.Handler {
	r := mux.NewRouter()
	h.RegisterRoutes(r)
	return r
}

// ETLPage is the answer of GET /pulse/etl/customers.
type ETLPage struct {
	Data []ETLCustomer `json:"data"`
	// NextCursor fetches the next page; nil (null) when there is none.
	NextCursor *string `json:"next_cursor"`
}

// ETLMeta is the answer of GET /pulse/etl/customers/meta.
type ETLMeta struct {
	Total int64 `json:"total"`
	Limit int   `json:"limit"`
	Pages int64 `json:"pages"`
}

// handleCustomers handles GET /pulse/etl/customers?updated_since=&limit=&cursor=.
func (h *ETLHandler) handleCustomers(w http.ResponseWriter, r *http.Request) {
	if err := h.authorize(r); err != nil {
		h.writeError(w, r, err)
		return
	}
	q, err := h.parseQuery(r.URL.Query(), true)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	limit := q.Limit
	// One row more than asked tells whether another page exists, so the
	// last page carries no cursor even when it is full.
	q.Limit++
	rows, err := h.source.CustomersSince(r.Context(), q)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var cursor string
	if len(rows) > limit {
		rows = rows[:limit]
		cursor = encodeETLCursor(rows[limit-1].ID)
	}
	w.Header().Set("Cache-Control", "no-store")
	if err := writeETLPage(w, rows, cursor); err != nil {
		h.writeError(w, r, err)
	}
}

// handleMeta handles GET /pulse/etl/customers/meta?updated_since=&limit=.
func (h *ETLHandler) handleMeta(w http.ResponseWriter, r *http.Request) {
	if err := h.authorize(r); err != nil {
		h.writeError(w, r, err)
		return
	}
	q, err := h.parseQuery(r.URL.Query(), false)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	total, err := h.source.CountSince(r.Context(), q.UpdatedSince)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, ETLMeta{Total: total, Limit: q.Limit, Pages: (total + int64(q.Limit) - 1) / int64(q.Limit)})
}

// authorize checks the API key of r: X-Api-Key when present, else
// Authorization: Bearer. Both sides are hashed first, so the comparison
// takes the same time whatever the lengths.
func (h *ETLHandler) authorize(r *http.Request) error {
	unauthorized := func(msg string) error {
		return &tcerr.Error{Kind: tcerr.Unauthenticated, Code: "unauthorized", Message: msg}
	}
	want := h.apiKey()
	if want == "" {
		return unauthorized("the Pulse ETL API is disabled: no Pulse API key is configured")
	}
	var got string
	if vs := r.Header.Values(HeaderAPIKey); len(vs) > 0 {
		if len(vs) > 1 {
			return unauthorized(HeaderAPIKey + " header is repeated")
		}
		got = vs[0]
	} else if vs := r.Header.Values("Authorization"); len(vs) > 0 {
		scheme, token, ok := strings.Cut(vs[0], " ")
		if len(vs) > 1 || !ok || !strings.EqualFold(scheme, "Bearer") {
			return unauthorized("Authorization must be \"Bearer {Pulse API key}\"")
		}
		got = strings.TrimSpace(token)
	}
	if got == "" {
		return unauthorized("the Pulse API key is missing; send it in " + HeaderAPIKey + " or as Authorization: Bearer")
	}
	gotSum, wantSum := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(gotSum[:], wantSum[:]) != 1 {
		return unauthorized("the Pulse API key is wrong")
	}
	return nil
}

// parseQuery reads updated_since, limit and (when withCursor) cursor.
func (h *ETLHandler) parseQuery(v url.Values, withCursor bool) (ETLQuery, error) {
	q := ETLQuery{Limit: h.defaultLimit}
	one := func(name string) (string, error) {
		vs := v[name]
		switch {
		case len(vs) == 0:
			return "", nil
		case len(vs) > 1:
			return "", tcerr.Invalidf("%s is given more than once", name)
		}
		return vs[0], nil
	}
	s, err := one("updated_since")
	if err != nil {
		return ETLQuery{}, err
	}
	if s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil && strings.Contains(s, " ") {
			// An unescaped "+01:00" arrives as " 01:00".
			t, err = time.Parse(time.RFC3339Nano, strings.ReplaceAll(s, " ", "+"))
		}
		if err != nil {
			return ETLQuery{}, tcerr.Invalidf("updated_since must be an RFC 3339 time, e.g. 2026-11-25T20:00:00Z")
		}
		q.UpdatedSince = t.UTC()
	}
	if q.Limit, err = httpx.QueryInt(v, "limit", h.defaultLimit, 1, h.maxLimit); err != nil {
		return ETLQuery{}, err
	}
	if !withCursor {
		return q, nil
	}
	if s, err = one("cursor"); err != nil {
		return ETLQuery{}, err
	}
	if s != "" {
		id, err := decodeETLCursor(s)
		if err != nil {
			return ETLQuery{}, &tcerr.Error{Kind: tcerr.Invalid, Code: "invalid_cursor",
				Message: "cursor is not one this API returned; start again without a cursor", Err: err}
		}
		q.AfterID = id
	}
	return q, nil
}

// etlCursorPrefix versions the cursor format, so that a later format can
// tell old cursors apart.
const etlCursorPrefix = "v1."

// errInvalidCursor is what decodeETLCursor's errors wrap.
var errInvalidCursor = errors.New("pulse: invalid ETL cursor")

// encodeETLCursor returns the opaque cursor of the page after the customer
// with id: "v1." and the base64url (no padding) of id as 8 big-endian
// bytes.
func encodeETLCursor(id int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(id))
	return etlCursorPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// decodeETLCursor returns the id in a cursor made by encodeETLCursor, or
// an error wrapping errInvalidCursor.
func decodeETLCursor(s string) (int64, error) {
	rest, ok := strings.CutPrefix(s, etlCursorPrefix)
	if !ok {
		return 0, fmt.Errorf("%w: unknown version", errInvalidCursor)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil || len(b) != 8 {
		return 0, fmt.Errorf("%w: malformed", errInvalidCursor)
	}
	id := binary.BigEndian.Uint64(b)
	if id == 0 || id > 1<<63-1 {
		return 0, fmt.Errorf("%w: id out of range", errInvalidCursor)
	}
	return int64(id), nil
}

// writeError is the one place where the ETL errors become statuses.
func (h *ETLHandler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *tcerr.Error
	if errors.As(err, &he) && he.Kind == tcerr.Unauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pulse-etl"`)
	}
	httpx.WriteError(w, r, h.logger, err)
}
