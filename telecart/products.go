package telecart

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/tcerr"
)

// Limits on the products feed's query parameters: past them a request is
// refused with 400 before it reaches the host's catalog.
const (
	maxSearchLen = 200     // characters of q
	maxPage      = 100_000 // page
	maxProductID = 128     // characters of a product ID
)

// ProductsHandler serves the storefront's products feed from the host's
// Catalog, with images sized by the products feed block's aspect ratio.
type ProductsHandler struct {
	catalog  Catalog
	settings *SettingsStore
	logger   *slog.Logger
	feed     *feedCache
}

// ProductsHandlerConfig configures a ProductsHandler.
type ProductsHandlerConfig struct {
	// Catalog is the host's catalog. Required.
	Catalog Catalog
	// Settings supplies the products feed block. Required.
	Settings *SettingsStore
	// Logger receives catalog failures. Defaults to a discarding logger.
	Logger *slog.Logger
	// CacheTTL is how long a feed page answered once is answered again
	// from memory, without asking the catalog: a storefront's busiest
	// read. A change in the catalog (a price, a product out of stock)
	// shows in the feed within it; checkout asks the host's order placer,
	// never the cache. Defaults to ProductsCacheTTLDefault (2s); negative
	// turns the cache off.
	CacheTTL time.Duration
	// Now is the cache's clock. Defaults to time.Now.
	Now func() time.Time
}

// ProductsCacheTTLDefault is ProductsHandlerConfig.CacheTTL's default.
const ProductsCacheTTLDefault = 2 * time.Second

// feedCacheMax bounds the feed pages kept: searches make many distinct
// pages, and a full cache is emptied rather than grown.
const feedCacheMax = 1024

// feedKey names a feed page: everything that changes the answer.
type feedKey struct {
	search        string
	page, perPage int
	ratio         AspectRatio
}

type feedEntry struct {
	answer  httpx.Tagged
	expires time.Time
}

// feedCache keeps encoded feed pages for a short time. Safe for
// concurrent use.
type feedCache struct {
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	pages map[feedKey]feedEntry
}

