package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/telecart"
)

// ErrOrderNotFound is returned by Orders.Get for an unknown id.
var ErrOrderNotFound = errors.New("demo: order not found")

// StatusNew is the status of every order PlaceOrder creates.
const StatusNew = "new"

// Order is an order in the demo shop's own orders table. Times are UTC.
type Order struct {
	ID             string // as in telecart.PlacedOrder
	HostCustomerID int64
	TelegramUserID int64
	Name           string
	Phone          string
	Email          string
	Address        string
	Comment        string
	Total          int64 // minor units
	Currency       string
	Status         string
	CreatedAt      time.Time
	Items          []telecart.OrderItem // in the order they were placed
}

// Orders is the demo shop's order book in the demo_orders and
// demo_order_items tables. It implements telecart.OrderPlacer and is safe
// for concurrent use.
type Orders struct {
	db       migrator.DB
	orders   string
	items    string
	now      func() time.Time
	mu       sync.Mutex
	failNext error
}

var _ telecart.OrderPlacer = (*Orders)(nil)

// NewOrders returns the order book over db, whose migrations must include
// MigrationSource(); now is the clock for created_at (nil means time.Now).
// It panics when db is not usable (nil handle, unknown dialect, bad prefix).
func NewOrders(db migrator.DB, now func() time.Time) *Orders {
	mustValidDB("NewOrders", db)
	if now == nil {
		now = time.Now
	}
	return &Orders{db: db, orders: db.Table("demo_orders"), items: db.Table("demo_order_items"), now: now}
}

// FailNext makes the next PlaceOrder return err without writing anything,
// so that tests can prove a failed host write leaves no trace of the order.
// FailNext(nil) cancels a pending failure.
func (o *Orders) FailNext(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failNext = err
}

func (o *Orders) takeFailure() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	err := o.failNext
	o.failNext = nil
	return err
}

// Column limits of the orders tables: longer text is cut rather than
// refused, as a shop would rather keep an order with a clipped name.
const (
	maxTextRunes      = 255
	maxProductIDRunes = 128
)

// PlaceOrder writes the order and its items through tx and returns the new
// order's id. Nothing is written outside tx, so rolling tx back removes the
// order entirely.
func (o *Orders) PlaceOrder(ctx context.Context, tx *sql.Tx, n telecart.NewOrder) (telecart.PlacedOrder, error) {
	if err := o.takeFailure(); err != nil {
		return telecart.PlacedOrder{}, err
	}
	if tx == nil {
		return telecart.PlacedOrder{}, errors.New("demo: PlaceOrder: tx is nil; orders are written only inside the caller's transaction")
	}
	if len(n.Items) == 0 {
		return telecart.PlacedOrder{}, errors.New("demo: PlaceOrder: the order has no items")
	}
	b := o.db.Dialect.Builder()
	query, args, err := b.Insert(o.orders).
		Columns("host_customer_id", "telegram_user_id", "name", "phone", "email", "address", "comment",
			"total", "currency", "status", "created_at").
		Values(n.HostCustomerID, n.TelegramUserID, clip(n.Name, maxTextRunes), clip(n.Phone, maxTextRunes),
			clip(n.Email, maxTextRunes), clip(n.Address, -1), clip(n.Comment, -1),
			n.Total, clip(n.Currency, 8), StatusNew, o.db.Dialect.EncodeTime(o.now())).
		ToSql()
	if err != nil {
		return telecart.PlacedOrder{}, fmt.Errorf("demo: building order insert: %w", err)
	}
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return telecart.PlacedOrder{}, fmt.Errorf("demo: inserting order: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return telecart.PlacedOrder{}, fmt.Errorf("demo: reading new order id: %w", err)
	}
	ins := b.Insert(o.items).Columns("order_id", "product_id", "name", "quantity", "unit_price", "total")
	for _, it := range n.Items {
		ins = ins.Values(id, clip(it.ProductID, maxProductIDRunes), clip(it.Name, maxTextRunes), it.Quantity, it.UnitPrice, it.Total)
	}
	query, args, err = ins.ToSql()
	if err != nil {
		return telecart.PlacedOrder{}, fmt.Errorf("demo: building order items insert: %w", err)
	}
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return telecart.PlacedOrder{}, fmt.Errorf("demo: inserting order items: %w", err)
	}
	return telecart.PlacedOrder{ID: strconv.FormatInt(id, 10)}, nil
}

