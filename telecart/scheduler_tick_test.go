package telecart

import (
	"context"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
)

// Ensure a scheduled time run by one replica is skipped by another whose
// cron fires for it later (SkipDone), whatever the lock's timing; the next
// scheduled time runs, and RunNow is not held back by the note. This is
// white-box: which time a cron run is for cannot be chosen from outside.
func TestSchedulerTickRunsOnce(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		runs := 0
		task := Task{Name: "purge", Schedule: "@hourly", Enabled: true, Run: func(context.Context) error { runs++; return nil }}
		var replicas [2]*Scheduler
		for i := range replicas {
			s, err := NewScheduler(SchedulerConfig{DB: db})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Register(task); err != nil {
				t.Fatal(err)
			}
			replicas[i] = s
		}
		a, b := replicas[0].tasks["purge"], replicas[1].tasks["purge"]
		tick := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
		if err := replicas[0].run(ctx, a, tick); err != nil || runs != 1 {
			t.Fatalf("first replica's run = %v, %d runs", err, runs)
		}
		if err := replicas[1].run(ctx, b, tick); err != nil || runs != 1 {
			t.Fatalf("second replica's run of the same time = %v, %d runs; want a skip", err, runs)
		}
		if st := b.status; st.LastSkipped != SkipDone || st.Skips != 1 {
			t.Fatalf("second replica's status %+v, want skipped as %q", st, SkipDone)
		}
		if err := replicas[1].run(ctx, b, tick.Add(time.Hour)); err != nil || runs != 2 {
			t.Fatalf("second replica's run of the next time = %v, %d runs; want it run", err, runs)
		}
		if err := replicas[0].RunNow(ctx, "purge"); err != nil || runs != 3 {
			t.Fatalf("RunNow = %v, %d runs; want it run", err, runs)
		}
	})
}

// Ensure "@every" times are aligned on multiples of the period, the same
// for every replica, and that a run knows the time it was scheduled for.
func TestSchedTicks(t *testing.T) {
	sched, err := cron.ParseStandard("@every 10s")
	if err != nil {
		t.Fatal(err)
	}
	ticks := newSchedTicks(sched)
	t0 := time.Date(2026, 12, 4, 10, 0, 3, 0, time.UTC)
	if got, want := ticks.Next(t0), t0.Add(7*time.Second); !got.Equal(want) {
		t.Fatalf("Next(%s) = %s, want %s", t0, got, want)
	}
	fired := t0.Add(7 * time.Second)
	next := ticks.Next(fired.Add(time.Millisecond)) // cron asks for the next one as the run starts
	if !next.Equal(fired.Add(10 * time.Second)) {
		t.Fatalf("second Next = %s", next)
	}
	if got := ticks.tick(fired.Add(5 * time.Millisecond)); !got.Equal(fired) {
		t.Fatalf("tick = %s, want %s", got, fired)
	}
}
