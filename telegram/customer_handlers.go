package telegram

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/tcerr"
)

// CustomersHandler serves the customers routes: the storefront's (behind
// the init data middleware) and the admin's (behind the host's admin auth).
type CustomersHandler struct {
	store     *CustomerStore
	messenger *Messenger
	logger    *slog.Logger
}

// CustomersHandlerConfig configures a CustomersHandler.
type CustomersHandlerConfig struct {
	// Store holds the customers. Required.
	Store *CustomerStore
	// Messenger sends the admin's messages; nil when no bot is
	// configured: sending messages then answers 503.
	Messenger *Messenger
	// Logger receives internal errors. Defaults to slog.Default().
	Logger *slog.Logger
}

// NewCustomersHandler returns the handler for cfg, or an error naming the
// field to fix.
func NewCustomersHandler(cfg CustomersHandlerConfig) (*CustomersHandler, error) {
	if cfg.Store == nil {
		return nil, errors.New("telegram: CustomersHandlerConfig.Store is nil; pass the store made by NewCustomerStore")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &CustomersHandler{store: cfg.Store, messenger: cfg.Messenger, logger: cfg.Logger}, nil
}

// RegisterStorefrontRoutes registers the storefront routes on r, which the
// host mounts under its storefront prefix (/api) behind Validator.Middleware.
func (h *CustomersHandler) RegisterStorefrontRoutes(r *mux.Router) {
	r.HandleFunc("/customers", h.handleSaveCustomer).Methods(http.MethodPost)
	r.HandleFunc("/privacy-consent", h.handleGetConsent).Methods(http.MethodGet)
	r.HandleFunc("/privacy-consent", h.handlePostConsent).Methods(http.MethodPost)
}

// RegisterAdminRoutes registers the admin routes on r, which the host mounts
// under its admin prefix (/admin/api) behind its admin authentication.
func (h *CustomersHandler) RegisterAdminRoutes(r *mux.Router) {
	r.HandleFunc("/customers", h.handleList).Methods(http.MethodGet)
	r.HandleFunc("/customers/{id}", h.handleErase).Methods(http.MethodDelete)
	r.HandleFunc("/customers/{id}/messages", h.handleSendMessage).Methods(http.MethodPost)
}

// StorefrontHandler returns the storefront routes as an http.Handler, for
// hosts not on gorilla/mux; mount it with http.StripPrefix.
func (h *CustomersHandler) StorefrontHandler() http.Handler {
	r := mux.NewRouter()
	h.RegisterStorefrontRoutes(r)
	return r
}

// AdminHandler returns the admin routes as an http.Handler, for hosts not on
// gorilla/mux; mount it with http.StripPrefix.
func (h *CustomersHandler) AdminHandler() http.Handler {
	r := mux.NewRouter()
	h.RegisterAdminRoutes(r)
	return r
}

// handleSaveCustomer handles POST /api/customers: it saves the customer from
// the validated init data, never from the body, and answers it with its
// tracking_id.
func (h *CustomersHandler) handleSaveCustomer(w http.ResponseWriter, r *http.Request) {
	u, err := userFrom(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := readEmptyOrObject(w, r); err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.store.Save(r.Context(), u, h.store.Now())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

// consentAnswer is the body of both privacy-consent routes.
type consentAnswer struct {
	Consented   bool       `json:"consented"`
	ConsentedAt *time.Time `json:"consented_at"`
}

// handleGetConsent handles GET /api/privacy-consent.
func (h *CustomersHandler) handleGetConsent(w http.ResponseWriter, r *http.Request) {
	u, err := userFrom(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.store.GetByTelegramID(r.Context(), u.ID)
	if errors.Is(err, ErrCustomerNotFound) {
		httpx.WriteJSON(w, http.StatusOK, consentAnswer{})
		return
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, consentAnswer{Consented: c.Consented(), ConsentedAt: c.PrivacyConsentedAt})
}

// handlePostConsent handles POST /api/privacy-consent: it records consent,
// keeping the first time, and saves the customer first when the storefront
// has not.
func (h *CustomersHandler) handlePostConsent(w http.ResponseWriter, r *http.Request) {
	u, err := userFrom(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := readEmptyOrObject(w, r); err != nil {
		h.writeError(w, r, err)
		return
	}
	now := h.store.Now()
	c, err := h.store.Consent(r.Context(), u.ID, now)
	if errors.Is(err, ErrCustomerNotFound) {
		if _, err = h.store.Save(r.Context(), u, now); err == nil {
			c, err = h.store.Consent(r.Context(), u.ID, now)
		}
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, consentAnswer{Consented: c.Consented(), ConsentedAt: c.PrivacyConsentedAt})
}

// handleList handles GET /admin/api/customers?page=&per_page=&sort=&order=&search=&filter[column]=.
func (h *CustomersHandler) handleList(w http.ResponseWriter, r *http.Request) {
	q, err := ParseListQuery(r.URL.Query())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	list, err := h.store.List(r.Context(), q)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, list)
}

// handleErase handles DELETE /admin/api/customers/{id}: it erases the
// customer's personal data and answers {"erased": true}, again on a second
// call; an unknown id is a 404.
func (h *CustomersHandler) handleErase(w http.ResponseWriter, r *http.Request) {
	id, err := pathCustomerID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if _, err := h.store.Erase(r.Context(), id); err != nil {
		h.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]bool{"erased": true})
}

// pathCustomerID reads the {id} of a customer route.
func pathCustomerID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil || id <= 0 {
		return 0, tcerr.Invalidf("customer id must be a positive whole number")
	}
	return id, nil
}

// sendMessageRequest is the body of POST /admin/api/customers/{id}/messages.
type sendMessageRequest struct {
	Text string `json:"text"`
}

// handleSendMessage handles POST /admin/api/customers/{id}/messages with
// {"text": "..."}: with a message outbox it answers 202 with the queued
// message; otherwise {"message_id": n} once Telegram took it.
func (h *CustomersHandler) handleSendMessage(w http.ResponseWriter, r *http.Request) {
	id, err := pathCustomerID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var req sendMessageRequest
	if err := httpx.DecodeJSON(w, r, &req, 0); err != nil {
		h.writeError(w, r, err)
		return
	}
	if h.messenger == nil {
		h.writeError(w, r, tcerr.Errorf(tcerr.Unavailable, "bot_not_configured",
			"No Telegram bot is configured; set the bot token in the settings."))
		return
	}
	if h.messenger.cfg.Queue != nil {
		// The message outbox sends it in the background: 202 with the
		// queued message, whose status the messages list follows.
		q, err := h.messenger.Queue(r.Context(), id, req.Text)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		httpx.WriteJSON(w, http.StatusAccepted, q)
		return
	}
	res, err := h.messenger.Send(r.Context(), id, req.Text)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, res)
}

// userFrom returns the user of the validated init data in the request.
func userFrom(r *http.Request) (User, error) {
	d, ok := InitDataFrom(r.Context())
	if !ok {
		return User{}, &tcerr.Error{Kind: tcerr.Unauthenticated, Code: "invalid_init_data",
			Message: HeaderInitData + " header is missing"}
	}
	if d.User == nil || d.User.ID <= 0 {
		return User{}, &tcerr.Error{Kind: tcerr.Unauthenticated, Code: "invalid_init_data",
			Message: "init data has no user"}
	}
	return *d.User, nil
}

// readEmptyOrObject reads a body that must be empty or a JSON object, whose
// content is ignored: the storefront may send one, but customer data only
// ever comes from the signed init data.
func readEmptyOrObject(w http.ResponseWriter, r *http.Request) error {
	if r.Body == nil {
		return nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpx.MaxBodyDefault))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return tcerr.Errorf(tcerr.TooLarge, "body_too_large", "request body exceeds %d bytes", tooLarge.Limit)
		}
		return tcerr.Invalidf("reading the request body failed")
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && (body[0] != '{' || !json.Valid(body)) {
		return tcerr.Invalidf("request body must be empty or a JSON object")
	}
	return nil
}

