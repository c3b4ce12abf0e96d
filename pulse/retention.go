package pulse

import (
	"context"
	"errors"
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"
)

// Defaults of retention: how long delivered and failed events stay in the
// outbox, and how many rows one DELETE removes.
const (
	SentRetentionDefault = 30 * 24 * time.Hour
	// FailedRetentionDefault is longer, so that an admin back from leave
	// can still requeue what failed.
	FailedRetentionDefault = 90 * 24 * time.Hour
	PurgeBatchDefault      = 500
	// purgeBatchMax keeps one DELETE (and its row locks) short.
	purgeBatchMax = 10000
)

// PurgeSent deletes sent events whose sent_at is more than olderThan before
// now (Config.Now), batch rows (PurgeBatchDefault when 0, at most 10000)
// per statement, until none is left; it returns how many it deleted.
// Pending, sending and failed events are never touched, nor events the
// campaign funnel has not folded yet (Campaigns.Fold): the funnel outlives
// the outbox. On an error it
// stops and returns what it deleted so far.
func (p *Pulse) PurgeSent(ctx context.Context, olderThan time.Duration, batch int) (int64, error) {
	if olderThan <= 0 {
		return 0, fmt.Errorf("pulse: PurgeSent: olderThan must be positive, got %s", olderThan)
	}
	cutoff := p.db.Dialect.EncodeTime(p.cfg.Now().Add(-olderThan))
	// sent_at is not indexed, but an event is sent after it was created:
	// created_at < cutoff holds for every row to delete, and lets the
	// (status, created_at) index find them.
	cond := sq.And{sq.Eq{"status": StatusSent, "folded": 1}, sq.Lt{"created_at": cutoff}, sq.Lt{"sent_at": cutoff}}
	return p.purge(ctx, StatusSent, cond, batch)
}

// PurgeFailed deletes failed events that failed more than olderThan before
// now, as PurgeSent does. The outbox keeps no failure time: a failed row
// keeps the next_attempt_at of its final attempt, which is when it failed
// give or take a claim's delay, and which a requeue resets.
func (p *Pulse) PurgeFailed(ctx context.Context, olderThan time.Duration, batch int) (int64, error) {
	if olderThan <= 0 {
		return 0, fmt.Errorf("pulse: PurgeFailed: olderThan must be positive, got %s", olderThan)
	}
	cutoff := p.db.Dialect.EncodeTime(p.cfg.Now().Add(-olderThan))
	cond := sq.And{sq.Eq{"status": StatusFailed, "folded": 1}, sq.Lt{"next_attempt_at": cutoff}}
	return p.purge(ctx, StatusFailed, cond, batch)
}

// purge deletes the rows matching cond in batches. MySQL refuses LIMIT in
// an IN subquery, so each round selects ids, then deletes them by id
// (checking cond again, for a row requeued in between).
func (p *Pulse) purge(ctx context.Context, status string, cond sq.Sqlizer, batch int) (int64, error) {
	if batch <= 0 {
		batch = PurgeBatchDefault
	}
	batch = min(batch, purgeBatchMax)
	b := p.db.Dialect.Builder()
	sel, selArgs, err := b.Select("id").From(p.table).Where(cond).Limit(uint64(batch)).ToSql()
	if err != nil {
		return 0, err
	}
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("pulse: purging %s events: %w", status, err)
		}
		ids, err := p.selectIDs(ctx, sel, selArgs...)
		if err != nil {
			return total, fmt.Errorf("pulse: purging %s events: %w", status, err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		res, err := b.Delete(p.table).Where(sq.Eq{"id": ids}).Where(cond).RunWith(p.db.DB).ExecContext(ctx)
		if err != nil {
			return total, fmt.Errorf("pulse: purging %s events: %w", status, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("pulse: purging %s events: %w", status, err)
		}
		total += n
		if len(ids) < batch {
			return total, nil
		}
	}
}

// RetentionTask returns the scheduled job that purges sent events older
// than sent and failed events older than failed, PurgeBatchDefault rows at
// a time. A zero duration means its default (SentRetentionDefault,
// FailedRetentionDefault); a negative one keeps those events forever.
// Pending and sending events are never purged, nor events not folded into
// the campaign funnel yet: run Campaigns.Fold before it (telecart's
// pulse_retention task does). The stats cache is not
// told: its counts catch up within its TTL.
func (p *Pulse) RetentionTask(sent, failed time.Duration) func(ctx context.Context) error {
	if sent == 0 {
		sent = SentRetentionDefault
	}
	if failed == 0 {
		failed = FailedRetentionDefault
	}
	return func(ctx context.Context) error {
		var errs []error
		for _, r := range []struct {
			status string
			keep   time.Duration
			purge  func(context.Context, time.Duration, int) (int64, error)
		}{
			{StatusSent, sent, p.PurgeSent},
			{StatusFailed, failed, p.PurgeFailed},
		} {
			if r.keep < 0 {
				continue
			}
			n, err := r.purge(ctx, r.keep, PurgeBatchDefault)
			if n > 0 {
				p.cfg.Logger.InfoContext(ctx, "pulse: purged old events", "status", r.status, "events", n, "older_than", r.keep)
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}
