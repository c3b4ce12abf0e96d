// Package server is the demo shop server behind `go run ./examples/shop`:
// the demo host's catalog, orders and customers wired with the TeleCart
// plugin, the built-in reference Pulse receiver, /healthz, /metrics, and the flags
// and variables of the HTTP API spec. Tests embed it on an httptest
// listener; main only parses flags and serves.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/telecart-go/telecart/examples/shop/activity"
	"github.com/telecart-go/telecart/examples/shop/demo"
	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/dbopen"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/pulse/pulsetest"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telecart/metrics"
	"github.com/telecart-go/telecart/telegram"
)

// Defaults of the demo server.
const (
	AddrDefault = "127.0.0.1:8080"
	DBDefault   = "sqlite:telecart-demo.db"
	LogFileName = "telecart-demo.log"
)

// Config is the demo server's configuration: one field per flag.
type Config struct {
	Addr             string
	DB               string
	BotToken         string
	AdminToken       string
	PulseURL         string // empty: the built-in reference receiver
	PulseAPIKey      string
	PulseSecret      string
	StartParamSecret string // empty: generated once and kept in the database
	OwnerChat        string // new-order notices go here; empty: none
	// Dev asks for dev sign-in: GET /dev/init-data signs a demo buyer's
	// initData, so the storefront works in a plain browser. It runs only
	// on a loopback Addr.
	Dev bool
	// DevSet says Dev was given (-dev or TELECART_DEV), so -dev=false
	// turns dev sign-in off. When it was not given, dev sign-in is on
	// exactly when the demo listens on a loopback Addr with its own
	// generated bot token: the storefront then works in a browser at once,
	// while a real bot or a public address keeps it off.
	DevSet bool
	// DemoActivity fills an empty database with a month of made-up life
	// (package activity) after migrations, before the shop reports ready;
	// Start refuses a database that already has customers.
	DemoActivity     bool
	PulseRetryBase   time.Duration
	PulseRetryMax    time.Duration
	PulseMaxAttempts int
	PulseLease       time.Duration
	LogFile          string
	// IngestRate is the per-customer limit on /api/ingest, events per
	// minute; 0 is the library's default.
	IngestRate int
	// NoOrderLinks leaves the library's OrderURL unset, as for a host
	// without order pages of its own: the admin panel's orders then link
	// nowhere. The demo's own order pages are still served.
	NoOrderLinks bool
	// ReadTimeout, WriteTimeout and IdleTimeout bound a request's reading,
	// an answer's writing and an idle keep-alive connection.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// TelegramAPIURL is the Bot API server (-bot-api-url); empty is
	// Telegram's. Tests point it at a fake Bot API.
	TelegramAPIURL string
	// PublicURL is the shop's public base URL (-public-url): the bot's
	// "Open shop" button opens {PublicURL}/app/ and the webhook is
	// {PublicURL}/telegram/webhook. Empty is http://{Addr}.
	PublicURL string
	// BotUpdates is how Telegram's updates arrive (-bot-updates): off,
	// poll or webhook.
	BotUpdates string
	// Stdout receives the start-up lines and the text log. Defaults to os.Stdout.
	Stdout io.Writer
}

