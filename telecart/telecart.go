package telecart

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/forms"
	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram"
)

// Config configures a TeleCart. DB, Catalog, Orders, AdminAuth and BotToken
// are required.
type Config struct {
	// DB is the shop's database; TeleCart's tables carry DB.Prefix.
	DB migrator.DB
	// Catalog gives products, search and images from the host's catalog.
	Catalog Catalog
	// Orders creates orders in the host's tables.
	Orders OrderPlacer
	// Customers links Telegram customers to host customers; optional.
	Customers CustomerDirectory
	// AdminAuth guards the admin API (and the admin page). TeleCart never
	// serves the admin API open; use BearerAuth when the host has no
	// authentication of its own.
	AdminAuth func(http.Handler) http.Handler
	// BotToken validates initData and sends messages until the settings
	// hold another one.
	BotToken string
	// TelegramAPIURL is the Bot API server. Defaults to Telegram's.
	TelegramAPIURL string
	// Pulse configures delivery: URL, APIKey and Secret are defaults the
	// settings override; the rest tunes the sender.
	Pulse pulse.Config
	// StartParamSecret, when set, makes only signed campaign links count.
	StartParamSecret string
	// AttributionWindow bounds a customer's stored campaign. Defaults to
	// pulse.AttributionWindowDefault.
	AttributionWindow time.Duration
	// Settings are the defaults of the shop's settings; stored ones win.
	Settings Settings
	// ExtraMigrations run after TeleCart's own, in the same run (the
	// host's tables, for example).
	ExtraMigrations []migrator.Source
	// StatsTTL is how long Pulse delivery counts are cached for the admin.
	// Defaults to pulse.StatsTTLDefault (1h).
	StatsTTL time.Duration
	// SentRetention and FailedRetention bound how long delivered and failed
	// events are kept. Default to pulse.SentRetentionDefault (30 days) and
	// pulse.FailedRetentionDefault (90 days).
	SentRetention, FailedRetention time.Duration
	// LogFile is the file the logs viewer reads; empty disables it.
	LogFile string
	// Logger receives TeleCart's logs. Defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// ErrStopped is returned by Start after Stop: a stopped TeleCart does not
// restart; make a new one with New.
var ErrStopped = errors.New("telecart: stopped; make a new TeleCart with New to start again")

// TeleCart is the plugin: stores, services and handlers composed over one
// database.
type TeleCart struct {
	cfg        Config
	db         migrator.DB
	logger     *slog.Logger
	now        func() time.Time
	validator  *telegram.Validator
	bot        *telegram.Bot
	settings   *SettingsStore
	customers  *telegram.CustomerStore
	messenger  *telegram.Messenger
	pulse      *pulse.Pulse
	forms      *forms.Store
	orders     *OrderService
	scheduler  *Scheduler
	stats      *pulse.StatsCache
	ingest     *pulse.IngestHandler
	etl        *pulse.ETLHandler
	dashboard  *DashboardService
	migrations []migrator.Source

	// The route handlers, built by New so that a mistake is New's error.
	settingsH   *SettingsHandler
	productsH   *ProductsHandler
	customersH  *telegram.CustomersHandler
	formsH      *forms.Handler
	schedulerH  *SchedulerHandler
	pulseAdminH *pulse.AdminHandler
	logsH       *LogsHandler // nil without Config.LogFile

	mu      sync.Mutex
	started bool
	stopped bool
	ready   chan struct{}
}

// New validates cfg and builds a TeleCart; it does no I/O. Start migrates
// the database and starts the background work.
func New(cfg Config) (*TeleCart, error) {
	switch {
	case cfg.DB.DB == nil:
		return nil, errors.New("telecart: Config.DB is empty; open the database with dbopen, migrator/sqlite or migrator/mysql")
	case cfg.Catalog == nil:
		return nil, errors.New("telecart: Config.Catalog is nil; implement telecart.Catalog over the shop's products")
	case cfg.Orders == nil:
		return nil, errors.New("telecart: Config.Orders is nil; implement telecart.OrderPlacer over the shop's order tables")
	case cfg.AdminAuth == nil:
		return nil, errors.New("telecart: Config.AdminAuth is nil; the admin API is never served open: " +
			"pass the host's auth middleware, or telecart.BearerAuth(token)")
	case isUnconfiguredAuth(cfg.AdminAuth):
		return nil, errors.New("telecart: Config.AdminAuth is BearerAuth with an empty token; set the admin token")
	case cfg.BotToken == "":
		return nil, errors.New("telecart: Config.BotToken is empty; set the token from @BotFather")
	}
	if err := cfg.DB.Dialect.Validate(); err != nil {
		return nil, err
	}
	if err := migrator.ValidatePrefix(cfg.DB.Prefix); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tc := &TeleCart{cfg: cfg, db: cfg.DB, logger: cfg.Logger, now: cfg.Now, ready: make(chan struct{})}
	var err error
	if tc.validator, err = telegram.NewValidator(telegram.ValidatorConfig{BotToken: cfg.BotToken, Now: cfg.Now}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	if tc.bot, err = telegram.NewBot(telegram.BotConfig{Token: cfg.BotToken, BaseURL: cfg.TelegramAPIURL, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	pcfg := cfg.Pulse
	if pcfg.Logger == nil {
		pcfg.Logger = cfg.Logger
	}
	if pcfg.Now == nil {
		pcfg.Now = cfg.Now
	}
	if tc.pulse, err = pulse.New(cfg.DB, pcfg); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	defaults := cfg.Settings
	defaults.BotToken = firstNonEmpty(defaults.BotToken, cfg.BotToken)
	defaults.PulseURL = firstNonEmpty(defaults.PulseURL, pcfg.URL)
	defaults.PulseAPIKey = firstNonEmpty(defaults.PulseAPIKey, pcfg.APIKey)
	defaults.PulseSecret = firstNonEmpty(defaults.PulseSecret, pcfg.Secret)
	if tc.settings, err = NewSettingsStore(cfg.DB, SettingsStoreConfig{Defaults: defaults, Now: cfg.Now}); err != nil {
		return nil, err
	}
	tc.settings.OnChange(tc.apply)

	if tc.customers, err = telegram.NewCustomerStore(cfg.DB, telegram.CustomerStoreConfig{
		Now: cfg.Now, Logger: cfg.Logger, OnConsent: tc.trackConsent,
	}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	if tc.messenger, err = telegram.NewMessenger(telegram.MessengerConfig{
		Store: tc.customers, Sender: tc.bot, Now: cfg.Now, Logger: cfg.Logger, OnSent: tc.trackMessage,
	}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	if tc.forms, err = forms.NewStore(cfg.DB, forms.StoreConfig{Now: cfg.Now}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	tc.orders = &OrderService{
		db: cfg.DB, catalog: cfg.Catalog, placer: cfg.Orders, directory: cfg.Customers,
		customers: tc.customers, forms: tc.forms, pulse: tc.pulse,
		attribution: tc.attribution(), now: cfg.Now, logger: cfg.Logger,
	}
	if tc.stats, err = pulse.NewStatsCache(pulse.StatsCacheConfig{Pulse: tc.pulse, TTL: cfg.StatsTTL, Now: cfg.Now}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	if tc.ingest, err = pulse.NewIngestHandler(pulse.IngestConfig{Pulse: tc.pulse, Customers: tc.customers,
		Attribution: tc.attribution(), Logger: cfg.Logger, Now: cfg.Now}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	metrics, err := NewCustomerMetricsSource(cfg.DB, CustomerMetricsSourceConfig{Customers: tc.customers})
	if err != nil {
		return nil, err
	}
	if tc.etl, err = pulse.NewETLHandler(pulse.ETLConfig{Source: metrics,
		APIKey: tc.pulseAPIKey, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	tc.dashboard = &DashboardService{db: cfg.DB, customers: tc.customers, stats: tc.stats, settings: tc.settings, now: cfg.Now}
	if tc.scheduler, err = NewScheduler(SchedulerConfig{DB: cfg.DB, Logger: cfg.Logger, Now: cfg.Now}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	if err := tc.registerTasks(); err != nil {
		return nil, err
	}
	if err := tc.newHandlers(); err != nil {
		return nil, err
	}
	tc.migrations = append([]migrator.Source{
		telegram.MigrationSource(), pulse.MigrationSource(), forms.MigrationSource(), MigrationSource(),
	}, cfg.ExtraMigrations...)
	return tc, nil
}

// newHandlers builds the route handlers over the stores and services.
func (tc *TeleCart) newHandlers() error {
	var err error
	if tc.settingsH, err = NewSettingsHandler(SettingsHandlerConfig{Store: tc.settings, Logger: tc.logger}); err != nil {
		return err
	}
	if tc.productsH, err = NewProductsHandler(ProductsHandlerConfig{Catalog: tc.cfg.Catalog, Settings: tc.settings, Logger: tc.logger}); err != nil {
		return err
	}
	if tc.customersH, err = telegram.NewCustomersHandler(telegram.CustomersHandlerConfig{
		Store: tc.customers, Messenger: tc.messenger, Logger: tc.logger,
	}); err != nil {
		return fmt.Errorf("telecart: %w", err)
	}
	if tc.formsH, err = forms.NewHandler(forms.HandlerConfig{Store: tc.forms, Logger: tc.logger}); err != nil {
		return fmt.Errorf("telecart: %w", err)
	}
	if tc.schedulerH, err = NewSchedulerHandler(SchedulerHandlerConfig{Scheduler: tc.scheduler}); err != nil {
		return err
	}
	if tc.pulseAdminH, err = pulse.NewAdminHandler(pulse.AdminConfig{Pulse: tc.pulse, Stats: tc.stats, Logger: tc.logger}); err != nil {
		return fmt.Errorf("telecart: %w", err)
	}
	if tc.cfg.LogFile != "" {
		if tc.logsH, err = NewLogsHandler(LogsHandlerConfig{Path: tc.cfg.LogFile, Logger: tc.logger}); err != nil {
			return err
		}
	}
	return nil
}

func (tc *TeleCart) attribution() pulse.Attribution {
	return pulse.Attribution{
		StartParams: pulse.NewStartParamSerializer(tc.cfg.StartParamSecret),
		Window:      tc.cfg.AttributionWindow,
	}
}

// Migrations lists every package's migrations in the order TeleCart runs
// them, the host's ExtraMigrations last.
func (tc *TeleCart) Migrations() []migrator.Source {
	return append([]migrator.Source(nil), tc.migrations...)
}

// Migrator returns the runner over TeleCart's migrations, for operator
// commands such as "migrate status".
func (tc *TeleCart) Migrator() (*migrator.Migrator, error) {
	return migrator.New(tc.db.DB, migrator.Config{
		Dialect: tc.db.Dialect, Prefix: tc.db.Prefix, NoPrefix: tc.db.Prefix == "",
		Sources: tc.migrations, Logger: tc.logger,
	})
}

// Migrate applies pending migrations. Every replica may call it at start:
// one applies, the others wait and find nothing to do.
func (tc *TeleCart) Migrate(ctx context.Context) error {
	m, err := tc.Migrator()
	if err != nil {
		return err
	}
	if _, err := m.Up(ctx); err != nil {
		return err
	}
	return nil
}

// Start migrates the database, applies the stored settings and starts the
// Pulse sender and the scheduler. It returns once they run. Start after
// Start is a no-op returning nil; Start after Stop returns ErrStopped.
func (tc *TeleCart) Start(ctx context.Context) error {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.stopped {
		return ErrStopped
	}
	if tc.started {
		return nil
	}
	if err := tc.Migrate(ctx); err != nil {
		return err
	}
	s, err := tc.settings.Get(ctx)
	if err != nil {
		return fmt.Errorf("telecart: loading settings: %w", err)
	}
	tc.apply(s)
	if err := tc.pulse.Start(ctx); err != nil {
		return fmt.Errorf("telecart: starting Pulse: %w", err)
	}
	if err := tc.scheduler.Start(ctx); err != nil {
		_ = tc.pulse.Stop(ctx)
		return fmt.Errorf("telecart: starting the scheduler: %w", err)
	}
	tc.started = true
	close(tc.ready)
	return nil
}

// Ready is closed once Start has migrated the database and started.
func (tc *TeleCart) Ready() <-chan struct{} { return tc.ready }

// Stop stops the scheduler and the Pulse sender gracefully within ctx's
// deadline. Calling it twice is fine.
func (tc *TeleCart) Stop(ctx context.Context) error {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.stopped || !tc.started {
		tc.stopped = true
		return nil
	}
	tc.stopped = true
	return errors.Join(tc.scheduler.Stop(ctx), tc.pulse.Stop(ctx))
}

// apply makes settings take effect without a restart.
func (tc *TeleCart) apply(s Settings) {
	if s.BotToken != "" {
		if err := tc.validator.SetBotToken(s.BotToken); err != nil {
			tc.logger.Error("telecart: applying the bot token from settings", "err", err)
		}
		if err := tc.bot.SetToken(s.BotToken); err != nil {
			tc.logger.Error("telecart: applying the bot token from settings", "err", err)
		}
	}
	if err := tc.pulse.SetCredentials(s.PulseURL, s.PulseAPIKey, s.PulseSecret); err != nil {
		tc.logger.Error("telecart: applying Pulse credentials from settings", "err", err)
	}
	tc.scheduler.SetDisabled(s.DisabledTasks)
}

// pulseAPIKey is the current Pulse API key, which the Pulse service also
// presents to the ETL export.
func (tc *TeleCart) pulseAPIKey() string {
	s, err := tc.settings.Get(context.Background())
	if err != nil {
		tc.logger.Error("telecart: reading the Pulse API key", "err", err)
		return ""
	}
	return s.PulseAPIKey
}

// trackConsent tracks PRIVACY_CONSENT when a customer first consents.
func (tc *TeleCart) trackConsent(ctx context.Context, c telegram.Customer) {
	tc.trackServerEvent(ctx, pulse.EventPrivacyConsent, "consent:"+c.TrackingID, c, nil)
}

// trackMessage tracks MESSAGE_SENT after the admin messaged a customer.
func (tc *TeleCart) trackMessage(ctx context.Context, c telegram.Customer, messageID int64) {
	tc.trackServerEvent(ctx, pulse.EventMessageSent, fmt.Sprintf("message:%s:%d", c.TrackingID, messageID), c,
		map[string]any{"message_id": messageID})
}

func (tc *TeleCart) trackServerEvent(ctx context.Context, name, key string, c telegram.Customer, payload any) {
	campaign := tc.attribution().CampaignFor(telegram.InitData{}, c, tc.now())
	if _, err := tc.pulse.Track(ctx, pulse.Event{Name: name, IdempotencyKey: key, CampaignID: campaign,
		TrackingID: c.TrackingID, OccurredAt: tc.now(), Payload: payload}); err != nil {
		tc.logger.ErrorContext(ctx, "telecart: tracking "+name, "err", err)
	}
}

// RegisterRoutes mounts every route on r: the storefront API under /api
// (behind initData validation), the admin API under /admin/api (behind
// AdminAuth), the Pulse ETL export under /pulse/etl (behind the Pulse API
// key), and the pages: the admin panel at /admin/ and the Mini App
// storefront at /app/.
func (tc *TeleCart) RegisterRoutes(r *mux.Router) {
	api := r.PathPrefix("/api").Subrouter()
	api.Use(tc.validator.Middleware)
	tc.settingsH.RegisterStorefrontRoutes(api)
	tc.productsH.RegisterStorefrontRoutes(api)
	tc.customersH.RegisterStorefrontRoutes(api)
	tc.formsH.RegisterStorefrontRoutes(api)
	(&OrdersHandler{service: tc.orders, logger: tc.logger}).RegisterStorefrontRoutes(api)
	tc.ingest.RegisterStorefrontRoutes(api)
	api.PathPrefix("/").Handler(notFound())

	etl := r.PathPrefix("/pulse/etl").Subrouter()
	tc.etl.RegisterRoutes(etl)
	etl.PathPrefix("/").Handler(notFound())

	admin := r.PathPrefix("/admin/api").Subrouter()
	admin.Use(mux.MiddlewareFunc(tc.cfg.AdminAuth))
	tc.settingsH.RegisterAdminRoutes(admin)
	tc.customersH.RegisterAdminRoutes(admin)
	tc.formsH.RegisterAdminRoutes(admin)
	tc.schedulerH.RegisterAdminRoutes(admin)
	tc.pulseAdminH.RegisterAdminRoutes(admin)
	(&DashboardHandler{service: tc.dashboard, logger: tc.logger}).RegisterAdminRoutes(admin)
	if tc.logsH != nil {
		tc.logsH.RegisterAdminRoutes(admin)
	}
	admin.PathPrefix("/").Handler(notFound())
	registerPages(r)
}

// Handler returns every route on a router of its own, for hosts not on
// gorilla/mux.
func (tc *TeleCart) Handler() http.Handler {
	r := mux.NewRouter()
	tc.RegisterRoutes(r)
	r.NotFoundHandler = notFound()
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, r, nil, tcerr.Errorf(tcerr.MethodNotAllowed, "method_not_allowed", "%s is not allowed here", r.Method))
	})
	return r
}

func notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, r, nil, tcerr.NotFoundf("no route for %s %s", r.Method, r.URL.Path))
	})
}

// Pulse returns the Pulse outbox and sender, for the host's own events.
func (tc *TeleCart) Pulse() *pulse.Pulse { return tc.pulse }

// Customers returns the Telegram customers store.
func (tc *TeleCart) Customers() *telegram.CustomerStore { return tc.customers }

// Settings returns the settings store.
func (tc *TeleCart) Settings() *SettingsStore { return tc.settings }

// Scheduler returns the scheduler, for operator commands.
func (tc *TeleCart) Scheduler() *Scheduler { return tc.scheduler }

// Dashboard returns the dashboard service.
func (tc *TeleCart) Dashboard() *DashboardService { return tc.dashboard }

// Orders returns the order service.
func (tc *TeleCart) Orders() *OrderService { return tc.orders }

// Validator returns the initData validator.
func (tc *TeleCart) Validator() *telegram.Validator { return tc.validator }

// BearerAuth is admin authentication for hosts that have none: requests
// must carry "Authorization: Bearer {token}", compared in constant time, or
// get a 401 JSON error.
//
// An empty token is a setup mistake (an unset environment variable, say):
// New refuses a Config whose AdminAuth is BearerAuth(""), and a host that
// mounts it on routes of its own gets every request answered 503
// "admin_auth_unconfigured". It never panics and never lets a request
// through.
func BearerAuth(token string) func(http.Handler) http.Handler {
	if token == "" {
		return func(http.Handler) http.Handler { return unconfiguredAuth{} }
	}
	want := []byte(token)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="telecart-admin"`)
				httpx.WriteError(w, r, nil, tcerr.Errorf(tcerr.Unauthenticated, "unauthorized", "a valid admin token is required"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// unconfiguredAuth is what BearerAuth("") puts in front of every handler.
type unconfiguredAuth struct{}

func (unconfiguredAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	httpx.WriteError(w, r, nil, tcerr.Errorf(tcerr.Unavailable, "admin_auth_unconfigured",
		"The admin API has no token configured; set the admin token in the shop's configuration."))
}

// isUnconfiguredAuth reports whether auth is BearerAuth with an empty
// token: wrapping a handler with it gives an unconfiguredAuth.
func isUnconfiguredAuth(auth func(http.Handler) http.Handler) bool {
	_, ok := auth(http.NotFoundHandler()).(unconfiguredAuth)
	return ok
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
