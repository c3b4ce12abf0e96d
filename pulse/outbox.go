package pulse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
)

// OutboxTable is the name of the outbox table without the prefix: one row
// per tracked event, from Track until it is sent, failed, or purged.
const OutboxTable = "pulse_events"

// Statuses of an outbox row: pending → (sending, under a lease) → sent or
// failed. A retried event goes back to pending with a later
// next_attempt_at.
const (
	StatusPending = "pending"
	StatusSending = "sending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
)

// Limits of stored values.
const (
	IdempotencyKeyMaxLen = 128  // bytes, as on the wire
	LastErrorMaxLen      = 1000 // characters of last_error; longer reasons are cut
)

// Reasons in TrackResult.Reason for a dropped event.
const (
	DropNotConfigured = "not configured"
	DropCampaignID    = "missing or malformed campaign_id"
	DropTrackingID    = "missing or malformed tracking_id"
)

// Errors of Track and TrackTx: mistakes of the calling code, not of the
// visitor, so they are errors rather than drops. Check them with errors.Is.
var (
	ErrUnknownEvent          = errors.New("pulse: unknown event name")
	ErrMissingIdempotencyKey = errors.New("pulse: IdempotencyKey is empty; every event needs a key that identifies it forever")
	ErrInvalidIdempotencyKey = fmt.Errorf("pulse: IdempotencyKey must be valid UTF-8 of at most %d bytes", IdempotencyKeyMaxLen)
	ErrInvalidPayload        = errors.New("pulse: Payload must marshal to a JSON object")
	ErrPayloadTooLarge       = errors.New("pulse: event is larger than MaxBatchBytes allows")
)

// Event is one interaction to deliver to Pulse.
type Event struct {
	// Name is one of the Event* constants (IsKnownEvent).
	Name string
	// IdempotencyKey identifies the event forever, 1..128 bytes: tracking
	// it twice stores it once. WEBAPP_OPEN uses the initData hash.
	IdempotencyKey string
	// CampaignID ([A-Za-z0-9_-]{1,32}) and TrackingID ([A-Za-z0-9_-]{1,64})
	// attribute the event; without both it is dropped.
	CampaignID string
	TrackingID string
	// OccurredAt defaults to the time of Track.
	OccurredAt time.Time
	// Payload is marshalled to JSON and must be an object; a
	// json.RawMessage is taken as is. nil means {}.
	Payload any
}

// Outcome is what Track did with an event.
type Outcome string

// Outcomes of Track.
const (
	OutcomeStored    Outcome = "stored"    // a new row, to be sent
	OutcomeDuplicate Outcome = "duplicate" // its key was tracked before; nothing changed
	OutcomeDropped   Outcome = "dropped"   // not stored; Reason says why
)

// TrackResult reports what Track did with an event.
type TrackResult struct {
	Outcome Outcome
	Reason  string // for OutcomeDropped: DropNotConfigured, DropCampaignID or DropTrackingID
}

// Track validates ev and stores it in the outbox, then wakes the sender.
// An event without a well-formed campaign_id and tracking_id, or tracked
// while Pulse is not configured, is dropped (counted in Dropped), not an
// error. A key tracked before is a duplicate and changes nothing.
func (p *Pulse) Track(ctx context.Context, ev Event) (TrackResult, error) {
	var res TrackResult
	err := p.retryConflicts(ctx, func(ctx context.Context) error {
		var err error
		res, err = p.track(ctx, p.db, ev)
		return err
	})
	if err == nil && res.Outcome == OutcomeStored {
		p.Wake()
	}
	return res, err
}

