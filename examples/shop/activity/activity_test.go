package activity_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/examples/shop/activity"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/dbopen"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
)

func mustOpen(tb testing.TB, d migrator.Dialect) migrator.DB {
	tb.Helper()
	dsn := "sqlite:" + filepath.Join(tb.TempDir(), "shop.db")
	if d == migrator.MySQL {
		dsn = "mysql:" + migratortest.FreshDSN(tb, d)
	}
	db, err := dbopen.Open(context.Background(), dsn, "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Ensure a fill makes what it reports, reproducibly from its seed, logs at
// every level, and a second fill of the same database is refused.
func TestFill(t *testing.T) {
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
			var logs bytes.Buffer
			cfg := activity.Config{DB: mustOpen(t, d), BotToken: "1000000000:test-token", Seed: 7, Now: now,
				PublicURL: "http://127.0.0.1:8080",
				Logger:    slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			rep, err := activity.Fill(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", rep)
			if rep.Customers != activity.CustomersDefault || rep.Campaigns != 3 || rep.Orders < 20 || rep.Revenue <= 0 ||
				rep.TwoCampaigns == 0 || rep.Consented < rep.Customers/2 || rep.Consented == rep.Customers {
				t.Errorf("report %+v", rep)
			}
			if rep.FailedEvents < activity.FailedEventsMin || rep.EventsSent < rep.Visits {
				t.Errorf("events: %d sent, %d failed for %d visits", rep.EventsSent, rep.FailedEvents, rep.Visits)
			}
			if rep.Messages <= rep.Orders || rep.Broadcast == 0 {
				t.Errorf("messages: %d sent for %d orders, broadcast %d", rep.Messages, rep.Orders, rep.Broadcast)
			}
			// Ensure every event the fill emitted, the broadcast's
			// MESSAGE_SENT among them, carries only the payload fields
			// Pulse events may carry, and it emitted every kind.
			seen := map[string]bool{}
			rows, err := cfg.DB.QueryContext(ctx, "SELECT event, payload FROM "+cfg.DB.Table(pulse.OutboxTable))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var name, payload string
				if err := rows.Scan(&name, &payload); err != nil {
					t.Fatal(err)
				}
				if err := pulse.CheckPayload(name, []byte(payload)); err != nil && !seen["bad:"+name] {
					seen["bad:"+name] = true // one line per event name is enough
					t.Errorf("%v: %s", err, payload)
				}
				seen[name] = true
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
			// No PRIVACY_CONSENT: the fill records a new customer's consent
			// before their visit's campaign, so the event has no campaign to
			// credit and is dropped, not stored.
			for _, name := range []string{pulse.EventWebAppOpen, pulse.EventSearch, pulse.EventProductView, pulse.EventAddToCart,
				pulse.EventCartView, pulse.EventCheckoutStart, pulse.EventOrderCreated, pulse.EventMessageSent} {
				if !seen[name] {
					t.Errorf("the fill emitted no %s", name)
				}
			}
			for _, level := range []string{`"level":"DEBUG"`, `"level":"INFO"`, `"level":"WARN"`, `"level":"ERROR"`} {
				if !strings.Contains(logs.String(), level) {
					t.Errorf("no %s line in the log", level)
				}
			}

			// The same seed on another empty database makes the same shop.
			again := cfg
			again.DB, again.Logger = mustOpen(t, d), nil
			rep2, err := activity.Fill(ctx, again)
			if err != nil {
				t.Fatal(err)
			}
			if rep2.Orders != rep.Orders || rep2.Revenue != rep.Revenue || rep2.Visits != rep.Visits || rep2.EventsSent != rep.EventsSent {
				t.Errorf("seed 7 twice: %+v then %+v", rep, rep2)
			}

			_, err = activity.Fill(ctx, cfg)
			if !errors.Is(err, activity.ErrNotEmpty) || !strings.Contains(err.Error(), "already has customers") {
				t.Fatalf("a second fill: %v", err)
			}
		})
	}
}
