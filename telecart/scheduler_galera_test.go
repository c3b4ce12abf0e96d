package telecart_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telecart"
)

// schedEachRunOnce runs one "@every 2s" task on a scheduler per database
// of dbs (replicas, each with its own handle) for about three periods,
// and checks that each scheduled run happened on one replica only: runs
// are a period apart, never two for one time, and the other replicas
// recorded skips.
func schedEachRunOnce(t *testing.T, dbs []migrator.DB) {
	const period = 2 * time.Second
	var mu sync.Mutex
	var starts []time.Time
	var by []int
	replicas := make([]*telecart.Scheduler, len(dbs))
	for i, db := range dbs {
		s := schedNew(t, db)
		schedMustRegister(t, s, telecart.Task{Name: "purge", Schedule: "@every 2s", Enabled: true, Run: func(context.Context) error {
			mu.Lock()
			starts, by = append(starts, time.Now()), append(by, i)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond) // done long before another replica's cron fires
			return nil
		}})
		replicas[i] = s
	}
	for _, s := range replicas {
		schedMustStart(t, s)
	}
	time.Sleep(3*period + period/2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var skips int64
	var counts []string
	for i, s := range replicas {
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		st := schedStatus(t, s, "purge")
		skips += st.Skips
		counts = append(counts, fmt.Sprintf("replica %d: %d runs, %d skips (last %q)", i+1, st.Runs, st.Skips, st.LastSkipped))
		if st.Failures != 0 {
			t.Errorf("replica %d recorded a failure: %+v", i+1, st)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d runs by replicas %v; %v", len(starts), by, counts)
	if len(starts) < 2 || len(starts) > 4 {
		t.Fatalf("%d runs in %s of an @every 2s task; want 3 (one per scheduled time)", len(starts), 3*period+period/2)
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < period/2 {
			t.Errorf("runs %d and %d started %s apart: one scheduled time ran twice", i, i+1, gap.Round(time.Millisecond))
		}
	}
	if skips == 0 {
		t.Error("no replica skipped a run; the replicas did not compete")
	}
}

// TestSchedulerEachRunOnce proves that two replicas on one database run
// each scheduled run of a task once between them.
func TestSchedulerEachRunOnce(t *testing.T) {
	t.Parallel()
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			dsn := migratortest.FreshDSN(t, d)
			schedEachRunOnce(t, []migrator.DB{migratortest.MustOpenDSN(t, d, dsn), migratortest.MustOpenDSN(t, d, dsn)})
		})
	}
}

// TestGaleraScheduler proves it for three replicas on the three nodes of a
// Galera cluster, where GET_LOCK would lock one node only.
func TestGaleraScheduler(t *testing.T) {
	t.Parallel()
	schedEachRunOnce(t, migratortest.MustOpenGalera(t))
}
