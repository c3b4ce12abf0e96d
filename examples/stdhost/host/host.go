package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/dbopen"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telecart"
)

// ShopName is the shop's name on its pages and TeleCart's default.
const ShopName = "Paper & Ink"

// TeleCartBase is where the shop mounts TeleCart.
const TeleCartBase = "/telecart"

// AdminUserDefault is the admin's username when Config leaves it empty.
const AdminUserDefault = "admin"

// Config configures the shop.
type Config struct {
	// DB is "sqlite:PATH", "sqlite::memory:" or "mysql:{go-sql-driver DSN}".
	// Required.
	DB string
	// BotToken is the Telegram bot's token. Defaults to a random demo
	// token, which signs nothing Telegram sends.
	BotToken string
	// AdminUser and AdminPassword sign in to the shop's admin, and through
	// it to TeleCart's. AdminUser defaults to AdminUserDefault and
	// AdminPassword to a random one (see Host.PrintBanner).
	AdminUser, AdminPassword string
	// PulseURL, PulseAPIKey and PulseSecret configure Pulse delivery: all
	// three or none (Pulse off: no events are stored).
	PulseURL, PulseAPIKey, PulseSecret string
	// Logger receives the shop's and TeleCart's logs. Defaults to
	// slog.Default().
	Logger *slog.Logger
}

// Host is the running shop: its database, its catalog, order book and
// login, and TeleCart mounted under TeleCartBase.
type Host struct {
	// Config is the configuration with the generated values filled in.
	Config   Config
	DB       migrator.DB
	TeleCart *telecart.TeleCart
	Catalog  *Catalog
	Orders   *Orders
	Sessions *Sessions

	handler           http.Handler
	pages             *template.Template
	generatedBot      bool
	generatedPassword bool
}

//go:embed templates/*.html
var templates embed.FS

// New opens the database and builds the shop and its TeleCart; it does not
// migrate (Start does).
func New(ctx context.Context, cfg Config) (*Host, error) {
	if cfg.DB == "" {
		return nil, errors.New("stdhost: Config.DB is empty; set it to sqlite:PATH or mysql:DSN")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Host{Config: cfg}
	if h.Config.BotToken == "" {
		h.Config.BotToken, h.generatedBot = "1000000000:demo-"+randomHex(12), true
	}
	if h.Config.AdminUser == "" {
		h.Config.AdminUser = AdminUserDefault
	}
	if h.Config.AdminPassword == "" {
		h.Config.AdminPassword, h.generatedPassword = randomHex(8), true
	}
	h.pages = template.Must(template.New("").Funcs(template.FuncMap{"price": telecart.FormatPrice}).
		ParseFS(templates, "templates/*.html"))

	db, err := dbopen.Open(ctx, cfg.DB, "")
	if err != nil {
		return nil, err
	}
	h.DB = db
	h.Catalog = NewCatalog(db)
	h.Orders = NewOrders(db, nil)
	h.Sessions = NewSessions(h.Config.AdminUser, h.Config.AdminPassword, 0, nil)
	h.TeleCart, err = telecart.New(telecart.Config{
		DB:              db,
		Catalog:         h.Catalog,
		Orders:          h.Orders,
		AdminAuth:       h.Sessions.AdminAuth,
		BotToken:        h.Config.BotToken,
		Pulse:           pulse.Config{URL: cfg.PulseURL, APIKey: cfg.PulseAPIKey, Secret: cfg.PulseSecret},
		Settings:        telecart.Settings{ShopName: ShopName},
		ExtraMigrations: []migrator.Source{MigrationSource()},
		Logger:          cfg.Logger,
	})
	if err != nil {
		db.Close()
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /api/ping", h.handlePing)
	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /admin/{$}", h.handleAdmin)
	mux.HandleFunc("GET /admin/login", h.handleLoginForm)
	mux.HandleFunc("POST /admin/login", h.handleLogin)
	mux.HandleFunc("POST /admin/logout", h.handleLogout)
	mux.HandleFunc("GET "+ImagePath+"{file}", h.handleImage)
	// TeleCart's exact routes under /telecart/: its storefront API and page,
	// its admin API (behind Sessions.AdminAuth) and page, its ETL export.
	h.TeleCart.RegisterServeMux(mux, TeleCartBase)
	// The standard library's CSRF guard refuses cross-origin browser
	// requests that change state: the shop's login and logout forms, and
	// TeleCart's admin API, which trusts the session cookie.
	h.handler = http.NewCrossOriginProtection().Handler(mux)
	return h, nil
}

// Handler serves the whole shop.
func (h *Host) Handler() http.Handler { return h.handler }

// Start migrates TeleCart's tables and the shop's, then starts TeleCart's
// Pulse sender and scheduler.
func (h *Host) Start(ctx context.Context) error { return h.TeleCart.Start(ctx) }

// Stop stops TeleCart's background work within ctx and closes the database.
func (h *Host) Stop(ctx context.Context) error {
	return errors.Join(h.TeleCart.Stop(ctx), h.DB.Close())
}

// PrintBanner writes the shop's URLs and generated secrets for the operator.
func (h *Host) PrintBanner(w io.Writer, baseURL string) {
	fmt.Fprintf(w, "%s on %s (database %s)\n", ShopName, baseURL, h.Config.DB)
	fmt.Fprintf(w, "  shop admin:     %s/admin/\n", baseURL)
	fmt.Fprintf(w, "  TeleCart admin: %s%s/admin/ (after the shop's sign-in)\n", baseURL, TeleCartBase)
	fmt.Fprintf(w, "  storefront:     %s%s/app/ (opened by Telegram)\n", baseURL, TeleCartBase)
	fmt.Fprintf(w, "  ping:           %s/api/ping\n", baseURL)
	if h.generatedPassword {
		fmt.Fprintf(w, "  admin sign-in (random password; set -admin-password to keep one): %s / %s\n",
			h.Config.AdminUser, h.Config.AdminPassword)
	} else {
		fmt.Fprintf(w, "  admin sign-in: %s / (the password you set)\n", h.Config.AdminUser)
	}
	if h.generatedBot {
		fmt.Fprintf(w, "  bot token (a random demo token; set -bot-token for a real bot): %s\n", h.Config.BotToken)
	}
	if h.Config.PulseURL == "" {
		fmt.Fprintln(w, "  Pulse: off (set -pulse-url, -pulse-api-key and -pulse-secret to store and send events)")
	} else {
		fmt.Fprintf(w, "  Pulse: %s\n", h.Config.PulseURL)
	}
}

// handlePing serves GET /api/ping, the shop's own API route beside
// TeleCart's /telecart/api/.
func (h *Host) handlePing(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]bool{"pong": true})
}

