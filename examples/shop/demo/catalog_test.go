package demo_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/telecart-go/telecart/examples/shop/demo"
	"github.com/telecart-go/telecart/telecart"
)

var feedImage = telecart.ImageSize{Width: 300, Height: 375}

func mustProducts(tb testing.TB, c *demo.Catalog, q telecart.ProductQuery) telecart.ProductPage {
	tb.Helper()
	page, err := c.Products(context.Background(), q)
	if err != nil {
		tb.Fatalf("Products(%+v): %v", q, err)
	}
	return page
}

func ids(ps []telecart.Product) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.ID)
	}
	return strings.Join(s, ",")
}

func TestCatalogProducts(t *testing.T) {
	c := demo.NewCatalog("")

	// Ensure the whole catalog pages in order with a stable total.
	t.Run("Paging", func(t *testing.T) {
		p1 := mustProducts(t, c, telecart.ProductQuery{Page: 1, PerPage: 20, Image: feedImage})
		if p1.Total != 36 || len(p1.Products) != 20 || p1.Products[0].ID != "p1" || p1.Products[19].ID != "p20" {
			t.Fatalf("page 1: total %d, ids %s", p1.Total, ids(p1.Products))
		}
		p2 := mustProducts(t, c, telecart.ProductQuery{Page: 2, PerPage: 20, Image: feedImage})
		if p2.Total != 36 || len(p2.Products) != 16 || p2.Products[0].ID != "p21" || p2.Products[15].ID != "p36" {
			t.Fatalf("page 2: total %d, ids %s", p2.Total, ids(p2.Products))
		}
		p3 := mustProducts(t, c, telecart.ProductQuery{Page: 3, PerPage: 20, Image: feedImage})
		if p3.Total != 36 || p3.Products == nil || len(p3.Products) != 0 {
			t.Fatalf("page 3: total %d, products %#v", p3.Total, p3.Products)
		}
		huge := mustProducts(t, c, telecart.ProductQuery{Page: 1 << 40, PerPage: 50})
		if huge.Total != 36 || len(huge.Products) != 0 {
			t.Fatalf("huge page: total %d, %d products", huge.Total, len(huge.Products))
		}
	})

	// Ensure out-of-range paging falls back to the defaults and the maximum.
	t.Run("PagingDefaults", func(t *testing.T) {
		def := mustProducts(t, c, telecart.ProductQuery{})
		if len(def.Products) != demo.PerPageDefault || def.Products[0].ID != "p1" {
			t.Fatalf("default page: %s", ids(def.Products))
		}
		most := mustProducts(t, c, telecart.ProductQuery{Page: 1, PerPage: 1000})
		if len(most.Products) != 36 {
			t.Fatalf("PerPage 1000: %d products", len(most.Products))
		}
	})

	// Ensure search ignores case, looks at names and descriptions, and
	// requires every word.
	t.Run("Search", func(t *testing.T) {
		for _, tc := range []struct {
			search string
			want   string
		}{
			{"BERGAMOT", "p1,p11"},                   // descriptions only
			{"  earl grey ", "p11"},                  // name
			{"green tea", "p12,p13,p17"},             // every word, anywhere
			{"jasmine matcha", ""},                   // no product has both
			{"нет такого", ""},                       // no match at all
			{"Coffee Beans", "p1,p2,p4,p5"},          // name
			{"chocolate", "p3,p25,p26,p36"},          // name or description
			{"", strings.Join(allIDs()[:20], ",")},   // everything
			{"\t", strings.Join(allIDs()[:20], ",")}, // blank is everything
			{"MILK", "p9,p14,p24,p26,p33,p34"},       // ignoring case
			{"POUCHES", "p7"},                        // description
			{"ethiopia yirgacheffe", "p1"},           // name
			{"Yirgacheffe, light", ""},               // punctuation is literal
			{"roast", "p1,p2,p3,p4,p6,p26,p32"},      // substrings ("roasted")
			{"p1", ""},                               // ids are not searched
		} {
			page := mustProducts(t, c, telecart.ProductQuery{Search: tc.search, Page: 1, PerPage: 20})
			got := ids(page.Products)
			if got != tc.want {
				t.Errorf("search %q: got %q, want %q", tc.search, got, tc.want)
			}
			if strings.TrimSpace(tc.search) != "" && page.Total != len(page.Products) {
				t.Errorf("search %q: total %d for %d products", tc.search, page.Total, len(page.Products))
			}
		}
	})

	// Ensure Total counts matches over all pages, not the page.
	t.Run("SearchTotal", func(t *testing.T) {
		page := mustProducts(t, c, telecart.ProductQuery{Search: "tea", Page: 2, PerPage: 3})
		all := mustProducts(t, c, telecart.ProductQuery{Search: "tea", Page: 1, PerPage: 50})
		if page.Total != all.Total || len(page.Products) != 3 || page.Products[0].ID != all.Products[3].ID {
			t.Fatalf("page 2 of 3: total %d (want %d), ids %s; all %s", page.Total, all.Total, ids(page.Products), ids(all.Products))
		}
	})
}

func allIDs() []string {
	var s []string
	for i := 1; i <= 36; i++ {
		s = append(s, "p"+strconv.Itoa(i))
	}
	return s
}