// TrackTx is Track inside the host's transaction: the event is stored if
// and only if tx commits. Pulse cannot see the commit, so it wakes the
// sender now and looks again shortly after (about 100ms and 1s later);
// a host that wants delivery at once calls Wake after committing.
func (p *Pulse) TrackTx(ctx context.Context, tx *sql.Tx, ev Event) (TrackResult, error) {
	if tx == nil {
		return TrackResult{}, errors.New("pulse: TrackTx needs a transaction; use Track without one")
	}
	res, err := p.track(ctx, tx, ev)
	if err == nil && res.Outcome == OutcomeStored {
		p.recheck.Store(true)
		p.Wake()
	}
	return res, err
}

// track validates and inserts ev through exec (the database or the host's
// transaction).
func (p *Pulse) track(ctx context.Context, exec migrator.Execer, ev Event) (TrackResult, error) {
	row, res, err := p.prepare(ctx, ev)
	if err != nil || row == nil {
		return res, err
	}
	return p.insert(ctx, exec, row)
}

// eventRow is an event ready to insert: the arguments of insertSQL.
type eventRow struct {
	key  string
	args []any
}

// prepare validates ev and returns its row, or, when it is not to be
// stored, a nil row with the drop's result.
func (p *Pulse) prepare(ctx context.Context, ev Event) (*eventRow, TrackResult, error) {
	if !IsKnownEvent(ev.Name) {
		return nil, TrackResult{}, fmt.Errorf("%w %q", ErrUnknownEvent, ev.Name)
	}
	if ev.IdempotencyKey == "" {
		return nil, TrackResult{}, ErrMissingIdempotencyKey
	}
	if len(ev.IdempotencyKey) > IdempotencyKeyMaxLen || !utf8.ValidString(ev.IdempotencyKey) {
		return nil, TrackResult{}, ErrInvalidIdempotencyKey
	}
	payload, err := encodePayload(ev.Payload)
	if err != nil {
		return nil, TrackResult{}, err
	}
	if !p.creds.Load().configured() {
		if !p.notConfiguredLogged.Swap(true) {
			p.cfg.Logger.WarnContext(ctx, "pulse: not configured (no URL, API key and secret); events are dropped until it is")
		}
		return nil, p.drop(DropNotConfigured), nil
	}
	if !validID(ev.CampaignID, CampaignIDMaxLen) {
		return nil, p.drop(DropCampaignID), nil
	}
	if !validID(ev.TrackingID, TrackingIDMaxLen) {
		return nil, p.drop(DropTrackingID), nil
	}

	now := p.cfg.Now()
	occurred := ev.OccurredAt
	if occurred.IsZero() {
		occurred = now
	}
	if size := wireSizeBound(ev, payload); size > p.cfg.MaxBatchBytes {
		// The bound can overestimate (escaping); measure exactly before
		// refusing.
		wire, err := json.Marshal(WireEvent{
			IdempotencyKey: ev.IdempotencyKey, Event: ev.Name, OccurredAt: occurred,
			CampaignID: ev.CampaignID, TrackingID: ev.TrackingID, Payload: payload,
		})
		if err != nil {
			return nil, TrackResult{}, fmt.Errorf("pulse: encoding event: %w", err)
		}
		if size := len(batchOpen) + len(wire) + len(batchClose); size > p.cfg.MaxBatchBytes {
			return nil, TrackResult{}, fmt.Errorf("%w: %d bytes alone, MaxBatchBytes is %d", ErrPayloadTooLarge, size, p.cfg.MaxBatchBytes)
		}
	}
	d := p.db.Dialect
	return &eventRow{key: ev.IdempotencyKey, args: []any{ev.IdempotencyKey, ev.Name, ev.CampaignID, ev.TrackingID,
		string(payload), StatusPending, 0, d.EncodeTime(now), d.EncodeTime(occurred), d.EncodeTime(now)}}, TrackResult{}, nil
}

