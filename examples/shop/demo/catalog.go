package demo

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/telecart-go/telecart/telecart"
)

// Currency is the currency of every demo price.
const Currency = "RUB"

// Paging of Products when the query leaves it out or exceeds it.
const (
	PerPageDefault = 20
	PerPageMax     = 50
)

// Catalog is the demo shop's product catalog: a fixed list of coffee, tea and
// grocery products with the ids "p1" … "p36", kept in memory. It implements
// telecart.Catalog and is safe for concurrent use; the zero value is ready
// and links images root-relative.
type Catalog struct {
	// ImageBase is prepended to every image URL, so that images can be
	// served from another origin ("https://shop.example"). Defaults to "",
	// which gives root-relative URLs such as /demo/images/p1.png?w=300&h=375.
	ImageBase string
}

var _ telecart.Catalog = (*Catalog)(nil)

// NewCatalog returns the demo catalog with image URLs under imageBase (see
// Catalog.ImageBase).
func NewCatalog(imageBase string) *Catalog {
	return &Catalog{ImageBase: strings.TrimSuffix(imageBase, "/")}
}

// Products returns one page of the products whose name or description
// contains every word of q.Search, ignoring case, in catalog order. A page
// past the end is empty; Total still counts every match.
func (c *Catalog) Products(ctx context.Context, q telecart.ProductQuery) (telecart.ProductPage, error) {
	if err := ctx.Err(); err != nil {
		return telecart.ProductPage{}, err
	}
	words := strings.Fields(strings.ToLower(q.Search))
	var matches []int
	for i, p := range products {
		if matchesAll(p, words) {
			matches = append(matches, i)
		}
	}
	page, perPage := q.Page, q.PerPage
	if page < 1 {
		page = 1
	}
	if perPage < 1 {
		perPage = PerPageDefault
	}
	if perPage > PerPageMax {
		perPage = PerPageMax
	}
	out := telecart.ProductPage{Products: []telecart.Product{}, Total: len(matches)}
	// Page is bounded by the caller, but compare by division so that a huge
	// page cannot overflow page*perPage.
	if page-1 >= (len(matches)+perPage-1)/perPage {
		return out, nil
	}
	start := (page - 1) * perPage
	end := min(start+perPage, len(matches))
	for _, i := range matches[start:end] {
		out.Products = append(out.Products, c.product(i, q.Image))
	}
	return out, nil
}

// Product returns the product with the id, or an error wrapping
// telecart.ErrProductNotFound.
func (c *Catalog) Product(ctx context.Context, id string, img telecart.ImageSize) (telecart.Product, error) {
	if err := ctx.Err(); err != nil {
		return telecart.Product{}, err
	}
	i, ok := productIndex(id)
	if !ok {
		return telecart.Product{}, fmt.Errorf("demo: product %q: %w", id, telecart.ErrProductNotFound)
	}
	return c.product(i, img), nil
}

// product builds the i-th product afresh, so callers may modify what they get.
func (c *Catalog) product(i int, img telecart.ImageSize) telecart.Product {
	p := products[i]
	id := productID(i)
	w, h := fitImageSize(img.Width, img.Height)
	attrs := map[string]string{}
	if p.weight != "" {
		attrs["Weight"] = p.weight
	}
	if p.origin != "" {
		attrs["Origin"] = p.origin
	}
	if len(attrs) == 0 {
		attrs = nil
	}
	return telecart.Product{
		ID:          id,
		Name:        p.name,
		Description: p.description,
		Price:       p.price,
		Currency:    Currency,
		Images: []telecart.Image{{
			URL:    fmt.Sprintf("%s%s%s.png?w=%d&h=%d", strings.TrimSuffix(c.ImageBase, "/"), ImagesPath, id, w, h),
			Width:  w,
			Height: h,
		}},
		InStock:    p.inStock,
		Attributes: attrs,
	}
}

func matchesAll(p demoProduct, words []string) bool {
	if len(words) == 0 {
		return true
	}
	text := strings.ToLower(p.name + "\n" + p.description)
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

func productID(i int) string { return "p" + strconv.Itoa(i+1) }

// productIndex parses an id made by productID; "p01" and "p+1" are not ids.
func productIndex(id string) (int, bool) {
	digits, ok := strings.CutPrefix(id, "p")
	if !ok || digits == "" || digits[0] < '1' || digits[0] > '9' || len(digits) > 4 {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n > len(products) {
		return 0, false
	}
	return n - 1, true
}

// fitImageSize turns the size the storefront asks for into one the image
// handler serves: a missing side copies the other (ImageSizeDefault square
// when both are missing), a side over ImageSizeMax scales both down keeping
// the aspect ratio, and each side is at least ImageSizeMin.
func fitImageSize(w, h int) (int, int) {
	switch {
	case w <= 0 && h <= 0:
		w, h = ImageSizeDefault, ImageSizeDefault
	case w <= 0:
		w = h
	case h <= 0:
		h = w
	}
	if m := max(w, h); m > ImageSizeMax {
		w = int(int64(w) * ImageSizeMax / int64(m))
		h = int(int64(h) * ImageSizeMax / int64(m))
	}
	return min(max(w, ImageSizeMin), ImageSizeMax), min(max(h, ImageSizeMin), ImageSizeMax)
}
