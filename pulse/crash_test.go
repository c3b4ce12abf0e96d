package pulse_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

// heavyCrashChildVar marks the process TestHeavyCrash starts as its
// sending process; its value is a heavyCrashSpec in JSON.
const heavyCrashChildVar = "TELECART_TEST_PULSE_CRASH_CHILD"

// heavyCrashSpec tells the child which database to send from and where.
type heavyCrashSpec struct {
	Dialect   migrator.Dialect `json:"dialect"`
	DSN       string           `json:"dsn"` // FreshDSN's: a file path or a go-sql-driver DSN
	URL       string           `json:"url"`
	BatchSize int              `json:"batch_size"`
}

// Timing of the crash proof. The receiver's latency keeps batches in
// flight most of the time; the child's lease is short so that the events
// a killed child held are reclaimed soon.
const (
	heavyCrashLatency = 40 * time.Millisecond
	heavyCrashTimeout = time.Second
	heavyCrashLease   = 1500 * time.Millisecond
	heavyCrashKills   = 5
)

// TestHeavyCrashChild is the sending process of TestHeavyCrash: it starts
// the background sender on the database it is given and exits once nothing
// is pending or sending. It runs only as TestHeavyCrash's subprocess.
func TestHeavyCrashChild(t *testing.T) {
	raw := os.Getenv(heavyCrashChildVar)
	if raw == "" {
		t.Skip("the sending process of TestHeavyCrash, which runs it with " + heavyCrashChildVar + " set; nothing to do alone")
	}
	var spec heavyCrashSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatalf("%s: %v", heavyCrashChildVar, err)
	}
	db := migratortest.MustOpenDSN(t, spec.Dialect, spec.DSN)
	cfg := heavyConfig(spec.URL)
	cfg.Concurrency = 2
	cfg.BatchSize = spec.BatchSize
	cfg.HTTPTimeout, cfg.Lease = heavyCrashTimeout, heavyCrashLease
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, err := pulse.New(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(heavyTimeout())
	for {
		c, err := p.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Pending == 0 && c.Sending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child: counts %+v after %s, sender %+v", c, heavyTimeout(), p.State())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
}

// heavyChild is a running sending process.
type heavyChild struct {
	cmd  *exec.Cmd
	out  bytes.Buffer // stdout and stderr; read only after done
	done chan struct{}
	err  error // cmd.Wait's, once done
}

// heavyStartChild runs this test binary as TestHeavyCrashChild with spec.
func heavyStartChild(tb testing.TB, spec heavyCrashSpec) *heavyChild {
	tb.Helper()
	raw, err := json.Marshal(spec)
	if err != nil {
		tb.Fatal(err)
	}
	c := &heavyChild{done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestHeavyCrashChild$", "-test.count=1", "-test.v")
	c.cmd.Env = append(os.Environ(), heavyCrashChildVar+"="+string(raw))
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	tb.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// kill SIGKILLs the child, as the OOM killer or a power cut would, and
// waits until it is gone. It reports false when the child had exited
// before.
func (c *heavyChild) kill() bool {
	select {
	case <-c.done:
		return false
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
	var exit *exec.ExitError
	if errors.As(c.err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	return false
}

// heavyWire sits in front of the receiver. It records every event of every
// request byte for byte, to prove that a repeat is the same event under
// the same key, and it can SIGKILL the child at the worst moment: after the
// receiver has accepted a batch and before the child hears so.
type heavyWire struct {
	rv     *pulsetest.Receiver
	prefix string
	n      int

	mu       sync.Mutex
	first    map[string][]byte // key → the event as first sent
	batches  map[string]string // key → X-Pulse-Batch-Id of its first accepted request
	accepted map[string]int    // key → requests answered 200 that carried it
	sameID   int               // repeats under the batch id of the first acceptance
	problems []string          // unknown keys, changed events, keys that do not match the payload

	armed  int64       // kill after an accepted batch once rv has this many unique events; 0: off
	victim *heavyChild // the child to kill
	killed chan bool   // receives kill's result
}

func newHeavyWire(rv *pulsetest.Receiver, prefix string, n int) *heavyWire {
	return &heavyWire{rv: rv, prefix: prefix, n: n,
		first: map[string][]byte{}, batches: map[string]string{}, accepted: map[string]int{}}
}

func (h *heavyWire) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the child died mid-request
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var batch struct {
		Events []json.RawMessage `json:"events"`
	}
	_ = json.Unmarshal(body, &batch) // a malformed body is the receiver's to answer
	keys := h.note(batch.Events)

	rec := httptest.NewRecorder()
	h.rv.ServeHTTP(rec, r)

	// A recorder says 200 when nothing was written, as when the child went
	// away during the latency: only a body means the batch was accepted.
	ok := rec.Code == http.StatusOK && rec.Body.Len() > 0
	h.mu.Lock()
	if ok {
		id := r.Header.Get(pulse.HeaderBatchID)
		for _, k := range keys {
			if h.accepted[k]++; h.accepted[k] == 1 {
				h.batches[k] = id
			} else if h.batches[k] == id {
				h.sameID++
			}
		}
	}
	var victim *heavyChild
	if h.armed > 0 && ok && h.rv.Stats().Unique >= h.armed {
		victim, h.armed = h.victim, 0
	}
	h.mu.Unlock()
	if victim != nil {
		h.killed <- victim.kill() // the answer below reaches no one
	}

	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// note records the events of one request and returns their keys.
func (h *heavyWire) note(events []json.RawMessage) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := make([]string, 0, len(events))
	for _, raw := range events {
		var ev struct {
			Key     string `json:"idempotency_key"`
			Payload struct {
				Seq *int `json:"seq"`
			} `json:"payload"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			h.problems = append(h.problems, fmt.Sprintf("unreadable event %s: %v", raw, err))
			continue
		}
		keys = append(keys, ev.Key)
		if seq := ev.Payload.Seq; seq == nil || *seq < 0 || *seq >= h.n || heavyKey(h.prefix, *seq) != ev.Key {
			h.problems = append(h.problems, fmt.Sprintf("key %q is not the key tracked for event %s", ev.Key, raw))
			continue
		}
		if prev, ok := h.first[ev.Key]; !ok {
			h.first[ev.Key] = bytes.Clone(raw)
		} else if !bytes.Equal(prev, raw) {
			h.problems = append(h.problems, fmt.Sprintf("event %q changed between sends:\n%s\n%s", ev.Key, prev, raw))
		}
	}
	return keys
}

// arm makes the next accepted batch, once rv holds at unique events, kill
// victim before its answer leaves.
func (h *heavyWire) arm(victim *heavyChild, at int64) <-chan bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed, h.victim, h.killed = at, victim, make(chan bool, 1)
	return h.killed
}

func (h *heavyWire) disarm() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed = 0
}

func TestHeavyCrash(t *testing.T) {
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			heavyCrash(t, d, []string{migratortest.FreshDSN(t, d)}, heavySize(20000, 600))
		})
	}
}

// TestHeavyGaleraCrash is the crash proof on a Galera cluster: each
// sending process works through the next node, so a killed process's
// events are reclaimed through another node than the one that leased them.
// At full size it sends 5,000 events, not 20,000: tracking is the slow
// part on a cluster, and the scale-out and chaos proofs send 20,000 there.
func TestHeavyGaleraCrash(t *testing.T) {
	heavyCrash(t, migrator.MySQL, migratortest.FreshGaleraDSNs(t), heavySize(5000, 600))
}

// heavyCrash runs the crash proof with n events on the database of dsns,
// the k-th sending process through dsns[k % len(dsns)].
func heavyCrash(t *testing.T, d migrator.Dialect, dsns []string, n int) {
	batchSize := heavyBatchSize(n) * 2 // 100 at full size: fewer, longer batches in flight
	// Ensure a sending process SIGKILLed again and again, mid-batch,
	// loses no event: its leased events are reclaimed by the next
	// process once the lease expires, and every repeat the receiver
	// sees is the same event, byte for byte, under the same key.
	db := migratortest.MustOpenDSN(t, d, dsns[0])
	nodes := []migrator.DB{db}
	if len(dsns) > 1 {
		for _, dsn := range dsns[1:] {
			nodes = append(nodes, migratortest.MustOpenDSN(t, d, dsn))
		}
		migratortest.MustMigrateGalera(t, nodes, sources()...)
	} else {
		migratortest.MustMigrate(t, db, sources()...)
	}
	rv, err := pulsetest.New(pulsetest.Config{APIKey: testAPIKey, Secret: testSecret, Logger: slog.New(slog.DiscardHandler), MaxRecorded: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rv.Close() })
	MustSetFaults(t, rv, pulsetest.Faults{Latency: heavyCrashLatency})
	wire := newHeavyWire(rv, "crash", n)
	url := MustServe(t, wire)
	p := MustNew(t, db, heavyConfig(url)) // tracks and counts; never sends
	if err := heavyTrack(context.Background(), p, db, "crash", 0, n, 1000); err != nil {
		t.Fatal(err)
	}
	// A child that starts on a node which has not applied the events yet
	// would find nothing to send and exit: wait until every node has them.
	for _, node := range nodes[1:] {
		heavyWaitPending(t, MustNew(t, node, heavyConfig(url)), n)
	}
	spec := func(k int) heavyCrashSpec {
		return heavyCrashSpec{Dialect: d, DSN: dsns[k%len(dsns)], URL: url, BatchSize: batchSize}
	}

	// Kill k falls once k/(kills+1) of the events are through: the odd
	// ones right after the receiver accepted a batch (the child never
	// records it, so its events must be sent again), the even ones
	// at a random moment (claiming, waiting for an answer, recording).
	start := time.Now()
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	for k := 1; k <= heavyCrashKills; k++ {
		child := heavyStartChild(t, spec(k))
		at := int64(n * k / (heavyCrashKills + 1))
		mode := "after an accepted batch"
		var killed bool
		if k%2 == 1 {
			ch := wire.arm(child, at)
			select {
			case killed = <-ch:
			case <-child.done: // killed by the wire (its result follows), or exited
				select {
				case killed = <-ch:
				case <-time.After(time.Second):
				}
			case <-time.After(heavyTimeout()):
			}
			wire.disarm()
		} else {
			mode = "at a random moment"
			deadline := time.Now().Add(heavyTimeout())
			for rv.Stats().Unique < at && time.Now().Before(deadline) && !heavyExited(child) {
				time.Sleep(2 * time.Millisecond)
			}
			time.Sleep(time.Duration(rng.Int64N(int64(2 * heavyCrashLatency))))
			killed = child.kill()
		}
		if !killed {
			child.kill() // in case it still runs: its output is read below
			t.Fatalf("kill %d: the child was not killed (it exited: %v); unique %d of %d, want %d; output:\n%s",
				k, child.err, rv.Stats().Unique, n, at, child.out.String())
		}
		c := MustCounts(t, p)
		t.Logf("kill %d %s: %d of %d events accepted; outbox %+v", k, mode, rv.Stats().Unique, n, c)
		if c.Pending+c.Sending == 0 {
			t.Fatalf("kill %d: nothing left to send; the kills came too late", k)
		}
	}

	// A last process finishes the job, reclaiming what the last
	// killed one held.
	child := heavyStartChild(t, spec(heavyCrashKills+1))
	select {
	case <-child.done:
	case <-time.After(heavyTimeout()):
		child.kill()
		t.Fatalf("the last child did not finish in %s; outbox %+v; output:\n%s", heavyTimeout(), MustCounts(t, p), child.out.String())
	}
	if child.err != nil {
		t.Fatalf("the last child: %v; output:\n%s", child.err, child.out.String())
	}
	took := time.Since(start)

	heavyCheckDelivered(t, p, rv, "crash", n)
	wire.mu.Lock()
	defer wire.mu.Unlock()
	for i, pr := range wire.problems {
		if i == 10 {
			t.Errorf("… and %d more", len(wire.problems)-10)
			break
		}
		t.Error(pr)
	}
	repeats := 0
	for _, c := range wire.accepted {
		if c > 1 {
			repeats++
		}
	}
	if len(wire.first) != n {
		t.Errorf("%d distinct keys sent, want %d", len(wire.first), n)
	}
	// The kills right after an acceptance guarantee repeats: without
	// them this proof would prove nothing about repeats.
	if repeats == 0 {
		t.Error("no event was received twice; the kills did not hit a batch in flight")
	}
	st := rv.Stats()
	t.Logf("%d events, %d kills, %s; %d events received more than once, all identical under their key; "+
		"%d repeats kept their first batch id; receiver %+v", n, heavyCrashKills, took.Round(time.Millisecond),
		repeats, wire.sameID, st)
}

// heavyExited reports whether the child has exited.
func heavyExited(c *heavyChild) bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// heavyWaitPending waits until p counts n pending events.
func heavyWaitPending(t *testing.T, p *pulse.Pulse, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := p.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c.Pending == int64(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("counts %+v after 30s; want %d pending", c, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
