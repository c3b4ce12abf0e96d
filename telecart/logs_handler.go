package telecart

import (
	"errors"
	"log/slog"
	"net/http"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/tcerr"
)

// Limits on the logs viewer's query parameters.
const (
	logsMaxPage   = 100_000 // page
	logsMaxSearch = 200     // characters of search
)

// LogsHandler serves the admin panel's logs viewer: pages of the log file's
// parsed entries, newest first.
type LogsHandler struct {
	reader LogReader
	logger *slog.Logger
}

// NewLogsHandler returns the logs viewer's handler over the log file at
// path (and the files LogFile rotates it to), read with LogReader's
// defaults. A nil logger discards.
func NewLogsHandler(path string, logger *slog.Logger) *LogsHandler {
	if path == "" {
		panic("telecart: NewLogsHandler: path is empty")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &LogsHandler{reader: LogReader{Path: path}, logger: logger}
}

// RegisterAdminRoutes registers the logs route on r (mounted under
// /admin/api, behind the host's admin auth).
func (h *LogsHandler) RegisterAdminRoutes(r *mux.Router) {
	r.HandleFunc("/logs", h.handleList).Methods(http.MethodGet)
}

type logsMeta struct {
	Page    int  `json:"page"`
	PerPage int  `json:"per_page"`
	HasMore bool `json:"has_more"`
}

type logsAnswer struct {
	Data []LogEntry `json:"data"`
	Meta logsMeta   `json:"meta"`
}

// handleList handles GET /admin/api/logs?page=&per_page=&level=&search=.
// page defaults to 1 and per_page to 15; level keeps one level exactly
// (debug, info, warn, error or unknown); search matches the raw line,
// ignoring case. There is no total: has_more says whether an older page
// exists.
func (h *LogsHandler) handleList(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	page, err := httpx.QueryInt(qv, "page", 1, 1, logsMaxPage)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	perPage, err := httpx.QueryInt(qv, "per_page", LogPerPageDefault, 1, LogPerPageMax)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	level := qv.Get("level")
	if _, ok := logsLevelFilter(level); !ok {
		httpx.WriteError(w, r, h.logger, tcerr.Invalidf("level must be one of debug, info, warn, error, unknown"))
		return
	}
	search := qv.Get("search")
	if utf8.RuneCountInString(search) > logsMaxSearch {
		httpx.WriteError(w, r, h.logger, tcerr.Invalidf("search must be at most %d characters", logsMaxSearch))
		return
	}

	res, err := h.reader.ReadPage(r.Context(), LogQuery{Page: page, PerPage: perPage, Level: level, Search: search})
	switch {
	case err == nil:
	case errors.Is(err, ErrInvalidLogQuery):
		httpx.WriteError(w, r, h.logger, tcerr.Invalidf("%s", err.Error()))
		return
	case r.Context().Err() != nil:
		// The admin has gone: answer, but log nothing.
		httpx.WriteError(w, r, nil, &tcerr.Error{Kind: tcerr.Unavailable, Code: "canceled", Message: "The request was canceled.", Err: err})
		return
	default:
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, logsAnswer{
		Data: res.Entries,
		Meta: logsMeta{Page: res.Page, PerPage: res.PerPage, HasMore: res.HasMore},
	})
}
