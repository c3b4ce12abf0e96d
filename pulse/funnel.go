package pulse

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/tcerr"
)

// The funnel's rollup tables (prefixed), written only by Fold.
const (
	FunnelDaysTable          = "pulse_funnel_days"
	FunnelMonthsTable        = "pulse_funnel_months"
	FunnelRevenueTable       = "pulse_funnel_revenue"
	FunnelRevenueMonthsTable = "pulse_funnel_revenue_months"
	FunnelSeenTable          = "pulse_funnel_seen"
	FunnelStateTable         = "pulse_funnel_state"
)

// Bounds of Fold and Funnel.
const (
	// FoldBatchDefault is how many events one fold transaction reads.
	FoldBatchDefault = 1000
	foldBatchMax     = 10000
	// FunnelReadFoldMax bounds the batches Funnel folds before it reads,
	// so that a read after a long pause stays quick; the scheduled fold
	// catches up on the rest.
	FunnelReadFoldMax = 20
	// FunnelDaysMax is the longest range Funnel answers.
	FunnelDaysMax = 366
	// FunnelDaysDefault is the range without from and to: the last 30
	// days, today included.
	FunnelDaysDefault = 30
	foldStateName     = "funnel"
	// seenChunk bounds the keys one first-seen lookup asks for.
	seenChunk = 200
)

// Steps of the funnel, in order, and the events they count.
const (
	StepOpen          = "open"           // WEBAPP_OPEN
	StepProductView   = "product_view"   // PRODUCT_VIEW
	StepAddToCart     = "add_to_cart"    // ADD_TO_CART
	StepCheckoutStart = "checkout_start" // CHECKOUT_START
	StepOrder         = "order"          // ORDER_CREATED
)

// funnelSteps are the steps in order; funnelEvents the event of each.
var (
	funnelSteps  = [...]string{StepOpen, StepProductView, StepAddToCart, StepCheckoutStart, StepOrder}
	funnelEvents = [...]string{EventWebAppOpen, EventProductView, EventAddToCart, EventCheckoutStart, EventOrderCreated}
)

// FunnelSteps returns the steps of the funnel in order.
func FunnelSteps() []string { return slices.Clone(funnelSteps[:]) }

// stepOf returns the funnel step index of an event name.
func stepOf(event string) (int, bool) {
	for i, e := range funnelEvents {
		if e == event {
			return i, true
		}
	}
	return 0, false
}

// dayColumns are the counters of a funnel day row: events and customers
// per step, in step order.
func dayColumns() []string {
	cols := make([]string, 0, 2*len(funnelSteps))
	for _, s := range funnelSteps {
		cols = append(cols, s+"_events", s+"_customers")
	}
	return cols
}

// DateLayout is how the funnel writes days: YYYY-MM-DD in the shop's time
// zone.
const DateLayout = "2006-01-02"

// Fold adds the events not folded yet to the funnel's rollups, in
// transactions of FoldBatch events, and marks them folded, which lets
// retention purge them. It returns how many events it folded. Folds of
// several replicas take turns on one lock row, so each event is counted
// once. Days are those of the shop's time zone when the event is folded.
func (s *Campaigns) Fold(ctx context.Context) (int64, error) {
	return s.fold(ctx, -1)
}

// fold folds up to maxBatches batches (all when negative).
func (s *Campaigns) fold(ctx context.Context, maxBatches int) (int64, error) {
	loc, err := s.cfg.Location(ctx)
	if err != nil {
		return 0, fmt.Errorf("pulse: folding the funnel: the shop's time zone: %w", err)
	}
	// A read-only look first: when nothing waits, no write transaction
	// (and on SQLite no fsync) is spent on the lock.
	var pending int
	err = s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT id FROM "+s.db.Table(OutboxTable)+
		" WHERE folded = 0 LIMIT 1) waiting").Scan(&pending)
	if err != nil {
		return 0, fmt.Errorf("pulse: folding the funnel: looking for new events: %w", err)
	}
	if pending == 0 {
		return 0, nil
	}
	var total int64
	for b := 0; maxBatches < 0 || b < maxBatches; b++ {
		var n int
		var more bool
		err = migrator.ConflictRetry{Attempts: ingestDeadlockTries}.Do(ctx, func(ctx context.Context) error {
			var err error
			n, more, err = s.foldBatch(ctx, loc)
			return err
		})
		total += int64(n)
		if err != nil {
			return total, err
		}
		if !more {
			break
		}
	}
	return total, nil
}

