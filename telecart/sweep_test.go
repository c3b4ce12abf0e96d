package telecart_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
	"github.com/telecart-go/telecart/telecart"
)

// sweepEvent is an event for the outbox, stored by a Pulse other than the
// shop's, so that its wake-up never reaches the shop's sender.
func sweepEvent(key string) pulse.Event {
	return pulse.Event{Name: pulse.EventProductView, IdempotencyKey: key, CampaignID: "spring24",
		TrackingID: "trk-7f1c2b9e", Payload: map[string]any{"product_id": "p1"}}
}

// mustTrackElsewhere stores ev through a second, never started Pulse on the
// shop's database: like another replica, it wakes nobody here.
func mustTrackElsewhere(tb testing.TB, s *plugShop, ev pulse.Event) {
	tb.Helper()
	st := MustGetSettings(tb, s.tc.Settings())
	other, err := pulse.New(s.db, pulse.Config{URL: st.PulseURL, APIKey: st.PulseAPIKey, Secret: st.PulseSecret,
		Now: s.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	res, err := other.Track(context.Background(), ev)
	if err != nil || res.Outcome != pulse.OutcomeStored {
		tb.Fatalf("Track(%s) = %+v, %v; want stored", ev.IdempotencyKey, res, err)
	}
}

// Ensure the scheduler's pulse_sweep task is the Pulse sender's only
// sweep: while the settings disable it, an event that woke nobody waits;
// enabled again, the sweep delivers it.
func TestPulseSweepTask(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShopWith(t, db, func(c *telecart.Config) {
			c.Pulse.SweepSchedule = "@every 1s"
			c.Settings.DisabledTasks = []string{telecart.TaskPulseSweep}
		})
		sched := s.tc.Scheduler()
		skips := func() int64 { return schedStatus(t, sched, telecart.TaskPulseSweep).Skips }
		// A skipped run also shows the start-up drain is long over.
		schedWaitFor(t, 5*time.Second, "a skipped sweep", func() bool { return skips() >= 1 })

		mustTrackElsewhere(t, s, sweepEvent("sweep-1"))
		after := skips()
		schedWaitFor(t, 5*time.Second, "two more skipped sweeps", func() bool { return skips() >= after+2 })
		if s.receiver.Seen("sweep-1") {
			t.Fatal("delivered while the sweep was disabled")
		}
		if st := schedStatus(t, sched, telecart.TaskPulseSweep); st.Runs != 0 || st.LastSkipped != telecart.SkipDisabled {
			t.Fatalf("pulse_sweep %+v, want no run, skipped as disabled", st)
		}

		// What saving the settings without the task does (saving also
		// wakes the sender, which would deliver the event by itself).
		sched.SetDisabled(nil)
		schedWaitFor(t, 5*time.Second, "delivery by a sweep that ran", func() bool {
			return s.receiver.Seen("sweep-1") && schedStatus(t, sched, telecart.TaskPulseSweep).Runs > 0
		})
		if st := schedStatus(t, sched, telecart.TaskPulseSweep); st.LastStatus != "ok" {
			t.Errorf("pulse_sweep %+v, want a successful run", st)
		}
	})
}

// Ensure the sweep sends nothing while the Pulse API's refusal of the
// credentials pauses sending.
func TestPulseSweepTask_AuthPause(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShopWith(t, db, func(c *telecart.Config) {
			c.Pulse.RetryBase, c.Pulse.RetryMax = time.Minute, time.Hour // the pause outlasts the test
		})
		if err := s.receiver.SetFaults(pulsetest.Faults{Unauthorized: true}); err != nil {
			t.Fatal(err)
		}
		mustTrackElsewhere(t, s, sweepEvent("paused-1"))
		s.tc.Pulse().Wake()
		ctx := context.Background()
		schedWaitFor(t, 5*time.Second, "the sender to pause with the event released", func() bool {
			e, err := s.tc.Pulse().Lookup(ctx, "paused-1")
			return err == nil && e.Status == pulse.StatusPending && s.tc.Pulse().State().AuthFailing
		})
		refused := s.receiver.Stats().Requests
		for range 3 {
			if err := s.tc.Scheduler().RunNow(ctx, telecart.TaskPulseSweep); !errors.Is(err, pulse.ErrUnauthorized) {
				t.Fatalf("sweep during the pause = %v, want ErrUnauthorized", err)
			}
		}
		if n := s.receiver.Stats().Requests; n != refused {
			t.Fatalf("%d requests after sweeps during the pause, want still %d", n, refused)
		}
		if e, err := s.tc.Pulse().Lookup(ctx, "paused-1"); err != nil || e.Status != pulse.StatusPending || e.Attempts != 0 {
			t.Fatalf("event %+v, %v; want pending without attempts", e, err)
		}
	})
}

// Ensure Pulse.NoSweep registers the sweep disabled, and an unconfigured
// Pulse makes the sweep a no-op rather than a failure.
func TestPulseSweepTask_Config(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShopWith(t, db, func(c *telecart.Config) {
			c.Pulse = pulse.Config{NoSweep: true, SweepSchedule: "@every 5m"}
		})
		st := schedStatus(t, s.tc.Scheduler(), telecart.TaskPulseSweep)
		if st.Enabled || st.Schedule != "@every 5m" {
			t.Fatalf("pulse_sweep %+v, want disabled on @every 5m", st)
		}
		if err := s.tc.Scheduler().RunNow(context.Background(), telecart.TaskPulseSweep); err != nil {
			t.Fatalf("sweep without Pulse credentials = %v, want nil", err)
		}
	})
}
