package telecart

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/time/rate"

	"github.com/telecart-go/telecart/forms"
	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/botapi"
	"github.com/telecart-go/telecart/telegram/outbox"
	"github.com/telecart-go/telecart/telegram/updates"
)

// Config configures a TeleCart. DB, Catalog, Orders, AdminAuth and BotToken
// are required.
type Config struct {
	// DB is the shop's database; TeleCart's tables carry DB.Prefix.
	DB migrator.DB
	// Catalog gives products, search and images from the host's catalog.
	Catalog Catalog
	// ProductsCacheTTL is how long a page of the storefront's products feed
	// is answered from memory before the catalog is asked again, so a
	// change in the catalog shows in the feed within it. Defaults to
	// ProductsCacheTTLDefault (2s); negative: always ask the catalog.
	ProductsCacheTTL time.Duration
	// Orders creates orders in the host's tables.
	Orders OrderPlacer
	// OrderURL is the host's own page of an order, a template in which
	// "{id}" stands for the host's order id (PlacedOrder.ID, percent-encoded),
	// such as "https://shop.example/admin/orders/{id}" or
	// "/admin/orders/{id}". The admin panel's orders list links each order
	// there. An http(s) URL or a path from the root; empty shows no link.
	OrderURL string
	// Customers links Telegram customers to host customers; optional.
	Customers CustomerDirectory
	// AdminAuth guards the admin API: the host's own admin login (a cookie
	// session, a proxy header) or BearerAuth. TeleCart never serves the
	// admin API open. It must answer 401 for a request it refuses; the
	// admin page then shows a token sign-in when the 401 carries
	// "WWW-Authenticate: Bearer" (BearerAuth's), and otherwise asks the
	// admin to sign in to the shop, showing the 401's JSON error message
	// (write it with WriteError, e.g. naming the shop's login page). A
	// cookie session must also stop cross-site requests, for example with
	// http.CrossOriginProtection; the admin page itself is static and public.
	AdminAuth func(http.Handler) http.Handler
	// BotToken validates initData and sends messages until the settings
	// hold another one.
	BotToken string
	// TelegramAPIURL is the Bot API server. Defaults to Telegram's.
	TelegramAPIURL string
	// PublicURL is the shop's public base URL, such as
	// https://shop.example/telecart (where RegisterRoutes' routes are
	// reached from outside): the bot's "Open shop" buttons and a
	// broadcast's button open {PublicURL}/app/, and the webhook is
	// {PublicURL}/telegram/webhook. Without it the bot takes no updates
	// (POST /telegram/webhook is not registered) and broadcasts have no
	// button. Telegram opens only https Mini Apps.
	PublicURL string
	// BotUpdates is how Telegram's updates (/start, a customer blocking
	// the bot) arrive: BotUpdatesOff (the default), BotUpdatesPoll (long
	// polling from Start to Stop) or BotUpdatesWebhook (Start registers
	// {PublicURL}/telegram/webhook with a secret token). Poll and webhook
	// need PublicURL.
	BotUpdates string
	// Messages tunes the message outbox (pace, retries, lease); Bot,
	// Customers, WebAppURL, OnDelivery, OnSentTx, Logger and Now are
	// TeleCart's.
	Messages outbox.Config
	// Pulse configures delivery: URL, APIKey and Secret are defaults the
	// settings override; the rest tunes the sender. The sweep is the
	// scheduler's pulse_sweep task, on Pulse.SweepSchedule (the settings'
	// disabled_tasks turn it off); Pulse.NoSweep registers it disabled.
	Pulse pulse.Config
	// StartParamSecret signs campaign links: a start_param without a valid
	// MAC attributes nothing. The admin can change it in the settings.
	// Defaults to a random secret generated at the first Start and kept in
	// the database.
	StartParamSecret string
	// AttributionWindow bounds a customer's stored campaign. Defaults to
	// pulse.AttributionWindowDefault.
	AttributionWindow time.Duration
	// Settings are the defaults of the shop's settings; stored ones win.
	Settings Settings
	// ExtraMigrations run after TeleCart's own, in the same run (the
	// host's tables, for example).
	ExtraMigrations []migrator.Source
	// IngestRate is how many client events one customer may send to
	// /api/ingest per minute; over it the storefront is answered 429 with
	// Retry-After. Negative means no limit. Defaults to
	// pulse.IngestRateDefault.
	IngestRate int
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
	// Hooks let the host observe orders, Pulse delivery and requests
	// without polling (see Hooks for the contract); AddHooks adds more.
	// Pulse.OnDelivery and Pulse.OnStateChange, when set, are called too.
	Hooks Hooks
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
	botClient  *botapi.Client
	bot        *telegram.Bot
	intake     *updates.Intake // nil without Config.PublicURL
	settings   *SettingsStore
	location   atomic.Pointer[time.Location] // the shop's time zone, last loaded
	customers  *telegram.CustomerStore
	messenger  *telegram.Messenger
	botAPI     *botapi.Client
	outbox     *outbox.Outbox
	pulse      *pulse.Pulse
	forms      *forms.Store
	orders     *OrderService
	scheduler  *Scheduler
	stats      *pulse.StatsCache
	ingest     *pulse.IngestHandler
	etl        *pulse.ETLHandler
	dashboard  *DashboardService
	migrations []migrator.Source
	// startParams signs and checks campaign links; its secret comes from
	// the settings.
	startParams *pulse.StartParamSerializer
	campaigns   *pulse.Campaigns
	campaignsH  *pulse.CampaignsHandler
	botName     botNameCache

	// adminRefusals counts the admin API's refusals; the log reports them
	// at most once a minute.
	adminRefusals, adminRefusalsLogged atomic.Int64
	adminRefusalLog                    rate.Sometimes

	hooksMu sync.Mutex // serializes AddHooks
	hooks   atomic.Pointer[[]Hooks]

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
	if err := validateOrderURL(cfg.OrderURL); err != nil {
		return nil, err
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
	var err error
	if cfg.PublicURL, err = validatePublicURL(cfg.PublicURL); err != nil {
		return nil, err
	}
	switch cfg.BotUpdates {
	case "":
		cfg.BotUpdates = BotUpdatesOff
	case BotUpdatesOff:
	case BotUpdatesPoll, BotUpdatesWebhook:
		if cfg.PublicURL == "" {
			return nil, fmt.Errorf("telecart: Config.BotUpdates %q needs Config.PublicURL, the shop's public URL the bot's buttons open", cfg.BotUpdates)
		}
	default:
		return nil, fmt.Errorf("telecart: Config.BotUpdates %q is none of %q, %q, %q", cfg.BotUpdates, BotUpdatesOff, BotUpdatesPoll, BotUpdatesWebhook)
	}
	tc := &TeleCart{cfg: cfg, db: cfg.DB, logger: cfg.Logger, now: cfg.Now, ready: make(chan struct{}),
		startParams:     pulse.NewStartParamSerializer(cfg.StartParamSecret),
		adminRefusalLog: rate.Sometimes{Interval: time.Minute}}
	tc.AddHooks(cfg.Hooks)
	if cfg.Pulse.OnDelivery != nil || cfg.Pulse.OnStateChange != nil {
		tc.AddHooks(Hooks{PulseDelivery: cfg.Pulse.OnDelivery, PulseState: cfg.Pulse.OnStateChange})
	}
	if tc.validator, err = telegram.NewValidator(telegram.ValidatorConfig{BotToken: cfg.BotToken, Now: cfg.Now,
		OnReject: tc.initDataRejected}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	if tc.botClient, err = botapi.New(botapi.Config{Token: cfg.BotToken, BaseURL: cfg.TelegramAPIURL, Logger: cfg.Logger, Now: cfg.Now}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	if tc.bot, err = telegram.NewBot(telegram.BotConfig{Client: tc.botClient, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	pcfg := cfg.Pulse
	if pcfg.Logger == nil {
		pcfg.Logger = cfg.Logger
	}
	if pcfg.Now == nil {
		pcfg.Now = cfg.Now
	}
	// One sweep, the scheduler's pulse_sweep task: the settings can turn
	// it off, which they could not do to the sender's own cron.
	pcfg.NoSweep = true
	pcfg.OnDelivery, pcfg.OnStateChange = tc.pulseDelivery, tc.pulseState
	if tc.pulse, err = pulse.New(cfg.DB, pcfg); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	defaults := cfg.Settings
	defaults.BotToken = firstNonEmpty(defaults.BotToken, cfg.BotToken)
	defaults.PulseURL = firstNonEmpty(defaults.PulseURL, pcfg.URL)
	defaults.PulseAPIKey = firstNonEmpty(defaults.PulseAPIKey, pcfg.APIKey)
	defaults.PulseSecret = firstNonEmpty(defaults.PulseSecret, pcfg.Secret)
	defaults.StartParamSecret = firstNonEmpty(defaults.StartParamSecret, cfg.StartParamSecret)
	if tc.settings, err = NewSettingsStore(cfg.DB, SettingsStoreConfig{Defaults: defaults, Now: cfg.Now}); err != nil {
		return nil, err
	}
	tc.settings.OnChange(tc.apply)

	if tc.customers, err = telegram.NewCustomerStore(cfg.DB, telegram.CustomerStoreConfig{
		Now: cfg.Now, Logger: cfg.Logger, OnConsent: tc.trackConsent, OnErase: tc.customerErased,
	}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	if tc.botAPI, err = botapi.New(botapi.Config{Token: cfg.BotToken, BaseURL: cfg.TelegramAPIURL, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	ocfg := cfg.Messages
	ocfg.Bot, ocfg.Customers, ocfg.OnDelivery, ocfg.OnSentTx = tc.botAPI, tc.customers, tc.messageDelivered, tc.messageSentTx
	ocfg.OnChatMigrated = tc.chatMigrated(cfg.Messages.OnChatMigrated)
	// The outbox paces by the wall clock: Telegram counts in real seconds.
	ocfg.Logger = cfg.Logger
	if cfg.PublicURL != "" {
		ocfg.WebAppURL = strings.TrimRight(cfg.PublicURL, "/") + "/app/"
	}
	if tc.outbox, err = outbox.New(cfg.DB, ocfg); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	// Every owner of rows about a customer erases its own in the erasure's
	// transaction; the customers table itself is the store's.
	tc.customers.AddEraser(orderMetaEraser{db: cfg.DB})
	tc.customers.AddEraser(tc.pulse)
	tc.customers.AddEraser(tc.outbox)
	tc.customers.AddEraser(orderNoticeEraser{db: cfg.DB, outbox: tc.outbox})
	tc.customers.AddEraser(updates.Eraser{DB: cfg.DB})
	if tc.messenger, err = telegram.NewMessenger(telegram.MessengerConfig{
		Store: tc.customers, Queue: messageQueue{tc.outbox}, Now: cfg.Now, Logger: cfg.Logger,
	}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	if cfg.PublicURL != "" {
		if tc.intake, err = updates.New(updates.Config{
			DB: cfg.DB, Client: tc.botClient, Customers: tc.customers,
			Campaigns: startParamCampaigns{tc.attribution()}, Greeter: tc, Replier: botReplies{tc.outbox},
			AppURL: tc.appURL(), WebhookSecret: tc.webhookSecret,
			Mode: cfg.BotUpdates, WebhookURL: cfg.PublicURL + "/telegram/webhook",
			Logger: cfg.Logger, Now: cfg.Now,
		}); err != nil {
			return nil, fmt.Errorf("telecart: %w", err)
		}
	}
	if tc.forms, err = forms.NewStore(cfg.DB, forms.StoreConfig{Now: cfg.Now, Location: tc.shopLocation}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	tc.orders = &OrderService{
		db: cfg.DB, catalog: cfg.Catalog, placer: cfg.Orders, directory: cfg.Customers,
		customers: tc.customers, forms: tc.forms, pulse: tc.pulse,
		attribution: tc.attribution(), now: cfg.Now, logger: cfg.Logger, onPlaced: tc.orderPlaced,
		orderURLTemplate: cfg.OrderURL,
		notify:           tc.queueOrderNotices, notified: tc.outbox.Wake, settings: tc.settings,
	}
	if tc.stats, err = pulse.NewStatsCache(pulse.StatsCacheConfig{Pulse: tc.pulse, TTL: cfg.StatsTTL, Now: cfg.Now}); err != nil {
		return nil, fmt.Errorf("telecart: %w", err)
	}
	if tc.ingest, err = pulse.NewIngestHandler(pulse.IngestConfig{Pulse: tc.pulse, Customers: tc.customers,
		Attribution: tc.attribution(), Logger: cfg.Logger, Now: cfg.Now, OnResult: tc.ingested,
		Rate: cfg.IngestRate}); err != nil {
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
	if err := tc.newCampaigns(); err != nil {
		return nil, err
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
		telegram.MigrationSource(), updates.MigrationSource(), outbox.MigrationSource(), pulse.MigrationSource(), forms.MigrationSource(), MigrationSource(),
	}, cfg.ExtraMigrations...)
	return tc, nil
}

// newHandlers builds the route handlers over the stores and services.
func (tc *TeleCart) newHandlers() error {
	var err error
	if tc.settingsH, err = NewSettingsHandler(SettingsHandlerConfig{Store: tc.settings, Logger: tc.logger}); err != nil {
		return err
	}
	tc.settingsH.checkBotToken = tc.bot.CheckToken
	if tc.productsH, err = NewProductsHandler(ProductsHandlerConfig{Catalog: tc.cfg.Catalog, Settings: tc.settings, Logger: tc.logger,
		CacheTTL: tc.cfg.ProductsCacheTTL, Now: tc.cfg.Now}); err != nil {
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
		StartParams: tc.startParams,
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
	s, err := tc.ensureGenerated(ctx)
	if err != nil {
		return err
	}
	tc.apply(s)
	if err := tc.pulse.Start(ctx); err != nil {
		return fmt.Errorf("telecart: starting Pulse: %w", err)
	}
	if err := tc.outbox.Start(ctx); err != nil {
		_ = tc.pulse.Stop(ctx)
		return fmt.Errorf("telecart: starting the message outbox: %w", err)
	}
	if err := tc.scheduler.Start(ctx); err != nil {
		_ = errors.Join(tc.pulse.Stop(ctx), tc.outbox.Stop(ctx))
		return fmt.Errorf("telecart: starting the scheduler: %w", err)
	}
	if tc.intake != nil {
		if err := tc.intake.Start(ctx); err != nil {
			_ = errors.Join(tc.scheduler.Stop(ctx), tc.outbox.Stop(ctx), tc.pulse.Stop(ctx))
			return fmt.Errorf("telecart: starting the bot's updates: %w", err)
		}
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
	var intakeErr error
	if tc.intake != nil {
		intakeErr = tc.intake.Stop(ctx)
	}
	return errors.Join(intakeErr, tc.scheduler.Stop(ctx), tc.outbox.Stop(ctx), tc.pulse.Stop(ctx))
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
		if err := tc.botAPI.SetToken(s.BotToken); err != nil {
			tc.logger.Error("telecart: applying the bot token from settings", "err", err)
		}
	}
	if err := tc.pulse.SetCredentials(s.PulseURL, s.PulseAPIKey, s.PulseSecret); err != nil {
		tc.logger.Error("telecart: applying Pulse credentials from settings", "err", err)
	}
	tc.scheduler.SetDisabled(s.DisabledTasks)
	tc.startParams.SetSecret(s.StartParamSecret)
}

// StartParams mints and reads campaign links (start_param values) signed
// with the shop's start_param secret, as the storefront checks them.
func (tc *TeleCart) StartParams() *pulse.StartParamSerializer { return tc.startParams }

// randomSecret is 32 random bytes in hex.
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
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

func (tc *TeleCart) trackServerEvent(ctx context.Context, name, key string, c telegram.Customer, payload any) {
	if _, err := tc.pulse.Track(ctx, tc.serverEvent(name, key, c, payload)); err != nil {
		tc.logger.ErrorContext(ctx, "telecart: tracking "+name, "err", err)
	}
}

// serverEvent is an event the shop itself emits about customer c, credited
// to c's stored campaign.
func (tc *TeleCart) serverEvent(name, key string, c telegram.Customer, payload any) pulse.Event {
	now := tc.now()
	return pulse.Event{Name: name, IdempotencyKey: key, CampaignID: tc.attribution().CampaignFor(telegram.InitData{}, c, now),
		TrackingID: c.TrackingID, OccurredAt: now, Payload: payload}
}

// RegisterRoutes registers TeleCart's routes on r, each on its own path and
// method, with no catch-all: a host's own routes on the same router, under
// /api/ or /admin/ too, keep answering the host's way. To mount TeleCart
// under a base path, hand it a subrouter:
//
//	tc.RegisterRoutes(r.PathPrefix("/telecart").Subrouter())
//
// The routes, relative to r: the storefront API under /api (behind initData
// validation), the admin API under /admin/api (behind AdminAuth), the Pulse
// ETL export under /pulse/etl (behind the Pulse API key), the admin panel
// page at /admin/ and the Mini App storefront page at /app/. The pages call
// the APIs by relative URLs, so they work under any base path.
func (tc *TeleCart) RegisterRoutes(r *mux.Router) {
	api := r.PathPrefix("/api").Subrouter()
	api.Use(tc.observe(GroupStorefront))
	api.Use(tc.validator.Middleware)
	tc.settingsH.RegisterStorefrontRoutes(api)
	tc.productsH.RegisterStorefrontRoutes(api)
	tc.customersH.RegisterStorefrontRoutes(api)
	tc.formsH.RegisterStorefrontRoutes(api)
	(&OrdersHandler{service: tc.orders, logger: tc.logger}).RegisterStorefrontRoutes(api)
	tc.ingest.RegisterStorefrontRoutes(api)
	api.HandleFunc("/session", tc.validator.HandleSession).Methods(http.MethodPost)
	allowOnly(api)

	if tc.intake != nil {
		tg := r.PathPrefix("/telegram").Subrouter()
		tg.Use(tc.observe(GroupTelegram))
		tg.HandleFunc("/webhook", tc.intake.HandleWebhook).Methods(http.MethodPost)
		allowOnly(tg)
	}

	etl := r.PathPrefix("/pulse/etl").Subrouter()
	etl.Use(tc.observe(GroupETL))
	tc.etl.RegisterRoutes(etl)
	allowOnly(etl)

	admin := r.PathPrefix("/admin/api").Subrouter()
	admin.Use(tc.observe(GroupAdmin))
	admin.Use(tc.guardAdmin(tc.cfg.AdminAuth))
	admin.HandleFunc("/me", handleMe).Methods(http.MethodGet)
	tc.settingsH.RegisterAdminRoutes(admin)
	tc.customersH.RegisterAdminRoutes(admin)
	tc.formsH.RegisterAdminRoutes(admin)
	tc.schedulerH.RegisterAdminRoutes(admin)
	tc.pulseAdminH.RegisterAdminRoutes(admin)
	(&MessagesHandler{outbox: tc.outbox, settings: tc.settings, logger: tc.logger}).RegisterAdminRoutes(admin)
	tc.registerBotAdminRoutes(admin)
	tc.campaignsH.RegisterAdminRoutes(admin)
	(&DashboardHandler{service: tc.dashboard, logger: tc.logger}).RegisterAdminRoutes(admin)
	(&OrdersHandler{service: tc.orders, logger: tc.logger}).RegisterAdminRoutes(admin)
	if tc.logsH != nil {
		tc.logsH.RegisterAdminRoutes(admin)
	}
	allowOnly(admin)
	registerPages(r, tc.observe(GroupPages))
}

// handleMe answers GET /admin/api/me: reaching it means the host's admin
// auth let the request in. The admin page asks it first, so it shows the
// panel at once under a host's own login and a token sign-in only where
// the auth asks for a bearer token.
func handleMe(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]bool{"authenticated": true})
}

// Handler returns TeleCart's routes on a router of its own, rooted at "/",
// which answers a JSON 404 or 405 for anything else. Mount it under a base
// path with http.StripPrefix, or use RegisterServeMux to register only
// TeleCart's own paths on a host's http.ServeMux.
func (tc *TeleCart) Handler() http.Handler {
	r := mux.NewRouter()
	tc.RegisterRoutes(r)
	r.NotFoundHandler = notFound()
	r.MethodNotAllowedHandler = methodNotAllowed(r)
	return r
}

// allowOnly gives each path routed on r a last route for any other method,
// answering a JSON 405 with Allow. (gorilla/mux loses a subrouter's method
// mismatch once a later route shares its prefix, and a NotFoundHandler on
// the subrouter would answer for the host's paths under the prefix too.)
func allowOnly(r *mux.Router) {
	seen := map[string]bool{}
	var paths []string
	_ = r.Walk(func(route *mux.Route, router *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if router != r || err != nil || route.GetHandler() == nil || seen[tpl] {
			return nil
		}
		seen[tpl] = true
		paths = append(paths, tpl)
		return nil
	})
	prefix := pathPrefix(r)
	for _, tpl := range paths {
		r.Handle(strings.TrimPrefix(tpl, prefix), methodNotAllowed(r))
	}
}

// pathPrefix is the path template r prepends to its routes' paths, read
// off a route that is never matched.
func pathPrefix(r *mux.Router) string {
	tpl, err := r.NewRoute().BuildOnly().Path("/x").GetPathTemplate()
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(tpl, "/x")
}

// methodNotAllowed answers a JSON 405 with the methods r takes for the path
// in Allow.
func methodNotAllowed(r *mux.Router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if allow := allowedMethods(r, req); allow != "" {
			w.Header().Set("Allow", allow)
		}
		httpx.WriteError(w, req, nil, tcerr.Errorf(tcerr.MethodNotAllowed, "method_not_allowed", "%s is not allowed here", req.Method))
	})
}

func hasMethods(route *mux.Route) bool {
	ms, err := route.GetMethods()
	return err == nil && len(ms) > 0
}

// allowedMethods lists the methods r routes for req's path, for the Allow
// header of a 405.
func allowedMethods(r *mux.Router, req *http.Request) string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := req.Clone(req.Context())
		probe.Method = m
		var match mux.RouteMatch
		if r.Match(probe, &match) && match.MatchErr == nil && match.Route != nil && hasMethods(match.Route) {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}

// RegisterServeMux registers TeleCart's routes on a standard library
// http.ServeMux under base ("" or "/" for the root, or a path such as
// "/telecart"): one pattern per route and method, such as
// "GET /telecart/api/products/{id}", and no catch-all, so the host's own
// patterns beside them, under /api/ or /admin/ too, keep working. It panics,
// as ServeMux does, when a pattern conflicts with one the host registered.
func (tc *TeleCart) RegisterServeMux(m *http.ServeMux, base string) {
	base = strings.TrimSuffix(base, "/")
	if base != "" && !strings.HasPrefix(base, "/") {
		base = "/" + base
	}
	var h http.Handler = tc.Handler()
	if base != "" {
		h = http.StripPrefix(base, h)
	}
	for _, p := range servePatterns(tc) {
		m.Handle(strings.TrimSpace(p.method+" "+base+p.path), h)
	}
}

type servePattern struct{ method, path string }

// servePatterns lists TeleCart's routes as ServeMux patterns: gorilla's
// path variables, regular expressions and all, become plain wildcards; the
// gorilla router behind them checks the rest.
func servePatterns(tc *TeleCart) []servePattern {
	r := mux.NewRouter()
	tc.RegisterRoutes(r)
	var out []servePattern
	_ = r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		if route.GetHandler() == nil {
			return nil // a subrouter's prefix
		}
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		tpl = muxVar.ReplaceAllString(tpl, "{$1}")
		if strings.HasSuffix(tpl, "/") && tpl != "/" {
			tpl += "{$}" // exactly the directory, as gorilla matches it
		}
		methods, err := route.GetMethods()
		if err != nil || len(methods) == 0 {
			// A 405 fallback: on a ServeMux the host's mux answers those,
			// and a pattern for every method could clash with a host's
			// method pattern over a prefix, such as "GET /admin/".
			return nil
		}
		for _, m := range methods {
			out = append(out, servePattern{method: m, path: tpl})
		}
		return nil
	})
	return out
}

// muxVar matches a gorilla path variable with an optional pattern.
var muxVar = regexp.MustCompile(`\{([A-Za-z0-9_]+)(?::[^}]*)?\}`)

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

// WriteError answers err as TeleCart answers its own errors: JSON
// {"error": {"code", "message", "fields"}} with the status of the error's
// tcerr.Kind, and for anything that is not a *tcerr.Error a 500 "Internal
// error." that shows nothing of err. A host's AdminAuth can use it for its
// 401, so the admin page shows the message.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteError(w, r, nil, err)
}

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
	// Digests have one length whatever the token's, so comparing them
	// says nothing of the token's length through timing.
	want := sha256.Sum256([]byte(token))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, ok := bearerToken(r.Header.Get("Authorization"))
			sum := sha256.Sum256([]byte(got))
			if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 || !ok {
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

// bearerToken returns the token of an "Authorization: Bearer {token}"
// header; the scheme is case-insensitive (RFC 9110).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// shopLocation is the shop's time zone from the settings, in which the
// checkout form's date rules read "today" and the campaign funnel's days
// begin. The last zone loaded is kept, as
// the settings change rarely and loading reads the zone database.
func (tc *TeleCart) shopLocation(ctx context.Context) (*time.Location, error) {
	s, err := tc.settings.Get(ctx)
	if err != nil {
		return nil, err
	}
	if loc := tc.location.Load(); loc != nil && loc.String() == s.TimeZone {
		return loc, nil
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("telecart: the time_zone setting %q: %w", s.TimeZone, err)
	}
	tc.location.Store(loc)
	return loc, nil
}
