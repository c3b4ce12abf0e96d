package migrator_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
)

func TestIsConflict(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("Error 1213 (40001): Deadlock found when trying to get lock; try restarting transaction"), true},
		{fmt.Errorf("pulse: claiming a batch: %w", errors.New("Error 1213 (40001): Deadlock found")), true},
		{errors.New("Error 1205 (HY000): Lock wait timeout exceeded; try restarting transaction"), true},
		{errors.New("Error 1020 (HY000): Record has changed since last read in table 't'"), true},
		{errors.New("database is locked (5) (SQLITE_BUSY)"), true},
		{errors.New("Error 1062 (23000): Duplicate entry 'x' for key 'k'"), false},
		{errors.New("Error 12130: not a conflict"), false},
		{errors.New("invalid connection"), false},
	} {
		if got := migrator.IsConflict(tc.err); got != tc.want {
			t.Errorf("IsConflict(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestConflictRetry(t *testing.T) {
	ctx := context.Background()
	deadlock := errors.New("Error 1213 (40001): Deadlock found when trying to get lock; try restarting transaction")

	t.Run("RetriesConflicts", func(t *testing.T) {
		// Ensure conflicts are retried and counted until fn succeeds.
		calls, counted := 0, 0
		err := migrator.ConflictRetry{Base: time.Millisecond, OnConflict: func(error) { counted++ }}.Do(ctx, func(context.Context) error {
			if calls++; calls < 4 {
				return deadlock
			}
			return nil
		})
		if err != nil || calls != 4 || counted != 3 {
			t.Fatalf("Do = %v after %d calls, %d counted; want nil after 4, 3 counted", err, calls, counted)
		}
	})

	t.Run("OtherErrorsAtOnce", func(t *testing.T) {
		// Ensure an error that is not a conflict is returned at once.
		calls := 0
		other := errors.New("Error 1062 (23000): Duplicate entry")
		err := migrator.ConflictRetry{}.Do(ctx, func(context.Context) error { calls++; return other })
		if !errors.Is(err, other) || calls != 1 {
			t.Fatalf("Do = %v after %d calls; want the error after 1", err, calls)
		}
	})

	t.Run("GivesUp", func(t *testing.T) {
		// Ensure the attempts are bounded, and the last conflict returned.
		calls, counted := 0, 0
		err := migrator.ConflictRetry{Attempts: 3, Base: time.Millisecond, OnConflict: func(error) { counted++ }}.Do(ctx,
			func(context.Context) error { calls++; return deadlock })
		if !errors.Is(err, deadlock) || calls != 3 || counted != 2 {
			t.Fatalf("Do = %v after %d calls, %d counted; want the conflict after 3, 2 counted", err, calls, counted)
		}
	})

	t.Run("Context", func(t *testing.T) {
		// Ensure a context that ends stops the waiting, with the conflict.
		cctx, cancel := context.WithCancel(ctx)
		calls := 0
		err := migrator.ConflictRetry{Base: time.Hour, Max: time.Hour}.Do(cctx, func(context.Context) error {
			calls++
			cancel()
			return deadlock
		})
		if !errors.Is(err, deadlock) || calls != 1 {
			t.Fatalf("Do = %v after %d calls; want the conflict after 1", err, calls)
		}
	})
}

// TestIsConflictDeadlock makes a real deadlock between two transactions and
// checks that IsConflict knows the driver's error, and that ConflictRetry
// carries the loser through.
func TestIsConflictDeadlock(t *testing.T) {
	db := migratortest.MustOpenEmpty(t, migrator.MySQL)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE dl (id INT PRIMARY KEY, n INT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO dl (id, n) VALUES (1, 0), (2, 0)"); err != nil {
		t.Fatal(err)
	}
	// Each transaction locks one row, then waits on the other's.
	locked := make(chan struct{}, 2)
	proceed := make(chan struct{})
	tx := func(first, second int) func(context.Context) error {
		try := 0
		return func(ctx context.Context) error {
			try++
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, "UPDATE dl SET n = n + 1 WHERE id = ?", first); err != nil {
				return err
			}
			if try == 1 {
				locked <- struct{}{}
				<-proceed
			}
			if _, err := tx.ExecContext(ctx, "UPDATE dl SET n = n + 1 WHERE id = ?", second); err != nil {
				return err
			}
			return tx.Commit()
		}
	}
	var conflicts []error
	errs := make(chan error, 2)
	retry := migrator.ConflictRetry{OnConflict: func(err error) { conflicts = append(conflicts, err) }}
	go func() { errs <- retry.Do(ctx, tx(1, 2)) }()
	<-locked
	go func() { errs <- migrator.ConflictRetry{Attempts: 1}.Do(ctx, tx(2, 1)) }()
	<-locked
	close(proceed)
	e1, e2 := <-errs, <-errs
	// One of the two lost the deadlock: with Attempts 1 it fails with a
	// conflict, or the retried one succeeds after a counted conflict.
	switch {
	case e1 == nil && e2 == nil && len(conflicts) == 1 && migrator.IsConflict(conflicts[0]):
	case (e1 == nil) != (e2 == nil) && migrator.IsConflict(errors.Join(e1, e2)) && len(conflicts) == 0:
	default:
		t.Fatalf("results %v and %v, conflicts retried %v; want one deadlock, known as a conflict", e1, e2, conflicts)
	}
}
