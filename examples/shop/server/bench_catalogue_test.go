package server_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telegram"
)

// BenchmarkCatalogue measures the storefront's catalogue reads at 16
// concurrent clients against the demo server on SQLite: a page of 20
// products and the settings, each fetched whole and revalidated with its
// ETag (a 304), beside GET /healthz on the same server in the same run, the
// baseline. It reports requests a second and the p50 and p99 latency.
//
//	go test -run '^$' -bench BenchmarkCatalogue -benchtime 3s ./examples/shop/server/
func BenchmarkCatalogue(b *testing.B) {
	s, base := MustStart(b, migrator.SQLite, nil)
	initData := telegram.SignInitData(s.Config.BotToken, telegram.SignParams{
		User: &telegram.User{ID: 4242, FirstName: "Bench"},
	}, time.Now())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Cleanup(client.CloseIdleConnections)
	products := base + "/api/products?per_page=20&aspect_ratio=4:5"
	settings := base + "/api/settings"
	for _, bc := range []struct {
		name, url  string
		revalidate bool
	}{
		{"healthz", base + "/healthz", false},
		{"products-20", products, false},
		{"products-20-304", products, true},
		{"settings", settings, false},
		{"settings-304", settings, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			// The ETag a client got the first time, to revalidate with.
			etag, n, err := catalogueGet(client, bc.url, initData, "")
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 || (bc.revalidate && etag == "") {
				b.Fatalf("GET %s: %d bytes, ETag %q", bc.url, n, etag)
			}
			if !bc.revalidate {
				etag = ""
			}
			var mu sync.Mutex
			var all []time.Duration
			b.SetParallelism(8) // 16 clients on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var lat []time.Duration
				for pb.Next() {
					start := time.Now()
					if _, _, err := catalogueGet(client, bc.url, initData, etag); err != nil {
						b.Error(err) // not Fatal: this is not the benchmark's goroutine
						return
					}
					lat = append(lat, time.Since(start))
				}
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			})
			b.StopTimer()
			slices.Sort(all)
			if len(all) > 0 {
				b.ReportMetric(float64(len(all))/b.Elapsed().Seconds(), "req/s")
				b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// catalogueGet GETs url as the storefront does, with etag as If-None-Match
// when set, and returns the answer's ETag and body size; an answer other
// than 200 (304 when revalidating) is an error.
func catalogueGet(client *http.Client, url, initData, etag string) (string, int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return "", 0, err
	}
	req.Header.Set(telegram.HeaderInitData, initData)
	want := http.StatusOK
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
		want = http.StatusNotModified
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != want {
		return "", 0, fmt.Errorf("GET %s = %d, want %d", url, resp.StatusCode, want)
	}
	return resp.Header.Get("ETag"), int(n), nil
}
