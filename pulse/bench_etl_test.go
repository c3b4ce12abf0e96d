package pulse_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
)

// benchETLRowsVar lists the table sizes of BenchmarkETLExport, comma
// separated; the default is one million rows.
const benchETLRowsVar = "TELECART_BENCH_ETL_ROWS"

// BenchmarkETLExport walks the whole ETL export of a seeded customers
// table through the HTTP handler (limit 1000, the cursor from each page)
// and reports rows/s and the peak Go heap and RSS during the walk, which
// stay flat in the table's size. "scan" is the baseline: one SELECT of the
// same columns over the whole table, scanned row by row, without
// pagination, HTTP or JSON. One op is one full walk or scan.
//
//	TELECART_BENCH_ETL_ROWS=100000,1000000 go test -run '^$' -bench BenchmarkETLExport -benchtime 1x -timeout 60m ./pulse/
func BenchmarkETLExport(b *testing.B) {
	sizes := []int{1_000_000}
	if v := os.Getenv(benchETLRowsVar); v != "" {
		sizes = nil
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 {
				b.Fatalf("%s=%q: want positive row counts, comma separated", benchETLRowsVar, v)
			}
			sizes = append(sizes, n)
		}
	}
	for _, d := range migratortest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			for _, n := range sizes {
				b.Run("rows="+strconv.Itoa(n), func(b *testing.B) {
					db := migratortest.MustOpenDB(b, d, ingestSources()...)
					start := time.Now()
					base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
					etlSeed(b, db, 0, n, func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) })
					b.Logf("seeded %d customers in %s", n, time.Since(start).Round(time.Millisecond))

					store, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{})
					if err != nil {
						b.Fatal(err)
					}
					h, err := pulse.NewETLHandler(pulse.ETLConfig{
						Source: mustTableSource(b, store),
						APIKey: func() string { return etlKey },
						Logger: slog.New(slog.DiscardHandler),
					})
					if err != nil {
						b.Fatal(err)
					}
					r := mux.NewRouter()
					h.RegisterRoutes(r.PathPrefix("/pulse/etl").Subrouter())
					srv := httptest.NewServer(r)
					b.Cleanup(srv.Close)

					b.Run("export", func(b *testing.B) { benchETLWalk(b, srv.URL, n) })
					b.Run("scan", func(b *testing.B) { benchETLScan(b, db, n) })
				})
			}
		})
	}
}

// benchETLWalk walks the export over HTTP, decoding every page as a client
// would, and reports rows/s and the peak heap and RSS of the process
// (server and client) during the walk.
func benchETLWalk(b *testing.B, baseURL string, want int) {
	client := &http.Client{}
	defer client.CloseIdleConnections()
	// Start from a clean heap, and the peak RSS from now.
	runtime.GC()
	debug.FreeOSMemory()
	rssReset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := benchHeapSampler()

	var rows, pages int
	b.ResetTimer()
	for b.Loop() {
		// The client reads the ids only: its decoding shares the two
		// cores with the server, and the server's work is what is measured.
		var page struct {
			Data []struct {
				ID int64 `json:"id"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		q := url.Values{"limit": {"1000"}}
		n := 0
		for {
			req, err := http.NewRequest(http.MethodGet, baseURL+"/pulse/etl/customers?"+q.Encode(), nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set(pulse.HeaderAPIKey, etlKey)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			page.NextCursor = nil
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("page %d: status %d, %v", pages, resp.StatusCode, err)
			}
			n += len(page.Data)
			pages++
			if page.NextCursor == nil {
				break
			}
			q.Set("cursor", *page.NextCursor)
		}
		if n != want {
			b.Fatalf("walked %d rows, want %d", n, want)
		}
		rows += n
	}
	b.StopTimer()
	heapPeak := peak()
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
	b.ReportMetric(float64(before.HeapInuse)/(1<<20), "heap-start-MiB")
	b.ReportMetric(float64(heapPeak)/(1<<20), "heap-peak-MiB")
	if hwm, ok := benchVmHWM(); ok && rssReset {
		b.ReportMetric(float64(hwm)/(1<<20), "rss-peak-MiB")
	}
}

// benchETLScan is the baseline: the export's columns read in one query.
func benchETLScan(b *testing.B, db migrator.DB, want int) {
	ctx := context.Background()
	q := "SELECT id, telegram_user_id, tracking_id, first_name, last_name, username, photo_url, language_code, is_premium, " +
		"allows_write_to_pm, host_customer_id, orders_count, privacy_consented_at, first_campaign_id, " +
		"last_campaign_id, created_at, updated_at FROM " + db.Table(telegram.CustomersTable) + " ORDER BY id"
	var rows int
	b.ResetTimer()
	for b.Loop() {
		rs, err := db.QueryContext(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rs.Next() {
			var c pulse.ETLCustomer
			if err := rs.Scan(&c.ID, &c.TelegramUserID, &c.TrackingID, &c.FirstName, &c.LastName, &c.Username, &c.PhotoURL,
				&c.LanguageCode, &c.IsPremium, &c.AllowsWriteToPM, &c.HostCustomerID, &c.OrdersCount,
				migrator.ScanNullTime(&c.PrivacyConsentedAt), &c.FirstCampaignID, &c.LastCampaignID,
				migrator.ScanTime(&c.CreatedAt), migrator.ScanTime(&c.UpdatedAt)); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rs.Err(); err != nil {
			b.Fatal(err)
		}
		rs.Close()
		if n != want {
			b.Fatalf("scanned %d rows, want %d", n, want)
		}
		rows += n
	}
	b.StopTimer()
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// benchHeapSampler samples HeapInuse every 5ms until the returned function
// is called, which returns the largest sample.
func benchHeapSampler() func() uint64 {
	var mu sync.Mutex
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		mu.Lock()
		peak = max(peak, m.HeapInuse)
		mu.Unlock()
	}
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		sample()
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// benchVmHWM returns the process's peak resident set (VmHWM) in bytes.
func benchVmHWM() (uint64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
				return kb << 10, true
			}
		}
	}
	return 0, false
}
