package telecart

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"
	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/tcerr"
)

// Defaults and limits of the orders list.
const (
	OrdersPerPageDefault = 20
	OrdersPerPageMax     = 100
	ordersMaxPage        = 100_000
)

// OrderURLPlaceholder is what Config.OrderURL's template holds where the
// host's order id goes.
const OrderURLPlaceholder = "{id}"

// OrderQuery asks for one page of the orders placed through TeleCart,
// newest first.
type OrderQuery struct {
	// Page is 1-based. Defaults to 1.
	Page int
	// PerPage defaults to OrdersPerPageDefault, at most OrdersPerPageMax.
	PerPage int
	// CampaignID keeps the orders attributed to this campaign; "" keeps all.
	CampaignID string
	// CustomerID keeps one Telegram customer's orders (telegram.Customer.ID);
	// 0 keeps all.
	CustomerID int64
}

// OrderLine is one priced line of a listed order.
type OrderLine struct {
	ProductID string `json:"product_id"`
	Name      string `json:"name"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unit_price"` // minor units
	Total     int64  `json:"total"`
	// TotalFormatted is Total in the order's currency, as the list shows it.
	TotalFormatted string `json:"total_formatted,omitempty"`
}

func orderLines(items []OrderItem) []OrderLine {
	out := make([]OrderLine, len(items))
	for i, it := range items {
		out[i] = OrderLine{ProductID: it.ProductID, Name: it.Name, Quantity: it.Quantity, UnitPrice: it.UnitPrice, Total: it.Total}
	}
	return out
}

// OrderCustomer is who placed a listed order. An erased customer has only
// ID left.
type OrderCustomer struct {
	ID             int64  `json:"id"`
	TelegramUserID int64  `json:"telegram_user_id"`
	FirstName      string `json:"first_name"`
	LastName       string `json:"last_name"`
	Username       string `json:"username"`
}

// OrderSummary is one order of the orders list. Money is in minor units.
type OrderSummary struct {
	// ID is the host's own id of the order (PlacedOrder.ID).
	ID        string        `json:"id"`
	CreatedAt time.Time     `json:"created_at"`
	Customer  OrderCustomer `json:"customer"`
	// Items is empty for orders placed before the lines were kept.
	Items          []OrderLine `json:"items"`
	Total          int64       `json:"total"`
	TotalFormatted string      `json:"total_formatted"`
	Currency       string      `json:"currency"`
	// CampaignID is the campaign the order is attributed to, "" for none.
	CampaignID string `json:"campaign_id"`
	// Fields holds the validated checkout fields.
	Fields map[string]any `json:"fields"`
	// URL is the order in the host's own admin (Config.OrderURL), "" when
	// the host supplies no template.
	URL string `json:"url"`
}

// OrderList is a page of orders with the count of all that match.
type OrderList struct {
	Orders  []OrderSummary
	Page    int
	PerPage int
	Total   int64
}

// ListOrders returns the page of orders q asks for, newest first. A query
// out of bounds is a tcerr.Invalid error.
func (s *OrderService) ListOrders(ctx context.Context, q OrderQuery) (OrderList, error) {
	if q.Page == 0 {
		q.Page = 1
	}
	if q.PerPage == 0 {
		q.PerPage = OrdersPerPageDefault
	}
	switch {
	case q.Page < 1 || q.Page > ordersMaxPage:
		return OrderList{}, tcerr.Invalidf("page must be from 1 to %d", ordersMaxPage)
	case q.PerPage < 1 || q.PerPage > OrdersPerPageMax:
		return OrderList{}, tcerr.Invalidf("per_page must be from 1 to %d", OrdersPerPageMax)
	case q.CampaignID != "" && !pulse.ValidCampaignID(q.CampaignID):
		return OrderList{}, tcerr.Invalidf("campaign_id must be 1 to 32 characters of [A-Za-z0-9_-]")
	case q.CustomerID < 0:
		return OrderList{}, tcerr.Invalidf("customer_id must be a positive whole number")
	}
	where := sq.And{}
	if q.CampaignID != "" {
		where = append(where, sq.Eq{"campaign_id": q.CampaignID})
	}
	if q.CustomerID != 0 {
		where = append(where, sq.Eq{"customer_id": q.CustomerID})
	}
	table := s.db.Table(OrderMetaTable)
	b := s.db.Dialect.Builder()
	list := OrderList{Orders: []OrderSummary{}, Page: q.Page, PerPage: q.PerPage}

	cq, args, err := b.Select("COUNT(*)").From(table).Where(where).ToSql()
	if err != nil {
		return list, err
	}
	if err := s.db.QueryRowContext(ctx, cq, args...).Scan(&list.Total); err != nil {
		return list, fmt.Errorf("telecart: counting orders: %w", err)
	}
	if int64(q.Page-1)*int64(q.PerPage) >= list.Total {
		return list, nil
	}
	sel, args, err := b.Select("host_order_id", "customer_id", "campaign_id", "fields", "items", "total", "currency", "created_at").
		From(table).Where(where).OrderBy("created_at DESC", "id DESC").
		Limit(uint64(q.PerPage)).Offset(uint64((q.Page - 1) * q.PerPage)).ToSql()
	if err != nil {
		return list, err
	}
	rows, err := s.db.QueryContext(ctx, sel, args...)
	if err != nil {
		return list, fmt.Errorf("telecart: listing orders: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var (
			o      OrderSummary
			fields string
			items  sql.NullString
		)
		if err := rows.Scan(&o.ID, &o.Customer.ID, &o.CampaignID, &fields, &items, &o.Total, &o.Currency,
			migrator.ScanTime(&o.CreatedAt)); err != nil {
			return list, fmt.Errorf("telecart: listing orders: %w", err)
		}
		o.TotalFormatted = FormatPrice(o.Total, o.Currency)
		o.URL = s.orderURL(o.ID)
		o.Fields, o.Items = decodeOrderFields(fields), decodeOrderLines(items.String)
		for i := range o.Items {
			o.Items[i].TotalFormatted = FormatPrice(o.Items[i].Total, o.Currency)
		}
		list.Orders = append(list.Orders, o)
		ids = append(ids, o.Customer.ID)
	}
	if err := rows.Err(); err != nil {
		return list, fmt.Errorf("telecart: listing orders: %w", err)
	}
	customers, err := s.customers.GetMany(ctx, ids)
	if err != nil {
		return list, err
	}
	for i := range list.Orders {
		if c, ok := customers[list.Orders[i].Customer.ID]; ok {
			list.Orders[i].Customer = OrderCustomer{ID: c.ID, TelegramUserID: c.TelegramUserID,
				FirstName: c.FirstName, LastName: c.LastName, Username: c.Username}
		}
	}
	return list, nil
}

