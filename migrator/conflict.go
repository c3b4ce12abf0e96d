package migrator

import (
	"context"
	"math/rand/v2"
	"regexp"
	"time"
)

// Defaults of ConflictRetry.
const (
	ConflictAttemptsDefault = 10
	ConflictBaseDefault     = 5 * time.Millisecond
	ConflictMaxDefault      = 500 * time.Millisecond
)

// mysqlConflict matches the driver's "Error 1213 (40001): …" for the codes
// IsConflict retries. The text, not the driver's type, so that this package
// links no driver (a host on SQLite never compiles the MySQL one).
var mysqlConflict = regexp.MustCompile(`\bError (1213|1205|1020)\b`)

// IsConflict reports whether err is a transaction that lost to a
// concurrent one and may simply be run again: MySQL/MariaDB 1213 (a
// deadlock, which is also how a Galera node reports a certification
// failure or a transaction aborted by a replicated one), 1205 (a lock wait
// timeout), 1020 (the record changed since it was read), and SQLite's
// SQLITE_BUSY once its busy timeout has passed. The losing transaction was
// rolled back: none of its writes happened.
func IsConflict(err error) bool {
	if err == nil {
		return false
	}
	return mysqlConflict.MatchString(err.Error()) || isBusy(err)
}

// ConflictRetry runs a short transaction again while it fails with a
// conflict (IsConflict), waiting a growing, jittered delay between
// attempts, so that the transactions that collided do not collide again
// in step. The zero value is ready to use.
type ConflictRetry struct {
	// Attempts bounds the runs, the first included. Defaults to
	// ConflictAttemptsDefault (10).
	Attempts int
	// Base is the delay before the first retry; it doubles with every
	// retry, up to Max, and the wait is a random time between half of it
	// and all of it. Default to ConflictBaseDefault (5ms) and
	// ConflictMaxDefault (500ms).
	Base, Max time.Duration
	// OnConflict, when set, is called with each conflict that is retried
	// (not the last one, which Do returns), to count them.
	OnConflict func(err error)
}

// Do calls fn until it returns nil or an error that is not a conflict,
// the attempts run out (it returns the last conflict) or ctx ends (it
// returns the last conflict, not ctx's error, so that callers see why).
// fn must be a whole transaction: begun, and committed or rolled back,
// within the call.
func (r ConflictRetry) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	attempts, base, ceiling := r.Attempts, r.Base, r.Max
	if attempts <= 0 {
		attempts = ConflictAttemptsDefault
	}
	if base <= 0 {
		base = ConflictBaseDefault
	}
	if ceiling <= 0 {
		ceiling = ConflictMaxDefault
	}
	delay := base
	for try := 1; ; try++ {
		err := fn(ctx)
		if err == nil || !IsConflict(err) || try >= attempts {
			return err
		}
		if r.OnConflict != nil {
			r.OnConflict(err)
		}
		wait := delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(delay*2, ceiling)
	}
}
