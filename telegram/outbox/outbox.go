package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/internal/queue"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram/botapi"
)

// Tables of the package (unprefixed).
const (
	MessagesTable   = "messages"
	ChatsTable      = "message_chats"
	PaceTable       = "message_pace"
	BroadcastsTable = "broadcasts"
)

// Statuses of a message. pending → sending (leased) → sent | failed;
// paused and cancelled belong to a broadcast's messages not sent yet.
const (
	StatusPending   = queue.StatusPending
	StatusSending   = queue.StatusSending
	StatusSent      = "sent"
	StatusFailed    = "failed"
	StatusPaused    = "paused"
	StatusCancelled = "cancelled"
)

// Kinds of message.
const (
	KindOrderOwner = "order_owner" // a new order, to the owner chat
	KindOrderBuyer = "order_buyer" // a new order, to its buyer
	KindBroadcast  = "broadcast"
	KindAdmin      = "admin"     // the admin's message to one customer
	KindBotReply   = "bot_reply" // the bot's answer to an update (/start, /chatid)
)

// MaxKeyLength bounds an idempotency key.
const MaxKeyLength = 128

// Button is an inline button under a message: a link (URL) or a Mini App
// to open (WebAppURL, an https URL).
type Button struct {
	Text      string `json:"text"`
	URL       string `json:"url,omitempty"`
	WebAppURL string `json:"web_app_url,omitempty"`
}

