package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telecart-go/telecart/examples/shop/server"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
)

// MustStart runs the demo server on an httptest listener over a fresh
// database of dialect d.
func MustStart(tb testing.TB, d migrator.Dialect, mutate func(*server.Config)) (*server.Server, string) {
	tb.Helper()
	return MustStartWrapped(tb, d, mutate, nil)
}

// MustStartWrapped is MustStart with the server's handler wrapped (wrap may
// be nil), for tests that put a fault in front of a route.
func MustStartWrapped(tb testing.TB, d migrator.Dialect, mutate func(*server.Config), wrap func(http.Handler) http.Handler) (*server.Server, string) {
	tb.Helper()
	dsn := "sqlite:" + filepath.Join(tb.TempDir(), "shop.db")
	if d == migrator.MySQL {
		dsn = "mysql:" + migratortest.FreshDSN(tb, d)
	}
	cfg, _, err := server.ParseFlags([]string{"-db", dsn, "-log-file", filepath.Join(tb.TempDir(), "shop.log"),
		"-pulse-retry-base", "20ms", "-pulse-retry-max", "200ms"}, func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Stdout = io.Discard
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := server.New(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	h := s.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			tb.Errorf("Stop: %v", err)
		}
	})
	if err := s.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	return s, srv.URL
}

func call(tb testing.TB, method, url, initData, admin string, body any, want int, dst any) {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if initData != "" {
		req.Header.Set(telegram.HeaderInitData, initData)
	}
	if admin != "" {
		req.Header.Set("Authorization", "Bearer "+admin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		tb.Fatalf("%s %s = %d, want %d: %s", method, url, resp.StatusCode, want, raw)
	}
	if dst != nil {
		if err := json.Unmarshal(raw, dst); err != nil {
			tb.Fatalf("decoding %s: %v", raw, err)
		}
	}
}

// Ensure the demo server works end to end on both dialects: save customer →
// consent → products → order → the order's Pulse event reaches the
// built-in receiver.
func TestDemoEndToEnd(t *testing.T) {
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			s, base := MustStart(t, d, nil)
			call(t, "GET", base+"/healthz", "", "", nil, http.StatusOK, nil)
			link, err := s.TeleCart.StartParams().Encode(pulse.StartParam{CampaignID: "demo_launch", Source: "tg"})
			if err != nil {
				t.Fatal(err)
			}
			initData := telegram.SignInitData(s.Config.BotToken, telegram.SignParams{
				User:       &telegram.User{ID: 5150, FirstName: "Žofie", LastName: "+100% \\/", AllowsWriteToPM: true},
				StartParam: link,
			}, time.Now())
			var customer struct {
				TrackingID string `json:"tracking_id"`
				FirstName  string `json:"first_name"`
			}
			call(t, "POST", base+"/api/customers", initData, "", nil, http.StatusOK, &customer)
			if customer.FirstName != "Žofie" || customer.TrackingID == "" {
				t.Fatalf("customer %+v", customer)
			}
			call(t, "POST", base+"/api/privacy-consent", initData, "", nil, http.StatusOK, nil)
			var products struct {
				Data []struct {
					ID     string `json:"id"`
					Price  int64  `json:"price"`
					Images []struct {
						URL    string `json:"url"`
						Height int    `json:"height"`
					} `json:"images"`
					InStock bool `json:"in_stock"`
				} `json:"data"`
			}
			call(t, "GET", base+"/api/products?aspect_ratio=4:5", initData, "", nil, http.StatusOK, &products)
			if len(products.Data) == 0 || products.Data[0].Images[0].Height != 375 {
				t.Fatalf("products %+v", products)
			}
			// The image URL the catalog gave is served at that size.
			img, err := http.Get(base + products.Data[0].Images[0].URL)
			if err != nil || img.StatusCode != http.StatusOK || img.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("image: %v %+v", err, img)
			}
			img.Body.Close()
			var p = products.Data[0]
			for _, q := range products.Data {
				if q.InStock {
					p = q
					break
				}
			}
			var order struct {
				OrderID string `json:"order_id"`
				Total   int64  `json:"total"`
			}
			call(t, "POST", base+"/api/orders", initData, "", map[string]any{
				"order_key": "b1f4c2de-0000-4000-8000-000000000001",
				"items":     []any{map[string]any{"product_id": p.ID, "quantity": 2}},
				"fields":    map[string]any{"name": "Žofie", "phone": "+420 777 123 456", "delivery": "courier", "address": "Praha 1"},
			}, http.StatusCreated, &order)
			if order.Total != 2*p.Price || order.OrderID == "" {
				t.Fatalf("order %+v for 2 × %d", order, p.Price)
			}
			var buyer struct {
				TrackingID string `json:"tracking_id"`
			}
			call(t, "POST", base+"/api/customers", initData, "", nil, http.StatusOK, &buyer)
			key := "order:" + buyer.TrackingID + ":b1f4c2de-0000-4000-8000-000000000001"
			deadline := time.Now().Add(15 * time.Second)
			for !s.Receiver.Seen(key) {
				if time.Now().After(deadline) {
					t.Fatalf("ORDER_CREATED never reached the built-in receiver; stats %+v", s.Receiver.Stats())
				}
				time.Sleep(20 * time.Millisecond)
			}
			// The admin API answers with the printed token only.
			call(t, "GET", base+"/admin/api/customers", "", "", nil, http.StatusUnauthorized, nil)
			call(t, "GET", base+"/admin/api/customers", "", s.Config.AdminToken, nil, http.StatusOK, nil)
		})
	}
}

