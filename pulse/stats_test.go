package pulse_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
)

// seedRow is an outbox row written straight into the table, for statuses
// and times that Track and the sender would take long to reach.
type seedRow struct {
	Key        string
	Status     string // pulse.StatusPending when ""
	Attempts   int
	LastError  string
	HTTPStatus int
	BatchID    string
	CreatedAt  time.Time
	NextAt     time.Time // CreatedAt when zero
	SentAt     time.Time // NULL when zero
}

// mustSeed inserts rows in one transaction and returns their ids.
func mustSeed(tb testing.TB, db migrator.DB, rows ...seedRow) []int64 {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	d := db.Dialect
	q := "INSERT INTO " + db.Table(pulse.OutboxTable) + " (idempotency_key, event, campaign_id, tracking_id, payload, status, attempts," +
		" next_attempt_at, lease_owner, lease_expires_at, batch_id, last_error, last_http_status, occurred_at, created_at, sent_at)" +
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	nullStr := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		if r.Status == "" {
			r.Status = pulse.StatusPending
		}
		if r.NextAt.IsZero() {
			r.NextAt = r.CreatedAt
		}
		var owner, expires any
		if r.Status == pulse.StatusSending {
			owner, expires = "seed-sender#1", d.EncodeTime(r.CreatedAt.Add(time.Minute))
		}
		var httpStatus any
		if r.HTTPStatus != 0 {
			httpStatus = r.HTTPStatus
		}
		res, err := tx.ExecContext(ctx, q, r.Key, pulse.EventProductView, "spring24", "trk-7f1c2b9e", `{"product_id":42}`,
			r.Status, r.Attempts, d.EncodeTime(r.NextAt), owner, expires, nullStr(r.BatchID), nullStr(r.LastError), httpStatus,
			d.EncodeTime(r.CreatedAt), d.EncodeTime(r.CreatedAt), d.EncodeNullTime(&r.SentAt))
		if err != nil {
			tb.Fatalf("seeding %s: %v", r.Key, err)
		}
		if ids[i], err = res.LastInsertId(); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return ids
}

// MustStats returns c's stats or fails the test.
func MustStats(tb testing.TB, c *pulse.StatsCache, fresh bool) pulse.Stats {
	tb.Helper()
	st, err := c.Stats(context.Background(), fresh)
	if err != nil {
		tb.Fatalf("Stats(fresh=%v): %v", fresh, err)
	}
	return st
}

// MustHourly returns c's hourly buckets or fails the test.
func MustHourly(tb testing.TB, c *pulse.StatsCache, since time.Time) []pulse.HourBucket {
	tb.Helper()
	b, err := c.Hourly(context.Background(), since)
	if err != nil {
		tb.Fatalf("Hourly(%v): %v", since, err)
	}
	return b
}

func countsOf(st pulse.Stats) pulse.Counts {
	return pulse.Counts{Pending: st.Pending, Sending: st.Sending, Sent: st.Sent, Failed: st.Failed}
}

