package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
)

// Statuses of a broadcast.
const (
	BroadcastStatusDraft     = "draft"
	BroadcastStatusRunning   = "running"
	BroadcastStatusPaused    = "paused"
	BroadcastStatusDone      = "done"
	BroadcastStatusCancelled = "cancelled"
)

// broadcastChunk is how many recipients one enqueueing step queues, in one
// transaction: a restart resumes after the last committed chunk, and the
// idempotency keys make a chunk queued twice (two replicas) a no-op.
const broadcastChunk = 500

// ButtonTextMax bounds a broadcast's button text.
const ButtonTextMax = 64

// BroadcastFilter picks the recipients with the customers list's search
// and filters (see telegram.ListQuery); only customers who can be messaged
// are ever recipients.
type BroadcastFilter struct {
	Search  string            `json:"search,omitempty"`
	Filters map[string]string `json:"filters,omitempty"`
}

func (f BroadcastFilter) query() telegram.ListQuery {
	return telegram.ListQuery{Search: f.Search, Filters: f.Filters}
}

// BroadcastDraft is what POST /admin/api/broadcasts takes.
type BroadcastDraft struct {
	// Text is in Telegram's HTML subset.
	Text string `json:"text"`
	// ButtonText, when set, adds a button that opens the shop (Config.WebAppURL).
	ButtonText string          `json:"button_text"`
	Filter     BroadcastFilter `json:"filter"`
}

// Broadcast is a broadcast and its progress.
type Broadcast struct {
	ID         int64           `json:"id"`
	Text       string          `json:"text"`
	ButtonText string          `json:"button_text"`
	Filter     BroadcastFilter `json:"filter"`
	Status     string          `json:"status"`
	// Recipients is the count when the draft was made, and the number
	// queued once all are.
	Recipients int64 `json:"recipients"`
	// Queued counts the messages waiting to be sent (including the
	// recipients not queued yet); Sent, Failed and Blocked the outcomes.
	Queued  int64 `json:"queued"`
	Sent    int64 `json:"sent"`
	Failed  int64 `json:"failed"`
	Blocked int64 `json:"blocked"`
	// EstimatedSeconds is how long sending to every recipient takes at
	// GlobalRate; ETASeconds how long what is left takes.
	EstimatedSeconds int64      `json:"estimated_seconds"`
	ETASeconds       int64      `json:"eta_seconds"`
	CreatedAt        time.Time  `json:"created_at"`
	StartedAt        *time.Time `json:"started_at"`
	FinishedAt       *time.Time `json:"finished_at"`

	enqueued int64
	cursor   int64
	allIn    bool
}

// Errors of the broadcast controls.
var (
	ErrBroadcastNotFound = tcerr.Errorf(tcerr.NotFound, "broadcast_not_found", "no such broadcast")
	ErrBroadcastState    = tcerr.Errorf(tcerr.Conflict, "broadcast_state", "the broadcast cannot do that in its current status")
)

