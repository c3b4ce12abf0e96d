package pulse_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
)

// Shape of the ingest benchmark's load.
const (
	benchIngestUsers       = 64 // customers, each with their own signed init data
	benchIngestParallelism = 8  // clients per GOMAXPROCS (16 on 2 cores)
)

// BenchmarkIngestHTTP measures POST /api/ingest over real HTTP: an
// httptest server with the init data middleware, concurrent clients, 50
// or 1 events a request, each request's events stored with attribution.
// "ingest" is the real handler; "baseline" is the same server, middleware
// and body decoding (into the same IngestRequest) answering without
// storing, so ingest/baseline is the price of validation, attribution and
// the transaction. ns/op is per request.
func BenchmarkIngestHTTP(b *testing.B) {
	for _, d := range migratortest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := migratortest.MustOpenDB(b, d, ingestSources()...)
			s := newIngestServer(b, db)
			h, err := pulse.NewIngestHandler(pulse.IngestConfig{
				Pulse: s.pulse, Customers: s.customers,
				Attribution: pulse.Attribution{StartParams: s.links},
				Logger:      slog.New(slog.DiscardHandler),
				// The write path is measured: a few customers sending
				// thousands of events would be held by their rate limit.
				Rate: -1,
			})
			if err != nil {
				b.Fatal(err)
			}
			v, err := telegram.NewValidator(telegram.ValidatorConfig{BotToken: ingestBotToken})
			if err != nil {
				b.Fatal(err)
			}
			r := mux.NewRouter()
			api := r.PathPrefix("/api").Subrouter()
			api.Use(v.Middleware)
			h.RegisterStorefrontRoutes(api)
			base := r.PathPrefix("/base").Subrouter()
			base.Use(v.Middleware)
			base.HandleFunc("/ingest", benchBaselineIngest).Methods(http.MethodPost)
			srv := httptest.NewServer(r)
			b.Cleanup(srv.Close)

			// Signed launches with a campaign link, so events are stored
			// rather than dropped; the customers exist already (a real
			// storefront saves them at launch with POST /api/customers).
			initData := make([]string, benchIngestUsers)
			link := s.link(b, "bench")
			for i := range initData {
				initData[i] = telegram.SignInitData(ingestBotToken, telegram.SignParams{
					QueryID:    "AAHbench" + strconv.Itoa(i),
					User:       &telegram.User{ID: int64(1_000_000 + i), FirstName: "Bench", LanguageCode: "en"},
					StartParam: link,
				}, time.Now())
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.Cleanup(client.CloseIdleConnections)
			for i, raw := range initData {
				benchPostIngest(b, client, srv.URL+"/api/ingest", raw, benchIngestBody(nil, "warm"+strconv.Itoa(i), 1))
			}
			// 50 events a request (a batch, the most allowed) and 1 (an
			// event sent as it happens).
			for _, events := range []int{50, 1} {
				for _, mode := range []struct{ name, path string }{{"ingest", "/api/ingest"}, {"baseline", "/base/ingest"}} {
					b.Run(fmt.Sprintf("%s-%d", mode.name, events), func(b *testing.B) {
						benchIngestRun(b, client, srv.URL+mode.path, initData, events)
					})
				}
			}
		})
	}
}

// benchIngestRun drives url with concurrent clients and reports events/s
// and latency percentiles.
func benchIngestRun(b *testing.B, client *http.Client, url string, initData []string, events int) {
	var (
		mu      sync.Mutex
		all     []time.Duration
		clients atomic.Int64
		run     = strconv.FormatInt(time.Now().UnixNano(), 36) // ids unique across runs
	)
	b.SetParallelism(benchIngestParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := clients.Add(1)
		prefix := run + "-" + strconv.FormatInt(c, 36)
		raw := initData[int(c)%len(initData)]
		var lat []time.Duration
		var body []byte
		for n := 0; pb.Next(); n++ {
			body = benchIngestBody(body[:0], prefix+"-"+strconv.Itoa(n), events)
			start := time.Now()
			benchPostIngest(b, client, url, raw, body)
			lat = append(lat, time.Since(start))
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(float64(len(all))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(all)*events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(all))/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// benchIngestBody appends a body of n events with ids prefix-0 … to dst:
// product views and cart adds with a small payload, as the Mini App sends.
func benchIngestBody(dst []byte, prefix string, n int) []byte {
	dst = append(dst, `{"events":[`...)
	for i := range n {
		if i > 0 {
			dst = append(dst, ',')
		}
		name := pulse.EventProductView
		if i%5 == 4 {
			name = pulse.EventAddToCart
		}
		dst = fmt.Appendf(dst, `{"id":"%s-%d","event":"%s","payload":{"product_id":%d,"price":"19.90","currency":"EUR"}}`,
			prefix, i, name, 1000+i)
	}
	return append(dst, "]}"...)
}

// benchPostIngest posts body and fails unless the answer is 200.
func benchPostIngest(b *testing.B, client *http.Client, url, initData string, body []byte) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		b.Error(err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(telegram.HeaderInitData, initData)
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Errorf("status %d: %s", resp.StatusCode, answer)
	}
}

// benchBaselineIngest is the baseline: the ingest route's decoding (the
// body limit, unknown fields refused, into the same IngestRequest) and a
// JSON answer, storing nothing.
func benchBaselineIngest(w http.ResponseWriter, r *http.Request) {
	var req pulse.IngestRequest
	if err := httpx.DecodeJSON(w, r, &req, httpx.MaxBodyDefault); err != nil {
		httpx.WriteError(w, r, nil, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, pulse.IngestResponse{Accepted: len(req.Events)})
}