// Message is one message of the outbox. The fields up to Buttons are what
// Enqueue takes; the rest is the outbox's record of it.
type Message struct {
	ID int64 `json:"id"`
	// Kind is KindOrderOwner, KindOrderBuyer, KindBroadcast, KindAdmin or
	// KindBotReply.
	Kind string `json:"kind"`
	// IdempotencyKey makes a second Enqueue of the same message a no-op,
	// e.g. "order:{id}:owner". Telegram has no idempotency key of its own.
	IdempotencyKey string `json:"idempotency_key"`
	ChatID         int64  `json:"chat_id"`
	// ThreadID is a forum topic of a supergroup; 0 for none.
	ThreadID int64 `json:"thread_id"`
	// Text is 1 to botapi.MaxMessageLength characters.
	Text string `json:"text"`
	// ParseMode is botapi.ParseModeHTML or "" (plain text).
	ParseMode string   `json:"parse_mode"`
	Buttons   []Button `json:"buttons"`
	// CustomerID is the customer a private message is to; 0 for a group.
	CustomerID int64 `json:"customer_id"`
	// BroadcastID is the broadcast the message belongs to; 0 for none.
	BroadcastID int64 `json:"broadcast_id"`

	Status        string    `json:"status"`
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"next_attempt_at"`
	// Reason is why the message was not sent (yet): Telegram's
	// description, or the network error.
	Reason string `json:"reason"`
	// ErrorCode is Telegram's error_code of the last refusal (403: the
	// recipient blocked the bot), 0 when none.
	ErrorCode         int        `json:"error_code"`
	TelegramMessageID int64      `json:"telegram_message_id"`
	CreatedAt         time.Time  `json:"created_at"`
	SentAt            *time.Time `json:"sent_at"`
}

// Delivery is the outcome of one attempt to send a message, for
// Config.OnDelivery.
type Delivery struct {
	Message Message // as stored after the attempt
	// Status is the message's status after the attempt: StatusSent,
	// StatusFailed, or StatusPending for a retry.
	Status string
	// Blocked: Telegram answered 403; the customer, if any, is now marked
	// blocked.
	Blocked  bool
	Duration time.Duration
}

// Errors of Enqueue, *tcerr.Error values a handler maps to 400.
var (
	ErrTextEmpty   = tcerr.Errorf(tcerr.Invalid, "message_empty", "the message text is empty")
	ErrTextTooLong = tcerr.Errorf(tcerr.Invalid, "message_too_long", "the message text is longer than %d characters", botapi.MaxMessageLength)
)

// ErrTextHTML matches (errors.Is) the error of a text that is not valid in
// Telegram's HTML style: a 422 *tcerr.Error whose Fields["text"] names the
// problem and its position, wrapping the *botapi.HTMLError.
var ErrTextHTML = &tcerr.Error{Kind: tcerr.Validation, Code: "invalid_html", Message: "The text is not valid Telegram HTML."}

// checkHTML returns ErrTextHTML with the problem of text, or nil.
func checkHTML(text string) error {
	err := botapi.CheckHTML(text)
	if err == nil {
		return nil
	}
	return &tcerr.Error{Kind: ErrTextHTML.Kind, Code: ErrTextHTML.Code, Message: ErrTextHTML.Message,
		Fields: map[string]string{"text": "Telegram would refuse it: " + err.Error() + "."}, Err: err}
}

// ErrStopped is returned by Start after Stop.
var ErrStopped = errors.New("outbox: stopped; create a new Outbox with New to start again")

// Outbox is the durable message outbox and its paced sender. All methods
// are safe for concurrent use.
type Outbox struct {
	db    migrator.DB
	cfg   Config
	q     queue.Table
	table string
	chats string
	pace  string
	bcast string

	wake      chan struct{}
	sendNanos atomic.Int64 // moving average of one send, for spacing
	window    *sendWindow  // at most GlobalRate's worth in any second; nil without pacing
	conflicts atomic.Int64 // claims and records retried after a conflict

	lifeMu   sync.Mutex
	started  bool
	stopping bool
	soft     context.Context // cancelled by Stop: no new claims
	cancel   context.CancelFunc
	loopDone chan struct{}
	claimSeq uint64

	// afterRecipients, set by tests only, runs between a broadcast chunk's
	// read of its recipients and its transaction.
	afterRecipients func()
}

// New returns an Outbox over db, whose migrations must include
// MigrationSource. It checks cfg but not the database; Start does.
func New(db migrator.DB, cfg Config) (*Outbox, error) {
	if db.DB == nil {
		return nil, errors.New("outbox: db is nil; pass a migrator.DB with an open *sql.DB")
	}
	if err := db.Dialect.Validate(); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if err := migrator.ValidatePrefix(db.Prefix); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := &Outbox{
		db: db, cfg: cfg,
		q: queue.Table{DB: db, Name: db.Table(MessagesTable), Pkg: "outbox", Item: "message",
			Fence: migrator.NewFence(db, cfg.ClusterSettle)},
		table: db.Table(MessagesTable), chats: db.Table(ChatsTable), pace: db.Table(PaceTable),
		bcast: db.Table(BroadcastsTable),
		wake:  make(chan struct{}, 1),
	}
	if !cfg.NoPacing {
		o.window = newSendWindow(cfg.GlobalRate)
	}
	o.q.OnConflict = func(error) { o.conflicts.Add(1) }
	return o, nil
}

// ConflictsRetried returns how many claims and records of this outbox lost
// to a concurrent transaction since New (a deadlock, or on a Galera cluster
// a certification failure) and were run again; the loser never committed,
// so nothing was claimed or recorded twice.
func (o *Outbox) ConflictsRetried() int64 { return o.conflicts.Load() }

// Wake makes the background sender look for due messages now, without
// blocking. Enqueue calls it; after EnqueueTx, call it once the
// transaction committed (the sweep finds the message otherwise).
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Enqueue stores m and wakes the sender. A message whose IdempotencyKey is
// stored already is not stored again: Enqueue returns the stored one with
// created false.
func (o *Outbox) Enqueue(ctx context.Context, m Message) (Message, bool, error) {
	id, created, err := o.EnqueueTx(ctx, o.db.DB, m)
	if err != nil {
		return Message{}, false, err
	}
	if created {
		o.Wake()
	}
	stored, err := o.Get(ctx, id)
	return stored, created, err
}

// EnqueueTx stores m through exec, a host's or an order's transaction, so
// that the message is queued if and only if the transaction commits; call
// Wake after the commit. It returns the message's id, and false when its
// IdempotencyKey was stored already.
func (o *Outbox) EnqueueTx(ctx context.Context, exec migrator.Execer, m Message) (int64, bool, error) {
	if err := check(m); err != nil {
		return 0, false, err
	}
	var buttons any
	if len(m.Buttons) > 0 {
		b, err := json.Marshal(m.Buttons)
		if err != nil {
			return 0, false, fmt.Errorf("outbox: encoding buttons: %w", err)
		}
		buttons = string(b)
	}
	d := o.db.Dialect
	now := d.EncodeTime(o.cfg.Now())
	q, args, err := d.InsertIgnore(d.Builder().Insert(o.table).
		Columns("idempotency_key", "kind", "chat_id", "thread_id", "text", "parse_mode", "buttons",
			"customer_id", "broadcast_id", "status", "next_attempt_at", "created_at").
		Values(m.IdempotencyKey, m.Kind, m.ChatID, m.ThreadID, m.Text, m.ParseMode, buttons,
			nullID(m.CustomerID), nullID(m.BroadcastID), StatusPending, now, now), "idempotency_key").ToSql()
	if err != nil {
		return 0, false, err
	}
	res, err := exec.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, false, fmt.Errorf("outbox: queueing a message: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		if id, err := res.LastInsertId(); err == nil && id > 0 {
			return id, true, nil
		}
	}
	var id int64
	if err := exec.QueryRowContext(ctx, "SELECT id FROM "+o.table+" WHERE idempotency_key = ?", m.IdempotencyKey).Scan(&id); err != nil {
		return 0, false, fmt.Errorf("outbox: queueing a message: %w", err)
	}
	return id, false, nil
}

func check(m Message) error {
	switch {
	case strings.TrimSpace(m.Text) == "":
		return ErrTextEmpty
	case utf8.RuneCountInString(m.Text) > botapi.MaxMessageLength:
		return ErrTextTooLong
	case m.IdempotencyKey == "" || len(m.IdempotencyKey) > MaxKeyLength:
		return fmt.Errorf("outbox: IdempotencyKey must be 1 to %d bytes", MaxKeyLength)
	case m.ChatID == 0:
		return errors.New("outbox: ChatID is 0")
	case m.Kind == "" || len(m.Kind) > 16:
		return errors.New("outbox: Kind must be 1 to 16 characters")
	case m.ParseMode != "" && m.ParseMode != botapi.ParseModeHTML:
		return fmt.Errorf("outbox: ParseMode must be %q or empty", botapi.ParseModeHTML)
	}
	for _, b := range m.Buttons {
		if b.Text == "" || (b.URL == "") == (b.WebAppURL == "") {
			return errors.New("outbox: a button needs a text and exactly one of URL and WebAppURL")
		}
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// messageColumns is what scanMessage reads, in order.
const messageColumns = "id, kind, idempotency_key, chat_id, thread_id, text, parse_mode, buttons, customer_id, broadcast_id, " +
	"status, attempts, next_attempt_at, reason, error_code, telegram_message_id, created_at, sent_at"

type rowScanner interface{ Scan(dest ...any) error }

func scanMessage(r rowScanner) (Message, error) {
	var (
		m                      Message
		key                    []byte
		buttons, reason        sql.NullString
		customer, bcast, tgMsg sql.NullInt64
		code                   sql.NullInt64
	)
	if err := r.Scan(&m.ID, &m.Kind, &key, &m.ChatID, &m.ThreadID, &m.Text, &m.ParseMode, &buttons, &customer, &bcast,
		&m.Status, &m.Attempts, migrator.ScanTime(&m.NextAttemptAt), &reason, &code, &tgMsg,
		migrator.ScanTime(&m.CreatedAt), migrator.ScanNullTime(&m.SentAt)); err != nil {
		return Message{}, err
	}
	m.IdempotencyKey = string(key)
	m.Reason, m.ErrorCode, m.TelegramMessageID = reason.String, int(code.Int64), tgMsg.Int64
	m.CustomerID, m.BroadcastID = customer.Int64, bcast.Int64
	m.Buttons = []Button{}
	if buttons.Valid && buttons.String != "" {
		if err := json.Unmarshal([]byte(buttons.String), &m.Buttons); err != nil {
			return Message{}, fmt.Errorf("stored buttons of message %d: %w", m.ID, err)
		}
	}
	return m, nil
}

// ErrNotFound is returned by Get for an unknown id.
var ErrNotFound = tcerr.Errorf(tcerr.NotFound, "message_not_found", "no such message")

// Get returns the message id.
func (o *Outbox) Get(ctx context.Context, id int64) (Message, error) {
	m, err := scanMessage(o.db.QueryRowContext(ctx, "SELECT "+messageColumns+" FROM "+o.table+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, ErrNotFound
	}
	if err != nil {
		return Message{}, fmt.Errorf("outbox: reading message %d: %w", id, err)
	}
	return m, nil
}

// ListQuery is a page of the outbox, newest first.
type ListQuery struct {
	Status      string // one of the statuses, or "" for all
	BroadcastID int64  // 0 for all
	Page        int    // 1-based
	PerPage     int    // 1 to 100
}

// MessageList is a page of messages with its total.
type MessageList struct {
	Data []Message `json:"data"`
	Meta struct {
		Page    int   `json:"page"`
		PerPage int   `json:"per_page"`
		Total   int64 `json:"total"`
	} `json:"meta"`
}

var statuses = []string{StatusPending, StatusSending, StatusSent, StatusFailed, StatusPaused, StatusCancelled}

// List returns a page of the outbox, newest first. Errors for a bad query
// are *tcerr.Error 400.
func (o *Outbox) List(ctx context.Context, q ListQuery) (MessageList, error) {
	if q.Status != "" && !contains(statuses, q.Status) {
		return MessageList{}, tcerr.Invalidf("status must be one of %s, got %.20q", strings.Join(statuses, ", "), q.Status)
	}
	if q.Page == 0 {
		q.Page = 1
	}
	if q.PerPage == 0 {
		q.PerPage = 20
	}
	if q.Page < 1 || q.Page > 1_000_000 || q.PerPage < 1 || q.PerPage > 100 {
		return MessageList{}, tcerr.Invalidf("page must be 1 to 1000000 and per_page 1 to 100")
	}
	where := sq.And{}
	if q.Status != "" {
		where = append(where, sq.Eq{"status": q.Status})
	}
	if q.BroadcastID != 0 {
		where = append(where, sq.Eq{"broadcast_id": q.BroadcastID})
	}
	b := o.db.Dialect.Builder()
	var list MessageList
	list.Meta.Page, list.Meta.PerPage = q.Page, q.PerPage
	cq := b.Select("COUNT(*)").From(o.table)
	sel := b.Select(messageColumns).From(o.table)
	if len(where) > 0 {
		cq, sel = cq.Where(where), sel.Where(where)
	}
	if err := cq.RunWith(o.db.DB).QueryRowContext(ctx).Scan(&list.Meta.Total); err != nil {
		return MessageList{}, fmt.Errorf("outbox: counting messages: %w", err)
	}
	rows, err := sel.OrderBy("id DESC").Limit(uint64(q.PerPage)).Offset(uint64(q.Page-1) * uint64(q.PerPage)).
		RunWith(o.db.DB).QueryContext(ctx)
	if err != nil {
		return MessageList{}, fmt.Errorf("outbox: listing messages: %w", err)
	}
	defer rows.Close()
	list.Data = []Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return MessageList{}, fmt.Errorf("outbox: listing messages: %w", err)
		}
		list.Data = append(list.Data, m)
	}
	if err := rows.Err(); err != nil {
		return MessageList{}, fmt.Errorf("outbox: listing messages: %w", err)
	}
	return list, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Retry puts failed messages back in the queue, with their attempts reset:
// ids, or every failed one when ids is empty. Messages to a customer
// marked blocked are retried too: the admin asked; those to an erased
// customer are not. It returns how many.
func (o *Outbox) Retry(ctx context.Context, ids []int64) (int64, error) {
	d := o.db.Dialect
	// An erased recipient's failed messages are blanked (empty text): there
	// is nothing, and nobody, to send them to again.
	u := d.Builder().Update(o.table).Set("status", StatusPending).Set("attempts", 0).
		Set("next_attempt_at", d.EncodeTime(o.cfg.Now())).Where(sq.Eq{"status": StatusFailed}).Where(sq.NotEq{"text": ""})
	if len(ids) > 0 {
		u = u.Where(sq.Eq{"id": ids})
	}
	res, err := u.RunWith(o.db.DB).ExecContext(ctx)
	if err != nil {
		return 0, fmt.Errorf("outbox: retrying messages: %w", err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		o.Wake()
	}
	return n, nil
}

// Counts are the outbox's messages by status; Blocked counts the failed
// ones Telegram refused with 403.
type Counts struct {
	Pending   int64 `json:"pending"`
	Sending   int64 `json:"sending"`
	Sent      int64 `json:"sent"`
	Failed    int64 `json:"failed"`
	Blocked   int64 `json:"blocked"`
	Paused    int64 `json:"paused"`
	Cancelled int64 `json:"cancelled"`
}

// Count counts messages by status: all of them, or a broadcast's.
func (o *Outbox) Count(ctx context.Context, broadcastID int64) (Counts, error) {
	return o.count(ctx, o.db.DB, broadcastID)
}

func (o *Outbox) count(ctx context.Context, q migrator.Execer, broadcastID int64) (Counts, error) {
	b := o.db.Dialect.Builder().Select("status", "CASE WHEN error_code = 403 THEN 1 ELSE 0 END", "COUNT(*)").
		From(o.table).GroupBy("status", "CASE WHEN error_code = 403 THEN 1 ELSE 0 END")
	if broadcastID != 0 {
		b = b.Where(sq.Eq{"broadcast_id": broadcastID})
	}
	query, args, err := b.ToSql()
	if err != nil {
		return Counts{}, err
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return Counts{}, fmt.Errorf("outbox: counting messages: %w", err)
	}
	defer rows.Close()
	var c Counts
	for rows.Next() {
		var status string
		var blocked int
		var n int64
		if err := rows.Scan(&status, &blocked, &n); err != nil {
			return Counts{}, fmt.Errorf("outbox: counting messages: %w", err)
		}
		switch status {
		case StatusPending:
			c.Pending += n
		case StatusSending:
			c.Sending += n
		case StatusSent:
			c.Sent += n
		case StatusFailed:
			if blocked == 1 {
				c.Blocked += n
			} else {
				c.Failed += n
			}
		case StatusPaused:
			c.Paused += n
		case StatusCancelled:
			c.Cancelled += n
		}
	}
	return c, rows.Err()
}
