package pulse_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

func TestNew(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite, sources()...)

	// Ensure the zero Config is valid (Pulse off) and a full one too.
	for _, cfg := range []pulse.Config{{}, testConfig("https://pulse.example.com/")} {
		if _, err := pulse.New(db, cfg); err != nil {
			t.Errorf("New(%+v) = %v", cfg, err)
		}
	}

	// Ensure setup mistakes are named after the field at fault.
	for _, tc := range []struct {
		mod  func(*pulse.Config)
		want string
	}{
		{func(c *pulse.Config) { c.APIKey = "" }, "APIKey is empty"},
		{func(c *pulse.Config) { c.Secret = "" }, "Secret is empty"},
		{func(c *pulse.Config) { c.URL = "" }, "URL is empty"},
		{func(c *pulse.Config) { c.URL = "pulse.example.com" }, "URL"},
		{func(c *pulse.Config) { c.URL = "ftp://pulse.example.com" }, "URL"},
		{func(c *pulse.Config) { c.RetryBase = time.Microsecond }, "RetryBase"},
		{func(c *pulse.Config) { c.RetryBase, c.RetryMax = time.Minute, time.Second }, "RetryMax"},
		{func(c *pulse.Config) { c.MaxAttempts = -1 }, "MaxAttempts"},
		{func(c *pulse.Config) { c.MaxAge = -time.Hour }, "MaxAge"},
		{func(c *pulse.Config) { c.Lease, c.HTTPTimeout = 10*time.Second, 10*time.Second }, "Lease"},
		{func(c *pulse.Config) { c.HTTPTimeout = -1 }, "HTTPTimeout"},
		{func(c *pulse.Config) { c.ClusterSettle = -time.Millisecond }, "ClusterSettle"},
		{func(c *pulse.Config) { c.Lease, c.ClusterSettle = 20*time.Second, 6*time.Second }, "ClusterSettle"},
		{func(c *pulse.Config) { c.BatchSize = -5 }, "BatchSize"},
		{func(c *pulse.Config) { c.MaxBatchBytes = 100 }, "MaxBatchBytes"},
		{func(c *pulse.Config) { c.Concurrency = 1000 }, "Concurrency"},
		{func(c *pulse.Config) { c.MaxRetryAfter = -time.Second }, "MaxRetryAfter"},
		{func(c *pulse.Config) { c.SweepSchedule = "every minute" }, "SweepSchedule"},
		{func(c *pulse.Config) { c.SenderID = strings.Repeat("s", 101) }, "SenderID"},
	} {
		cfg := testConfig("https://pulse.example.com")
		tc.mod(&cfg)
		_, err := pulse.New(db, cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New = %v, want an error about %s", err, tc.want)
		}
	}

	// Ensure a bad database handle is refused.
	if _, err := pulse.New(migrator.DB{}, pulse.Config{}); err == nil {
		t.Error("New with a nil DB succeeded")
	}
	if _, err := pulse.New(migrator.DB{DB: db.DB, Dialect: "oracle"}, pulse.Config{}); err == nil {
		t.Error("New with an unknown dialect succeeded")
	}
}

func TestSetCredentials(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite, sources()...)
	p := MustNew(t, db, pulse.Config{})

	// Ensure credentials are set all together or not at all, and an
	// invalid change keeps the old ones.
	if err := p.SetCredentials("https://pulse.example.com", "key", ""); err == nil || !strings.Contains(err.Error(), "Secret") {
		t.Errorf("SetCredentials without a secret = %v", err)
	}
	if p.State().Configured {
		t.Error("configured after a refused change")
	}
	if err := p.SetCredentials("https://pulse.example.com", "key", "secret"); err != nil {
		t.Fatal(err)
	}
	if !p.State().Configured {
		t.Error("not configured after SetCredentials")
	}
	if err := p.SetCredentials("", "", ""); err != nil {
		t.Fatal(err)
	}
	if p.State().Configured {
		t.Error("still configured after clearing the credentials")
	}
}

func TestStartStop(t *testing.T) {
	ctx := context.Background()

	// Ensure Start checks the table exists and says how to fix it.
	t.Run("Unmigrated", func(t *testing.T) {
		db := migratortest.MustOpenEmpty(t, migrator.SQLite)
		p := MustNew(t, db, pulse.Config{})
		if err := p.Start(ctx); err == nil || !strings.Contains(err.Error(), "MigrationSource") {
			t.Errorf("Start = %v, want advice to migrate", err)
		}
	})

	// Ensure the lifecycle is forgiving where it can be and clear where not.
	t.Run("Lifecycle", func(t *testing.T) {
		db := migratortest.MustOpenDB(t, migrator.SQLite, sources()...)
		p := MustNew(t, db, pulse.Config{})
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if !p.State().Running {
			t.Error("not running after Start")
		}
		if err := p.Start(ctx); err != nil || !p.State().Running {
			t.Errorf("second Start = %v, want a no-op", err)
		}
		for range 2 {
			if err := p.Stop(ctx); err != nil {
				t.Errorf("Stop = %v", err)
			}
		}
		if p.State().Running {
			t.Error("running after Stop")
		}
		if err := p.Start(ctx); !errors.Is(err, pulse.ErrStopped) {
			t.Errorf("Start after Stop = %v, want ErrStopped", err)
		}
		q := MustNew(t, db, pulse.Config{})
		if err := q.Stop(ctx); err != nil {
			t.Errorf("Stop before Start = %v", err)
		}
	})
}

