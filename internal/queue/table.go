package queue

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
)

// The statuses every queue table shares. Final statuses ('sent', 'failed',
// …) are the outbox's own.
const (
	StatusPending = "pending"
	StatusSending = "sending"
)

// RecordTimeout bounds the database work that must happen even when the
// caller's context is done: recording an answer already received,
// releasing rows at stop.
const RecordTimeout = 10 * time.Second

// recordTries is how often Record runs its transaction before giving up.
const recordTries = 3

// Table is one queue table.
type Table struct {
	DB   migrator.DB
	Name string // the prefixed table name, from code, never input
	// Pkg and Item name the owner in errors: "pulse", "event" gives
	// "pulse: claiming a batch: …" and "pulse: finding the next due event: …".
	Pkg, Item string
	// OnConflict, when set, is called for every claim or record that lost
	// to a concurrent transaction (a deadlock, a lock wait timeout, a
	// Galera certification failure) and is run again.
	OnConflict func(error)
	// Fence, when set, confirms claims on a Galera cluster (see Confirm).
	Fence *migrator.Fence
}

// retry runs fn, one short transaction, again while it loses a conflict:
// the loser never committed, so running it again claims or records nothing
// twice.
func (t Table) retry(ctx context.Context, fn func(ctx context.Context) error) error {
	return migrator.ConflictRetry{OnConflict: t.OnConflict}.Do(ctx, fn)
}

// StatusIs is the guard "status = s" of statements that also pick rows by
// id. On SQLite it is written "+status = ?": the unary plus keeps SQLite's
// planner from walking a status index (reading every due row of a large
// backlog on each claim, which made draining quadratic) instead of looking
// up the ids by primary key. MySQL would read +status as a number, and
// plans these by id anyway.
func (t Table) StatusIs(status string) sq.Sqlizer {
	if t.DB.Dialect == migrator.SQLite {
		return sq.Expr("+status = ?", status)
	}
	return sq.Eq{"status": status}
}

// Guard restricts u to the rows of ids that owner's claim still holds:
// status 'sending' and lease_owner owner. When another sender reclaimed a
// row after this claim's lease expired, the row is theirs and a late
// answer changes nothing.
func (t Table) Guard(u sq.UpdateBuilder, owner string, ids []int64) sq.UpdateBuilder {
	return u.Where(sq.Eq{"id": ids}).Where(sq.Eq{"lease_owner": owner}).Where(t.StatusIs(StatusSending))
}

// Release is the UPDATE that ends a lease, without its WHERE (see Guard):
// the row gets status and loses its lease owner and expiry.
func (t Table) Release(status string) sq.UpdateBuilder {
	return t.DB.Dialect.Builder().Update(t.Name).
		Set("status", status).
		Set("lease_owner", nil).
		Set("lease_expires_at", nil)
}

// Claim is an outbox's own part of a claim.
type Claim struct {
	// Serialize, when not nil, runs first in the claim, in a transaction on
	// both dialects, and must take a write lock every claimer takes (an
	// UPDATE of one row of a pacing table): claims then run one at a time
	// across senders, so that a claim may read and change state beside
	// the rows (a shared budget) without another claim doing the same in
	// between. Without it, claims run side by side (MySQL: SKIP LOCKED)
	// or optimistically (SQLite).
	Serialize func(ctx context.Context, tx *sql.Tx, now time.Time) error
	// Candidates reads the rows to claim and returns their ids. q is the
	// claim's transaction (or connection); lock is the suffix of a SELECT
	// that reads the queue table's rows ("FOR UPDATE SKIP LOCKED" on MySQL).
	// Rows whose lease expired must come first. A claim that loses a
	// conflict (a deadlock, a Galera certification failure) runs again
	// from Serialize: Candidates must forget what an earlier run read.
	Candidates func(ctx context.Context, q migrator.Execer, now time.Time, lock string) ([]int64, error)
	// Lease returns the UPDATE, without WHERE, that leases the candidates:
	// at least status 'sending', lease_owner and lease_expires_at. With
	// Serialize, or on MySQL, it may also write other tables through q,
	// atomically with the claim.
	Lease func(ctx context.Context, q migrator.Execer, now time.Time) (sq.UpdateBuilder, error)
}

