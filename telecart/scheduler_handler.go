package telecart

import (
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

// NewSchedulerHandler returns the scheduler's admin handlers over s.
func NewSchedulerHandler(s *Scheduler) *SchedulerHandler {
	if s == nil {
		panic("telecart: NewSchedulerHandler: scheduler is nil")
	}
	return &SchedulerHandler{s: s}
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