func TestCatalogProduct(t *testing.T) {
	c := demo.NewCatalog("")
	ctx := context.Background()

	// Ensure a known id answers the product with its price in kopecks.
	t.Run("OK", func(t *testing.T) {
		p, err := c.Product(ctx, "p9", feedImage)
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != "p9" || p.Name != "Assam Black Tea" || p.Price != 34900 || p.Currency != "RUB" || !p.InStock {
			t.Fatalf("p9: %+v", p)
		}
		if p.Attributes["Weight"] != "100 g" || p.Attributes["Origin"] != "India" {
			t.Fatalf("p9 attributes: %v", p.Attributes)
		}
	})

	// Ensure unknown and malformed ids wrap telecart.ErrProductNotFound.
	t.Run("ErrProductNotFound", func(t *testing.T) {
		for _, id := range []string{"", "p", "p0", "p37", "p01", "p+1", "P1", "1", "p1 ", "p99999999999999999999", "x"} {
			if _, err := c.Product(ctx, id, feedImage); !errors.Is(err, telecart.ErrProductNotFound) {
				t.Errorf("Product(%q): %v, want ErrProductNotFound", id, err)
			}
		}
	})

	// Ensure each call returns a fresh product, so a caller's edits do not
	// leak into the catalog.
	t.Run("Copies", func(t *testing.T) {
		p, _ := c.Product(ctx, "p1", feedImage)
		p.Attributes["Weight"] = "changed"
		p.Images[0].URL = "changed"
		again, _ := c.Product(ctx, "p1", feedImage)
		if again.Attributes["Weight"] != "250 g" || again.Images[0].URL == "changed" {
			t.Fatalf("catalog was modified through a returned product: %+v", again)
		}
	})
}

// Ensure the demo data looks like a shop: 36 products with unique ids,
// positive prices (some with kopecks) and a few out of stock.
func TestCatalogData(t *testing.T) {
	page := mustProducts(t, demo.NewCatalog(""), telecart.ProductQuery{Page: 1, PerPage: 50})
	if page.Total != 36 || len(page.Products) != 36 {
		t.Fatalf("total %d, %d products", page.Total, len(page.Products))
	}
	seen := map[string]bool{}
	var kopecks, outOfStock int
	for i, p := range page.Products {
		if want := "p" + strconv.Itoa(i+1); p.ID != want {
			t.Errorf("product %d has id %q, want %q", i, p.ID, want)
		}
		if seen[p.Name] {
			t.Errorf("duplicate name %q", p.Name)
		}
		seen[p.Name] = true
		if p.Price <= 0 || p.Currency != "RUB" || p.Name == "" || p.Description == "" || len(p.Images) != 1 {
			t.Errorf("%s: %+v", p.ID, p)
		}
		if p.Price%100 != 0 {
			kopecks++
		}
		if !p.InStock {
			outOfStock++
		}
	}
	if kopecks < 3 || outOfStock < 3 {
		t.Errorf("%d prices with kopecks and %d products out of stock; want a few of each", kopecks, outOfStock)
	}
}

// Ensure image URLs carry the size the storefront shows images at, fitted
// into what the image handler serves.
func TestCatalogImageSize(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		base string
		size telecart.ImageSize
		url  string
		w, h int
	}{
		{"", telecart.ImageSize{Width: 300, Height: 375}, "/demo/images/p3.png?w=300&h=375", 300, 375},
		{"", telecart.ImageSize{Width: 300, Height: 300}, "/demo/images/p3.png?w=300&h=300", 300, 300},
		{"https://shop.example", feedImage, "https://shop.example/demo/images/p3.png?w=300&h=375", 300, 375},
		{"https://shop.example/", feedImage, "https://shop.example/demo/images/p3.png?w=300&h=375", 300, 375},
		{"", telecart.ImageSize{}, "/demo/images/p3.png?w=400&h=400", 400, 400},
		{"", telecart.ImageSize{Width: 250}, "/demo/images/p3.png?w=250&h=250", 250, 250},
		{"", telecart.ImageSize{Width: 2400, Height: 3000}, "/demo/images/p3.png?w=960&h=1200", 960, 1200},
		{"", telecart.ImageSize{Width: 3000, Height: 10}, "/demo/images/p3.png?w=1200&h=16", 1200, 16},
		{"", telecart.ImageSize{Width: 8, Height: 10}, "/demo/images/p3.png?w=16&h=16", 16, 16},
	} {
		p, err := demo.NewCatalog(tc.base).Product(ctx, "p3", tc.size)
		if err != nil {
			t.Fatal(err)
		}
		img := p.Images[0]
		if img.URL != tc.url || img.Width != tc.w || img.Height != tc.h {
			t.Errorf("base %q, size %+v: got %+v, want %s (%d×%d)", tc.base, tc.size, img, tc.url, tc.w, tc.h)
		}
	}

	// The zero Catalog links root-relative URLs too.
	page := mustProducts(t, &demo.Catalog{}, telecart.ProductQuery{Page: 1, PerPage: 1, Image: feedImage})
	if got := page.Products[0].Images[0].URL; got != "/demo/images/p1.png?w=300&h=375" {
		t.Errorf("zero Catalog: %s", got)
	}
}
