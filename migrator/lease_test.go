package migrator_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
)

// mustLocker returns a Locker over db with cfg, or fails the test.
func mustLocker(tb testing.TB, db migrator.DB, cfg migrator.LockerConfig) *migrator.Locker {
	tb.Helper()
	l, err := migrator.NewLocker(db, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// mustTry takes name with l or fails the test; it reports whether it got it.
func mustTry(tb testing.TB, l *migrator.Locker, name string) *migrator.Lease {
	tb.Helper()
	s, ok, err := l.TryAcquire(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	if !ok {
		return nil
	}
	tb.Cleanup(func() { _ = s.Release(context.Background()) })
	return s
}

func TestLocker(t *testing.T) {
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			dsn := migratortest.FreshDSN(t, d)
			open := func() migrator.DB { return migratortest.MustOpenDSN(t, d, dsn) }
			ctx := context.Background()

			t.Run("OneHolder", func(t *testing.T) {
				// Ensure a held lock is refused to another holder (another
				// handle, as another process), and is free again after
				// Release.
				a := mustLocker(t, open(), migrator.LockerConfig{Owner: "a"})
				b := mustLocker(t, open(), migrator.LockerConfig{Owner: "b"})
				sa := mustTry(t, a, "one")
				if sa == nil {
					t.Fatal("a did not get a free lock")
				}
				if sb := mustTry(t, b, "one"); sb != nil {
					t.Fatalf("b got the lock a holds (owner %s)", sb.Owner())
				}
				// Another Locker in the same process is another holder too.
				if sa2 := mustTry(t, mustLocker(t, open(), migrator.LockerConfig{Owner: "a"}), "one"); sa2 != nil {
					t.Fatal("a second holder with the same Owner got the lock")
				}
				if err := sa.Release(ctx); err != nil {
					t.Fatal(err)
				}
				if err := sa.Release(ctx); err != nil {
					t.Fatalf("second Release: %v", err)
				}
				if sb := mustTry(t, b, "one"); sb == nil {
					t.Fatal("b did not get the lock a released")
				}
				if sa.Err() != nil {
					t.Fatalf("a released lease reports %v", sa.Err())
				}
			})

			t.Run("ExpiredTakeover", func(t *testing.T) {
				// Ensure a lease that ran out (its holder stopped renewing, as
				// a dead process does) is taken over, and that the old holder
				// learns it lost the lock: Lost, Err and its Context.
				past := func() time.Time { return time.Now().Add(-time.Hour) }
				a := mustLocker(t, open(), migrator.LockerConfig{Owner: "a", TTL: 300 * time.Millisecond, Now: past})
				b := mustLocker(t, open(), migrator.LockerConfig{Owner: "b"})
				sa := mustTry(t, a, "expire")
				if sa == nil {
					t.Fatal("a did not get a free lock")
				}
				work, cancel := sa.Context(ctx)
				defer cancel()
				sb := mustTry(t, b, "expire")
				if sb == nil {
					t.Fatal("b did not take over a lease that ran out an hour ago")
				}
				select {
				case <-sa.Lost():
				case <-time.After(5 * time.Second):
					t.Fatal("a never learned it lost the lock")
				}
				if !errors.Is(sa.Err(), migrator.ErrLeaseLost) {
					t.Errorf("a.Err() = %v, want ErrLeaseLost", sa.Err())
				}
				<-work.Done()
				if !errors.Is(context.Cause(work), migrator.ErrLeaseLost) {
					t.Errorf("the cause of a's work context = %v, want ErrLeaseLost", context.Cause(work))
				}
				// a's Release must not free b's lock.
				if err := sa.Release(ctx); err != nil {
					t.Fatal(err)
				}
				if sc := mustTry(t, mustLocker(t, open(), migrator.LockerConfig{}), "expire"); sc != nil {
					t.Fatal("a's Release after losing the lock freed b's")
				}
				if sb.Err() != nil {
					t.Fatalf("b's lease reports %v", sb.Err())
				}
			})

			t.Run("Renewed", func(t *testing.T) {
				// Ensure a holder keeps its lock past its TTL by renewing it.
				a := mustLocker(t, open(), migrator.LockerConfig{Owner: "a", TTL: 300 * time.Millisecond})
				b := mustLocker(t, open(), migrator.LockerConfig{Owner: "b", TTL: 300 * time.Millisecond})
				sa := mustTry(t, a, "renew")
				if sa == nil {
					t.Fatal("a did not get a free lock")
				}
				time.Sleep(900 * time.Millisecond)
				if sb := mustTry(t, b, "renew"); sb != nil {
					t.Fatal("b took over a lease that was being renewed")
				}
				if sa.Err() != nil {
					t.Fatalf("a's lease reports %v", sa.Err())
				}
			})

			t.Run("Note", func(t *testing.T) {
				// Ensure a note outlives its holder and reaches the next one.
				a := mustLocker(t, open(), migrator.LockerConfig{})
				sa := mustTry(t, a, "note")
				if sa.Note() != "" {
					t.Fatalf("fresh lock's note = %q", sa.Note())
				}
				for range 2 { // the same note twice changes no row on MySQL
					if err := sa.SetNote(ctx, "2026-12-04T10:00:00Z"); err != nil {
						t.Fatal(err)
					}
				}
				if err := sa.Release(ctx); err != nil {
					t.Fatal(err)
				}
				sb := mustTry(t, a, "note")
				if sb.Note() != "2026-12-04T10:00:00Z" {
					t.Fatalf("next holder's note = %q", sb.Note())
				}
			})

			t.Run("AcquireWaits", func(t *testing.T) {
				// Ensure Acquire waits for the holder's Release, and gives up
				// with ErrLocked after its wait.
				a := mustLocker(t, open(), migrator.LockerConfig{Owner: "a"})
				b := mustLocker(t, open(), migrator.LockerConfig{Owner: "b", TTL: time.Second})
				sa := mustTry(t, a, "wait")
				if _, err := b.Acquire(ctx, "wait", 200*time.Millisecond); !errors.Is(err, migrator.ErrLocked) {
					t.Fatalf("Acquire of a held lock = %v, want ErrLocked", err)
				}
				time.AfterFunc(300*time.Millisecond, func() { _ = sa.Release(ctx) })
				start := time.Now()
				sb, err := b.Acquire(ctx, "wait", 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				defer sb.Release(ctx)
				if took := time.Since(start); took < 250*time.Millisecond {
					t.Fatalf("Acquire got a held lock after %s", took)
				}
			})

			t.Run("Contention", func(t *testing.T) {
				// Ensure holders racing for one lock from their own handles
				// never hold it at once.
				var holding, most, wins atomic.Int64
				var wg sync.WaitGroup
				deadline := time.Now().Add(time.Second)
				for i := range 4 {
					l := mustLocker(t, open(), migrator.LockerConfig{Owner: fmt.Sprint("racer-", i)})
					wg.Go(func() {
						for time.Now().Before(deadline) {
							s, ok, err := l.TryAcquire(ctx, "race")
							if err != nil {
								t.Error(err)
								return
							}
							if !ok {
								continue
							}
							wins.Add(1)
							n := holding.Add(1)
							for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
							}
							time.Sleep(5 * time.Millisecond)
							holding.Add(-1)
							if err := s.Release(ctx); err != nil {
								t.Error(err)
							}
						}
					})
				}
				wg.Wait()
				if most.Load() != 1 || wins.Load() < 2 {
					t.Fatalf("at most %d holders at once over %d acquisitions; want 1 and at least 2", most.Load(), wins.Load())
				}
			})
		})
	}
}

