package pulse_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/migrator/sqlite"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

// The delivery core's benchmarks, each against a baseline in the same run
// (see BENCHMARKS.md):
//
//	go test -run '^$' -bench 'BenchmarkTrack' -benchtime 20000x -count 3 ./pulse/
//	go test -run '^$' -bench 'BenchmarkDrain' -benchtime 5x -count 3 ./pulse/
//
// An iteration of BenchmarkTrack* stores one event; one of BenchmarkDrain*
// drains a backlog of benchBacklog events. The *Paired benchmarks
// alternate the benchmark and its baseline within each iteration, so that
// the ratio survives a noisy machine.
//
// Track is measured against a bare INSERT of the same row; the drain to the
// reference receiver against the same sender with the network cut out, and
// against the bare claim-and-mark statements (the database's own limit).

// benchTrackEvent is event i: testEvent's shape under a unique key.
func benchTrackEvent(i int) pulse.Event {
	return testEvent("bench-" + strconv.Itoa(i))
}

// benchTrackConfig configures Pulse so that Track stores events; nothing
// sends them.
func benchTrackConfig() pulse.Config {
	return pulse.Config{URL: "http://127.0.0.1:9", APIKey: testAPIKey, Secret: testSecret, Logger: slog.New(slog.DiscardHandler)}
}

func BenchmarkTrack(b *testing.B) {
	for _, d := range migratortest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := migratortest.MustOpenDB(b, d, sources()...)
			p := MustNew(b, db, benchTrackConfig())
			ctx := context.Background()
			i := 0
			for b.Loop() {
				res, err := p.Track(ctx, benchTrackEvent(i))
				if err != nil || res.Outcome != pulse.OutcomeStored {
					b.Fatalf("Track: %+v, %v", res, err)
				}
				i++
			}
		})
	}
}

// BenchmarkTrackBaselineInsert is Track's baseline: the INSERT that Track
// runs, built the same way (one prebuilt statement, the same columns, the payload
// marshalled to JSON), without validation or encoding the wire form.
func BenchmarkTrackBaselineInsert(b *testing.B) {
	for _, d := range migratortest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := migratortest.MustOpenDB(b, d, sources()...)
			ctx := context.Background()
			i := 0
			for b.Loop() {
				benchInsertEvent(b, ctx, db, benchTrackEvent(i))
				i++
			}
		})
	}
}

// benchInsertEvent is the bare INSERT of ev's row, as Track builds it.
func benchInsertEvent(b *testing.B, ctx context.Context, db migrator.DB, ev pulse.Event) {
	d := db.Dialect
	payload, err := json.Marshal(ev.Payload)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	r, err := db.ExecContext(ctx, benchInsertSQL(b, db), ev.IdempotencyKey, ev.Name, ev.CampaignID, ev.TrackingID,
		string(payload), pulse.StatusPending, 0, d.EncodeTime(now), d.EncodeTime(now), d.EncodeTime(now))
	if err != nil {
		b.Fatal(err)
	}
	if n, err := r.RowsAffected(); err != nil || n != 1 {
		b.Fatalf("inserted %d rows, %v", n, err)
	}
}

// benchInsertSQLs caches the bare INSERT per table: the baseline pays for
// the statement's execution only, as Track does with its prebuilt one.
var benchInsertSQLs sync.Map

func benchInsertSQL(b *testing.B, db migrator.DB) string {
	key := string(db.Dialect) + "/" + db.Table(pulse.OutboxTable)
	if q, ok := benchInsertSQLs.Load(key); ok {
		return q.(string)
	}
	d := db.Dialect
	cols := []string{"idempotency_key", "event", "campaign_id", "tracking_id", "payload", "status",
		"attempts", "next_attempt_at", "occurred_at", "created_at"}
	q, _, err := d.InsertIgnore(d.Builder().Insert(db.Table(pulse.OutboxTable)).Columns(cols...).
		Values(make([]any, len(cols))...), "idempotency_key").ToSql()
	if err != nil {
		b.Fatal(err)
	}
	benchInsertSQLs.Store(key, q)
	return q
}

