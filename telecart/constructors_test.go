package telecart_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/forms"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/updates"
)

// Ensure every exported constructor of a store, service or handler takes
// one shape, New…(cfg) or New…(db, cfg), and answers a missing or broken
// dependency with an error naming it, never a panic.
func TestConstructorsRefuseBadConfig(t *testing.T) {
	db := migratortest.MustOpenDB(t, migrator.SQLite)
	badDialect := db
	badDialect.Dialect = "oracle"
	badPrefix := db
	badPrefix.Prefix = "x; DROP TABLE y"
	for _, tt := range []struct {
		name string
		new  func() error
		want string // in the error
	}{
		{"telecart.New", func() error { _, err := telecart.New(telecart.Config{}); return err }, "Config.DB"},
		{"telecart.NewSettingsStore", func() error {
			_, err := telecart.NewSettingsStore(migrator.DB{}, telecart.SettingsStoreConfig{})
			return err
		}, "db.DB is nil"},
		{"telecart.NewSettingsStore/Dialect", func() error {
			_, err := telecart.NewSettingsStore(badDialect, telecart.SettingsStoreConfig{})
			return err
		}, "oracle"},
		{"telecart.NewSettingsStore/Prefix", func() error {
			_, err := telecart.NewSettingsStore(badPrefix, telecart.SettingsStoreConfig{})
			return err
		}, "prefix"},
		{"telecart.NewSettingsHandler", func() error { _, err := telecart.NewSettingsHandler(telecart.SettingsHandlerConfig{}); return err }, "Store is nil"},
		{"telecart.NewProductsHandler", func() error { _, err := telecart.NewProductsHandler(telecart.ProductsHandlerConfig{}); return err }, "Catalog is nil"},
		{"telecart.NewProductsHandler/Settings", func() error {
			_, err := telecart.NewProductsHandler(telecart.ProductsHandlerConfig{Catalog: newFakeCatalog(1)})
			return err
		}, "Settings is nil"},
		{"telecart.NewLogsHandler", func() error { _, err := telecart.NewLogsHandler(telecart.LogsHandlerConfig{}); return err }, "Path is empty"},
		{"telecart.NewSchedulerHandler", func() error { _, err := telecart.NewSchedulerHandler(telecart.SchedulerHandlerConfig{}); return err }, "Scheduler is nil"},
		{"telecart.NewScheduler", func() error { _, err := telecart.NewScheduler(telecart.SchedulerConfig{}); return err }, "DB"},
		{"telecart.NewCustomerMetricsSource", func() error {
			_, err := telecart.NewCustomerMetricsSource(migrator.DB{}, telecart.CustomerMetricsSourceConfig{})
			return err
		}, "db.DB is nil"},
		{"telecart.NewCustomerMetricsSource/Customers", func() error {
			_, err := telecart.NewCustomerMetricsSource(db, telecart.CustomerMetricsSourceConfig{})
			return err
		}, "Customers is nil"},
		{"forms.NewStore", func() error { _, err := forms.NewStore(migrator.DB{}, forms.StoreConfig{}); return err }, "db.DB is nil"},
		{"forms.NewStore/Dialect", func() error { _, err := forms.NewStore(badDialect, forms.StoreConfig{}); return err }, "oracle"},
		{"forms.NewHandler", func() error { _, err := forms.NewHandler(forms.HandlerConfig{}); return err }, "Store is nil"},
		{"pulse.New", func() error { _, err := pulse.New(migrator.DB{}, pulse.Config{}); return err }, "db is nil"},
		{"pulse.NewStatsCache", func() error { _, err := pulse.NewStatsCache(pulse.StatsCacheConfig{}); return err }, "Pulse is nil"},
		{"pulse.NewAdminHandler", func() error { _, err := pulse.NewAdminHandler(pulse.AdminConfig{}); return err }, "Pulse is nil"},
		{"pulse.NewIngestHandler", func() error { _, err := pulse.NewIngestHandler(pulse.IngestConfig{}); return err }, "Pulse is nil"},
		{"pulse.NewETLHandler", func() error { _, err := pulse.NewETLHandler(pulse.ETLConfig{}); return err }, "Source is nil"},
		{"pulse.NewCustomersTableSource", func() error {
			_, err := pulse.NewCustomersTableSource(pulse.CustomersTableSourceConfig{})
			return err
		}, "Customers is nil"},
		{"pulse.NewPayloadSigner", func() error { _, err := pulse.NewPayloadSigner(pulse.SignerConfig{}); return err }, "Secret"},
		{"telegram.NewCustomerStore", func() error {
			_, err := telegram.NewCustomerStore(migrator.DB{}, telegram.CustomerStoreConfig{})
			return err
		}, "db.DB is nil"},
		{"telegram.NewCustomersHandler", func() error { _, err := telegram.NewCustomersHandler(telegram.CustomersHandlerConfig{}); return err }, "Store is nil"},
		{"telegram.NewMessenger", func() error { _, err := telegram.NewMessenger(telegram.MessengerConfig{}); return err }, "Store is nil"},
		{"telegram.NewValidator", func() error { _, err := telegram.NewValidator(telegram.ValidatorConfig{}); return err }, "BotToken"},
		{"telegram.NewBot", func() error { _, err := telegram.NewBot(telegram.BotConfig{}); return err }, "Token"},
		{"migrator.New", func() error { _, err := migrator.New(nil, migrator.Config{}); return err }, "db is nil"},
		{"botapi.New", func() error { _, err := botapi.New(botapi.Config{}); return err }, "Token is empty"},
		{"updates.New", func() error { _, err := updates.New(updates.Config{}); return err }, "DB is empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if v := recover(); v != nil {
					t.Fatalf("panicked: %v", v)
				}
			}()
			if err := tt.new(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

// Ensure BearerAuth with an empty token neither panics nor opens the admin
// API: New refuses it, and on a host's own routes it answers every request
// 503 without calling them.
func TestBearerAuthEmptyToken(t *testing.T) {
	auth := telecart.BearerAuth("")
	called := false
	h := auth(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	for _, header := range []string{"", "Bearer ", "Bearer x"} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/admin/api/settings", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		h.ServeHTTP(w, r)
		if called || w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"code":"admin_auth_unconfigured"`) {
			t.Fatalf("Authorization %q: called %v, %d %s", header, called, w.Code, w.Body)
		}
	}
	db := migratortest.MustOpenDB(t, migrator.SQLite)
	_, err := telecart.New(telecart.Config{DB: db, Catalog: newFakeCatalog(1), Orders: &fakePlacer{}, AdminAuth: auth, BotToken: plugBotToken})
	if err == nil || !strings.Contains(err.Error(), "empty token") {
		t.Fatalf("New with BearerAuth(\"\") = %v, want an error about the empty token", err)
	}
	// A token is still required, and enough.
	if _, err := telecart.New(telecart.Config{DB: db, Catalog: newFakeCatalog(1), Orders: &fakePlacer{},
		AdminAuth: telecart.BearerAuth("t"), BotToken: plugBotToken}); err != nil {
		t.Fatalf("New with BearerAuth(\"t\") = %v", err)
	}
}
