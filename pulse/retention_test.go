package pulse_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
)

const retentionDay = 24 * time.Hour

func TestPurge(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		clk := newClock()
		cfg := testConfig("https://pulse.example.com")
		cfg.Now = clk.Now
		p := MustNew(t, db, cfg)
		now := clk.Now()
		var rows []seedRow
		for i := range 1234 {
			rows = append(rows, seedRow{Key: "old-sent-" + strconv.Itoa(i), Status: pulse.StatusSent,
				CreatedAt: now.Add(-31*retentionDay - time.Hour), SentAt: now.Add(-31 * retentionDay)})
		}
		rows = append(rows,
			// Created long ago but sent within the retention: kept.
			seedRow{Key: "late-sent", Status: pulse.StatusSent, CreatedAt: now.Add(-40 * retentionDay), SentAt: now.Add(-29 * retentionDay)},
			seedRow{Key: "recent-sent", Status: pulse.StatusSent, CreatedAt: now.Add(-time.Hour), SentAt: now.Add(-time.Hour)},
			seedRow{Key: "edge-sent", Status: pulse.StatusSent, CreatedAt: now.Add(-31 * retentionDay), SentAt: now.Add(-30 * retentionDay)},
			// Never purged, however old.
			seedRow{Key: "old-pending", CreatedAt: now.Add(-200 * retentionDay)},
			seedRow{Key: "old-sending", Status: pulse.StatusSending, CreatedAt: now.Add(-200 * retentionDay)},
			// Failed: by the time of the final attempt.
			seedRow{Key: "old-failed-1", Status: pulse.StatusFailed, CreatedAt: now.Add(-200 * retentionDay), NextAt: now.Add(-91 * retentionDay)},
			seedRow{Key: "old-failed-2", Status: pulse.StatusFailed, CreatedAt: now.Add(-95 * retentionDay)},
			seedRow{Key: "recent-failed", Status: pulse.StatusFailed, CreatedAt: now.Add(-200 * retentionDay), NextAt: now.Add(-89 * retentionDay)},
		)
		mustSeed(t, db, rows...)

		// Ensure nothing goes before the funnel has folded it.
		if n, err := p.PurgeSent(ctx, pulse.SentRetentionDefault, 500); err != nil || n != 0 {
			t.Fatalf("PurgeSent before the fold = %d, %v; want 0", n, err)
		}
		mustFold(t, db)

		// Ensure old sent events go, in batches, and nothing else.
		n, err := p.PurgeSent(ctx, pulse.SentRetentionDefault, 500)
		if err != nil || n != 1234 {
			t.Fatalf("PurgeSent = %d, %v; want 1234", n, err)
		}
		if c := MustCounts(t, p); c != (pulse.Counts{Pending: 1, Sending: 1, Sent: 3, Failed: 3}) {
			t.Errorf("counts after PurgeSent = %+v", c)
		}
		for _, k := range []string{"late-sent", "recent-sent", "edge-sent", "old-pending", "old-sending"} {
			MustLookup(t, p, k)
		}
		if n, err := p.PurgeSent(ctx, pulse.SentRetentionDefault, 500); err != nil || n != 0 {
			t.Errorf("PurgeSent again = %d, %v; want 0", n, err)
		}

		// Ensure old failed events go with their longer window.
		if n, err := p.PurgeFailed(ctx, pulse.FailedRetentionDefault, 1); err != nil || n != 2 {
			t.Errorf("PurgeFailed = %d, %v; want 2", n, err)
		}
		if c := MustCounts(t, p); c != (pulse.Counts{Pending: 1, Sending: 1, Sent: 3, Failed: 1}) {
			t.Errorf("counts after PurgeFailed = %+v", c)
		}
		MustLookup(t, p, "recent-failed")

		// Ensure a batch larger than the rows, and the default batch, work.
		clk.Advance(2 * retentionDay)
		if n, err := p.PurgeSent(ctx, pulse.SentRetentionDefault, 0); err != nil || n != 2 {
			t.Errorf("PurgeSent(batch 0) two days later = %d, %v; want 2 (late-sent, edge-sent)", n, err)
		}

		// Ensure a non-positive retention is refused, not "delete everything".
		if _, err := p.PurgeSent(ctx, 0, 500); err == nil {
			t.Error("PurgeSent(0) succeeded")
		}
		if _, err := p.PurgeFailed(ctx, -time.Hour, 500); err == nil {
			t.Error("PurgeFailed(-1h) succeeded")
		}
	})
}

func TestRetentionTask(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		clk := newClock()
		cfg := testConfig("https://pulse.example.com")
		cfg.Now = clk.Now
		p := MustNew(t, db, cfg)
		now := clk.Now()
		mustSeed(t, db,
			seedRow{Key: "sent-31d", Status: pulse.StatusSent, CreatedAt: now.Add(-31 * retentionDay), SentAt: now.Add(-31 * retentionDay)},
			seedRow{Key: "sent-1d", Status: pulse.StatusSent, CreatedAt: now.Add(-retentionDay), SentAt: now.Add(-retentionDay)},
			seedRow{Key: "failed-91d", Status: pulse.StatusFailed, CreatedAt: now.Add(-91 * retentionDay)},
			seedRow{Key: "failed-60d", Status: pulse.StatusFailed, CreatedAt: now.Add(-60 * retentionDay)},
			seedRow{Key: "pending-100d", CreatedAt: now.Add(-100 * retentionDay)},
		)
		mustFold(t, db)

		// Ensure a negative duration keeps that status forever.
		if err := p.RetentionTask(-1, 75*retentionDay)(ctx); err != nil {
			t.Fatal(err)
		}
		if c := MustCounts(t, p); c != (pulse.Counts{Pending: 1, Sent: 2, Failed: 1}) {
			t.Errorf("counts after RetentionTask(-1, 75d) = %+v", c)
		}

		// Ensure zero durations mean the defaults.
		if err := p.RetentionTask(0, 0)(ctx); err != nil {
			t.Fatal(err)
		}
		if c := MustCounts(t, p); c != (pulse.Counts{Pending: 1, Sent: 1, Failed: 1}) {
			t.Errorf("counts after RetentionTask(0, 0) = %+v", c)
		}
		MustLookup(t, p, "sent-1d")
		MustLookup(t, p, "failed-60d")

		// Ensure a cancelled context is reported.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := p.RetentionTask(0, 0)(cctx); err == nil {
			t.Error("RetentionTask with a cancelled context succeeded")
		}
	})
}
