package telegram

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
)

// This file holds the store's whole-table work for other packages: the
// keyset walk of the Pulse ETL export, the counts of the dashboard and the
// export, and the orders recount. They live here so that the customers
// table has one owner: no other package writes SQL against it.

// AfterQuery asks ListAfter for one page of customers in id order.
type AfterQuery struct {
	// AfterID keeps customers with id > AfterID: the keyset cursor.
	AfterID int64
	// UpdatedSince keeps customers with updated_at >= UpdatedSince; zero
	// keeps all.
	UpdatedSince time.Time
	// Limit is the most customers to return, at least 1.
	Limit int
}

// ListAfter returns the customers with id > q.AfterID and updated_at >=
// q.UpdatedSince (when not zero), by id ascending, at most q.Limit of them.
// It reads the primary key from the cursor on (WHERE id > ? ORDER BY id
// LIMIT n), so a page deep in a walk over millions of customers costs what
// the first one does, and nothing is sorted. Ids never change and
// updated_at never decreases, which makes a walk with a fixed UpdatedSince
// return every customer that matched at its start exactly once.
func (s *CustomerStore) ListAfter(ctx context.Context, q AfterQuery) ([]Customer, error) {
	if q.Limit < 1 {
		return nil, fmt.Errorf("telegram: ListAfter: Limit must be at least 1, got %d", q.Limit)
	}
	since := !q.UpdatedSince.IsZero()
	stmt, err := s.listAfterStmt(ctx, since)
	if err != nil {
		return nil, err
	}
	args := []any{q.AfterID}
	if since {
		args = append(args, s.db.Dialect.EncodeTime(q.UpdatedSince))
	}
	rows, err := stmt.QueryContext(ctx, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("telegram: reading a page of customers: %w", err)
	}
	defer rows.Close()
	out := make([]Customer, 0, min(q.Limit, 1024))
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, fmt.Errorf("telegram: reading a page of customers: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("telegram: reading a page of customers: %w", err)
	}
	return out, nil
}

