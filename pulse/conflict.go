package pulse

import (
	"context"

	"github.com/telecart-go/telecart/migrator"
)

// ConflictsRetried returns how many times since New a transaction of
// Pulse's own (a claim, the record of a delivery, Track's insert) lost to
// a concurrent one and was run again: a deadlock or lock wait timeout
// between senders, or on a Galera cluster a certification failure, when
// senders on two nodes claimed the same events (row locks are node-local
// there). The losing transaction never committed, so nothing was claimed
// or recorded twice. A host's transaction that holds a TrackTx is the
// host's to run again. A count that climbs fast says the senders fight
// over too few events (lower Concurrency or BatchSize).
func (p *Pulse) ConflictsRetried() int64 { return p.conflicts.Load() }

// retryConflicts runs fn, one short transaction, again while it loses to a
// concurrent one, with jitter, counting each retry.
func (p *Pulse) retryConflicts(ctx context.Context, fn func(ctx context.Context) error) error {
	return migrator.ConflictRetry{OnConflict: func(error) { p.conflicts.Add(1) }}.Do(ctx, fn)
}
