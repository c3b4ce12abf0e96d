package telecart

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
)

// SchedulerHandler serves the scheduler's task list to the admin panel.
// Turning a task off goes through the settings (disabled_tasks), which the
// host hands to Scheduler.SetDisabled.
type SchedulerHandler struct {
	s *Scheduler
}

// SchedulerHandlerConfig configures a SchedulerHandler.
type SchedulerHandlerConfig struct {
	// Scheduler is the scheduler whose tasks are listed. Required.
	Scheduler *Scheduler
}

// NewSchedulerHandler returns the scheduler's admin handlers, or an error
// naming the field to fix.
func NewSchedulerHandler(cfg SchedulerHandlerConfig) (*SchedulerHandler, error) {
	if cfg.Scheduler == nil {
		return nil, errors.New("telecart: SchedulerHandlerConfig.Scheduler is nil; pass the scheduler made by NewScheduler")
	}
	return &SchedulerHandler{s: cfg.Scheduler}, nil
}

// RegisterAdminRoutes registers the scheduler route on r (mounted under
// /admin/api, behind the host's admin auth).
func (h *SchedulerHandler) RegisterAdminRoutes(r *mux.Router) {
	r.HandleFunc("/scheduler", h.handleList).Methods(http.MethodGet)
}

// schedulerList is the answer of GET /admin/api/scheduler.
type schedulerList struct {
	Data []TaskStatus `json:"data"`
}

// handleList handles GET /admin/api/scheduler: every task's status, sorted by
// name.
func (h *SchedulerHandler) handleList(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, schedulerList{Data: h.s.Tasks()})
}
