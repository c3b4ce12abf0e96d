package server_test

import (
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
)

// scrape fetches base/metrics and parses it as the Prometheus text format.
func scrape(tb testing.TB, base string) map[string]*dto.MetricFamily {
	tb.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	if got := expfmt.ResponseFormat(resp.Header); got.FormatType() != expfmt.TypeTextPlain {
		tb.Fatalf("GET /metrics answered %s (Content-Type %q), want the text format", got, resp.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		tb.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// series returns the series of family name whose labels include labels
// (name=value pairs); it fails the test when the family is missing.
func series(tb testing.TB, fams map[string]*dto.MetricFamily, name string, labels ...string) []*dto.Metric {
	tb.Helper()
	f, ok := fams[name]
	if !ok {
		tb.Fatalf("/metrics has no family %s", name)
	}
	if f.GetHelp() == "" {
		tb.Errorf("%s has no help text", name)
	}
	var out []*dto.Metric
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
			}
			if !found {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

// sample is the value of the one series of name with labels: a counter's
// or gauge's value, a histogram's count.
func sample(tb testing.TB, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	tb.Helper()
	ms := series(tb, fams, name, labels...)
	if len(ms) != 1 {
		tb.Fatalf("%d series of %s with %v, want 1", len(ms), name, labels)
	}
	m := ms[0]
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	tb.Fatalf("%s with %v has no value", name, labels)
	return 0
}

// Ensure the demo serves /metrics in the Prometheus text format with every
// TeleCart family, counting the traffic it served: an ingest, an order, a
// request without init data, and the Pulse deliveries they caused.
func TestDemoMetrics(t *testing.T) {
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			s, base := MustStart(t, d, nil)
			link, err := s.TeleCart.StartParams().Encode(pulse.StartParam{CampaignID: "metrics", Source: "tg"})
			if err != nil {
				t.Fatal(err)
			}
			initData := telegram.SignInitData(s.Config.BotToken, telegram.SignParams{
				User: &telegram.User{ID: 6160, FirstName: "Mira"}, StartParam: link}, time.Now())

			var ingested pulse.IngestResponse
			call(t, "POST", base+"/api/ingest", initData, "", map[string]any{"events": []any{
				map[string]any{"id": "metrics-pv-1", "event": pulse.EventProductView, "payload": map[string]any{"product_id": "1"}},
			}}, http.StatusOK, &ingested)
			if ingested.Accepted != 1 {
				t.Fatalf("ingest answered %+v", ingested)
			}
			var products struct {
				Data []struct {
					ID      string `json:"id"`
					InStock bool   `json:"in_stock"`
				} `json:"data"`
			}
			call(t, "GET", base+"/api/products", initData, "", nil, http.StatusOK, &products)
			product := ""
			for _, p := range products.Data {
				if p.InStock {
					product = p.ID
					break
				}
			}
			call(t, "POST", base+"/api/orders", initData, "", map[string]any{
				"order_key": "c0ffee00-0000-4000-8000-00000000beef",
				"items":     []any{map[string]any{"product_id": product, "quantity": 1}},
				"fields":    map[string]any{"name": "Mira", "phone": "+420 777 000 111", "delivery": "pickup"},
			}, http.StatusCreated, nil)
			call(t, "GET", base+"/api/settings", "", "", nil, http.StatusUnauthorized, nil)

			// Both events reach the built-in receiver; wait for the counters.
			var fams map[string]*dto.MetricFamily
			deadline := time.Now().Add(15 * time.Second)
			for {
				fams = scrape(t, base)
				if sample(t, fams, "telecart_pulse_events_total", "outcome", "sent") >= 2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the events were not reported sent; receiver %+v", s.Receiver.Stats())
				}
				time.Sleep(20 * time.Millisecond)
			}

			// The outbox by status holds the two events, whatever their
			// status when the counts were cached.
			total := 0.0
			for _, status := range []string{"pending", "sending", "sent", "failed"} {
				total += sample(t, fams, "telecart_pulse_outbox_events", "status", status)
			}
			if total != 2 {
				t.Errorf("outbox holds %v events, want 2", total)
			}
			if age := sample(t, fams, "telecart_pulse_oldest_pending_age_seconds"); age < 0 {
				t.Errorf("oldest pending age %v", age)
			}
			if got := sample(t, fams, "telecart_pulse_batches_total", "outcome", "sent"); got < 1 {
				t.Errorf("batches sent = %v, want at least 1", got)
			}
			for _, outcome := range []string{"retried", "failed"} {
				if got := sample(t, fams, "telecart_pulse_events_total", "outcome", outcome); got != 0 {
					t.Errorf("events %s = %v, want 0", outcome, got)
				}
			}
			for result, want := range map[string]float64{"accepted": 1, "duplicate": 0, "dropped": 0} {
				if got := sample(t, fams, "telecart_ingest_events_total", "result", result); got != want {
					t.Errorf("ingest events %s = %v, want %v", result, got, want)
				}
			}
			if got := sample(t, fams, "telecart_ingest_refused_total", "reason", "rate_limited"); got != 0 {
				t.Errorf("ingest rate limited = %v, want 0", got)
			}
			if got := sample(t, fams, "telecart_initdata_rejections_total", "reason", telegram.RejectMissing); got != 1 {
				t.Errorf("init data rejections (missing) = %v, want 1", got)
			}
			if got := sample(t, fams, "telecart_initdata_rejections_total", "reason", telegram.RejectExpired); got != 0 {
				t.Errorf("init data rejections (expired) = %v, want 0", got)
			}
			if got := sample(t, fams, "telecart_orders_placed_total"); got != 1 {
				t.Errorf("orders placed = %v, want 1", got)
			}
			if got := sample(t, fams, "telecart_pulse_auth_pauses_total"); got != 0 {
				t.Errorf("auth pauses = %v, want 0", got)
			}
			// ingest, products and the order: 2xx; settings without init data: 4xx.
			if got := sample(t, fams, "telecart_http_request_duration_seconds", "group", "storefront", "status", "2xx"); got != 3 {
				t.Errorf("storefront 2xx requests = %v, want 3", got)
			}
			if got := sample(t, fams, "telecart_http_request_duration_seconds", "group", "storefront", "status", "4xx"); got != 1 {
				t.Errorf("storefront 4xx requests = %v, want 1", got)
			}
			// The Go and process collectors are registered beside TeleCart's.
			for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
				if len(series(t, fams, name)) == 0 {
					t.Errorf("no %s", name)
				}
			}
		})
	}
}
