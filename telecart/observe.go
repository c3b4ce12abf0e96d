package telecart

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// Hooks let a host observe what TeleCart does without polling: orders,
// Pulse delivery, ingest, rejected init data and HTTP requests. Every hook
// is optional.
//
// The contract: a hook is called synchronously on the goroutine that did
// the work (a request's, or the Pulse sender's), never inside a database
// transaction, possibly on several goroutines at once. The work waits for
// it, a request's answer or the sender's next batch, so a hook must return
// quickly and hand anything slow (a network call, a queue) to a goroutine
// of its own.
type Hooks struct {
	// OrderPlaced is called once for every order, after its transaction
	// committed; never for an order that rolled back, nor again when the
	// same order_key is sent once more.
	OrderPlaced func(ctx context.Context, o OrderPlaced)

	// CustomerErased is called once for every customer whose personal data
	// was erased (DELETE /admin/api/customers/{id}, or
	// CustomerStore.Erase), after the erasure committed; not again when the
	// same customer is erased once more. Its HostCustomerID lets the host
	// erase the person from its own tables, which are the host's business.
	CustomerErased func(ctx context.Context, e CustomerErased)

	// PulseDelivery is called for every batch the Pulse sender claimed,
	// after its outcome is stored (pulse.Config.OnDelivery).
	PulseDelivery func(pulse.DeliveryReport)

	// MessageDelivery is called after the outcome of every attempt to send
	// a message of the outbox is stored (sent, failed, or to be retried),
	// on the outbox's sender goroutine, outside every transaction
	// (outbox.Config.OnDelivery): it must not block.
	MessageDelivery func(outbox.Delivery)

	// PulseState is called when Pulse sending pauses because the Pulse
	// API refused the credentials, and when it resumes
	// (pulse.Config.OnStateChange).
	PulseState func(pulse.SenderState)

	// Ingest is called for every POST /api/ingest the handler answers
	// (pulse.IngestConfig.OnResult).
	Ingest func(pulse.IngestReport)

	// InitDataRejected is called for every storefront request refused for
	// its init data, with a telegram.RejectXxx reason
	// (telegram.ValidatorConfig.OnReject).
	InitDataRejected func(r *http.Request, reason string)

	// AdminAuthFailed is called for every admin API request the host's
	// AdminAuth refused (answered 401 without passing it on): a guessed
	// token or an expired session.
	AdminAuthFailed func(r *http.Request)

	// Request is called after every request TeleCart's routes answered,
	// with the route group (GroupStorefront, GroupAdmin, GroupETL,
	// GroupPages), the method, the status and how long it took.
	Request func(group, method string, status int, d time.Duration)
}

// The route groups of Hooks.Request.
const (
	GroupStorefront = "storefront" // the Mini App's API, /api
	GroupAdmin      = "admin"      // the admin API, /admin/api
	GroupETL        = "etl"        // the Pulse ETL export, /pulse/etl
	GroupPages      = "pages"      // the admin panel and the storefront pages, /admin/ and /app/
	GroupTelegram   = "telegram"   // Telegram's updates, /telegram/webhook
)

// OrderPlaced is an order whose transaction committed, for
// Hooks.OrderPlaced.
type OrderPlaced struct {
	// OrderID is the host's id of the order (PlacedOrder.ID).
	OrderID string
	// OrderKey is the client's order_key.
	OrderKey string
	// MetaID is the id of the order's row in OrderMetaTable.
	MetaID int64
	// Order is what the host was asked to create: the items priced from
	// the catalog, the Total in minor units, the Currency and the
	// checkout's Fields.
	Order NewOrder
	// Customer is the buyer as loaded before the order: its OrdersCount
	// does not count this order yet.
	Customer telegram.Customer
	// CampaignID is the campaign the order is credited to, "" when none.
	CampaignID string
	// PlacedAt is when the order was placed, in UTC.
	PlacedAt time.Time
}

// CustomerErased is an erasure that committed, for Hooks.CustomerErased. It
// carries ids only: the erased data is gone.
type CustomerErased struct {
	// CustomerID is the erased customer's id, which stays.
	CustomerID int64
	// HostCustomerID is the host shop's customer the Telegram customer was
	// linked to before the erasure, 0 when none.
	HostCustomerID int64
	// ErasedAt is when the customer was erased, in UTC.
	ErasedAt time.Time
}