// BenchmarkTrackPaired measures the ratio the two benchmarks above
// estimate, robustly on a noisy machine: every iteration runs one Track and
// one bare INSERT into the same table, alternating which goes first, and
// times each; it reports both means and Track's overhead in percent.
//
// The sqlite-memory case takes the disk out: what is left is the CPU that
// Track adds to the INSERT (checks, the wire encoding for MaxBatchBytes).
func BenchmarkTrackPaired(b *testing.B) {
	type target struct {
		name string
		open func(b *testing.B) migrator.DB
	}
	var targets []target
	for _, d := range migratortest.Dialects {
		targets = append(targets, target{string(d), func(b *testing.B) migrator.DB { return migratortest.MustOpenDB(b, d, sources()...) }})
	}
	targets = append(targets, target{"sqlite-memory", func(b *testing.B) migrator.DB {
		sqlDB, err := sqlite.Open(context.Background(), ":memory:")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { sqlDB.Close() })
		db := migrator.DB{DB: sqlDB, Dialect: migrator.SQLite, Prefix: migrator.PrefixDefault}
		migratortest.MustMigrate(b, db, sources()...)
		return db
	}})
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			db := tg.open(b)
			p := MustNew(b, db, benchTrackConfig())
			ctx := context.Background()
			var inTrack, inInsert time.Duration
			track := func(i int) {
				start := time.Now()
				res, err := p.Track(ctx, benchTrackEvent(i))
				inTrack += time.Since(start)
				if err != nil || res.Outcome != pulse.OutcomeStored {
					b.Fatalf("Track: %+v, %v", res, err)
				}
			}
			insert := func(i int) {
				start := time.Now()
				benchInsertEvent(b, ctx, db, benchTrackEvent(i))
				inInsert += time.Since(start)
			}
			i := 0
			for b.Loop() {
				if i%2 == 0 {
					track(2 * i)
					insert(2*i + 1)
				} else {
					insert(2*i + 1)
					track(2 * i)
				}
				i++
			}
			b.ReportMetric(float64(inTrack.Nanoseconds())/float64(i), "track-ns")
			b.ReportMetric(float64(inInsert.Nanoseconds())/float64(i), "insert-ns")
			b.ReportMetric(100*(float64(inTrack)/float64(inInsert)-1), "overhead-%")
		})
	}
}

// benchSeedOutbox stores n due events of prefix with multi-row INSERTs in
// one transaction: the fastest way to a backlog, bypassing Track.
func benchSeedOutbox(tb testing.TB, db migrator.DB, prefix string, n int) {
	tb.Helper()
	const rowsPerInsert = 500
	ctx := context.Background()
	d := db.Dialect
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	now := d.EncodeTime(time.Now().Add(-time.Second))
	for lo := 0; lo < n; lo += rowsPerInsert {
		ins := d.Builder().Insert(db.Table(pulse.OutboxTable)).
			Columns("idempotency_key", "event", "campaign_id", "tracking_id", "payload", "status",
				"attempts", "next_attempt_at", "occurred_at", "created_at")
		for i := lo; i < min(lo+rowsPerInsert, n); i++ {
			ins = ins.Values(prefix+"-"+strconv.Itoa(i), pulse.EventProductView, "spring24", "trk-7f1c2b9e",
				`{"product_id":42}`, pulse.StatusPending, 0, now, now, now)
		}
		if _, err := ins.RunWith(tx).ExecContext(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// benchBacklog is the backlog one iteration of a drain benchmark seeds
// (untimed) and drains (timed).
const benchBacklog = 10000

// benchDrain times SendOnce delivering a backlog of benchBacklog events per
// iteration with cfg's defaults (batches of 500, two in flight), and
// reports rows/s.
func benchDrain(b *testing.B, db migrator.DB, cfg pulse.Config) {
	p := MustNew(b, db, cfg)
	ctx := context.Background()
	var took time.Duration
	iter := 0
	for b.Loop() {
		b.StopTimer()
		benchSeedOutbox(b, db, "drain-"+strconv.Itoa(iter), benchBacklog)
		b.StartTimer()
		start := time.Now()
		for sent := 0; sent < benchBacklog; {
			rep, err := p.SendOnce(ctx)
			if err != nil || rep.Claimed == 0 {
				b.Fatalf("SendOnce: %+v, %v with %d of %d sent", rep, err, sent, benchBacklog)
			}
			sent += rep.Sent
		}
		took += time.Since(start)
		iter++
	}
	b.ReportMetric(float64(iter*benchBacklog)/took.Seconds(), "rows/s")
}

// benchDrainConfig is the default Config, quiet.
func benchDrainConfig(url string) pulse.Config {
	return pulse.Config{URL: url, APIKey: testAPIKey, Secret: testSecret, Logger: slog.New(slog.DiscardHandler)}
}

// BenchmarkDrain: the backlog delivered to the reference receiver in
// process (httptest, no latency), which checks signatures, dedupes and
// answers per-event results, as the Pulse API does.
func BenchmarkDrain(b *testing.B) {
	for _, d := range migratortest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := migratortest.MustOpenDB(b, d, sources()...)
			_, url := MustNewReceiver(b, pulsetest.Config{MaxRecorded: -1})
			benchDrain(b, db, benchDrainConfig(url))
		})
	}
}

