package pulse_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
)

// BenchmarkFunnel times the campaign funnel over 90 days for 1,000
// campaigns (funnel-*: the sums, as the list and the CSV ask; days-*: with
// every campaign's per-day series too) against the same question asked of
// the raw outbox, in the same run (see BENCHMARKS.md):
//
//	TELECART_BENCH_FUNNEL_EVENTS=10000000 TELECART_TEST_MYSQL_DSN=… \
//	  go test -run '^$' -bench BenchmarkFunnel -benchtime 40x -timeout 180m ./pulse/
//
// The events (200,000 unless TELECART_BENCH_FUNNEL_EVENTS says otherwise)
// are written with multi-row INSERTs, then folded by Campaigns.Fold (its
// rate is reported as fold-events/s). Each campaign runs for 7 to 30 days
// somewhere in the 90; a customer is one of events/20.
func BenchmarkFunnel(b *testing.B) {
	n := 200_000
	if v := os.Getenv("TELECART_BENCH_FUNNEL_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("TELECART_BENCH_FUNNEL_EVENTS=%q: want a number of at least 1000", v)
		}
	}
	// The raw baseline grows with the events (minutes a query on MariaDB
	// at 10,000,000): TELECART_BENCH_FUNNEL_RAW=k times it in the first k
	// iterations only.
	rawRuns := -1
	if v := os.Getenv("TELECART_BENCH_FUNNEL_RAW"); v != "" {
		var err error
		if rawRuns, err = strconv.Atoi(v); err != nil || rawRuns < 1 {
			b.Fatalf("TELECART_BENCH_FUNNEL_RAW=%q: want a number of at least 1", v)
		}
	}
	for _, d := range migratortest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := migratortest.MustOpenDB(b, d, sources()...)
			ctx := context.Background()
			end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			start := end.AddDate(0, 0, -90)
			benchSeedFunnel(b, db, n, start)
			camps := mustCampaigns(b, db, pulse.CampaignsConfig{FoldBatch: 5000, Now: func() time.Time { return end }})
			t0 := time.Now()
			folded, err := camps.Fold(ctx)
			if err != nil || folded != int64(n) {
				b.Fatalf("Fold = %d, %v; want %d", folded, err, n)
			}
			foldRate := float64(n) / time.Since(t0).Seconds()
			from, to := start.Format(pulse.DateLayout), end.AddDate(0, 0, -1).Format(pulse.DateLayout)
			rawQ := "SELECT campaign_id, event, COUNT(*), COUNT(DISTINCT tracking_id) FROM " + db.Table(pulse.OutboxTable) +
				" WHERE occurred_at >= ? AND occurred_at < ? GROUP BY campaign_id, event"
			var inFunnel, withDays, inRaw []time.Duration
			campaigns := 0
			for b.Loop() {
				t := time.Now()
				f, err := camps.FunnelOf(ctx, pulse.FunnelQuery{From: from, To: to})
				if err != nil {
					b.Fatal(err)
				}
				inFunnel = append(inFunnel, time.Since(t))
				campaigns = len(f.Campaigns)

				t = time.Now()
				if _, err := camps.Funnel(ctx, from, to); err != nil {
					b.Fatal(err)
				}
				withDays = append(withDays, time.Since(t))

				if rawRuns >= 0 && len(inRaw) >= rawRuns {
					continue
				}
				t = time.Now()
				rows, err := db.QueryContext(ctx, rawQ, db.Dialect.EncodeTime(start), db.Dialect.EncodeTime(end))
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
					var c, e string
					var ev, cu int64
					if err := rows.Scan(&c, &e, &ev, &cu); err != nil {
						b.Fatal(err)
					}
				}
				rows.Close()
				inRaw = append(inRaw, time.Since(t))
			}
			if campaigns != 1000 {
				b.Fatalf("the funnel has %d campaigns, want 1000", campaigns)
			}
			p := func(ds []time.Duration, q float64) float64 {
				s := slices.Clone(ds)
				slices.Sort(s)
				return float64(s[min(len(s)-1, int(q*float64(len(s))))].Microseconds()) / 1000
			}
			b.ReportMetric(p(inFunnel, 0.5), "funnel-p50-ms")
			b.ReportMetric(p(inFunnel, 0.95), "funnel-p95-ms")
			b.ReportMetric(p(withDays, 0.5), "days-p50-ms")
			b.ReportMetric(p(withDays, 0.95), "days-p95-ms")
			b.ReportMetric(p(inRaw, 0.5), "raw-p50-ms")
			b.ReportMetric(p(inRaw, 0.95), "raw-p95-ms")
			b.ReportMetric(foldRate, "fold-events/s")
		})
	}
}

// benchSeedFunnel writes n sent events over 90 days from start with
// multi-row INSERTs, bypassing Track.
func benchSeedFunnel(tb testing.TB, db migrator.DB, n int, start time.Time) {
	tb.Helper()
	const rowsPerInsert = 500
	ctx := context.Background()
	d := db.Dialect
	rng := rand.New(rand.NewPCG(1, 90))
	type window struct{ from, days int }
	wins := make([]window, 1000)
	for i := range wins {
		days := 7 + rng.IntN(24)
		wins[i] = window{rng.IntN(90 - days + 1), days}
	}
	customers := max(n/20, 1)
	steps := []string{pulse.EventWebAppOpen, pulse.EventProductView, pulse.EventAddToCart, pulse.EventCheckoutStart, pulse.EventOrderCreated}
	weights := []int{40, 75, 88, 95, 100}
	created := d.EncodeTime(start)
	saved := d.Builder().Insert(db.Table(pulse.CampaignsTable)).Columns("id", "name", "notes", "created_at", "updated_at")
	for c := range wins {
		saved = saved.Values("camp-"+strconv.Itoa(c), "Campaign "+strconv.Itoa(c), "", created, created)
	}
	if q, args, err := saved.ToSql(); err != nil {
		tb.Fatal(err)
	} else if _, err := db.ExecContext(ctx, q, args...); err != nil {
		tb.Fatal(err)
	}
	cols := []string{"idempotency_key", "event", "campaign_id", "tracking_id", "payload", "status",
		"attempts", "next_attempt_at", "occurred_at", "created_at", "sent_at"}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	for lo := 0; lo < n; lo += rowsPerInsert {
		ins := d.Builder().Insert(db.Table(pulse.OutboxTable)).Columns(cols...)
		for i := lo; i < min(lo+rowsPerInsert, n); i++ {
			c := rng.IntN(len(wins))
			w := wins[c]
			at := start.AddDate(0, 0, w.from+rng.IntN(w.days)).Add(time.Duration(rng.IntN(86400)) * time.Second)
			r := rng.IntN(100)
			step := 0
			for weights[step] <= r {
				step++
			}
			payload := "{}"
			if steps[step] == pulse.EventOrderCreated {
				payload = fmt.Sprintf(`{"total":%d,"currency":"RUB"}`, 1000+rng.IntN(100000))
			}
			ins = ins.Values("bf-"+strconv.Itoa(i), steps[step], "camp-"+strconv.Itoa(c), "cust-"+strconv.Itoa(rng.IntN(customers)),
				payload, pulse.StatusSent, 1, created, d.EncodeTime(at), created, created)
		}
		q, args, err := ins.ToSql()
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			tb.Fatal(err)
		}
		if (lo+rowsPerInsert)%1_000_000 == 0 { // keep one transaction from growing without bound
			if err := tx.Commit(); err != nil {
				tb.Fatal(err)
			}
			if tx, err = db.BeginTx(ctx, nil); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}
