package pulse_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

// The Heavy proofs deliver thousands of events through faults, crashes and
// competing senders, and check that none is lost and none is counted twice.
// CI runs them small under -race, then at full size in a plain pass with
// TELECART_TEST_FULL=1:
//
//	TELECART_TEST_FULL=1 go test -run 'Heavy' ./pulse/

// heavyFullVar, set to 1, runs the Heavy proofs at full size.
const heavyFullVar = "TELECART_TEST_FULL"

func heavyIsFull() bool { return os.Getenv(heavyFullVar) == "1" }

// heavySize returns full with TELECART_TEST_FULL=1 and small otherwise, so
// that the -race pass (where SQLite is about 30× slower) stays fast.
func heavySize(full, small int) int {
	if heavyIsFull() {
		return full
	}
	return small
}

// heavyTimeout is how long a proof may wait for delivery: generous, since
// a timeout here means a stuck sender, not a slow one.
func heavyTimeout() time.Duration {
	if heavyIsFull() {
		return 4 * time.Minute
	}
	return 90 * time.Second
}

// heavyConfig is a Config for url that retries fast and never gives up: a
// transient failure is retried within RetryMax, a withheld answer costs
// HTTPTimeout, a Retry-After stalls at most MaxRetryAfter, and MaxAttempts
// is out of reach, so that every event must end up sent.
func heavyConfig(url string) pulse.Config {
	cfg := testConfig(url)
	cfg.Concurrency = 4
	cfg.RetryBase = 5 * time.Millisecond
	cfg.RetryMax = 200 * time.Millisecond
	cfg.MaxAttempts = 100_000
	cfg.HTTPTimeout = 300 * time.Millisecond
	cfg.Lease = 3 * time.Second
	cfg.MaxRetryAfter = 200 * time.Millisecond
	cfg.SweepSchedule = "@every 1s"
	return cfg
}

// heavyBatchSize makes about 400 batches of n events (10 to 500 events
// each), so that a small run still sends enough requests for every fault.
func heavyBatchSize(n int) int { return min(max(n/400, 10), 500) }

// heavyKey is the idempotency key of event i of prefix.
func heavyKey(prefix string, i int) string { return prefix + "-" + strconv.Itoa(i) }

// heavyEvent is event i of prefix. Its payload carries i, so that whatever
// key a request carries, the event it belongs to is known.
func heavyEvent(prefix string, i int) pulse.Event {
	ev := testEvent(heavyKey(prefix, i))
	ev.Payload = json.RawMessage(`{"seq":` + strconv.Itoa(i) + `}`)
	return ev
}

// heavyTrack stores events from … to-1 of prefix with TrackTx, chunk events
// per transaction, and wakes the sender after every commit, as a host
// does. A transaction that loses a conflict is run again, as a host on a
// Galera cluster must (there a node aborts a local transaction whose locks
// a replicated one needs). It returns an error rather than failing the
// test, so that it may run in a goroutine of its own.
func heavyTrack(ctx context.Context, p *pulse.Pulse, db migrator.DB, prefix string, from, to, chunk int) error {
	for lo := from; lo < to; lo += chunk {
		err := migrator.ConflictRetry{}.Do(ctx, func(ctx context.Context) error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			for i := lo; i < min(lo+chunk, to); i++ {
				res, err := p.TrackTx(ctx, tx, heavyEvent(prefix, i))
				if err != nil {
					return err
				}
				if res.Outcome != pulse.OutcomeStored {
					return fmt.Errorf("TrackTx(%s) = %+v, want stored", heavyKey(prefix, i), res)
				}
			}
			return tx.Commit()
		})
		if err != nil {
			return err
		}
		p.Wake()
	}
	return nil
}