// handleAdmin serves GET /admin/: the shop's own admin page with its orders
// and stock, and a link to TeleCart's panel. Without a session it sends the
// admin to the login.
func (h *Host) handleAdmin(w http.ResponseWriter, r *http.Request) {
	if !h.Sessions.Valid(r) {
		http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
		return
	}
	orders, err := h.Orders.List(r.Context(), 50)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	stock, err := h.Catalog.Stock(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "admin", map[string]any{"Title": "Admin", "Shop": ShopName,
		"Orders": orders, "Products": stock})
}

// handleLoginForm serves GET /admin/login.
func (h *Host) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if h.Sessions.Valid(r) {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "login", map[string]any{"Title": "Sign in", "Shop": ShopName, "Next": next})
}

// handleLogin serves POST /admin/login: the right username and password
// open a session and go on to next; anything else shows the form again
// with a 401.
func (h *Host) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	user, next := r.PostForm.Get("username"), safeNext(r.PostForm.Get("next"))
	if !h.Sessions.Check(user, r.PostForm.Get("password")) {
		h.Config.Logger.WarnContext(r.Context(), "stdhost: failed admin sign-in", "user", user, "remote", r.RemoteAddr)
		h.render(w, r, http.StatusUnauthorized, "login", map[string]any{"Title": "Sign in", "Shop": ShopName,
			"Next": next, "User": user, "Error": "Wrong username or password."})
		return
	}
	h.Sessions.Start(w, r)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleLogout serves POST /admin/logout.
func (h *Host) handleLogout(w http.ResponseWriter, r *http.Request) {
	h.Sessions.End(w, r)
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site: a path such as
// /telecart/admin/, never //evil.example or https://evil.example.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/\\") || u.Scheme != "" || u.Host != "" {
		return "/admin/"
	}
	return next
}

// render writes a page of the shop's templates.
func (h *Host) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, name, data); err != nil {
		h.serverError(w, r, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Host) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.Config.Logger.ErrorContext(r.Context(), "stdhost: "+r.Method+" "+r.URL.Path, "err", err)
	http.Error(w, "Internal error.", http.StatusInternalServerError)
}

// imageColors are the backgrounds of the generated product images.
var imageColors = []string{"#2a6fdb", "#0f8a6a", "#b5482a", "#7a4cc2", "#c28a13", "#1d7d9e", "#a3325c", "#4f6b2a"}

// handleImage serves GET /images/products/{id}.svg: a generated picture
// with the product's initial, which fills whatever box the storefront gives
// it (a real shop would serve photos from its CDN).
func (h *Host) handleImage(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok {
		http.NotFound(w, r)
		return
	}
	p, err := h.Catalog.Product(r.Context(), id, telecart.ImageSize{})
	if errors.Is(err, telecart.ErrProductNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	n, _ := parseID(id)
	initial, _ := utf8.DecodeRuneInString(p.Name)
	hdr := w.Header()
	hdr.Set("Content-Type", "image/svg+xml")
	hdr.Set("Cache-Control", "public, max-age=3600")
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	hdr.Set("X-Content-Type-Options", "nosniff")
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 300" preserveAspectRatio="xMidYMid slice">`+
		`<rect width="300" height="300" fill="%s"/>`+
		`<text x="150" y="150" dy=".35em" text-anchor="middle" font-family="Georgia, serif" font-size="140" fill="#fff">%s</text></svg>`,
		imageColors[n%int64(len(imageColors))], html.EscapeString(string(initial)))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
