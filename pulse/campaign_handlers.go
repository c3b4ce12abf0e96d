package pulse

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/tcerr"
)

// campaignBodyMax bounds a campaign's JSON body.
const campaignBodyMax = 16 << 10

// CampaignsHandlerConfig configures a CampaignsHandler.
type CampaignsHandlerConfig struct {
	Campaigns *Campaigns // required
	Logger    *slog.Logger
}

// CampaignsHandler serves the admin's campaign routes.
type CampaignsHandler struct {
	c      *Campaigns
	logger *slog.Logger
}

// NewCampaignsHandler returns the handler of cfg.Campaigns.
func NewCampaignsHandler(cfg CampaignsHandlerConfig) (*CampaignsHandler, error) {
	if cfg.Campaigns == nil {
		return nil, errors.New("pulse: NewCampaignsHandler: Campaigns is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &CampaignsHandler{c: cfg.Campaigns, logger: cfg.Logger}, nil
}

// RegisterAdminRoutes registers the campaign routes on r, which the host
// mounts under /admin/api behind its admin authentication. The funnel's
// paths come first: "funnel" is not a campaign id (Create refuses it).
func (h *CampaignsHandler) RegisterAdminRoutes(r *mux.Router) {
	r.HandleFunc("/campaigns/funnel", h.handleFunnel).Methods(http.MethodGet)
	r.HandleFunc("/campaigns/funnel.csv", h.handleFunnelCSV).Methods(http.MethodGet)
	r.HandleFunc("/campaigns", h.handleList).Methods(http.MethodGet)
	r.HandleFunc("/campaigns", h.handleCreate).Methods(http.MethodPost)
	r.HandleFunc("/campaigns/{id}", h.handleGet).Methods(http.MethodGet)
	r.HandleFunc("/campaigns/{id}", h.handleUpdate).Methods(http.MethodPut)
	r.HandleFunc("/campaigns/{id}", h.handleArchive).Methods(http.MethodDelete)
	r.HandleFunc("/campaigns/{id}/links", h.handleLinks).Methods(http.MethodGet)
	r.HandleFunc("/campaigns/{id}/qr.png", h.handleQR).Methods(http.MethodGet)
	r.HandleFunc("/campaigns/{id}/qr.svg", h.handleQR).Methods(http.MethodGet)
}

// Handler returns the routes as an http.Handler, for hosts not on
// gorilla/mux; mount it with http.StripPrefix.
func (h *CampaignsHandler) Handler() http.Handler {
	r := mux.NewRouter()
	h.RegisterAdminRoutes(r)
	return r
}

// campaignBody is what POST and PUT take.
type campaignBody struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Source   string `json:"source"`
	Medium   string `json:"medium"`
	Content  string `json:"content"`
	Notes    string `json:"notes"`
	Archived bool   `json:"archived"`
}

func (b campaignBody) campaign() Campaign {
	return Campaign{ID: b.ID, Name: b.Name, Source: b.Source, Medium: b.Medium, Content: b.Content, Notes: b.Notes, Archived: b.Archived}
}

// handleList handles GET /admin/api/campaigns.
func (h *CampaignsHandler) handleList(w http.ResponseWriter, r *http.Request) {
	list, err := h.c.List(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"data": list})
}

// handleCreate handles POST /admin/api/campaigns.
func (h *CampaignsHandler) handleCreate(w http.ResponseWriter, r *http.Request) {
	var b campaignBody
	if err := httpx.DecodeJSON(w, r, &b, campaignBodyMax); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	c, err := h.c.Create(r.Context(), b.campaign())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, c)
}

// handleGet handles GET /admin/api/campaigns/{id}.
func (h *CampaignsHandler) handleGet(w http.ResponseWriter, r *http.Request) {
	c, err := h.c.Get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, c)
}