// ParseFlags reads the flags in args, each falling back to its environment
// variable (TELECART_ADDR for -addr, …) and then to its default; a flag wins
// over its variable. It returns the remaining arguments (a subcommand).
func ParseFlags(args []string, getenv func(string) string) (Config, []string, error) {
	fs := flag.NewFlagSet("shop", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c Config
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.Addr, "addr", env("TELECART_ADDR", AddrDefault), "listen address")
	fs.StringVar(&c.DB, "db", env("TELECART_DB", DBDefault), "database: sqlite:PATH, sqlite::memory: or mysql:DSN")
	fs.StringVar(&c.BotToken, "bot-token", env("TELECART_BOT_TOKEN", ""), "Telegram bot token (default: a random demo token)")
	fs.StringVar(&c.AdminToken, "admin-token", env("TELECART_ADMIN_TOKEN", ""), "admin API token (default: random, printed)")
	fs.StringVar(&c.PulseURL, "pulse-url", env("TELECART_PULSE_URL", ""), "Pulse API URL (default: the built-in receiver)")
	fs.StringVar(&c.PulseAPIKey, "pulse-api-key", env("TELECART_PULSE_API_KEY", ""), "Pulse API key (default: random, printed)")
	fs.StringVar(&c.PulseSecret, "pulse-secret", env("TELECART_PULSE_SECRET", ""), "Pulse signing secret (default: random)")
	fs.StringVar(&c.OwnerChat, "owner-chat", env("TELECART_OWNER_CHAT", ""), "chat id receiving new-order notifications; CHAT_ID:THREAD_ID for a forum topic (default: none)")
	fs.StringVar(&c.PublicURL, "public-url", env("TELECART_PUBLIC_URL", ""), "the shop's public base URL (default: http://{addr})")
	fs.StringVar(&c.TelegramAPIURL, "bot-api-url", env("TELECART_BOT_API_URL", ""), "Telegram's Bot API (default: Telegram's)")
	fs.StringVar(&c.BotUpdates, "bot-updates", env("TELECART_BOT_UPDATES", telecart.BotUpdatesOff), "Telegram updates: off, poll or webhook")
	fs.StringVar(&c.StartParamSecret, "start-param-secret", env("TELECART_START_PARAM_SECRET", ""), "signs campaign links (default: generated once and kept in the database)")
	dev, err := envBool(getenv("TELECART_DEV"))
	if err != nil {
		return c, nil, fmt.Errorf("TELECART_DEV: %w", err)
	}
	c.DevSet = getenv("TELECART_DEV") != ""
	fs.BoolVar(&c.Dev, "dev", dev, "sign a demo initData so the storefront works in a plain browser (default: on for a loopback -addr with the generated bot token)")
	activityOn, err := envBool(getenv("TELECART_DEMO_ACTIVITY"))
	if err != nil {
		return c, nil, fmt.Errorf("TELECART_DEMO_ACTIVITY: %w", err)
	}
	fs.BoolVar(&c.DemoActivity, "demo-activity", activityOn, "fill an empty database with a month of demo customers, campaigns, events and orders")
	durations := []struct {
		dst  *time.Duration
		name string
		env  string
		def  time.Duration
	}{
		{&c.PulseRetryBase, "pulse-retry-base", "TELECART_PULSE_RETRY_BASE", pulse.RetryBaseDefault},
		{&c.PulseRetryMax, "pulse-retry-max", "TELECART_PULSE_RETRY_MAX", pulse.RetryMaxDefault},
		{&c.PulseLease, "pulse-lease", "TELECART_PULSE_LEASE", pulse.LeaseDefault},
		{&c.ReadTimeout, "read-timeout", "TELECART_READ_TIMEOUT", telecart.ReadTimeoutDefault},
		{&c.WriteTimeout, "write-timeout", "TELECART_WRITE_TIMEOUT", telecart.WriteTimeoutDefault},
		{&c.IdleTimeout, "idle-timeout", "TELECART_IDLE_TIMEOUT", telecart.IdleTimeoutDefault},
	}
	for _, d := range durations {
		def := d.def
		if v := getenv(d.env); v != "" {
			if def, err = time.ParseDuration(v); err != nil {
				return c, nil, fmt.Errorf("%s: %w", d.env, err)
			}
		}
		fs.DurationVar(d.dst, d.name, def, "a Go duration")
	}
	attempts := pulse.MaxAttemptsDefault
	if v := getenv("TELECART_PULSE_MAX_ATTEMPTS"); v != "" {
		if attempts, err = strconv.Atoi(v); err != nil {
			return c, nil, fmt.Errorf("TELECART_PULSE_MAX_ATTEMPTS: %w", err)
		}
	}
	fs.IntVar(&c.PulseMaxAttempts, "pulse-max-attempts", attempts, "attempts before an event fails")
	ingestRate := 0
	if v := getenv("TELECART_INGEST_RATE"); v != "" {
		if ingestRate, err = strconv.Atoi(v); err != nil {
			return c, nil, fmt.Errorf("TELECART_INGEST_RATE: %w", err)
		}
	}
	fs.IntVar(&c.IngestRate, "ingest-rate", ingestRate, "events one customer may send to /api/ingest per minute (0: the library's default)")
	fs.StringVar(&c.LogFile, "log-file", env("TELECART_LOG_FILE", ""), "JSON log file the logs viewer reads (default: beside the database)")
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "dev" {
			c.DevSet = true
		}
	})
	return c, fs.Args(), nil
}

func envBool(v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	return strconv.ParseBool(v)
}

