package telecart

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"
	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/forms"
	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram"
)

// OrderMetaTable holds one row per Mini App order (prefixed).
const OrderMetaTable = "order_meta"

// Limits of an order request.
const (
	OrderItemsMax    = 50
	OrderQuantityMax = 999
)

var orderKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// OrderRequest is the body of POST /api/orders.
type OrderRequest struct {
	// OrderKey is the client's id of this order (a UUID): the same key
	// again answers the order it created instead of a second one.
	OrderKey string             `json:"order_key"`
	Items    []OrderRequestItem `json:"items"`
	Fields   map[string]any     `json:"fields"`
}

// OrderRequestItem is one line of an OrderRequest.
type OrderRequestItem struct {
	ProductID string `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

// OrderResult answers an order: Total is in minor units (kopecks).
type OrderResult struct {
	OrderID        string `json:"order_id"`
	Total          int64  `json:"total"`
	TotalFormatted string `json:"total_formatted"`
	Currency       string `json:"currency"`
	// Created is false when the order_key had placed the order before.
	Created bool `json:"-"`

	metaID int64 // the order meta row of a created order, for Hooks.OrderPlaced
}

// OrderService places orders: one transaction holds the host's order, the
// order meta row, the customer's counters and the ORDER_CREATED event, so
// either all of them are stored or none.
type OrderService struct {
	db          migrator.DB
	catalog     Catalog
	placer      OrderPlacer
	directory   CustomerDirectory
	customers   *telegram.CustomerStore
	forms       *forms.Store
	pulse       *pulse.Pulse
	attribution pulse.Attribution
	now         func() time.Time
	logger      *slog.Logger
	onPlaced    func(context.Context, OrderPlaced) // after the commit
	// orderURLTemplate is Config.OrderURL, the host's link to an order.
	orderURLTemplate string
	// notify queues the order's notices in its transaction; notified wakes
	// their sender after the commit.
	notify   func(ctx context.Context, tx *sql.Tx, s Settings, orderID string, c telegram.Customer, o NewOrder, at time.Time) error
	notified func()
	settings *SettingsStore
}

// PlaceOrder validates req, prices it from the catalog and places it for the
// Telegram user of d. Errors are *tcerr.Error for the buyer's mistakes (400,
// 404, 409, 422); anything else is internal.
func (s *OrderService) PlaceOrder(ctx context.Context, d telegram.InitData, req OrderRequest) (OrderResult, error) {
	if d.User == nil {
		return OrderResult{}, ErrNoBuyer
	}
	items, err := normalizeItems(req)
	if err != nil {
		return OrderResult{}, err
	}
	customer, err := s.customers.GetByTelegramID(ctx, d.User.ID)
	if errors.Is(err, telegram.ErrCustomerNotFound) {
		customer, err = s.customers.Save(ctx, *d.User, s.now())
	}
	if err != nil {
		return OrderResult{}, fmt.Errorf("telecart: loading customer: %w", err)
	}
	// A repeated key answers the order it placed, before anything else:
	// the second tap must not fail because, say, stock ran out meanwhile.
	if res, ok, err := s.existing(ctx, d.User.ID, req.OrderKey); err != nil || ok {
		return res, err
	}
	fields, err := s.forms.ValidateSubmission(ctx, forms.CheckoutAlias, req.Fields)
	if err != nil {
		return OrderResult{}, err
	}
	checkout, err := s.forms.Get(ctx, forms.CheckoutAlias)
	if err != nil {
		return OrderResult{}, fmt.Errorf("telecart: loading the checkout form: %w", err)
	}
	order, err := s.price(ctx, items)
	if err != nil {
		return OrderResult{}, err
	}
	order.TelegramUserID = d.User.ID
	order.Fields = fields
	order.Name, order.Phone = str(fields["name"]), str(fields["phone"])
	order.Email, order.Address = str(fields["email"]), str(fields["address"])
	order.Comment = orderComment(str(fields["comment"]), checkout.Schema, fields)
	order.HostCustomerID = customer.HostCustomerID
	if order.HostCustomerID == 0 && s.directory != nil {
		if order.HostCustomerID, err = s.directory.FindCustomer(ctx, order.Email, order.Phone); err != nil {
			return OrderResult{}, fmt.Errorf("telecart: looking up host customer: %w", err)
		}
	}
	now := s.now().UTC()
	campaign := s.attribution.CampaignFor(d, customer, now)
	// The settings are read before the order's transaction: with SQLite's
	// one connection, a read inside it would wait for itself.
	var settings Settings
	if s.notify != nil {
		if settings, err = s.settings.Get(ctx); err != nil {
			return OrderResult{}, fmt.Errorf("telecart: reading the notification settings: %w", err)
		}
	}
	res, err := s.place(ctx, req.OrderKey, customer, order, campaign, now, settings)
	if err != nil {
		// A concurrent request with the same key won the unique index.
		if prev, ok, lerr := s.existing(ctx, d.User.ID, req.OrderKey); lerr == nil && ok {
			return prev, nil
		}
		return OrderResult{}, err
	}
	s.pulse.Wake()
	if s.notified != nil {
		s.notified()
	}
	if s.onPlaced != nil {
		s.onPlaced(ctx, OrderPlaced{OrderID: res.OrderID, OrderKey: req.OrderKey, MetaID: res.metaID, Order: order,
			Customer: customer, CampaignID: campaign, PlacedAt: now})
	}
	return res, nil
}

// place runs the order's transaction.
func (s *OrderService) place(ctx context.Context, key string, c telegram.Customer, o NewOrder, campaign string, now time.Time, settings Settings) (res OrderResult, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("telecart: beginning order transaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	d := s.db.Dialect
	extra := map[string]any{}
	for k, v := range o.Fields {
		if !forms.IsPredefined(k) {
			extra[k] = v
		}
	}
	fieldsJSON, err := json.Marshal(map[string]any{"fields": o.Fields, "custom": extra})
	if err != nil {
		return res, fmt.Errorf("telecart: encoding order fields: %w", err)
	}
	itemsJSON, err := json.Marshal(orderLines(o.Items))
	if err != nil {
		return res, fmt.Errorf("telecart: encoding order items: %w", err)
	}
	// The meta row goes first: its unique key stops a concurrent double tap
	// before the host is asked to place anything.
	q, args, err := d.Builder().Insert(s.db.Table(OrderMetaTable)).
		Columns("order_key", "telegram_user_id", "customer_id", "host_customer_id", "tracking_id", "campaign_id",
			"fields", "items", "total", "currency", "created_at").
		Values(key, o.TelegramUserID, c.ID, o.HostCustomerID, c.TrackingID, campaign,
			string(fieldsJSON), string(itemsJSON), o.Total, o.Currency, d.EncodeTime(now)).ToSql()
	if err != nil {
		return res, err
	}
	r, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return res, fmt.Errorf("telecart: storing order meta: %w", err)
	}
	metaID, err := r.LastInsertId()
	if err != nil {
		return res, fmt.Errorf("telecart: order meta id: %w", err)
	}
	placed, err := s.placer.PlaceOrder(ctx, tx, o)
	var verdict *tcerr.Error
	if errors.As(err, &verdict) {
		// The host's own verdict, such as ErrOutOfStock found under its
		// stock lock: the buyer hears it as it is, and nothing is stored.
		return res, err
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "telecart: the host's order placer failed", "err", err)
		return res, &tcerr.Error{Kind: tcerr.Unavailable, Code: ErrOrderNotPlaced.Code,
			Message: "The shop could not place the order; nothing was charged or stored. Try again.", Err: err}
	}
	q, args, err = d.Builder().Update(s.db.Table(OrderMetaTable)).Set("host_order_id", placed.ID).
		Where(sq.Eq{"id": metaID}).ToSql()
	if err != nil {
		return res, err
	}
	if _, err = tx.ExecContext(ctx, q, args...); err != nil {
		return res, fmt.Errorf("telecart: storing host order id: %w", err)
	}
	if err = s.customers.IncrementOrders(ctx, tx, c.ID, 1); err != nil {
		return res, err
	}
	if o.HostCustomerID != 0 && c.HostCustomerID == 0 {
		if err = s.customers.SetHostCustomerID(ctx, tx, c.ID, o.HostCustomerID); err != nil {
			return res, err
		}
	}
	items := make([]map[string]any, len(o.Items))
	for i, it := range o.Items {
		items[i] = map[string]any{"product_id": it.ProductID, "quantity": it.Quantity, "unit_price": it.UnitPrice}
	}
	if _, err = s.pulse.TrackTx(ctx, tx, pulse.Event{
		Name:           pulse.EventOrderCreated,
		IdempotencyKey: "order:" + c.TrackingID + ":" + key, // no Telegram id: the key leaves the shop
		CampaignID:     campaign,
		TrackingID:     c.TrackingID,
		OccurredAt:     now,
		Payload: map[string]any{"order_id": placed.ID, "total": o.Total, "currency": o.Currency,
			"items": items},
	}); err != nil {
		return res, fmt.Errorf("telecart: tracking ORDER_CREATED: %w", err)
	}
	if s.notify != nil {
		if err = s.notify(ctx, tx, settings, placed.ID, c, o, now); err != nil {
			return res, fmt.Errorf("telecart: queueing the order's notices: %w", err)
		}
	}
	if err = tx.Commit(); err != nil {
		return res, fmt.Errorf("telecart: committing order: %w", err)
	}
	return OrderResult{OrderID: placed.ID, Total: o.Total, TotalFormatted: FormatPrice(o.Total, o.Currency),
		Currency: o.Currency, Created: true, metaID: metaID}, nil
}

// existing answers the order an order_key placed before, if any.
func (s *OrderService) existing(ctx context.Context, tgID int64, key string) (OrderResult, bool, error) {
	q, args, err := s.db.Dialect.Builder().Select("host_order_id", "total", "currency").
		From(s.db.Table(OrderMetaTable)).Where(sq.Eq{"telegram_user_id": tgID, "order_key": key}).ToSql()
	if err != nil {
		return OrderResult{}, false, err
	}
	var res OrderResult
	err = s.db.QueryRowContext(ctx, q, args...).Scan(&res.OrderID, &res.Total, &res.Currency)
	if errors.Is(err, sql.ErrNoRows) {
		return OrderResult{}, false, nil
	}
	if err != nil {
		return OrderResult{}, false, fmt.Errorf("telecart: looking up order key: %w", err)
	}
	res.TotalFormatted = FormatPrice(res.Total, res.Currency)
	return res, true, nil
}

func invalidOrder(format string, args ...any) error {
	return tcerr.Errorf(tcerr.Invalid, ErrInvalidOrder.Code, format, args...)
}

// normalizeItems checks the request's shape and merges repeated products.
func normalizeItems(req OrderRequest) ([]OrderRequestItem, error) {
	if !orderKeyPattern.MatchString(req.OrderKey) {
		return nil, invalidOrder("order_key must be 8 to 64 characters of [A-Za-z0-9_-], such as a UUID")
	}
	if len(req.Items) == 0 || len(req.Items) > OrderItemsMax {
		return nil, invalidOrder("items must hold 1 to %d products", OrderItemsMax)
	}
	merged := map[string]int{}
	var order []string
	for i, it := range req.Items {
		if it.ProductID == "" || len(it.ProductID) > 128 {
			return nil, invalidOrder("items[%d].product_id must be 1 to 128 characters", i)
		}
		if it.Quantity < 1 || it.Quantity > OrderQuantityMax {
			return nil, invalidOrder("items[%d].quantity must be from 1 to %d", i, OrderQuantityMax)
		}
		if _, ok := merged[it.ProductID]; !ok {
			order = append(order, it.ProductID)
		}
		merged[it.ProductID] += it.Quantity
		if merged[it.ProductID] > OrderQuantityMax {
			return nil, invalidOrder("items[%d].quantity: at most %d of one product", i, OrderQuantityMax)
		}
	}
	out := make([]OrderRequestItem, len(order))
	for i, id := range order {
		out[i] = OrderRequestItem{ProductID: id, Quantity: merged[id]}
	}
	return out, nil
}

// price builds the order from the catalog's prices.
func (s *OrderService) price(ctx context.Context, items []OrderRequestItem) (NewOrder, error) {
	var o NewOrder
	for i, it := range items {
		p, err := s.catalog.Product(ctx, it.ProductID, ImageSize{})
		if errors.Is(err, ErrProductNotFound) {
			return o, &ProductError{ProductID: it.ProductID, err: &tcerr.Error{Kind: tcerr.Validation, Code: ErrUnknownProduct.Code,
				Message: fmt.Sprintf("product %q does not exist", it.ProductID), Err: err,
				Fields:  map[string]string{fmt.Sprintf("items[%d].product_id", i): "No such product."},
				Details: map[string]string{"product_id": it.ProductID}}}
		}
		if err != nil {
			return o, &tcerr.Error{Kind: tcerr.Unavailable, Code: ErrCatalogUnavailable.Code,
				Message: "The catalog is unavailable; try again.", Err: err}
		}
		if !p.InStock {
			// The details let the storefront name the product in the
			// buyer's language.
			return o, &ProductError{ProductID: it.ProductID, Name: p.Name, err: &tcerr.Error{Kind: tcerr.Conflict,
				Code: ErrOutOfStock.Code, Message: fmt.Sprintf("%s is out of stock", p.Name),
				Details: map[string]string{"product_id": it.ProductID, "product_name": p.Name}}}
		}
		cur := strings.ToUpper(p.Currency)
		if cur == "" {
			cur = "RUB"
		}
		if o.Currency == "" {
			o.Currency = cur
		} else if o.Currency != cur {
			return o, tcerr.Errorf(tcerr.Validation, ErrMixedCurrencies.Code, "products priced in %s and %s cannot be ordered together", o.Currency, cur)
		}
		if p.Price < 0 {
			return o, fmt.Errorf("telecart: catalog priced %s below zero", p.ID)
		}
		line := OrderItem{ProductID: p.ID, Name: p.Name, Quantity: it.Quantity, UnitPrice: p.Price, Total: p.Price * int64(it.Quantity)}
		o.Items = append(o.Items, line)
		o.Total += line.Total
	}
	return o, nil
}

// orderComment is the buyer's comment followed by the checkout's other
// fields as "Label: value" lines in the form's order, so the host's order
// screens show them. Labels are the form's own (its label, not a buyer's
// translation), so every order of a shop reads alike whatever the buyer's
// language; a choice shows its option's label, a ticked checkbox "✓", and
// an empty value or an unticked checkbox no line. A field the form no
// longer has (it changed after validation) follows, by name.
func orderComment(comment string, schema []forms.Node, fields map[string]any) string {
	var lines []string
	done := map[string]bool{}
	line := func(label string, n *forms.Node, v any) {
		var text string
		switch v := v.(type) {
		case nil:
		case bool:
			if v {
				text = "✓"
			}
		case string:
			text = strings.TrimSpace(v)
			if n != nil {
				for _, o := range n.Options {
					if o.Value == v && strings.TrimSpace(o.Label) != "" {
						text = strings.TrimSpace(o.Label)
						break
					}
				}
			}
		default:
			text = fmt.Sprint(v)
		}
		if text != "" {
			lines = append(lines, label+": "+text)
		}
	}
	for i := range schema {
		n := &schema[i]
		v, ok := fields[n.Name]
		if !ok || done[n.Name] || forms.IsPredefined(n.Name) {
			continue
		}
		done[n.Name] = true
		label := strings.TrimSpace(n.Label)
		if label == "" {
			label = n.Name
		}
		line(label, n, v)
	}
	var rest []string
	for k := range fields {
		if !done[k] && !forms.IsPredefined(k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		line(k, nil, fields[k])
	}
	if len(lines) == 0 {
		return comment
	}
	block := strings.Join(lines, "\n")
	if comment == "" {
		return block
	}
	return comment + "\n\n" + block
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// OrdersHandler serves the storefront's order route.
type OrdersHandler struct {
	service *OrderService
	logger  *slog.Logger
}

// RegisterStorefrontRoutes registers POST /orders (mounted under /api).
func (h *OrdersHandler) RegisterStorefrontRoutes(r *mux.Router) {
	r.HandleFunc("/orders", h.handleCreate).Methods(http.MethodPost)
}

// handleCreate serves POST /api/orders.
func (h *OrdersHandler) handleCreate(w http.ResponseWriter, r *http.Request) {
	d, ok := telegram.InitDataFrom(r.Context())
	if !ok {
		httpx.WriteError(w, r, h.logger, tcerr.Errorf(tcerr.Unauthenticated, "invalid_init_data", "init data is missing"))
		return
	}
	var req OrderRequest
	if err := httpx.DecodeJSON(w, r, &req, 0); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	res, err := h.service.PlaceOrder(r.Context(), d, req)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, res)
}
