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

	sq "github.com/Masterminds/squirrel"
	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/migrator"
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

// ETLCustomer is one customer of the ETL export, with order metrics. All
// times are UTC; the optional ones are nil until they happen.
type ETLCustomer struct {
	ID              int64  `json:"id"`
	TelegramUserID  int64  `json:"telegram_user_id"`
	TrackingID      string `json:"tracking_id"`
	FirstName       string `json:"first_name"`
	LastName        string `json:"last_name"`
	Username        string `json:"username"`
	LanguageCode    string `json:"language_code"`
	IsPremium       bool   `json:"is_premium"`
	AllowsWriteToPM bool   `json:"allows_write_to_pm"`
	// HostCustomerID is the host shop's customer id, 0 when none.
	HostCustomerID int64 `json:"host_customer_id"`
	OrdersCount    int64 `json:"orders_count"`
	// TotalSpent is the sum of the customer's orders in minor units
	// (cents) of Currency.
	TotalSpent int64 `json:"total_spent"`
	// Currency is the ISO 4217 code of TotalSpent, "" when unknown (no
	// orders, or a source without order metrics).
	Currency           string     `json:"currency"`
	FirstOrderAt       *time.Time `json:"first_order_at"`
	LastOrderAt        *time.Time `json:"last_order_at"`
	PrivacyConsentedAt *time.Time `json:"privacy_consented_at"`
	// FirstCampaignID and LastCampaignID are "" when no campaign brought
	// the customer.
	FirstCampaignID string    `json:"first_campaign_id"`
	LastCampaignID  string    `json:"last_campaign_id"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// CustomerSource gives the ETL export its customers with metrics. The
// telecart package implements it over the customers and the host's orders;
// NewCustomersTableSource is one over the customers table alone.
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

// customersTableSource is a CustomerSource over the Telegram customers
// table.
type customersTableSource struct {
	db    migrator.DB
	table string
}

// NewCustomersTableSource returns a CustomerSource over the Telegram
// customers table alone (telegram.MigrationSource), for hosts without
// order metrics: orders_count is the table's own counter, total_spent is
// 0, currency "" and the first and last order times null. It panics when
// db is unusable, a start-up mistake.
func NewCustomersTableSource(db migrator.DB) CustomerSource {
	switch {
	case db.DB == nil:
		panic("pulse: NewCustomersTableSource: db.DB is nil; pass the opened database")
	case db.Dialect.Validate() != nil:
		panic("pulse: NewCustomersTableSource: " + db.Dialect.Validate().Error())
	case migrator.ValidatePrefix(db.Prefix) != nil:
		panic("pulse: NewCustomersTableSource: " + migrator.ValidatePrefix(db.Prefix).Error())
	}
	return &customersTableSource{db: db, table: db.Table(telegram.CustomersTable)}
}

// etlColumns is what scanETLCustomer reads, in order.
var etlColumns = []string{"id", "telegram_user_id", "tracking_id", "first_name", "last_name", "username",
	"language_code", "is_premium", "allows_write_to_pm", "host_customer_id", "orders_count",
	"privacy_consented_at", "first_campaign_id", "last_campaign_id", "created_at", "updated_at"}

// CustomersSince reads one page by the primary key: WHERE id > AfterID
// ORDER BY id LIMIT n never sorts, however large the table.
func (s *customersTableSource) CustomersSince(ctx context.Context, q ETLQuery) ([]ETLCustomer, error) {
	if q.Limit < 1 {
		return nil, fmt.Errorf("pulse: ETLQuery.Limit must be at least 1, got %d", q.Limit)
	}
	d := s.db.Dialect
	b := d.Builder().Select(etlColumns...).From(s.table).
		Where(sq.Gt{"id": q.AfterID}).OrderBy("id").Limit(uint64(q.Limit))
	if !q.UpdatedSince.IsZero() {
		b = b.Where(sq.GtOrEq{"updated_at": d.EncodeTime(q.UpdatedSince)})
	}
	query, args, err := b.ToSql()
	if err != nil {
		return nil, fmt.Errorf("pulse: building the ETL query: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("pulse: reading customers for the ETL export: %w", err)
	}
	defer rows.Close()
	out := make([]ETLCustomer, 0, min(q.Limit, 1024))
	for rows.Next() {
		var c ETLCustomer
		err := rows.Scan(&c.ID, &c.TelegramUserID, &c.TrackingID, &c.FirstName, &c.LastName, &c.Username,
			&c.LanguageCode, &c.IsPremium, &c.AllowsWriteToPM, &c.HostCustomerID, &c.OrdersCount,
			migrator.ScanNullTime(&c.PrivacyConsentedAt), &c.FirstCampaignID, &c.LastCampaignID,
			migrator.ScanTime(&c.CreatedAt), migrator.ScanTime(&c.UpdatedAt))
		if err != nil {
			return nil, fmt.Errorf("pulse: reading customers for the ETL export: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pulse: reading customers for the ETL export: %w", err)
	}
	return out, nil
}

// CountSince counts from the updated_at index.
func (s *customersTableSource) CountSince(ctx context.Context, since time.Time) (int64, error) {
	b := s.db.Dialect.Builder().Select("COUNT(*)").From(s.table)
	if !since.IsZero() {
		b = b.Where(sq.GtOrEq{"updated_at": s.db.Dialect.EncodeTime(since)})
	}
	query, args, err := b.ToSql()
	if err != nil {
		return 0, fmt.Errorf("pulse: building the ETL count: %w", err)
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
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
		return nil, errors.New("pulse: ETLConfig.Source is nil; pass NewCustomersTableSource(db) or the shop's source with order metrics")
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
	if rows == nil {
		rows = []ETLCustomer{} // "data": [], never null
	}
	page := ETLPage{Data: rows}
	if len(rows) > limit {
		page.Data = rows[:limit]
		c := encodeETLCursor(page.Data[limit-1].ID)
		page.NextCursor = &c
	}
	for i := range page.Data {
		page.Data[i].normalize()
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, page)
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

// normalize puts every time in UTC, whatever the source returned, so the
// JSON says Z.
func (c *ETLCustomer) normalize() {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	c.FirstOrderAt = utc(c.FirstOrderAt)
	c.LastOrderAt = utc(c.LastOrderAt)
	c.PrivacyConsentedAt = utc(c.PrivacyConsentedAt)
	c.CreatedAt = c.CreatedAt.UTC()
	c.UpdatedAt = c.UpdatedAt.UTC()
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
