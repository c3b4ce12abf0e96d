package telecart_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telecart"
)

func TestProducts_FeedCache(t *testing.T) {
	// Ensure a feed page is answered from memory for CacheTTL (the catalog
	// is not asked again, the ETag is the same, a revalidation is a 304),
	// that every parameter of the page is part of what is cached, and that
	// a change in the catalog shows once CacheTTL has passed.
	db := migratortest.MustOpenDB(t, migrator.SQLite, telecart.MigrationSource())
	clock := newTestClock()
	store := MustNewSettingsStore(t, db, telecart.Settings{}, clock.Now)
	catalog := newFakeCatalog(3)
	ph, err := telecart.NewProductsHandler(telecart.ProductsHandlerConfig{Catalog: catalog, Settings: store,
		CacheTTL: 2 * time.Second, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	ph.RegisterStorefrontRoutes(r.PathPrefix("/api").Subrouter())
	get := func(path, etag string) (int, string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w.Code, w.Header().Get("ETag")
	}
	asked := func() int {
		catalog.mu.Lock()
		defer catalog.mu.Unlock()
		return len(catalog.queries)
	}

	code, tag := get("/api/products", "")
	if code != http.StatusOK || tag == "" || asked() != 1 {
		t.Fatalf("first GET = %d, ETag %q, catalog asked %d times; want 200, a tag, 1", code, tag, asked())
	}
	if code, again := get("/api/products", ""); code != http.StatusOK || again != tag || asked() != 1 {
		t.Fatalf("second GET = %d, ETag %q, catalog asked %d times; want 200, %q, still 1", code, again, asked(), tag)
	}
	if code, _ := get("/api/products", tag); code != http.StatusNotModified || asked() != 1 {
		t.Fatalf("revalidation = %d, catalog asked %d times; want 304, still 1", code, asked())
	}
	for i, path := range []string{"/api/products?page=2&per_page=1", "/api/products?q=pro", "/api/products?aspect_ratio=4:5"} {
		if code, _ := get(path, ""); code != http.StatusOK || asked() != 2+i {
			t.Fatalf("GET %s = %d, catalog asked %d times; want 200, %d: a page of its own", path, code, asked(), 2+i)
		}
	}

	catalog.mu.Lock()
	catalog.products[0].InStock = false
	catalog.mu.Unlock()
	clock.Advance(time.Second)
	if _, same := get("/api/products", ""); same != tag {
		t.Fatalf("within CacheTTL the page changed (ETag %q, was %q)", same, tag)
	}
	clock.Advance(time.Second)
	code, changed := get("/api/products", tag)
	if code != http.StatusOK || changed == tag {
		t.Fatalf("after CacheTTL, revalidation = %d with ETag %q; want 200 with a new tag (was %q)", code, changed, tag)
	}
}
