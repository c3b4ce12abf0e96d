package host

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telecart"
)

// ErrStockShort is returned by PlaceOrder when a product has fewer items in
// stock than the order asks for: the catalog showed it in stock, but
// another order took the last ones meanwhile.
var ErrStockShort = errors.New("stdhost: not enough in stock")

// Order is a row of the shop's orders table with its items. Times are UTC.
type Order struct {
	ID             int64
	TelegramUserID int64
	CustomerName   string
	Phone          string
	Email          string
	Address        string
	Comment        string
	Total          int64 // minor units
	Currency       string
	Status         string
	CreatedAt      time.Time
	Items          []OrderItem
}

// OrderItem is a row of the shop's order_items table.
type OrderItem struct {
	ProductID int64
	Name      string
	Quantity  int
	UnitPrice int64 // minor units
}

// Orders is the shop's order book: it implements telecart.OrderPlacer over
// the orders, order_items and products tables, and lists orders for the
// shop's own admin page. It is safe for concurrent use.
type Orders struct {
	db  migrator.DB
	now func() time.Time
}

var _ telecart.OrderPlacer = (*Orders)(nil)

// NewOrders returns the order book over db, whose migrations must include
// MigrationSource(); now is the clock of created_at (nil means time.Now).
func NewOrders(db migrator.DB, now func() time.Time) *Orders {
	if now == nil {
		now = time.Now
	}
	return &Orders{db: db, now: now}
}

// PlaceOrder writes the order, its items and the stock they take, all
// through tx, the transaction in which TeleCart also stores the order's
// meta row and its ORDER_CREATED Pulse event. It returns the new order's
// id. When a product's stock is short it returns an error wrapping
// ErrStockShort after the order row is written: TeleCart then rolls tx
// back, and the order, its items, the stock taken by the lines before and
// TeleCart's own rows all disappear together.
func (o *Orders) PlaceOrder(ctx context.Context, tx *sql.Tx, n telecart.NewOrder) (telecart.PlacedOrder, error) {
	if tx == nil {
		return telecart.PlacedOrder{}, errors.New("stdhost: PlaceOrder: tx is nil; orders are written only in TeleCart's transaction")
	}
	if len(n.Items) == 0 {
		return telecart.PlacedOrder{}, errors.New("stdhost: PlaceOrder: the order has no items")
	}
	d := o.db.Dialect
	query, args, err := d.Builder().Insert("orders").
		Columns("telegram_user_id", "customer_name", "phone", "email", "address", "comment",
			"total", "currency", "status", "created_at").
		Values(n.TelegramUserID, n.Name, n.Phone, n.Email, n.Address, n.Comment, n.Total, n.Currency, "new",
			d.EncodeTime(o.now())).
		ToSql()
	if err != nil {
		return telecart.PlacedOrder{}, fmt.Errorf("stdhost: building order insert: %w", err)
	}
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return telecart.PlacedOrder{}, fmt.Errorf("stdhost: inserting order: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return telecart.PlacedOrder{}, fmt.Errorf("stdhost: reading the new order's id: %w", err)
	}
	for _, it := range n.Items {
		pid, ok := parseID(it.ProductID)
		if !ok {
			return telecart.PlacedOrder{}, fmt.Errorf("stdhost: order line for unknown product %q", it.ProductID)
		}
		query, args, err := d.Builder().Insert("order_items").
			Columns("order_id", "product_id", "name", "quantity", "unit_price").
			Values(id, pid, it.Name, it.Quantity, it.UnitPrice).ToSql()
		if err != nil {
			return telecart.PlacedOrder{}, fmt.Errorf("stdhost: building order item insert: %w", err)
		}
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return telecart.PlacedOrder{}, fmt.Errorf("stdhost: inserting order item: %w", err)
		}
		// Take the stock only if there is enough: the row lock this takes
		// also makes a concurrent order for the same product wait.
		query, args, err = d.Builder().Update("products").
			Set("stock", sq.Expr("stock - ?", it.Quantity)).
			Where(sq.And{sq.Eq{"id": pid}, sq.GtOrEq{"stock": it.Quantity}}).ToSql()
		if err != nil {
			return telecart.PlacedOrder{}, fmt.Errorf("stdhost: building stock update: %w", err)
		}
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return telecart.PlacedOrder{}, fmt.Errorf("stdhost: taking stock: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return telecart.PlacedOrder{}, fmt.Errorf("stdhost: taking stock: %w", err)
		} else if n != 1 {
			return telecart.PlacedOrder{}, fmt.Errorf("%w: product %d (%s), %d wanted", ErrStockShort, pid, it.Name, it.Quantity)
		}
	}
	return telecart.PlacedOrder{ID: strconv.FormatInt(id, 10)}, nil
}

// List returns the newest orders first with their items; limit <= 0 means
// all of them.
func (o *Orders) List(ctx context.Context, limit int) ([]Order, error) {
	b := o.db.Dialect.Builder()
	sel := b.Select("id, telegram_user_id, customer_name, phone, email, address, comment, total, currency, status, created_at").
		From("orders").OrderBy("id DESC")
	if limit > 0 {
		sel = sel.Limit(uint64(limit))
	}
	query, args, err := sel.ToSql()
	if err != nil {
		return nil, fmt.Errorf("stdhost: building orders query: %w", err)
	}
	rows, err := o.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("stdhost: listing orders: %w", err)
	}
	defer rows.Close()
	orders := []Order{}
	byID := map[int64]int{}
	for rows.Next() {
		var x Order
		if err := rows.Scan(&x.ID, &x.TelegramUserID, &x.CustomerName, &x.Phone, &x.Email, &x.Address, &x.Comment,
			&x.Total, &x.Currency, &x.Status, migrator.ScanTime(&x.CreatedAt)); err != nil {
			return nil, fmt.Errorf("stdhost: reading order: %w", err)
		}
		byID[x.ID] = len(orders)
		orders = append(orders, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stdhost: listing orders: %w", err)
	}
	rows.Close()
	if len(orders) == 0 {
		return orders, nil
	}
	ids := make([]int64, len(orders))
	for i, x := range orders {
		ids[i] = x.ID
	}
	if query, args, err = b.Select("order_id, product_id, name, quantity, unit_price").From("order_items").
		Where(sq.Eq{"order_id": ids}).OrderBy("id").ToSql(); err != nil {
		return nil, fmt.Errorf("stdhost: building order items query: %w", err)
	}
	items, err := o.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("stdhost: listing order items: %w", err)
	}
	defer items.Close()
	for items.Next() {
		var orderID int64
		var it OrderItem
		if err := items.Scan(&orderID, &it.ProductID, &it.Name, &it.Quantity, &it.UnitPrice); err != nil {
			return nil, fmt.Errorf("stdhost: reading order item: %w", err)
		}
		if i, ok := byID[orderID]; ok {
			orders[i].Items = append(orders[i].Items, it)
		}
	}
	if err := items.Err(); err != nil {
		return nil, fmt.Errorf("stdhost: listing order items: %w", err)
	}
	return orders, nil
}