// foldRow is one outbox row as the fold reads it.
type foldRow struct {
	id                        int64
	event, campaign, tracking string
	occurred                  time.Time
	payload                   string
}

type (
	dayKey  struct{ campaign, day string }
	seenKey struct {
		campaign string
		step     int
		tracking string
	}
	revenueKey struct{ campaign, day, currency string }
)

// foldBatch folds one batch in one transaction; more reports a full batch.
func (s *Campaigns) foldBatch(ctx context.Context, loc *time.Location) (n int, more bool, err error) {
	d := s.db.Dialect
	b := d.Builder()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("pulse: folding the funnel: %w", err)
	}
	defer tx.Rollback()
	// The lock: a second fold waits here until this one commits, then
	// reads what is left.
	if _, err := tx.ExecContext(ctx, "UPDATE "+s.db.Table(FunnelStateTable)+" SET folded_at = ? WHERE name = ?",
		d.EncodeTime(s.cfg.Now()), foldStateName); err != nil {
		return 0, false, fmt.Errorf("pulse: folding the funnel: locking: %w", err)
	}
	outbox := s.db.Table(OutboxTable)
	q := "SELECT id, event, campaign_id, tracking_id, occurred_at, CASE WHEN event = ? THEN payload ELSE '' END FROM " +
		outbox + " WHERE folded = 0 ORDER BY id LIMIT ?"
	rows, err := tx.QueryContext(ctx, q, EventOrderCreated, s.cfg.FoldBatch)
	if err != nil {
		return 0, false, fmt.Errorf("pulse: folding the funnel: reading events: %w", err)
	}
	var batch []foldRow
	for rows.Next() {
		var r foldRow
		if err := rows.Scan(&r.id, &r.event, &r.campaign, &r.tracking, migrator.ScanTime(&r.occurred), &r.payload); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("pulse: folding the funnel: reading events: %w", err)
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("pulse: folding the funnel: reading events: %w", err)
	}
	if len(batch) == 0 {
		return 0, false, nil
	}

	days := map[dayKey]*[2 * len(funnelSteps)]int64{}
	counters := func(k dayKey) *[2 * len(funnelSteps)]int64 {
		c := days[k]
		if c == nil {
			c = new([2 * len(funnelSteps)]int64)
			days[k] = c
		}
		return c
	}
	firsts := map[seenKey]string{}
	revenue := map[revenueKey]*[2]int64{}
	ids := make([]int64, len(batch))
	for i, r := range batch {
		ids[i] = r.id
		step, ok := stepOf(r.event)
		if !ok {
			continue
		}
		day := r.occurred.In(loc).Format(DateLayout)
		counters(dayKey{r.campaign, day})[2*step]++
		sk := seenKey{r.campaign, step, r.tracking}
		if f, ok := firsts[sk]; !ok || day < f {
			firsts[sk] = day
		}
		if r.event == EventOrderCreated {
			total, currency := orderTotal(r.payload)
			rk := revenueKey{r.campaign, day, currency}
			if revenue[rk] == nil {
				revenue[rk] = new([2]int64)
			}
			revenue[rk][0]++
			revenue[rk][1] += total
		}
	}

	// First-seen: a customer new to a step of a campaign counts on the
	// day of their first such event; an event older than the stored first
	// day (folded late) moves the customer to its day.
	keys := make([]seenKey, 0, len(firsts))
	for k := range firsts {
		keys = append(keys, k)
	}
	stored, err := s.storedFirsts(ctx, tx, keys)
	if err != nil {
		return 0, false, err
	}
	seen := s.db.Table(FunnelSeenTable)
	var fresh []seenKey
	for _, k := range keys {
		day := firsts[k]
		old, ok := stored[k]
		switch {
		case !ok:
			fresh = append(fresh, k)
			counters(dayKey{k.campaign, day})[2*k.step+1]++
		case day < old:
			counters(dayKey{k.campaign, old})[2*k.step+1]--
			counters(dayKey{k.campaign, day})[2*k.step+1]++
			if _, err := tx.ExecContext(ctx, "UPDATE "+seen+" SET day = ? WHERE campaign_id = ? AND step = ? AND tracking_id = ?",
				day, k.campaign, funnelSteps[k.step], k.tracking); err != nil {
				return 0, false, fmt.Errorf("pulse: folding the funnel: moving a first day: %w", err)
			}
		}
	}
	for chunk := range slices.Chunk(fresh, seenChunk) {
		ins := b.Insert(seen).Columns("campaign_id", "step", "tracking_id", "day")
		for _, k := range chunk {
			ins = ins.Values(k.campaign, funnelSteps[k.step], k.tracking, firsts[k])
		}
		if err := execBuilt(ctx, tx, ins); err != nil {
			return 0, false, fmt.Errorf("pulse: folding the funnel: storing first days: %w", err)
		}
	}

	// The months get the same deltas as their days.
	months := make(map[dayKey]*[2 * len(funnelSteps)]int64, len(days))
	for k, v := range days {
		mk := dayKey{k.campaign, k.day[:len("2006-01")]}
		m := months[mk]
		if m == nil {
			m = new([2 * len(funnelSteps)]int64)
			months[mk] = m
		}
		for i := range v {
			m[i] += v[i]
		}
	}
	monthRevenue := make(map[revenueKey]*[2]int64, len(revenue))
	for k, v := range revenue {
		mk := revenueKey{k.campaign, k.day[:len("2006-01")], k.currency}
		m := monthRevenue[mk]
		if m == nil {
			m = new([2]int64)
			monthRevenue[mk] = m
		}
		m[0] += v[0]
		m[1] += v[1]
	}
	for _, w := range []struct {
		table, period string
		counts        map[dayKey]*[2 * len(funnelSteps)]int64
		revenue       map[revenueKey]*[2]int64
	}{
		{FunnelDaysTable, "day", days, nil},
		{FunnelMonthsTable, "month", months, nil},
		{FunnelRevenueTable, "day", nil, revenue},
		{FunnelRevenueMonthsTable, "month", nil, monthRevenue},
	} {
		if err := s.addCounts(ctx, tx, w.table, w.period, w.counts, w.revenue); err != nil {
			return 0, false, err
		}
	}
	// By id, never by range: a row in the range that committed after the
	// read above was not counted and must stay unfolded.
	for chunk := range slices.Chunk(ids, 1000) {
		if err := execBuilt(ctx, tx, b.Update(outbox).Set("folded", 1).Where(sq.Eq{"id": chunk})); err != nil {
			return 0, false, fmt.Errorf("pulse: folding the funnel: marking events folded: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE "+s.db.Table(FunnelStateTable)+" SET folded_events = folded_events + ? WHERE name = ?",
		len(batch), foldStateName); err != nil {
		return 0, false, fmt.Errorf("pulse: folding the funnel: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("pulse: folding the funnel: committing: %w", err)
	}
	return len(batch), len(batch) == s.cfg.FoldBatch, nil
}

// addCounts adds counters (or revenue, when counts is nil) to table, whose
// key is (period, campaign_id[, currency]), in the key's order: the lock
// order of every fold, so that MySQL's gap locks never cross.
func (s *Campaigns) addCounts(ctx context.Context, tx migrator.Execer, table, period string,
	counts map[dayKey]*[2 * len(funnelSteps)]int64, revenue map[revenueKey]*[2]int64) error {
	b := s.db.Dialect.Builder()
	var cols, key []string
	var rows [][]any
	if counts != nil {
		cols, key = dayColumns(), []string{period, "campaign_id"}
		for k, v := range counts {
			r := make([]any, 0, 2+len(v))
			r = append(r, k.day, k.campaign)
			for _, x := range v {
				r = append(r, x)
			}
			rows = append(rows, r)
		}
	} else {
		cols, key = []string{"orders", "revenue"}, []string{period, "campaign_id", "currency"}
		for k, v := range revenue {
			rows = append(rows, []any{k.day, k.campaign, k.currency, v[0], v[1]})
		}
	}
	slices.SortFunc(rows, func(a, b []any) int {
		for i := range key {
			if c := strings.Compare(a[i].(string), b[i].(string)); c != 0 {
				return c
			}
		}
		return 0
	})
	for chunk := range slices.Chunk(rows, 500) {
		ins := b.Insert(s.db.Table(table)).Columns(append(slices.Clone(key), cols...)...)
		for _, r := range chunk {
			ins = ins.Values(r...)
		}
		if err := execBuilt(ctx, tx, s.db.Dialect.UpsertAdd(ins, key, cols)); err != nil {
			return fmt.Errorf("pulse: folding the funnel: adding to %s: %w", table, err)
		}
	}
	return nil
}

// storedFirsts returns the stored first days of keys.
func (s *Campaigns) storedFirsts(ctx context.Context, tx migrator.Execer, keys []seenKey) (map[seenKey]string, error) {
	out := map[seenKey]string{}
	for chunk := range slices.Chunk(keys, seenChunk) {
		or := make(sq.Or, len(chunk))
		for i, k := range chunk {
			or[i] = sq.Eq{"campaign_id": k.campaign, "step": funnelSteps[k.step], "tracking_id": k.tracking}
		}
		q, args, err := s.db.Dialect.Builder().Select("campaign_id", "step", "tracking_id", "day").
			From(s.db.Table(FunnelSeenTable)).Where(or).ToSql()
		if err != nil {
			return nil, err
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("pulse: folding the funnel: reading first days: %w", err)
		}
		for rows.Next() {
			var k seenKey
			var step, day string
			if err := rows.Scan(&k.campaign, &step, &k.tracking, &day); err != nil {
				rows.Close()
				return nil, fmt.Errorf("pulse: folding the funnel: reading first days: %w", err)
			}
			i := slices.Index(funnelSteps[:], step)
			if i < 0 {
				continue
			}
			k.step = i
			out[k] = day
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("pulse: folding the funnel: reading first days: %w", err)
		}
	}
	return out, nil
}

// orderTotal reads an ORDER_CREATED payload's total (minor units) and
// currency; a payload without a whole total counts 0.
func orderTotal(payload string) (int64, string) {
	var p struct {
		Total    json.Number `json:"total"`
		Currency string      `json:"currency"`
	}
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		return 0, ""
	}
	total, err := strconv.ParseInt(string(p.Total), 10, 64)
	if err != nil {
		total = 0
	}
	cur := strings.ToUpper(strings.TrimSpace(p.Currency))
	if len(cur) > 8 || !isIDChars(cur) {
		cur = ""
	}
	return total, cur
}

// FunnelStepCount is one step of a campaign's funnel over a range.
type FunnelStepCount struct {
	Step   string `json:"step"`
	Events int64  `json:"events"`
	// Customers counts distinct customers whose first event of the step
	// in this campaign falls within the range: over a campaign's whole
	// life, every customer who reached the step, each once.
	Customers int64 `json:"customers"`
	// Conversion is Customers ÷ the previous step's Customers; null for
	// the first step and after a step with no customers.
	Conversion *float64 `json:"conversion"`
}

// FunnelDay is one day of a campaign's funnel: customers per step.
type FunnelDay struct {
	Date  string           `json:"date"`
	Steps map[string]int64 `json:"steps"`
}

// FunnelRevenue is a campaign's takings in one currency.
type FunnelRevenue struct {
	Currency string `json:"currency"`
	Orders   int64  `json:"orders"`
	Revenue  int64  `json:"revenue"`
}

// CampaignFunnel is one campaign's funnel over a range.
type CampaignFunnel struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Archived bool   `json:"archived"`
	// Known is false for a campaign_id events carry that is not a saved
	// campaign (a link made outside the admin panel).
	Known bool `json:"known"`
	// Attributed counts customers this campaign brought first, within
	// the range.
	Attributed int64 `json:"attributed"`
	// Revenue is in minor units of Currency: the currency with the most
	// orders; Revenues lists every currency when there are several.
	Revenue  int64             `json:"revenue"`
	Currency string            `json:"currency"`
	Revenues []FunnelRevenue   `json:"revenues"`
	Steps    []FunnelStepCount `json:"steps"`
	Days     []FunnelDay       `json:"days"` // days with events, oldest first
}