// handleUpdate handles PUT /admin/api/campaigns/{id}; the body's id, when
// given, must be the path's (an id never changes: links carry it).
func (h *CampaignsHandler) handleUpdate(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	var b campaignBody
	if err := httpx.DecodeJSON(w, r, &b, campaignBodyMax); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if b.ID != "" && b.ID != id {
		httpx.WriteError(w, r, h.logger, tcerr.Fields("The campaign is invalid.",
			map[string]string{"id": "An id cannot change: links already shared carry it."}))
		return
	}
	b.ID = id
	c, err := h.c.Update(r.Context(), b.campaign())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

// handleArchive handles DELETE /admin/api/campaigns/{id}: it archives.
func (h *CampaignsHandler) handleArchive(w http.ResponseWriter, r *http.Request) {
	c, err := h.c.Archive(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

// handleLinks handles GET /admin/api/campaigns/{id}/links.
func (h *CampaignsHandler) handleLinks(w http.ResponseWriter, r *http.Request) {
	l, err := h.c.Links(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, l)
}

// handleQR handles GET /admin/api/campaigns/{id}/qr.png and qr.svg
// [?link=startapp|start, startapp by default].
func (h *CampaignsHandler) handleQR(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	kind := r.URL.Query().Get("link")
	if kind == "" {
		kind = LinkStartApp
	}
	if kind != LinkStartApp && kind != LinkStart {
		httpx.WriteError(w, r, h.logger, tcerr.Invalidf("link must be %s or %s", LinkStartApp, LinkStart))
		return
	}
	l, err := h.c.Links(r.Context(), id)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	svg := strings.HasSuffix(r.URL.Path, ".svg")
	var body []byte
	if svg {
		body, err = QRSVG(l.URL(kind))
	} else {
		body, err = QRPNG(l.URL(kind))
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	ext, ctype := "png", "image/png"
	if svg {
		ext, ctype = "svg", "image/svg+xml"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// The id is [A-Za-z0-9_-]: safe in a quoted file name.
	w.Header().Set("Content-Disposition", `inline; filename="campaign-`+id+"-"+kind+"."+ext+`"`)
	_, _ = w.Write(body)
}

// handleFunnel handles GET /admin/api/campaigns/funnel?from=&to=
// [&days=0][&campaign=]: days=0 leaves out the per-day series, campaign
// answers one campaign.
func (h *CampaignsHandler) handleFunnel(w http.ResponseWriter, r *http.Request) {
	f, err := h.funnel(r.Context(), r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, f)
}

func (h *CampaignsHandler) funnel(ctx context.Context, r *http.Request) (Funnel, error) {
	fq, err := funnelQuery(r)
	if err != nil {
		return Funnel{}, err
	}
	return h.c.FunnelOf(ctx, fq)
}

// funnelQuery reads the funnel routes' query.
func funnelQuery(r *http.Request) (FunnelQuery, error) {
	q := r.URL.Query()
	for _, k := range []string{"from", "to", "days", "campaign"} {
		if len(q[k]) > 1 {
			return FunnelQuery{}, tcerr.Invalidf("%s is given more than once", k)
		}
	}
	if (q.Get("from") == "") != (q.Get("to") == "") {
		return FunnelQuery{}, tcerr.Invalidf("give both from and to, or neither for the last %d days", FunnelDaysDefault)
	}
	fq := FunnelQuery{From: q.Get("from"), To: q.Get("to"), Days: true, Campaign: q.Get("campaign")}
	switch q.Get("days") {
	case "", "1", "true":
	case "0", "false":
		fq.Days = false
	default:
		return FunnelQuery{}, tcerr.Invalidf("days must be 1 (with the per-day series, the default) or 0 (without)")
	}
	if _, ok := q["campaign"]; ok && !validID(fq.Campaign, CampaignIDMaxLen) {
		return FunnelQuery{}, tcerr.Invalidf("campaign must be a campaign id: 1 to %d characters of A-Z, a-z, 0-9, '_' and '-'", CampaignIDMaxLen)
	}
	return fq, nil
}

// handleFunnelCSV handles GET /admin/api/campaigns/funnel.csv?from=&to=:
// one row per campaign, revenue in major units (minor ÷ 100).
func (h *CampaignsHandler) handleFunnelCSV(w http.ResponseWriter, r *http.Request) {
	fq, err := funnelQuery(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	fq.Days = false // the CSV has the sums only
	f, err := h.c.FunnelOf(r.Context(), fq)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // spreadsheets then read the names as UTF-8
	cw := csv.NewWriter(&buf)
	head := []string{"id", "name", "archived", "from", "to", "attributed"}
	for _, s := range funnelSteps {
		head = append(head, s+"_customers", s+"_events", s+"_conversion")
	}
	head = append(head, "revenue", "currency")
	_ = cw.Write(head)
	for _, c := range f.Campaigns {
		row := []string{c.ID, csvText(c.Name), strconv.FormatBool(c.Archived), f.From, f.To, strconv.FormatInt(c.Attributed, 10)}
		for _, s := range c.Steps {
			conv := ""
			if s.Conversion != nil {
				conv = strconv.FormatFloat(*s.Conversion, 'f', 4, 64)
			}
			row = append(row, strconv.FormatInt(s.Customers, 10), strconv.FormatInt(s.Events, 10), conv)
		}
		row = append(row, minorToMajor(c.Revenue), c.Currency)
		_ = cw.Write(row)
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="campaigns-`+f.From+`-`+f.To+`.csv"`)
	_, _ = w.Write(buf.Bytes())
}

// csvText keeps a spreadsheet from reading a name as a formula.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// minorToMajor writes minor units as a decimal with two places.
func minorToMajor(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return sign + strconv.FormatInt(v/100, 10) + "." + strconv.FormatInt(v%100/10, 10) + strconv.FormatInt(v%10, 10)
}