// benchCannedTransport answers every request 200 without a body (the
// spec's "all accepted") without a network: the request body is read, as
// a connection would, and nothing else happens.
type benchCannedTransport struct{}

func (benchCannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: http.NoBody, ContentLength: 0, Request: r,
	}, nil
}

// BenchmarkDrainBaselineDB is BenchmarkDrain's baseline: the same sender
// claims and marks the same rows in the same batches, but its HTTP client
// answers at once without a network or a receiver. What is left is the
// database work plus the sender's own encoding and signing, which
// BenchmarkDrain pays as well: the limit a drain could reach with an
// infinitely fast API.
func BenchmarkDrainBaselineDB(b *testing.B) {
	for _, d := range migratortest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := migratortest.MustOpenDB(b, d, sources()...)
			cfg := benchDrainConfig("http://pulse.invalid")
			cfg.HTTPClient = &http.Client{Transport: benchCannedTransport{}}
			benchDrain(b, db, cfg)
		})
	}
}

// BenchmarkDrainBaselineSQL is a cross-check of BenchmarkDrainBaselineDB
// without the sender: one loop runs the statements a claim and its record
// run (select 500 due rows, lease them by primary key, mark them sent),
// bare. It is the database's own limit for this work, single-threaded.
func BenchmarkDrainBaselineSQL(b *testing.B) {
	for _, d := range migratortest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := migratortest.MustOpenDB(b, d, sources()...)
			var took time.Duration
			iter := 0
			for b.Loop() {
				b.StopTimer()
				benchSeedOutbox(b, db, "sql-"+strconv.Itoa(iter), benchBacklog)
				b.StartTimer()
				start := time.Now()
				for done := 0; done < benchBacklog; {
					n := benchClaimAndMark(b, db, pulse.BatchSizeDefault)
					if n == 0 {
						b.Fatalf("nothing due with %d of %d marked", done, benchBacklog)
					}
					done += n
				}
				took += time.Since(start)
				iter++
			}
			b.ReportMetric(float64(iter*benchBacklog)/took.Seconds(), "rows/s")
		})
	}
}