func TestLockerConfig(t *testing.T) {
	db := migratortest.MustOpenEmpty(t, migrator.SQLite)
	for _, tc := range []struct {
		name string
		db   migrator.DB
		cfg  migrator.LockerConfig
	}{
		{"NilDB", migrator.DB{Dialect: migrator.SQLite}, migrator.LockerConfig{}},
		{"BadPrefix", migrator.DB{DB: db.DB, Dialect: migrator.SQLite, Prefix: "a-b"}, migrator.LockerConfig{}},
		{"NegativeTTL", db, migrator.LockerConfig{TTL: -time.Second}},
		{"ShortTTL", db, migrator.LockerConfig{TTL: time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := migrator.NewLocker(tc.db, tc.cfg); err == nil {
				t.Fatal("NewLocker accepted it")
			}
		})
	}
	l := mustLocker(t, db, migrator.LockerConfig{})
	if _, _, err := l.TryAcquire(context.Background(), ""); err == nil {
		t.Fatal("TryAcquire accepted an empty name")
	}
}

// TestGaleraLocker proves the lock on the nodes of a Galera cluster, where
// GET_LOCK and row locks are node-local: holders racing from every node
// never hold it at once, and more than one node wins it over the run.
func TestGaleraLocker(t *testing.T) {
	dbs := migratortest.MustOpenGalera(t)
	ctx := context.Background()
	var holding, most atomic.Int64
	wins := make([]atomic.Int64, len(dbs))
	var wg sync.WaitGroup
	deadline := time.Now().Add(2 * time.Second)
	for i, db := range dbs {
		l := mustLocker(t, db, migrator.LockerConfig{Owner: fmt.Sprint("node-", i+1)})
		wg.Go(func() {
			for time.Now().Before(deadline) {
				s, ok, err := l.TryAcquire(ctx, "race")
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					continue
				}
				wins[i].Add(1)
				n := holding.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(5 * time.Millisecond)
				holding.Add(-1)
				if err := s.Release(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	nodes := 0
	var each []int64
	for i := range wins {
		each = append(each, wins[i].Load())
		if wins[i].Load() > 0 {
			nodes++
		}
	}
	t.Logf("acquisitions per node %v", each)
	if most.Load() != 1 || nodes < 2 {
		t.Fatalf("at most %d holders at once; acquisitions per node %v; want 1 holder at a time, won on 2 nodes or more", most.Load(), each)
	}
}
