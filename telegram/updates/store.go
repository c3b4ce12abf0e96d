package updates

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
)

// Statuses of a received update.
const (
	statusPending = "pending"
	statusDone    = "done"
	statusFailed  = "failed"
)

// maxErrorRunes bounds last_error, as the column does.
const maxErrorRunes = 1000

// received is an update as stored.
type received struct {
	botID, updateID int64
	body            []byte
	attempts        int
}

// store is the SQL over the updates table.
type store struct {
	db    migrator.DB
	table string
	now   func() time.Time
}

// insert stores updates (update_id and raw body) not stored yet, in one
// transaction, and reports how many were new.
func (s *store) insert(ctx context.Context, botID int64, ups []rawUpdate) (int, error) {
	if len(ups) == 0 {
		return 0, nil
	}
	d := s.db.Dialect
	now := d.EncodeTime(s.now())
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("updates: storing updates: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	added := 0
	for _, u := range ups {
		ins := d.Builder().Insert(s.table).
			Columns("bot_id", "update_id", "body", "status", "attempts", "next_attempt_at", "received_at").
			Values(botID, u.id, string(u.body), statusPending, 0, now, now)
		q, args, err := d.InsertIgnore(ins, "bot_id", "update_id").ToSql()
		if err != nil {
			return 0, fmt.Errorf("updates: building insert: %w", err)
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, fmt.Errorf("updates: storing update %d: %w", u.id, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			added++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("updates: storing updates: %w", err)
	}
	return added, nil
}

// due returns up to limit pending updates whose next attempt has come,
// oldest first.
func (s *store) due(ctx context.Context, limit int) ([]received, error) {
	d := s.db.Dialect
	q, args, err := d.Builder().Select("bot_id", "update_id", "body", "attempts").From(s.table).
		Where(sq.Eq{"status": statusPending}).
		Where(sq.LtOrEq{"next_attempt_at": d.EncodeTime(s.now())}).
		OrderBy("next_attempt_at", "bot_id", "update_id").Limit(uint64(limit)).ToSql()
	if err != nil {
		return nil, fmt.Errorf("updates: building query: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("updates: reading due updates: %w", err)
	}
	defer rows.Close()
	var out []received
	for rows.Next() {
		var r received
		var body string
		if err := rows.Scan(&r.botID, &r.updateID, &body, &r.attempts); err != nil {
			return nil, fmt.Errorf("updates: reading due updates: %w", err)
		}
		r.body = []byte(body)
		out = append(out, r)
	}
	return out, rows.Err()
}

// claim marks the update done inside tx, the handling's transaction, and
// reports whether this call did: false when another worker or replica
// handled it first. On MySQL the row lock it takes makes a concurrent claim
// wait for this transaction and then find the row done.
func (s *store) claim(ctx context.Context, tx *sql.Tx, r received) (bool, error) {
	d := s.db.Dialect
	q, args, err := d.Builder().Update(s.table).
		Set("status", statusDone).
		Set("attempts", sq.Expr("attempts + 1")).
		Set("processed_at", d.EncodeTime(s.now())).
		Where(sq.Eq{"bot_id": r.botID, "update_id": r.updateID, "status": statusPending}).ToSql()
	if err != nil {
		return false, fmt.Errorf("updates: building claim: %w", err)
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("updates: claiming update %d: %w", r.updateID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("updates: claiming update %d: %w", r.updateID, err)
	}
	return n == 1, nil
}

// fail records a failed handling: the update is tried again at next, or
// marked failed when final.
func (s *store) fail(ctx context.Context, r received, cause error, next time.Time, final bool) error {
	d := s.db.Dialect
	msg := cause.Error()
	if utf8.RuneCountInString(msg) > maxErrorRunes {
		msg = string([]rune(msg)[:maxErrorRunes])
	}
	b := d.Builder().Update(s.table).
		Set("attempts", sq.Expr("attempts + 1")).
		Set("last_error", msg).
		Set("next_attempt_at", d.EncodeTime(next))
	if final {
		b = b.Set("status", statusFailed).Set("processed_at", d.EncodeTime(s.now()))
	}
	q, args, err := b.Where(sq.Eq{"bot_id": r.botID, "update_id": r.updateID, "status": statusPending}).ToSql()
	if err != nil {
		return fmt.Errorf("updates: building update: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("updates: recording the failure of update %d: %w", r.updateID, err)
	}
	return nil
}

// prune deletes handled and failed updates received before cutoff.
func (s *store) prune(ctx context.Context, cutoff time.Time) (int64, error) {
	d := s.db.Dialect
	q, args, err := d.Builder().Delete(s.table).
		Where(sq.Eq{"status": []string{statusDone, statusFailed}}).
		Where(sq.Lt{"received_at": d.EncodeTime(cutoff)}).ToSql()
	if err != nil {
		return 0, fmt.Errorf("updates: building prune: %w", err)
	}
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("updates: pruning updates: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Counts are how many received updates are in each state.
type Counts struct {
	Pending int64 `json:"pending"`
	Done    int64 `json:"done"`
	Failed  int64 `json:"failed"`
}

func (s *store) counts(ctx context.Context) (Counts, error) {
	by, err := migrator.CountByStatus(ctx, s.db, s.table)
	if err != nil {
		return Counts{}, fmt.Errorf("updates: %w", err)
	}
	return Counts{Pending: by[statusPending], Done: by[statusDone], Failed: by[statusFailed]}, nil
}

// rawUpdate is an update's id and its JSON as received.
type rawUpdate struct {
	id   int64
	body json.RawMessage
}