// listAfterStmt returns ListAfter's statement, without or with the
// updated_at condition, prepared on first use and kept: a walk runs it once
// per page, and preparing the SELECT costs SQLite about a quarter of
// reading a page of it, and MySQL two round trips. A failed prepare (say,
// before the migrations ran) is not kept.
func (s *CustomerStore) listAfterStmt(ctx context.Context, since bool) (*sql.Stmt, error) {
	i := 0
	if since {
		i = 1
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st := s.listAfter[i]; st != nil {
		return st, nil
	}
	b := s.db.Dialect.Builder().Select(customerColumns).From(s.table).Where("id > ?", 0)
	if since {
		b = b.Where("updated_at >= ?", nil)
	}
	query, _, err := b.OrderBy("id").Suffix("LIMIT ?", 0).ToSql()
	if err != nil {
		return nil, fmt.Errorf("telegram: building the customers page: %w", err)
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("telegram: preparing the customers page: %w", err)
	}
	s.listAfter[i] = st
	return st, nil
}

// Count returns how many customers there are.
func (s *CustomerStore) Count(ctx context.Context) (int64, error) {
	return s.CountUpdatedSince(ctx, time.Time{})
}

// CountUpdatedSince counts the customers with updated_at >= since (all of
// them when since is zero), from the updated_at index.
func (s *CustomerStore) CountUpdatedSince(ctx context.Context, since time.Time) (int64, error) {
	b := s.db.Dialect.Builder().Select("COUNT(*)").From(s.table)
	if !since.IsZero() {
		b = b.Where(sq.GtOrEq{"updated_at": s.db.Dialect.EncodeTime(since)})
	}
	query, args, err := b.ToSql()
	if err != nil {
		return 0, fmt.Errorf("telegram: building the customers count: %w", err)
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("telegram: counting customers: %w", err)
	}
	return n, nil
}

// CountFirstCampaigns counts the customers by the campaign that brought
// them first, among those whose first campaign came in [from, to): the
// campaign funnel's "attributed". It reads the (first_campaign_at,
// first_campaign_id) index only.
func (s *CustomerStore) CountFirstCampaigns(ctx context.Context, from, to time.Time) (map[string]int64, error) {
	d := s.db.Dialect
	query, args, err := d.Builder().Select("first_campaign_id", "COUNT(*)").From(s.table).
		Where(sq.And{sq.GtOrEq{"first_campaign_at": d.EncodeTime(from)}, sq.Lt{"first_campaign_at": d.EncodeTime(to)}}).
		GroupBy("first_campaign_id").ToSql()
	if err != nil {
		return nil, fmt.Errorf("telegram: building the campaign count: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("telegram: counting customers by first campaign: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("telegram: counting customers by first campaign: %w", err)
		}
		if id != "" {
			out[id] = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("telegram: counting customers by first campaign: %w", err)
	}
	return out, nil
}

// RecountPageSize is how many customers RecountOrders handles per
// transaction.
const RecountPageSize = 1000

// OrderCounter returns the number of orders of each customer in ids, read
// through exec. A customer missing from the answer has none.
type OrderCounter func(ctx context.Context, exec migrator.Execer, ids []int64) (map[int64]int, error)

// RecountOrders sets every customer's orders_count to what count says,
// repairing the counters IncrementOrders keeps when orders were deleted
// behind its back. It walks the table by id, RecountPageSize customers per
// transaction: for each page it asks count for those customers' orders
// through the page's transaction, then updates the customers whose counter
// differs (and their updated_at, so that the ETL export sends them again).
// count reads a table the caller owns; it must read through exec (SQLite
// has a single connection) and, on MySQL, with a locking read (LOCK IN
// SHARE MODE), so that an order committing meanwhile is either counted or
// waits for the page. It returns how many customers changed.
func (s *CustomerStore) RecountOrders(ctx context.Context, count OrderCounter) (int64, error) {
	if count == nil {
		return 0, errors.New("telegram: RecountOrders: count is nil")
	}
	var changed int64
	var after int64
	for {
		n, last, more, err := s.recountPage(ctx, count, after)
		changed += n
		if err != nil || !more {
			return changed, err
		}
		after = last
	}
}

// recountPage recounts the customers after the id after, one page, in one
// transaction. last is the page's last id; more is false after the last
// page.
func (s *CustomerStore) recountPage(ctx context.Context, count OrderCounter, after int64) (changed, last int64, more bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, false, fmt.Errorf("telegram: recounting orders: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	d := s.db.Dialect
	query, args, err := d.Builder().Select("id", "orders_count").From(s.table).
		Where(sq.Gt{"id": after}).OrderBy("id").Limit(RecountPageSize).ToSql()
	if err != nil {
		return 0, 0, false, fmt.Errorf("telegram: recounting orders: building query: %w", err)
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, 0, false, fmt.Errorf("telegram: recounting orders: %w", err)
	}
	ids := make([]int64, 0, RecountPageSize)
	current := make(map[int64]int, RecountPageSize)
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return 0, 0, false, fmt.Errorf("telegram: recounting orders: %w", err)
		}
		ids = append(ids, id)
		current[id] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, false, fmt.Errorf("telegram: recounting orders: %w", err)
	}
	if len(ids) == 0 {
		return 0, 0, false, nil
	}
	counts, err := count(ctx, tx, ids)
	if err != nil {
		return 0, 0, false, fmt.Errorf("telegram: recounting orders: %w", err)
	}
	// Most pages change nothing; the rest usually move a few customers to
	// the same few counts, so one UPDATE per target count.
	byCount := map[int][]int64{}
	for _, id := range ids {
		want := counts[id]
		if want < 0 {
			return 0, 0, false, fmt.Errorf("telegram: recounting orders: customer %d has %d orders", id, want)
		}
		if want != current[id] {
			byCount[want] = append(byCount[want], id)
		}
	}
	now := d.EncodeTime(s.now())
	for want, changedIDs := range byCount {
		// The guard on orders_count makes a counter that already holds
		// the right value (an order counted since the page was read) no
		// change at all.
		query, args, err := d.Builder().Update(s.table).
			Set("orders_count", want).Set("updated_at", now).
			Where(sq.Eq{"id": changedIDs}).Where(sq.NotEq{"orders_count": want}).ToSql()
		if err != nil {
			return 0, 0, false, fmt.Errorf("telegram: recounting orders: building update: %w", err)
		}
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return 0, 0, false, fmt.Errorf("telegram: recounting orders: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, 0, false, fmt.Errorf("telegram: recounting orders: %w", err)
		}
		changed += n
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, false, fmt.Errorf("telegram: recounting orders: %w", err)
	}
	return changed, ids[len(ids)-1], len(ids) == RecountPageSize, nil
}