// decodeOrderFields reads the "fields" of the stored fields column; a row
// that does not decode lists no fields rather than failing the page.
func decodeOrderFields(s string) map[string]any {
	var stored struct {
		Fields map[string]any `json:"fields"`
	}
	if json.Unmarshal([]byte(s), &stored) != nil || stored.Fields == nil {
		return map[string]any{}
	}
	return stored.Fields
}

func decodeOrderLines(s string) []OrderLine {
	var lines []OrderLine
	if s == "" || json.Unmarshal([]byte(s), &lines) != nil || lines == nil {
		return []OrderLine{}
	}
	return lines
}

// orderURL fills the host's template with the order id, "" without one.
func (s *OrderService) orderURL(id string) string {
	if s.orderURLTemplate == "" || id == "" {
		return ""
	}
	return strings.ReplaceAll(s.orderURLTemplate, OrderURLPlaceholder, escapeURLComponent(id))
}

// escapeURLComponent percent-encodes every byte but RFC 3986's unreserved
// ones, so an id is one opaque piece in a path or in a query alike.
func escapeURLComponent(s string) string {
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// validateOrderURL checks Config.OrderURL: an http(s) URL or a path from
// the site's root, holding {id}. Anything else (a javascript: link, a
// relative path that would resolve against the admin page) is refused.
func validateOrderURL(tpl string) error {
	if tpl == "" {
		return nil
	}
	if !strings.Contains(tpl, OrderURLPlaceholder) {
		return fmt.Errorf("telecart: Config.OrderURL %q has no %s; write where the order id goes, e.g. https://shop.example/admin/orders/{id}", tpl, OrderURLPlaceholder)
	}
	u, err := url.Parse(strings.ReplaceAll(tpl, OrderURLPlaceholder, "1"))
	if err != nil {
		return fmt.Errorf("telecart: Config.OrderURL: %w", err)
	}
	switch {
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host == "" {
			return fmt.Errorf("telecart: Config.OrderURL %q has no host", tpl)
		}
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(tpl, "/") && !strings.HasPrefix(tpl, "//"):
	default:
		return fmt.Errorf("telecart: Config.OrderURL %q must be an http or https URL or a path starting with /", tpl)
	}
	return nil
}

// RegisterAdminRoutes registers GET /orders (mounted under /admin/api).
func (h *OrdersHandler) RegisterAdminRoutes(r *mux.Router) {
	r.HandleFunc("/orders", h.handleList).Methods(http.MethodGet)
}

type ordersMeta struct {
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
	Total   int64 `json:"total"`
	Pages   int64 `json:"pages"`
}

type ordersAnswer struct {
	Data []OrderSummary `json:"data"`
	Meta ordersMeta     `json:"meta"`
}

// handleList serves GET /admin/api/orders?page=&per_page=&campaign_id=&customer_id=.
func (h *OrdersHandler) handleList(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	var q OrderQuery
	var err error
	if q.Page, err = httpx.QueryInt(qv, "page", 1, 1, ordersMaxPage); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if q.PerPage, err = httpx.QueryInt(qv, "per_page", OrdersPerPageDefault, 1, OrdersPerPageMax); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if vs := qv["campaign_id"]; len(vs) > 1 {
		httpx.WriteError(w, r, h.logger, tcerr.Invalidf("campaign_id is given more than once"))
		return
	} else if len(vs) == 1 {
		q.CampaignID = strings.TrimSpace(vs[0])
	}
	if vs := qv["customer_id"]; len(vs) > 1 {
		httpx.WriteError(w, r, h.logger, tcerr.Invalidf("customer_id is given more than once"))
		return
	} else if len(vs) == 1 && strings.TrimSpace(vs[0]) != "" {
		id, err := strconv.ParseInt(strings.TrimSpace(vs[0]), 10, 64)
		if err != nil || id < 1 {
			httpx.WriteError(w, r, h.logger, tcerr.Invalidf("customer_id must be a positive whole number, got %.40q", vs[0]))
			return
		}
		q.CustomerID = id
	}
	list, err := h.service.ListOrders(r.Context(), q)
	var te *tcerr.Error
	if err != nil && !errors.As(err, &te) && r.Context().Err() != nil {
		httpx.WriteError(w, r, nil, &tcerr.Error{Kind: tcerr.Unavailable, Code: "canceled", Message: "The request was canceled.", Err: err})
		return
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, ordersAnswer{Data: list.Orders, Meta: ordersMeta{
		Page: list.Page, PerPage: list.PerPage, Total: list.Total,
		Pages: (list.Total + int64(list.PerPage) - 1) / int64(list.PerPage),
	}})
}
