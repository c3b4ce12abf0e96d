package migrator_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
)

func TestFenceOffTheCluster(t *testing.T) {
	// Ensure a Fence on one server (SQLite, MariaDB without Galera) does
	// nothing: it neither waits nor runs the confirmation, and the write
	// stands.
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			db := migratortest.MustOpenEmpty(t, d)
			ctx := context.Background()
			on, err := migrator.OnGalera(ctx, db)
			if err != nil || on {
				t.Fatalf("OnGalera = %v, %v; want false, nil", on, err)
			}
			f := migrator.NewFence(db, time.Second)
			start := time.Now()
			ran, err := f.Settle(ctx, func(context.Context, migrator.Execer) error {
				t.Error("the confirmation ran off a cluster")
				return nil
			})
			if err != nil || ran {
				t.Fatalf("Settle = %v, %v; want false, nil", ran, err)
			}
			if took := time.Since(start); took > 500*time.Millisecond {
				t.Errorf("Settle took %s off a cluster; want no wait", took)
			}
		})
	}
}

func TestGaleraFence(t *testing.T) {
	// Ensure on a Galera node a Fence waits its settle time, then confirms
	// with causal reads (wsrep_sync_wait on), and gives the connection back
	// to the pool as it was.
	dbs := migratortest.MustOpenGalera(t)
	db := dbs[0]
	db.SetMaxOpenConns(1) // the confirmation's connection is the next one used
	ctx := context.Background()
	f := migrator.NewFence(db, 50*time.Millisecond)
	if on, err := f.On(ctx); err != nil || !on {
		t.Fatalf("On = %v, %v on a Galera node; want true, nil", on, err)
	}
	var before, inside, after int64
	if err := db.QueryRowContext(ctx, "SELECT @@SESSION.wsrep_sync_wait").Scan(&before); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ran, err := f.Settle(ctx, func(ctx context.Context, q migrator.Execer) error {
		return q.QueryRowContext(ctx, "SELECT @@SESSION.wsrep_sync_wait").Scan(&inside)
	})
	took := time.Since(start)
	if err != nil || !ran {
		t.Fatalf("Settle = %v, %v; want true, nil", ran, err)
	}
	if took < 50*time.Millisecond {
		t.Errorf("Settle took %s; want at least its settle time, 50ms", took)
	}
	if err := db.QueryRowContext(ctx, "SELECT @@SESSION.wsrep_sync_wait").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if inside&1 == 0 || after != before {
		t.Errorf("wsrep_sync_wait %d before, %d while confirming, %d after; want bit 1 set while confirming and the session restored", before, inside, after)
	}
}

func TestGaleraFenceLastWriterHolds(t *testing.T) {
	// Ensure that when takers on every node race for one free row (read it
	// free, write their name, commit) each round leaves exactly one taker
	// that the Fence confirms, even in rounds where the cluster let more
	// than one taker commit: the lost update a Fence exists for.
	dbs := migratortest.MustOpenGalera(t)
	ctx := context.Background()
	if _, err := dbs[0].ExecContext(ctx, "CREATE TABLE fence_race (id INT PRIMARY KEY, owner VARCHAR(64) NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := dbs[0].ExecContext(ctx, "INSERT INTO fence_race VALUES (1, '')"); err != nil {
		t.Fatal(err)
	}
	for _, db := range dbs {
		waitFor(t, db, "SELECT COUNT(*) FROM fence_race WHERE owner = ''", 1)
	}
	fences := make([]*migrator.Fence, len(dbs))
	for i, db := range dbs {
		fences[i] = migrator.NewFence(db, 50*time.Millisecond)
	}
	const rounds, perNode = 30, 2
	doubled := 0
	for round := range rounds {
		var mu sync.Mutex
		var committed, confirmed []string
		var wg sync.WaitGroup
		startLine := make(chan struct{})
		for i, db := range dbs {
			for j := range perNode {
				name := fmt.Sprintf("r%d-n%d-%d", round, i+1, j)
				wg.Go(func() {
					<-startLine
					took, err := takeFree(ctx, db, name)
					if err != nil || !took {
						return
					}
					mu.Lock()
					committed = append(committed, name)
					mu.Unlock()
					var owner string
					if _, err := fences[i].Settle(ctx, func(ctx context.Context, q migrator.Execer) error {
						return q.QueryRowContext(ctx, "SELECT owner FROM fence_race WHERE id = 1").Scan(&owner)
					}); err != nil {
						t.Error(err)
						return
					}
					if owner == name {
						mu.Lock()
						confirmed = append(confirmed, name)
						mu.Unlock()
					}
				})
			}
		}
		close(startLine)
		wg.Wait()
		if len(committed) > 1 {
			doubled++
		}
		if len(committed) > 0 && len(confirmed) != 1 {
			t.Fatalf("round %d: takers %v committed, %v confirmed; want exactly one confirmed", round, committed, confirmed)
		}
		if _, err := dbs[0].ExecContext(ctx, "UPDATE fence_race SET owner = '' WHERE id = 1"); err != nil {
			t.Fatal(err)
		}
		for _, db := range dbs {
			waitFor(t, db, "SELECT COUNT(*) FROM fence_race WHERE owner = ''", 1)
		}
	}
	t.Logf("%d rounds of %d takers on %d nodes; in %d rounds more than one taker committed, and the Fence kept one", rounds, perNode*len(dbs), len(dbs), doubled)
}

// takeFree takes row 1 of fence_race for name when it reads it free, in one
// transaction; false when it was not free or the commit lost a conflict.
func takeFree(ctx context.Context, db migrator.DB, name string) (bool, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var owner string
	if err := tx.QueryRowContext(ctx, "SELECT owner FROM fence_race WHERE id = 1 FOR UPDATE").Scan(&owner); err != nil {
		return false, nil // aborted by a replicated write: lost
	}
	if owner != "" {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE fence_race SET owner = ? WHERE id = 1", name); err != nil {
		return false, nil
	}
	return tx.Commit() == nil, nil
}

// waitFor polls db until query counts want rows.
func waitFor(t *testing.T, db migrator.DB, query string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := db.QueryRowContext(context.Background(), query).Scan(&n); err == nil && n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reach %d in 10s", query, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