// Server is the running demo shop.
type Server struct {
	Config   Config
	TeleCart *telecart.TeleCart
	DB       migrator.DB
	Orders   *demo.Orders
	// Receiver is the built-in Pulse receiver, the fake Pulse API of
	// pulse/pulsetest, nil with -pulse-url. It keeps the first
	// pulsetest.MaxRecordedDefault events for its Events.
	Receiver *pulsetest.Receiver
	Logger   *slog.Logger

	handler     http.Handler
	receiverSrv *http.Server
	receiverLn  net.Listener
	logFile     *telecart.LogFile
	ready       atomic.Bool
	devInitData func() string
	devReason   string // why dev sign-in is on or off, for the banner
	// Activity is what -demo-activity made, nil without it.
	Activity     *activity.Report
	generatedBot bool
	generatedAdm bool
	// generatedPulse: the Pulse API key is this run's random one.
	generatedPulse bool
}

// New opens the database and builds the shop; it does not migrate or listen
// (Start does).
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Dev && !isLoopback(cfg.Addr) {
		return nil, fmt.Errorf("-dev signs a buyer's initData for anyone who asks, so it runs only on a loopback -addr such as 127.0.0.1:8080, not %q", cfg.Addr)
	}
	s := &Server{Config: cfg}
	s.Config.Dev, s.devReason = devMode(cfg)
	if s.Config.BotToken == "" {
		s.Config.BotToken, s.generatedBot = "1000000000:demo-"+randomHex(12), true
	}
	if s.Config.AdminToken == "" {
		s.Config.AdminToken, s.generatedAdm = randomHex(16), true
	}
	// No constant credentials: without flags the Pulse API key (which the
	// Pulse service also presents to the ETL export) and secret are random.
	if s.Config.PulseAPIKey == "" {
		s.Config.PulseAPIKey, s.generatedPulse = randomHex(16), true
	}
	if s.Config.PulseSecret == "" {
		s.Config.PulseSecret = randomHex(16)
	}
	db, err := dbopen.Open(ctx, cfg.DB, "")
	if err != nil {
		return nil, err
	}
	s.DB = db
	if s.Config.LogFile == "" {
		s.Config.LogFile = filepath.Join(dbDir(cfg.DB), LogFileName)
	}
	if s.logFile, err = telecart.OpenLogFile(s.Config.LogFile, 32<<20, 3); err != nil {
		db.Close()
		return nil, err
	}
	s.Logger = slog.New(slog.NewMultiHandler(
		slog.NewTextHandler(cfg.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}),
		telecart.NewFileLogger(s.logFile, slog.LevelInfo).Handler(),
	))
	pulseURL := cfg.PulseURL
	if pulseURL == "" {
		if err := s.startReceiver(); err != nil {
			s.close()
			return nil, err
		}
		pulseURL = "http://" + s.receiverLn.Addr().String()
	}
	if s.Config.PublicURL == "" {
		s.Config.PublicURL = "http://" + cfg.Addr
	}
	s.Orders = demo.NewOrders(db, nil)
	// The admin panel's orders list links each order to the demo's own
	// order page.
	orderURL := DemoOrderPath + "{id}"
	if cfg.NoOrderLinks {
		orderURL = ""
	}
	tc, err := telecart.New(telecart.Config{
		DB: db, Catalog: demo.NewCatalog(""), Orders: s.Orders, Customers: demo.NewCustomers(db),
		AdminAuth: telecart.BearerAuth(s.Config.AdminToken), BotToken: s.Config.BotToken,
		TelegramAPIURL:   cfg.TelegramAPIURL,
		PublicURL:        s.Config.PublicURL,
		BotUpdates:       cfg.BotUpdates,
		StartParamSecret: cfg.StartParamSecret,
		Pulse: pulse.Config{URL: pulseURL, APIKey: s.Config.PulseAPIKey, Secret: s.Config.PulseSecret,
			RetryBase: cfg.PulseRetryBase, RetryMax: cfg.PulseRetryMax, MaxAttempts: cfg.PulseMaxAttempts,
			Lease: cfg.PulseLease},
		IngestRate:      cfg.IngestRate,
		Settings:        telecart.Settings{ShopName: "TeleCart Demo Shop", OwnerChat: cfg.OwnerChat},
		ExtraMigrations: []migrator.Source{demo.MigrationSource()},
		LogFile:         s.Config.LogFile,
		Logger:          s.Logger,
		OrderURL:        orderURL,
	})
	if err != nil {
		s.close()
		return nil, err
	}
	s.TeleCart = tc
	collector, err := metrics.New(tc, metrics.Config{})
	if err != nil {
		s.close()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.devInitData = func() string {
		return telegram.SignInitData(s.Config.BotToken, telegram.SignParams{
			User: &telegram.User{ID: 777000, FirstName: "Demo", LastName: "Buyer", Username: "demo_buyer",
				LanguageCode: "en", AllowsWriteToPM: true},
		}, time.Now())
	}
	r := mux.NewRouter()
	r.HandleFunc("/healthz", s.handleHealthz).Methods(http.MethodGet)
	// The outbox gauges fail alone when the database does not answer.
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})).
		Methods(http.MethodGet)
	r.PathPrefix(demo.ImagesPath).Handler(demo.ImagesHandler())
	r.HandleFunc(DemoOrderPath+"{id}", s.handleOrderPage).Methods(http.MethodGet)
	if s.Config.Dev {
		r.HandleFunc("/dev/init-data", s.handleDevInitData).Methods(http.MethodGet)
	}
	tc.RegisterRoutes(r)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, r, nil, tcerr.NotFoundf("no route for %s %s", r.Method, r.URL.Path))
	})
	s.handler = r
	return s, nil
}