// Funnel is the answer of GET /admin/api/campaigns/funnel.
type Funnel struct {
	From      string           `json:"from"`
	To        string           `json:"to"`
	TimeZone  string           `json:"time_zone"`
	Campaigns []CampaignFunnel `json:"campaigns"`
}

// FunnelRange parses from and to (YYYY-MM-DD, inclusive, in loc); both
// empty mean the last FunnelDaysDefault days up to today.
func FunnelRange(from, to string, now time.Time, loc *time.Location) (string, string, error) {
	if from == "" && to == "" {
		today := now.In(loc)
		return today.AddDate(0, 0, -(FunnelDaysDefault - 1)).Format(DateLayout), today.Format(DateLayout), nil
	}
	f, err := time.ParseInLocation(DateLayout, from, loc)
	if err != nil {
		return "", "", invalidFunnel("from must be a date such as 2026-12-01")
	}
	t, err := time.ParseInLocation(DateLayout, to, loc)
	if err != nil {
		return "", "", invalidFunnel("to must be a date such as 2026-12-31")
	}
	switch {
	case t.Before(f):
		return "", "", invalidFunnel("to must not be before from")
	case t.Sub(f) > (FunnelDaysMax-1)*24*time.Hour+2*time.Hour: // DST-safe
		return "", "", invalidFunnel(fmt.Sprintf("the range may span at most %d days", FunnelDaysMax))
	}
	return from, to, nil
}