// insert stores one prepared row; an existing key makes it a duplicate.
func (p *Pulse) insert(ctx context.Context, exec migrator.Execer, row *eventRow) (TrackResult, error) {
	r, err := exec.ExecContext(ctx, p.insertSQL, row.args...)
	if err != nil {
		return TrackResult{}, fmt.Errorf("pulse: storing event %q: %w", row.key, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return TrackResult{}, fmt.Errorf("pulse: storing event %q: %w", row.key, err)
	}
	if n == 0 {
		return TrackResult{Outcome: OutcomeDuplicate}, nil
	}
	return TrackResult{Outcome: OutcomeStored}, nil
}

// trackMany is TrackTx for several events at once, with the same outcome
// per event, in fewer statements: the rows go in one multi-row
// insert-or-ignore under a savepoint. When every row went in, each is
// stored; when some did not (a duplicate key, which the statement cannot
// name), the savepoint is rolled back and the rows go in one by one, each
// with its own outcome. Duplicates are rare (a retried request, a reload),
// so the common case is one statement. An error stops at the first bad
// event, as a loop over TrackTx would.
func (p *Pulse) trackMany(ctx context.Context, tx *sql.Tx, evs []Event) ([]TrackResult, error) {
	results := make([]TrackResult, len(evs))
	rows := make([]*eventRow, 0, len(evs))
	at := make([]int, 0, len(evs)) // index in evs of each row
	for i, ev := range evs {
		row, res, err := p.prepare(ctx, ev)
		if err != nil {
			return nil, err
		}
		if row == nil {
			results[i] = res
			continue
		}
		rows = append(rows, row)
		at = append(at, i)
	}
	stored := false
	if len(rows) > 1 {
		var err error
		if stored, err = p.insertAll(ctx, tx, rows); err != nil {
			return nil, err
		}
	}
	for j, row := range rows {
		if stored {
			results[at[j]] = TrackResult{Outcome: OutcomeStored}
			continue
		}
		res, err := p.insert(ctx, tx, row)
		if err != nil {
			return nil, err
		}
		results[at[j]] = res
	}
	for _, r := range results {
		if r.Outcome == OutcomeStored {
			p.recheck.Store(true)
			p.Wake()
			break
		}
	}
	return results, nil
}

// insertAll inserts rows in one statement and reports whether every one
// went in; if not, it leaves the transaction as it found it.
func (p *Pulse) insertAll(ctx context.Context, tx *sql.Tx, rows []*eventRow) (bool, error) {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT pulse_track_many"); err != nil {
		return false, fmt.Errorf("pulse: storing events: %w", err)
	}
	q, args := p.insertManySQL(len(rows)), make([]any, 0, len(rows)*len(rows[0].args))
	for _, row := range rows {
		args = append(args, row.args...)
	}
	r, err := tx.ExecContext(ctx, q, args...)
	var n int64
	if err == nil {
		n, err = r.RowsAffected()
	}
	if err != nil {
		return false, fmt.Errorf("pulse: storing %d events: %w", len(rows), err)
	}
	if n == int64(len(rows)) {
		_, err = tx.ExecContext(ctx, "RELEASE SAVEPOINT pulse_track_many")
		if err != nil {
			return false, fmt.Errorf("pulse: storing events: %w", err)
		}
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT pulse_track_many"); err != nil {
		return false, fmt.Errorf("pulse: storing events: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT pulse_track_many"); err != nil {
		return false, fmt.Errorf("pulse: storing events: %w", err)
	}
	return false, nil
}

// insertManySQL is insertSQL with n rows of values, built once per n (at
// most IngestMaxEvents).
func (p *Pulse) insertManySQL(n int) string {
	if q, ok := p.insertMany.Load(n); ok {
		return q.(string)
	}
	d := p.db.Dialect
	b := d.Builder().Insert(p.table).Columns(insertColumns...)
	for range n {
		b = b.Values(make([]any, len(insertColumns))...)
	}
	q, _, err := d.InsertIgnore(b, "idempotency_key").ToSql()
	if err != nil {
		panic(fmt.Sprintf("pulse: building a %d-row insert: %v", n, err)) // fixed columns: cannot fail
	}
	p.insertMany.Store(n, q)
	return q
}

// insertColumns are the columns of Track's INSERT, in the order of
// eventRow.args.
var insertColumns = []string{"idempotency_key", "event", "campaign_id", "tracking_id", "payload", "status",
	"attempts", "next_attempt_at", "occurred_at", "created_at"}

// buildInsert builds Track's INSERT once; track supplies the arguments in
// the same order as the columns.
func (p *Pulse) buildInsert() (string, error) {
	d := p.db.Dialect
	q, _, err := d.InsertIgnore(d.Builder().Insert(p.table).Columns(insertColumns...).
		Values(make([]any, len(insertColumns))...), "idempotency_key").ToSql()
	if err != nil {
		return "", fmt.Errorf("pulse: building insert: %w", err)
	}
	return q, nil
}

// wireSizeBound is an upper bound of the batch body holding ev alone, with
// no encoding: encoding/json escapes a byte of the key or the payload into
// at most 6 (\u003c for '<'), the ids and the name need no escaping, and
// the field names, quotes and time take under 160 bytes. Typical events are
// far below MaxBatchBytes, so Track marshals nothing twice.
func wireSizeBound(ev Event, payload []byte) int {
	return len(batchOpen) + len(batchClose) + 160 + 6*len(ev.IdempotencyKey) + len(ev.Name) +
		len(ev.CampaignID) + len(ev.TrackingID) + 6*len(payload)
}

func (p *Pulse) drop(reason string) TrackResult {
	p.dropped.Add(1)
	return TrackResult{Outcome: OutcomeDropped, Reason: reason}
}

// Dropped returns how many events Track dropped since New: without a
// well-formed campaign_id or tracking_id, or while not configured.
func (p *Pulse) Dropped() int64 { return p.dropped.Load() }

// ValidCampaignID reports whether v is a well-formed campaign_id,
// [A-Za-z0-9_-]{1,32}, as events and campaign links carry it.
func ValidCampaignID(v string) bool { return validID(v, CampaignIDMaxLen) }

// validID reports whether v matches [A-Za-z0-9_-]{1,maxLen}.
func validID(v string, maxLen int) bool {
	return v != "" && len(v) <= maxLen && isIDChars(v)
}

// encodePayload marshals a payload and checks that it is a JSON object.
func encodePayload(v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage(`{}`), nil
	}
	b, err := json.Marshal(v) // validates and compacts a json.RawMessage too
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("%w, got %s", ErrInvalidPayload, abbreviate(string(b), 40))
	}
	return b, nil
}

