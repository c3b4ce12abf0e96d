package telecart_test

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telecart"
)

// feedAnswer is the GET /api/products answer.
type feedAnswer struct {
	Data []struct {
		ID             string `json:"id"`
		Name           string `json:"name"`
		Description    string `json:"description"`
		Price          int64  `json:"price"`
		PriceFormatted string `json:"price_formatted"`
		Currency       string `json:"currency"`
		Images         []struct {
			URL    string `json:"url"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
		} `json:"images"`
		InStock    bool              `json:"in_stock"`
		Attributes map[string]string `json:"attributes"`
	} `json:"data"`
	Meta struct {
		Page        int    `json:"page"`
		PerPage     int    `json:"per_page"`
		Total       int    `json:"total"`
		Pages       int    `json:"pages"`
		AspectRatio string `json:"aspect_ratio"`
	} `json:"meta"`
}

// mustFeedHeight gets path and checks every image is ImageWidth wide and
// height tall, and that the catalog was asked for that size.
func mustFeedHeight(t *testing.T, shop *testShop, path string, ratio string, height int) {
	t.Helper()
	var got feedAnswer
	shop.MustDo(t, http.MethodGet, path, nil, http.StatusOK, &got)
	if got.Meta.AspectRatio != ratio {
		t.Fatalf("GET %s: aspect_ratio %q; want %q", path, got.Meta.AspectRatio, ratio)
	}
	if len(got.Data) == 0 {
		t.Fatalf("GET %s: no products", path)
	}
	for _, p := range got.Data {
		if len(p.Images) != 1 || p.Images[0].Width != 300 || p.Images[0].Height != height || p.Images[0].URL == "" {
			t.Fatalf("GET %s: images %+v; want 300x%d", path, p.Images, height)
		}
	}
	if q := shop.catalog.lastQuery(t); q.Image != (telecart.ImageSize{Width: 300, Height: height}) {
		t.Fatalf("GET %s: catalog asked for %+v; want 300x%d", path, q.Image, height)
	}
}

func TestProducts_AspectRatio(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		shop := newTestShop(t, db, telecart.Settings{}, nil)

		// Ensure the block of the first migration (1:1) applies when the
		// request names no ratio.
		mustFeedHeight(t, shop, "/api/products", "1:1", 300)

		// Ensure the request's ratio beats the block's, for each ratio.
		for ratio, height := range map[string]int{"1:1": 300, "4:5": 375, "3:4": 400, "2:3": 450} {
			mustFeedHeight(t, shop, "/api/products?aspect_ratio="+ratio, ratio, height)
		}

		// Ensure any other ratio is a 400, and the catalog is not asked.
		asked := len(shop.catalog.queries)
		for _, bad := range []string{"16:9", "1", "4%3A5%20", "0:0", "%00"} {
			shop.MustError(t, http.MethodGet, "/api/products?aspect_ratio="+bad, nil, http.StatusBadRequest)
		}
		if len(shop.catalog.queries) != asked {
			t.Fatalf("the catalog was asked for a refused request")
		}

		// Ensure changing the block's ratio in the admin panel changes the
		// feed's heights at once, and a request's ratio still wins.
		var admin adminView
		shop.MustDo(t, http.MethodGet, "/admin/api/settings", nil, http.StatusOK, &admin)
		admin.Blocks[0].AspectRatio = "2:3"
		shop.MustDo(t, http.MethodPut, "/admin/api/settings", admin, http.StatusOK, nil)
		mustFeedHeight(t, shop, "/api/products", "2:3", 450)
		mustFeedHeight(t, shop, "/api/products?aspect_ratio=4:5", "4:5", 375)

		// Ensure the single product answer follows the same rules.
		var one struct {
			Data struct {
				ID     string `json:"id"`
				Images []struct {
					Width, Height int
				} `json:"images"`
				Attributes map[string]string `json:"attributes"`
			} `json:"data"`
		}
		shop.MustDo(t, http.MethodGet, "/api/products/p2", nil, http.StatusOK, &one)
		if one.Data.ID != "p2" || one.Data.Images[0].Width != 300 || one.Data.Images[0].Height != 450 || one.Data.Attributes["color"] != "red" {
			t.Fatalf("GET /api/products/p2 = %+v", one.Data)
		}
		shop.MustDo(t, http.MethodGet, "/api/products/p2?aspect_ratio=3:4", nil, http.StatusOK, &one)
		if one.Data.Images[0].Height != 400 {
			t.Fatalf("GET /api/products/p2?aspect_ratio=3:4: height %d", one.Data.Images[0].Height)
		}
		if last := shop.catalog.sizes[len(shop.catalog.sizes)-1]; last != (telecart.ImageSize{Width: 300, Height: 400}) {
			t.Fatalf("catalog asked for %+v; want 300x400", last)
		}
		shop.MustError(t, http.MethodGet, "/api/products/p2?aspect_ratio=9:16", nil, http.StatusBadRequest)
	})
}

func TestProducts_Paging(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		shop := newTestShop(t, db, telecart.Settings{}, newFakeCatalog(45))

		// Ensure defaults: page 1, the block's 20 per page, and the meta.
		var got feedAnswer
		shop.MustDo(t, http.MethodGet, "/api/products", nil, http.StatusOK, &got)
		if m := got.Meta; m.Page != 1 || m.PerPage != 20 || m.Total != 45 || m.Pages != 3 || len(got.Data) != 20 {
			t.Fatalf("meta %+v with %d products", m, len(got.Data))
		}
		p := got.Data[0]
		if p.ID != "p1" || p.Price != 123456 || p.PriceFormatted != "1\u00a0234,56\u00a0₽" || p.Currency != "RUB" || !p.InStock || p.Name == "" || p.Description == "" {
			t.Fatalf("product %+v", p)
		}
		if p.Attributes != nil {
			t.Fatalf("the feed answers attributes: %+v", p.Attributes)
		}

		// Ensure the query reaches the catalog as asked.
		shop.MustDo(t, http.MethodGet, "/api/products?q=%20red+tea%20&page=3&per_page=7", nil, http.StatusOK, &got)
		want := telecart.ProductQuery{Search: "red tea", Page: 3, PerPage: 7, Image: telecart.ImageSize{Width: 300, Height: 300}}
		if q := shop.catalog.lastQuery(t); q != want {
			t.Fatalf("catalog asked %+v; want %+v", q, want)
		}
		if m := got.Meta; m.Page != 3 || m.PerPage != 7 || m.Pages != 7 || len(got.Data) != 7 || got.Data[0].ID != "p15" {
			t.Fatalf("page 3 of 7: meta %+v, first %q", m, got.Data[0].ID)
		}

		// Ensure a page past the end is an empty list, not an error.
		shop.MustDo(t, http.MethodGet, "/api/products?page=9", nil, http.StatusOK, &got)
		if got.Data == nil || len(got.Data) != 0 || got.Meta.Pages != 3 {
			t.Fatalf("page 9: %+v", got)
		}

		// Ensure the block's per_page is the default page size.
		var admin adminView
		shop.MustDo(t, http.MethodGet, "/admin/api/settings", nil, http.StatusOK, &admin)
		admin.Blocks[0].PerPage = 5
		shop.MustDo(t, http.MethodPut, "/admin/api/settings", admin, http.StatusOK, nil)
		shop.MustDo(t, http.MethodGet, "/api/products", nil, http.StatusOK, &got)
		if got.Meta.PerPage != 5 || shop.catalog.lastQuery(t).PerPage != 5 || got.Meta.Pages != 9 {
			t.Fatalf("per_page from the block: meta %+v", got.Meta)
		}

		// Ensure bad paging is a 400 that names the parameter.
		for _, q := range []string{"page=0", "page=-1", "page=abc", "page=1.5", "page=99999999999999999999", "per_page=0", "per_page=51", "per_page=x", "per_page=-5"} {
			e := shop.MustError(t, http.MethodGet, "/api/products?"+q, nil, http.StatusBadRequest)
			if name, _, _ := strings.Cut(q, "="); !strings.HasPrefix(e.Error.Message, name+" ") {
				t.Fatalf("?%s: message %q does not name the parameter", q, e.Error.Message)
			}
		}
		shop.MustError(t, http.MethodGet, "/api/products?q="+strings.Repeat("a", 201), nil, http.StatusBadRequest)
	})
}

func TestProducts_CatalogErrors(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		catalog := newFakeCatalog(2)
		shop := newTestShop(t, db, telecart.Settings{}, catalog)

		// Ensure a missing product is a JSON 404.
		e := shop.MustError(t, http.MethodGet, "/api/products/nope", nil, http.StatusNotFound)
		if e.Error.Code != "product_not_found" {
			t.Fatalf("404 code %q", e.Error.Code)
		}
		// A wrapped sentinel too.
		catalog.err = fmt.Errorf("shop: loading product 7: %w", telecart.ErrProductNotFound)
		shop.MustError(t, http.MethodGet, "/api/products/p1", nil, http.StatusNotFound)

		// Ensure any other failure is a JSON 503 that does not leak the cause.
		catalog.err = errors.New("dial tcp 10.0.0.5:3306: connection refused")
		for _, path := range []string{"/api/products", "/api/products/p1"} {
			status, raw := shop.Do(t, http.MethodGet, path, nil)
			if status != http.StatusServiceUnavailable {
				t.Fatalf("GET %s = %d %s; want 503", path, status, raw)
			}
			if strings.Contains(string(raw), "10.0.0.5") || strings.Contains(string(raw), "refused") {
				t.Fatalf("GET %s leaks the cause: %s", path, raw)
			}
			shop.MustError(t, http.MethodGet, path, nil, http.StatusServiceUnavailable)
		}

		// Ensure a panicking catalog is a JSON error too, not a dropped
		// connection.
		catalog.err, catalog.panics = nil, true
		for _, path := range []string{"/api/products", "/api/products/p1"} {
			shop.MustError(t, http.MethodGet, path, nil, http.StatusServiceUnavailable)
		}
	})
}

func TestProducts_Currencies(t *testing.T) {
	eachSettingsDB(t, func(t *testing.T, db migrator.DB) {
		catalog := &fakeCatalog{products: []telecart.Product{
			{ID: "usd", Price: 1234, Currency: "USD"},
			{ID: "jpy", Price: 1500, Currency: "jpy"},
			{ID: "none", Price: 5}, // no currency: the shop's RUB
		}}
		shop := newTestShop(t, db, telecart.Settings{}, catalog)
		var got feedAnswer
		shop.MustDo(t, http.MethodGet, "/api/products", nil, http.StatusOK, &got)
		want := map[string][2]string{
			"usd":  {"12.34 USD", "USD"},
			"jpy":  {"1500 JPY", "JPY"},
			"none": {"0,05\u00a0₽", "RUB"},
		}
		for _, p := range got.Data {
			if w := want[p.ID]; p.PriceFormatted != w[0] || p.Currency != w[1] {
				t.Errorf("%s: %q %q; want %q %q", p.ID, p.PriceFormatted, p.Currency, w[0], w[1])
			}
			if p.Images == nil {
				t.Errorf("%s: images is null; want []", p.ID)
			}
		}
	})
}

func TestFormatRUB(t *testing.T) {
	const nb = "\u00a0"
	for _, tt := range []struct {
		in   int64
		want string
	}{
		{0, "0,00" + nb + "₽"},
		{1, "0,01" + nb + "₽"},
		{99, "0,99" + nb + "₽"},
		{100, "1,00" + nb + "₽"},
		{99999, "999,99" + nb + "₽"},
		{100000, "1" + nb + "000,00" + nb + "₽"},
		{123456789, "1" + nb + "234" + nb + "567,89" + nb + "₽"},
		{100000000000, "1" + nb + "000" + nb + "000" + nb + "000,00" + nb + "₽"},
		{-1, "-0,01" + nb + "₽"},
		{-123456789, "-1" + nb + "234" + nb + "567,89" + nb + "₽"},
		{math.MinInt64, "-92" + nb + "233" + nb + "720" + nb + "368" + nb + "547" + nb + "758,08" + nb + "₽"},
	} {
		if got := telecart.FormatRUB(tt.in); got != tt.want {
			t.Errorf("FormatRUB(%d) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatPrice(t *testing.T) {
	for _, tt := range []struct {
		in       int64
		currency string
		want     string
	}{
		{1234, "USD", "12.34 USD"},
		{-5, "EUR", "-0.05 EUR"},
		{123456789, "USD", "1234567.89 USD"},
		{1500, "JPY", "1500 JPY"},
		{1234, "KWD", "1.234 KWD"},
		{100, "RUB", "1,00\u00a0₽"},
	} {
		if got := telecart.FormatPrice(tt.in, tt.currency); got != tt.want {
			t.Errorf("FormatPrice(%d, %s) = %q; want %q", tt.in, tt.currency, got, tt.want)
		}
	}
}