// Ensure every flag falls back to its variable and the flag wins.
func TestParseFlags(t *testing.T) {
	env := map[string]string{"TELECART_ADDR": "127.0.0.1:9999", "TELECART_DB": "sqlite::memory:",
		"TELECART_PULSE_RETRY_BASE": "3s", "TELECART_PULSE_MAX_ATTEMPTS": "7", "TELECART_DEV": "1",
		"TELECART_ADMIN_TOKEN": "from-env", "TELECART_BOT_UPDATES": "poll", "TELECART_BOT_API_URL": "http://127.0.0.1:1",
		"TELECART_PUBLIC_URL": "https://from-env.example"}
	cfg, rest, err := server.ParseFlags([]string{"-addr", ":1", "-public-url", "https://shop.example", "migrate", "status"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PublicURL != "https://shop.example" || cfg.BotUpdates != "poll" || cfg.TelegramAPIURL != "http://127.0.0.1:1" {
		t.Fatalf("bot flags: %+v", cfg)
	}
	if cfg.Addr != ":1" || cfg.DB != "sqlite::memory:" || cfg.PulseRetryBase != 3*time.Second ||
		cfg.PulseMaxAttempts != 7 || !cfg.Dev || cfg.AdminToken != "from-env" || strings.Join(rest, " ") != "migrate status" {
		t.Fatalf("cfg %+v rest %v", cfg, rest)
	}
	def, _, err := server.ParseFlags(nil, func(string) string { return "" })
	if err != nil || def.Addr != server.AddrDefault || def.DB != server.DBDefault || def.PulseMaxAttempts != pulse.MaxAttemptsDefault ||
		def.BotUpdates != "off" || def.PublicURL != "" || def.TelegramAPIURL != "" {
		t.Fatalf("defaults %+v, %v", def, err)
	}
	for _, bad := range [][]string{{"-pulse-retry-base", "soon"}, {"-nope"}} {
		if _, _, err := server.ParseFlags(bad, func(string) string { return "" }); err == nil {
			t.Errorf("ParseFlags(%v) accepted", bad)
		}
	}
	if _, _, err := server.ParseFlags(nil, func(k string) string {
		if k == "TELECART_PULSE_LEASE" {
			return "forever"
		}
		return ""
	}); err == nil {
		t.Error("a bad TELECART_PULSE_LEASE was accepted")
	}
}

// Ensure -dev, which signs initData for anyone, is refused on any address
// but a loopback one.
func TestDevLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true,
		":8080": false, "0.0.0.0:8080": false, "192.168.1.5:8080": false, "shop.example:443": false,
	} {
		cfg, _, err := server.ParseFlags([]string{"-dev", "-addr", addr, "-db", "sqlite::memory:"}, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		cfg.Stdout = io.Discard
		s, err := server.New(context.Background(), cfg)
		if ok != (err == nil) {
			t.Errorf("-dev -addr %s: New = %v; want ok=%v", addr, err, ok)
		}
		if err == nil {
			_ = s.Stop(context.Background())
		} else if !strings.Contains(err.Error(), "loopback") {
			t.Errorf("-dev -addr %s: %v does not say why", addr, err)
		}
	}
}

// Ensure dev sign-in is on by default only on a loopback address with the
// generated bot token, -dev=false (or TELECART_DEV=0) turns it off, and the
// banner says which mode is on and why.
func TestDevDefault(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		env    map[string]string
		on     bool
		reason string
	}{
		{"NoFlags", nil, nil, true, "loopback address and the generated demo bot token"},
		{"ExplicitOff", []string{"-dev=false"}, nil, false, "turned off with -dev=false"},
		{"EnvOff", nil, map[string]string{"TELECART_DEV": "0"}, false, "turned off with -dev=false"},
		{"ExplicitOn", []string{"-dev"}, nil, true, "asked for with -dev"},
		{"RealBot", []string{"-bot-token", "123:real"}, nil, false, "a real bot token is set"},
		{"EnvBot", nil, map[string]string{"TELECART_BOT_TOKEN": "123:real"}, false, "a real bot token is set"},
		{"RealBotAsked", []string{"-bot-token", "123:real", "-dev"}, nil, true, "asked for with -dev"},
		{"PublicAddr", []string{"-addr", "0.0.0.0:8080"}, nil, false, "not loopback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-db", "sqlite::memory:", "-log-file", filepath.Join(t.TempDir(), "shop.log")}, tc.args...)
			cfg, _, err := server.ParseFlags(args, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			cfg.Stdout = &out
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := server.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Stop(context.Background())
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/dev/init-data")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.StatusCode == http.StatusOK; got != tc.on || s.Config.Dev != tc.on {
				t.Errorf("/dev/init-data = %d, Config.Dev %v; want on=%v", resp.StatusCode, s.Config.Dev, tc.on)
			}
			s.PrintBanner(srv.URL)
			mode := "dev sign-in: off ("
			if tc.on {
				mode = "dev sign-in: on ("
			}
			if !strings.Contains(out.String(), mode) || !strings.Contains(out.String(), tc.reason) {
				t.Errorf("the banner does not say %q and %q:\n%s", mode, tc.reason, out.String())
			}
		})
	}
}