// devMode decides whether dev sign-in is on, and says why for the banner.
// Asked for, it is on (New has refused a non-loopback address); turned off,
// it is off; otherwise it is on only where nobody but this machine can
// reach it and no real bot's customers could be impersonated.
func devMode(cfg Config) (on bool, why string) {
	switch {
	case cfg.Dev:
		return true, "asked for with -dev"
	case cfg.DevSet:
		return false, "turned off with -dev=false"
	case cfg.BotToken != "":
		return false, "a real bot token is set; -dev turns it on"
	case !isLoopback(cfg.Addr):
		return false, "the address is not loopback"
	default:
		return true, "loopback address and the generated demo bot token; -dev=false turns it off"
	}
}

// isLoopback reports whether addr listens on the loopback interface only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Handler serves the whole shop.
func (s *Server) Handler() http.Handler { return s.handler }

// Start migrates the database and starts the Pulse sender and the
// scheduler; /healthz answers ok from then on.
func (s *Server) Start(ctx context.Context) error {
	if s.Config.DemoActivity {
		if err := s.fillActivity(ctx); err != nil {
			return err
		}
	}
	if err := s.TeleCart.Start(ctx); err != nil {
		return err
	}
	s.ready.Store(true)
	return nil
}

// fillActivity migrates and fills the database with a month of activity,
// before the shop's senders start: the month's events and messages are
// delivered to stand-ins, so none of them reach a real Pulse or bot.
func (s *Server) fillActivity(ctx context.Context) error {
	if err := s.TeleCart.Migrate(ctx); err != nil {
		return err
	}
	rep, err := activity.Fill(ctx, activity.Config{
		DB: s.DB, BotToken: s.Config.BotToken, StartParamSecret: s.Config.StartParamSecret,
		PublicURL: s.Config.PublicURL, OwnerChat: s.Config.OwnerChat, Seed: 1,
		// The month's lines go to the log file only, at every level.
		Logger: telecart.NewFileLogger(s.logFile, slog.LevelDebug),
	})
	if err != nil {
		return fmt.Errorf("-demo-activity: %w", err)
	}
	s.Activity = &rep
	s.Logger.Info("shop: demo activity filled", "customers", rep.Customers, "orders", rep.Orders,
		"events", rep.EventsSent+rep.FailedEvents, "took", rep.Took.Round(time.Millisecond).String())
	return nil
}

// Stop stops the background work within ctx and closes everything.
func (s *Server) Stop(ctx context.Context) error {
	s.ready.Store(false)
	var err error
	if s.TeleCart != nil {
		err = s.TeleCart.Stop(ctx)
	}
	return errors.Join(err, s.close())
}

func (s *Server) close() error {
	var errs []error
	if s.receiverSrv != nil {
		errs = append(errs, s.receiverSrv.Close())
	}
	if s.Receiver != nil {
		errs = append(errs, s.Receiver.Close())
	}
	if s.DB.DB != nil {
		errs = append(errs, s.DB.Close())
	}
	if s.logFile != nil {
		errs = append(errs, s.logFile.Close())
	}
	return errors.Join(errs...)
}

