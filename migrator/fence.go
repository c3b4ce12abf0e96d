package migrator

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"time"
)

// SettleDefault is how long a Fence waits on a Galera cluster before it
// confirms a write: far longer than a claim's short transaction takes from
// its read to its commit, which is the window in which a stale write from
// another node can still land.
const SettleDefault = 100 * time.Millisecond

// Fence confirms, on a MariaDB Galera cluster, a write that a transaction
// decided from what it read: a claim of queue rows, the take-over of a lock.
//
// Galera does not keep such a write from being lost. Two nodes can read the
// same row as free, both update it and both commit: row locks are local to
// a node, certification only fails the later commit when the earlier one
// had not yet reached the later node, and the window between is not always
// closed (a node applying a replicated write can abort a local transaction
// holding the row and replay it). The cluster still applies every write in
// one total order, so the row ends up the same everywhere: the last writer
// holds it. A Fence makes that the decision: after its commit a writer waits
// Settle, longer than a racing transaction can take to commit, and then
// reads the row back with a causal read (wsrep_sync_wait), which first
// applies every write the cluster committed before it. The writer keeps
// what it still holds; a writer overwritten meanwhile sees that and lets go.
//
// Elsewhere (one MySQL or MariaDB server, SQLite) row locks already decide,
// and a Fence does nothing. It finds out which it is on first use, from
// wsrep_on. Safe for concurrent use.
type Fence struct {
	db     DB
	settle time.Duration

	mu      sync.Mutex
	checked bool
	on      bool
}

// NewFence returns a Fence over db that waits settle (SettleDefault when
// zero) on a Galera cluster.
func NewFence(db DB, settle time.Duration) *Fence {
	if settle <= 0 {
		settle = SettleDefault
	}
	return &Fence{db: db, settle: settle}
}

// On reports whether db is a node of a Galera cluster with replication on,
// checking once.
func (f *Fence) On(ctx context.Context) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.checked {
		return f.on, nil
	}
	on, err := OnGalera(ctx, f.db)
	if err != nil {
		return false, err
	}
	f.on, f.checked = on, true
	return on, nil
}

// Delay is how long Settle waits before it confirms: the settle time on a
// Galera cluster, zero elsewhere. A claim that hands out times (a paced
// outbox's send slots) starts them after it.
func (f *Fence) Delay(ctx context.Context) (time.Duration, error) {
	on, err := f.On(ctx)
	if err != nil || !on {
		return 0, err
	}
	return f.settle, nil
}

// Settle confirms a committed write: on a Galera cluster it waits the
// settle time, then runs confirm on one connection whose reads each see
// every write committed anywhere in the cluster before them, and reports
// true. Elsewhere it runs nothing and reports false: the write stands.
func (f *Fence) Settle(ctx context.Context, confirm func(ctx context.Context, q Execer) error) (bool, error) {
	on, err := f.On(ctx)
	if err != nil || !on {
		return false, err
	}
	t := time.NewTimer(f.settle)
	select {
	case <-ctx.Done():
		t.Stop()
		return true, ctx.Err()
	case <-t.C:
	}
	return true, ReadCausal(ctx, f.db, confirm)
}

// OnGalera reports whether db is a node of a Galera cluster with
// replication on (wsrep_on, and a wsrep_provider). SQLite, MySQL and
// MariaDB without Galera report false.
func OnGalera(ctx context.Context, db DB) (bool, error) {
	if db.Dialect != MySQL {
		return false, nil
	}
	var on sql.NullInt64
	var provider sql.NullString
	err := db.QueryRowContext(ctx, "SELECT @@wsrep_on, @@wsrep_provider").Scan(&on, &provider)
	if err != nil && strings.Contains(err.Error(), "Error 1193") { // unknown system variable: no wsrep in this server
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("migrator: checking for a Galera cluster: %w", err)
	}
	// wsrep_on without a provider replicates nothing: one server.
	return on.Valid && on.Int64 == 1 && provider.String != "" && provider.String != "none", nil
}

// ReadCausal runs fn on one connection of db with wsrep_sync_wait = 1, so
// that each of its reads waits until this node has applied every write the
// cluster committed before the read began. The session is set back before
// the connection returns to the pool; a connection that cannot be set back
// is discarded. Only for Galera nodes (see OnGalera).
func ReadCausal(ctx context.Context, db DB, fn func(ctx context.Context, q Execer) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrator: causal read: %w", err)
	}
	defer conn.Close()
	var was int64
	if err := conn.QueryRowContext(ctx, "SELECT @@SESSION.wsrep_sync_wait").Scan(&was); err != nil {
		return fmt.Errorf("migrator: causal read: %w", err)
	}
	if was&1 == 0 {
		if _, err := conn.ExecContext(ctx, "SET SESSION wsrep_sync_wait = ?", was|1); err != nil {
			return fmt.Errorf("migrator: causal read: %w", err)
		}
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if _, err := conn.ExecContext(rctx, "SET SESSION wsrep_sync_wait = ?", was); err != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // never pool a changed session
			}
		}()
	}
	return fn(ctx, conn)
}