// Ensure saving a setting does not pin the built-in receiver's random
// port: after a restart the demo sends to its new receiver.
func TestRestartKeepsDefaultsUnpinned(t *testing.T) {
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "shop.db")
			if d == migrator.MySQL {
				dsn = "mysql:" + migratortest.FreshDSN(t, d)
			}
			logFile := filepath.Join(t.TempDir(), "shop.log")
			start := func() (*server.Server, string) {
				cfg, _, err := server.ParseFlags([]string{"-db", dsn, "-log-file", logFile, "-admin-token", "admin-token-1"},
					func(string) string { return "" })
				if err != nil {
					t.Fatal(err)
				}
				cfg.Stdout = io.Discard
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				s, err := server.New(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Start(ctx); err != nil {
					t.Fatal(err)
				}
				srv := httptest.NewServer(s.Handler())
				t.Cleanup(srv.Close)
				return s, srv.URL
			}
			stop := func(s *server.Server) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := s.Stop(ctx); err != nil {
					t.Fatal(err)
				}
			}
			s1, url1 := start()
			var settings map[string]any
			call(t, "GET", url1+"/admin/api/settings", "", "admin-token-1", nil, http.StatusOK, &settings)
			first := settings["pulse_url"]
			settings["shop_name"] = "Renamed"
			call(t, "PUT", url1+"/admin/api/settings", "", "admin-token-1", settings, http.StatusOK, nil)
			stop(s1)

			s2, url2 := start()
			defer stop(s2)
			call(t, "GET", url2+"/admin/api/settings", "", "admin-token-1", nil, http.StatusOK, &settings)
			if settings["shop_name"] != "Renamed" {
				t.Fatalf("the saved setting was lost: %v", settings["shop_name"])
			}
			if settings["pulse_url"] == first || !strings.HasPrefix(fmt.Sprint(settings["pulse_url"]), "http://127.0.0.1:") {
				t.Fatalf("pulse_url %v after a restart; the first run's was %v", settings["pulse_url"], first)
			}
		})
	}
}

// Ensure one customer's flood of client events through the demo is held to
// -ingest-rate: the extra requests are answered 429 with Retry-After, and
// the outbox grows by at most the limit.
func TestIngestFlood(t *testing.T) {
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) { testIngestFlood(t, d) })
	}
}

