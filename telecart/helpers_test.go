package telecart_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telecart"
)

// eachSettingsDB runs fn on SQLite and MariaDB, each freshly migrated with
// the telecart package's migrations.
func eachSettingsDB(t *testing.T, fn func(t *testing.T, db migrator.DB)) {
	t.Helper()
	migratortest.Each(t, []migrator.Source{telecart.MigrationSource()}, fn)
}

// testClock is an injected clock that moves only when told to.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// MustNewSettingsStore returns a settings store over db with the host's
// defaults and the clock now (time.Now when nil), or fails the test.
func MustNewSettingsStore(tb testing.TB, db migrator.DB, defaults telecart.Settings, now func() time.Time) *telecart.SettingsStore {
	tb.Helper()
	s, err := telecart.NewSettingsStore(db, telecart.SettingsStoreConfig{Defaults: defaults, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// MustUpdateSettings saves s or fails the test.
func MustUpdateSettings(tb testing.TB, store *telecart.SettingsStore, s telecart.Settings) telecart.Settings {
	tb.Helper()
	got, err := store.Update(context.Background(), s)
	if err != nil {
		tb.Fatalf("updating settings: %v", err)
	}
	return got
}

// MustGetSettings reads the settings or fails the test.
func MustGetSettings(tb testing.TB, store *telecart.SettingsStore) telecart.Settings {
	tb.Helper()
	got, err := store.Get(context.Background())
	if err != nil {
		tb.Fatalf("getting settings: %v", err)
	}
	return got
}

// fakeCatalog is a Catalog over a fixed list of products that records the
// queries it was asked.
type fakeCatalog struct {
	mu       sync.Mutex
	products []telecart.Product
	err      error // returned by every call when set
	panics   bool  // every call panics when set
	queries  []telecart.ProductQuery
	sizes    []telecart.ImageSize // asked of Product
}

func (c *fakeCatalog) Products(ctx context.Context, q telecart.ProductQuery) (telecart.ProductPage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries = append(c.queries, q)
	if c.panics {
		panic("fake catalog: boom")
	}
	if c.err != nil {
		return telecart.ProductPage{}, c.err
	}
	var page []telecart.Product
	for i := (q.Page - 1) * q.PerPage; i < len(c.products) && i < q.Page*q.PerPage; i++ {
		page = append(page, c.products[i])
	}
	return telecart.ProductPage{Products: page, Total: len(c.products)}, nil
}

func (c *fakeCatalog) Product(ctx context.Context, id string, img telecart.ImageSize) (telecart.Product, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sizes = append(c.sizes, img)
	if c.panics {
		panic("fake catalog: boom")
	}
	if c.err != nil {
		return telecart.Product{}, c.err
	}
	for _, p := range c.products {
		if p.ID == id {
			return p, nil
		}
	}
	return telecart.Product{}, telecart.ErrProductNotFound
}

func (c *fakeCatalog) lastQuery(tb testing.TB) telecart.ProductQuery {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queries) == 0 {
		tb.Fatal("the catalog was not asked")
	}
	return c.queries[len(c.queries)-1]
}

// newFakeCatalog returns n products whose images claim a size the
// storefront must override.
func newFakeCatalog(n int) *fakeCatalog {
	c := &fakeCatalog{}
	for i := range n {
		c.products = append(c.products, telecart.Product{
			ID:          fmt.Sprintf("p%d", i+1),
			Name:        "Product",
			Description: "A product",
			Price:       123456,
			Currency:    "RUB",
			Images:      []telecart.Image{{URL: "https://shop.example/img.jpg", Width: 1200, Height: 900}},
			InStock:     true,
			Attributes:  map[string]string{"color": "red"},
		})
	}
	return c
}

// testShop is the settings and products handlers mounted as the demo
// server mounts them: storefront under /api, admin under /admin/api.
type testShop struct {
	store   *telecart.SettingsStore
	catalog *fakeCatalog
	router  *mux.Router
}

func newTestShop(tb testing.TB, db migrator.DB, defaults telecart.Settings, catalog *fakeCatalog) *testShop {
	tb.Helper()
	store := MustNewSettingsStore(tb, db, defaults, newTestClock().Now)
	if catalog == nil {
		catalog = newFakeCatalog(3)
	}
	r := mux.NewRouter()
	api := r.PathPrefix("/api").Subrouter()
	admin := r.PathPrefix("/admin/api").Subrouter()
	sh, err := telecart.NewSettingsHandler(telecart.SettingsHandlerConfig{Store: store})
	if err != nil {
		tb.Fatal(err)
	}
	sh.RegisterStorefrontRoutes(api)
	sh.RegisterAdminRoutes(admin)
	// No feed cache: these tests look at what the catalog was asked for
	// each request (TestProducts_FeedCache covers the cache).
	ph, err := telecart.NewProductsHandler(telecart.ProductsHandlerConfig{Catalog: catalog, Settings: store, CacheTTL: -1})
	if err != nil {
		tb.Fatal(err)
	}
	ph.RegisterStorefrontRoutes(api)
	return &testShop{store: store, catalog: catalog, router: r}
}

// Do sends a request with an optional JSON body (a string is sent as is)
// and returns the status and the body.
func (s *testShop) Do(tb testing.TB, method, path string, body any) (int, []byte) {
	tb.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	s.router.ServeHTTP(w, req)
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		tb.Fatalf("%s %s: Content-Type %q, body %s", method, path, ct, w.Body.String())
	}
	return w.Code, w.Body.Bytes()
}

// MustDo is Do that fails the test unless the status is want, decoding the
// answer into dst when dst is not nil.
func (s *testShop) MustDo(tb testing.TB, method, path string, body any, want int, dst any) []byte {
	tb.Helper()
	status, raw := s.Do(tb, method, path, body)
	if status != want {
		tb.Fatalf("%s %s = %d, want %d: %s", method, path, status, want, raw)
	}
	if dst != nil {
		if err := json.Unmarshal(raw, dst); err != nil {
			tb.Fatalf("%s %s: decoding %s: %v", method, path, raw, err)
		}
	}
	return raw
}

// apiError is the JSON error shape.
type apiError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
		Details map[string]string `json:"details"`
	} `json:"error"`
}

// MustError is MustDo for an error answer: it checks the status and that
// the body is the JSON error shape, and returns it.
func (s *testShop) MustError(tb testing.TB, method, path string, body any, want int) apiError {
	tb.Helper()
	var e apiError
	s.MustDo(tb, method, path, body, want, &e)
	if e.Error.Code == "" || e.Error.Message == "" {
		tb.Fatalf("%s %s: not a JSON error: %+v", method, path, e)
	}
	return e
}