// Claim leases the candidates c picks and returns the ids it won: all of
// them on MySQL (FOR UPDATE SKIP LOCKED in a short READ COMMITTED
// transaction: no gap locks, so inserts never wait on it, and several
// senders share the queue without waiting for each other or taking the same
// rows) and with Serialize; on SQLite without Serialize, those an UPDATE
// that checks again that each is still claimable could lease. nil: nothing
// was due. The time is read from now once the database is reached, so
// that what is due is judged as late as possible; Claim returns it.
func (t Table) Claim(ctx context.Context, now func() time.Time, c Claim) ([]int64, time.Time, error) {
	if t.Fence != nil {
		// Know whether claims must settle before leasing anything, so
		// that Confirm cannot fail on that question with rows leased.
		if _, err := t.Fence.On(ctx); err != nil {
			return nil, time.Time{}, t.claimErr(err)
		}
	}
	if t.DB.Dialect == migrator.MySQL || c.Serialize != nil {
		var ids []int64
		var at time.Time
		err := t.retry(ctx, func(ctx context.Context) error {
			var err error
			ids, at, err = t.claimTx(ctx, now, c)
			return err
		})
		return ids, at, err
	}
	return t.claimOptimistic(ctx, now, c)
}

func (t Table) claimErr(err error) error {
	return fmt.Errorf("%s: claiming a batch: %w", t.Pkg, err)
}

// claimTx claims in one transaction: MySQL's, or a serialized one.
func (t Table) claimTx(ctx context.Context, now func() time.Time, c Claim) ([]int64, time.Time, error) {
	var opts *sql.TxOptions
	if t.DB.Dialect == migrator.MySQL {
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	tx, err := t.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, time.Time{}, t.claimErr(err)
	}
	defer tx.Rollback()
	at := now()
	if c.Serialize != nil {
		if err := c.Serialize(ctx, tx, at); err != nil {
			return nil, time.Time{}, err
		}
		at = now() // the lock may have waited
	}
	ids, err := c.Candidates(ctx, tx, at, t.DB.Dialect.SkipLocked())
	if err != nil || len(ids) == 0 {
		return nil, at, err
	}
	u, err := c.Lease(ctx, tx, at)
	if err != nil {
		return nil, at, err
	}
	if _, err := u.Where(sq.Eq{"id": ids}).RunWith(tx).ExecContext(ctx); err != nil {
		return nil, at, t.claimErr(err)
	}
	if err := tx.Commit(); err != nil {
		return nil, at, t.claimErr(err)
	}
	return ids, at, nil
}

// claimOptimistic is the SQLite claim. SQLite has one writer, so a claim
// cannot collide with another; but a read-then-write transaction could fail
// with SQLITE_BUSY when another process writes in between. So it reads the
// candidates, then leases them in one UPDATE that checks again that each is
// still claimable, and keeps the rows that UPDATE returned.
func (t Table) claimOptimistic(ctx context.Context, now func() time.Time, c Claim) ([]int64, time.Time, error) {
	// Hold one connection for both statements: with SQLite's single
	// pooled connection, waiting for it (behind a host's transaction, say)
	// comes before judging what is due.
	conn, err := t.DB.Conn(ctx)
	if err != nil {
		return nil, time.Time{}, t.claimErr(err)
	}
	defer conn.Close()
	at := now()
	ids, err := c.Candidates(ctx, conn, at, "")
	if err != nil || len(ids) == 0 {
		return nil, at, err
	}
	u, err := c.Lease(ctx, conn, at)
	if err != nil {
		return nil, at, err
	}
	enc := t.DB.Dialect.EncodeTime(at)
	q, args, err := u.Where(sq.Eq{"id": ids}).
		Where(sq.Or{
			sq.And{t.StatusIs(StatusPending), sq.LtOrEq{"next_attempt_at": enc}},
			sq.And{t.StatusIs(StatusSending), sq.Lt{"lease_expires_at": enc}},
		}).
		Suffix("RETURNING id").ToSql()
	if err != nil {
		return nil, at, t.claimErr(err)
	}
	// SQLite changes every row before RETURNING yields the first: reading
	// them must not be cut short, or rows would be leased to nobody.
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RecordTimeout)
	defer cancel()
	rows, err := conn.QueryContext(uctx, q, args...)
	if err != nil {
		return nil, at, t.claimErr(err)
	}
	defer rows.Close()
	won := make([]int64, 0, len(ids))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, at, t.claimErr(err)
		}
		won = append(won, id)
	}
	if err := rows.Err(); err != nil {
		return nil, at, t.claimErr(err)
	}
	return won, at, nil
}