// clip makes s valid UTF-8 (a strict MySQL refuses anything else) and, when
// limit >= 0, at most limit runes long.
func clip(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if limit < 0 || utf8.RuneCountInString(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit {
			return s[:i]
		}
		n++
	}
	return s
}

const orderColumns = "id, host_customer_id, telegram_user_id, name, phone, email, address, comment, " +
	"total, currency, status, created_at"

// List returns the newest orders first, with their items; limit <= 0 means
// all of them.
func (o *Orders) List(ctx context.Context, limit int) ([]Order, error) {
	sel := o.db.Dialect.Builder().Select(orderColumns).From(o.orders).OrderBy("id DESC")
	if limit > 0 {
		sel = sel.Limit(uint64(limit))
	}
	return o.query(ctx, sel)
}

// Get returns the order with the id PlaceOrder returned, or an error
// wrapping ErrOrderNotFound.
func (o *Orders) Get(ctx context.Context, id string) (Order, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return Order{}, fmt.Errorf("demo: order %q: %w", id, ErrOrderNotFound)
	}
	orders, err := o.query(ctx, o.db.Dialect.Builder().Select(orderColumns).From(o.orders).Where(sq.Eq{"id": n}))
	if err != nil {
		return Order{}, err
	}
	if len(orders) == 0 {
		return Order{}, fmt.Errorf("demo: order %q: %w", id, ErrOrderNotFound)
	}
	return orders[0], nil
}

// query runs sel over the orders table and attaches every order's items.
func (o *Orders) query(ctx context.Context, sel sq.SelectBuilder) ([]Order, error) {
	query, args, err := sel.ToSql()
	if err != nil {
		return nil, fmt.Errorf("demo: building orders query: %w", err)
	}
	rows, err := o.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("demo: listing orders: %w", err)
	}
	defer rows.Close()
	orders := []Order{}
	byID := map[int64]int{}
	var ids []int64
	for rows.Next() {
		var ord Order
		var id int64
		if err := rows.Scan(&id, &ord.HostCustomerID, &ord.TelegramUserID, &ord.Name, &ord.Phone, &ord.Email,
			&ord.Address, &ord.Comment, &ord.Total, &ord.Currency, &ord.Status, migrator.ScanTime(&ord.CreatedAt)); err != nil {
			return nil, fmt.Errorf("demo: reading order: %w", err)
		}
		ord.ID = strconv.FormatInt(id, 10)
		ord.Items = []telecart.OrderItem{}
		byID[id] = len(orders)
		ids = append(ids, id)
		orders = append(orders, ord)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("demo: listing orders: %w", err)
	}
	rows.Close()
	if len(ids) == 0 {
		return orders, nil
	}

	query, args, err = o.db.Dialect.Builder().
		Select("order_id, product_id, name, quantity, unit_price, total").
		From(o.items).Where(sq.Eq{"order_id": ids}).OrderBy("id").ToSql()
	if err != nil {
		return nil, fmt.Errorf("demo: building order items query: %w", err)
	}
	items, err := o.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("demo: listing order items: %w", err)
	}
	defer items.Close()
	for items.Next() {
		var orderID int64
		var it telecart.OrderItem
		if err := items.Scan(&orderID, &it.ProductID, &it.Name, &it.Quantity, &it.UnitPrice, &it.Total); err != nil {
			return nil, fmt.Errorf("demo: reading order item: %w", err)
		}
		if i, ok := byID[orderID]; ok {
			orders[i].Items = append(orders[i].Items, it)
		}
	}
	if err := items.Err(); err != nil {
		return nil, fmt.Errorf("demo: listing order items: %w", err)
	}
	return orders, nil
}
