package host

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telecart"
)

// Paging of Catalog.Products when the query leaves it out or exceeds it.
const (
	PerPageDefault = 20
	PerPageMax     = 50
)

// ImagePath is where the shop serves its generated product images.
const ImagePath = "/images/products/"

// Catalog is the shop's products table as TeleCart's storefront sees it: a
// telecart.Catalog over SQL that the shop owns. It is safe for concurrent
// use.
type Catalog struct {
	db migrator.DB
}

var _ telecart.Catalog = (*Catalog)(nil)

// NewCatalog returns the catalog over db, whose migrations must include
// MigrationSource().
func NewCatalog(db migrator.DB) *Catalog { return &Catalog{db: db} }

const productColumns = "id, name, description, price, currency, stock"

// Products returns one page of the products whose name or description
// contains every word of q.Search, ignoring case (ASCII case on SQLite), in
// id order.
func (c *Catalog) Products(ctx context.Context, q telecart.ProductQuery) (telecart.ProductPage, error) {
	page, perPage := q.Page, q.PerPage
	if page < 1 {
		page = 1
	}
	if perPage < 1 {
		perPage = PerPageDefault
	}
	perPage = min(perPage, PerPageMax)
	where := sq.And{}
	for _, w := range strings.Fields(strings.ToLower(q.Search)) {
		like := "%" + escapeLike(w) + "%"
		where = append(where, sq.Or{
			sq.Expr("LOWER(name) LIKE ? ESCAPE '!'", like),
			sq.Expr("LOWER(description) LIKE ? ESCAPE '!'", like),
		})
	}
	b := c.db.Dialect.Builder()
	out := telecart.ProductPage{Products: []telecart.Product{}}
	count := b.Select("COUNT(*)").From("products")
	if len(where) > 0 {
		count = count.Where(where)
	}
	query, args, err := count.ToSql()
	if err != nil {
		return out, fmt.Errorf("stdhost: building products count: %w", err)
	}
	if err := c.db.QueryRowContext(ctx, query, args...).Scan(&out.Total); err != nil {
		return out, fmt.Errorf("stdhost: counting products: %w", err)
	}
	if out.Total == 0 || page-1 >= (out.Total+perPage-1)/perPage {
		return out, nil
	}
	sel := b.Select(productColumns).From("products").OrderBy("id").
		Limit(uint64(perPage)).Offset(uint64(page-1) * uint64(perPage))
	if len(where) > 0 {
		sel = sel.Where(where)
	}
	if query, args, err = sel.ToSql(); err != nil {
		return out, fmt.Errorf("stdhost: building products query: %w", err)
	}
	rows, err := c.db.QueryContext(ctx, query, args...)
	if err != nil {
		return out, fmt.Errorf("stdhost: listing products: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, _, err := scanProduct(rows, q.Image)
		if err != nil {
			return out, err
		}
		out.Products = append(out.Products, p)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("stdhost: listing products: %w", err)
	}
	return out, nil
}

// Product returns the product with the id, or an error wrapping
// telecart.ErrProductNotFound.
func (c *Catalog) Product(ctx context.Context, id string, img telecart.ImageSize) (telecart.Product, error) {
	n, ok := parseID(id)
	if !ok {
		return telecart.Product{}, fmt.Errorf("stdhost: product %q: %w", id, telecart.ErrProductNotFound)
	}
	query, args, err := c.db.Dialect.Builder().Select(productColumns).From("products").Where(sq.Eq{"id": n}).ToSql()
	if err != nil {
		return telecart.Product{}, fmt.Errorf("stdhost: building product query: %w", err)
	}
	p, _, err := scanProduct(c.db.QueryRowContext(ctx, query, args...), img)
	if errors.Is(err, sql.ErrNoRows) {
		return telecart.Product{}, fmt.Errorf("stdhost: product %q: %w", id, telecart.ErrProductNotFound)
	}
	return p, err
}

// scanProduct reads one row of productColumns. Products have one generated
// image each; the storefront shows it at the size it asks for, and an SVG
// fills any size.
func scanProduct(row interface{ Scan(...any) error }, img telecart.ImageSize) (p telecart.Product, stock int, err error) {
	var id int64
	if err := row.Scan(&id, &p.Name, &p.Description, &p.Price, &p.Currency, &stock); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return p, 0, err
		}
		return p, 0, fmt.Errorf("stdhost: reading product: %w", err)
	}
	p.ID = strconv.FormatInt(id, 10)
	p.InStock = stock > 0
	p.Images = []telecart.Image{{URL: ImagePath + p.ID + ".svg", Width: img.Width, Height: img.Height}}
	return p, stock, nil
}

// StockLine is a product with its stock, for the shop's own admin page.
type StockLine struct {
	telecart.Product
	Stock int
}

// Stock lists every product with its stock, in id order.
func (c *Catalog) Stock(ctx context.Context) ([]StockLine, error) {
	query, args, err := c.db.Dialect.Builder().Select(productColumns).From("products").OrderBy("id").ToSql()
	if err != nil {
		return nil, fmt.Errorf("stdhost: building products query: %w", err)
	}
	rows, err := c.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("stdhost: listing products: %w", err)
	}
	defer rows.Close()
	var out []StockLine
	for rows.Next() {
		p, stock, err := scanProduct(rows, telecart.ImageSize{})
		if err != nil {
			return nil, err
		}
		out = append(out, StockLine{Product: p, Stock: stock})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stdhost: listing products: %w", err)
	}
	return out, nil
}

// parseID accepts the ids the catalog hands out: "1", never "01" or "+1".
func parseID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return 0, false
	}
	return n, true
}

// escapeLike escapes LIKE's wildcards with '!', the ESCAPE character both
// dialects are told to use.
func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}
