package pulse_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
)

// mustFold folds every event into the campaign funnel (UTC days), as the
// retention task does first.
func mustFold(tb testing.TB, db migrator.DB) {
	tb.Helper()
	c := mustCampaigns(tb, db, pulse.CampaignsConfig{})
	if _, err := c.Fold(context.Background()); err != nil {
		tb.Fatalf("Fold: %v", err)
	}
}

// mustCampaigns returns Campaigns over db with a test bot and secret
// unless cfg says otherwise.
func mustCampaigns(tb testing.TB, db migrator.DB, cfg pulse.CampaignsConfig) *pulse.Campaigns {
	tb.Helper()
	if cfg.StartParams == nil {
		cfg.StartParams = pulse.NewStartParamSerializer("s3cret")
	}
	if cfg.Bot == nil {
		cfg.Bot = func(context.Context) (pulse.BotLink, error) { return pulse.BotLink{Username: "shop_bot"}, nil }
	}
	c, err := pulse.NewCampaigns(db, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// scenarioEvent is one event of the funnel scenario.
type scenarioEvent struct {
	name, campaign, customer string
	at                       time.Time
	total                    int64
}

// funnelCount is a campaign's expected funnel over a range, counted by
// hand from the scenario's events.
type funnelCount struct {
	events, customers [5]int64
	revenue           int64
	attributed        int64
}

var scenarioSteps = []string{pulse.EventWebAppOpen, pulse.EventProductView, pulse.EventAddToCart, pulse.EventCheckoutStart, pulse.EventOrderCreated}

// countByHand counts the scenario for the local days from..to: events on
// those days, and customers whose first event of a step in a campaign
// falls on one of them.
func countByHand(evs []scenarioEvent, firsts map[string]scenarioEvent, loc *time.Location, from, to string) map[string]*funnelCount {
	out := map[string]*funnelCount{}
	get := func(c string) *funnelCount {
		if out[c] == nil {
			out[c] = &funnelCount{}
		}
		return out[c]
	}
	in := func(t time.Time) bool {
		d := t.In(loc).Format(pulse.DateLayout)
		return d >= from && d <= to
	}
	first := map[string]time.Time{}
	for _, e := range evs {
		step := -1
		for i, s := range scenarioSteps {
			if s == e.name {
				step = i
			}
		}
		if step < 0 {
			continue
		}
		key := e.campaign + "/" + strconv.Itoa(step) + "/" + e.customer
		if f, ok := first[key]; !ok || e.at.Before(f) {
			first[key] = e.at
		}
		if in(e.at) {
			get(e.campaign).events[step]++
			if e.name == pulse.EventOrderCreated {
				get(e.campaign).revenue += e.total
			}
		}
	}
	for key, at := range first {
		parts := strings.Split(key, "/")
		step, _ := strconv.Atoi(parts[1])
		if in(at) {
			get(parts[0]).customers[step]++
		}
	}
	for _, f := range firsts {
		if in(f.at) {
			get(f.campaign).attributed++
		}
	}
	return out
}

// TestFunnelScenario: three campaigns, 200 customers, some in two
// campaigns, events around midnight in Moscow; the funnel must equal a
// count by hand before and after retention purges the events.
func TestFunnelScenario(t *testing.T) {
	srcs := []migrator.Source{telegram.MigrationSource(), pulse.MigrationSource()}
	migratortest.Each(t, srcs, func(t *testing.T, db migrator.DB) {
		ctx := context.Background()
		loc, err := time.LoadLocation("Europe/Moscow")
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
		clk := func() time.Time { return now }
		cfg := testConfig("https://pulse.example.com")
		cfg.Now = clk
		p := MustNew(t, db, cfg)
		customers, err := telegram.NewCustomerStore(db, telegram.CustomerStoreConfig{Now: clk})
		if err != nil {
			t.Fatal(err)
		}
		camps := mustCampaigns(t, db, pulse.CampaignsConfig{
			Location:    func(context.Context) (*time.Location, error) { return loc, nil },
			Attribution: customers, Now: clk, FoldBatch: 97, // batches end mid-customer
		})
		for _, id := range []string{"spring", "autumn", "winter"} {
			if _, err := camps.Create(ctx, pulse.Campaign{ID: id, Name: "Campaign " + id, Source: "tg"}); err != nil {
				t.Fatal(err)
			}
		}

		// Events between 40 and 36 days ago, many of them between 20:00
		// and 23:59 UTC: the next day in Moscow (UTC+3).
		rng := rand.New(rand.NewPCG(16, 200))
		base := time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)
		randTime := func() time.Time {
			day := rng.IntN(5)
			hour := []int{2, 10, 20, 21, 22, 23}[rng.IntN(6)]
			return base.AddDate(0, 0, day).Add(time.Duration(hour)*time.Hour + time.Duration(rng.IntN(3600))*time.Second)
		}
		var evs []scenarioEvent
		firsts := map[string]scenarioEvent{}
		names := []string{"spring", "autumn", "winter"}
		for i := range 200 {
			u, err := customers.Save(ctx, telegram.User{ID: int64(1000 + i), FirstName: "C"}, now)
			if err != nil {
				t.Fatal(err)
			}
			if u.TrackingID == "" {
				t.Fatal("no tracking id")
			}
			cust := u.TrackingID
			visits := []string{names[i%3]}
			if i%5 == 0 {
				visits = append(visits, names[(i+1)%3]) // a second campaign
			}
			for _, c := range visits {
				at := randTime()
				steps := 1 + rng.IntN(5)
				for s := range steps {
					n := 1 + rng.IntN(3)
					for range n {
						e := scenarioEvent{name: scenarioSteps[s], campaign: c, customer: cust, at: at.Add(time.Duration(rng.IntN(7200)) * time.Second)}
						if e.name == pulse.EventOrderCreated {
							e.total = int64(100 + rng.IntN(100000))
						}
						evs = append(evs, e)
					}
				}
				// Noise the funnel ignores.
				evs = append(evs, scenarioEvent{name: pulse.EventSearch, campaign: c, customer: cust, at: at})
				if f, ok := firsts[cust]; !ok || at.Before(f.at) {
					firsts[cust] = scenarioEvent{campaign: c, at: at}
				}
			}
		}
		// The customers' first campaigns, recorded in time order.
		for i := range 200 {
			u, err := customers.GetByTelegramID(ctx, int64(1000+i))
			if err != nil {
				t.Fatal(err)
			}
			f := firsts[u.TrackingID]
			if err := customers.RecordCampaign(ctx, db, u.TelegramUserID, f.campaign, f.at); err != nil {
				t.Fatal(err)
			}
		}
		// Track in a shuffled order, folding half way: some events come
		// after a later one of the same customer was folded.
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		track := func(part []scenarioEvent, offset int) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			for i, e := range part {
				var payload any
				if e.name == pulse.EventOrderCreated {
					payload = map[string]any{"total": e.total, "currency": "RUB"}
				}
				res, err := p.TrackTx(ctx, tx, pulse.Event{Name: e.name, IdempotencyKey: "s-" + strconv.Itoa(offset+i),
					CampaignID: e.campaign, TrackingID: e.customer, OccurredAt: e.at, Payload: payload})
				if err != nil || res.Outcome != pulse.OutcomeStored {
					t.Fatalf("TrackTx: %+v, %v", res, err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		half := len(evs) / 2
		track(evs[:half], 0)
		if _, err := camps.Fold(ctx); err != nil {
			t.Fatal(err)
		}
		track(evs[half:], half)

		ranges := [][2]string{
			{"2026-10-25", "2026-11-10"}, // everything
			{"2026-11-01", "2026-11-01"}, // one Moscow day: 21:00 UTC on 10-31 onwards
			{"2026-11-02", "2026-11-04"},
			// Whole months come from the month rollups, the days around
			// them from the day rollups.
			{"2026-10-01", "2026-11-30"},
			{"2026-10-28", "2026-11-30"},
			{"2026-10-01", "2026-11-01"},
			{"2026-09-30", "2026-12-01"},
		}
		check := func(when string) {
			t.Helper()
			for _, r := range ranges {
				want := countByHand(evs, firsts, loc, r[0], r[1])
				got, err := camps.Funnel(ctx, r[0], r[1])
				if err != nil {
					t.Fatal(err)
				}
				if got.TimeZone != "Europe/Moscow" {
					t.Errorf("time_zone = %q", got.TimeZone)
				}
				seen := 0
				for _, c := range got.Campaigns {
					w := want[c.ID]
					if w == nil {
						w = &funnelCount{}
					}
					seen++
					for i, s := range c.Steps {
						if s.Events != w.events[i] || s.Customers != w.customers[i] {
							t.Errorf("%s %v %s step %s = %d events, %d customers; want %d, %d",
								when, r, c.ID, s.Step, s.Events, s.Customers, w.events[i], w.customers[i])
						}
						if i > 0 && w.customers[i-1] > 0 {
							want := float64(w.customers[i]) / float64(w.customers[i-1])
							if s.Conversion == nil || *s.Conversion != want {
								t.Errorf("%s %v %s step %s conversion = %v, want %v", when, r, c.ID, s.Step, s.Conversion, want)
							}
						}
					}
					if c.Revenue != w.revenue || (w.revenue > 0 && c.Currency != "RUB") {
						t.Errorf("%s %v %s revenue = %d %s, want %d RUB", when, r, c.ID, c.Revenue, c.Currency, w.revenue)
					}
					if c.Attributed != w.attributed {
						t.Errorf("%s %v %s attributed = %d, want %d", when, r, c.ID, c.Attributed, w.attributed)
					}
					// The days add up to the customers of the range.
					var sum [5]int64
					for _, d := range c.Days {
						if d.Date < r[0] || d.Date > r[1] {
							t.Errorf("%s %v %s has day %s", when, r, c.ID, d.Date)
						}
						for i, s := range pulse.FunnelSteps() {
							sum[i] += d.Steps[s]
						}
					}
					for i := range sum {
						if sum[i] != c.Steps[i].Customers {
							t.Errorf("%s %v %s days sum to %d customers at step %d, want %d", when, r, c.ID, sum[i], i, c.Steps[i].Customers)
						}
					}
				}
				if seen != 3 {
					t.Errorf("%s %v: %d campaigns", when, r, seen)
				}
				// Without days: the same sums, no days; one campaign: that
				// campaign's answer alone, days and all.
				sums, err := camps.FunnelOf(ctx, pulse.FunnelQuery{From: r[0], To: r[1]})
				if err != nil {
					t.Fatal(err)
				}
				for i, c := range sums.Campaigns {
					full := got.Campaigns[i]
					if c.ID != full.ID || !reflect.DeepEqual(c.Steps, full.Steps) || c.Revenue != full.Revenue ||
						c.Attributed != full.Attributed || len(c.Days) != 0 {
						t.Errorf("%s %v without days: %+v, want %+v without its days", when, r, c, full)
					}
					one, err := camps.FunnelOf(ctx, pulse.FunnelQuery{From: r[0], To: r[1], Days: true, Campaign: c.ID})
					if err != nil {
						t.Fatal(err)
					}
					if len(one.Campaigns) != 1 || !reflect.DeepEqual(one.Campaigns[0], full) {
						t.Errorf("%s %v campaign %s alone: %+v, want %+v", when, r, c.ID, one.Campaigns, full)
					}
				}
				if len(sums.Campaigns) != len(got.Campaigns) {
					t.Errorf("%s %v: %d campaigns without days, %d with", when, r, len(sums.Campaigns), len(got.Campaigns))
				}
			}
		}
		check("before retention")

		// Everything is sent, a month and more ago; retention runs.
		if _, err := db.ExecContext(ctx, "UPDATE "+db.Table(pulse.OutboxTable)+" SET status = ?, sent_at = created_at", pulse.StatusSent); err != nil {
			t.Fatal(err)
		}
		later := now.Add(45 * 24 * time.Hour)
		cfg.Now = func() time.Time { return later }
		p2 := MustNew(t, db, cfg)
		if _, err := camps.Fold(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p2.RetentionTask(0, 0)(ctx); err != nil {
			t.Fatal(err)
		}
		if c := MustCounts(t, p2); c.Sent != 0 {
			t.Fatalf("after retention %+v events are left", c)
		}
		check("after retention")
		n, err := camps.FoldedEvents(ctx)
		if err != nil || n != int64(len(evs)) {
			t.Errorf("FoldedEvents = %d, %v; want %d", n, err, len(evs))
		}
	})
}