// abbreviate cuts s to at most n characters, marking the cut.
func abbreviate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// truncateError makes a reason fit last_error: valid UTF-8 of at most
// LastErrorMaxLen characters.
func truncateError(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= LastErrorMaxLen {
		return s
	}
	r := []rune(s)
	return string(r[:LastErrorMaxLen-1]) + "…"
}

// Counts are the outbox rows by status.
type Counts struct {
	Pending int64 `json:"pending"`
	Sending int64 `json:"sending"`
	Sent    int64 `json:"sent"`
	Failed  int64 `json:"failed"`
}

// Counts counts the outbox rows by status, live.
func (p *Pulse) Counts(ctx context.Context) (Counts, error) {
	by, err := migrator.CountByStatus(ctx, p.db, p.table)
	if err != nil {
		return Counts{}, fmt.Errorf("pulse: %w", err)
	}
	return Counts{Pending: by[StatusPending], Sending: by[StatusSending], Sent: by[StatusSent], Failed: by[StatusFailed]}, nil
}

// OldestPending returns the age (by Now) of the oldest event not yet
// delivered (pending or sending), or 0 when there is none. It grows during
// an outage however many events are waiting, so it is the number to alert
// on.
func (p *Pulse) OldestPending(ctx context.Context) (time.Duration, error) {
	// One MIN per status, each answered from the (status, created_at)
	// index without a scan.
	q := "SELECT MIN(m) FROM (" +
		"SELECT MIN(created_at) AS m FROM " + p.table + " WHERE status = ? UNION ALL " +
		"SELECT MIN(created_at) AS m FROM " + p.table + " WHERE status = ?) oldest"
	var oldest *time.Time
	if err := p.db.QueryRowContext(ctx, q, StatusPending, StatusSending).Scan(migrator.ScanNullTime(&oldest)); err != nil {
		return 0, fmt.Errorf("pulse: finding the oldest pending event: %w", err)
	}
	if oldest == nil {
		return 0, nil
	}
	return max(p.cfg.Now().Sub(*oldest), 0), nil
}