// writeError is the one place where the customers' errors become statuses.
func (h *CustomersHandler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteError(w, r, h.logger, customerHTTPError(err))
}

// customerHTTPError maps the errors of the store and the Messenger to
// *tcerr.Error; others stay internal (500, logged, not shown).
func customerHTTPError(err error) error {
	var he *tcerr.Error
	if errors.As(err, &he) {
		return err
	}
	e := func(kind tcerr.Kind, code, msg string) error {
		return &tcerr.Error{Kind: kind, Code: code, Message: msg, Err: err}
	}
	const notSent = " Nothing was sent."
	switch {
	case errors.Is(err, ErrCustomerNotFound):
		return e(tcerr.NotFound, "not_found", "Customer not found.")
	case errors.Is(err, ErrCustomerErased):
		return e(tcerr.Conflict, "customer_erased", "The customer's personal data was erased; they cannot be messaged."+notSent)
	case errors.Is(err, ErrMessageEmpty):
		return &tcerr.Error{Kind: tcerr.Validation, Code: "validation_failed", Err: err,
			Message: "The message text is empty.", Fields: map[string]string{"text": "must not be empty"}}
	case errors.Is(err, ErrMessageTooLong):
		return &tcerr.Error{Kind: tcerr.Validation, Code: "validation_failed", Err: err,
			Message: "The message text is too long.", Fields: map[string]string{"text": "must be at most " + strconv.Itoa(MaxMessageLength) + " characters"}}
	case errors.Is(err, ErrBotBlocked):
		return e(tcerr.Conflict, "recipient_unreachable", "Telegram says the customer has blocked the bot; the customer is now marked unreachable.")
	case errors.Is(err, ErrUserDeactivated):
		return e(tcerr.Conflict, "recipient_unreachable", "Telegram says the customer's account is deactivated; the customer is now marked unreachable.")
	case errors.Is(err, ErrCantInitiate):
		return e(tcerr.Conflict, "recipient_unreachable", "Telegram says the customer has never started the bot, so the bot cannot write first; the customer is now marked unreachable.")
	case errors.Is(err, ErrRecipientUnreachable):
		var ue *unreachableError
		msg := "The customer is marked unreachable: they blocked the bot or cannot receive its messages."
		if errors.As(err, &ue) && ue.customer.BotBlockedAt != nil {
			msg = "The customer is marked unreachable since " + ue.customer.BotBlockedAt.Format(time.RFC3339) +
				": they blocked the bot or cannot receive its messages."
		}
		return e(tcerr.Conflict, "recipient_unreachable", msg+notSent)
	case errors.Is(err, ErrWriteNotAllowed):
		return e(tcerr.Conflict, "write_not_allowed", "The customer has not allowed the bot to write to them."+notSent)
	}
	var de *deliveryError
	if errors.As(err, &de) {
		var api *APIError
		switch {
		case errors.As(err, &api) && api.Code == http.StatusTooManyRequests:
			return e(tcerr.RateLimited, "rate_limited", "Telegram asks to slow down; try again later.")
		case errors.As(err, &api):
			return e(tcerr.Upstream, "telegram_error", "Telegram refused the message: "+api.Description)
		default:
			return e(tcerr.Upstream, "telegram_unavailable", "Telegram could not be reached; the message may not have been delivered.")
		}
	}
	return err
}
