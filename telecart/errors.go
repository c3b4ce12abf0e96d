package telecart

import (
	"github.com/telecart-go/telecart/forms"
	"github.com/telecart-go/telecart/tcerr"
)

// Errors of the order flow, as OrderService.PlaceOrder returns them. Each is
// a *tcerr.Error matched by its Code, so errors.Is(err, ErrOutOfStock) holds
// for every out-of-stock answer whatever product it names; errors.As with a
// *ProductError says which product it was, and with a *tcerr.Error gives
// the Kind, the message and per-field messages.
var (
	// ErrInvalidOrder: the request is malformed (order key, items,
	// quantities). Kind Invalid.
	ErrInvalidOrder = &tcerr.Error{Kind: tcerr.Invalid, Code: "invalid_order", Message: "invalid order request"}
	// ErrNoBuyer: the initData carries no Telegram user. Kind
	// Unauthenticated.
	ErrNoBuyer = &tcerr.Error{Kind: tcerr.Unauthenticated, Code: "invalid_init_data", Message: "init data carries no user"}
	// ErrUnknownProduct: an item names a product the catalog does not
	// have. Kind Validation; a *ProductError.
	ErrUnknownProduct = &tcerr.Error{Kind: tcerr.Validation, Code: "unknown_product", Message: "unknown product"}
	// ErrOutOfStock: a product is not in stock. Kind Conflict; a
	// *ProductError.
	ErrOutOfStock = &tcerr.Error{Kind: tcerr.Conflict, Code: "out_of_stock", Message: "out of stock"}
	// ErrMixedCurrencies: the products are priced in different currencies.
	// Kind Validation.
	ErrMixedCurrencies = &tcerr.Error{Kind: tcerr.Validation, Code: "mixed_currencies", Message: "mixed currencies"}
	// ErrCatalogUnavailable: the host's Catalog failed. Kind Unavailable;
	// the catalog's error is its cause.
	ErrCatalogUnavailable = &tcerr.Error{Kind: tcerr.Unavailable, Code: "catalog_unavailable", Message: "catalog unavailable"}
	// ErrOrderNotPlaced: the host's OrderPlacer failed and the order's
	// transaction was rolled back: nothing of it is stored. Kind
	// Unavailable; the placer's error is its cause.
	ErrOrderNotPlaced = &tcerr.Error{Kind: tcerr.Unavailable, Code: "order_not_placed", Message: "order not placed"}
	// ErrFormInvalid: the checkout fields fail the checkout form's rules.
	// Kind Validation, with a message per field. The same value as
	// forms.ErrValidation.
	ErrFormInvalid = forms.ErrValidation
)

// ProductError is an order error about one product: ErrUnknownProduct or
// ErrOutOfStock (errors.Is tells which).
type ProductError struct {
	ProductID string
	Name      string // the product's name; empty when unknown
	err       *tcerr.Error
}

func (e *ProductError) Error() string { return e.err.Error() }

// Unwrap returns the *tcerr.Error, so errors.Is matches the sentinel and
// errors.As finds the Kind and the fields.
func (e *ProductError) Unwrap() error { return e.err }
