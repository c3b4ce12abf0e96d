package telecart

import (
	"context"
	"errors"
)

// ErrProductNotFound is returned by a Catalog when no product has the given
// ID; the storefront answers it with 404. Hosts may wrap it.
var ErrProductNotFound = errors.New("telecart: product not found")

// Catalog is the host shop's product catalog as the storefront needs it. The
// host implements it over its own tables; telecart never writes to them.
// Both methods must be safe for concurrent use.
type Catalog interface {
	// Products returns one page of the products matching q.Search (all
	// products when empty), with images sized as close to q.Image as the
	// host can make them, and the total number of matches.
	Products(ctx context.Context, q ProductQuery) (ProductPage, error)
	// Product returns one product with images sized as close to img as the
	// host can make them, or an error wrapping ErrProductNotFound.
	Product(ctx context.Context, id string, img ImageSize) (Product, error)
}

// ProductQuery asks a Catalog for one page of products.
type ProductQuery struct {
	Search  string    // free text from the storefront's search bar; may be empty
	Page    int       // 1-based
	PerPage int       // 1..50
	Image   ImageSize // the size the storefront shows images at
}

// ImageSize is the size, in CSS pixels, the storefront shows an image at.
// Width is ImageWidth; Height follows the products feed's aspect ratio, so
// a host that resizes or crops images can return a matching URL.
type ImageSize struct {
	Width, Height int
}

// ProductPage is one page of a product listing.
type ProductPage struct {
	Products []Product
	Total    int // matches over all pages
}

// Product is a product of the host's catalog.
type Product struct {
	ID          string
	Name        string
	Description string
	Price       int64  // in minor units (kopecks for RUB)
	Currency    string // ISO 4217, e.g. "RUB"
	Images      []Image
	InStock     bool
	Attributes  map[string]string
}

// Image is a product image. The storefront answers every image with the
// requested ImageSize, whatever Width and Height the host reports.
type Image struct {
	URL           string
	Width, Height int
}
