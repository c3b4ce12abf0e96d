package telecart_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telecart"
)

// Ensure New refuses a config that would serve the admin API open, and the
// other required fields, with errors saying what to set.
func TestNewRefuses(t *testing.T) {
	db := migratortest.MustOpenEmpty(t, migrator.SQLite)
	ok := telecart.Config{DB: db, Catalog: newFakeCatalog(1), Orders: &fakePlacer{},
		AdminAuth: telecart.BearerAuth("x"), BotToken: plugBotToken}
	if _, err := telecart.New(ok); err != nil {
		t.Fatalf("New(valid) = %v", err)
	}
	for name, mutate := range map[string]func(*telecart.Config){
		"NoAdminAuth": func(c *telecart.Config) { c.AdminAuth = nil },
		"NoDB":        func(c *telecart.Config) { c.DB = migrator.DB{} },
		"NoCatalog":   func(c *telecart.Config) { c.Catalog = nil },
		"NoOrders":    func(c *telecart.Config) { c.Orders = nil },
		"NoBotToken":  func(c *telecart.Config) { c.BotToken = "" },
	} {
		cfg := ok
		mutate(&cfg)
		if _, err := telecart.New(cfg); err == nil || !strings.Contains(err.Error(), "Config.") {
			t.Errorf("%s: New = %v; want an error naming the field", name, err)
		}
	}
}

// Ensure every storefront route answers through the whole plugin, that
// missing or forged initData is a 401 and the admin API needs the token.
func TestPluginRoutes(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		id := s.initData(2002, "Ivan", "")
		for _, r := range []struct{ method, path string }{
			{"GET", "/api/settings"}, {"POST", "/api/customers"}, {"GET", "/api/privacy-consent"},
			{"GET", "/api/products"}, {"GET", "/api/forms/checkout"}, {"POST", "/api/orders"}, {"POST", "/api/ingest"},
		} {
			s.must(t, r.method, r.path, "", false, nil, http.StatusUnauthorized, nil)
			s.must(t, r.method, r.path, id+"0", false, nil, http.StatusUnauthorized, nil)
		}
		var customer struct {
			TrackingID string `json:"tracking_id"`
		}
		s.must(t, "POST", "/api/customers", id, false, nil, http.StatusOK, &customer)
		if len(customer.TrackingID) != 36 {
			t.Fatalf("tracking_id %q", customer.TrackingID)
		}
		s.must(t, "POST", "/api/privacy-consent", id, false, nil, http.StatusOK, nil)
		var consent struct {
			Consented bool `json:"consented"`
		}
		s.must(t, "GET", "/api/privacy-consent", id, false, nil, http.StatusOK, &consent)
		if !consent.Consented {
			t.Fatal("consent not recorded")
		}
		var products struct {
			Data []struct {
				Images []struct{ Width, Height int } `json:"images"`
			} `json:"data"`
		}
		s.must(t, "GET", "/api/products?aspect_ratio=2:3", id, false, nil, http.StatusOK, &products)
		if len(products.Data) == 0 || products.Data[0].Images[0].Height != 450 {
			t.Fatalf("products %+v", products)
		}
		s.must(t, "GET", "/api/products?aspect_ratio=16:9", id, false, nil, http.StatusBadRequest, nil)
		s.must(t, "GET", "/api/products?page=x", id, false, nil, http.StatusBadRequest, nil)
		s.must(t, "GET", "/api/forms/checkout", id, false, nil, http.StatusOK, nil)
		s.must(t, "GET", "/api/forms/nope", id, false, nil, http.StatusNotFound, nil)
		s.must(t, "GET", "/api/nowhere", id, false, nil, http.StatusNotFound, nil)

		// Client events are accepted when the initData carries a campaign.
		link, err := s.tc.StartParams().Encode(pulse.StartParam{CampaignID: "routes"})
		if err != nil {
			t.Fatal(err)
		}
		var ingest struct{ Accepted, Duplicates, Dropped int }
		events := map[string]any{"events": []any{map[string]any{"id": "9c1d7a3e-0000-4000-8000-000000000001", "event": "PRODUCT_VIEW", "payload": map[string]any{"product_id": "p1"}}}}
		s.must(t, "POST", "/api/ingest", s.initData(2002, "Ivan", link), false, events, http.StatusOK, &ingest)
		if ingest.Accepted != 1 {
			t.Fatalf("ingest %+v", ingest)
		}

		for _, path := range []string{"/admin/api/settings", "/admin/api/customers", "/admin/api/scheduler", "/admin/api/forms/checkout"} {
			s.must(t, "GET", path, "", false, nil, http.StatusUnauthorized, nil)
			s.must(t, "GET", path, "", true, nil, http.StatusOK, nil)
		}
	})
}

// Ensure a task disabled through the settings shows as disabled in the
// scheduler at once, and enabled again when the setting is cleared.
func TestDisableTaskThroughSettings(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShop(t, db)
		enabled := func() map[string]bool {
			var tasks struct {
				Data []struct {
					Name    string `json:"name"`
					Enabled bool   `json:"enabled"`
				} `json:"data"`
			}
			s.must(t, "GET", "/admin/api/scheduler", "", true, nil, http.StatusOK, &tasks)
			out := map[string]bool{}
			for _, task := range tasks.Data {
				out[task.Name] = task.Enabled
			}
			return out
		}
		before := enabled()
		for _, name := range []string{telecart.TaskPulseSweep, telecart.TaskPulseRetention, telecart.TaskCustomerCounts, telecart.TaskCampaignFunnel} {
			if !before[name] {
				t.Fatalf("task %s missing or disabled: %v", name, before)
			}
		}
		// No task recounts the Pulse stats behind the admin's back: the
		// counts hold for StatsTTL unless the admin asks for fresh ones.
		if len(before) != 4 {
			t.Fatalf("tasks %v; want exactly the four maintenance tasks", before)
		}
		var settings map[string]any
		s.must(t, "GET", "/admin/api/settings", "", true, nil, http.StatusOK, &settings)
		delete(settings, "aspect_ratio_options")
		settings["disabled_tasks"] = []string{telecart.TaskPulseRetention}
		s.must(t, "PUT", "/admin/api/settings", "", true, settings, http.StatusOK, nil)
		if after := enabled(); after[telecart.TaskPulseRetention] || !after[telecart.TaskPulseSweep] {
			t.Fatalf("after disabling: %v", after)
		}
		settings["disabled_tasks"] = []string{}
		s.must(t, "PUT", "/admin/api/settings", "", true, settings, http.StatusOK, nil)
		if again := enabled(); !again[telecart.TaskPulseRetention] {
			t.Fatalf("after enabling: %v", again)
		}
	})
}
