package pulse_test

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/migrator/mysql"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

// The Galera proofs run the senders of the Heavy proofs on the nodes of a
// MariaDB Galera cluster (TELECART_TEST_GALERA_DSNS), one sender per node.
// Row locks are node-local there: two senders on two nodes can both
// claim the same events. Usually the cluster fails the later commit at
// certification; sometimes both commit, and the claims' settling (see
// migrator.Fence) leaves the events to the later one. The proofs show
// that this costs a retry or a dropped claim, never a lost event or one
// delivered twice.

// galeraSenders starts a sender on each of dbs with cfg, SenderID
// galera-<node>, counting each one's requests.
func galeraSenders(t *testing.T, dbs []migrator.DB, cfg pulse.Config) ([]*pulse.Pulse, []*atomic.Int64) {
	t.Helper()
	ps := make([]*pulse.Pulse, len(dbs))
	requests := make([]*atomic.Int64, len(dbs))
	for i, db := range dbs {
		c := cfg
		c.SenderID = "galera-" + strconv.Itoa(i+1)
		c.Logger = slog.New(overruled{})
		requests[i] = new(atomic.Int64)
		c.HTTPClient = &http.Client{Transport: heavyCountingTransport{requests[i]}}
		ps[i] = MustNew(t, db, c)
	}
	for _, p := range ps {
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return ps, requests
}

// galeraTrack has each sender's process track its share of n events
// through its own node, all at once.
func galeraTrack(t *testing.T, ps []*pulse.Pulse, dbs []migrator.DB, prefix string, n, chunk int) {
	t.Helper()
	errs := make(chan error, len(ps))
	for i, p := range ps {
		go func() {
			errs <- heavyTrack(context.Background(), p, dbs[i], prefix, i*n/len(ps), (i+1)*n/len(ps), chunk)
		}()
	}
	for range ps {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// overruled counts the claims a sender's fence found taken over by a later
// claim on another node (the lost update Galera allows); it drops every
// other log line.
type overruled struct{}

var overruledClaims atomic.Int64

func (overruled) Enabled(context.Context, slog.Level) bool { return true }
func (overruled) WithAttrs([]slog.Attr) slog.Handler       { return overruled{} }
func (overruled) WithGroup(string) slog.Handler            { return overruled{} }
func (overruled) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "pulse: another sender's claim of the same events stood") {
		overruledClaims.Add(1)
	}
	return nil
}

// galeraStop stops every sender and returns the conflicts they retried,
// in all and per sender.
func galeraStop(t *testing.T, ps []*pulse.Pulse) (int64, string) {
	t.Helper()
	var total int64
	var each []string
	for _, p := range ps {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := p.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		cancel()
		total += p.ConflictsRetried()
		each = append(each, strconv.FormatInt(p.ConflictsRetried(), 10))
	}
	return total, strings.Join(each, "/")
}

func TestHeavyGaleraScaleOut(t *testing.T) {
	// Ensure one sender per node shares the queue through 5xx and 429
	// answers (faults that never let an event through): every event is
	// received exactly once, so no claim that lost at certification
	// committed, and every sender delivers some.
	n := heavySize(20000, 600)
	dbs := migratortest.MustOpenGalera(t, sources()...)
	rv, url := MustNewReceiver(t, pulsetest.Config{Seed: 14, MaxRecorded: -1})
	MustSetFaults(t, rv, pulsetest.Faults{ErrorRate: 0.2, TooManyRate: 0.1, Latency: 2 * time.Millisecond})
	cfg := heavyConfig(url)
	// No withheld answers here: a slow answer must not pass for a lost
	// one and be sent again.
	cfg.HTTPTimeout, cfg.Lease = 10*time.Second, 30*time.Second
	cfg.Concurrency = 2
	cfg.BatchSize = heavyBatchSize(n)
	// TELECART_TEST_GALERA_SETTLE (say 1ms or 10ms) tries another settle
	// time than the default; with -count=N it shows how short a settle
	// time still keeps every event to one delivery.
	if v := os.Getenv("TELECART_TEST_GALERA_SETTLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("TELECART_TEST_GALERA_SETTLE: %v", err)
		}
		cfg.ClusterSettle = d
	}
	start := time.Now()
	overruledBefore := overruledClaims.Load()
	ps, requests := galeraSenders(t, dbs, cfg)
	galeraTrack(t, ps, dbs, "galera", n, 500)
	heavyWaitDone(t, ps[0], rv, n, heavyTimeout())
	took := time.Since(start)
	conflicts, each := galeraStop(t, ps)

	heavyCheckDelivered(t, ps[0], rv, "galera", n)
	st := rv.Stats()
	if st.Received != int64(n) || st.Duplicates != 0 {
		t.Errorf("receiver %+v, want each of %d events received once", st, n)
	}
	var shares []string
	for i, r := range requests {
		shares = append(shares, strconv.FormatInt(r.Load(), 10))
		if r.Load() == 0 {
			t.Errorf("the sender on node %d sent nothing; the queue was not shared", i+1)
		}
	}
	t.Logf("%d events by %d senders on %d nodes in %s (batches of %d); requests per sender %s; "+
		"conflicts retried %d (%s per sender); settle time %s, claims overtaken by another node's and dropped at settling %d; receiver %+v",
		n, len(ps), len(dbs), took.Round(time.Millisecond), cfg.BatchSize, strings.Join(shares, "/"), conflicts, each,
		cmp.Or(cfg.ClusterSettle, migrator.SettleDefault), overruledClaims.Load()-overruledBefore, st)
}

