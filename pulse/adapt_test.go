package pulse_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse/pulsetest"
)

// concurrencyMeter counts the requests in flight at the receiver, keeping
// the most seen at once.
type concurrencyMeter struct {
	next     http.Handler
	now, top atomic.Int64
}

func (m *concurrencyMeter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := m.now.Add(1)
	defer m.now.Add(-1)
	for {
		t := m.top.Load()
		if n <= t || m.top.CompareAndSwap(t, n) {
			break
		}
	}
	m.next.ServeHTTP(w, r)
}

// Ensure the background sender raises the batches in flight above
// Concurrency while a backlog drains against a slow receiver, never above
// MaxConcurrency, and stays at Concurrency against a receiver that pushes
// back.
func TestAdaptiveConcurrency(t *testing.T) {
	for _, tc := range []struct {
		name     string
		faults   pulsetest.Faults
		min, max int64
	}{
		{"slow receiver", pulsetest.Faults{Latency: 400 * time.Millisecond}, 3, 6},
		{"failing receiver", pulsetest.Faults{Latency: 30 * time.Millisecond, ErrorRate: 1}, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := migratortest.MustOpenDB(t, "sqlite", sources()...)
			rv, err := pulsetest.New(pulsetest.Config{APIKey: testAPIKey, Secret: testSecret})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rv.Close() })
			MustSetFaults(t, rv, tc.faults)
			meter := &concurrencyMeter{next: rv}
			url := MustServe(t, meter)
			cfg := testConfig(url)
			cfg.Concurrency, cfg.MaxConcurrency, cfg.BatchSize = 2, 6, 20
			cfg.RetryBase, cfg.RetryMax = time.Second, time.Second
			p := MustNew(t, db, cfg)
			MustTrackN(t, p, db, "adapt", 600)
			if err := p.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2500 * time.Millisecond)
			if top := meter.top.Load(); top < tc.min || top > tc.max {
				t.Fatalf("at most %d requests in flight at once, want %d to %d", top, tc.min, tc.max)
			}
		})
	}
}