func TestStatsCache(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		api := &fakeAPI{answer: func(w http.ResponseWriter, r *http.Request, b pulse.WireBatch) {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]string{"code": "bad_key", "message": "api key revoked"}})
		}}
		clk := newClock()
		cfg := testConfig(MustServe(t, api))
		cfg.Now = clk.Now
		p := MustNew(t, db, cfg)
		c := mustStatsCache(t, p, time.Hour, clk.Now)
		t0 := clk.Now()
		mustSeed(t, db,
			seedRow{Key: "p1", CreatedAt: t0.Add(-10 * time.Minute)},
			seedRow{Key: "s1", Status: pulse.StatusSent, CreatedAt: t0.Add(-time.Hour), SentAt: t0.Add(-time.Hour)},
			seedRow{Key: "f1", Status: pulse.StatusFailed, Attempts: 1, LastError: "boom", HTTPStatus: 422,
				CreatedAt: t0.Add(-time.Hour), NextAt: t0.Add(-5 * time.Minute)},
		)

		// Ensure the first call reads counts, the newest failure and the
		// oldest pending age.
		st := MustStats(t, c, false)
		if want := (pulse.Counts{Pending: 1, Sent: 1, Failed: 1}); countsOf(st) != want {
			t.Fatalf("counts = %+v, want %+v", countsOf(st), want)
		}
		if st.LastError != "boom" || st.LastErrorAt == nil || !st.LastErrorAt.Equal(t0.Add(-5*time.Minute)) {
			t.Errorf("last error %q at %v, want boom at %v", st.LastError, st.LastErrorAt, t0.Add(-5*time.Minute))
		}
		if st.OldestPendingAgeSeconds != 600 || !st.ComputedAt.Equal(t0) || st.AuthFailing || !st.Configured {
			t.Errorf("stats = %+v, want age 600s, computed at %v, configured, no auth failure", st, t0)
		}

		// Ensure counts stay cached while the oldest pending age is live.
		clk.Advance(30 * time.Minute)
		mustSeed(t, db,
			seedRow{Key: "p2", CreatedAt: clk.Now()},
			seedRow{Key: "p3", CreatedAt: clk.Now()},
			seedRow{Key: "f2", Status: pulse.StatusFailed, LastError: "newer", CreatedAt: clk.Now()},
		)
		st2 := MustStats(t, c, false)
		if countsOf(st2) != countsOf(st) || st2.LastError != "boom" || !st2.ComputedAt.Equal(t0) {
			t.Errorf("cached stats = %+v, want the counts and last error of %v", st2, t0)
		}
		if st2.OldestPendingAgeSeconds != 2400 {
			t.Errorf("OldestPendingAgeSeconds = %v, want 2400 (live)", st2.OldestPendingAgeSeconds)
		}

		// Ensure fresh reads again.
		st3 := MustStats(t, c, true)
		if want := (pulse.Counts{Pending: 3, Sent: 1, Failed: 2}); countsOf(st3) != want {
			t.Errorf("fresh counts = %+v, want %+v", countsOf(st3), want)
		}
		if st3.LastError != "newer" || !st3.ComputedAt.Equal(clk.Now()) {
			t.Errorf("fresh last error %q computed at %v, want newer at %v", st3.LastError, st3.ComputedAt, clk.Now())
		}

		// Ensure the cache expires after its TTL, not before.
		mustSeed(t, db, seedRow{Key: "p4", CreatedAt: clk.Now()})
		clk.Advance(time.Hour - time.Second)
		if st := MustStats(t, c, false); st.Pending != 3 {
			t.Errorf("Pending before the TTL = %d, want 3 (cached)", st.Pending)
		}
		clk.Advance(time.Second)
		if st := MustStats(t, c, false); st.Pending != 4 {
			t.Errorf("Pending at the TTL = %d, want 4", st.Pending)
		}

		// Ensure Invalidate drops the counts.
		mustSeed(t, db, seedRow{Key: "p5", CreatedAt: clk.Now()})
		if st := MustStats(t, c, false); st.Pending != 4 {
			t.Errorf("Pending = %d, want 4 (cached)", st.Pending)
		}
		c.Invalidate()
		if st := MustStats(t, c, false); st.Pending != 5 {
			t.Errorf("Pending after Invalidate = %d, want 5", st.Pending)
		}

		// Ensure the sender's state and its newer error show at once,
		// through the cache.
		clk.Advance(time.Minute)
		if _, err := p.SendOnce(context.Background()); err == nil {
			t.Fatal("SendOnce against a 401 succeeded")
		}
		st4 := MustStats(t, c, false)
		if !st4.AuthFailing || !strings.Contains(st4.LastError, "revoked") || st4.LastErrorAt == nil || !st4.LastErrorAt.Equal(clk.Now()) {
			t.Errorf("stats after a 401 = auth failing %v, last error %q at %v; want the live error at %v",
				st4.AuthFailing, st4.LastError, st4.LastErrorAt, clk.Now())
		}
		if st4.Pending != 5 || st4.ComputedAt.After(clk.Now().Add(-time.Minute)) {
			t.Errorf("counts were read again: %+v", st4)
		}

		// Ensure the uncached Pulse.Stats is live.
		mustSeed(t, db, seedRow{Key: "p6", CreatedAt: clk.Now()})
		live, err := p.Stats(context.Background())
		if err != nil || live.Pending != 6 || !live.ComputedAt.Equal(clk.Now()) {
			t.Errorf("Pulse.Stats = %+v, %v; want 6 pending now", live, err)
		}
	})
}

func TestStatsCache_Defaults(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite, sources()...)
	p := MustNew(t, db, pulse.Config{})
	// Ensure a zero TTL means StatsTTLDefault and an empty outbox reads as
	// zeros without a last error.
	c := mustStatsCache(t, p, 0, nil)
	if c.TTL() != pulse.StatsTTLDefault {
		t.Errorf("TTL = %s, want %s", c.TTL(), pulse.StatsTTLDefault)
	}
	st := MustStats(t, c, false)
	if countsOf(st) != (pulse.Counts{}) || st.LastError != "" || st.LastErrorAt != nil || st.OldestPendingAgeSeconds != 0 || st.Configured {
		t.Errorf("empty stats = %+v", st)
	}
}