func TestHeavyGaleraChaos(t *testing.T) {
	// Ensure the chaos proof holds with a sender on each node: through
	// 5xx, 429s, withheld answers, dropped connections and a full outage,
	// and with every connection of the second node's sender killed
	// mid-run, every event is delivered and none counted twice (repeats
	// of a withheld answer are answered duplicate).
	n := heavySize(5000, 600) // the scale-out proof runs 20,000 on the cluster; this one adds the chaos
	dsns := migratortest.FreshGaleraDSNs(t)
	dbs := make([]migrator.DB, len(dsns))
	for i, dsn := range dsns {
		dbs[i] = migratortest.MustOpenDSN(t, migrator.MySQL, dsn)
	}
	migratortest.MustMigrateGalera(t, dbs, sources()...)
	var reqs heavyRequests
	rv, url := MustNewReceiver(t, pulsetest.Config{Seed: 20261204, OnRequest: reqs.add, MaxRecorded: -1})
	chaos := pulsetest.Faults{ErrorRate: 0.30, TimeoutRate: 0.10, DropRate: 0.05, TooManyRate: 0.10, RetryAfter: time.Second}
	MustSetFaults(t, rv, chaos)
	cfg := heavyConfig(url)
	cfg.Concurrency = 2
	cfg.BatchSize = heavyBatchSize(n)
	start := time.Now()
	ps, _ := galeraSenders(t, dbs, cfg)
	outageOver := heavyOutageAt(t.Context(), rv, chaos, int64(n/2), time.Duration(heavySize(2000, 500))*time.Millisecond)
	galeraTrack(t, ps, dbs, "gchaos", n, 500)
	// Once all is tracked (a host's transaction cut off by the kill would
	// be the host's to run again), while the senders are busy.
	killed := make(chan int, 1)
	go func() { killed <- galeraKillAt(t.Context(), rv, dsns[1], int64(n/3), int64(n)) }()
	heavyWaitDone(t, ps[0], rv, n, heavyTimeout())
	took := time.Since(start)
	select {
	case err := <-outageOver:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the outage did not end after every event was delivered")
	}
	var k int
	select {
	case k = <-killed:
	case <-time.After(5 * time.Second):
	}
	if k == 0 {
		t.Error("no connection of the second node's sender was killed before every event was delivered")
	}
	conflicts, each := galeraStop(t, ps)
	heavyCheckDelivered(t, ps[0], rv, "gchaos", n)
	t.Logf("%d events by %d senders on %d nodes in %s, %d connections killed on node 2; conflicts retried %d (%s per sender); receiver %+v; %s",
		n, len(ps), len(dbs), took.Round(time.Millisecond), k, conflicts, each, rv.Stats(), &reqs)
	if reqs.count(pulsetest.FaultOutage) == 0 || reqs.count(pulsetest.FaultError) == 0 {
		t.Errorf("the faults did not happen; %s", &reqs)
	}
}

// galeraKillAt waits until rv has accepted at events, then kills every
// connection to the database of dsn on its node (the sender's, idle ones
// in the pool), and returns how many it killed: none when all n events
// were through already.
func galeraKillAt(ctx context.Context, rv *pulsetest.Receiver, dsn string, at, n int64) int {
	for rv.Stats().Unique < at {
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(2 * time.Millisecond):
		}
	}
	cfg, err := mysql.Config(dsn)
	if err != nil {
		return 0
	}
	name := cfg.DBName
	cfg.DBName = ""
	admin, err := mysql.OpenConfig(ctx, cfg)
	if err != nil {
		return 0
	}
	defer admin.Close()
	rows, err := admin.QueryContext(ctx, "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()", name)
	if err != nil {
		return 0
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if rows.Scan(&id) == nil {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if rv.Stats().Unique >= n {
		return 0
	}
	killed := 0
	for _, id := range ids {
		if _, err := admin.ExecContext(ctx, "KILL CONNECTION "+strconv.FormatInt(id, 10)); err == nil {
			killed++
		}
	}
	return killed
}