// AddHooks adds h to the hooks called besides Config.Hooks, for code that
// gets the TeleCart after New: a metrics collector, say. It is safe to call
// at any time, also concurrently; a hook added after Start misses what
// happened before.
func (tc *TeleCart) AddHooks(h Hooks) {
	tc.hooksMu.Lock()
	defer tc.hooksMu.Unlock()
	var list []Hooks
	if old := tc.hooks.Load(); old != nil {
		list = append(list, *old...)
	}
	list = append(list, h)
	tc.hooks.Store(&list)
}

// hookList returns the hooks to call.
func (tc *TeleCart) hookList() []Hooks {
	if l := tc.hooks.Load(); l != nil {
		return *l
	}
	return nil
}

func (tc *TeleCart) orderPlaced(ctx context.Context, o OrderPlaced) {
	for _, h := range tc.hookList() {
		if h.OrderPlaced != nil {
			h.OrderPlaced(ctx, o)
		}
	}
}

func (tc *TeleCart) customerErased(ctx context.Context, e telegram.Erasure) {
	ev := CustomerErased{CustomerID: e.Customer.ID, HostCustomerID: e.HostCustomerID}
	if e.Customer.ErasedAt != nil {
		ev.ErasedAt = *e.Customer.ErasedAt
	}
	for _, h := range tc.hookList() {
		if h.CustomerErased != nil {
			h.CustomerErased(ctx, ev)
		}
	}
}

func (tc *TeleCart) pulseDelivery(r pulse.DeliveryReport) {
	for _, h := range tc.hookList() {
		if h.PulseDelivery != nil {
			h.PulseDelivery(r)
		}
	}
}

func (tc *TeleCart) pulseState(st pulse.SenderState) {
	for _, h := range tc.hookList() {
		if h.PulseState != nil {
			h.PulseState(st)
		}
	}
}

func (tc *TeleCart) ingested(r pulse.IngestReport) {
	for _, h := range tc.hookList() {
		if h.Ingest != nil {
			h.Ingest(r)
		}
	}
}

func (tc *TeleCart) initDataRejected(r *http.Request, reason string) {
	for _, h := range tc.hookList() {
		if h.InitDataRejected != nil {
			h.InitDataRejected(r, reason)
		}
	}
}

// guardAdmin wraps the host's AdminAuth so that its refusals are counted:
// Hooks.AdminAuthFailed for each, and a log line at most once a minute with
// how many there were, so that guessing the admin token shows without
// flooding the log.
func (tc *TeleCart) guardAdmin(auth func(http.Handler) http.Handler) mux.MiddlewareFunc {
	type passedKey struct{}
	return func(next http.Handler) http.Handler {
		guarded := auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if passed, ok := r.Context().Value(passedKey{}).(*bool); ok {
				*passed = true
			}
			next.ServeHTTP(w, r)
		}))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			passed := new(bool)
			sw := &statusWriter{ResponseWriter: w}
			guarded.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), passedKey{}, passed)))
			if !*passed && sw.statusCode() == http.StatusUnauthorized {
				tc.adminAuthFailed(r)
			}
		})
	}
}

func (tc *TeleCart) adminAuthFailed(r *http.Request) {
	n := tc.adminRefusals.Add(1)
	tc.adminRefusalLog.Do(func() {
		tc.logger.WarnContext(r.Context(), "telecart: the admin API refused requests (a wrong token or an ended session)",
			"refused_since_last_report", n-tc.adminRefusalsLogged.Swap(n), "remote", r.RemoteAddr)
	})
	for _, h := range tc.hookList() {
		if h.AdminAuthFailed != nil {
			h.AdminAuthFailed(r)
		}
	}
}

// observe is the middleware of a route group that reports each request to
// Hooks.Request.
func (tc *TeleCart) observe(group string) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hooks := tc.hookList()
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			d := time.Since(start)
			for _, h := range hooks {
				if h.Request != nil {
					h.Request(group, r.Method, sw.statusCode(), d)
				}
			}
		})
	}
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx answers are not the final status
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush keeps streaming answers streaming.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusCode is the status answered: 200 when the handler wrote nothing.
func (w *statusWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
