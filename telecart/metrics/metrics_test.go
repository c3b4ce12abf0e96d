package metrics_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telecart/metrics"
)

// noCatalog and noOrders satisfy telecart.Config; these tests never order.
type noCatalog struct{}

func (noCatalog) Products(context.Context, telecart.ProductQuery) (telecart.ProductPage, error) {
	return telecart.ProductPage{}, nil
}

func (noCatalog) Product(context.Context, string, telecart.ImageSize) (telecart.Product, error) {
	return telecart.Product{}, telecart.ErrProductNotFound
}

type noOrders struct{}

func (noOrders) PlaceOrder(context.Context, *sql.Tx, telecart.NewOrder) (telecart.PlacedOrder, error) {
	return telecart.PlacedOrder{}, fmt.Errorf("no orders here")
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
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

// mustTeleCart returns a migrated, not started TeleCart over db whose Pulse
// delivers to srv, on the clock clk.
func mustTeleCart(tb testing.TB, db migrator.DB, srv *pulsetest.Server, clk *clock) *telecart.TeleCart {
	tb.Helper()
	tc, err := telecart.New(telecart.Config{
		DB: db, Catalog: noCatalog{}, Orders: noOrders{}, AdminAuth: telecart.BearerAuth("admin"),
		BotToken: "7000000001:metrics-test",
		Pulse:    pulse.Config{URL: srv.URL, APIKey: srv.APIKey, Secret: srv.Secret, Concurrency: 1},
		Now:      clk.Now, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := tc.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return tc
}

// mustTrack stores n events keyed prefix-i through tc's Pulse.
func mustTrack(tb testing.TB, tc *telecart.TeleCart, prefix string, n int) {
	tb.Helper()
	for i := range n {
		res, err := tc.Pulse().Track(context.Background(), pulse.Event{Name: pulse.EventProductView,
			IdempotencyKey: fmt.Sprintf("%s-%d", prefix, i), CampaignID: "spring24", TrackingID: "trk-7f1c2b9e"})
		if err != nil || res.Outcome != pulse.OutcomeStored {
			tb.Fatalf("Track: %+v, %v", res, err)
		}
	}
}

// gather collects c on a registry of its own and returns the families by
// name, failing the test on a scrape error.
func gather(tb testing.TB, c prometheus.Collector) map[string]*dto.MetricFamily {
	tb.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		tb.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		tb.Fatalf("gathering: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// value returns the value of the series of family name whose labels
// include labels (name=value pairs), failing the test when there is none.
func value(tb testing.TB, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	tb.Helper()
	f, ok := fams[name]
	if !ok {
		tb.Fatalf("no family %s", name)
	}
	for _, m := range f.GetMetric() {
		if hasLabels(m, labels) {
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	tb.Fatalf("no series of %s with %v", name, labels)
	return 0
}

func hasLabels(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Ensure New refuses what cannot work, saying which field.
func TestNew_Errors(t *testing.T) {
	if _, err := metrics.New(nil, metrics.Config{}); err == nil || !strings.Contains(err.Error(), "tc is nil") {
		t.Errorf("New(nil) = %v", err)
	}
	db := migratortest.MustOpenDB(t, migrator.SQLite)
	tc := mustTeleCart(t, db, pulsetest.NewServer(t, pulsetest.Config{}), &clock{t: time.Now()})
	if _, err := metrics.New(tc, metrics.Config{CountsTTL: -time.Second}); err == nil || !strings.Contains(err.Error(), "CountsTTL") {
		t.Errorf("New with a negative CountsTTL = %v", err)
	}
}

// Ensure the outbox counts are read at most once per CountsTTL while the
// oldest pending age is live, and the hooks feed the delivery, init data
// and request counters.
func TestCollector(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		clk := &clock{t: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
		srv := pulsetest.NewServer(t, pulsetest.Config{Now: clk.Now})
		tc := mustTeleCart(t, db, srv, clk)
		c, err := metrics.New(tc, metrics.Config{CountsTTL: 10 * time.Second, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		mustTrack(t, tc, "a", 3)
		fams := gather(t, c)
		if got := value(t, fams, "telecart_pulse_outbox_events", "status", "pending"); got != 3 {
			t.Fatalf("pending = %v, want 3", got)
		}

		// Within the TTL the counts are the cached ones; the age is live.
		mustTrack(t, tc, "b", 2)
		clk.Advance(5 * time.Second)
		fams = gather(t, c)
		if got := value(t, fams, "telecart_pulse_outbox_events", "status", "pending"); got != 3 {
			t.Errorf("pending within the TTL = %v, want the cached 3", got)
		}
		if got := value(t, fams, "telecart_pulse_oldest_pending_age_seconds"); got != 5 {
			t.Errorf("oldest pending age = %v, want 5 (live)", got)
		}
		clk.Advance(5 * time.Second)
		if got := value(t, gather(t, c), "telecart_pulse_outbox_events", "status", "pending"); got != 5 {
			t.Errorf("pending after the TTL = %v, want 5", got)
		}

		// Delivery reports feed the batch and event counters.
		if _, err := tc.Pulse().SendOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		fams = gather(t, c)
		if b, e := value(t, fams, "telecart_pulse_batches_total", "outcome", "sent"),
			value(t, fams, "telecart_pulse_events_total", "outcome", "sent"); b != 1 || e != 5 {
			t.Errorf("batches sent %v, events sent %v; want 1 and 5", b, e)
		}
		if got := value(t, fams, "telecart_pulse_events_total", "outcome", "retried"); got != 0 {
			t.Errorf("events retried = %v, want 0", got)
		}
		if got := value(t, fams, "telecart_pulse_conflicts_retried_total"); got != 0 {
			t.Errorf("conflicts retried by one sender alone = %v, want 0", got)
		}

		// A storefront request without init data is a rejection and a 4xx.
		h := tc.Handler()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/settings", nil))
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("GET /api/settings = %d", w.Code)
		}
		fams = gather(t, c)
		if got := value(t, fams, "telecart_initdata_rejections_total", "reason", "missing"); got != 1 {
			t.Errorf("rejections for missing init data = %v, want 1", got)
		}
		if got := value(t, fams, "telecart_http_request_duration_seconds", "group", "storefront", "status", "4xx"); got != 1 {
			t.Errorf("storefront 4xx requests = %v, want 1", got)
		}

		// Admin requests the admin auth refuses are counted; one it lets
		// in is not, whatever the handler answers after.
		tryAdmin := func(path string) {
			for _, auth := range []string{"", "Bearer wrong", "Bearer admin"} {
				r := httptest.NewRequest(http.MethodGet, path, nil)
				if auth != "" {
					r.Header.Set("Authorization", auth)
				}
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
		}
		tryAdmin("/admin/api/nowhere-but-admin")
		fams = gather(t, c)
		if got := value(t, fams, "telecart_admin_auth_failures_total"); got != 0 {
			t.Errorf("admin auth failures before any admin route = %v, want 0 (an unknown path is not an admin route)", got)
		}
		tryAdmin("/admin/api/me")
		fams = gather(t, c)
		if got := value(t, fams, "telecart_admin_auth_failures_total"); got != 2 {
			t.Errorf("admin auth failures = %v, want 2", got)
		}
	})
}

// Ensure the collector's metrics pass Prometheus' own lint (names, units,
// help).
func TestCollector_Lint(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite)
	tc := mustTeleCart(t, db, pulsetest.NewServer(t, pulsetest.Config{}), &clock{t: time.Now()})
	c, err := metrics.New(tc, metrics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// Ensure a batch's outcome follows the documented precedence.
func TestBatchOutcome(t *testing.T) {
	for _, tt := range []struct {
		rep  pulse.SendReport
		want string
	}{
		{pulse.SendReport{Claimed: 3, Sent: 3}, metrics.OutcomeSent},
		{pulse.SendReport{Claimed: 3, Sent: 2, Failed: 1}, metrics.OutcomeFailed},
		{pulse.SendReport{Claimed: 3, Failed: 1, Retried: 2}, metrics.OutcomeRetried},
		{pulse.SendReport{Claimed: 3, Released: 3}, metrics.OutcomeReleased},
	} {
		if got := metrics.BatchOutcome(pulse.DeliveryReport{SendReport: tt.rep}); got != tt.want {
			t.Errorf("BatchOutcome(%+v) = %s, want %s", tt.rep, got, tt.want)
		}
	}
}
