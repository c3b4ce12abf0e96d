package pulse_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/sqlite"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

const (
	testAPIKey = "test-api-key"
	testSecret = "test-secret"
)

// sources are the migrations every test database gets.
func sources() []migrator.Source { return []migrator.Source{pulse.MigrationSource()} }

// MustServe serves h on a test server and returns its URL.
func MustServe(tb testing.TB, h http.Handler) string {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv.URL
}

// MustNewReceiver returns a reference receiver accepting testAPIKey and
// testSecret unless cfg says otherwise, and the URL it is served on.
func MustNewReceiver(tb testing.TB, cfg pulsetest.Config) (*pulsetest.Receiver, string) {
	tb.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = testAPIKey
	}
	if cfg.Secret == "" {
		cfg.Secret = testSecret
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	rv, err := pulsetest.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	url := MustServe(tb, rv)
	tb.Cleanup(func() { rv.Close() }) // runs before the server's Close
	return rv, url
}

// MustSetFaults sets the receiver's faults or fails the test.
func MustSetFaults(tb testing.TB, rv *pulsetest.Receiver, f pulsetest.Faults) {
	tb.Helper()
	if err := rv.SetFaults(f); err != nil {
		tb.Fatal(err)
	}
}

// testConfig is a Config for url with fast retries and a quiet logger. It
// sends one batch at a time, so that tests can count requests; on MySQL two
// concurrent claims may share the due events between them. Tests of
// concurrency raise it.
func testConfig(url string) pulse.Config {
	return pulse.Config{
		Concurrency: 1,
		URL:         url,
		APIKey:      testAPIKey,
		Secret:      testSecret,
		RetryBase:   5 * time.Millisecond,
		RetryMax:    50 * time.Millisecond,
		HTTPTimeout: 5 * time.Second,
		Lease:       10 * time.Second,
		Logger:      slog.New(slog.DiscardHandler),
	}
}

// MustNew returns a Pulse over db, stopped when the test ends.
func MustNew(tb testing.TB, db migrator.DB, cfg pulse.Config) *pulse.Pulse {
	tb.Helper()
	p, err := pulse.New(db, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Stop(ctx); err != nil {
			tb.Errorf("Stop: %v", err)
		}
	})
	return p
}

// testEvent is a valid event with key.
func testEvent(key string) pulse.Event {
	return pulse.Event{
		Name:           pulse.EventProductView,
		IdempotencyKey: key,
		CampaignID:     "spring24",
		TrackingID:     "trk-7f1c2b9e",
		Payload:        map[string]any{"product_id": 42},
	}
}

// MustTrack tracks ev and fails the test unless it was stored.
func MustTrack(tb testing.TB, p *pulse.Pulse, ev pulse.Event) {
	tb.Helper()
	res, err := p.Track(context.Background(), ev)
	if err != nil {
		tb.Fatal(err)
	}
	if res.Outcome != pulse.OutcomeStored {
		tb.Fatalf("Track(%s) = %+v, want stored", ev.IdempotencyKey, res)
	}
}

// MustTrackN stores n events keyed prefix-0 … prefix-(n-1) in one
// transaction (fast on SQLite) and returns their keys.
func MustTrackN(tb testing.TB, p *pulse.Pulse, db migrator.DB, prefix string, n int) []string {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = prefix + "-" + strconv.Itoa(i)
		res, err := p.TrackTx(ctx, tx, testEvent(keys[i]))
		if err != nil {
			tb.Fatal(err)
		}
		if res.Outcome != pulse.OutcomeStored {
			tb.Fatalf("TrackTx(%s) = %+v, want stored", keys[i], res)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return keys
}

// MustCounts returns the outbox counts or fails the test.
func MustCounts(tb testing.TB, p *pulse.Pulse) pulse.Counts {
	tb.Helper()
	c, err := p.Counts(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// MustLookup returns the outbox row of key or fails the test.
func MustLookup(tb testing.TB, p *pulse.Pulse, key string) pulse.StoredEvent {
	tb.Helper()
	e, err := p.Lookup(context.Background(), key)
	if err != nil {
		tb.Fatalf("Lookup(%s): %v", key, err)
	}
	return e
}

// MustSendOnce runs SendOnce and fails the test on an error.
func MustSendOnce(tb testing.TB, p *pulse.Pulse) pulse.SendReport {
	tb.Helper()
	rep, err := p.SendOnce(context.Background())
	if err != nil {
		tb.Fatalf("SendOnce: %v (report %+v)", err, rep)
	}
	return rep
}

// waitFor polls cond until it holds or timeout passes, then fails the test
// naming what it waited for.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clock is a settable clock for Config.Now and pulsetest.Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Now().UTC().Truncate(time.Second)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// captured is one request as a fake server saw it.
type captured struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	Batch  pulse.WireBatch
}

// fakeAPI is a Pulse API answering with answer, recording every request.
type fakeAPI struct {
	mu       sync.Mutex
	requests []captured
	answer   func(w http.ResponseWriter, r *http.Request, b pulse.WireBatch)
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var b pulse.WireBatch
	if err := json.Unmarshal(body, &b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, captured{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Batch: b})
	f.mu.Unlock()
	f.answer(w, r, b)
}

func (f *fakeAPI) Requests() []captured {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]captured(nil), f.requests...)
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// exampleSetup gives examples a migrated SQLite database in a temporary
// directory and a reference receiver accepting testAPIKey and testSecret.
func exampleSetup() (db migrator.DB, url string, cleanup func()) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pulse-example-")
	if err != nil {
		panic(err)
	}
	sqlDB, err := sqlite.Open(ctx, filepath.Join(dir, "shop.db"))
	if err != nil {
		panic(err)
	}
	db = migrator.DB{DB: sqlDB, Dialect: migrator.SQLite, Prefix: migrator.PrefixDefault}
	m, err := migrator.New(sqlDB, migrator.Config{Dialect: db.Dialect, Sources: sources()})
	if err != nil {
		panic(err)
	}
	if _, err := m.Up(ctx); err != nil {
		panic(err)
	}
	rv, err := pulsetest.New(pulsetest.Config{APIKey: testAPIKey, Secret: testSecret, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(rv)
	return db, srv.URL, func() {
		rv.Close()
		srv.Close()
		sqlDB.Close()
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}