func TestBackground(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		rv, url := MustNewReceiver(t, pulsetest.Config{})
		cfg := testConfig(url)
		cfg.SweepSchedule = "@every 1h" // only wake-ups deliver here
		cfg.BatchSize, cfg.Concurrency = 10, 3
		p := MustNew(t, db, cfg)
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}

		// Ensure Track wakes the sender at once.
		MustTrack(t, p, testEvent("woken"))
		waitFor(t, 2*time.Second, "delivery after Track", func() bool { return rv.Seen("woken") })

		// Ensure an event committed after TrackTx's wake-up still goes out
		// promptly, without Wake and long before the sweep.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.TrackTx(ctx, tx, testEvent("late-commit")); err != nil {
			t.Fatal(err)
		}
		if db.Dialect == migrator.MySQL {
			time.Sleep(50 * time.Millisecond) // the wake-up's claim runs and finds nothing
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 3*time.Second, "delivery after a late commit", func() bool { return rv.Seen("late-commit") })

		// Ensure failures are retried in the background until every event
		// is delivered once.
		MustSetFaults(t, rv, pulsetest.Faults{ErrorRate: 0.4, TooManyRate: 0.1})
		keys := MustTrackN(t, p, db, "flaky", 100)
		p.Wake()
		waitFor(t, 15*time.Second, "delivery through errors", func() bool {
			c := MustCounts(t, p)
			return c.Sent == 102
		})
		for _, k := range keys {
			if !rv.Seen(k) {
				t.Fatalf("%s not delivered", k)
			}
		}
		if st := rv.Stats(); st.Unique != 102 || st.Faulted == 0 {
			t.Errorf("receiver %+v, want 102 unique through faults", st)
		}
	})
}

func TestSweep(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		rv, url := MustNewReceiver(t, pulsetest.Config{})
		cfg := testConfig(url)
		cfg.SweepSchedule = "@every 1s"
		p := MustNew(t, db, cfg)
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // let the start-up drain find nothing

		// Ensure an event stored by another process (whose wake-up this
		// sender never sees) is delivered by the sweep.
		other := MustNew(t, db, testConfig(url))
		MustTrack(t, other, testEvent("from-elsewhere"))
		waitFor(t, 3*time.Second, "the sweep", func() bool { return rv.Seen("from-elsewhere") })
	})
}

func TestNoSweep(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		rv, url := MustNewReceiver(t, pulsetest.Config{})
		cfg := testConfig(url)
		cfg.SweepSchedule, cfg.NoSweep = "@every 1s", true
		p := MustNew(t, db, cfg)
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		MustTrack(t, p, testEvent("warm-up"))
		waitFor(t, 3*time.Second, "the warm-up's delivery", func() bool { return MustCounts(t, p).Sent == 1 })
		time.Sleep(300 * time.Millisecond) // the sender looks for more, finds nothing and idles

		// Ensure that with NoSweep an event stored by another process waits
		// past the SweepSchedule (the absence of a sweep can only be
		// waited out) …
		other := MustNew(t, db, testConfig(url))
		MustTrack(t, other, testEvent("from-elsewhere"))
		time.Sleep(1500 * time.Millisecond)
		if rv.Seen("from-elsewhere") {
			t.Fatal("delivered without a sweep or a wake-up")
		}
		// … until something wakes the sender.
		p.Wake()
		waitFor(t, 3*time.Second, "delivery after Wake", func() bool { return rv.Seen("from-elsewhere") })
	})
}

func TestStop_Graceful(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()

		// Ensure Stop lets in-flight batches finish when its deadline allows.
		t.Run("Finish", func(t *testing.T) {
			rv, url := MustNewReceiver(t, pulsetest.Config{})
			MustSetFaults(t, rv, pulsetest.Faults{Latency: 300 * time.Millisecond})
			cfg := testConfig(url)
			cfg.Concurrency = 2
			p := MustNew(t, db, cfg)
			MustTrackN(t, p, db, "finish", 20) // before Start: one claim takes all
			if err := p.Start(ctx); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 2*time.Second, "all events in flight", func() bool { c := MustCounts(t, p); return c.Sending > 0 && c.Pending == 0 })
			stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := p.Stop(stopCtx); err != nil {
				t.Fatalf("Stop = %v", err)
			}
			if c := MustCounts(t, p); c.Sending != 0 || c.Sent != 20 {
				t.Errorf("counts after Stop %+v, want 20 sent", c)
			}
		})

		// Ensure at the deadline in-flight requests are cut and their events
		// go back to pending with attempts unchanged.
		t.Run("CutOff", func(t *testing.T) {
			rv, url := MustNewReceiver(t, pulsetest.Config{})
			MustSetFaults(t, rv, pulsetest.Faults{Latency: 10 * time.Second})
			cfg := testConfig(url)
			cfg.Concurrency = 2
			p := MustNew(t, db, cfg)
			keys := MustTrackN(t, p, db, "cut", 20) // before Start: one claim takes all
			if err := p.Start(ctx); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 2*time.Second, "all events in flight", func() bool { return MustCounts(t, p).Sending == 20 })
			const deadline = 500 * time.Millisecond
			stopCtx, cancel := context.WithTimeout(ctx, deadline)
			defer cancel()
			start := time.Now()
			if err := p.Stop(stopCtx); err != nil {
				t.Fatalf("Stop = %v", err)
			}
			if took := time.Since(start); took > deadline+200*time.Millisecond {
				t.Errorf("Stop took %s, deadline %s", took, deadline)
			}
			if c := MustCounts(t, p); c.Sending != 0 || c.Pending != 20 {
				t.Errorf("counts after Stop %+v, want all pending", c)
			}
			for _, k := range keys {
				if e := MustLookup(t, p, k); e.Attempts != 0 || e.LeaseOwner != "" {
					t.Errorf("%s: attempts %d owner %q, want 0 and none", k, e.Attempts, e.LeaseOwner)
				}
			}
			if err := p.Stop(ctx); err != nil {
				t.Errorf("second Stop = %v", err)
			}
		})
	})
}