// Record runs fn in one short transaction, bounded by RecordTimeout rather
// than by a caller's context: an answer received, or a release at stop,
// must be stored. A failed transaction (a deadlock between senders, say) is
// tried again, up to three times in all. This is the one place where a
// transaction of the queue is retried: a conflict retry (a MySQL deadlock,
// a Galera certification failure) belongs here and in Claim's callers.
func (t Table) Record(fn func(ctx context.Context, tx *sql.Tx) error) error {
	var err error
	for try := 1; try <= recordTries; try++ {
		if err = t.retry(context.Background(), func(context.Context) error { return t.recordTx(fn) }); err == nil {
			return nil
		}
		if try < recordTries {
			time.Sleep(time.Duration(try) * 20 * time.Millisecond)
		}
	}
	return err
}

func (t Table) recordTx(fn func(ctx context.Context, tx *sql.Tx) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), RecordTimeout)
	defer cancel()
	tx, err := t.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Renew moves the lease of owner's rows ids to until, and returns the ids
// the claim still holds: all of them, unless another sender reclaimed some
// after the lease expired.
func (t Table) Renew(owner string, ids []int64, until time.Time) (map[int64]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), RecordTimeout)
	defer cancel()
	d := t.DB.Dialect
	res, err := t.Guard(d.Builder().Update(t.Name).Set("lease_expires_at", d.EncodeTime(until)), owner, ids).
		RunWith(t.DB.DB).ExecContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: renewing a lease: %w", t.Pkg, err)
	}
	ours := make(map[int64]bool, len(ids))
	if n, err := res.RowsAffected(); err == nil && int(n) == len(ids) {
		for _, id := range ids {
			ours[id] = true
		}
		return ours, nil
	}
	// Fewer rows changed: some are no longer ours (or, on MySQL, the
	// expiry did not change). Keep the ones still ours.
	held, err := t.held(ctx, t.DB.DB, owner, ids)
	if err != nil {
		return nil, fmt.Errorf("%s: renewing a lease: %w", t.Pkg, err)
	}
	for _, id := range held {
		ours[id] = true
	}
	return ours, nil
}

// held returns those of ids that owner's claim holds.
func (t Table) held(ctx context.Context, q migrator.Execer, owner string, ids []int64) ([]int64, error) {
	query, args, err := t.DB.Dialect.Builder().Select("id").From(t.Name).
		Where(sq.Eq{"id": ids}).Where(sq.Eq{"lease_owner": owner}).Where(t.StatusIs(StatusSending)).
		ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]int64, 0, len(ids))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Confirm returns those of ids, just claimed by owner, that the claim
// still holds once it has settled: on a Galera cluster, where another
// node's claim of the same rows can commit too and the later one wins
// (see migrator.Fence), the ones no later claim took; elsewhere all of
// them. An outbox calls it after Claim and sends only what it returns.
func (t Table) Confirm(ctx context.Context, owner string, ids []int64) ([]int64, error) {
	if t.Fence == nil || len(ids) == 0 {
		return ids, nil
	}
	// The claim has committed: see it through even when the caller is
	// stopping, so that its rows go out or back rather than wait for the
	// lease to run out.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RecordTimeout)
	defer cancel()
	kept := ids
	_, err := t.Fence.Settle(ctx, func(ctx context.Context, q migrator.Execer) error {
		var err error
		kept, err = t.held(ctx, q, owner, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: confirming a claim: %w", t.Pkg, err)
	}
	return kept, nil
}

// NextDue returns the earliest time a row falls due: a pending row's
// next_attempt_at or a sending row's lease expiry. false: none.
func (t Table) NextDue(ctx context.Context) (time.Time, bool, error) {
	var best time.Time
	found := false
	for _, s := range []struct{ status, column string }{
		{StatusPending, "next_attempt_at"},
		{StatusSending, "lease_expires_at"},
	} {
		var at *time.Time
		q := "SELECT MIN(" + s.column + ") FROM " + t.Name + " WHERE status = ?"
		if err := t.DB.QueryRowContext(ctx, q, s.status).Scan(migrator.ScanNullTime(&at)); err != nil {
			return time.Time{}, false, fmt.Errorf("%s: finding the next due %s: %w", t.Pkg, t.Item, err)
		}
		if at != nil && (!found || at.Before(best)) {
			best, found = *at, true
		}
	}
	return best, found, nil
}
