package telecart

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/tcerr"
	"github.com/telecart-go/telecart/telegram"
)

// Dashboard is the shop at a glance. Money is in minor units (kopecks) and
// summed by the database as integers, never as floats.
type Dashboard struct {
	OrdersCount      int64              `json:"orders_count"`
	Revenue          int64              `json:"revenue"`
	RevenueFormatted string             `json:"revenue_formatted"`
	Currency         string             `json:"currency"`
	Revenues         []Revenue          `json:"revenues"` // one per currency, when the shop has several
	CustomersCount   int64              `json:"customers_count"`
	Pulse            pulse.Stats        `json:"pulse"`
	Hourly           []pulse.HourBucket `json:"hourly"` // events sent and failed per hour, last 24 hours
	Daily            []DayBucket        `json:"daily"`  // orders per day in the shop's time zone, last DailyDays days
	TimeZone         string             `json:"time_zone"`
	ComputedAt       time.Time          `json:"computed_at"`
}

// DailyDays is how many days the dashboard's orders series covers, today
// included.
const DailyDays = 30

// DayBucket is one day of orders, a day of the shop's time zone.
type DayBucket struct {
	Day     string `json:"day"`     // YYYY-MM-DD
	Orders  int64  `json:"orders"`  // in every currency
	Revenue int64  `json:"revenue"` // in the dashboard's Currency, minor units
}

// Revenue is the takings in one currency.
type Revenue struct {
	Currency    string `json:"currency"`
	OrdersCount int64  `json:"orders_count"`
	Total       int64  `json:"total"`
	Formatted   string `json:"formatted"`
}

// DashboardService computes the dashboard.
type DashboardService struct {
	db        migrator.DB
	customers *telegram.CustomerStore
	stats     *pulse.StatsCache
	settings  *SettingsStore
	now       func() time.Time
}

// Dashboard computes the figures; fresh bypasses the Pulse stats cache.
func (s *DashboardService) Dashboard(ctx context.Context, fresh bool) (Dashboard, error) {
	d := Dashboard{Currency: "RUB", ComputedAt: s.now().UTC()}
	rows, err := s.db.QueryContext(ctx, "SELECT currency, COUNT(*), COALESCE(SUM(total), 0) FROM "+
		s.db.Table(OrderMetaTable)+" GROUP BY currency")
	if err != nil {
		return d, fmt.Errorf("telecart: summing orders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Revenue
		if err := rows.Scan(&r.Currency, &r.OrdersCount, &r.Total); err != nil {
			return d, fmt.Errorf("telecart: summing orders: %w", err)
		}
		r.Formatted = FormatPrice(r.Total, r.Currency)
		d.Revenues = append(d.Revenues, r)
		d.OrdersCount += r.OrdersCount
	}
	if err := rows.Err(); err != nil {
		return d, fmt.Errorf("telecart: summing orders: %w", err)
	}
	// The headline revenue is in roubles, or in the busiest currency when
	// the shop sells in no roubles.
	sort.Slice(d.Revenues, func(i, j int) bool { return d.Revenues[i].OrdersCount > d.Revenues[j].OrdersCount })
	if len(d.Revenues) > 0 {
		d.Currency = d.Revenues[0].Currency
	}
	for _, r := range d.Revenues {
		if r.Currency == "RUB" {
			d.Currency = "RUB"
		}
	}
	for _, r := range d.Revenues {
		if r.Currency == d.Currency {
			d.Revenue = r.Total
		}
	}
	if d.Revenues == nil {
		d.Revenues = []Revenue{}
	}
	d.RevenueFormatted = FormatPrice(d.Revenue, d.Currency)
	if d.CustomersCount, err = s.customers.Count(ctx); err != nil {
		return d, err
	}
	if d.Pulse, err = s.stats.Stats(ctx, fresh); err != nil {
		return d, err
	}
	if d.Hourly, err = s.stats.Hourly(ctx, d.ComputedAt.Add(-23*time.Hour)); err != nil {
		return d, err
	}
	st, err := s.settings.Get(ctx)
	if err != nil {
		return d, err
	}
	d.TimeZone = st.TimeZone
	if d.Daily, err = s.daily(ctx, d.ComputedAt, st.TimeZone, d.Currency); err != nil {
		return d, err
	}
	return d, nil
}

// daily counts the orders of the last DailyDays days of the shop's time
// zone, and their revenue in currency. The database groups them by UTC
// hour (neither engine converts time zones without its own tables), and
// each hour goes to the local day it starts in: exact for the zones whose
// offset is whole hours, and within the hour for the few that are not.
func (s *DashboardService) daily(ctx context.Context, now time.Time, tz, currency string) ([]DayBucket, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		loc = time.UTC
	}
	local := now.In(loc)
	first := time.Date(local.Year(), local.Month(), local.Day()-(DailyDays-1), 0, 0, 0, 0, loc)
	days := make([]DayBucket, DailyDays)
	index := make(map[string]int, DailyDays)
	for i := range days {
		days[i].Day = first.AddDate(0, 0, i).Format(time.DateOnly)
		index[days[i].Day] = i
	}
	d := s.db.Dialect
	hour := "substr(created_at, 1, 13)"
	if d == migrator.MySQL {
		hour = "DATE_FORMAT(created_at, '%Y-%m-%d %H')"
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+hour+", currency, COUNT(*), COALESCE(SUM(total), 0) FROM "+
		s.db.Table(OrderMetaTable)+" WHERE created_at >= ? GROUP BY "+hour+", currency",
		d.EncodeTime(first.UTC().Truncate(time.Hour)))
	if err != nil {
		return nil, fmt.Errorf("telecart: counting orders per day: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			label, cur    string
			orders, total int64
		)
		if err := rows.Scan(&label, &cur, &orders, &total); err != nil {
			return nil, fmt.Errorf("telecart: counting orders per day: %w", err)
		}
		h, err := time.ParseInLocation("2006-01-02 15", label, time.UTC)
		if err != nil {
			return nil, fmt.Errorf("telecart: counting orders per day: unexpected hour %q", label)
		}
		i, ok := index[h.In(loc).Format(time.DateOnly)]
		if !ok {
			continue // the hour before the first day
		}
		days[i].Orders += orders
		if cur == currency {
			days[i].Revenue += total
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("telecart: counting orders per day: %w", err)
	}
	return days, nil
}

// DashboardHandler serves the dashboard.
type DashboardHandler struct {
	service *DashboardService
	logger  *slog.Logger
}

// RegisterAdminRoutes registers GET /dashboard (mounted under /admin/api).
func (h *DashboardHandler) RegisterAdminRoutes(r *mux.Router) {
	r.HandleFunc("/dashboard", h.handleGet).Methods(http.MethodGet)
}

// handleGet serves GET /admin/api/dashboard[?fresh=1].
func (h *DashboardHandler) handleGet(w http.ResponseWriter, r *http.Request) {
	fresh := r.URL.Query().Get("fresh")
	if fresh != "" && fresh != "0" && fresh != "1" && fresh != "true" && fresh != "false" {
		httpx.WriteError(w, r, h.logger, tcerr.Invalidf("fresh must be 1 or 0"))
		return
	}
	d, err := h.service.Dashboard(r.Context(), fresh == "1" || fresh == "true")
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, d)
}
