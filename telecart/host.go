package telecart

import (
	"context"
	"database/sql"
)

// OrderPlacer creates orders in the host's own tables. TeleCart calls it
// inside the transaction that also writes the order's metadata, the
// customer's counters and the ORDER_CREATED Pulse event, so the host must do
// all its writes through tx: if PlaceOrder fails, or anything after it does,
// nothing of the order remains. (On SQLite the database has one connection,
// which tx holds: a write through the database handle instead would wait
// for it until the request's context ends.)
//
// An error that is a *tcerr.Error, such as one wrapping ErrOutOfStock when
// the host's own stock check under its lock finds too little, reaches the
// buyer as it is (409 out_of_stock); any other error is ErrOrderNotPlaced
// (503, "try again"). Either way the transaction is rolled back.
type OrderPlacer interface {
	PlaceOrder(ctx context.Context, tx *sql.Tx, o NewOrder) (PlacedOrder, error)
}

// NewOrder is what the host is asked to create. Prices come from the
// Catalog, never from the request.
type NewOrder struct {
	// HostCustomerID is the host's customer id, 0 when the buyer has none.
	HostCustomerID int64
	TelegramUserID int64
	Items          []OrderItem
	// Total is the sum of the items' totals in minor units (kopecks).
	Total    int64
	Currency string
	// The predefined checkout fields, mapped to the host's order fields.
	Name, Phone, Email, Address string
	// Comment is the buyer's comment followed by a readable block of the
	// checkout's other fields, one "Label: value" line each in the form's
	// order ("Delivery: Courier"; labels and option labels as the form
	// states them, empty values left out), so that a shop owner sees them
	// in the host's own order screens.
	Comment string
	// Fields holds every validated checkout field, predefined or not.
	Fields map[string]any
}

// OrderItem is one line of a NewOrder.
type OrderItem struct {
	ProductID string
	Name      string
	Quantity  int
	UnitPrice int64 // minor units
	Total     int64 // UnitPrice × Quantity
}

// PlacedOrder is the host's answer: its own id of the new order.
type PlacedOrder struct {
	ID string
}

// CustomerDirectory optionally links Telegram customers to the host's
// customers by e-mail or phone, so an order from the Mini App lands on the
// account the buyer already has in the shop.
type CustomerDirectory interface {
	// FindCustomer returns the host customer id for the e-mail or phone, or
	// 0 when there is none. Either argument may be empty.
	FindCustomer(ctx context.Context, email, phone string) (int64, error)
}