func invalidFunnel(msg string) error {
	return tcerr.Invalidf("%s", msg)
}

// execBuilt runs a built statement through exec.
func execBuilt(ctx context.Context, exec migrator.Execer, b sq.Sqlizer) error {
	q, args, err := b.ToSql()
	if err != nil {
		return err
	}
	_, err = exec.ExecContext(ctx, q, args...)
	return err
}

// FunnelQuery is what FunnelOf answers.
type FunnelQuery struct {
	// From and To are days (YYYY-MM-DD, inclusive, in the shop's time
	// zone); both empty mean the last FunnelDaysDefault days.
	From, To string
	// Days fills each campaign's per-day series, which reads a row per
	// campaign and active day; without it Days is empty and the read is
	// the rollup's sums, a row per campaign.
	Days bool
	// Campaign limits the answer to one campaign id; "" answers all.
	Campaign string
}

// Funnel is FunnelOf with the per-day series of every campaign, the full
// answer of GET /admin/api/campaigns/funnel.
func (s *Campaigns) Funnel(ctx context.Context, from, to string) (Funnel, error) {
	return s.FunnelOf(ctx, FunnelQuery{From: from, To: to, Days: true})
}

// FunnelOf folds what is new (up to FunnelReadFoldMax batches), then
// answers the funnel of every campaign (or of q.Campaign) from the rollups
// for q's days. Saved campaigns come first, newest first, then
// campaign_ids without a saved campaign that have events in the range.
func (s *Campaigns) FunnelOf(ctx context.Context, q FunnelQuery) (Funnel, error) {
	loc, err := s.cfg.Location(ctx)
	if err != nil {
		return Funnel{}, fmt.Errorf("pulse: funnel: the shop's time zone: %w", err)
	}
	from, to, err := FunnelRange(q.From, q.To, s.cfg.Now(), loc)
	if err != nil {
		return Funnel{}, err
	}
	if _, err := s.fold(ctx, FunnelReadFoldMax); err != nil {
		return Funnel{}, err
	}
	out := Funnel{From: from, To: to, TimeZone: loc.String(), Campaigns: []CampaignFunnel{}}
	byID := map[string]*CampaignFunnel{}
	var order []string
	add := func(id string) *CampaignFunnel {
		if c := byID[id]; c != nil {
			return c
		}
		c := &CampaignFunnel{ID: id, Revenues: []FunnelRevenue{}, Days: []FunnelDay{}}
		byID[id] = c
		order = append(order, id)
		return c
	}
	saved, err := s.List(ctx)
	if err != nil {
		return Funnel{}, err
	}
	known := 0
	for _, c := range saved {
		if q.Campaign != "" && c.ID != q.Campaign {
			continue
		}
		f := add(c.ID)
		f.Name, f.Archived, f.Known = c.Name, c.Archived, true
		known++
	}
	inRange := sq.And{sq.GtOrEq{"day": from}, sq.LtOrEq{"day": to}}
	if q.Campaign != "" {
		inRange = append(inRange, sq.Eq{"campaign_id": q.Campaign})
	}
	totals := map[string]*[2 * len(funnelSteps)]int64{}
	var unknown []string
	parts := funnelParts(from, to, q.Campaign)
	for _, p := range parts {
		table := FunnelDaysTable
		if p.months {
			table = FunnelMonthsTable
		}
		if err := s.sumCounts(ctx, table, p.where, func(id string, v *[2 * len(funnelSteps)]int64) {
			if byID[id] == nil {
				add(id)
				unknown = append(unknown, id)
			}
			if t := totals[id]; t != nil {
				for i := range v {
					t[i] += v[i]
				}
			} else {
				totals[id] = v
			}
		}); err != nil {
			return Funnel{}, err
		}
	}
	if q.Days {
		if err := s.readDays(ctx, inRange, byID); err != nil {
			return Funnel{}, err
		}
	}
	if err := s.addRevenue(ctx, parts, byID); err != nil {
		return Funnel{}, err
	}
	if s.cfg.Attribution != nil {
		f, _ := time.ParseInLocation(DateLayout, from, loc)
		t, _ := time.ParseInLocation(DateLayout, to, loc)
		counts, err := s.cfg.Attribution.CountFirstCampaigns(ctx, f.UTC(), t.AddDate(0, 0, 1).UTC())
		if err != nil {
			return Funnel{}, fmt.Errorf("pulse: funnel: counting attributed customers: %w", err)
		}
		for id, n := range counts {
			if c := byID[id]; c != nil {
				c.Attributed = n
			}
		}
	}
	slices.Sort(unknown)
	for _, id := range append(slices.Clone(order[:known]), unknown...) {
		c := byID[id]
		t := totals[id]
		if t == nil {
			t = new([2 * len(funnelSteps)]int64)
		}
		c.Steps = make([]FunnelStepCount, len(funnelSteps))
		for i, st := range funnelSteps {
			c.Steps[i] = FunnelStepCount{Step: st, Events: t[2*i], Customers: t[2*i+1]}
			if i > 0 && t[2*i-1] > 0 {
				r := float64(t[2*i+1]) / float64(t[2*i-1])
				c.Steps[i].Conversion = &r
			}
		}
		out.Campaigns = append(out.Campaigns, *c)
	}
	return out, nil
}