// benchClaimAndMark claims up to limit due rows and marks them sent, with
// statements shaped like the sender's: a SELECT of the claim columns in due
// order (FOR UPDATE SKIP LOCKED on MySQL), an UPDATE leasing them, and an
// UPDATE in a transaction marking them sent under that lease.
func benchClaimAndMark(b *testing.B, db migrator.DB, limit int) int {
	ctx := context.Background()
	d := db.Dialect
	table := db.Table(pulse.OutboxTable)
	now := time.Now()
	owner := "bench#" + strconv.FormatInt(now.UnixNano(), 10)
	var opts *sql.TxOptions
	if d == migrator.MySQL {
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted} // as the sender's claim
	}
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT id, idempotency_key, event, campaign_id, tracking_id, payload, occurred_at, created_at, attempts, batch_id, status FROM "+
		table+" WHERE status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ? "+d.SkipLocked(),
		pulse.StatusPending, d.EncodeTime(now), limit)
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var (
			id                        int64
			key, ev, camp, trk, pl, s []byte
			occ, created              time.Time
			attempts                  int
			batchID                   *string
		)
		if err := rows.Scan(&id, &key, &ev, &camp, &trk, &pl, migrator.ScanTime(&occ), migrator.ScanTime(&created), &attempts, &batchID, &s); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	if len(ids) == 0 {
		return 0
	}
	in := "?" + strings.Repeat(",?", len(ids)-1)
	lease := append([]any{pulse.StatusSending, owner, d.EncodeTime(now.Add(time.Minute)), "00000000-0000-0000-0000-000000000000"}, benchAny(ids)...)
	if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET status = ?, lease_owner = ?, lease_expires_at = ?, batch_id = ? WHERE id IN ("+in+")", lease...); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	mark := append([]any{pulse.StatusSent, 200, d.EncodeTime(now)}, benchAny(ids)...)
	mark = append(mark, owner, pulse.StatusSending)
	if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET status = ?, lease_owner = NULL, lease_expires_at = NULL, attempts = attempts + 1, "+
		"last_error = NULL, last_http_status = ?, sent_at = ? WHERE id IN ("+in+") AND lease_owner = ? AND status = ?", mark...); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return len(ids)
}

func benchAny(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// BenchmarkDrainPaired measures the ratios the three benchmarks above
// estimate, robustly on a noisy machine: three databases get the same
// backlog of benchBacklog events each iteration; one is drained to the reference
// receiver, one by the sender with the network cut out, one by the bare
// statements, in rotating order, each timed. It reports the three rates
// and the drain's share of each baseline in percent.
func BenchmarkDrainPaired(b *testing.B) {
	const chunk = benchBacklog
	for _, d := range migratortest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			type variant struct {
				name  string
				db    migrator.DB
				drain func(n int)
				took  time.Duration
			}
			ctx := context.Background()
			sendAll := func(p *pulse.Pulse) func(int) {
				return func(n int) {
					for sent := 0; sent < n; {
						rep, err := p.SendOnce(ctx)
						if err != nil || rep.Claimed == 0 {
							b.Fatalf("SendOnce: %+v, %v with %d of %d sent", rep, err, sent, n)
						}
						sent += rep.Sent
					}
				}
			}
			_, url := MustNewReceiver(b, pulsetest.Config{MaxRecorded: -1})
			viaHTTP := benchDrainConfig(url)
			canned := benchDrainConfig("http://pulse.invalid")
			canned.HTTPClient = &http.Client{Transport: benchCannedTransport{}}
			vs := make([]*variant, 3)
			vs[0] = &variant{name: "drain", db: migratortest.MustOpenDB(b, d, sources()...)}
			vs[0].drain = sendAll(MustNew(b, vs[0].db, viaHTTP))
			vs[1] = &variant{name: "canned", db: migratortest.MustOpenDB(b, d, sources()...)}
			vs[1].drain = sendAll(MustNew(b, vs[1].db, canned))
			vs[2] = &variant{name: "sql", db: migratortest.MustOpenDB(b, d, sources()...)}
			vs[2].drain = func(n int) {
				for done := 0; done < n; {
					m := benchClaimAndMark(b, vs[2].db, pulse.BatchSizeDefault)
					if m == 0 {
						b.Fatalf("nothing due with %d of %d marked", done, n)
					}
					done += m
				}
			}
			iter := 0
			for b.Loop() {
				b.StopTimer()
				for _, v := range vs {
					benchSeedOutbox(b, v.db, "paired-"+strconv.Itoa(iter), chunk)
				}
				b.StartTimer()
				for k := range vs {
					v := vs[(iter+k)%len(vs)]
					start := time.Now()
					v.drain(chunk)
					v.took += time.Since(start)
				}
				iter++
			}
			rate := func(v *variant) float64 { return float64(iter*chunk) / v.took.Seconds() }
			b.ReportMetric(rate(vs[0]), "drain-rows/s")
			b.ReportMetric(rate(vs[1]), "canned-rows/s")
			b.ReportMetric(rate(vs[2]), "sql-rows/s")
			b.ReportMetric(100*rate(vs[0])/rate(vs[1]), "%-of-canned")
			b.ReportMetric(100*rate(vs[0])/rate(vs[2]), "%-of-sql")
		})
	}
}