func (c *feedCache) get(k feedKey) (httpx.Tagged, bool) {
	if c.ttl <= 0 {
		return httpx.Tagged{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.pages[k]
	if !ok || !c.now().Before(e.expires) {
		return httpx.Tagged{}, false
	}
	return e.answer, true
}

func (c *feedCache) put(k feedKey, t httpx.Tagged) {
	if c.ttl <= 0 {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pages) >= feedCacheMax {
		for k, e := range c.pages {
			if !now.Before(e.expires) {
				delete(c.pages, k)
			}
		}
		if len(c.pages) >= feedCacheMax {
			clear(c.pages)
		}
	}
	c.pages[k] = feedEntry{answer: t, expires: now.Add(c.ttl)}
}

// NewProductsHandler returns the products handlers over the host's catalog,
// or an error naming the field to fix.
func NewProductsHandler(cfg ProductsHandlerConfig) (*ProductsHandler, error) {
	switch {
	case cfg.Catalog == nil:
		return nil, errors.New("telecart: ProductsHandlerConfig.Catalog is nil; implement telecart.Catalog over the shop's products")
	case cfg.Settings == nil:
		return nil, errors.New("telecart: ProductsHandlerConfig.Settings is nil; pass the store made by NewSettingsStore")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = ProductsCacheTTLDefault
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &ProductsHandler{catalog: cfg.Catalog, settings: cfg.Settings, logger: cfg.Logger,
		feed: &feedCache{ttl: cfg.CacheTTL, now: cfg.Now, pages: map[feedKey]feedEntry{}}}, nil
}

// RegisterStorefrontRoutes registers the products routes on r (mounted under
// /api by the demo server).
func (h *ProductsHandler) RegisterStorefrontRoutes(r *mux.Router) {
	r.HandleFunc("/products", h.handleList).Methods(http.MethodGet)
	r.HandleFunc("/products/{id}", h.handleGet).Methods(http.MethodGet)
}

type productJSON struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Description    string            `json:"description"`
	Price          int64             `json:"price"`
	PriceFormatted string            `json:"price_formatted"`
	Currency       string            `json:"currency"`
	Images         []imageJSON       `json:"images"`
	InStock        bool              `json:"in_stock"`
	Attributes     map[string]string `json:"attributes,omitempty"`
}

type imageJSON struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

type productsMeta struct {
	Page        int         `json:"page"`
	PerPage     int         `json:"per_page"`
	Total       int         `json:"total"`
	Pages       int         `json:"pages"`
	AspectRatio AspectRatio `json:"aspect_ratio"`
}

type productsPage struct {
	Data []productJSON `json:"data"`
	Meta productsMeta  `json:"meta"`
}

type productOne struct {
	Data productJSON `json:"data"`
	Meta struct {
		AspectRatio AspectRatio `json:"aspect_ratio"`
	} `json:"meta"`
}

// handleList handles GET /api/products?q=&page=&per_page=&aspect_ratio=.
// page defaults to 1; per_page and aspect_ratio default to the products
// feed block's settings.
func (h *ProductsHandler) handleList(w http.ResponseWriter, r *http.Request) {
	s, err := h.settings.Get(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	feed := s.ProductsFeed()
	qv := r.URL.Query()
	ratio, err := feedRatio(qv.Get("aspect_ratio"), feed)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	page, err := httpx.QueryInt(qv, "page", 1, 1, maxPage)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	perPage := feed.PerPage
	if perPage < 1 || perPage > PerPageMax {
		perPage = PerPageDefault
	}
	perPage, err = httpx.QueryInt(qv, "per_page", perPage, 1, PerPageMax)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	search := strings.TrimSpace(qv.Get("q"))
	if utf8.RuneCountInString(search) > maxSearchLen {
		h.writeError(w, r, tcerr.Invalidf("q must be at most %d characters", maxSearchLen))
		return
	}

	key := feedKey{search: search, page: page, perPage: perPage, ratio: ratio}
	if t, ok := h.feed.get(key); ok {
		httpx.WriteTagged(w, r, t)
		return
	}
	size := ImageSize{Width: ImageWidth, Height: ratio.Height(ImageWidth)}
	var res ProductPage
	err = h.callCatalog(r.Context(), func(ctx context.Context) (err error) {
		res, err = h.catalog.Products(ctx, ProductQuery{Search: search, Page: page, PerPage: perPage, Image: size})
		return err
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := productsPage{
		Data: make([]productJSON, 0, len(res.Products)),
		Meta: productsMeta{Page: page, PerPage: perPage, Total: max(res.Total, 0), AspectRatio: ratio},
	}
	for _, p := range res.Products {
		out.Data = append(out.Data, toProductJSON(p, size, false))
	}
	out.Meta.Pages = (out.Meta.Total + perPage - 1) / perPage
	t, err := httpx.EncodeTagged(out)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.feed.put(key, t)
	httpx.WriteTagged(w, r, t)
}

// handleGet handles GET /api/products/{id}?aspect_ratio=. It answers the
// product's attributes too, which the feed leaves out.
func (h *ProductsHandler) handleGet(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if id == "" || utf8.RuneCountInString(id) > maxProductID {
		h.writeError(w, r, tcerr.Invalidf("product id must be 1 to %d characters", maxProductID))
		return
	}
	s, err := h.settings.Get(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ratio, err := feedRatio(r.URL.Query().Get("aspect_ratio"), s.ProductsFeed())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	size := ImageSize{Width: ImageWidth, Height: ratio.Height(ImageWidth)}
	var p Product
	err = h.callCatalog(r.Context(), func(ctx context.Context) (err error) {
		p, err = h.catalog.Product(ctx, id, size)
		return err
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var out productOne
	out.Data = toProductJSON(p, size, true)
	out.Meta.AspectRatio = ratio
	httpx.WriteJSON(w, http.StatusOK, out)
}

// feedRatio is the request's aspect ratio when given, else the feed block's.
func feedRatio(param string, feed Block) (AspectRatio, error) {
	if param == "" {
		if _, err := ParseAspectRatio(string(feed.AspectRatio)); err != nil {
			return AspectRatioDefault, nil // settings are validated on write; be safe anyway
		}
		return feed.AspectRatio, nil
	}
	ratio, err := ParseAspectRatio(param)
	if err != nil {
		return "", tcerr.Invalidf("aspect_ratio must be one of %s", aspectRatioList())
	}
	return ratio, nil
}

// callCatalog calls the host's catalog, turning a panic in it into an error,
// so that a bug in the host answers JSON rather than a dropped connection.
func (h *ProductsHandler) callCatalog(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("telecart: catalog panicked: %v", v)
		}
	}()
	return fn(ctx)
}

// writeError is the products feed's one error mapper: a missing product is
// 404, bad input keeps its 4xx, and any other catalog failure is 503 (logged,
// never shown to the visitor).
func (h *ProductsHandler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *tcerr.Error
	switch {
	case errors.As(err, &he):
	case errors.Is(err, ErrProductNotFound):
		err = &tcerr.Error{Kind: tcerr.NotFound, Code: "product_not_found", Message: "Product not found.", Err: err}
	case r.Context().Err() != nil:
		// The visitor has gone: answer, but do not log a catalog failure.
		httpx.WriteError(w, r, nil, &tcerr.Error{Kind: tcerr.Unavailable, Code: "canceled", Message: "The request was canceled.", Err: err})
		return
	default:
		err = &tcerr.Error{Kind: tcerr.Unavailable, Code: "catalog_unavailable", Message: "The catalog is unavailable; try again later.", Err: err}
	}
	httpx.WriteError(w, r, h.logger, err)
}

func toProductJSON(p Product, size ImageSize, withAttributes bool) productJSON {
	cur := strings.ToUpper(strings.TrimSpace(p.Currency))
	if cur == "" {
		cur = "RUB"
	}
	out := productJSON{
		ID:             p.ID,
		Name:           p.Name,
		Description:    p.Description,
		Price:          p.Price,
		PriceFormatted: FormatPrice(p.Price, cur),
		Currency:       cur,
		Images:         make([]imageJSON, 0, len(p.Images)),
		InStock:        p.InStock,
	}
	for _, img := range p.Images {
		// The storefront lays images out at exactly this size; the host's
		// own numbers may describe the original file.
		out.Images = append(out.Images, imageJSON{URL: img.URL, Width: size.Width, Height: size.Height})
	}
	if withAttributes && len(p.Attributes) > 0 {
		out.Attributes = p.Attributes
	}
	return out
}

const nbsp = "\u00a0"

// FormatRUB formats an amount in kopecks the Russian way: groups of three
// digits separated by no-break spaces, a decimal comma, and "₽" after a
// no-break space, e.g. 123456789 → "1 234 567,89 ₽", -150 → "-1,50 ₽".
func FormatRUB(minor int64) string {
	sign, units, frac := splitMinor(minor, 2)
	return sign + groupDigits(units, nbsp) + "," + frac + nbsp + "₽"
}

// minorDigits lists ISO 4217 currencies whose minor unit is not 1/100.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// FormatPrice formats an amount in minor units of currency (ISO 4217):
// FormatRUB for RUB, and "1234.56 USD" (a decimal point, no grouping, the
// code after a space) for any other currency.
func FormatPrice(minor int64, currency string) string {
	if currency == "RUB" {
		return FormatRUB(minor)
	}
	digits, ok := minorDigits[currency]
	if !ok {
		digits = 2
	}
	sign, units, frac := splitMinor(minor, digits)
	s := sign + units
	if frac != "" {
		s += "." + frac
	}
	return s + " " + currency
}

// splitMinor splits an amount in minor units into its sign, whole units and
// zero-padded fraction of the given number of digits. It handles
// math.MinInt64, whose magnitude does not fit an int64.
func splitMinor(minor int64, digits int) (sign, units, frac string) {
	u := uint64(minor)
	if minor < 0 {
		sign, u = "-", -u
	}
	div := uint64(1)
	for range digits {
		div *= 10
	}
	units = strconv.FormatUint(u/div, 10)
	if digits > 0 {
		frac = fmt.Sprintf("%0*d", digits, u%div)
	}
	return sign, units, frac
}

// groupDigits separates groups of three digits from the right with sep.
func groupDigits(digits, sep string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