func TestHourly(t *testing.T) {
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		clk := &clock{t: time.Date(2026, 11, 26, 12, 34, 56, 0, time.UTC)}
		cfg := testConfig("https://pulse.example.com")
		cfg.Now = clk.Now
		p := MustNew(t, db, cfg)
		c := mustStatsCache(t, p, time.Hour, clk.Now)
		at := func(day, hour, minute, sec int) time.Time {
			return time.Date(2026, 11, day, hour, minute, sec, 0, time.UTC)
		}
		long := at(20, 0, 0, 0) // created long before the range
		mustSeed(t, db,
			seedRow{Key: "s-now", Status: pulse.StatusSent, CreatedAt: at(26, 11, 0, 0), SentAt: at(26, 12, 0, 0)},
			seedRow{Key: "s-11a", Status: pulse.StatusSent, CreatedAt: long, SentAt: at(26, 11, 59, 59).Add(999999 * time.Microsecond)},
			seedRow{Key: "s-11b", Status: pulse.StatusSent, CreatedAt: at(26, 11, 30, 0), SentAt: at(26, 11, 30, 0)},
			seedRow{Key: "s-11c", Status: pulse.StatusSent, CreatedAt: at(26, 11, 30, 0), SentAt: at(26, 11, 30, 0)},
			seedRow{Key: "s-first", Status: pulse.StatusSent, CreatedAt: long, SentAt: at(25, 13, 0, 0)},
			seedRow{Key: "s-before", Status: pulse.StatusSent, CreatedAt: long, SentAt: at(25, 12, 59, 59)},
			seedRow{Key: "f-05", Status: pulse.StatusFailed, CreatedAt: long, NextAt: at(26, 5, 10, 0)},
			seedRow{Key: "f-first", Status: pulse.StatusFailed, CreatedAt: long, NextAt: at(25, 13, 20, 0)},
			seedRow{Key: "f-11", Status: pulse.StatusFailed, CreatedAt: at(26, 11, 1, 0)},
			seedRow{Key: "f-before", Status: pulse.StatusFailed, CreatedAt: long, NextAt: at(25, 12, 0, 0)},
			seedRow{Key: "pending", CreatedAt: at(26, 12, 10, 0)},
			seedRow{Key: "sending", Status: pulse.StatusSending, CreatedAt: at(26, 12, 10, 0)},
		)
		want := map[time.Time][2]int64{ // hour → {sent, failed}
			at(26, 12, 0, 0): {1, 0},
			at(26, 11, 0, 0): {3, 1},
			at(26, 5, 0, 0):  {0, 1},
			at(25, 13, 0, 0): {1, 1},
		}
		check := func(t *testing.T, got []pulse.HourBucket, first time.Time, n int) {
			t.Helper()
			if len(got) != n {
				t.Fatalf("%d buckets, want %d", len(got), n)
			}
			for i, b := range got {
				if h := first.Add(time.Duration(i) * time.Hour); !b.Hour.Equal(h) || b.Hour.Location() != time.UTC {
					t.Errorf("bucket %d hour = %v, want %v UTC", i, b.Hour, h)
				}
				if w := want[b.Hour]; b.Sent != w[0] || b.Failed != w[1] {
					t.Errorf("bucket %v = sent %d failed %d, want %d and %d", b.Hour, b.Sent, b.Failed, w[0], w[1])
				}
			}
		}

		// Ensure a zero since gives the 24 hours up to the current one,
		// zero-filled, counting by sent_at and the failed attempt's time.
		check(t, MustHourly(t, c, time.Time{}), at(25, 13, 0, 0), 24)

		// Ensure since starts at its hour, in UTC.
		check(t, MustHourly(t, c, at(26, 10, 15, 0).In(time.FixedZone("X", 5*3600))), at(26, 10, 0, 0), 3)

		// Ensure a since in the future is empty and a range too long an error.
		if got := MustHourly(t, c, at(26, 13, 0, 0)); len(got) != 0 {
			t.Errorf("future since: %d buckets", len(got))
		}
		if _, err := c.Hourly(context.Background(), clk.Now().Add(-32*24*time.Hour)); err == nil {
			t.Error("Hourly over 32 days succeeded")
		}

		// Ensure buckets are cached until Invalidate.
		mustSeed(t, db, seedRow{Key: "s-new", Status: pulse.StatusSent, CreatedAt: at(26, 12, 1, 0), SentAt: at(26, 12, 1, 0)})
		check(t, MustHourly(t, c, time.Time{}), at(25, 13, 0, 0), 24)
		c.Invalidate()
		want[at(26, 12, 0, 0)] = [2]int64{2, 0}
		check(t, MustHourly(t, c, time.Time{}), at(25, 13, 0, 0), 24)

		// Ensure a new hour moves the window (and misses the cache).
		clk.Advance(30 * time.Minute)
		mustSeed(t, db, seedRow{Key: "s-13", Status: pulse.StatusSent, CreatedAt: at(26, 13, 0, 0), SentAt: at(26, 13, 4, 0)})
		want[at(26, 13, 0, 0)] = [2]int64{1, 0}
		check(t, MustHourly(t, c, time.Time{}), at(25, 14, 0, 0), 24)
	})
}