func testIngestFlood(t *testing.T, d migrator.Dialect) {
	const rate = 100
	s, url := MustStart(t, d, func(c *server.Config) { c.IngestRate = rate })
	sp, err := s.TeleCart.StartParams().Encode(pulse.StartParam{CampaignID: "anycampaign"})
	if err != nil {
		t.Fatal(err)
	}
	initData := telegram.SignInitData(s.Config.BotToken, telegram.SignParams{
		User: &telegram.User{ID: 4242, FirstName: "Flood"}, StartParam: sp}, time.Now())
	total := func() int64 {
		var st struct{ Pending, Sending, Sent, Failed int64 }
		call(t, "GET", url+"/admin/api/pulse/stats?fresh=1", "", s.Config.AdminToken, nil, http.StatusOK, &st)
		return st.Pending + st.Sending + st.Sent + st.Failed
	}
	before := total()
	// An unsigned link, which anyone can mint for any campaign, attributes
	// nothing: its events are dropped, not stored.
	unsigned, err := pulse.NewStartParamSerializer("").Encode(pulse.StartParam{CampaignID: "anycampaign"})
	if err != nil {
		t.Fatal(err)
	}
	var res pulse.IngestResponse
	call(t, "POST", url+"/api/ingest", telegram.SignInitData(s.Config.BotToken, telegram.SignParams{
		User: &telegram.User{ID: 4343, FirstName: "Forger"}, StartParam: unsigned}, time.Now()),
		"", map[string]any{"events": []map[string]any{{"id": "forged-1", "event": "ADD_TO_CART"}}}, http.StatusOK, &res)
	if res.Dropped != 1 || res.Accepted != 0 || total() != before {
		t.Fatalf("an unsigned link: %+v, the outbox grew by %d", res, total()-before)
	}
	var ok, limited, other atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				evs := make([]string, 50)
				for j := range evs {
					evs[j] = fmt.Sprintf(`{"id":"g%d-r%d-e%d","event":"ADD_TO_CART","payload":{}}`, g, i, j)
				}
				req, _ := http.NewRequest("POST", url+"/api/ingest", strings.NewReader(`{"events":[`+strings.Join(evs, ",")+`]}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(telegram.HeaderInitData, initData)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					other.Add(1)
					continue
				}
				resp.Body.Close()
				switch {
				case resp.StatusCode == http.StatusOK:
					ok.Add(1)
				case resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "":
					limited.Add(1)
				default:
					other.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	grew := total() - before
	t.Logf("80 requests of 50 events: %d accepted, %d answered 429, %d other; the outbox grew by %d", ok.Load(), limited.Load(), other.Load(), grew)
	if other.Load() != 0 || limited.Load() == 0 {
		t.Fatalf("%d unexpected answers, %d 429s", other.Load(), limited.Load())
	}
	// The first seconds refill a little: allow the refill of the run.
	if grew > rate+rate/6 {
		t.Fatalf("the outbox grew by %d events; the limit is %d a minute", grew, rate)
	}
}

// Ensure the demo has no constant credentials: without -pulse-api-key the
// ETL export refuses the old well-known key and takes only this run's
// random one, which the banner prints; a key an admin stored in the
// database is never printed.
func TestNoDefaultCredentials(t *testing.T) {
	var out bytes.Buffer
	s, url := MustStart(t, migrator.SQLite, func(c *server.Config) { c.Stdout = &out })
	etl := func(key string) int {
		req, _ := http.NewRequest("GET", url+"/pulse/etl/customers", nil)
		req.Header.Set("X-Api-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := etl("demo-pulse-api-key"); code != http.StatusUnauthorized {
		t.Fatalf("the old default key: %d", code)
	}
	if len(s.Config.PulseAPIKey) < 32 || etl(s.Config.PulseAPIKey) != http.StatusOK {
		t.Fatalf("this run's key %q is not the ETL key", s.Config.PulseAPIKey)
	}
	s.PrintBanner(url)
	if !strings.Contains(out.String(), s.Config.PulseAPIKey) || strings.Contains(out.String(), s.Config.PulseSecret) {
		t.Fatalf("the banner should print the generated key, never the signing secret:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "start_param secret generated once and kept in the database") {
		t.Fatalf("the banner does not say where the start_param secret is kept:\n%s", out.String())
	}

	// An admin stores credentials of a real Pulse service: the banner
	// prints no key any more.
	var settings map[string]any
	call(t, "GET", url+"/admin/api/settings", "", s.Config.AdminToken, nil, http.StatusOK, &settings)
	settings["pulse_url"], settings["pulse_api_key"], settings["pulse_secret"] = "https://pulse.example", "stored-key-0123456789", "stored-secret"
	call(t, "PUT", url+"/admin/api/settings", "", s.Config.AdminToken, settings, http.StatusOK, nil)
	out.Reset()
	s.PrintBanner(url)
	if strings.Contains(out.String(), "stored-key") || strings.Contains(out.String(), s.Config.PulseAPIKey) {
		t.Fatalf("the banner printed a key not in effect or stored by someone else:\n%s", out.String())
	}
}

// Ensure a Telegram Desktop page kept open past its init data's 24 hours
// keeps working through the demo with the session token it got while fresh,
// and that nobody else's stale init data rides on it.
func TestSessionThroughDemo(t *testing.T) {
	s, url := MustStart(t, migrator.SQLite, nil)
	sign := func(id int64, at time.Time) string {
		return telegram.SignInitData(s.Config.BotToken, telegram.SignParams{User: &telegram.User{ID: id, FirstName: "Desk"}}, at)
	}
	launched := time.Now().Add(-23 * time.Hour) // fresh for one more hour
	var sess struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	call(t, "POST", url+"/api/session", sign(9001, launched), "", map[string]any{}, http.StatusOK, &sess)
	if sess.Token == "" || sess.ExpiresAt.Before(time.Now().Add(6*24*time.Hour)) {
		t.Fatalf("session %+v; want a token for about 7 days", sess)
	}
	get := func(initData, session string) int {
		req, _ := http.NewRequest("GET", url+"/api/settings", nil)
		req.Header.Set(telegram.HeaderInitData, initData)
		if session != "" {
			req.Header.Set(telegram.HeaderSession, session)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	stale := sign(9001, time.Now().Add(-30*time.Hour)) // the same page a day later
	if code := get(stale, ""); code != http.StatusUnauthorized {
		t.Fatalf("stale init data alone: %d", code)
	}
	if code := get(stale, sess.Token); code != http.StatusOK {
		t.Fatalf("stale init data with its session: %d", code)
	}
	if code := get(sign(9002, time.Now().Add(-30*time.Hour)), sess.Token); code != http.StatusUnauthorized {
		t.Fatalf("someone else's stale init data with the session: %d", code)
	}
}

// Ensure the demo's error answers speak the API's own words: JSON type
// errors without Go type names, JSON 404s and 405s with Allow, and no
// directory listings.
func TestDemoErrorAnswers(t *testing.T) {
	s, url := MustStart(t, migrator.SQLite, nil)
	initData := telegram.SignInitData(s.Config.BotToken, telegram.SignParams{User: &telegram.User{ID: 77, FirstName: "E"}}, time.Now())
	do := func(method, path, body string, admin bool) (*http.Response, string) {
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(telegram.HeaderInitData, initData)
		if admin {
			req.Header.Set("Authorization", "Bearer "+s.Config.AdminToken)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, tt := range []struct {
		method, path, body string
		admin              bool
		status             int
		want, allow        string
	}{
		{"POST", "/api/orders", `[]`, false, 400, "body must be an object", ""},
		{"PUT", "/admin/api/settings", `{"shop_name":123}`, true, 400, `field \"shop_name\" must be a string`, ""},
		{"DELETE", "/admin/api/settings", ``, true, 405, "method_not_allowed", "GET, PUT"},
		{"GET", "/app/js/", ``, false, 404, `"not_found"`, ""},
		{"GET", "/admin/nothing-here", ``, false, 404, `"not_found"`, ""},
	} {
		resp, body := do(tt.method, tt.path, tt.body, tt.admin)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || resp.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s = %d %s Allow %q: %s; want %d with %s", tt.method, tt.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), resp.Header.Get("Allow"), body, tt.status, tt.want)
		}
		for _, leak := range []string{"telecart.", "Settings.", "OrderRequest", "<pre>", "Index of"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s %s leaks %q: %s", tt.method, tt.path, leak, body)
			}
		}
	}
}