// sumCounts sums the rows of table (days or months) in where per
// campaign, in the database: one row per campaign comes back.
func (s *Campaigns) sumCounts(ctx context.Context, table string, where sq.Sqlizer, each func(string, *[2 * len(funnelSteps)]int64)) error {
	cols := dayColumns()
	sel := make([]string, 0, 1+len(cols))
	sel = append(sel, "campaign_id")
	for _, c := range cols {
		sel = append(sel, "SUM("+c+")")
	}
	q, args, err := s.db.Dialect.Builder().Select(sel...).From(s.db.Table(table)).
		Where(where).GroupBy("campaign_id").ToSql()
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("pulse: funnel: summing days: %w", err)
	}
	defer rows.Close()
	var id string
	for rows.Next() {
		v := new([2 * len(funnelSteps)]int64)
		dest := make([]any, 1+len(v))
		dest[0] = &id
		for i := range v {
			dest[1+i] = &v[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("pulse: funnel: summing days: %w", err)
		}
		each(id, v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pulse: funnel: summing days: %w", err)
	}
	return nil
}

// readDays adds each campaign's days with customers per step.
func (s *Campaigns) readDays(ctx context.Context, where sq.Sqlizer, byID map[string]*CampaignFunnel) error {
	sel := []string{"campaign_id", "day"}
	for _, st := range funnelSteps {
		sel = append(sel, st+"_customers")
	}
	q, args, err := s.db.Dialect.Builder().Select(sel...).From(s.db.Table(FunnelDaysTable)).
		Where(where).OrderBy("campaign_id", "day").ToSql()
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("pulse: funnel: reading days: %w", err)
	}
	defer rows.Close()
	var v [len(funnelSteps)]int64
	var id, day string
	dest := make([]any, 2+len(v))
	dest[0], dest[1] = &id, &day
	for i := range v {
		dest[2+i] = &v[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("pulse: funnel: reading days: %w", err)
		}
		c := byID[id]
		if c == nil {
			continue // folded after the sums were read; the next read has it
		}
		steps := make(map[string]int64, len(funnelSteps))
		for i, st := range funnelSteps {
			steps[st] = v[i]
		}
		c.Days = append(c.Days, FunnelDay{Date: day, Steps: steps})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pulse: funnel: reading days: %w", err)
	}
	return nil
}