// PrintBanner writes the URLs and generated secrets for the operator.
func (s *Server) PrintBanner(baseURL string) {
	w := s.Config.Stdout
	fmt.Fprintf(w, "TeleCart demo shop on %s (database %s)\n", baseURL, s.Config.DB)
	fmt.Fprintf(w, "  storefront:  %s/app/\n", baseURL)
	fmt.Fprintf(w, "  admin panel: %s/admin/\n", baseURL)
	fmt.Fprintf(w, "  health:      %s/healthz\n", baseURL)
	fmt.Fprintf(w, "  metrics:     %s/metrics (Prometheus)\n", baseURL)
	if s.generatedAdm {
		fmt.Fprintf(w, "  admin token (random, set -admin-token to keep one): %s\n", s.Config.AdminToken)
	}
	if s.generatedBot {
		fmt.Fprintf(w, "  bot token (a random demo token; set -bot-token for a real bot): %s\n", s.Config.BotToken)
	}
	if s.Receiver != nil {
		fmt.Fprintf(w, "  Pulse: the built-in reference receiver at http://%s (stats: /stats)\n", s.receiverLn.Addr())
	}
	// Secrets are printed only when this run made them and they are the
	// ones in effect: never a secret stored in a database by someone else.
	settings, err := s.TeleCart.Settings().Get(context.Background())
	if s.generatedPulse && err == nil && settings.PulseAPIKey == s.Config.PulseAPIKey {
		fmt.Fprintf(w, "  Pulse API key, also the ETL export's key (random, set -pulse-api-key to keep one): %s\n", s.Config.PulseAPIKey)
	}
	if s.Config.StartParamSecret == "" {
		fmt.Fprintln(w, "  campaign links: signed with the start_param secret generated once and kept in the database (the start_param_secret setting)")
	}
	switch s.Config.BotUpdates {
	case telecart.BotUpdatesPoll:
		fmt.Fprintln(w, "  bot updates: long polling (getUpdates)")
	case telecart.BotUpdatesWebhook:
		fmt.Fprintf(w, "  bot updates: webhook at %s/telegram/webhook\n", s.Config.PublicURL)
	}
	if s.Config.Dev {
		fmt.Fprintf(w, "  dev sign-in: on (%s): in a plain browser the storefront signs in as a demo buyer through %s/dev/init-data\n", s.devReason, baseURL)
	} else {
		fmt.Fprintf(w, "  dev sign-in: off (%s): the storefront opens from Telegram only\n", s.devReason)
	}
	if a := s.Activity; a != nil {
		fmt.Fprintf(w, "  demo activity: %d customers, %d orders (%s), %d Pulse events (%d failed, to requeue), %d messages; filled in %s\n",
			a.Customers, a.Orders, telecart.FormatRUB(a.Revenue), a.EventsSent+a.FailedEvents, a.FailedEvents, a.Messages,
			a.Took.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "  logs: %s\n", s.Config.LogFile)
}

func (s *Server) startReceiver() error {
	rv, err := pulsetest.New(pulsetest.Config{APIKey: s.Config.PulseAPIKey, Secret: s.Config.PulseSecret})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the built-in Pulse receiver: %w", err)
	}
	s.Receiver, s.receiverLn = rv, ln
	s.receiverSrv = telecart.NewHTTPServer(telecart.HTTPServerConfig{Handler: rv, Logger: s.Logger})
	go func() { _ = s.receiverSrv.Serve(ln) }()
	return nil
}

// handleHealthz serves GET /healthz: 200 once migrations have run.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// DemoOrderPath is where the demo shop shows one of its orders, the host's
// own order page that TeleCart's admin panel links to.
const DemoOrderPath = "/shop/orders/"

// demoOrderPage shows an order from the demo's own tables: number, time,
// status, lines and total. The page has no login of its own (the admin
// token lives in the admin page's tab), so it shows nothing personal: no
// name, phone, e-mail, address or comment.
var demoOrderPage = template.Must(template.New("order").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Order {{.ID}} · TeleCart Demo Shop</title></head>
<body><h1 data-testid="demo-order">Order {{.ID}}</h1>
<p>Placed {{.CreatedAt.Format "2006-01-02 15:04 MST"}} · status {{.Status}}</p>
<table>{{range .Items}}<tr><td>{{.Name}}</td><td>× {{.Quantity}}</td></tr>{{end}}</table>
<p>Total: <b data-testid="demo-order-total">{{.Total}}</b></p></body></html>
`))

// handleOrderPage serves GET /shop/orders/{id}.
func (s *Server) handleOrderPage(w http.ResponseWriter, r *http.Request) {
	o, err := s.Orders.Get(r.Context(), mux.Vars(r)["id"])
	if errors.Is(err, demo.ErrOrderNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		httpx.WriteError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = demoOrderPage.Execute(w, struct {
		demo.Order
		Total string
	}{o, telecart.FormatPrice(o.Total, o.Currency)})
}

// handleDevInitData serves GET /dev/init-data in dev mode: a freshly signed
// initData for a demo user, so the storefront works outside Telegram.
func (s *Server) handleDevInitData(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"init_data": s.devInitData()})
}

// dbDir is the folder of a sqlite: database, else the working directory.
func dbDir(dsn string) string {
	if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok && p != ":memory:" {
		return filepath.Dir(p)
	}
	return "."
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