// CreateBroadcast stores a draft and counts its recipients. Errors are
// *tcerr.Error: 400 for an empty or too long text or a bad filter, 422
// ErrTextHTML for a text that is not valid in Telegram's HTML style.
func (o *Outbox) CreateBroadcast(ctx context.Context, d BroadcastDraft) (Broadcast, error) {
	d.ButtonText = strings.TrimSpace(d.ButtonText)
	switch {
	case strings.TrimSpace(d.Text) == "":
		return Broadcast{}, ErrTextEmpty
	case utf8.RuneCountInString(d.Text) > botapi.MaxMessageLength:
		return Broadcast{}, ErrTextTooLong
	case utf8.RuneCountInString(d.ButtonText) > ButtonTextMax:
		return Broadcast{}, tcerr.Invalidf("button_text is longer than %d characters", ButtonTextMax)
	case d.ButtonText != "" && o.cfg.WebAppURL == "":
		return Broadcast{}, tcerr.Invalidf("button_text needs the shop's public URL, which is not configured")
	}
	// Every recipient would get Telegram's refusal: refuse it once, here.
	if err := checkHTML(d.Text); err != nil {
		return Broadcast{}, err
	}
	n, err := o.cfg.Customers.CountRecipients(ctx, d.Filter.query())
	if err != nil {
		return Broadcast{}, err
	}
	filter, err := json.Marshal(d.Filter)
	if err != nil {
		return Broadcast{}, err
	}
	db := o.db.Dialect
	now := db.EncodeTime(o.cfg.Now())
	res, err := db.Builder().Insert(o.bcast).
		Columns("text", "button_text", "filter", "status", "recipients", "created_at", "updated_at").
		Values(d.Text, d.ButtonText, string(filter), BroadcastStatusDraft, n, now, now).
		RunWith(o.db.DB).ExecContext(ctx)
	if err != nil {
		return Broadcast{}, fmt.Errorf("outbox: storing a broadcast: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Broadcast{}, err
	}
	return o.Broadcast(ctx, id)
}

const broadcastColumns = "id, text, button_text, filter, status, recipients, enqueued, cursor_id, all_queued, created_at, started_at, finished_at"

func (o *Outbox) scanBroadcast(r rowScanner) (Broadcast, error) {
	var b Broadcast
	var filter string
	if err := r.Scan(&b.ID, &b.Text, &b.ButtonText, &filter, &b.Status, &b.Recipients, &b.enqueued, &b.cursor, &b.allIn,
		migrator.ScanTime(&b.CreatedAt), migrator.ScanNullTime(&b.StartedAt), migrator.ScanNullTime(&b.FinishedAt)); err != nil {
		return Broadcast{}, err
	}
	if err := json.Unmarshal([]byte(filter), &b.Filter); err != nil {
		return Broadcast{}, fmt.Errorf("stored filter of broadcast %d: %w", b.ID, err)
	}
	return b, nil
}

// Broadcast returns a broadcast with its progress; a running one whose
// messages are all sent or failed becomes done.
func (o *Outbox) Broadcast(ctx context.Context, id int64) (Broadcast, error) {
	// One snapshot for the row and its messages: a chunk queued between two
	// reads would count its recipients twice.
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return Broadcast{}, fmt.Errorf("outbox: reading broadcast %d: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }()
	b, err := o.scanBroadcast(tx.QueryRowContext(ctx, "SELECT "+broadcastColumns+" FROM "+o.bcast+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Broadcast{}, ErrBroadcastNotFound
	}
	if err != nil {
		return Broadcast{}, fmt.Errorf("outbox: reading broadcast %d: %w", id, err)
	}
	c, err := o.count(ctx, tx, id)
	if err != nil {
		return Broadcast{}, err
	}
	_ = tx.Rollback()
	if b.Status == BroadcastStatusRunning && b.allIn && c.Pending+c.Sending == 0 {
		if err := o.finish(ctx, id); err != nil {
			return Broadcast{}, err
		}
		return o.Broadcast(ctx, id)
	}
	if b.allIn {
		b.Recipients = b.enqueued
	}
	notQueued := max(b.Recipients-b.enqueued, 0)
	if b.Status == BroadcastStatusCancelled || b.Status == BroadcastStatusDone {
		notQueued = 0
	}
	b.Queued = c.Pending + c.Sending + c.Paused + notQueued
	b.Sent, b.Failed, b.Blocked = c.Sent, c.Failed, c.Blocked
	b.EstimatedSeconds = o.seconds(b.Recipients)
	if b.Status != BroadcastStatusCancelled && b.Status != BroadcastStatusDone {
		b.ETASeconds = o.seconds(b.Queued)
	}
	return b, nil
}

func (o *Outbox) seconds(messages int64) int64 {
	if o.cfg.NoPacing {
		return 0
	}
	return int64(math.Ceil(float64(messages) / o.cfg.GlobalRate))
}

// Broadcasts returns the latest 100 broadcasts, newest first, with their
// progress.
func (o *Outbox) Broadcasts(ctx context.Context) ([]Broadcast, error) {
	rows, err := o.db.QueryContext(ctx, "SELECT id FROM "+o.bcast+" ORDER BY id DESC LIMIT 100")
	if err != nil {
		return nil, fmt.Errorf("outbox: listing broadcasts: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	list := []Broadcast{}
	for _, id := range ids {
		b, err := o.Broadcast(ctx, id)
		if err != nil {
			return nil, err
		}
		list = append(list, b)
	}
	return list, rows.Err()
}

// StartBroadcast starts a draft, or resumes a paused broadcast.
func (o *Outbox) StartBroadcast(ctx context.Context, id int64) (Broadcast, error) {
	return o.control(ctx, id, []string{BroadcastStatusDraft, BroadcastStatusPaused}, BroadcastStatusRunning, StatusPaused, StatusPending)
}

// PauseBroadcast pauses a running broadcast: its queued messages wait
// (the one in flight, if any, is still sent).
func (o *Outbox) PauseBroadcast(ctx context.Context, id int64) (Broadcast, error) {
	return o.control(ctx, id, []string{BroadcastStatusRunning}, BroadcastStatusPaused, StatusPending, StatusPaused)
}

// CancelBroadcast cancels a broadcast: its messages not sent yet never are.
func (o *Outbox) CancelBroadcast(ctx context.Context, id int64) (Broadcast, error) {
	b, err := o.control(ctx, id, []string{BroadcastStatusDraft, BroadcastStatusRunning, BroadcastStatusPaused}, BroadcastStatusCancelled, StatusPending, StatusCancelled)
	if err != nil {
		return b, err
	}
	// The paused ones too.
	if _, err := o.db.Dialect.Builder().Update(o.table).Set("status", StatusCancelled).
		Where(sq.Eq{"broadcast_id": id, "status": StatusPaused}).RunWith(o.db.DB).ExecContext(ctx); err != nil {
		return Broadcast{}, fmt.Errorf("outbox: cancelling broadcast %d: %w", id, err)
	}
	return o.Broadcast(ctx, id)
}

// control moves broadcast id from one of from to status to, and its
// messages from msgFrom to msgTo, in one transaction whose first write is
// the broadcast's row: the enqueueing step writes it first too, so the two
// never interleave.
func (o *Outbox) control(ctx context.Context, id int64, from []string, to, msgFrom, msgTo string) (Broadcast, error) {
	d := o.db.Dialect
	now := d.EncodeTime(o.cfg.Now())
	var changed bool
	err := o.q.Record(func(ctx context.Context, tx *sql.Tx) error {
		u := d.Builder().Update(o.bcast).Set("status", to).Set("updated_at", now).Where(sq.Eq{"id": id, "status": from})
		switch to {
		case BroadcastStatusRunning:
			u = u.Set("started_at", sq.Expr("COALESCE(started_at, ?)", now))
		case BroadcastStatusCancelled:
			u = u.Set("finished_at", now)
		}
		res, err := u.RunWith(tx).ExecContext(ctx)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if changed = n == 1; !changed {
			return nil
		}
		_, err = d.Builder().Update(o.table).Set("status", msgTo).Set("next_attempt_at", now).
			Where(sq.Eq{"broadcast_id": id, "status": msgFrom}).RunWith(tx).ExecContext(ctx)
		return err
	})
	if err != nil {
		return Broadcast{}, fmt.Errorf("outbox: broadcast %d: %w", id, err)
	}
	b, err := o.Broadcast(ctx, id)
	if err != nil {
		return Broadcast{}, err
	}
	if !changed {
		return b, ErrBroadcastState
	}
	o.Wake()
	return b, nil
}

func (o *Outbox) finish(ctx context.Context, id int64) error {
	d := o.db.Dialect
	now := d.EncodeTime(o.cfg.Now())
	_, err := d.Builder().Update(o.bcast).Set("status", BroadcastStatusDone).Set("finished_at", now).Set("updated_at", now).
		Where(sq.Eq{"id": id, "status": BroadcastStatusRunning}).RunWith(o.db.DB).ExecContext(ctx)
	return err
}

// EnqueueBroadcasts queues the next chunk of every running broadcast that
// has recipients left to queue, and reports whether it queued any. The
// background sender calls it before every claim.
func (o *Outbox) EnqueueBroadcasts(ctx context.Context) (bool, error) {
	rows, err := o.db.QueryContext(ctx, "SELECT "+broadcastColumns+" FROM "+o.bcast+" WHERE status = ? AND all_queued = 0 ORDER BY id", BroadcastStatusRunning)
	if err != nil {
		return false, fmt.Errorf("outbox: reading running broadcasts: %w", err)
	}
	var running []Broadcast
	for rows.Next() {
		b, err := o.scanBroadcast(rows)
		if err != nil {
			rows.Close()
			return false, err
		}
		running = append(running, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	queued := false
	for _, b := range running {
		n, err := o.enqueueChunk(ctx, b)
		if err != nil {
			return queued, err
		}
		queued = queued || n > 0
	}
	if queued {
		o.Wake()
	}
	return queued, nil
}

// enqueueChunk queues the next chunk of b's recipients after its cursor,
// and moves the cursor in the same transaction, guarded by the cursor it
// read: a chunk is queued once even with two replicas at it.
func (o *Outbox) enqueueChunk(ctx context.Context, b Broadcast) (int, error) {
	recips, err := o.cfg.Customers.Recipients(ctx, b.Filter.query(), b.cursor, broadcastChunk)
	if err != nil {
		return 0, fmt.Errorf("outbox: broadcast %d recipients: %w", b.ID, err)
	}
	if o.afterRecipients != nil {
		o.afterRecipients()
	}
	d := o.db.Dialect
	now := d.EncodeTime(o.cfg.Now())
	var buttons any
	if b.ButtonText != "" && o.cfg.WebAppURL != "" {
		raw, _ := json.Marshal([]Button{{Text: b.ButtonText, WebAppURL: o.cfg.WebAppURL}})
		buttons = string(raw)
	}
	cursor := b.cursor
	if len(recips) > 0 {
		cursor = recips[len(recips)-1].CustomerID
	}
	done := len(recips) < broadcastChunk
	ids := make([]int64, len(recips))
	for i, r := range recips {
		ids[i] = r.CustomerID
	}
	var queued []telegram.Recipient
	err = o.q.Record(func(ctx context.Context, tx *sql.Tx) error {
		queued = nil
		u := d.Builder().Update(o.bcast).Set("cursor_id", cursor).Set("enqueued", sq.Expr("enqueued + ?", len(recips))).
			Set("updated_at", now).Where(sq.Eq{"id": b.ID, "status": BroadcastStatusRunning, "cursor_id": b.cursor, "all_queued": 0})
		if done {
			u = u.Set("all_queued", 1)
		}
		res, err := u.RunWith(tx).ExecContext(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // paused, cancelled, or another replica queued this chunk
		}
		// The recipients were read outside this transaction: read them
		// again in it, so that a customer erased since is not queued with
		// the chat id the erasure removed.
		if queued, err = o.cfg.Customers.RecipientsTx(ctx, tx, ids); err != nil {
			return err
		}
		if gone := len(recips) - len(queued); gone > 0 {
			if _, err := d.Builder().Update(o.bcast).Set("enqueued", sq.Expr("enqueued - ?", gone)).
				Where(sq.Eq{"id": b.ID}).RunWith(tx).ExecContext(ctx); err != nil {
				return err
			}
		}
		if len(queued) == 0 {
			return nil
		}
		ins := d.Builder().Insert(o.table).Columns("idempotency_key", "kind", "chat_id", "thread_id", "text", "parse_mode",
			"buttons", "customer_id", "broadcast_id", "status", "next_attempt_at", "created_at")
		for _, r := range queued {
			ins = ins.Values("broadcast:"+strconv.FormatInt(b.ID, 10)+":"+strconv.FormatInt(r.CustomerID, 10), KindBroadcast,
				r.TelegramUserID, 0, b.Text, botapi.ParseModeHTML, buttons, r.CustomerID, b.ID, StatusPending, now, now)
		}
		_, err = d.InsertIgnore(ins, "idempotency_key").RunWith(tx).ExecContext(ctx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("outbox: queueing broadcast %d: %w", b.ID, err)
	}
	return len(queued), nil
}

// handBack runs put, which hands claimed messages back to the queue
// (pending), in tx, and then gives those of a paused or cancelled broadcast
// their broadcast's status: a message claimed before a pause or a cancel
// and not sent must not go out after it. Like control, it writes the
// broadcasts' rows first, so that the two never interleave (on a Galera
// cluster they conflict, and one runs again).
func (o *Outbox) handBack(ctx context.Context, tx *sql.Tx, msgs []claimed, put func() error) error {
	var bids []int64
	for _, c := range msgs {
		if c.msg.BroadcastID != 0 && !slices.Contains(bids, c.msg.BroadcastID) {
			bids = append(bids, c.msg.BroadcastID)
		}
	}
	if len(bids) == 0 {
		return put()
	}
	d := o.db.Dialect
	if _, err := d.Builder().Update(o.bcast).Set("updated_at", d.EncodeTime(o.cfg.Now())).Where(sq.Eq{"id": bids}).
		RunWith(tx).ExecContext(ctx); err != nil {
		return err
	}
	if err := put(); err != nil {
		return err
	}
	held := map[string][]int64{}
	rows, err := d.Builder().Select("id", "status").From(o.bcast).
		Where(sq.Eq{"id": bids, "status": []string{BroadcastStatusPaused, BroadcastStatusCancelled}}).RunWith(tx).QueryContext(ctx)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var status string
		if err := rows.Scan(&id, &status); err != nil {
			rows.Close()
			return err
		}
		held[status] = append(held[status], id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ids := make([]int64, len(msgs))
	for i, c := range msgs {
		ids[i] = c.msg.ID
	}
	for status, to := range map[string]string{BroadcastStatusPaused: StatusPaused, BroadcastStatusCancelled: StatusCancelled} {
		if len(held[status]) == 0 {
			continue
		}
		if _, err := d.Builder().Update(o.table).Set("status", to).
			Where(sq.Eq{"id": ids, "broadcast_id": held[status], "status": StatusPending}).RunWith(tx).ExecContext(ctx); err != nil {
			return err
		}
	}
	return nil
}