// addRevenue sums each campaign's revenue in the range per currency.
func (s *Campaigns) addRevenue(ctx context.Context, parts []funnelPart, byID map[string]*CampaignFunnel) error {
	for _, p := range parts {
		table := FunnelRevenueTable
		if p.months {
			table = FunnelRevenueMonthsTable
		}
		if err := s.addRevenuePart(ctx, table, p.where, byID); err != nil {
			return err
		}
	}
	for _, c := range byID {
		slices.SortFunc(c.Revenues, func(a, b FunnelRevenue) int {
			if a.Orders != b.Orders {
				return int(b.Orders - a.Orders)
			}
			return strings.Compare(a.Currency, b.Currency)
		})
		if len(c.Revenues) > 0 {
			c.Revenue, c.Currency = c.Revenues[0].Revenue, c.Revenues[0].Currency
		}
	}
	return nil
}

// addRevenuePart adds one part's revenue per campaign and currency.
func (s *Campaigns) addRevenuePart(ctx context.Context, table string, where sq.Sqlizer, byID map[string]*CampaignFunnel) error {
	q, args, err := s.db.Dialect.Builder().Select("campaign_id", "currency", "SUM(orders)", "SUM(revenue)").
		From(s.db.Table(table)).Where(where).GroupBy("campaign_id", "currency").ToSql()
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("pulse: funnel: reading revenue: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var r FunnelRevenue
		if err := rows.Scan(&id, &r.Currency, &r.Orders, &r.Revenue); err != nil {
			return fmt.Errorf("pulse: funnel: reading revenue: %w", err)
		}
		c := byID[id]
		if c == nil {
			continue
		}
		if i := slices.IndexFunc(c.Revenues, func(x FunnelRevenue) bool { return x.Currency == r.Currency }); i >= 0 {
			c.Revenues[i].Orders += r.Orders
			c.Revenues[i].Revenue += r.Revenue
		} else {
			c.Revenues = append(c.Revenues, r)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pulse: funnel: reading revenue: %w", err)
	}
	return nil
}

// funnelPart is a piece of a range: whole months from the month tables,
// or the ragged ends from the day tables.
type funnelPart struct {
	months bool
	where  sq.Sqlizer
}

// funnelParts splits the days from to to (inclusive) into whole months
// and the days around them, each limited to campaign when it is not "".
func funnelParts(from, to, campaign string) []funnelPart {
	f, _ := time.Parse(DateLayout, from)
	t, _ := time.Parse(DateLayout, to)
	first := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, time.UTC) // the first whole month
	if f.Day() != 1 {
		first = first.AddDate(0, 1, 0)
	}
	end := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) // the month after the last whole one
	if t.AddDate(0, 0, 1).Month() != t.Month() {
		end = end.AddDate(0, 1, 0)
	}
	only := func(w sq.And) sq.And {
		if campaign != "" {
			w = append(w, sq.Eq{"campaign_id": campaign})
		}
		return w
	}
	if !first.Before(end) {
		return []funnelPart{{where: only(sq.And{sq.GtOrEq{"day": from}, sq.LtOrEq{"day": to}})}}
	}
	const monthLayout = "2006-01"
	parts := []funnelPart{{months: true, where: only(sq.And{
		sq.GtOrEq{"month": first.Format(monthLayout)}, sq.Lt{"month": end.Format(monthLayout)}})}}
	if from < first.Format(DateLayout) {
		parts = append(parts, funnelPart{where: only(sq.And{sq.GtOrEq{"day": from}, sq.Lt{"day": first.Format(DateLayout)}})})
	}
	if to >= end.Format(DateLayout) {
		parts = append(parts, funnelPart{where: only(sq.And{sq.GtOrEq{"day": end.Format(DateLayout)}, sq.LtOrEq{"day": to}})})
	}
	return parts
}

// FoldedEvents returns how many events the funnel has folded since the
// rollups were made.
func (s *Campaigns) FoldedEvents(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT folded_events FROM "+s.db.Table(FunnelStateTable)+" WHERE name = ?", foldStateName).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pulse: reading the funnel's state: %w", err)
	}
	return n, nil
}
