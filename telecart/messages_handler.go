package telecart

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram/outbox"
)

// MessagesHandler serves the admin's routes over the message outbox: the
// outbox list and retries, broadcasts, and the notification previews.
type MessagesHandler struct {
	outbox   *outbox.Outbox
	settings *SettingsStore
	logger   *slog.Logger
}

// RegisterAdminRoutes registers the routes under the admin prefix.
func (h *MessagesHandler) RegisterAdminRoutes(r *mux.Router) {
	r.HandleFunc("/messages", h.handleList).Methods(http.MethodGet)
	r.HandleFunc("/messages/retry", h.handleRetry).Methods(http.MethodPost)
	r.HandleFunc("/broadcasts", h.handleBroadcasts).Methods(http.MethodGet)
	r.HandleFunc("/broadcasts", h.handleCreateBroadcast).Methods(http.MethodPost)
	r.HandleFunc("/broadcasts/{id}", h.handleBroadcast).Methods(http.MethodGet)
	r.HandleFunc("/broadcasts/{id}/{action:start|pause|resume|cancel}", h.handleControl).Methods(http.MethodPost)
	r.HandleFunc("/notifications/preview", h.handlePreview).Methods(http.MethodPost)
}

// handleList handles GET /admin/api/messages?status=&broadcast_id=&page=&per_page=.
func (h *MessagesHandler) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, err := httpx.QueryInt(q, "page", 1, 1, 1_000_000)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	perPage, err := httpx.QueryInt(q, "per_page", 20, 1, 100)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	bid, err := httpx.QueryInt(q, "broadcast_id", 0, 0, 1<<62)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	list, err := h.outbox.List(r.Context(), outbox.ListQuery{Status: q.Get("status"), BroadcastID: int64(bid), Page: page, PerPage: perPage})
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, list)
}

// handleRetry handles POST /admin/api/messages/retry with {"ids": [..]} or
// {"all_failed": true}.
func (h *MessagesHandler) handleRetry(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IDs       []int64 `json:"ids"`
		AllFailed bool    `json:"all_failed"`
	}
	if err := httpx.DecodeJSON(w, r, &req, 0); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if len(req.IDs) == 0 && !req.AllFailed || len(req.IDs) > 1000 {
		httpx.WriteError(w, r, h.logger, tcerr.Invalidf("give ids (1 to 1000) or all_failed: true"))
		return
	}
	n, err := h.outbox.Retry(r.Context(), req.IDs)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]int64{"retried": n})
}

// handleBroadcasts handles GET /admin/api/broadcasts.
func (h *MessagesHandler) handleBroadcasts(w http.ResponseWriter, r *http.Request) {
	list, err := h.outbox.Broadcasts(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"data": list})
}

// handleCreateBroadcast handles POST /admin/api/broadcasts with {"text",
// "button_text", "filter": {"search", "filters": {column: value}}}: a
// draft with its recipients and estimated_seconds.
func (h *MessagesHandler) handleCreateBroadcast(w http.ResponseWriter, r *http.Request) {
	var d outbox.BroadcastDraft
	if err := httpx.DecodeJSON(w, r, &d, 0); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	b, err := h.outbox.CreateBroadcast(r.Context(), d)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, b)
}

func broadcastID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil || id <= 0 {
		return 0, tcerr.Invalidf("broadcast id must be a positive whole number")
	}
	return id, nil
}

// handleBroadcast handles GET /admin/api/broadcasts/{id}: its progress.
func (h *MessagesHandler) handleBroadcast(w http.ResponseWriter, r *http.Request) {
	id, err := broadcastID(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	b, err := h.outbox.Broadcast(r.Context(), id)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, b)
}

// handleControl handles POST /admin/api/broadcasts/{id}/start, …/pause,
// …/resume and …/cancel; a control the broadcast's status does not allow
// is a 409.
func (h *MessagesHandler) handleControl(w http.ResponseWriter, r *http.Request) {
	id, err := broadcastID(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	ctx := r.Context()
	var b outbox.Broadcast
	switch mux.Vars(r)["action"] {
	case "start", "resume":
		b, err = h.outbox.StartBroadcast(ctx, id)
	case "pause":
		b, err = h.outbox.PauseBroadcast(ctx, id)
	case "cancel":
		b, err = h.outbox.CancelBroadcast(ctx, id)
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, b)
}

// handlePreview handles POST /admin/api/notifications/preview with
// {"template", "kind": "owner"|"buyer", "language"}: the template (or the
// stored one for the kind and language when template is empty) filled
// with a sample order.
func (h *MessagesHandler) handlePreview(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Template string `json:"template"`
		Kind     string `json:"kind"`
		Language string `json:"language"`
	}
	if err := httpx.DecodeJSON(w, r, &req, 0); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	s, err := h.settings.Get(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	tpl := req.Template
	if tpl == "" {
		switch req.Kind {
		case "owner":
			tpl = pickTemplate(s.Notifications.Owner, DefaultOwnerTemplates, req.Language)
		case "buyer":
			tpl = pickTemplate(s.Notifications.Buyer, DefaultBuyerTemplates, req.Language)
		default:
			httpx.WriteError(w, r, h.logger, tcerr.Invalidf("kind must be owner or buyer when template is empty"))
			return
		}
	}
	n := Notifications{Owner: map[string]string{"en": tpl}}
	fields := map[string]string{}
	n.validate(fields)
	if len(fields) > 0 {
		httpx.WriteError(w, r, h.logger, tcerr.Fields("The template is invalid.", map[string]string{"template": fields["notifications.owner.en"]}))
		return
	}
	loc, _ := time.LoadLocation(s.TimeZone)
	v := sampleNotificationValues(s.ShopName, time.Now())
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"text": truncateText(RenderNotification(tpl, v, loc)), "parse_mode": "HTML"})
}