// StoredEvent is one outbox row.
type StoredEvent struct {
	ID             int64
	IdempotencyKey string
	Event          string
	CampaignID     string
	TrackingID     string
	Payload        json.RawMessage
	Status         string // StatusPending, StatusSending, StatusSent or StatusFailed
	Attempts       int    // counted attempts: answers that decided something, success included
	NextAttemptAt  time.Time
	LeaseOwner     string // "" unless sending
	LeaseExpiresAt *time.Time
	BatchID        string // X-Pulse-Batch-Id of the last request that carried it
	LastError      string // why the last attempt did not deliver it
	LastHTTPStatus int    // 0 for none (never answered, or a network error)
	OccurredAt     time.Time
	CreatedAt      time.Time
	SentAt         *time.Time
}

// storedEventColumns are scanned by scanStoredEvent, in this order.
var storedEventColumns = []string{
	"id", "idempotency_key", "event", "campaign_id", "tracking_id", "payload", "status", "attempts",
	"next_attempt_at", "lease_owner", "lease_expires_at", "batch_id", "last_error", "last_http_status",
	"occurred_at", "created_at", "sent_at",
}

// ErrNotFound is returned by Lookup for a key that is not in the outbox.
var ErrNotFound = errors.New("pulse: no such event in the outbox")

// Lookup returns the outbox row of the event with idempotency key key, or
// ErrNotFound.
func (p *Pulse) Lookup(ctx context.Context, key string) (StoredEvent, error) {
	q, args, err := p.db.Dialect.Builder().Select(storedEventColumns...).From(p.table).
		Where(sq.Eq{"idempotency_key": key}).ToSql()
	if err != nil {
		return StoredEvent{}, err
	}
	e, err := scanStoredEvent(p.db.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return StoredEvent{}, ErrNotFound
	}
	if err != nil {
		return StoredEvent{}, fmt.Errorf("pulse: looking up event %q: %w", key, err)
	}
	return e, nil
}

// scanStoredEvent scans storedEventColumns from a *sql.Row or *sql.Rows.
func scanStoredEvent(s interface{ Scan(...any) error }) (StoredEvent, error) {
	var (
		e                       StoredEvent
		key, payload            []byte
		owner, batchID, lastErr sql.NullString
		httpStatus              sql.NullInt64
	)
	err := s.Scan(&e.ID, &key, &e.Event, &e.CampaignID, &e.TrackingID, &payload, &e.Status, &e.Attempts,
		migrator.ScanTime(&e.NextAttemptAt), &owner, migrator.ScanNullTime(&e.LeaseExpiresAt), &batchID,
		&lastErr, &httpStatus, migrator.ScanTime(&e.OccurredAt), migrator.ScanTime(&e.CreatedAt),
		migrator.ScanNullTime(&e.SentAt))
	if err != nil {
		return StoredEvent{}, err
	}
	e.IdempotencyKey = string(key)
	e.Payload = json.RawMessage(payload)
	e.LeaseOwner, e.BatchID, e.LastError = owner.String, batchID.String, lastErr.String
	e.LastHTTPStatus = int(httpStatus.Int64)
	return e, nil
}