// heavyWaitDone waits until the outbox holds n events and none is pending
// or sending, and returns how long that took. It fails the test, with the
// counts and the sender's state, when timeout passes first.
func heavyWaitDone(tb testing.TB, p *pulse.Pulse, rv *pulsetest.Receiver, n int, timeout time.Duration) time.Duration {
	tb.Helper()
	start := time.Now()
	var c pulse.Counts
	for {
		var err error
		if c, err = p.Counts(context.Background()); err != nil {
			tb.Fatal(err)
		}
		if c.Pending == 0 && c.Sending == 0 && c.Sent+c.Failed >= int64(n) {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			tb.Fatalf("after %s: counts %+v of %d events, sender %+v, receiver %+v", timeout, c, n, p.State(), rv.Stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// heavyCheckDelivered proves "0 lost, 0 unique duplicates": the outbox
// holds n sent events and nothing else, the receiver accepted each of
// their keys, and it counts exactly n distinct keys (repeats of a key are
// allowed in what it received, and answered duplicate).
func heavyCheckDelivered(tb testing.TB, p *pulse.Pulse, rv *pulsetest.Receiver, prefix string, n int) {
	tb.Helper()
	if c := MustCounts(tb, p); c != (pulse.Counts{Sent: int64(n)}) {
		tb.Errorf("outbox counts %+v, want all %d sent", c, n)
	}
	var missing []string
	for i := range n {
		if k := heavyKey(prefix, i); !rv.Seen(k) {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		tb.Errorf("%d of %d events never reached the receiver, e.g. %s", len(missing), n, strings.Join(missing[:min(len(missing), 10)], ", "))
	}
	st := rv.Stats()
	if st.Unique != int64(n) || st.Rejected != 0 {
		tb.Errorf("receiver %+v, want %d unique and none rejected", st, n)
	}
	if st.Received != st.Unique+st.Duplicates {
		tb.Errorf("receiver %+v: received ≠ unique + duplicates", st)
	}
}

// heavyRequests counts the receiver's requests by the fault that decided
// them ("" for none), through its OnRequest hook.
type heavyRequests struct {
	mu      sync.Mutex
	byFault map[string]int
}

func (h *heavyRequests) add(r pulsetest.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byFault == nil {
		h.byFault = map[string]int{}
	}
	h.byFault[r.Fault]++
}

func (h *heavyRequests) count(fault string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.byFault[fault]
}

func (h *heavyRequests) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var parts []string
	total := 0
	for f, n := range h.byFault {
		total += n
		if f == "" {
			f = "none"
		}
		parts = append(parts, fmt.Sprintf("%s %d", f, n))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%d requests: %s", total, strings.Join(parts, ", "))
}

// heavyOutageAt turns normal into a full outage (503 with Retry-After to
// every request) once rv has accepted at events, for d, then back to
// normal. The channel it returns reports when the outage is over (nil) or
// that it never happened.
func heavyOutageAt(ctx context.Context, rv *pulsetest.Receiver, normal pulsetest.Faults, at int64, d time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		for rv.Stats().Unique < at {
			select {
			case <-ctx.Done():
				done <- errors.New("the outage never started")
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
		down := normal
		down.Outage = true
		if err := rv.SetFaults(down); err != nil {
			done <- err
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
		done <- rv.SetFaults(normal)
	}()
	return done
}

func TestHeavyChaos(t *testing.T) {
	n := heavySize(20000, 600)
	outage := time.Duration(heavySize(2000, 500)) * time.Millisecond
	migratortest.Each(t, sources(), func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		var reqs heavyRequests
		rv, url := MustNewReceiver(t, pulsetest.Config{Seed: 20261125, OnRequest: reqs.add, MaxRecorded: -1})
		chaos := pulsetest.Faults{
			ErrorRate:   0.30, // 500, 502 or 503
			TimeoutRate: 0.10, // accepted, but the answer never comes
			DropRate:    0.05, // accepted, then the connection is closed
			TooManyRate: 0.10, // 429 with Retry-After: 1
			RetryAfter:  time.Second,
		}
		MustSetFaults(t, rv, chaos)
		cfg := heavyConfig(url)
		cfg.BatchSize = heavyBatchSize(n)
		p := MustNew(t, db, cfg)
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}

		// Ensure every event is delivered, none lost and none counted twice,
		// through 5xx, 429s, withheld answers, dropped connections, and a
		// full outage once half of them are through; events are tracked
		// while the sender runs.
		start := time.Now()
		outageOver := heavyOutageAt(t.Context(), rv, chaos, int64(n/2), outage)
		tracked := make(chan error, 1)
		go func() { tracked <- heavyTrack(ctx, p, db, "chaos", 0, n, 1000) }()
		if err := <-tracked; err != nil {
			t.Fatal(err)
		}
		heavyWaitDone(t, p, rv, n, heavyTimeout())
		took := time.Since(start)
		select {
		case err := <-outageOver:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the outage did not end after every event was delivered")
		}
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := p.Stop(stopCtx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		heavyCheckDelivered(t, p, rv, "chaos", n)
		st := rv.Stats()
		t.Logf("%d events in %s (batches of %d, concurrency %d); receiver %+v; %s",
			n, took.Round(time.Millisecond), cfg.BatchSize, cfg.Concurrency, st, &reqs)

		// Ensure the faults really happened: the outage always, and at full
		// size each kind of fault.
		if reqs.count(pulsetest.FaultOutage) == 0 {
			t.Errorf("no request met the outage; %s", &reqs)
		}
		kinds := []string{pulsetest.FaultError, pulsetest.FaultTooMany, pulsetest.FaultTimeout, pulsetest.FaultDrop}
		if !heavyIsFull() {
			kinds = kinds[:1]
		}
		for _, f := range kinds {
			if reqs.count(f) == 0 {
				t.Errorf("no request met fault %s; %s", f, &reqs)
			}
		}
	})
}

// heavyCountingTransport counts the requests of one sender.
type heavyCountingTransport struct{ n *atomic.Int64 }

func (c heavyCountingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestHeavyScaleOut(t *testing.T) {
	n := heavySize(20000, 800)
	const senders = 4
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			// Ensure four senders, each with its own connection pool on one
			// database (as four machines would have; on SQLite four handles
			// on one file), share the queue: each event is received exactly
			// once, and each sender delivers some of them. Each sender's
			// process also tracks a quarter of the events while all send.
			ctx := context.Background()
			dsn := migratortest.FreshDSN(t, d)
			rv, url := MustNewReceiver(t, pulsetest.Config{MaxRecorded: -1})
			var (
				ps       [senders]*pulse.Pulse
				dbs      [senders]migrator.DB
				requests [senders]atomic.Int64
			)
			for i := range senders {
				dbs[i] = migratortest.MustOpenDSN(t, d, dsn)
				if i == 0 {
					migratortest.MustMigrate(t, dbs[i], sources()...)
				}
				cfg := heavyConfig(url)
				// No faults here: a slow answer under -race must not pass
				// for a lost one and be sent again.
				cfg.HTTPTimeout, cfg.Lease = 10*time.Second, 30*time.Second
				cfg.Concurrency = 2
				cfg.BatchSize = heavyBatchSize(n)
				cfg.SenderID = "scale-out-" + strconv.Itoa(i)
				cfg.HTTPClient = &http.Client{Transport: heavyCountingTransport{&requests[i]}}
				ps[i] = MustNew(t, dbs[i], cfg)
			}
			start := time.Now()
			for _, p := range ps {
				if err := p.Start(ctx); err != nil {
					t.Fatal(err)
				}
			}
			errs := make(chan error, senders)
			for i, p := range ps {
				go func() { errs <- heavyTrack(ctx, p, dbs[i], "scale", i*n/senders, (i+1)*n/senders, 500) }()
			}
			for range senders {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			trackedIn := time.Since(start)
			heavyWaitDone(t, ps[0], rv, n, heavyTimeout())
			took := time.Since(start)
			for _, p := range ps {
				stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				if err := p.Stop(stopCtx); err != nil {
					t.Errorf("Stop: %v", err)
				}
				cancel()
			}
			heavyCheckDelivered(t, ps[0], rv, "scale", n)
			st := rv.Stats()
			if st.Received != int64(n) || st.Duplicates != 0 || st.Requests != st.Batches || st.Faulted != 0 {
				t.Errorf("receiver %+v, want each of %d events received once, in requests that all succeeded", st, n)
			}
			// On MySQL every sender gets a share (SKIP LOCKED). SQLite has one
			// writer, so shares are not promised; what counts there is that
			// claims competed, by at least two senders, and no event was
			// taken twice.
			var shares []string
			active := 0
			for i := range requests {
				r := requests[i].Load()
				shares = append(shares, strconv.FormatInt(r, 10))
				if r > 0 {
					active++
				} else if d == migrator.MySQL {
					t.Errorf("sender %d sent nothing; the queue was not shared", i)
				}
			}
			if active < 2 {
				t.Errorf("only %d sender sent anything; the claims never competed", active)
			}
			t.Logf("%d events by %d senders in %s, tracked in the first %s (batches of %d); requests per sender %s; receiver %+v",
				n, senders, took.Round(time.Millisecond), trackedIn.Round(time.Millisecond), heavyBatchSize(n), strings.Join(shares, "/"), st)
		})
	}
}
